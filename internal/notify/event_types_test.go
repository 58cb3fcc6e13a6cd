package notify_test

import (
	"context"
	"testing"

	"github.com/carecircle/carecircle/internal/care"
	"github.com/carecircle/carecircle/internal/clock"
	"github.com/carecircle/carecircle/internal/events"
	"github.com/carecircle/carecircle/internal/notify"
	"github.com/carecircle/carecircle/internal/store"
	"github.com/carecircle/carecircle/internal/store/storetest"
)

// The deliverer knows an event that carries notifications by its type in the
// catalog, not by what its data happens to contain: a timeline entry whose
// free-form vitals hold a "notificationIds" field delivers nothing.
func TestHandleDecidesByTheEventType(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, open func(testing.TB, clock.Clock) *store.Store) {
		r := newRig(t, open, 100)
		ctx := context.Background()
		u := r.user(t, "ada@carecircle.test", nil, "")
		id := r.notify(t, u, care.NotifyShiftReminder, nil)
		entry, err := events.NewEvent(r.clk, events.TimelineEntryCreated, map[string]any{
			"id": "e1", "type": "MOOD", "vitals": map[string]any{"notificationIds": []string{id}},
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := r.d.Handle(ctx, entry); err != nil || r.push.RequestCount() != 0 || len(r.statuses(t, id)) != 0 {
			t.Fatalf("a timeline entry delivered notification %s: %v, %d pushes, %v", id, err, r.push.RequestCount(), r.statuses(t, id))
		}
		reminder, err := events.NewEvent(r.clk, events.ShiftReminder, events.ShiftReminderData{
			CaregiverID: u.ID, Notified: events.Notified{UserIDs: []string{u.ID}, NotificationIDs: []string{id}},
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := r.d.Handle(ctx, reminder); err != nil {
			t.Fatal(err)
		}
		if got := r.statuses(t, id); got[notify.ChannelPush] != store.DeliverySent {
			t.Fatalf("shift reminder event: %v", got)
		}
	})
}
