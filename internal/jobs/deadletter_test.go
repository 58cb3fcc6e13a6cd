package jobs

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/carecircle/carecircle/internal/clock"
	"github.com/carecircle/carecircle/internal/store"
	"github.com/carecircle/carecircle/internal/store/storetest"
)

// TestPermanentFailureGoesStraightToDeadLetters runs a malformed job through
// the real queue: it is cancelled at once, recorded as a dead letter, and the
// monitor reports it.
func TestPermanentFailureGoesStraightToDeadLetters(t *testing.T) {
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, open func(testing.TB, clock.Clock) *store.Store) {
		start := mustTime("2026-01-15T12:00:00Z")
		r := newRig(t, open, start, "UTC", "08:00")
		events := startQueue(t, r)
		ctx := context.Background()
		if _, err := r.engine.river.Insert(ctx, ReminderBatchArgs{ReminderKind: KindMedication}, nil); err != nil {
			t.Fatal(err)
		}
		select {
		case ev := <-events:
			if ev.Kind != river.EventKindJobCancelled || ev.Job.Attempt != 1 {
				t.Fatalf("event %s after %d attempts", ev.Kind, ev.Job.Attempt)
			}
		case <-time.After(20 * time.Second):
			t.Fatal("the malformed job was not cancelled")
		}
		dls, err := r.st.DeadLetters(ctx, 10, 0)
		if err != nil || len(dls) != 1 || dls[0].Kind != "reminder_batch" || dls[0].Queue != QueueMedicationReminders || dls[0].JobID == nil {
			t.Fatalf("dead letters = %+v, %v", dls, err)
		}
		n, err := r.engine.MonitorFailures(ctx, start.Add(-time.Minute))
		if err != nil || n != 1 {
			t.Fatalf("monitor counted %d, %v", n, err)
		}
		// What the admin retry route does: the job runs again (and, still
		// malformed, is dead-lettered again).
		if _, err := r.engine.river.JobRetry(ctx, *dls[0].JobID); err != nil {
			t.Fatal(err)
		}
		select {
		case ev := <-events:
			if ev.Kind != river.EventKindJobCancelled || ev.Job.ID != *dls[0].JobID {
				t.Fatalf("retried job: %s", ev.Kind)
			}
		case <-time.After(20 * time.Second):
			t.Fatal("the retried job did not run")
		}
		if dls, _ := r.st.DeadLetters(ctx, 10, 0); len(dls) != 2 {
			t.Fatalf("dead letters after retry = %d, want 2", len(dls))
		}
	})
}

func TestLastAttemptIsDeadLettered(t *testing.T) {
	t.Parallel()
	r := newRig(t, storetest.OpenSQLite, mustTime("2026-01-15T12:00:00Z"), "UTC", "08:00")
	ctx := context.Background()
	transient := errors.New("database briefly unavailable")
	job := &rivertype.JobRow{ID: 7, Kind: "reminder_batch", Queue: QueueMedicationReminders, Attempt: 2, MaxAttempts: 5, EncodedArgs: []byte(`{"kind":"MEDICATION","keys":["k"]}`)}
	if err := r.engine.deadLetter(ctx, job, transient); !errors.Is(err, transient) {
		t.Fatalf("an early failure must be retried: %v", err)
	}
	if dls, _ := r.st.DeadLetters(ctx, 10, 0); len(dls) != 0 {
		t.Fatalf("dead-lettered before the last attempt: %v", dls)
	}
	job.Attempt = 5
	if err := r.engine.deadLetter(ctx, job, transient); !errors.Is(err, transient) {
		t.Fatalf("err = %v", err)
	}
	dls, _ := r.st.DeadLetters(ctx, 10, 0)
	if len(dls) != 1 || dls[0].Attempts != 5 || dls[0].Error != transient.Error() || *dls[0].JobID != 7 {
		t.Fatalf("dead letters = %+v", dls)
	}
}
