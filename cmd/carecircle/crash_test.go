package main

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/carecircle/carecircle/internal/care"
	"github.com/carecircle/carecircle/internal/clock"
	"github.com/carecircle/carecircle/internal/jobs"
	"github.com/carecircle/carecircle/internal/store"
	"github.com/carecircle/carecircle/internal/store/storetest"
)

// binaryOnce builds the carecircle binary once for the tests that run it as
// a separate process.
type builtBinary struct {
	once sync.Once
	path string
	err  error
}

func (b *builtBinary) get(t testing.TB) string {
	t.Helper()
	b.once.Do(func() {
		dir, err := os.MkdirTemp("", "carecircle-bin-")
		if err != nil {
			b.err = err
			return
		}
		b.path = filepath.Join(dir, "carecircle")
		out, err := exec.Command("go", "build", "-o", b.path, ".").CombinedOutput()
		if err != nil {
			b.err = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if b.err != nil {
		t.Fatal(b.err)
	}
	return b.path
}

var binary builtBinary

func TestMain(m *testing.M) {
	code := m.Run()
	if binary.path != "" {
		os.RemoveAll(filepath.Dir(binary.path))
	}
	os.Exit(code)
}

// process is a running carecircle binary.
type process struct {
	cmd *exec.Cmd
	log *os.File
}

func startProcess(t testing.TB, env map[string]string, args ...string) *process {
	t.Helper()
	logFile, err := os.CreateTemp(t.TempDir(), "carecircle-*.log")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(binary.get(t), args...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &process{cmd: cmd, log: logFile}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_, _ = cmd.Process.Wait()
		}
		if t.Failed() {
			b, _ := os.ReadFile(logFile.Name())
			t.Logf("server log:\n%s", b)
		}
	})
	return p
}

// kill ends the process with SIGKILL, as a crash or an OOM killer would.
func (p *process) kill(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_, _ = p.cmd.Process.Wait()
}

// crashFixture is one family with many medications all due at the same minute.
type crashFixture struct {
	st     *store.Store
	userID string
	due    time.Time
	meds   int
}

// newCrashFixture creates meds daily medications for one care recipient in
// UTC, all due at the first whole minute at least lead from now.
func newCrashFixture(t *testing.T, st *store.Store, meds int, lead time.Duration) *crashFixture {
	t.Helper()
	ctx := context.Background()
	u, err := st.CreateUser(ctx, store.NewUser{Email: "crash@example.com", PasswordHash: "x", FullName: "Crash", Timezone: "UTC", Status: care.UserPending})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.ActivateUser(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	fam, _, err := st.CreateFamily(ctx, "Crash family", u.ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	cr, err := st.CreateCareRecipient(ctx, care.CareRecipient{FamilyID: fam.ID, FullName: "Pat", Timezone: "UTC"})
	if err != nil {
		t.Fatal(err)
	}
	due := time.Now().UTC().Add(lead).Truncate(time.Minute).Add(time.Minute)
	at := fmt.Sprintf("%02d:%02d", due.Hour(), due.Minute())
	for i := 0; i < meds; i++ {
		if _, err := st.CreateMedication(ctx, care.Medication{CareRecipientID: cr.ID, Name: "Med " + strconv.Itoa(i), Dosage: "1",
			Form: care.FormTablet, Frequency: care.FrequencyDaily, ScheduledTimes: []string{at}, IsActive: true}); err != nil {
			t.Fatal(err)
		}
	}
	return &crashFixture{st: st, userID: u.ID, due: due, meds: meds}
}

func countRows(t *testing.T, db *sql.DB, query string, args ...any) int {
	t.Helper()
	var n int
	if err := db.QueryRow(query, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestCrashDuringDeliveryDeliversEachReminderOnce runs the real binary with
// 2,000 reminders falling due together, kills it with SIGKILL once delivery
// has begun, restarts it, and checks that every reminder reached its
// recipient exactly once and the ledger agrees.
func TestCrashDuringDeliveryDeliversEachReminderOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the binary for about two minutes")
	}
	t.Parallel()
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			env, st := processData(t, backend, freePort(t))
			// 1,000 doses due at the same minute: each gets its 5-minute
			// reminder at once (within the grace period) and its on-time one
			// at the minute: 2,000 reminders.
			f := newCrashFixture(t, st, 1000, 20*time.Second)
			const want = 2000
			// Delivered: written and shown, not staged ahead of the instant.
			count := func() int {
				return countRows(t, st.DB(), `SELECT COUNT(*) FROM notifications WHERE user_id = $1 AND type = 'MEDICATION_REMINDER'
					AND NOT EXISTS (SELECT 1 FROM reminder_ledger l WHERE l.key = notifications.dedupe_key AND l.status = 'STAGED')`, f.userID)
			}

			p := startProcess(t, env)
			deadline := time.Now().Add(3 * time.Minute)
			for count() == 0 {
				if time.Now().After(deadline) {
					t.Fatal("no reminder was delivered")
				}
				time.Sleep(2 * time.Millisecond)
			}
			p.kill(t)
			atKill := count()
			t.Logf("killed with %d of %d reminders delivered", atKill, want)

			startProcess(t, env)
			for count() < want || countRows(t, st.DB(), `SELECT COUNT(*) FROM reminder_ledger WHERE status IN ('PLANNED', 'ENQUEUED', 'STAGED')`) > 0 {
				if time.Now().After(deadline.Add(4 * time.Minute)) {
					t.Fatalf("only %d of %d reminders delivered", count(), want)
				}
				time.Sleep(50 * time.Millisecond)
			}
			if got := count(); got != want {
				t.Fatalf("%d reminders delivered, want exactly %d", got, want)
			}
			sent := countRows(t, st.DB(), `SELECT COUNT(*) FROM reminder_ledger WHERE status = 'SENT' AND kind = 'MEDICATION'`)
			recipients := countRows(t, st.DB(), `SELECT COALESCE(SUM(recipients), 0) FROM reminder_ledger WHERE status = 'SENT' AND kind = 'MEDICATION'`)
			distinct := countRows(t, st.DB(), `SELECT COUNT(DISTINCT dedupe_key) FROM notifications WHERE user_id = $1 AND type = 'MEDICATION_REMINDER'`, f.userID)
			if sent != want || recipients != want || distinct != want {
				t.Fatalf("ledger sent=%d recipients=%d, distinct notifications=%d; want %d each", sent, recipients, distinct, want)
			}
			// Each reads as care.MedicationDueText words it, with the minutes
			// left when it went out (at most its offset).
			checkReminderWording(t, st, f.due)
			// The on-time reminders left at their minute, not at the next poll.
			var worst float64
			rows, err := st.DB().Query(`SELECT l.fire_at, n.created_at FROM reminder_ledger l JOIN notifications n ON n.dedupe_key = l.key
				WHERE l.offset_minutes = 0 AND l.kind = 'MEDICATION'`)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			for rows.Next() {
				var fire, created string
				var fireT, createdT time.Time
				if backend == "postgres" {
					if err := rows.Scan(&fireT, &createdT); err != nil {
						t.Fatal(err)
					}
				} else {
					if err := rows.Scan(&fire, &created); err != nil {
						t.Fatal(err)
					}
					fireT, _ = time.Parse(time.RFC3339Nano, fire)
					createdT, _ = time.Parse(time.RFC3339Nano, created)
				}
				worst = max(worst, createdT.Sub(fireT).Seconds())
			}
			t.Logf("on-time reminders: worst lateness %.2fs", worst)
			if worst > 30 {
				t.Fatalf("an on-time reminder was %.1fs late", worst)
			}
		})
	}
}

// checkReminderWording checks every medication reminder the binary wrote
// against the one place reminder texts are built, for a dose due at due.
func checkReminderWording(t *testing.T, st *store.Store, due time.Time) {
	t.Helper()
	ctx := context.Background()
	rows, err := st.DB().QueryContext(ctx, `SELECT n.title, n.body, l.entity_id, l.care_recipient_id, l.offset_minutes
		FROM reminder_ledger l JOIN notifications n ON n.dedupe_key = l.key WHERE l.kind = 'MEDICATION'`)
	if err != nil {
		t.Fatal(err)
	}
	type reminder struct {
		title, body, medID, crID string
		offset                   int
	}
	var all []reminder
	for rows.Next() {
		var r reminder
		if err := rows.Scan(&r.title, &r.body, &r.medID, &r.crID, &r.offset); err != nil {
			t.Fatal(err)
		}
		all = append(all, r)
	}
	rows.Close()
	if len(all) == 0 {
		t.Fatal("no medication reminder to check the wording of")
	}
	for _, r := range all {
		cr, err := st.CareRecipient(ctx, r.crID)
		if err != nil {
			t.Fatal(err)
		}
		med, err := st.Medication(ctx, r.medID)
		if err != nil {
			t.Fatal(err)
		}
		worded := false
		for left := 0; left <= r.offset && !worded; left++ {
			want := care.MedicationDueText(cr, med, due, left)
			worded = r.title == want.Title && r.body == want.Body
		}
		if !worded {
			t.Fatalf("reminder %q / %q (offset %d min) is not how care.MedicationDueText words it", r.title, r.body, r.offset)
		}
	}
}

// processData prepares what a carecircle process of the test runs on: a
// data directory and, for "postgres", a schema of its own, migrated (the
// jobs' tables too), with the store the test reads it through (closed when
// the test ends) and the process's environment for the port.
func processData(t *testing.T, backend string, port int) (map[string]string, *store.Store) {
	t.Helper()
	dataDir := t.TempDir()
	env := map[string]string{"DATA_DIR": dataDir, "PORT": strconv.Itoa(port), "LOG_LEVEL": "warn", "RATE_LIMIT_ENABLED": "false"}
	opts := store.Options{SQLitePath: filepath.Join(dataDir, "carecircle.db"), Clock: clock.Real{}}
	if backend == "postgres" {
		env["DATABASE_URL"] = storetest.NewPostgresSchema(t)
		opts = store.Options{DatabaseURL: env["DATABASE_URL"], Clock: clock.Real{}}
	}
	ctx := context.Background()
	st, err := store.Open(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if _, err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if err := jobs.Migrate(ctx, st); err != nil {
		t.Fatal(err)
	}
	return env, st
}
