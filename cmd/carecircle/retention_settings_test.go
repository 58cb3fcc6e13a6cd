package main

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/carecircle/carecircle/internal/care"
	"github.com/carecircle/carecircle/internal/clock"
	"github.com/carecircle/carecircle/internal/store"
)

// seedAgedRecords writes, through a store whose clock says when, one record
// of every kind retention governs at each age, tagged with the age in days.
func seedAgedRecords(t *testing.T, dataDir string, ages ...int) {
	t.Helper()
	ctx := context.Background()
	now := time.Now().UTC()
	clk := clock.NewFake(now.Add(-30 * 24 * time.Hour))
	st, err := store.Open(ctx, store.Options{SQLitePath: filepath.Join(dataDir, "carecircle.db"), Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	u, err := st.CreateUser(ctx, store.NewUser{Email: "aged@example.com", PasswordHash: "x", FullName: "Aged", Timezone: "UTC", Status: care.UserActive})
	if err != nil {
		t.Fatal(err)
	}
	fam, _, err := st.CreateFamily(ctx, "Aged family", u.ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	cr, err := st.CreateCareRecipient(ctx, care.CareRecipient{FamilyID: fam.ID, FullName: "Pat", Timezone: "UTC"})
	if err != nil {
		t.Fatal(err)
	}
	for _, days := range ages {
		at := now.Add(-time.Duration(days) * 24 * time.Hour)
		tag := string(rune('0' + days))
		clk.Set(at)
		ns, err := st.InsertNotifications(ctx, []care.Notification{{UserID: u.ID, Type: "SYSTEM", Title: tag, Body: "b"}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.MarkNotificationsRead(ctx, u.ID, []string{ns[0].ID}); err != nil {
			t.Fatal(err)
		}
		if err := st.AppendEvent(ctx, store.OutboxEvent{ID: uuid.NewString(), Type: "aged." + tag, Envelope: []byte(`{}`)}); err != nil {
			t.Fatal(err)
		}
		pending, err := st.PendingEvents(ctx, 10)
		if err != nil {
			t.Fatal(err)
		}
		ok, token, err := st.AcquireLease(ctx, "aged-"+tag, "seed", time.Minute)
		if err != nil || !ok {
			t.Fatal(ok, err)
		}
		var seqs []int64
		for _, e := range pending {
			seqs = append(seqs, e.Seq)
		}
		if err := st.MarkDispatched(ctx, store.Lease{Name: "aged-" + tag, Holder: "seed", Token: token}, seqs); err != nil {
			t.Fatal(err)
		}
		// Planned after its fire time: recorded SKIPPED, a finished entry.
		if _, err := st.RecordPlan(ctx, "aged-"+tag, at, []store.LedgerEntry{{Key: "aged-" + tag, Kind: "MEDICATION",
			EntityID: cr.ID, CareRecipientID: cr.ID, OccurrenceAt: at.Add(-time.Hour), FireAt: at.Add(-time.Hour)}}, at); err != nil {
			t.Fatal(err)
		}
		if err := st.RecordJobRun(ctx, store.JobRun{Job: "aged-" + tag, StartedAt: at, Status: "ok"}); err != nil {
			t.Fatal(err)
		}
		if err := st.RecordEmailAttempt(ctx, store.EmailAttempt{At: at, To: u.Email, Template: tag, Priority: "routine", Status: "SENT"}); err != nil {
			t.Fatal(err)
		}
		if _, err := st.AppendAudit(ctx, store.AuditEntry{Action: "aged " + tag, Status: 200}); err != nil {
			t.Fatal(err)
		}
	}
}

// settingsRetention starts a node on a database holding records 1, 3 and 5
// days old; with every retention at 2 days and the audit's at 4, the daily
// job (due at once on a database where it never ran) keeps the 1-day-old
// records and the 3-day-old audit entry, and prunes the rest. With the
// defaults (90 days and more) all of them would stay.
func settingsRetention(t *testing.T) {
	env, st := processData(t, "sqlite", freePort(t))
	seedAgedRecords(t, env["DATA_DIR"], 1, 3, 5)
	for k, v := range map[string]string{"NOTIFICATION_RETENTION": "2d", "OUTBOX_RETENTION": "48h", "LEDGER_RETENTION": "2d",
		"EMAIL_LOG_RETENTION": "2d", "AUDIT_RETENTION": "4d"} {
		env[k] = v
	}
	startApp(t, env)
	db := st.DB()
	eventually(t, 60*time.Second, "a recorded retention run", func() bool {
		return countRows(t, db, `SELECT COUNT(*) FROM job_runs WHERE job = 'retention' AND status = 'ok'`) > 0
	})
	for _, c := range []struct {
		what, query string
		want        int
	}{
		{"NOTIFICATION_RETENTION=2d: read notifications left", `SELECT COUNT(*) FROM notifications WHERE title IN ('1', '3', '5')`, 1},
		{"… the 1-day-old one", `SELECT COUNT(*) FROM notifications WHERE title = '1'`, 1},
		{"OUTBOX_RETENTION=48h: dispatched events left", `SELECT COUNT(*) FROM outbox_events WHERE type LIKE 'aged.%'`, 1},
		{"LEDGER_RETENTION=2d: finished ledger entries left", `SELECT COUNT(*) FROM reminder_ledger WHERE key LIKE 'aged-%'`, 1},
		{"… and job runs", `SELECT COUNT(*) FROM job_runs WHERE job LIKE 'aged-%'`, 1},
		{"EMAIL_LOG_RETENTION=2d: email attempts left", `SELECT COUNT(*) FROM email_attempts WHERE template IN ('1', '3', '5')`, 1},
		{"AUDIT_RETENTION=4d: audit entries left (1 and 3 days old)", `SELECT COUNT(*) FROM audit_log WHERE action LIKE 'aged %'`, 2},
		{"… not the 5-day-old one", `SELECT COUNT(*) FROM audit_log WHERE action = 'aged 5'`, 0},
	} {
		if n := countRows(t, db, c.query); n != c.want {
			t.Errorf("%s: %d, want %d", c.what, n, c.want)
		}
	}
}
