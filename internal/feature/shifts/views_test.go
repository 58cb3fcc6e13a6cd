package shifts_test

import (
	"context"
	"testing"
	"time"

	"github.com/carecircle/carecircle/internal/clock"
	"github.com/carecircle/carecircle/internal/feature"
	"github.com/carecircle/carecircle/internal/feature/featuretest"
	"github.com/carecircle/carecircle/internal/feature/shifts"
	"github.com/carecircle/carecircle/internal/store"
	"github.com/carecircle/carecircle/internal/store/storetest"
)

// TestOnDuty follows the dashboard's "who is on duty" through a shift's
// life: nobody, then the shift covering now before anyone checks in, then
// the caregiver checked in; and refuses it to someone outside the family.
func TestOnDuty(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, open func(t testing.TB, clk clock.Clock) *store.Store) {
		ctx := context.Background()
		st, clk, b := featuretest.Base(t, open, time.Date(2026, 3, 8, 9, 30, 0, 0, time.UTC))
		ann, stranger := featuretest.Actor(t, st, "ann@example.com"), featuretest.Actor(t, st, "zed@example.com")
		_, cr := featuretest.Family(t, st, ann, "Asia/Tokyo")
		svc := shifts.New(b)

		onDuty, current, err := svc.OnDuty(ctx, ann, cr.ID)
		if err != nil || len(onDuty) != 0 || current != nil {
			t.Fatalf("OnDuty with no shift = %v, %v, %v", onDuty, current, err)
		}

		now := clk.Now()
		sh, err := svc.Create(ctx, ann, cr.ID, func() (shifts.NewShift, error) {
			return shifts.NewShift{CaregiverID: ann.ID(), Start: now.Add(-time.Hour), End: now.Add(3 * time.Hour)}, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		onDuty, current, err = svc.OnDuty(ctx, ann, cr.ID)
		if err != nil || len(onDuty) != 0 || current == nil || current.ID != sh.ID {
			t.Fatalf("OnDuty before check-in = %v, %+v, %v; want the scheduled shift %s as current", onDuty, current, err, sh.ID)
		}

		if _, err := svc.CheckIn(ctx, ann, cr.ID, sh.ID, func() (shifts.CheckIn, error) { return shifts.CheckIn{}, nil }); err != nil {
			t.Fatal(err)
		}
		onDuty, current, err = svc.OnDuty(ctx, ann, cr.ID)
		if err != nil || len(onDuty) != 1 || onDuty[0].ID != sh.ID || current != nil {
			t.Fatalf("OnDuty after check-in = %v, %+v, %v; want the shift %s on duty", onDuty, current, err, sh.ID)
		}

		if _, _, err := svc.OnDuty(ctx, stranger, cr.ID); feature.KindOf(err) != feature.KindForbidden {
			t.Fatalf("OnDuty for someone outside the family: %v, want forbidden", err)
		}
	})
}
