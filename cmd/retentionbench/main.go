// Command retentionbench measures how large the embedded SQLite database
// grows over a simulated year of use, with the daily retention job and
// without it. It writes, day by day, what the families' use leaves behind
// (reminder ledger entries, notifications and their deliveries, outbox
// events and their per-consumer progress, email attempts, audit entries, job
// runs, and the dose logs and journal entries that are kept for good), in
// the shapes the server writes them, and with -prune runs the retention job
// at the end of every day with the default settings.
//
//	go run ./cmd/retentionbench -families 100 -days 365
package main

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/carecircle/carecircle/internal/care"
	"github.com/carecircle/carecircle/internal/clock"
	"github.com/carecircle/carecircle/internal/config"
	"github.com/carecircle/carecircle/internal/events"
	"github.com/carecircle/carecircle/internal/retention"
	"github.com/carecircle/carecircle/internal/store"
)

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "retentionbench:", err)
		os.Exit(1)
	}
}

// Load is what one family's day leaves in the database.
type Load struct {
	Members         int // people in the family (user accounts)
	DoseInstants    int // medication doses due a day (2 medications, twice a day)
	ReminderOffsets int // ledger entries per dose instant (30, 15, 5, 0 minutes before)
	ShiftReminders  int // ledger entries for the day's shift (60 and 15 minutes before)
	ReminderTargets int // members each reminder notifies
	Timeline        int // journal entries a day
	EmailsPerDay    int // emails sent for the family a day
	ReadShare       int // percent of notifications read
}

// defaultLoad is a family of four looking after one person with two
// medications taken twice a day and a daily caregiver shift.
var defaultLoad = Load{Members: 4, DoseInstants: 4, ReminderOffsets: 4, ShiftReminders: 2, ReminderTargets: 2,
	Timeline: 2, EmailsPerDay: 4, ReadShare: 90}

// Result is one simulated installation at the end of the period.
type Result struct {
	Prune      bool
	FileBytes  int64 // the database file (after a WAL checkpoint)
	UsedBytes  int64 // pages in use (the file less its free list)
	Rows       map[string]int64
	Elapsed    time.Duration
	PrunedRows int64
}

func run(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("retentionbench", flag.ContinueOnError)
	families := fs.Int("families", 100, "families")
	days := fs.Int("days", 365, "simulated days")
	dir := fs.String("dir", "", "where the databases go (a temporary directory when empty)")
	only := fs.String("only", "", "run only 'prune' or 'keep'")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *dir == "" {
		d, err := os.MkdirTemp("", "retentionbench-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		*dir = d
	}
	cfg, err := config.Load(func(string) string { return "" })
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "%d families of %d, %d days; retention: %s\n", *families, defaultLoad.Members, *days, retentionLine(cfg.Retention))
	var results []Result
	for _, prune := range []bool{false, true} {
		if (*only == "prune" && !prune) || (*only == "keep" && prune) {
			continue
		}
		name := "keep.db"
		if prune {
			name = "prune.db"
		}
		r, err := simulate(ctx, filepath.Join(*dir, name), *families, *days, defaultLoad, prune, cfg.Retention)
		if err != nil {
			return err
		}
		results = append(results, r)
	}
	report(out, results)
	return nil
}

func retentionLine(r config.Retention) string {
	days := func(d time.Duration) string { return fmt.Sprintf("%dd", int(d/(24*time.Hour))) }
	return fmt.Sprintf("read notifications %s, outbox %s, ledger and job runs %s, email log %s, audit %s",
		days(r.Notifications), days(r.Outbox), days(r.Ledger), days(r.EmailLog), days(r.Audit))
}

// simulate writes days of use for families into a new database at path.
func simulate(ctx context.Context, path string, families, days int, load Load, prune bool, policy config.Retention) (Result, error) {
	res := Result{Prune: prune}
	start := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	clk := clock.NewFake(start)
	st, err := store.Open(ctx, store.Options{SQLitePath: path, Clock: clk})
	if err != nil {
		return res, err
	}
	defer st.Close()
	if _, err := st.Migrate(ctx); err != nil {
		return res, err
	}
	fams, err := seedFamilies(ctx, st, families, load)
	if err != nil {
		return res, err
	}
	began := time.Now()
	pruner := &retention.Pruner{Store: st, Clock: clk, Logger: slog.New(slog.DiscardHandler), Policy: policy, Holder: "bench"}
	for d := 0; d < days; d++ {
		day := start.Add(time.Duration(d) * 24 * time.Hour)
		if err := writeDay(ctx, st.DB(), fams, day, load); err != nil {
			return res, fmt.Errorf("day %d: %w", d, err)
		}
		if prune {
			clk.Set(day.Add(24*time.Hour - time.Minute))
			n, err := pruner.RunOnce(ctx)
			if err != nil {
				return res, fmt.Errorf("day %d: prune: %w", d, err)
			}
			res.PrunedRows += n.Total()
		}
	}
	res.Elapsed = time.Since(began)
	if _, err := st.DB().ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
		return res, err
	}
	if res.Rows, err = countRows(ctx, st.DB()); err != nil {
		return res, err
	}
	var pages, free, size int64
	for q, dst := range map[string]*int64{"PRAGMA page_count": &pages, "PRAGMA freelist_count": &free, "PRAGMA page_size": &size} {
		if err := st.DB().QueryRowContext(ctx, q).Scan(dst); err != nil {
			return res, err
		}
	}
	res.UsedBytes = (pages - free) * size
	info, err := os.Stat(path)
	if err != nil {
		return res, err
	}
	res.FileBytes = info.Size()
	return res, nil
}

// family is what the simulation writes rows about.
type family struct {
	id, careRecipient string
	members           []string
	medications       []string
}

func seedFamilies(ctx context.Context, st *store.Store, n int, load Load) ([]family, error) {
	out := make([]family, 0, n)
	for i := 0; i < n; i++ {
		var f family
		for m := 0; m < load.Members; m++ {
			u, err := st.CreateUser(ctx, store.NewUser{Email: fmt.Sprintf("member%d.family%d@example.com", m, i), PasswordHash: strings.Repeat("h", 97),
				FullName: fmt.Sprintf("Member %d of family %d", m, i), Timezone: "Europe/Berlin", Status: care.UserActive})
			if err != nil {
				return nil, err
			}
			f.members = append(f.members, u.ID)
		}
		fam, _, err := st.CreateFamily(ctx, fmt.Sprintf("Family %d", i), f.members[0], nil)
		if err != nil {
			return nil, err
		}
		f.id = fam.ID
		cr, err := st.CreateCareRecipient(ctx, care.CareRecipient{FamilyID: fam.ID, FullName: "Grandma " + fam.Name, Timezone: "Europe/Berlin"})
		if err != nil {
			return nil, err
		}
		f.careRecipient = cr.ID
		for m := 0; m < 2; m++ {
			id := uuid.Must(uuid.NewV7()).String()
			now := ts(time.Now())
			if _, err := st.DB().ExecContext(ctx, `INSERT INTO medications (id, care_recipient_id, name, dosage, form, frequency,
				times_per_day, scheduled_times, is_active, created_at, updated_at) VALUES ($1, $2, $3, '500 mg', 'TABLET', 'TWICE_DAILY', 2,
				'["08:00","20:00"]', TRUE, $4, $4)`, id, cr.ID, fmt.Sprintf("Metformin %d", m), now); err != nil {
				return nil, err
			}
			f.medications = append(f.medications, id)
		}
		out = append(out, f)
	}
	return out, nil
}

const timeLayout = "2006-01-02T15:04:05.000000Z"

func ts(t time.Time) string { return t.UTC().Format(timeLayout) }

func newID() string { return uuid.Must(uuid.NewV7()).String() }

// writeDay writes one day of every family's use in one transaction.
func writeDay(ctx context.Context, db *sql.DB, fams []family, day time.Time, load Load) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }()
	stmts := map[string]string{
		"ledger": `INSERT INTO reminder_ledger (key, kind, entity_id, care_recipient_id, occurrence_at, offset_minutes, fire_at,
			status, reason, recipients, planned_at, enqueued_at, done_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, NULL, $9, $10, $11, $12)`,
		"notification": `INSERT INTO notifications (id, user_id, type, title, body, data, read, read_at, dedupe_key, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		"delivery": `INSERT INTO notification_deliveries (notification_id, channel, target, status, provider, attempts, error, updated_at)
			VALUES ($1, 'push', $2, 'SENT', 'webpush', 1, NULL, $3)`,
		"event": `INSERT INTO outbox_events (id, type, family_id, envelope, created_at, dispatched_at) VALUES ($1, $2, $3, $4, $5, $6)`,
		"progress": `INSERT INTO outbox_deliveries (consumer, event_id, attempts, last_error, next_attempt_at, done_at, gave_up)
			VALUES ($1, $2, 1, NULL, NULL, $3, FALSE)`,
		"email": `INSERT INTO email_attempts (id, at, to_address, template, provider, priority, status, error)
			VALUES ($1, $2, $3, 'medication-reminder', 'brevo', 'ROUTINE', 'SENT', NULL)`,
		"audit": `INSERT INTO audit_log (id, at, actor_id, action, resource_type, resource_id, family_id, ip, user_agent, status, details)
			VALUES ($1, $2, $3, $4, $5, $6, $7, '203.0.113.42', $8, $9, $10)`,
		"dose": `INSERT INTO medication_logs (id, medication_id, given_by_id, scheduled_time, given_time, status, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, 'GIVEN', $5, $5)`,
		"timeline": `INSERT INTO timeline_entries (id, care_recipient_id, created_by_id, type, title, description, severity,
			occurred_at, created_at, updated_at) VALUES ($1, $2, $3, 'NOTE', $4, $5, 'LOW', $6, $6, $6)`,
		"jobrun": `INSERT INTO job_runs (id, job, started_at, duration_ms, items, status, error) VALUES ($1, $2, $3, 4, $4, 'ok', NULL)`,
	}
	prepared := map[string]*sql.Stmt{}
	for k, q := range stmts {
		s, err := tx.PrepareContext(ctx, q)
		if err != nil {
			return fmt.Errorf("%s: %w", k, err)
		}
		defer s.Close()
		prepared[k] = s
	}
	exec := func(k string, args ...any) error {
		if _, err := prepared[k].ExecContext(ctx, args...); err != nil {
			return fmt.Errorf("%s: %w", k, err)
		}
		return nil
	}
	const userAgent = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
	endpoint := "https://web.push.apple.com/QGxH2bX0r1vT9m0aYk7L4pQw8s1c6Zf3nJd5uR2yE0iO7tA9gB4hK8lM3vC6xW1zS5qP2oN7jU0rT4eY9iL3kH6gF8dD1sA5"
	notify := func(f family, n, user string, typ, title, body string, data string, at time.Time, dedupe any) error {
		read, readAt := false, any(nil)
		if hash(n)%100 < uint32(load.ReadShare) {
			read, readAt = true, ts(at.Add(20*time.Minute))
		}
		if err := exec("notification", n, user, typ, title, body, data, read, readAt, dedupe, ts(at)); err != nil {
			return err
		}
		return exec("delivery", n, endpoint+user[:8], ts(at.Add(300*time.Millisecond)))
	}
	event := func(f family, typ, payload string, at time.Time) error {
		id := newID()
		envelope := fmt.Sprintf(`{"id":%q,"type":%q,"version":1,"occurredAt":%q,"familyId":%q,"careRecipientId":%q,"actorId":%q,"data":%s}`,
			id, typ, ts(at), f.id, f.careRecipient, f.members[0], payload)
		if err := exec("event", id, typ, f.id, envelope, ts(at), ts(at.Add(40*time.Millisecond))); err != nil {
			return err
		}
		for _, c := range []string{"channels", "realtime"} {
			if err := exec("progress", c, id, ts(at.Add(60*time.Millisecond))); err != nil {
				return err
			}
		}
		return nil
	}
	audit := func(f family, actor, action, resourceType, resourceID string, status int, at time.Time) error {
		return exec("audit", newID(), ts(at), actor, action, resourceType, resourceID, f.id, userAgent, status,
			fmt.Sprintf(`{"requestId":%q}`, newID()))
	}

	for _, f := range fams {
		// Doses: 08:00 and 20:00 for each medication.
		for i := 0; i < load.DoseInstants; i++ {
			med := f.medications[i%len(f.medications)]
			due := day.Add(time.Duration(8+12*(i/len(f.medications))) * time.Hour)
			for o := 0; o < load.ReminderOffsets; o++ {
				offset := []int{30, 15, 5, 0}[o%4]
				fire := due.Add(-time.Duration(offset) * time.Minute)
				key := fmt.Sprintf("MEDICATION:%s:%s:%d", med, due.Format(time.RFC3339), offset)
				if err := exec("ledger", key, "MEDICATION", med, f.careRecipient, ts(due), offset, ts(fire), "SENT",
					load.ReminderTargets, ts(fire.Add(-15*time.Minute)), ts(fire), ts(fire.Add(time.Second))); err != nil {
					return err
				}
				data := fmt.Sprintf(`{"medicationId":%q,"careRecipientId":%q,"scheduledTime":%q,"offsetMinutes":%d}`, med, f.careRecipient, ts(due), offset)
				for r := 0; r < load.ReminderTargets; r++ {
					user := f.members[r%len(f.members)]
					if err := notify(f, newID(), user, "MEDICATION_REMINDER", "Time for Metformin 500 mg",
						fmt.Sprintf("Grandma's Metformin 500 mg is due at %s.", due.Format("15:04")), data, fire, key); err != nil {
						return err
					}
				}
				if err := event(f, events.MedicationReminder, data, fire); err != nil {
					return err
				}
			}
			// The dose is logged: a log row, an event, the others told, an audit entry.
			given := due.Add(4 * time.Minute)
			logID := newID()
			if err := exec("dose", logID, med, f.members[1], ts(due), ts(given)); err != nil {
				return err
			}
			data := fmt.Sprintf(`{"logId":%q,"medicationId":%q,"status":"GIVEN","scheduledTime":%q}`, logID, med, ts(due))
			if err := event(f, events.MedicationLogged, data, given); err != nil {
				return err
			}
			for _, user := range f.members {
				if user == f.members[1] {
					continue
				}
				if err := notify(f, newID(), user, "MEDICATION_LOGGED", "Metformin 500 mg given",
					"Member 1 gave Grandma her Metformin 500 mg at "+given.Format("15:04")+".", data, given, nil); err != nil {
					return err
				}
			}
			if err := audit(f, f.members[1], "POST /medications/{id}/log", "medication", med, 201, given); err != nil {
				return err
			}
		}
		// The shift's two reminders and check-in, check-out.
		for s := 0; s < load.ShiftReminders; s++ {
			shift := newID()
			fire := day.Add(8*time.Hour - time.Duration([]int{60, 15}[s%2])*time.Minute)
			key := fmt.Sprintf("SHIFT:%s:%s:%d", shift, day.Add(8*time.Hour).Format(time.RFC3339), []int{60, 15}[s%2])
			if err := exec("ledger", key, "SHIFT", shift, f.careRecipient, ts(day.Add(8*time.Hour)), []int{60, 15}[s%2], ts(fire), "SENT",
				1, ts(fire.Add(-15*time.Minute)), ts(fire), ts(fire.Add(time.Second))); err != nil {
				return err
			}
			data := fmt.Sprintf(`{"shiftId":%q,"careRecipientId":%q}`, shift, f.careRecipient)
			if err := notify(f, newID(), f.members[2], "SHIFT_REMINDER", "Your shift starts soon", "Your shift with Grandma starts at 08:00.", data, fire, key); err != nil {
				return err
			}
			if err := event(f, []string{events.ShiftCheckedIn, events.ShiftCheckedOut}[s%2], data, fire.Add(time.Hour)); err != nil {
				return err
			}
			if err := audit(f, f.members[2], "POST /shifts/{id}/check-in", "shift", shift, 200, fire.Add(time.Hour)); err != nil {
				return err
			}
		}
		// Journal entries, each an event, told to the others, audited.
		for j := 0; j < load.Timeline; j++ {
			at := day.Add(time.Duration(11+4*j) * time.Hour)
			id := newID()
			if err := exec("timeline", id, f.careRecipient, f.members[0], "Afternoon walk",
				"Walked to the park and back, about 20 minutes. Good appetite at lunch; a little tired afterwards.", ts(at)); err != nil {
				return err
			}
			data := fmt.Sprintf(`{"entryId":%q,"type":"NOTE","title":"Afternoon walk"}`, id)
			if err := event(f, events.TimelineEntryCreated, data, at); err != nil {
				return err
			}
			for _, user := range f.members[1:] {
				if err := notify(f, newID(), user, "TIMELINE_ENTRY", "New journal entry", "Member 0 wrote: Afternoon walk", data, at, nil); err != nil {
					return err
				}
			}
			if err := audit(f, f.members[0], "POST /care-recipients/{id}/timeline", "timeline_entry", id, 201, at); err != nil {
				return err
			}
		}
		for e := 0; e < load.EmailsPerDay; e++ {
			if err := exec("email", newID(), ts(day.Add(time.Duration(7+e)*time.Hour)), fmt.Sprintf("member%d.%s@example.com", e%load.Members, f.id[:8])); err != nil {
				return err
			}
		}
	}
	// The installation's periodic jobs: the planner every minute, the
	// failed-jobs monitor every five.
	for m := 0; m < 24*60; m++ {
		at := day.Add(time.Duration(m) * time.Minute)
		if err := exec("jobrun", newID(), "reminder-planner", ts(at), m%7); err != nil {
			return err
		}
		if m%5 == 0 {
			if err := exec("jobrun", newID(), "failed-jobs-monitor", ts(at), 0); err != nil {
				return err
			}
		}
	}
	return tx.Commit()
}

// hash spreads ids over 0..2^32 for the read/unread split.
func hash(s string) uint32 {
	var h uint32 = 2166136261
	for i := 0; i < len(s); i++ {
		h = (h ^ uint32(s[i])) * 16777619
	}
	return h
}

func countRows(ctx context.Context, db *sql.DB) (map[string]int64, error) {
	out := map[string]int64{}
	for _, t := range []string{"reminder_ledger", "notifications", "notification_deliveries", "outbox_events", "outbox_deliveries",
		"email_attempts", "audit_log", "job_runs", "medication_logs", "timeline_entries"} {
		var n int64
		if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+t).Scan(&n); err != nil {
			return nil, fmt.Errorf("count %s: %w", t, err)
		}
		out[t] = n
	}
	return out, nil
}

func report(out io.Writer, results []Result) {
	if len(results) == 0 {
		return
	}
	fmt.Fprintf(out, "\n| | %s |\n|---|%s\n", strings.Join(mapResults(results, func(r Result) string {
		if r.Prune {
			return "with retention (defaults)"
		}
		return "without retention"
	}), " | "), strings.Repeat("---|", len(results)))
	fmt.Fprintf(out, "| database file | %s |\n", strings.Join(mapResults(results, func(r Result) string { return mib(r.FileBytes) }), " | "))
	fmt.Fprintf(out, "| pages in use | %s |\n", strings.Join(mapResults(results, func(r Result) string { return mib(r.UsedBytes) }), " | "))
	var tables []string
	for t := range results[0].Rows {
		tables = append(tables, t)
	}
	sort.Strings(tables)
	for _, t := range tables {
		fmt.Fprintf(out, "| `%s` rows | %s |\n", t, strings.Join(mapResults(results, func(r Result) string { return thousands(r.Rows[t]) }), " | "))
	}
	fmt.Fprintf(out, "| rows pruned | %s |\n", strings.Join(mapResults(results, func(r Result) string { return thousands(r.PrunedRows) }), " | "))
	fmt.Fprintf(out, "| time to simulate | %s |\n", strings.Join(mapResults(results, func(r Result) string { return r.Elapsed.Round(time.Second).String() }), " | "))
}

func mapResults(rs []Result, f func(Result) string) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = f(r)
	}
	return out
}

func mib(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

func thousands(n int64) string {
	s := fmt.Sprint(n)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}
