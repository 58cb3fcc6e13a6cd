// Command reminderbench measures the reminder engine under a morning peak:
// many doses due at the same minute. It seeds a fresh database (a temporary
// SQLite file, or a new schema in -postgres), plans the peak, lets the real
// dispatcher and River workers deliver it, and reports planning time,
// delivery throughput and lateness against each reminder's due instant.
//
//	go run ./cmd/reminderbench -families 2500 -members 4 -meds 2
//	go run ./cmd/reminderbench -postgres 'postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable'
//
// The engine runs on a clock shifted so that the peak falls 30 seconds after
// start; everything else (timers, River, the database) runs in real time.
package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"runtime/pprof"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/carecircle/carecircle/internal/auth"
	"github.com/carecircle/carecircle/internal/care"
	"github.com/carecircle/carecircle/internal/clock"
	"github.com/carecircle/carecircle/internal/jobs"
	"github.com/carecircle/carecircle/internal/store"
)

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "reminderbench:", err)
		os.Exit(1)
	}
}

type options struct {
	families, members, meds int
	postgres                string
	queue                   bool
	timeout                 time.Duration
	cpuProfile              string
}

func run(ctx context.Context, args []string, out io.Writer) error {
	var o options
	fs := flag.NewFlagSet("reminderbench", flag.ContinueOnError)
	fs.IntVar(&o.families, "families", 2500, "families, each with one care recipient")
	fs.IntVar(&o.members, "members", 4, "members per family (each gets every reminder)")
	fs.IntVar(&o.meds, "meds", 2, "medications per care recipient, all due at the peak minute")
	fs.StringVar(&o.postgres, "postgres", "", "PostgreSQL URL; a schema is created and dropped (default: SQLite in a temp dir)")
	fs.BoolVar(&o.queue, "queue", true, "deliver through River (false: inline in the dispatcher)")
	fs.DurationVar(&o.timeout, "timeout", 10*time.Minute, "give up after this long")
	fs.StringVar(&o.cpuProfile, "cpuprofile", "", "write a CPU profile of planning and delivery (not seeding) to this file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if o.families < 1 || o.members < 1 || o.meds < 1 {
		return errors.New("-families, -members and -meds must be positive")
	}
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()

	// The peak: 08:00 UTC on a fixed day, reached 30 s after seeding.
	peak := time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
	clk := &shiftedClock{}
	st, cleanup, err := openStore(ctx, o.postgres, clk)
	if err != nil {
		return err
	}
	defer cleanup()

	seedStart := time.Now()
	want, err := seed(ctx, st, o)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "backend=%s families=%d members=%d meds=%d reminders=%d seeded in %s\n",
		st.Dialect(), o.families, o.members, o.meds, want, time.Since(seedStart).Round(time.Millisecond))

	clk.shiftTo(peak.Add(-30 * time.Second))
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	cfg := jobs.DefaultEngineConfig()
	cfg.QueueEnabled = o.queue
	// A one-minute grace keeps the peak's earlier offsets (30, 15, 5 minutes
	// before) out of the measurement: they are recorded as skipped.
	cfg.Grace = time.Minute
	engine := jobs.NewEngine(st, nil, clk, logger, cfg)
	rc, err := jobs.NewClient(st, engine.Workers(), jobs.ClientConfig{Work: true, Logger: logger})
	if err != nil {
		return err
	}
	engine.SetRiver(rc)
	if err := rc.Start(ctx); err != nil {
		return err
	}
	defer func() {
		stopCtx, done := context.WithTimeout(context.Background(), 30*time.Second)
		defer done()
		_ = rc.Stop(stopCtx)
	}()

	if o.cpuProfile != "" {
		f, err := os.Create(o.cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	planStart := time.Now()
	counts, err := engine.Plan(ctx, clk.Now())
	if err != nil {
		return err
	}
	planTime := time.Since(planStart)
	fmt.Fprintf(out, "planned %d reminder instants (%d skipped) in %s\n", counts.Planned, counts.Skipped, planTime.Round(time.Millisecond))

	runCtx, stopEngine := context.WithCancel(ctx)
	engineDone := make(chan error, 1)
	go func() { engineDone <- engine.Run(runCtx, false) }()
	defer func() { stopEngine(); <-engineDone }()

	for {
		n, err := delivered(ctx, st.DB())
		if err != nil {
			return err
		}
		if n >= want {
			break
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("only %d of %d reminders delivered: %w", n, want, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
	if err := checkLedger(ctx, out, st, want); err != nil {
		return err
	}
	return report(ctx, out, st, peak, want, planTime)
}

// checkLedger proves the peak went out once: every reminder of the peak
// minute is SENT, the recipients the ledger counts are the notifications
// written, and no user holds a reminder twice.
func checkLedger(ctx context.Context, out io.Writer, st *store.Store, want int) error {
	var sent, recipients, notes, dupes int
	db := st.DB()
	if err := db.QueryRowContext(ctx, `SELECT COUNT(*), COALESCE(SUM(recipients), 0) FROM reminder_ledger
		WHERE kind = 'MEDICATION' AND offset_minutes = 0 AND status = 'SENT'`).Scan(&sent, &recipients); err != nil {
		return err
	}
	if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM notifications WHERE type = 'MEDICATION_REMINDER'`).Scan(&notes); err != nil {
		return err
	}
	if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM (SELECT user_id, dedupe_key FROM notifications
		WHERE type = 'MEDICATION_REMINDER' GROUP BY user_id, dedupe_key HAVING COUNT(*) > 1) AS d`).Scan(&dupes); err != nil {
		return err
	}
	fmt.Fprintf(out, "ledger: %d doses SENT to %d recipients; %d notifications, %d duplicated; peak RSS %s\n",
		sent, recipients, notes, dupes, peakRSS())
	if recipients != want || notes != want || dupes != 0 {
		return fmt.Errorf("ledger check failed: want %d reminders once each", want)
	}
	return nil
}

// peakRSS is the process's peak resident set (VmHWM), seeding included.
func peakRSS() string {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return "unknown"
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}

func openStore(ctx context.Context, pgURL string, clk clock.Clock) (*store.Store, func(), error) {
	opts := store.Options{Clock: clk, MaxConns: 16}
	var cleanup func()
	if pgURL == "" {
		dir, err := os.MkdirTemp("", "reminderbench-")
		if err != nil {
			return nil, nil, err
		}
		opts.SQLitePath = filepath.Join(dir, "bench.db")
		cleanup = func() { os.RemoveAll(dir) }
	} else {
		admin, err := sql.Open("pgx", pgURL)
		if err != nil {
			return nil, nil, err
		}
		buf := make([]byte, 6)
		_, _ = rand.Read(buf)
		schema := "reminderbench_" + hex.EncodeToString(buf)
		if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
			admin.Close()
			return nil, nil, err
		}
		cleanup = func() {
			_, _ = admin.Exec("DROP SCHEMA " + schema + " CASCADE")
			admin.Close()
		}
		u, err := url.Parse(pgURL)
		if err != nil {
			cleanup()
			return nil, nil, err
		}
		q := u.Query()
		q.Set("search_path", schema)
		u.RawQuery = q.Encode()
		opts.DatabaseURL = u.String()
	}
	st, err := store.Open(ctx, opts)
	if err != nil {
		cleanup()
		return nil, nil, err
	}
	if _, err := st.Migrate(ctx); err != nil {
		st.Close()
		cleanup()
		return nil, nil, err
	}
	if err := jobs.Migrate(ctx, st); err != nil {
		st.Close()
		cleanup()
		return nil, nil, err
	}
	return st, func() { st.Close(); cleanup() }, nil
}

// seed creates the families and returns how many reminders the peak sends.
// On PostgreSQL several families are seeded at once (seeding 12,500 families
// one at a time takes a quarter of an hour); SQLite has one writer anyway.
func seed(ctx context.Context, st *store.Store, o options) (int, error) {
	workers := 1
	if st.Dialect() == store.Postgres {
		workers = 8
	}
	next := make(chan int)
	errc := make(chan error, workers)
	for w := 0; w < workers; w++ {
		go func() {
			for f := range next {
				if err := seedFamily(ctx, st, o, f); err != nil {
					errc <- err
					for range next {
					}
					return
				}
			}
			errc <- nil
		}()
	}
	for f := 0; f < o.families; f++ {
		next <- f
	}
	close(next)
	var errs []error
	for w := 0; w < workers; w++ {
		errs = append(errs, <-errc)
	}
	if err := errors.Join(errs...); err != nil {
		return 0, err
	}
	return o.families * o.members * o.meds, nil
}

// seedFamily creates family f: its members, one care recipient and its
// medications, all due at the peak.
func seedFamily(ctx context.Context, st *store.Store, o options, f int) error {
	{
		var famID string
		for m := 0; m < o.members; m++ {
			u, err := st.CreateUser(ctx, store.NewUser{Email: fmt.Sprintf("u%d.%d@bench.test", f, m), PasswordHash: "x",
				FullName: "Bench", Timezone: "UTC", Status: care.UserPending})
			if err != nil {
				return err
			}
			if _, err := st.ActivateUser(ctx, u.ID); err != nil {
				return err
			}
			if m == 0 {
				fam, _, err := st.CreateFamily(ctx, "Bench", u.ID, nil)
				if err != nil {
					return err
				}
				famID = fam.ID
				continue
			}
			tok := auth.HashToken(auth.NewOpaqueToken())
			if _, err := st.CreateInvitation(ctx, store.NewInvitation{FamilyID: famID, Email: u.Email, Role: care.RoleCaregiver,
				InvitedByID: u.ID, TokenHash: tok, TTL: care.InvitationTTL}); err != nil {
				return err
			}
			if _, err := st.AcceptInvitation(ctx, tok, u.ID, u.Email); err != nil {
				return err
			}
		}
		cr, err := st.CreateCareRecipient(ctx, care.CareRecipient{FamilyID: famID, FullName: "Pat", Timezone: "UTC"})
		if err != nil {
			return err
		}
		for i := 0; i < o.meds; i++ {
			if _, err := st.CreateMedication(ctx, care.Medication{CareRecipientID: cr.ID, Name: fmt.Sprintf("Med %d", i),
				Dosage: "1", Form: care.FormTablet, Frequency: care.FrequencyDaily, ScheduledTimes: []string{"08:00"}, IsActive: true}); err != nil {
				return err
			}
		}
	}
	return nil
}

func delivered(ctx context.Context, db *sql.DB) (int, error) {
	var n int
	err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM notifications WHERE type = 'MEDICATION_REMINDER'`).Scan(&n)
	return n, err
}

func report(ctx context.Context, out io.Writer, st *store.Store, peak time.Time, want int, planTime time.Duration) error {
	// When the dispatcher had handed the last reminder to the queue: the
	// rest of the lateness is delivery.
	var lastEnqueued any
	if err := st.DB().QueryRowContext(ctx, `SELECT MAX(enqueued_at) FROM reminder_ledger
		WHERE kind = 'MEDICATION' AND offset_minutes = 0`).Scan(&lastEnqueued); err != nil {
		return err
	}
	if t, ok := parseTime(lastEnqueued); ok {
		fmt.Fprintf(out, "dispatch: every reminder enqueued %s after the peak\n", t.Sub(peak).Round(time.Millisecond))
	}
	rows, err := st.DB().QueryContext(ctx, `SELECT created_at FROM notifications WHERE type = 'MEDICATION_REMINDER'`)
	if err != nil {
		return err
	}
	defer rows.Close()
	var late []time.Duration
	for rows.Next() {
		var raw any
		if err := rows.Scan(&raw); err != nil {
			return err
		}
		t, _ := parseTime(raw)
		late = append(late, t.Sub(peak))
	}
	if err := rows.Err(); err != nil {
		return err
	}
	sort.Slice(late, func(i, j int) bool { return late[i] < late[j] })
	pct := func(d []time.Duration, p float64) time.Duration {
		return d[min(len(d)-1, int(float64(len(d))*p))]
	}
	first := late[:min(1000, len(late))]
	last := late[len(late)-1]
	fmt.Fprintf(out, "| %s | %d | %s | %.0f | %s | %s | %s | %s |\n", st.Dialect(), want, planTime.Round(time.Millisecond),
		float64(want)/max(last.Seconds(), 0.001), pct(late, 0.5).Round(time.Millisecond), pct(late, 0.99).Round(time.Millisecond),
		last.Round(time.Millisecond), pct(first, 0.99).Round(time.Millisecond))
	return nil
}

// parseTime reads a timestamp column as either driver returns it.
func parseTime(raw any) (time.Time, bool) {
	switch v := raw.(type) {
	case time.Time:
		return v, true
	case string:
		t, err := time.Parse(time.RFC3339Nano, v)
		return t, err == nil
	case []byte:
		t, err := time.Parse(time.RFC3339Nano, string(v))
		return t, err == nil
	}
	return time.Time{}, false
}

// shiftedClock is the wall clock shifted to rehearse another instant: it
// runs at real speed from wherever shiftTo put it.
type shiftedClock struct {
	mu sync.Mutex
	by time.Duration
}

func (c *shiftedClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().UTC().Add(c.by)
}

// shiftTo makes Now read t at this moment.
func (c *shiftedClock) shiftTo(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.by = time.Until(t)
}
