package retention

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/carecircle/carecircle/internal/care"
	"github.com/carecircle/carecircle/internal/clock"
	"github.com/carecircle/carecircle/internal/config"
	"github.com/carecircle/carecircle/internal/store"
	"github.com/carecircle/carecircle/internal/store/storetest"
)

var policy = config.Retention{Notifications: 90 * 24 * time.Hour, Outbox: 72 * time.Hour, Ledger: 30 * 24 * time.Hour,
	EmailLog: 90 * 24 * time.Hour, Audit: 730 * 24 * time.Hour}

// seed writes, at each age before now, a read notification, an email
// attempt and an audit entry.
func seed(t *testing.T, st *store.Store, clk *clock.Fake, now time.Time, ages ...time.Duration) {
	t.Helper()
	ctx := context.Background()
	clk.Set(now.Add(-1000 * 24 * time.Hour))
	u, err := st.CreateUser(ctx, store.NewUser{Email: "pat@example.com", PasswordHash: "x", FullName: "Pat", Timezone: "UTC", Status: care.UserActive})
	if err != nil {
		t.Fatal(err)
	}
	for _, age := range ages {
		clk.Set(now.Add(-age))
		ns, err := st.InsertNotifications(ctx, []care.Notification{{UserID: u.ID, Type: "SYSTEM", Title: "t", Body: "b"}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.MarkNotificationsRead(ctx, u.ID, []string{ns[0].ID}); err != nil {
			t.Fatal(err)
		}
		if err := st.RecordEmailAttempt(ctx, store.EmailAttempt{At: clk.Now(), To: u.Email, Template: "t", Priority: "routine", Status: "SENT"}); err != nil {
			t.Fatal(err)
		}
		if _, err := st.AppendAudit(ctx, store.AuditEntry{Action: "POST /families", Status: 201}); err != nil {
			t.Fatal(err)
		}
	}
	clk.Set(now)
}

// TestPrunerKeepsEachKindForItsOwnTime: with the defaults, a notification
// and an email log a hundred days old go, the audit entry of the same age
// stays (kept two years), one older than that goes; the run is recorded and
// the next is due a day later.
func TestPrunerKeepsEachKindForItsOwnTime(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 6, 1, 3, 0, 0, 0, time.UTC)
	clk := clock.NewFake(now)
	st := storetest.OpenSQLite(t, clk)
	seed(t, st, clk, now, 800*24*time.Hour, 100*24*time.Hour, 10*24*time.Hour)
	p := &Pruner{Store: st, Clock: clk, Logger: slog.New(slog.DiscardHandler), Policy: policy, Holder: "node-a"}

	ctx := context.Background()
	if wait, err := p.NextRun(ctx); err != nil || wait != 0 {
		t.Fatalf("first run due in %v, %v; want at once", wait, err)
	}
	counts, err := p.RunOnce(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := (store.PruneCounts{Notifications: 2, EmailLog: 2, Audit: 1}); counts != want {
		t.Fatalf("pruned %+v, want %+v", counts, want)
	}
	sizes, err := st.TableSizes(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if sizes["notifications"] != 1 || sizes["email_attempts"] != 1 || sizes["audit_log"] != 2 {
		t.Fatalf("left %v", sizes)
	}
	if wait, err := p.NextRun(ctx); err != nil || wait != Interval {
		t.Fatalf("next run in %v, %v; want %v", wait, err, Interval)
	}
	clk.Advance(Interval - time.Minute)
	if wait, _ := p.NextRun(ctx); wait != time.Minute {
		t.Fatalf("a minute before the day is up, next run in %v", wait)
	}
	clk.Advance(time.Minute)
	if wait, _ := p.NextRun(ctx); wait != 0 {
		t.Fatalf("a day later, next run in %v", wait)
	}
}

// TestPrunerRunsDailyOnOneNode drives Run's loop through an injected timer:
// the first node prunes at once and then waits a day; a second node started
// meanwhile finds the run recorded and waits out the rest of the day
// instead of pruning again.
func TestPrunerRunsDailyOnOneNode(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 6, 1, 3, 0, 0, 0, time.UTC)
	clk := clock.NewFake(now)
	st := storetest.OpenSQLite(t, clk)
	seed(t, st, clk, now, 100*24*time.Hour)

	waits := make(chan time.Duration)
	after := func(d time.Duration) <-chan time.Time {
		waits <- d
		return make(chan time.Time) // never fires: the test ends the loop
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	a := &Pruner{Store: st, Clock: clk, Logger: slog.New(slog.DiscardHandler), Policy: policy, Holder: "node-a", After: after}
	done := make(chan struct{})
	go func() { a.Run(ctx); close(done) }()
	if d := <-waits; d != Interval {
		t.Fatalf("after its run node A waits %v, want %v", d, Interval)
	}
	if sizes, _ := st.TableSizes(ctx); sizes["notifications"] != 0 {
		t.Fatalf("node A did not prune: %v", sizes)
	}
	clk.Advance(3 * time.Hour)
	bCtx, bCancel := context.WithCancel(ctx)
	b := &Pruner{Store: st, Clock: clk, Logger: slog.New(slog.DiscardHandler), Policy: policy, Holder: "node-b", After: after}
	bDone := make(chan struct{})
	go func() { b.Run(bCtx); close(bDone) }()
	if d := <-waits; d != Interval-3*time.Hour {
		t.Fatalf("node B waits %v, want %v", d, Interval-3*time.Hour)
	}
	bCancel()
	<-bDone
	cancel()
	<-done
	runs, err := st.LastJobRuns(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range runs {
		if r.Job == JobName && (!r.StartedAt.Equal(now) || r.Status != "ok" || r.Items != 2) {
			t.Fatalf("recorded run %+v", r)
		}
	}
}
