package jobs

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/carecircle/carecircle/internal/care"
	"github.com/carecircle/carecircle/internal/clock"
	"github.com/carecircle/carecircle/internal/events"
	"github.com/carecircle/carecircle/internal/store"
	"github.com/carecircle/carecircle/internal/store/storetest"
)

// reminderEvent is what a test reads back from an outbox envelope.
type reminderEvent struct {
	events.Event
	data struct {
		MedicationID    string   `json:"medicationId"`
		CareRecipientID string   `json:"careRecipientId"`
		FamilyID        string   `json:"familyId"`
		UserIDs         []string `json:"userIds"`
		NotificationIDs []string `json:"notificationIds"`
	}
}

// outboxEvents decodes every pending outbox event, grouped by type.
func outboxEvents(t *testing.T, st *store.Store) map[string][]reminderEvent {
	t.Helper()
	pending, err := st.PendingEvents(context.Background(), 10_000)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]reminderEvent{}
	for _, p := range pending {
		var e reminderEvent
		var err error
		if e.Event, err = events.DecodeEvent(p.Envelope); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(e.Data, &e.data); err != nil {
			t.Fatal(err)
		}
		if p.FamilyID != e.FamilyID {
			t.Fatalf("%s: outbox family %q, envelope %q", e.Type, p.FamilyID, e.FamilyID)
		}
		out[e.Type] = append(out[e.Type], e)
	}
	return out
}

// expectReminderEvents checks that each sent reminder of r's medication
// committed one event of its type, scoped to the family and care recipient
// and naming the users notified.
func expectReminderEvents(t *testing.T, r *rig, got map[string][]reminderEvent, want map[string]int) {
	t.Helper()
	for typ, n := range want {
		if len(got[typ]) != n {
			t.Fatalf("%d %s events, want %d (all: %v)", len(got[typ]), typ, n, got)
		}
		for _, e := range got[typ] {
			if e.FamilyID != r.cr.FamilyID || e.CareRecipientID != r.cr.ID || e.data.FamilyID != r.cr.FamilyID ||
				e.data.CareRecipientID != r.cr.ID || e.data.MedicationID != r.med.ID || e.CorrelationID == "" {
				t.Fatalf("%s event not scoped: %+v", typ, e)
			}
			if len(e.data.UserIDs) == 0 || len(e.data.UserIDs) != len(e.data.NotificationIDs) {
				t.Fatalf("%s event names users %v, notifications %v", typ, e.data.UserIDs, e.data.NotificationIDs)
			}
		}
	}
	for typ := range got {
		if _, ok := want[typ]; !ok {
			t.Fatalf("unexpected %s events: %d", typ, len(got[typ]))
		}
	}
}

func TestSentRemindersCommitTheirEvents(t *testing.T) {
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, open func(testing.TB, clock.Clock) *store.Store) {
		start := mustTime("2026-01-15T12:00:00Z") // 07:00 EST
		r := newRig(t, open, start, "America/New_York", "08:00")
		if _, err := r.st.UpdateMedication(context.Background(), r.med.ID, func(m *care.Medication) error {
			low := 3
			m.CurrentSupply = &low
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		r.run(start, mustTime("2026-01-15T14:05:00Z")) // to 09:05 EST
		got := outboxEvents(t, r.st)
		expectReminderEvents(t, r, got, map[string]int{
			"medication.reminder": 4, "medication.missed": 1, "medication.refill_needed": 1,
		})
		// The missed dose goes to the ADMIN and the CAREGIVER, not the VIEWER.
		if users := got["medication.missed"][0].data.UserIDs; len(users) != 2 {
			t.Fatalf("missed dose announced to %v", users)
		}
	})
}

func TestQueuedRemindersCommitTheirEvents(t *testing.T) {
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, open func(testing.TB, clock.Clock) *store.Store) {
		start := mustTime("2026-01-15T12:55:00Z") // 07:55 EST
		r := newRig(t, open, start, "America/New_York", "08:00")
		done := startQueue(t, r)
		ctx := context.Background()
		now := mustTime("2026-01-15T12:55:00Z")
		r.clk.Set(now)
		if _, err := r.engine.Plan(ctx, now); err != nil {
			t.Fatal(err)
		}
		if n, err := r.engine.DispatchDue(ctx, now); err != nil || n != 1 {
			t.Fatalf("dispatched %d, %v; want 1", n, err)
		}
		select {
		case ev := <-done:
			if ev.Kind != river.EventKindJobCompleted {
				t.Fatalf("job %s: %v", ev.Kind, ev.Job.Errors)
			}
		case <-time.After(20 * time.Second):
			t.Fatal("the reminder job did not complete")
		}
		expectReminderEvents(t, r, outboxEvents(t, r.st), map[string]int{"medication.reminder": 1})
	})
}
