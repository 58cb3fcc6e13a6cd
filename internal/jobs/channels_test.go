package jobs

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/carecircle/carecircle/internal/care"
	"github.com/carecircle/carecircle/internal/clock"
	"github.com/carecircle/carecircle/internal/events"
	"github.com/carecircle/carecircle/internal/notify"
	"github.com/carecircle/carecircle/internal/store"
	"github.com/carecircle/carecircle/internal/store/storetest"
)

// recorder is a channel that keeps the ids of the notifications it sent.
type recorder struct {
	mu  sync.Mutex
	ids []string
}

func (*recorder) Name() string                         { return "recorder" }
func (*recorder) On(care.NotificationPreferences) bool { return true }
func (r *recorder) Send(_ context.Context, d *notify.Delivery) (bool, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ids = append(r.ids, d.Notification.ID)
	return true, nil
}

func (r *recorder) sent() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.ids...)
}

// TestChannelsQueueRoutineNotificationsAndSendEmergenciesAtOnce: a reminder
// event's notifications go to their channels through one job of the
// notifications queue, queued once however often the event is offered;
// an emergency's are sent before the consumer returns, without a job.
func TestChannelsQueueRoutineNotificationsAndSendEmergenciesAtOnce(t *testing.T) {
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, open func(testing.TB, clock.Clock) *store.Store) {
		ctx := context.Background()
		r := newRig(t, open, mustTime(stageStart), "UTC", "08:00")
		if err := Migrate(ctx, r.st); err != nil {
			t.Fatal(err)
		}
		rec := &recorder{}
		chans := &notify.Channels{}
		chans.Register(rec)
		c := NewChannels(&notify.Deliverer{Store: r.st, Channels: chans, Clock: r.clk, Logger: quietLogger()})
		rc, err := NewClient(r.st, river.NewWorkers(), ClientConfig{Work: true, Logger: quietLogger(), Channels: c})
		if err != nil {
			t.Fatal(err)
		}
		c.SetRiver(rc)
		done, cancel := rc.Subscribe(river.EventKindJobCompleted, river.EventKindJobFailed)
		defer cancel()
		if err := rc.Start(ctx); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			stopCtx, stop := context.WithTimeout(context.Background(), 10*time.Second)
			defer stop()
			_ = rc.Stop(stopCtx)
		})

		write := func(typ care.NotificationType, users ...*care.User) []string {
			var ns []care.Notification
			for _, u := range users {
				ns = append(ns, care.Notification{UserID: u.ID, Type: typ, Title: string(typ), Body: "b", Data: json.RawMessage(`{}`)})
			}
			created, err := r.st.InsertNotifications(ctx, ns)
			if err != nil {
				t.Fatal(err)
			}
			ids := make([]string, len(created))
			for i, n := range created {
				ids[i] = n.ID
			}
			return ids
		}
		event := func(id, typ string, data any) events.Event {
			raw, err := json.Marshal(data)
			if err != nil {
				t.Fatal(err)
			}
			return events.Event{ID: id, Type: typ, Data: raw}
		}
		deliveryJobs := func() int {
			var n int
			if err := r.st.DB().QueryRowContext(ctx, `SELECT COUNT(*) FROM river_job WHERE kind = 'deliver_notifications'`).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}

		reminder := write(care.NotifyMedicationReminder, r.admin, r.others[0])
		ev := event("01966b9e-0000-7000-8000-000000000001", events.MedicationReminder,
			events.Notified{UserIDs: []string{r.admin.ID, r.others[0].ID}, NotificationIDs: reminder})
		for range 2 { // offered again, as after a crash before it was recorded
			if errs := c.HandleBatch(ctx, []events.Event{ev}); errs[0] != nil {
				t.Fatal(errs[0])
			}
		}
		if n := deliveryJobs(); n != 1 {
			t.Fatalf("%d delivery jobs for one event offered twice, want 1", n)
		}
		select {
		case je := <-done:
			if je.Kind != river.EventKindJobCompleted {
				t.Fatalf("delivery job %s: %v", je.Kind, je.Job.Errors)
			}
		case <-time.After(time.Minute):
			t.Fatal("the delivery job never ran")
		}
		if got := rec.sent(); len(got) != 2 {
			t.Fatalf("channel sent %v, want the reminder's two notifications", got)
		}

		alert := write(care.NotifyEmergencyAlert, r.others[1])
		ev = event("01966b9e-0000-7000-8000-000000000002", events.NotificationCreated,
			events.NotificationData{Notified: events.Notified{UserIDs: []string{r.others[1].ID}, NotificationIDs: alert}, Type: care.NotifyEmergencyAlert})
		if errs := c.HandleBatch(ctx, []events.Event{ev}); errs[0] != nil {
			t.Fatal(errs[0])
		}
		if got := rec.sent(); len(got) != 3 || got[2] != alert[0] {
			t.Fatalf("after the emergency the channel sent %v, want it third", got)
		}
		if n := deliveryJobs(); n != 1 {
			t.Fatalf("%d delivery jobs after an emergency, want it sent without one", n)
		}
	})
}
