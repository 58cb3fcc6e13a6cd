package store_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/carecircle/carecircle/internal/care"
	"github.com/carecircle/carecircle/internal/clock"
	"github.com/carecircle/carecircle/internal/store"
	"github.com/carecircle/carecircle/internal/store/storetest"
)

// sendNext marks the oldest due planned entry as status at the clock's time.
func sendNext(t *testing.T, s *store.Store, now time.Time, status string) {
	t.Helper()
	n, err := s.ClaimDue(context.Background(), now, 1, func(ctx context.Context, due []store.LedgerEntry) error {
		_, err := s.MarkLedgerMany(ctx, []store.LedgerUpdate{{Key: due[0].Key, Status: status}}, store.LedgerPlanned)
		return err
	})
	if err != nil || n != 1 {
		t.Fatalf("claim = %d, %v", n, err)
	}
}

func TestLedgerWindowCountsOutcomesAndLateness(t *testing.T) {
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, open openFunc) {
		clk := clock.NewFake(t0)
		s := open(t, clk)
		ctx := context.Background()
		cr := newCareRecipient(t, s)
		// The hour looked at is [end-1h, end); base is its start.
		end := t0.Add(2 * time.Hour)
		base := end.Add(-time.Hour)
		var entries []store.LedgerEntry
		entries = append(entries, entry(cr, "before", base.Add(-time.Minute)))
		for i := range 10 {
			entries = append(entries, entry(cr, fmt.Sprintf("sent-%02d", i), base.Add(time.Duration(i)*time.Minute)))
		}
		entries = append(entries,
			entry(cr, "suppressed", base.Add(20*time.Minute)),
			entry(cr, "pending", base.Add(30*time.Minute)),
			entry(cr, "after", end))
		if _, err := s.RecordPlan(ctx, "reminders", end.Add(time.Hour), entries, t0); err != nil {
			t.Fatal(err)
		}
		// One more, planned after its time had passed: skipped.
		if _, err := s.RecordPlan(ctx, "late", end, []store.LedgerEntry{entry(cr, "skipped", base.Add(40*time.Minute))}, end); err != nil {
			t.Fatal(err)
		}
		// "before" goes out an hour late; it is outside the window.
		clk.Set(base.Add(59 * time.Minute))
		sendNext(t, s, base.Add(-time.Minute), store.LedgerSent)
		// sent-i goes out i+1 seconds after its fire time.
		for i := range 10 {
			fire := base.Add(time.Duration(i) * time.Minute)
			clk.Set(fire.Add(time.Duration(i+1) * time.Second))
			sendNext(t, s, fire, store.LedgerSent)
		}
		clk.Set(base.Add(21 * time.Minute))
		sendNext(t, s, base.Add(20*time.Minute), store.LedgerSuppressed)

		w, err := s.LedgerWindow(ctx, base, end)
		if err != nil {
			t.Fatal(err)
		}
		if w.Planned != 13 || w.Sent != 10 || w.Suppressed != 1 || w.Skipped != 1 || w.Pending != 1 {
			t.Fatalf("window = %+v", w)
		}
		// ceil(0.99 * 10) = 10th smallest lateness: 10 s.
		if w.LateP99Ms == nil || *w.LateP99Ms != 10_000 {
			t.Fatalf("late p99 = %v", w.LateP99Ms)
		}
		empty, err := s.LedgerWindow(ctx, end.Add(time.Hour), end.Add(2*time.Hour))
		if err != nil || empty.Planned != 0 || empty.LateP99Ms != nil {
			t.Fatalf("empty window = %+v, %v", empty, err)
		}
	})
}

func TestEmailCountsSince(t *testing.T) {
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, open openFunc) {
		s := open(t, clock.NewFake(t0))
		ctx := context.Background()
		add := func(at time.Time, provider, priority, status string) {
			t.Helper()
			if err := s.RecordEmailAttempt(ctx, store.EmailAttempt{At: at, To: "a@example.com", Template: "t",
				Provider: provider, Priority: priority, Status: status}); err != nil {
				t.Fatal(err)
			}
		}
		add(t0.Add(-25*time.Hour), "smtp", "routine", "sent") // yesterday
		add(t0, "smtp", "routine", "sent")
		add(t0, "smtp", "routine", "sent")
		add(t0, "smtp", "emergency", "sent")
		add(t0, "", "routine", "deferred")
		got, err := s.EmailCountsSince(ctx, t0.Add(-time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		want := []store.EmailCount{
			{Provider: "", Priority: "routine", Status: "deferred", Count: 1},
			{Provider: "smtp", Priority: "emergency", Status: "sent", Count: 1},
			{Provider: "smtp", Priority: "routine", Status: "sent", Count: 2},
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("counts = %+v, want %+v", got, want)
		}
	})
}

func TestSearchUsersMatchesEmailOrNameLiterally(t *testing.T) {
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, open openFunc) {
		s := open(t, clock.NewFake(t0))
		ctx := context.Background()
		newUser(t, s, "ann@example.com")
		newUser(t, s, "bo@example.org")
		newUser(t, s, "cy_100%@example.com")
		cases := []struct {
			q     string
			want  []string
			total int
		}{
			{"", []string{"ann@example.com", "bo@example.org"}, 3},
			{"EXAMPLE.COM", []string{"ann@example.com", "cy_100%@example.com"}, 2},
			{"test bo", []string{"bo@example.org"}, 1}, // the full name is "Test " + email
			{"_1", []string{"cy_100%@example.com"}, 1},
			{"0%", []string{"cy_100%@example.com"}, 1},
			{"%", []string{"cy_100%@example.com"}, 1},
			{"nobody", nil, 0},
		}
		for _, c := range cases {
			got, total, err := s.SearchUsers(ctx, c.q, 2, 0)
			if err != nil {
				t.Fatal(err)
			}
			var emails []string
			for _, u := range got {
				emails = append(emails, u.Email)
			}
			if fmt.Sprint(emails) != fmt.Sprint(c.want) || total != c.total {
				t.Errorf("search %q = %v (%d), want %v (%d)", c.q, emails, total, c.want, c.total)
			}
		}
		page2, total, err := s.SearchUsers(ctx, "", 2, 2)
		if err != nil || len(page2) != 1 || page2[0].Email != "cy_100%@example.com" || total != 3 {
			t.Fatalf("second page = %v, %d, %v", page2, total, err)
		}
	})
}

func TestSuspendEndsSessionsAndUnsuspendRestoresStatus(t *testing.T) {
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, open openFunc) {
		s := open(t, clock.NewFake(t0))
		ctx := context.Background()
		active, err := s.ActivateUser(ctx, newUser(t, s, "active@example.com").ID)
		if err != nil {
			t.Fatal(err)
		}
		pending := newUser(t, s, "pending@example.com")
		var sessions []*care.Session
		for i := range 2 {
			sess, err := s.CreateSession(ctx, store.NewSession{UserID: active.ID, TTL: time.Hour, RefreshHash: fmt.Sprintf("refresh-%d", i)})
			if err != nil {
				t.Fatal(err)
			}
			sessions = append(sessions, sess)
		}
		u, ended, err := s.SuspendUser(ctx, active.ID)
		if err != nil || u.Status != care.UserSuspended || ended != 2 {
			t.Fatalf("suspend = %+v, %d, %v", u, ended, err)
		}
		for _, sess := range sessions {
			if _, _, err := s.ActiveSession(ctx, sess.ID); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("session %s still live after suspension: %v", sess.ID, err)
			}
		}
		if u, err = s.UnsuspendUser(ctx, active.ID); err != nil || u.Status != care.UserActive {
			t.Fatalf("unsuspend active = %+v, %v", u, err)
		}
		if _, _, err := s.SuspendUser(ctx, pending.ID); err != nil {
			t.Fatal(err)
		}
		if u, err = s.UnsuspendUser(ctx, pending.ID); err != nil || u.Status != care.UserPending {
			t.Fatalf("unsuspend unverified = %+v, %v", u, err)
		}
		missing := "00000000-0000-4000-8000-000000000000"
		if _, _, err := s.SuspendUser(ctx, missing); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("suspend missing = %v", err)
		}
		if _, err := s.UnsuspendUser(ctx, missing); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("unsuspend missing = %v", err)
		}
	})
}

func TestDeleteDeadLetter(t *testing.T) {
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, open openFunc) {
		s := open(t, clock.NewFake(t0))
		ctx := context.Background()
		if err := s.AddDeadLetter(ctx, store.DeadLetter{Kind: "k", Queue: "q", Args: "{}", Error: "boom", Attempts: 5}); err != nil {
			t.Fatal(err)
		}
		list, err := s.DeadLetters(ctx, 10, 0)
		if err != nil || len(list) != 1 {
			t.Fatalf("dead letters = %v, %v", list, err)
		}
		if err := s.DeleteDeadLetter(ctx, list[0].ID); err != nil {
			t.Fatal(err)
		}
		if err := s.DeleteDeadLetter(ctx, list[0].ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("second delete = %v", err)
		}
		if open, _, err := s.CountDeadLetters(ctx, t0); err != nil || open != 0 {
			t.Fatalf("open dead letters = %d, %v", open, err)
		}
	})
}
