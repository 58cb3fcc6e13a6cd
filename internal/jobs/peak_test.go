package jobs

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/carecircle/carecircle/internal/auth"
	"github.com/carecircle/carecircle/internal/care"
	"github.com/carecircle/carecircle/internal/clock"
	"github.com/carecircle/carecircle/internal/store"
	"github.com/carecircle/carecircle/internal/store/storetest"
)

// peakFamilies, peakMembers and peakMeds make a morning peak of 5,000
// reminders (625 families of 4, two doses each at 08:00): a smaller
// cmd/reminderbench, run as a correctness check.
const peakFamilies, peakMembers, peakMeds = 625, 4, 2

// peakFamily is one seeded family: its admin and its medications.
type peakFamily struct {
	adminID string
	meds    []*care.Medication
}

// seedPeak creates the peak's families, in family order.
func seedPeak(t *testing.T, st *store.Store) []peakFamily {
	t.Helper()
	ctx := context.Background()
	fams := make([]peakFamily, peakFamilies)
	workers := 1
	if st.Dialect() == store.Postgres {
		workers = 8
	}
	var wg sync.WaitGroup
	errs := make([]error, workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for f := w; f < peakFamilies && errs[w] == nil; f += workers {
				fams[f], errs[w] = seedPeakFamily(ctx, st, f)
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	return fams
}

func seedPeakFamily(ctx context.Context, st *store.Store, f int) (peakFamily, error) {
	var famID, adminID string
	for m := 0; m < peakMembers; m++ {
		u, err := st.CreateUser(ctx, store.NewUser{Email: fmt.Sprintf("u%d.%d@peak.test", f, m), PasswordHash: "x",
			FullName: "Peak", Timezone: "UTC", Status: care.UserPending})
		if err != nil {
			return peakFamily{}, err
		}
		if _, err := st.ActivateUser(ctx, u.ID); err != nil {
			return peakFamily{}, err
		}
		if m == 0 {
			fam, _, err := st.CreateFamily(ctx, "Peak", u.ID, nil)
			if err != nil {
				return peakFamily{}, err
			}
			famID, adminID = fam.ID, u.ID
			continue
		}
		tok := auth.HashToken(auth.NewOpaqueToken())
		if _, err := st.CreateInvitation(ctx, store.NewInvitation{FamilyID: famID, Email: u.Email, Role: care.RoleCaregiver,
			InvitedByID: adminID, TokenHash: tok, TTL: care.InvitationTTL}); err != nil {
			return peakFamily{}, err
		}
		if _, err := st.AcceptInvitation(ctx, tok, u.ID, u.Email); err != nil {
			return peakFamily{}, err
		}
	}
	cr, err := st.CreateCareRecipient(ctx, care.CareRecipient{FamilyID: famID, FullName: "Pat", Timezone: "Europe/Paris"})
	if err != nil {
		return peakFamily{}, err
	}
	var out []*care.Medication
	for i := 0; i < peakMeds; i++ {
		med, err := st.CreateMedication(ctx, care.Medication{CareRecipientID: cr.ID, Name: fmt.Sprintf("Med %d", i),
			Dosage: "1", Form: care.FormTablet, Frequency: care.FrequencyDaily, ScheduledTimes: []string{"08:00"}, IsActive: true})
		if err != nil {
			return peakFamily{}, err
		}
		out = append(out, med)
	}
	return peakFamily{adminID: adminID, meds: out}, nil
}

// TestMorningPeakDeliversEveryReminderOnce plans 5,000 reminders due at the
// same instant, changes the world of a few of them after planning (a dose
// logged, a medication stopped), and delivers the peak: decided at the
// instant through River, or staged a minute ahead and sent at the instant
// by the dispatcher. Every other reminder reaches each member once, the
// changed ones reach nobody, and the ledger accounts for every one.
func TestMorningPeakDeliversEveryReminderOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("seeds 2,500 users")
	}
	t.Parallel()
	t.Run("at the instant", func(t *testing.T) { t.Parallel(); testMorningPeak(t, false) })
	t.Run("staged ahead", func(t *testing.T) { t.Parallel(); testMorningPeak(t, true) })
}

func testMorningPeak(t *testing.T, staged bool) {
	storetest.ForEach(t, func(t *testing.T, open func(testing.TB, clock.Clock) *store.Store) {
		ctx := context.Background()
		peak := mustTime("2026-01-15T07:00:00Z") // 08:00 in Paris
		clk := clock.NewFake(peak.Add(-time.Minute))
		st := open(t, clk)
		fams := seedPeak(t, st)
		if err := Migrate(ctx, st); err != nil {
			t.Fatal(err)
		}
		cfg := DefaultEngineConfig()
		cfg.Grace = time.Minute // the earlier offsets are not part of the peak
		if !staged {
			cfg.StageAhead = 0
		}
		engine := NewEngine(st, nil, clk, quietLogger(), cfg)
		rc, err := NewClient(st, engine.Workers(), ClientConfig{Work: true, Logger: quietLogger()})
		if err != nil {
			t.Fatal(err)
		}
		engine.SetRiver(rc)
		jobEvents, cancel := rc.Subscribe(river.EventKindJobCompleted, river.EventKindJobFailed, river.EventKindJobCancelled)
		defer cancel()
		if err := rc.Start(ctx); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			stopCtx, done := context.WithTimeout(context.Background(), 10*time.Second)
			defer done()
			_ = rc.Stop(stopCtx)
		})

		counts, err := engine.Plan(ctx, clk.Now())
		if err != nil {
			t.Fatal(err)
		}
		if counts.Planned != peakFamilies*peakMeds {
			t.Fatalf("planned %d reminders, want %d", counts.Planned, peakFamilies*peakMeds)
		}
		if staged {
			n, err := engine.DispatchDue(ctx, clk.Now())
			if err != nil || n != peakFamilies*peakMeds {
				t.Fatalf("staged %d reminders, %v; want %d", n, err, peakFamilies*peakMeds)
			}
		}
		// After planning (and staging), the world changes for two doses of
		// different families: one is given early, the other medication is
		// stopped.
		given, stopped := fams[17].meds[0], fams[400].meds[1]
		if _, _, err := st.LogDose(ctx, given.ID, care.DoseEntry{Status: care.DoseGiven, ScheduledTime: peak, LoggedByID: fams[17].adminID}); err != nil {
			t.Fatal(err)
		}
		if _, err := st.UpdateMedication(ctx, stopped.ID, func(m *care.Medication) error {
			m.IsActive = false
			return nil
		}); err != nil {
			t.Fatal(err)
		}

		clk.Set(peak)
		n, err := engine.DispatchDue(ctx, peak)
		if err != nil {
			t.Fatal(err)
		}
		if n != peakFamilies*peakMeds {
			t.Fatalf("dispatched %d reminders, want %d", n, peakFamilies*peakMeds)
		}
		jobs := (n + cfg.BatchSize - 1) / cfg.BatchSize
		if staged {
			jobs = 0 // sent by the dispatcher itself
		}
		for i := 0; i < jobs; i++ {
			select {
			case ev := <-jobEvents:
				if ev.Kind != river.EventKindJobCompleted {
					t.Fatalf("job %s: %v", ev.Kind, ev.Job.Errors)
				}
			case <-time.After(2 * time.Minute):
				t.Fatalf("%d of %d delivery jobs completed", i, jobs)
			}
		}

		ledger, err := st.LedgerCounts(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if want := peakFamilies*peakMeds - 2; ledger[store.LedgerSent] != want || ledger[store.LedgerSuppressed] != 2 ||
			ledger[store.LedgerPlanned] != 0 || ledger[store.LedgerEnqueued] != 0 || ledger[store.LedgerStaged] != 0 {
			t.Fatalf("ledger = %v, want %d SENT and 2 SUPPRESSED", ledger, want)
		}
		var notes, recipients, dupes, stale int
		db := st.DB()
		if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM notifications WHERE type = 'MEDICATION_REMINDER'`).Scan(&notes); err != nil {
			t.Fatal(err)
		}
		if err := db.QueryRowContext(ctx, `SELECT COALESCE(SUM(recipients), 0) FROM reminder_ledger WHERE status = 'SENT'`).Scan(&recipients); err != nil {
			t.Fatal(err)
		}
		if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM (SELECT user_id, dedupe_key FROM notifications
			GROUP BY user_id, dedupe_key HAVING COUNT(*) > 1) AS d`).Scan(&dupes); err != nil {
			t.Fatal(err)
		}
		if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM notifications WHERE dedupe_key LIKE $1 OR dedupe_key LIKE $2`,
			"%"+given.ID+"%", "%"+stopped.ID+"%").Scan(&stale); err != nil {
			t.Fatal(err)
		}
		want := (peakFamilies*peakMeds - 2) * peakMembers
		if notes != want || recipients != want || dupes != 0 || stale != 0 {
			t.Fatalf("%d notifications (ledger counts %d recipients), %d duplicated, %d for changed doses; want %d once each and none stale",
				notes, recipients, dupes, stale, want)
		}
		events := outboxEvents(t, st)
		if got := len(events["medication.reminder"]); got != peakFamilies*peakMeds-2 {
			t.Fatalf("%d reminder events, want %d", got, peakFamilies*peakMeds-2)
		}
	})
}
