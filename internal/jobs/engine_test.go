package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/carecircle/carecircle/internal/auth"
	"github.com/carecircle/carecircle/internal/care"
	"github.com/carecircle/carecircle/internal/clock"
	"github.com/carecircle/carecircle/internal/store"
	"github.com/carecircle/carecircle/internal/store/storetest"
)

// rig is a family with a care recipient and one daily medication, and an
// engine on a fake clock.
type rig struct {
	t      *testing.T
	st     *store.Store
	clk    *clock.Fake
	engine *Engine
	admin  *care.User
	others []*care.User
	cr     *care.CareRecipient
	med    *care.Medication
}

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func inlineConfig() EngineConfig {
	cfg := DefaultEngineConfig()
	cfg.QueueEnabled = false
	return cfg
}

func newRig(t *testing.T, open func(testing.TB, clock.Clock) *store.Store, start time.Time, zone string, times ...string) *rig {
	t.Helper()
	ctx := context.Background()
	clk := clock.NewFake(start)
	st := open(t, clk)
	r := &rig{t: t, st: st, clk: clk, engine: NewEngine(st, nil, clk, quietLogger(), inlineConfig())}
	user := func(email, tz string) *care.User {
		u, err := st.CreateUser(ctx, store.NewUser{Email: email, PasswordHash: "x", FullName: strings.Split(email, "@")[0], Timezone: tz, Status: care.UserPending})
		if err != nil {
			t.Fatal(err)
		}
		if u, err = st.ActivateUser(ctx, u.ID); err != nil {
			t.Fatal(err)
		}
		return u
	}
	r.admin = user("admin@example.com", "America/New_York")
	fam, _, err := st.CreateFamily(ctx, "Family", r.admin.ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []struct {
		email string
		role  care.Role
		tz    string
	}{{"carer@example.com", care.RoleCaregiver, "Europe/Berlin"}, {"viewer@example.com", care.RoleViewer, "UTC"}} {
		u := user(m.email, m.tz)
		tok := auth.NewOpaqueToken()
		if _, err := st.CreateInvitation(ctx, store.NewInvitation{FamilyID: fam.ID, Email: m.email, Role: m.role, InvitedByID: r.admin.ID, TokenHash: auth.HashToken(tok), TTL: care.InvitationTTL}); err != nil {
			t.Fatal(err)
		}
		if _, err := st.AcceptInvitation(ctx, auth.HashToken(tok), u.ID, m.email); err != nil {
			t.Fatal(err)
		}
		r.others = append(r.others, u)
	}
	if r.cr, err = st.CreateCareRecipient(ctx, care.CareRecipient{FamilyID: fam.ID, FullName: "Grandma", Timezone: zone}); err != nil {
		t.Fatal(err)
	}
	supply, refillAt := 30, 5
	if r.med, err = st.CreateMedication(ctx, care.Medication{CareRecipientID: r.cr.ID, Name: "Metformin", Dosage: "500 mg",
		Form: care.FormTablet, Frequency: care.FrequencyDaily, ScheduledTimes: times, IsActive: true,
		CurrentSupply: &supply, RefillAt: &refillAt}); err != nil {
		t.Fatal(err)
	}
	return r
}

// run steps the clock minute by minute through [from, to], planning and
// dispatching at each step as the running engine would.
func (r *rig) run(from, to time.Time) {
	r.t.Helper()
	ctx := context.Background()
	for now := from; !now.After(to); now = now.Add(time.Minute) {
		r.clk.Set(now)
		if _, err := r.engine.Plan(ctx, now); err != nil {
			r.t.Fatal(err)
		}
		if _, err := r.engine.DispatchDue(ctx, now); err != nil {
			r.t.Fatal(err)
		}
	}
}

// reminders returns the medication reminders a user received, by the
// instant each was created, oldest first.
func (r *rig) reminders(u *care.User, typ care.NotificationType) []care.Notification {
	r.t.Helper()
	ns, err := r.st.UserNotifications(context.Background(), u.ID, store.NotificationQuery{Limit: 1000})
	if err != nil {
		r.t.Fatal(err)
	}
	var out []care.Notification
	for _, n := range ns {
		if n.Type == typ {
			out = append(out, n)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].CreatedAt.Before(out[j].CreatedAt) })
	return out
}

func mustTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

// expectAt checks that ns were delivered exactly at the given instants.
func expectAt(t *testing.T, who string, ns []care.Notification, want ...string) {
	t.Helper()
	if len(ns) != len(want) {
		t.Fatalf("%s got %d reminders, want %d: %v", who, len(ns), len(want), ns)
	}
	for i, w := range want {
		if !ns[i].CreatedAt.Equal(mustTime(w)) {
			t.Errorf("%s reminder %d at %s, want %s", who, i, ns[i].CreatedAt.Format(time.RFC3339), w)
		}
	}
}

func TestDailyDoseAcrossDSTDays(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name       string
		start, end string
		want       []string
	}{
		// 8 March 2026: clocks spring forward at 02:00; 08:00 EDT is 12:00Z.
		{"spring forward", "2026-03-08T10:00:00Z", "2026-03-08T13:00:00Z",
			[]string{"2026-03-08T11:30:00Z", "2026-03-08T11:45:00Z", "2026-03-08T11:55:00Z", "2026-03-08T12:00:00Z"}},
		// 1 November 2026: clocks fall back at 02:00; 08:00 EST is 13:00Z.
		{"fall back", "2026-11-01T11:00:00Z", "2026-11-01T14:00:00Z",
			[]string{"2026-11-01T12:30:00Z", "2026-11-01T12:45:00Z", "2026-11-01T12:55:00Z", "2026-11-01T13:00:00Z"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			storetest.ForEach(t, func(t *testing.T, open func(testing.TB, clock.Clock) *store.Store) {
				r := newRig(t, open, mustTime(tc.start), "America/New_York", "08:00")
				r.run(mustTime(tc.start), mustTime(tc.end))
				for _, u := range append([]*care.User{r.admin}, r.others...) {
					expectAt(t, u.Email, r.reminders(u, care.NotifyMedicationReminder), tc.want...)
				}
				// Running the same minutes again (a second planner, a restart)
				// sends nothing more.
				r.run(mustTime(tc.start), mustTime(tc.end))
				expectAt(t, "admin again", r.reminders(r.admin, care.NotifyMedicationReminder), tc.want...)
			})
		})
	}
}

func TestTokyoRecipientRemindsOnTokyoTime(t *testing.T) {
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, open func(testing.TB, clock.Clock) *store.Store) {
		// 08:00 in Tokyo on 10 March is 23:00Z on the 9th; the caregiver
		// lives in Berlin.
		r := newRig(t, open, mustTime("2026-03-09T22:00:00Z"), "Asia/Tokyo", "08:00")
		r.run(mustTime("2026-03-09T22:00:00Z"), mustTime("2026-03-09T23:05:00Z"))
		carer := r.others[0]
		got := r.reminders(carer, care.NotifyMedicationReminder)
		expectAt(t, "Berlin caregiver", got, "2026-03-09T22:30:00Z", "2026-03-09T22:45:00Z", "2026-03-09T22:55:00Z", "2026-03-09T23:00:00Z")
		if !strings.Contains(got[3].Body, "08:00 Asia/Tokyo") || !strings.Contains(got[0].Body, "in 30 minutes") {
			t.Fatalf("bodies: %q / %q", got[0].Body, got[3].Body)
		}
		var data struct {
			MedicationID    string `json:"medicationId"`
			CareRecipientID string `json:"careRecipientId"`
			ScheduledTime   string `json:"scheduledTime"`
			MinutesBefore   *int   `json:"minutesBefore"`
		}
		if err := json.Unmarshal(got[3].Data, &data); err != nil || data.MedicationID != r.med.ID || data.CareRecipientID != r.cr.ID ||
			data.ScheduledTime != "2026-03-09T23:00:00Z" || data.MinutesBefore == nil || *data.MinutesBefore != 0 {
			t.Fatalf("data: %s", got[3].Data)
		}
	})
}

func TestLoggedDoseSuppressesTheRest(t *testing.T) {
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, open func(testing.TB, clock.Clock) *store.Store) {
		start := mustTime("2026-01-15T12:00:00Z") // 07:00 EST
		r := newRig(t, open, start, "America/New_York", "08:00")
		r.run(start, mustTime("2026-01-15T12:50:00Z")) // 30 and 15 sent
		if _, _, err := r.st.LogDose(context.Background(), r.med.ID, care.DoseEntry{
			Status: care.DoseGiven, ScheduledTime: mustTime("2026-01-15T13:00:00Z"), LoggedByID: r.admin.ID,
		}); err != nil {
			t.Fatal(err)
		}
		r.run(mustTime("2026-01-15T12:51:00Z"), mustTime("2026-01-15T14:30:00Z"))
		expectAt(t, "admin", r.reminders(r.admin, care.NotifyMedicationReminder), "2026-01-15T12:30:00Z", "2026-01-15T12:45:00Z")
		if missed := r.reminders(r.admin, care.NotifyMedicationMissed); len(missed) != 0 {
			t.Fatalf("a logged dose was reported missed: %v", missed)
		}
	})
}

func TestPlannerDowntimeSkipsStaleReminders(t *testing.T) {
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, open func(testing.TB, clock.Clock) *store.Store) {
		start := mustTime("2026-01-15T12:00:00Z") // 07:00 EST
		r := newRig(t, open, start, "America/New_York", "08:00")
		r.run(start, mustTime("2026-01-15T12:20:00Z")) // up until 07:20, then down
		r.run(mustTime("2026-01-15T12:58:00Z"), mustTime("2026-01-15T13:05:00Z"))
		// The 5-minute reminder was due at 07:55, three minutes before the
		// restart: within the grace period it goes out at 07:58.
		expectAt(t, "admin", r.reminders(r.admin, care.NotifyMedicationReminder), "2026-01-15T12:58:00Z", "2026-01-15T13:00:00Z")
		counts, err := r.st.LedgerCounts(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if counts[store.LedgerSkipped] != 2 || counts[store.LedgerSent] != 2 {
			t.Fatalf("ledger = %v, want the 30- and 15-minute reminders skipped", counts)
		}
	})
}

func TestMissedDoseAndRefill(t *testing.T) {
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, open func(testing.TB, clock.Clock) *store.Store) {
		start := mustTime("2026-01-15T12:00:00Z") // 07:00 EST
		r := newRig(t, open, start, "America/New_York", "08:00")
		ctx := context.Background()
		if _, err := r.st.UpdateMedication(ctx, r.med.ID, func(m *care.Medication) error {
			low := 3
			m.CurrentSupply = &low
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		r.run(start, mustTime("2026-01-15T14:05:00Z")) // to 09:05 EST
		missed := r.reminders(r.admin, care.NotifyMedicationMissed)
		expectAt(t, "admin missed", missed, "2026-01-15T14:00:00Z")
		if got := r.reminders(r.others[1], care.NotifyMedicationMissed); len(got) != 0 {
			t.Fatalf("a VIEWER was told of a missed dose")
		}
		log, err := r.st.MedicationLogAt(ctx, r.med.ID, mustTime("2026-01-15T13:00:00Z"))
		if err != nil || log.Status != care.DoseMissed {
			t.Fatalf("missed log = %+v, %v", log, err)
		}
		refill := r.reminders(r.admin, care.NotifyRefillAlert)
		expectAt(t, "admin refill", refill, "2026-01-15T14:00:00Z")
		if !strings.HasPrefix(refill[0].Title, "Urgent refill") {
			t.Fatalf("refill title %q", refill[0].Title)
		}
	})
}

// TestConcurrentEnginesNeverDuplicate runs two engines over the same store
// at once, as two nodes would.
func TestConcurrentEnginesNeverDuplicate(t *testing.T) {
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, open func(testing.TB, clock.Clock) *store.Store) {
		start := mustTime("2026-01-15T12:00:00Z")
		r := newRig(t, open, start, "America/New_York", "08:00", "08:30")
		second := NewEngine(r.st, nil, r.clk, quietLogger(), inlineConfig())
		ctx := context.Background()
		for now := start; !now.After(mustTime("2026-01-15T13:40:00Z")); now = now.Add(time.Minute) {
			r.clk.Set(now)
			var wg sync.WaitGroup
			for _, e := range []*Engine{r.engine, second} {
				wg.Add(1)
				go func() {
					defer wg.Done()
					if _, err := e.Plan(ctx, now); err != nil && !errorsIsBusy(err) {
						t.Error(err)
					}
					if _, err := e.DispatchDue(ctx, now); err != nil {
						t.Error(err)
					}
				}()
			}
			wg.Wait()
		}
		if got := r.reminders(r.admin, care.NotifyMedicationReminder); len(got) != 8 {
			t.Fatalf("admin got %d reminders for two doses, want 8", len(got))
		}
	})
}

func errorsIsBusy(err error) bool { return errors.Is(err, store.ErrPlannerBusy) }
