package realtime_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/carecircle/carecircle/internal/care"
	"github.com/carecircle/carecircle/internal/clock"
	"github.com/carecircle/carecircle/internal/events"
	"github.com/carecircle/carecircle/internal/realtime/rtclient"
	"github.com/carecircle/carecircle/internal/store"
)

// A member subscribed to the family room sees another member's dose log,
// made through the API, within a second; so does the care recipient's room.
func TestMemberSeesDoseLoggedByAnotherMember(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, open func(testing.TB, clock.Clock) *store.Store) {
		e := newEnv(t, open, envOptions{dispatcher: true})
		f := e.newFamily("lee")
		viewer := e.connect(f.viewer)
		subscribe(t, viewer, f.familyChannel)
		subscribe(t, viewer, f.careRecipientChannel)

		med := e.request("POST", "/care-recipients/"+f.CareRecipientID+"/medications", f.caregiver.Token, map[string]any{
			"name": "Metformin", "dosage": "500 mg", "form": "TABLET", "frequency": "TWICE_DAILY",
			"scheduledTimes": []string{"08:00", "20:00"}, "currentSupply": 10,
		}, 201)
		logged := time.Now()
		// 08:00 on 2 March in Tokyo.
		dose := e.request("POST", "/medications/"+med["id"].(string)+"/log", f.caregiver.Token,
			map[string]any{"status": "GIVEN", "scheduledTime": "2026-03-01T23:00:00Z"}, 201)

		for _, ch := range []string{f.familyChannel, f.careRecipientChannel} {
			var got rtclient.Received
			for got.Event != "medication_logged" {
				got = next(t, viewer, ch)
			}
			if d := got.At.Sub(logged); d > time.Second {
				t.Errorf("medication_logged on %s after %v", ch, d)
			}
			if got.ID == "" || got.Timestamp == "" || got.Offset == 0 || !json.Valid(got.Data) {
				t.Fatalf("message on %s: %+v", ch, got)
			}
			var data map[string]any
			_ = json.Unmarshal(got.Data, &data)
			if data["familyId"] != f.ID || data["careRecipientId"] != f.CareRecipientID {
				t.Errorf("medication_logged data %s lacks the family or care recipient (dose %v)", got.Data, dose["id"])
			}
		}
	})
}

// Only active members join a family's or care recipient's channels, only
// system administrators admin:monitoring, and only its user user:{id}.
func TestSubscriptionsNeedMembership(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, open func(testing.TB, clock.Clock) *store.Store) {
		e := newEnv(t, open, envOptions{})
		f := e.newFamily("kim")
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		defer cancel()
		out := e.connect(f.outsider)
		for _, ch := range []string{f.familyChannel, f.careRecipientChannel, "admin:monitoring", "user:" + f.admin.ID,
			"family:" + "00000000-0000-4000-8000-000000000000", "family:not-a-uuid", "chat:general"} {
			if err := out.Subscribe(ctx, ch); err == nil {
				t.Errorf("outsider subscribed to %s", ch)
			}
		}
		viewer := e.connect(f.viewer)
		subscribe(t, viewer, f.familyChannel)
		subscribe(t, viewer, f.careRecipientChannel)
		if err := viewer.Subscribe(ctx, "admin:monitoring"); err == nil {
			t.Error("a family member who is no system admin subscribed to admin:monitoring")
		}
	})
}

// A connection needs a valid token of a live session: as the connect token,
// a Bearer header or the access_token cookie; browsers must come from an
// allowed origin.
func TestConnectionAuthentication(t *testing.T) {
	t.Parallel()
	e := newEnv(t, storeSQLite, envOptions{origins: []string{"https://app.carecircle.test"}})
	f := e.newFamily("park")
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	refused := func(name string, o rtclient.Options) {
		t.Helper()
		c := rtclient.New(rtclient.URL(e.srv.URL), o)
		defer c.Close()
		short, cancel := context.WithTimeout(ctx, 3*time.Second)
		defer cancel()
		if err := c.Connect(short); err == nil {
			t.Errorf("%s: connected", name)
		}
	}
	refused("no token", rtclient.Options{})
	refused("garbage token", rtclient.Options{Token: "nope"})
	refused("bad cookie", rtclient.Options{Header: http.Header{"Cookie": {"access_token=nope"}}})
	refused("foreign origin", rtclient.Options{Token: f.admin.Token, Header: http.Header{"Origin": {"https://evil.example"}}})
	ended := e.signIn(f.admin.User)
	sess, _ := e.tokens.Parse(ended)
	if err := e.store.RevokeSession(ctx, f.admin.ID, sess.SessionID, "logout"); err != nil {
		t.Fatal(err)
	}
	refused("ended session", rtclient.Options{Token: ended})

	for name, h := range map[string]http.Header{
		"bearer": {"Authorization": {"Bearer " + f.admin.Token}},
		"cookie": {"Cookie": {"access_token=" + f.admin.Token}, "Origin": {"https://app.carecircle.test"}},
		"public": {"Cookie": {"access_token=" + f.admin.Token}, "Origin": {"http://carecircle.test"}},
	} {
		c := rtclient.New(rtclient.URL(e.srv.URL), rtclient.Options{Header: h})
		if err := c.Connect(ctx); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if err := c.Subscribe(ctx, f.familyChannel); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		c.Close()
	}
}

// A user holds at most MaxConnectionsPerUser connections on a node.
func TestConnectionsPerUserCapped(t *testing.T) {
	t.Parallel()
	e := newEnv(t, storeSQLite, envOptions{})
	u := e.newUser("many")
	for range 3 {
		e.connect(u)
	}
	c := rtclient.New(rtclient.URL(e.srv.URL), rtclient.Options{Token: u.Token})
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if err := c.Connect(ctx); err == nil {
		t.Fatal("a fourth connection was accepted")
	}
}

// A client that was offline for a moment receives, on reconnecting, exactly
// the messages it missed, in order, then the live ones.
func TestReconnectRecoversWhatWasMissed(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, open func(testing.TB, clock.Clock) *store.Store) {
		e := newEnv(t, open, envOptions{dispatcher: true})
		f := e.newFamily("cho")
		c := e.connect(f.viewer)
		subscribe(t, c, f.familyChannel)
		e.emit("timeline.entry.created", f.ID, f.CareRecipientID, map[string]any{"title": "before"})
		if r := next(t, c, f.familyChannel); r.Event != "timeline_entry" {
			t.Fatalf("first message %+v", r)
		}
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		defer cancel()
		if err := c.Drop(ctx); err != nil {
			t.Fatal(err)
		}
		var missed []string
		for i := range 3 {
			missed = append(missed, e.emit("timeline.entry.created", f.ID, f.CareRecipientID, map[string]any{"title": "missed " + strconv.Itoa(i)}))
		}
		// Wait until the dispatcher has published them all.
		waitDispatched(t, e)
		if err := c.Connect(ctx); err != nil {
			t.Fatal(err)
		}
		live := e.emit("timeline.entry.created", f.ID, f.CareRecipientID, map[string]any{"title": "after"})
		var prev uint64
		for i, want := range append(missed, live) {
			r := next(t, c, f.familyChannel)
			if r.ID != want || r.Event != "timeline_entry" || r.Offset <= prev {
				t.Fatalf("message %d after reconnecting: %+v, want event %s after offset %d", i, r, want, prev)
			}
			prev = r.Offset
		}
	})
}

// waitDispatched waits until the outbox holds nothing pending.
func waitDispatched(t *testing.T, e *env) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for {
		p, err := e.store.PendingEvents(context.Background(), 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(p) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d events still pending", len(p))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// A removed member is told, loses the family's channels at once and cannot
// join them again; the others see family_member_removed. A role change is
// sent to the member as your_role_changed.
func TestRemovedMemberIsCutOff(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, open func(testing.TB, clock.Clock) *store.Store) {
		e := newEnv(t, open, envOptions{dispatcher: true})
		f := e.newFamily("ito")
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		defer cancel()
		gone := e.connect(f.caregiver)
		subscribe(t, gone, f.familyChannel)
		subscribe(t, gone, f.careRecipientChannel)
		admin := e.connect(f.admin)
		subscribe(t, admin, f.familyChannel)

		if _, err := e.store.ChangeMemberRole(ctx, f.ID, f.caregiverMemberID, care.RoleViewer); err != nil {
			t.Fatal(err)
		}
		e.emit("family.member.role_updated", f.ID, "", map[string]any{"id": f.caregiverMemberID, "userId": f.caregiver.ID, "role": "VIEWER"})
		if r := next(t, gone, "user:"+f.caregiver.ID); r.Event != "your_role_changed" || !json.Valid(r.Data) {
			t.Fatalf("role change: %+v", r)
		}
		if r := next(t, admin, f.familyChannel); r.Event != "family_member_role_updated" {
			t.Fatalf("family saw %+v", r)
		}

		if err := e.store.RemoveMember(ctx, f.ID, f.caregiverMemberID); err != nil {
			t.Fatal(err)
		}
		e.emit("family.member.removed", f.ID, "", map[string]any{"id": f.caregiverMemberID, "userId": f.caregiver.ID})
		r := next(t, gone, "user:"+f.caregiver.ID)
		var data map[string]any
		_ = json.Unmarshal(r.Data, &data)
		if r.Event != "you_were_removed" || data["familyId"] != f.ID {
			t.Fatalf("removal: %+v", r)
		}
		for _, ch := range []string{f.familyChannel, f.careRecipientChannel} {
			select {
			case <-gone.Unsubscribed(ch):
			case <-ctx.Done():
				t.Fatalf("the removed member still has %s", ch)
			}
		}
		if r := next(t, admin, f.familyChannel); r.Event != "family_member_removed" {
			t.Fatalf("family saw %+v", r)
		}
		if err := gone.Subscribe(ctx, f.familyChannel); err == nil {
			t.Fatal("the removed member joined the family channel again")
		}
		// Nothing later reaches them.
		e.emit("timeline.entry.created", f.ID, f.CareRecipientID, map[string]any{"title": "private"})
		if r := next(t, admin, f.familyChannel); r.Event != "timeline_entry" {
			t.Fatalf("family saw %+v", r)
		}
		select {
		case r := <-gone.Messages():
			if r.Channel != "user:"+f.caregiver.ID {
				t.Fatalf("the removed member received %+v", r)
			}
		default:
		}
	})
}

// Notifications go to each addressed user's own channel only; a shift
// check-in is a shift_update with its action.
func TestUserAndShiftMessages(t *testing.T) {
	t.Parallel()
	e := newEnv(t, storeSQLite, envOptions{dispatcher: true})
	f := e.newFamily("roe")
	admin := e.connect(f.admin)
	viewer := e.connect(f.viewer)
	subscribe(t, viewer, f.familyChannel)
	e.emit("notification.created", "", "", map[string]any{"userIds": []string{f.admin.ID}, "title": "Dose given"})
	if r := next(t, admin, "user:"+f.admin.ID); r.Event != "notification" {
		t.Fatalf("admin got %+v", r)
	}
	e.emit("shift.checked_in", f.ID, f.CareRecipientID, map[string]any{"id": "s1"})
	r := next(t, viewer, f.familyChannel)
	var data map[string]any
	_ = json.Unmarshal(r.Data, &data)
	if r.Event != "shift_update" || data["action"] != "check_in" || data["id"] != "s1" {
		t.Fatalf("viewer got %+v", r)
	}
}

// The same event handed to the consumer twice (a retry after a crash)
// reaches clients once.
func TestConsumerIsIdempotent(t *testing.T) {
	t.Parallel()
	e := newEnv(t, storeSQLite, envOptions{})
	f := e.newFamily("nam")
	c := e.connect(f.viewer)
	subscribe(t, c, f.familyChannel)
	ctx := context.Background()
	ev := func(title string) events.Event {
		ev, err := events.NewEvent(e.clock, "timeline.entry.created", map[string]any{"title": title})
		if err != nil {
			t.Fatal(err)
		}
		ev.FamilyID = f.ID
		return ev
	}
	first, second := ev("one"), ev("two")
	for _, x := range []events.Event{first, first, second} {
		if err := e.node.Consumer().Handle(ctx, x); err != nil {
			t.Fatal(err)
		}
	}
	if r := next(t, c, f.familyChannel); r.ID != first.ID {
		t.Fatalf("first %+v", r)
	}
	if r := next(t, c, f.familyChannel); r.ID != second.ID {
		t.Fatalf("the retried event came twice: %+v", r)
	}
}

// A connection whose token expires asks for a fresh one and keeps its
// subscriptions.
func TestExpiredTokenRefreshedWithoutLosingSubscriptions(t *testing.T) {
	t.Parallel()
	e := newEnv(t, storeSQLite, envOptions{tokenTTL: 2 * time.Second, dispatcher: true})
	f := e.newFamily("yoo")
	var asked atomic.Int32
	refreshed := make(chan struct{}, 4)
	c := rtclient.New(rtclient.URL(e.srv.URL), rtclient.Options{Token: f.viewer.Token, GetToken: func() (string, error) {
		asked.Add(1)
		defer func() { refreshed <- struct{}{} }()
		return e.signIn(f.viewer.User), nil
	}})
	t.Cleanup(c.Close)
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if err := c.Connect(ctx); err != nil {
		t.Fatal(err)
	}
	subscribe(t, c, f.familyChannel)
	select {
	case <-refreshed:
	case <-ctx.Done():
		t.Fatal("the client was never asked for a fresh token")
	}
	id := e.emit("timeline.entry.created", f.ID, "", map[string]any{"title": "still here"})
	if r := next(t, c, f.familyChannel); r.ID != id {
		t.Fatalf("after refresh: %+v", r)
	}
}

// A shift reminder reaches its caregiver's own channel, and neither the
// family's nor the care recipient's room.
func TestShiftReminderReachesItsCaregiverOnly(t *testing.T) {
	t.Parallel()
	e := newEnv(t, storeSQLite, envOptions{dispatcher: true})
	f := e.newFamily("ito")
	carer := e.connect(f.caregiver)
	viewer := e.connect(f.viewer)
	subscribe(t, viewer, f.familyChannel)
	subscribe(t, viewer, f.careRecipientChannel)

	id := e.emit(events.ShiftReminder, f.ID, f.CareRecipientID, events.ShiftReminderData{
		ShiftID: "00000000-0000-4000-8000-000000000001", CaregiverID: f.caregiver.ID, CareRecipientID: f.CareRecipientID,
		ScheduledTime: "2026-03-02T09:00:00Z", MinutesBefore: 60, Timezone: "Asia/Tokyo",
		Notified: events.Notified{UserIDs: []string{f.caregiver.ID}, NotificationIDs: []string{"00000000-0000-4000-8000-000000000002"}},
	})
	r := next(t, carer, "user:"+f.caregiver.ID)
	var data events.ShiftReminderData
	if err := json.Unmarshal(r.Data, &data); err != nil || r.Event != "shift_reminder" || r.ID != id || data.CaregiverID != f.caregiver.ID {
		t.Fatalf("caregiver got %+v (%v)", r, err)
	}
	// The rooms' next message is the one sent after the reminder.
	after := e.emit(events.TimelineEntryCreated, f.ID, f.CareRecipientID, map[string]any{"title": "after"})
	for _, ch := range []string{f.familyChannel, f.careRecipientChannel} {
		if r := next(t, viewer, ch); r.ID != after {
			t.Fatalf("%s got %s (%s) before the entry that followed the reminder", ch, r.Event, r.ID)
		}
	}
}
