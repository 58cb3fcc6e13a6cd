package appointments_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/carecircle/carecircle/internal/care"
	"github.com/carecircle/carecircle/internal/clock"
	"github.com/carecircle/carecircle/internal/feature"
	"github.com/carecircle/carecircle/internal/feature/appointments"
	"github.com/carecircle/carecircle/internal/feature/featuretest"
	"github.com/carecircle/carecircle/internal/store"
	"github.com/carecircle/carecircle/internal/store/storetest"
)

var t0 = time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)

// TestUpcoming holds what the dashboard shows of appointments: those not
// yet ended, scheduled or confirmed, soonest first, at most the limit; and
// nothing to someone outside the family.
func TestUpcoming(t *testing.T) {
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, open func(testing.TB, clock.Clock) *store.Store) {
		ctx := context.Background()
		st, _, b := featuretest.Base(t, open, t0)
		svc := appointments.New(b)
		admin, outsider := featuretest.Actor(t, st, "admin@example.com"), featuretest.Actor(t, st, "outsider@example.com")
		_, cr := featuretest.Family(t, st, admin, "Europe/Berlin")
		create := func(title string, start time.Time) *care.Appointment {
			t.Helper()
			reminders, _ := care.NormalizeReminderMinutes(nil)
			res, err := svc.Create(ctx, admin, cr.ID, func(*time.Location) (appointments.Draft, error) {
				return appointments.Draft{Appointment: care.Appointment{Title: title, Type: care.AppointmentType(care.AppointmentTypes()[0]),
					StartTime: start, EndTime: start.Add(time.Hour), ReminderMinutes: reminders}}, nil
			})
			if err != nil {
				t.Fatalf("create %s: %v", title, err)
			}
			return &res.Appointments[0]
		}
		create("ended", t0.Add(-2*time.Hour))
		create("in three days", t0.Add(72*time.Hour))
		create("under way", t0.Add(-30*time.Minute))
		cancelled := create("cancelled", t0.Add(48*time.Hour))
		create("tomorrow", t0.Add(24*time.Hour))
		create("in four days", t0.Add(96*time.Hour))
		if _, err := svc.Cancel(ctx, admin, cr.ID, cancelled.ID, func() error { return nil }); err != nil {
			t.Fatal(err)
		}

		titles := func(limit int) []string {
			t.Helper()
			list, err := svc.Upcoming(ctx, admin, cr.ID, limit)
			if err != nil {
				t.Fatal(err)
			}
			out := []string{}
			for _, a := range list {
				out = append(out, a.Title)
			}
			return out
		}
		for limit, want := range map[int][]string{
			3:  {"under way", "tomorrow", "in three days"},
			10: {"under way", "tomorrow", "in three days", "in four days"},
			0:  {},
		} {
			if got := titles(limit); !slices.Equal(got, want) {
				t.Errorf("Upcoming(limit %d) = %q, want %q", limit, got, want)
			}
		}

		if _, err := svc.Upcoming(ctx, outsider, cr.ID, 3); feature.KindOf(err) != feature.KindForbidden {
			t.Errorf("Upcoming by an outsider: err = %v, want KindForbidden", err)
		}
		if _, err := svc.Upcoming(ctx, admin, "01a25267-38fe-7c9d-ad5a-14b076e76546", 3); feature.KindOf(err) != feature.KindNotFound {
			t.Errorf("Upcoming of no care recipient: err = %v, want KindNotFound", err)
		}
	})
}
