// Package notify creates CareCircle's notifications and carries them beyond
// the app. Every notification, from any feature or job, is created by
// Notifier.Send: it leaves out the users who turned that kind off, writes
// the in-app rows with their dedupe key and appends the event that
// announces them (shown live, and handed to the channels), in one
// transaction. The in-app row is the source of truth; the outbox hands the
// event to the Deliverer, which sends each notification on the registered
// channels — web push to each of a user's browsers, email through the
// provider chain within the daily quota, SMS to verified numbers — and
// records what every channel did with every target so a retry never sends
// twice what already went out.
//
// Routing: emergencies go to every channel at once, ignore quiet hours and
// take from the email reserve; everything else honours the user's channel
// switches and quiet hours (in the user's own zone). Routine email that
// does not fit the day's quota is downgraded to push and in-app when it is
// time-bound (a reminder), deferred to the next UTC day otherwise.
package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/carecircle/carecircle/internal/care"
	"github.com/carecircle/carecircle/internal/clock"
	"github.com/carecircle/carecircle/internal/events"
	"github.com/carecircle/carecircle/internal/outbox"
	"github.com/carecircle/carecircle/internal/store"
)

// Deliverer delivers notifications on the registered channels.
type Deliverer struct {
	Store    *store.Store
	Channels *Channels
	Clock    clock.Clock
	Logger   *slog.Logger
}

// ErrTemporary marks a delivery that failed in a way a later try may fix.
var ErrTemporary = errors.New("temporary delivery failure")

// ConsumerName is the channel deliverer's name in the outbox and, with
// RabbitMQ, of its queue.
const ConsumerName = "channels"

// Name implements outbox.Consumer.
func (d *Deliverer) Name() string { return ConsumerName }

// Handle implements outbox.Consumer: it delivers the notifications an event
// announces — notification.created, or a reminder event (medication.reminder,
// shift.reminder, …) that carries the ids of the notifications it wrote, as
// the event catalog says of its type (events.Notifies) — and ignores every
// other event.
func (d *Deliverer) Handle(ctx context.Context, e events.Event) error {
	if !events.Notifies(e.Type) {
		return nil
	}
	var data events.Notified
	if err := json.Unmarshal(e.Data, &data); err != nil {
		return fmt.Errorf("%w: %s data: %v", outbox.ErrPermanent, e.ID, err)
	}
	return d.DeliverAll(ctx, data.NotificationIDs)
}

// DeliverAll delivers each notification, all at once; it fails when any
// failed in a way worth retrying (the rest are recorded and not resent).
// What the deliveries share — the notifications, their users, the users'
// push subscriptions and what earlier tries already did — is read up front,
// a few queries for the whole batch.
func (d *Deliverer) DeliverAll(ctx context.Context, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	b, err := d.read(ctx, ids)
	if err != nil {
		return err
	}
	var wg sync.WaitGroup
	errs := make([]error, len(ids))
	sem := make(chan struct{}, 16)
	for i, id := range ids {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			errs[i] = d.deliver(ctx, id, b)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// Deliver sends one notification on every channel its recipient should get
// it on, all at once, skipping what an earlier try already delivered.
func (d *Deliverer) Deliver(ctx context.Context, id string) error {
	return d.DeliverAll(ctx, []string{id})
}

// batch is what the deliveries of one DeliverAll share, read before any
// is sent.
type batch struct {
	notifications map[string]*care.Notification
	users         map[string]*care.User
	subscriptions map[string][]store.PushSubscription
	// done holds the (notification, channel, target) that an earlier try
	// finished: sent, or never to be (store.DeliveryDone).
	done map[[3]string]bool
}

func (d *Deliverer) read(ctx context.Context, ids []string) (*batch, error) {
	ns, err := d.Store.NotificationsByID(ctx, ids)
	if err != nil {
		return nil, err
	}
	var users []string
	for _, n := range ns {
		users = append(users, n.UserID)
	}
	b := &batch{notifications: ns, done: map[[3]string]bool{}}
	if b.users, err = d.Store.UsersByID(ctx, users); err != nil {
		return nil, err
	}
	if b.subscriptions, err = d.Store.PushSubscriptionsOf(ctx, users); err != nil {
		return nil, err
	}
	tried, err := d.Store.Deliveries(ctx, ids...)
	if err != nil {
		return nil, err
	}
	for _, t := range tried {
		if t.Status != store.DeliveryFailed {
			b.done[[3]string{t.NotificationID, t.Channel, t.Target}] = true
		}
	}
	return b, nil
}

// deliver sends the notification id of b on its channels.
func (d *Deliverer) deliver(ctx context.Context, id string, b *batch) error {
	n := b.notifications[id]
	if n == nil {
		return nil // deleted with its user
	}
	u := b.users[n.UserID]
	if u == nil {
		return nil
	}
	channels, reason := d.route(n, u)
	if reason != "" {
		return d.Store.RecordDelivery(ctx, n.ID, "all", "-", store.DeliverySuppressed, "", reason)
	}
	del := &Delivery{Notification: n, User: u, Emergency: n.Type == care.NotifyEmergencyAlert, sending: map[string]*sending{}, batch: b}
	for _, ch := range channels {
		del.sending[ch.Name()] = &sending{done: make(chan struct{})}
	}
	var wg sync.WaitGroup
	errs := make([]error, len(channels))
	for i, ch := range channels {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := del.sending[ch.Name()]
			defer close(s.done)
			s.reached, errs[i] = ch.Send(ctx, del)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// route picks the channels for n: every registered one for an emergency;
// otherwise those u's switches turn on, none during u's quiet hours (in
// u's own zone), with the reason. Whether u wants n's kind at all was
// decided when it was created (Notifier.Address).
func (d *Deliverer) route(n *care.Notification, u *care.User) (channels []Channel, reason string) {
	if d.Channels == nil {
		return nil, ""
	}
	if n.Type == care.NotifyEmergencyAlert {
		return d.Channels.list, ""
	}
	prefs := care.ReadNotificationPreferences(u.Preferences)
	if prefs.QuietHours != nil {
		if loc, err := time.LoadLocation(u.Timezone); err == nil && prefs.QuietHours.InQuietHours(d.Clock.Now().In(loc)) {
			return nil, "quiet hours"
		}
	}
	for _, ch := range d.Channels.list {
		if ch.On(prefs) {
			channels = append(channels, ch)
		}
	}
	return channels, ""
}

// PreferenceKind is the preference switch that governs a notification type
// ("" for types no switch turns off).
func PreferenceKind(t care.NotificationType) string {
	switch t {
	case care.NotifyMedicationReminder, care.NotifyMedicationMissed, care.NotifyRefillAlert:
		return "medicationReminders"
	case care.NotifyAppointmentReminder:
		return "appointmentReminders"
	case care.NotifyShiftReminder, care.NotifyShiftAssigned, care.NotifyShiftHandoff, care.NotifyShiftCancelled:
		return "shiftReminders"
	case care.NotifyMedicationLogged, care.NotifyTimelineUpdate, care.NotifyFamilyUpdate, care.NotifyDocumentUploaded:
		return "familyActivity"
	}
	return ""
}
