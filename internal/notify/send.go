package notify

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/carecircle/carecircle/internal/care"
	"github.com/carecircle/carecircle/internal/clock"
	"github.com/carecircle/carecircle/internal/events"
	"github.com/carecircle/carecircle/internal/store"
)

// Notifier creates notifications. It is the one way a feature or a job
// does: Send (or Address, then Write) applies each recipient's preferences,
// writes the rows with their dedupe key and appends the event that
// announces them, in the caller's transaction when ctx carries one. That
// event shows them live (realtime) and hands them to the Deliverer, which
// sends them on the registered channels (push, email, SMS) after commit.
type Notifier struct {
	Store *store.Store
	Clock clock.Clock
}

// Notice is a notification to create for some users.
type Notice struct {
	// To are the users addressed, before their preferences are applied.
	To   []string
	Type care.NotificationType
	Text care.Text
	// Data is the notification's own data (what it is about); nil is {}.
	Data map[string]any
	// DedupeKey, when set, makes the notification once per user: a user
	// who already has one with this key gets no other.
	DedupeKey string
	// FamilyID and CareRecipientID scope the announcing event. Without a
	// family, the care recipient's is used.
	FamilyID        string
	CareRecipientID string
	// ActorID is who caused it; CorrelationID the request or job it came
	// from.
	ActorID       string
	CorrelationID string
	// Event, when set, announces the notifications as that domain event
	// (a catalog type that carries notifications, such as
	// "medication.reminder"), with EventData and the notified users and ids;
	// it is appended even when nobody was notified. Otherwise a
	// "notification.created" carries them, when at least one was written.
	Event     string
	EventData map[string]any
	// At dates the notifications and their event; zero is when they are
	// written. A reminder staged ahead of its instant is dated at it.
	At time.Time
}

// Addressed is a Notice whose recipients' preferences have been applied:
// To holds only the users who want it. Only Address makes one.
type Addressed struct {
	notice Notice
}

// Recipients is how many users the notice goes to.
func (a Addressed) Recipients() int { return len(a.notice.To) }

// Send addresses the notices and writes them: Address then Write. It
// returns the notifications created.
func (n *Notifier) Send(ctx context.Context, notices ...Notice) ([]care.Notification, error) {
	as, err := n.Address(ctx, notices...)
	if err != nil {
		return nil, err
	}
	return n.Write(ctx, as...)
}

// Address applies the preferences of every addressed user, read in one
// query: a user who turned off the kind of notice a notice is (its
// PreferenceKind) is left out of it. This is the only place the kind
// switches are read; the channel switches and quiet hours are the
// Deliverer's, when it sends.
func (n *Notifier) Address(ctx context.Context, notices ...Notice) ([]Addressed, error) {
	var ids []string
	for _, nt := range notices {
		if PreferenceKind(nt.Type) != "" {
			ids = append(ids, nt.To...)
		}
	}
	prefs, err := n.Store.UserPreferences(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("notify: %w", err)
	}
	return AddressWith(prefs, notices...), nil
}

// AddressWith is Address with the addressed users' preferences already at
// hand (read with the users, as a reminder's members are), by user id; a
// user missing from prefs has turned nothing off.
func AddressWith(prefs map[string]json.RawMessage, notices ...Notice) []Addressed {
	type choice struct{ user, kind string }
	wants := map[choice]bool{}
	out := make([]Addressed, len(notices))
	for i, nt := range notices {
		kind := PreferenceKind(nt.Type)
		to := make([]string, 0, len(nt.To))
		for _, uid := range nt.To {
			if kind == "" {
				to = append(to, uid)
				continue
			}
			c := choice{uid, kind}
			want, ok := wants[c]
			if !ok {
				want = care.WantsNotification(prefs[uid], kind)
				wants[c] = want
			}
			if want {
				to = append(to, uid)
			}
		}
		nt.To = to
		out[i] = Addressed{notice: nt}
	}
	return out
}

// Write stores the addressed notices' notifications, all in one set of
// statements, and appends the events that announce them, committing
// together (in the transaction ctx carries, or one of its own). A
// notification whose dedupe key its user already has is not written again.
// It returns the notifications created.
func (n *Notifier) Write(ctx context.Context, as ...Addressed) ([]care.Notification, error) {
	if len(as) == 0 {
		return nil, nil
	}
	var created []care.Notification
	err := n.Store.Atomically(ctx, func(ctx context.Context) error {
		var evs []store.OutboxEvent
		var err error
		if created, evs, err = n.write(ctx, as); err != nil {
			return err
		}
		var announce []store.OutboxEvent
		for _, ev := range evs {
			if ev.ID != "" {
				announce = append(announce, ev)
			}
		}
		return n.Store.AppendEvents(ctx, announce)
	})
	if err != nil {
		return nil, fmt.Errorf("notify: %w", err)
	}
	return created, nil
}

// WriteHeld stores the notices' notifications as Write does but holds back
// the events that announce them: it returns them, one per notice (a zero
// event for a notice that needs none), for the caller to append when the
// notifications are due. A staged reminder's notifications are written
// this way; they stay hidden until its ledger entry is sent.
func (n *Notifier) WriteHeld(ctx context.Context, as ...Addressed) ([]store.OutboxEvent, error) {
	var evs []store.OutboxEvent
	err := n.Store.Atomically(ctx, func(ctx context.Context) error {
		var err error
		_, evs, err = n.write(ctx, as)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("notify: %w", err)
	}
	return evs, nil
}

// write stores the notifications of as in the transaction ctx carries and
// builds the event announcing each notice's (a zero event where none is
// due).
func (n *Notifier) write(ctx context.Context, as []Addressed) ([]care.Notification, []store.OutboxEvent, error) {
	if len(as) == 0 {
		return nil, nil, nil
	}
	datas := make([][]byte, len(as))
	var rows []care.Notification
	owner := map[string]int{} // notification id → index in as
	for i, a := range as {
		nt := a.notice
		data, err := nt.data()
		if err != nil {
			return nil, nil, err
		}
		datas[i] = data
		for _, uid := range nt.To {
			row := care.Notification{ID: uuid.Must(uuid.NewV7()).String(), UserID: uid, Type: nt.Type,
				Title: nt.Text.Title, Body: nt.Text.Body, Data: data, CreatedAt: nt.At}
			if nt.DedupeKey != "" {
				key := nt.DedupeKey
				row.DedupeKey = &key
			}
			owner[row.ID] = i
			rows = append(rows, row)
		}
	}
	created, err := n.Store.InsertNotifications(ctx, rows)
	if err != nil {
		return nil, nil, err
	}
	byNotice := make([][]care.Notification, len(as))
	for _, c := range created {
		byNotice[owner[c.ID]] = append(byNotice[owner[c.ID]], c)
	}
	evs := make([]store.OutboxEvent, len(as))
	for i, a := range as {
		if a.notice.Event == "" && len(byNotice[i]) == 0 {
			continue // every recipient already had it
		}
		if evs[i], err = n.event(ctx, a.notice, datas[i], byNotice[i]); err != nil {
			return nil, nil, err
		}
	}
	return created, evs, nil
}

// data is the notification's data as stored: {} when it has none.
func (nt Notice) data() ([]byte, error) {
	if nt.Data == nil {
		return []byte("{}"), nil
	}
	data, err := json.Marshal(nt.Data)
	if err != nil {
		return nil, fmt.Errorf("notify: encode data: %w", err)
	}
	return data, nil
}

// Fingerprint identifies what the addressed notice would write and
// announce — its recipients, kind, text, data, key, scope and event — but
// not when: two notices with the same fingerprint create the same
// notifications. A reminder staged ahead is sent as staged only while its
// fingerprint still matches.
func (a Addressed) Fingerprint() (string, error) {
	nt := a.notice
	data, err := nt.data()
	if err != nil {
		return "", err
	}
	eventData, err := json.Marshal(nt.EventData)
	if err != nil {
		return "", fmt.Errorf("notify: encode event data: %w", err)
	}
	to := slices.Clone(nt.To)
	slices.Sort(to)
	h := sha256.New()
	for _, part := range [][]byte{[]byte(strings.Join(to, ",")), []byte(nt.Type), []byte(nt.Text.Title), []byte(nt.Text.Body),
		data, []byte(nt.DedupeKey), []byte(nt.FamilyID), []byte(nt.CareRecipientID), []byte(nt.ActorID),
		[]byte(nt.CorrelationID), []byte(nt.Event), eventData} {
		h.Write(part)
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// event is the domain event announcing the notifications of nt created.
func (n *Notifier) event(ctx context.Context, nt Notice, data []byte, created []care.Notification) (store.OutboxEvent, error) {
	notified := events.Notified{UserIDs: make([]string, len(created)), NotificationIDs: make([]string, len(created))}
	for i, c := range created {
		notified.UserIDs[i], notified.NotificationIDs[i] = c.UserID, c.ID
	}
	family, err := n.family(ctx, nt)
	if err != nil {
		return store.OutboxEvent{}, err
	}
	typ := nt.Event
	var payload any
	if typ == "" {
		typ = events.NotificationCreated
		payload = events.NotificationData{Notified: notified, Type: nt.Type, Title: nt.Text.Title, Body: nt.Text.Body,
			Data: json.RawMessage(data)}
	} else {
		m := make(map[string]any, len(nt.EventData)+2)
		for k, v := range nt.EventData {
			m[k] = v
		}
		m["userIds"], m["notificationIds"] = notified.UserIDs, notified.NotificationIDs
		payload = m
	}
	clk := n.Clock
	if !nt.At.IsZero() {
		clk = clock.NewFake(nt.At)
	}
	env, id, err := events.Build(clk, typ, family, nt.CareRecipientID, nt.ActorID, nt.CorrelationID, payload)
	if err != nil {
		return store.OutboxEvent{}, err
	}
	return store.OutboxEvent{ID: id, Type: typ, FamilyID: family, Envelope: env}, nil
}

// family is the family a notice concerns: its own, or its care
// recipient's; none for a notice about no family (such as one to system
// administrators).
func (n *Notifier) family(ctx context.Context, nt Notice) (string, error) {
	if nt.FamilyID != "" || nt.CareRecipientID == "" {
		return nt.FamilyID, nil
	}
	cr, err := n.Store.CareRecipient(ctx, nt.CareRecipientID)
	if errors.Is(err, store.ErrNotFound) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("family of care recipient: %w", err)
	}
	return cr.FamilyID, nil
}
