package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/carecircle/carecircle/internal/clock"
	"github.com/carecircle/carecircle/internal/store"
	"github.com/carecircle/carecircle/internal/store/storetest"
)

// fencedRuns lists the fences of the recorded runs of job, oldest first.
func fencedRuns(t *testing.T, st *store.Store, job string) []int64 {
	t.Helper()
	rows, err := st.DB().QueryContext(context.Background(),
		`SELECT fence FROM job_runs WHERE job = $1 ORDER BY started_at`, job)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var f int64
		if err := rows.Scan(&f); err != nil {
			t.Fatal(err)
		}
		out = append(out, f)
	}
	return out
}

// TestJobRunFencedRefusesAStaleToken: a run is recorded only with a token at
// least the highest recorded for the lock, by a holder whose lease has not
// expired; a smaller token is accepted once the highest's lease has expired
// (the lock's counter started again).
func TestJobRunFencedRefusesAStaleToken(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, open func(testing.TB, clock.Clock) *store.Store) {
		clk := clock.NewFake(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))
		st := open(t, clk)
		ctx := context.Background()
		const lock, ttl = "monitor", 4 * time.Minute
		record := func(token int64, expires time.Time) error {
			return st.RecordJobRunFenced(ctx, lock, token, expires, store.JobRun{Job: lock, StartedAt: clk.Now(), Status: "ok"})
		}
		t0 := clk.Now()
		if err := record(5, t0.Add(ttl)); err != nil {
			t.Fatalf("first holder: %v", err)
		}
		clk.Advance(5 * time.Minute)
		if err := record(6, clk.Now().Add(ttl)); err != nil {
			t.Fatalf("next holder: %v", err)
		}
		// The holder of token 5, paused past its lease.
		if err := record(5, t0.Add(ttl)); !errors.Is(err, store.ErrLeaseLost) {
			t.Fatalf("expired holder: %v, want ErrLeaseLost", err)
		}
		// Token 5 again with a lease its own clock says still runs: refused,
		// token 6's lease lasts.
		if err := record(5, clk.Now().Add(time.Minute)); !errors.Is(err, store.ErrLeaseLost) {
			t.Fatalf("stale token: %v, want ErrLeaseLost", err)
		}
		clk.Advance(time.Second)
		if err := record(6, clk.Now().Add(ttl)); err != nil {
			t.Fatalf("the current token again: %v", err)
		}
		// The counter started again at 1 after token 6's lease ended.
		clk.Advance(5 * time.Minute)
		if err := record(1, clk.Now().Add(ttl)); err != nil {
			t.Fatalf("restarted counter: %v", err)
		}
		clk.Advance(time.Second)
		if err := record(6, clk.Now().Add(ttl)); err != nil {
			t.Fatalf("token 6 after 1: %v", err)
		}
		clk.Advance(time.Second)
		if err := record(2, clk.Now().Add(ttl)); !errors.Is(err, store.ErrLeaseLost) {
			t.Fatalf("token 2 under 6 while 6 lasts: %v", err)
		}
		got := fencedRuns(t, st, lock)
		want := []int64{5, 6, 6, 1, 6}
		if len(got) != len(want) {
			t.Fatalf("runs %v, want %v", got, want)
		}
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("runs %v, want %v", got, want)
			}
		}
	})
}
