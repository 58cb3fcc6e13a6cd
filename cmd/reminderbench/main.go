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
// With -stage (the engine's default) the reminders are staged during those
// 30 seconds and sent at the instant; -stage 0 decides and writes them all
// at the instant. An outbox dispatcher hands the reminder events to a
// consumer that notes when each arrives: where the realtime node publishes
// them to the family's sockets.
package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
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
	"github.com/carecircle/carecircle/internal/events"
	"github.com/carecircle/carecircle/internal/jobs"
	"github.com/carecircle/carecircle/internal/outbox"
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
	stage                   time.Duration
	senders                 int
	pushEvery               int
	inlineChannels          bool
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
	fs.DurationVar(&o.stage, "stage", jobs.DefaultEngineConfig().StageAhead, "stage reminders this long before their instant (0: decide and write them at the instant)")
	fs.IntVar(&o.senders, "senders", 0, "transactions sending staged reminders at once (0: the engine's default)")
	fs.IntVar(&o.pushEvery, "push-every", 5, "subscribe one user in this many to web push at a local HTTPS push service (0: none)")
	fs.BoolVar(&o.inlineChannels, "inline-channels", false, "send push in the outbox dispatcher's pass, not through the notifications queue (as QUEUE_ENABLED=false does)")
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

	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	cfg := jobs.DefaultEngineConfig()
	cfg.QueueEnabled = o.queue
	// A one-minute grace keeps the peak's earlier offsets (30, 15, 5 minutes
	// before) out of the measurement: they are recorded as skipped.
	cfg.Grace = time.Minute
	cfg.StageAhead = o.stage
	cfg.Senders = o.senders
	engine := jobs.NewEngine(st, nil, clk, logger, cfg)
	// Push, as the application sends it: the outbox's channels consumer
	// queues each event's notifications on the notifications queue, whose
	// workers send them to the push service.
	push := newPushService(clk)
	defer push.srv.Close()
	subscribed := 0
	if o.pushEvery > 0 {
		if subscribed, err = push.subscribe(ctx, st, o.pushEvery); err != nil {
			return err
		}
	}
	clk.shiftTo(peak.Add(-30 * time.Second))
	deliverer, err := push.deliverer(st, clk, logger)
	if err != nil {
		return err
	}
	channels := jobs.NewChannels(deliverer)
	rc, err := jobs.NewClient(st, engine.Workers(), jobs.ClientConfig{Work: true, Logger: logger, Channels: channels})
	if err != nil {
		return err
	}
	engine.SetRiver(rc)
	if !o.inlineChannels {
		channels.SetRiver(rc)
	}
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

	doses := want / o.members
	published := newPublications()
	dispatcher := outbox.New(st, clk, logger, outbox.Options{}, channels, outbox.ConsumerFunc{ConsumerName: "sockets", Fn: published.take(clk)})
	pushes := subscribed * o.meds // each subscribed member gets every peak reminder of the family
	runCtx, stopEngine := context.WithCancel(ctx)
	engineDone := make(chan error, 2)
	go func() { engineDone <- engine.Run(runCtx, false) }()
	go func() { engineDone <- dispatcher.Run(runCtx) }()
	defer func() { stopEngine(); <-engineDone; <-engineDone }()

	for {
		n, err := done(ctx, st.DB())
		if err != nil {
			return err
		}
		if n >= doses && published.count() >= doses && push.count() >= pushes {
			break
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%d of %d doses done, %d published, %d of %d pushed: %w", n, doses, published.count(), push.count(), pushes, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
	if err := checkLedger(ctx, out, st, want); err != nil {
		return err
	}
	if got := push.count(); got != pushes {
		return fmt.Errorf("%d push messages for %d subscribed members' reminders", got, pushes)
	}
	return report(ctx, out, st, peak, want, planTime, o.stage, o.senders, o.inlineChannels, published, push.received())
}

// publications notes when each reminder event reached the consumer, with
// how many notifications it announced.
type publications struct {
	mu   sync.Mutex
	late []weighted
}

type weighted struct {
	at time.Time
	n  int
}

func newPublications() *publications { return &publications{} }

func (p *publications) take(clk clock.Clock) func(context.Context, events.Event) error {
	return func(_ context.Context, e events.Event) error {
		if e.Type != events.MedicationReminder {
			return nil
		}
		var d struct {
			UserIDs []string `json:"userIds"`
		}
		if err := json.Unmarshal(e.Data, &d); err != nil {
			return err
		}
		p.mu.Lock()
		defer p.mu.Unlock()
		p.late = append(p.late, weighted{at: clk.Now(), n: len(d.UserIDs)})
		return nil
	}
}

func (p *publications) count() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.late)
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

// done counts the peak's doses whose ledger entry is finished.
func done(ctx context.Context, db *sql.DB) (int, error) {
	var n int
	err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM reminder_ledger WHERE kind = 'MEDICATION' AND offset_minutes = 0
		AND status IN ('SENT', 'SUPPRESSED', 'SKIPPED')`).Scan(&n)
	return n, err
}

// report prints the peak's figures. A notification is visible when its
// ledger entry is done (it commits with the entry), and published when the
// event announcing it reaches the consumer.
func report(ctx context.Context, out io.Writer, st *store.Store, peak time.Time, want int, planTime, stage time.Duration, senders int, inline bool, pub *publications, pushed []time.Time) error {
	// When the last reminder was staged, or handed to the queue: the rest
	// of the lateness is sending.
	var lastHanded any
	if err := st.DB().QueryRowContext(ctx, `SELECT MAX(enqueued_at) FROM reminder_ledger
		WHERE kind = 'MEDICATION' AND offset_minutes = 0`).Scan(&lastHanded); err != nil {
		return err
	}
	if t, ok := parseTime(lastHanded); ok {
		what := "enqueued"
		if stage > 0 {
			what = "staged"
		}
		when := t.Sub(peak).Round(time.Millisecond)
		side := "after"
		if when < 0 {
			when, side = -when, "before"
		}
		fmt.Fprintf(out, "every reminder %s %s %s the peak\n", what, when, side)
	}
	rows, err := st.DB().QueryContext(ctx, `SELECT l.done_at FROM notifications n JOIN reminder_ledger l ON l.key = n.dedupe_key
		WHERE n.type = 'MEDICATION_REMINDER'`)
	if err != nil {
		return err
	}
	defer rows.Close()
	var visible []time.Duration
	for rows.Next() {
		var raw any
		if err := rows.Scan(&raw); err != nil {
			return err
		}
		t, _ := parseTime(raw)
		visible = append(visible, t.Sub(peak))
	}
	if err := rows.Err(); err != nil {
		return err
	}
	var published []time.Duration
	for _, w := range pub.late {
		for range w.n {
			published = append(published, w.at.Sub(peak))
		}
	}
	var pushLate []time.Duration
	for _, t := range pushed {
		pushLate = append(pushLate, t.Sub(peak))
	}
	if len(visible) == 0 || len(published) == 0 {
		return fmt.Errorf("nothing to report: %d visible, %d published", len(visible), len(published))
	}
	for _, d := range [][]time.Duration{visible, published, pushLate} {
		sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
	}
	pct := func(d []time.Duration, p float64) string {
		if len(d) == 0 {
			return "–"
		}
		return d[min(len(d)-1, int(float64(len(d))*p))].Round(time.Millisecond).String()
	}
	last := max(visible[len(visible)-1], published[len(published)-1])
	mode := "at the instant"
	if stage > 0 {
		mode = "staged " + stage.String() + " ahead"
		if senders > 0 {
			mode += fmt.Sprintf(", %d senders", senders)
		}
	}
	if inline {
		mode += ", push in the pass"
	}
	fmt.Fprintln(out, "| backend | reminders | planning | mode | delivered/s | visible p50 | p99 | max | published p50 | p99 | max | pushes | push p50 | p99 | max | peak RSS |")
	fmt.Fprintf(out, "| %s | %d | %s | %s | %.0f | %s | %s | %s | %s | %s | %s | %d | %s | %s | %s | %s |\n", st.Dialect(), want, planTime.Round(time.Millisecond),
		mode, float64(want)/max(last.Seconds(), 0.001), pct(visible, 0.5), pct(visible, 0.99), pct(visible, 1),
		pct(published, 0.5), pct(published, 0.99), pct(published, 1), len(pushLate), pct(pushLate, 0.5), pct(pushLate, 0.99), pct(pushLate, 1), peakRSS())
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
