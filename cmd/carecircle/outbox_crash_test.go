package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/carecircle/carecircle/internal/auth"
	"github.com/carecircle/carecircle/internal/care"
	"github.com/carecircle/carecircle/internal/mail"
	"github.com/carecircle/carecircle/internal/notify"
	"github.com/carecircle/carecircle/internal/realtime"
	"github.com/carecircle/carecircle/internal/store"
)

// outboxFamily is a family of three active members (an admin and two
// caregivers, each with an email address) caring for one person with many
// daily medications due at the same minute.
type outboxFamily struct {
	emails []string
	meds   map[string]string // medication id → name
	due    time.Time
}

// newOutboxFamily creates the family in st with meds medications due at the
// first whole minute at least three minutes from now: their 5-minute
// reminders are due at once (within the grace period), their on-time ones
// only after the test.
func newOutboxFamily(t *testing.T, st *store.Store, meds int) *outboxFamily {
	t.Helper()
	ctx := context.Background()
	f := &outboxFamily{meds: map[string]string{}}
	user := func(email string) *care.User {
		u, err := st.CreateUser(ctx, store.NewUser{Email: email, PasswordHash: "x", FullName: email[:3], Timezone: "UTC", Status: care.UserPending})
		if err != nil {
			t.Fatal(err)
		}
		if u, err = st.ActivateUser(ctx, u.ID); err != nil {
			t.Fatal(err)
		}
		f.emails = append(f.emails, email)
		return u
	}
	admin := user("ada@example.com")
	fam, _, err := st.CreateFamily(ctx, "Outbox family", admin.ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, email := range []string{"bea@example.com", "cid@example.com"} {
		u := user(email)
		tok := auth.NewOpaqueToken()
		if _, err := st.CreateInvitation(ctx, store.NewInvitation{FamilyID: fam.ID, Email: email, Role: care.RoleCaregiver,
			InvitedByID: admin.ID, TokenHash: auth.HashToken(tok), TTL: care.InvitationTTL}); err != nil {
			t.Fatal(err)
		}
		if _, err := st.AcceptInvitation(ctx, auth.HashToken(tok), u.ID, email); err != nil {
			t.Fatal(err)
		}
	}
	cr, err := st.CreateCareRecipient(ctx, care.CareRecipient{FamilyID: fam.ID, FullName: "Pat", Timezone: "UTC"})
	if err != nil {
		t.Fatal(err)
	}
	f.due = time.Now().UTC().Add(3 * time.Minute).Truncate(time.Minute).Add(time.Minute)
	at := fmt.Sprintf("%02d:%02d", f.due.Hour(), f.due.Minute())
	for i := range meds {
		m, err := st.CreateMedication(ctx, care.Medication{CareRecipientID: cr.ID, Name: fmt.Sprintf("Med-%04d", i), Dosage: "1 tablet",
			Form: care.FormTablet, Frequency: care.FrequencyDaily, ScheduledTimes: []string{at}, IsActive: true})
		if err != nil {
			t.Fatal(err)
		}
		f.meds[m.ID] = m.Name
	}
	return f
}

// healthBacklog reads the outbox backlog a process reports on /health; ok is
// false while it does not answer (starting up).
func healthBacklog(base string) (pending int, ok bool) {
	res, err := http.Get(base + "/health")
	if err != nil {
		return 0, false
	}
	defer res.Body.Close()
	var h struct {
		Components struct {
			Outbox *struct {
				Status  string `json:"status"`
				Pending int    `json:"pending"`
			} `json:"outbox"`
		} `json:"components"`
	}
	b, _ := io.ReadAll(res.Body)
	if json.Unmarshal(b, &h) != nil || h.Components.Outbox == nil || h.Components.Outbox.Status != "up" {
		return 0, false
	}
	return h.Components.Outbox.Pending, true
}

// countEmails counts the emails written to the mail outbox dir.
func countEmails(dir string) int {
	entries, _ := os.ReadDir(dir)
	n := 0
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".eml") && !strings.HasPrefix(e.Name(), ".") {
			n++
		}
	}
	return n
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t testing.TB, deadline time.Time, what string, cond func() bool) {
	t.Helper()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

var reminderSubject = regexp.MustCompile(`^Reminder: (.+) for Pat at `)

// TestCrashBetweenCommitAndDispatchDeliversEachEventOnce runs the real
// binary (role all) while a burst of medication reminders commits, each
// reminder notifying the three members of a family in the transaction that
// appends its domain event. It kills the process with SIGKILL while events
// are committed but not yet dispatched, restarts it and checks that once the
// outbox backlog is empty every event was taken by every consumer exactly
// once, and every member received each reminder email exactly once.
func TestCrashBetweenCommitAndDispatchDeliversEachEventOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the binary for about half a minute")
	}
	t.Parallel()
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			binary.get(t) // built before the clock starts
			port := freePort(t)
			base := "http://127.0.0.1:" + strconv.Itoa(port)
			env, st := processData(t, backend, port)
			// Without the queue, the dispatcher sends each event's email
			// itself, in its pass: the window between an event's commit and
			// its dispatch is the email's, wide enough to crash in. (With
			// the queue, the pass only queues the emails, and
			// TestChannelsQueueRoutineNotificationsAndSendEmergenciesAtOnce
			// shows a job queued once per event.)
			env["QUEUE_ENABLED"] = "false"
			dataDir := env["DATA_DIR"]
			const meds = 200
			fam := newOutboxFamily(t, st, meds)
			db := st.DB()
			want := meds * len(fam.emails) // one 5-minute reminder per medication and member
			reminders := func() int {
				return countRows(t, db, `SELECT COUNT(*) FROM notifications WHERE type = 'MEDICATION_REMINDER'`)
			}
			start := time.Now()
			deadline := start.Add(90 * time.Second) // typically done in 20–40 s

			// The burst: every reminder commits with its event. The kill lands
			// once all have committed and dispatch is under way, the moment
			// one more email appears: most likely before the dispatcher has
			// recorded sending it.
			p := startProcess(t, env)
			outboxDir := filepath.Join(dataDir, "outbox")
			waitFor(t, deadline, "the reminders commit and their emails start going out", func() bool {
				backlog, ok := healthBacklog(base)
				if !ok || reminders() < want || countEmails(outboxDir) < 10 {
					return false
				}
				if backlog == 0 {
					t.Fatalf("the outbox was drained before the process could be killed mid-dispatch; make the burst bigger")
				}
				return true
			})
			seen := countEmails(outboxDir)
			waitFor(t, deadline, "one more email goes out", func() bool { return countEmails(outboxDir) > seen })
			p.kill(t)
			events := countRows(t, db, `SELECT COUNT(*) FROM outbox_events`)
			undispatched := countRows(t, db, `SELECT COUNT(*) FROM outbox_events WHERE dispatched_at IS NULL`)
			untouched := countRows(t, db, `SELECT COUNT(*) FROM outbox_events e WHERE dispatched_at IS NULL
				AND NOT EXISTS (SELECT 1 FROM outbox_deliveries d WHERE d.event_id = e.id)`)
			mailed := countEmails(outboxDir)
			recorded := countRows(t, db, `SELECT COUNT(*) FROM notification_deliveries WHERE channel = $1`, notify.ChannelEmail)
			t.Logf("killed after %s: %d events, %d undispatched (%d handed to no consumer yet); %d of %d emails written, %d of them recorded",
				time.Since(start).Round(time.Millisecond), events, undispatched, untouched, mailed, want, recorded)
			if undispatched == 0 {
				t.Fatal("every event was dispatched before the kill: the crash did not land between commit and dispatch")
			}

			// The restarted process takes the lease once the dead one's
			// expires and dispatches the rest.
			restarted := time.Now()
			startProcess(t, env)
			waitFor(t, deadline, "the restarted process empties the outbox backlog", func() bool {
				n, ok := healthBacklog(base)
				return ok && n == 0
			})
			t.Logf("backlog empty %s after the restart", time.Since(restarted).Round(time.Millisecond))

			// Every event was taken by every consumer, once, without giving up.
			if got := countRows(t, db, `SELECT COUNT(*) FROM outbox_events`); got != events {
				t.Fatalf("%d events after the restart, %d at the kill: the burst was not over", got, events)
			}
			if n := countRows(t, db, `SELECT COUNT(*) FROM outbox_events WHERE dispatched_at IS NULL`); n != 0 {
				t.Fatalf("%d events undispatched with an empty backlog", n)
			}
			for _, consumer := range []string{(&notify.Deliverer{}).Name(), realtime.ConsumerName} {
				rows := countRows(t, db, `SELECT COUNT(*) FROM outbox_deliveries WHERE consumer = $1`, consumer)
				done := countRows(t, db, `SELECT COUNT(*) FROM outbox_deliveries d JOIN outbox_events e ON e.id = d.event_id
					WHERE d.consumer = $1 AND d.done_at IS NOT NULL AND NOT d.gave_up AND d.attempts = 1`, consumer)
				if rows != events || done != events {
					t.Errorf("consumer %s: %d delivery rows, %d done at the first attempt, for %d events", consumer, rows, done, events)
				}
			}

			// As the members see it: one email per reminder and member.
			wantMail := map[[2]string]int{}
			rows, err := db.Query(`SELECT u.email, n.data FROM notifications n JOIN users u ON u.id = n.user_id WHERE n.type = 'MEDICATION_REMINDER'`)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			for rows.Next() {
				var email, data string
				if err := rows.Scan(&email, &data); err != nil {
					t.Fatal(err)
				}
				var d struct {
					MedicationID string `json:"medicationId"`
				}
				if err := json.Unmarshal([]byte(data), &d); err != nil || fam.meds[d.MedicationID] == "" {
					t.Fatalf("reminder data %s: %v", data, err)
				}
				wantMail[[2]string{email, fam.meds[d.MedicationID]}]++
			}
			if err := rows.Err(); err != nil {
				t.Fatal(err)
			}
			if len(wantMail) != want {
				t.Fatalf("%d reminders for %d (member, medication) pairs, want %d", reminders(), len(wantMail), want)
			}
			gotMail := map[[2]string]int{}
			for _, m := range readOutbox(t, dataDir) {
				s := reminderSubject.FindStringSubmatch(m.Subject)
				if s == nil {
					t.Fatalf("unexpected email to %s: %q", m.To, m.Subject)
				}
				gotMail[[2]string{m.To, s[1]}]++
			}
			dups, missing := 0, 0
			for k, n := range wantMail {
				switch got := gotMail[k]; {
				case got > n:
					dups++
					if dups <= 5 {
						t.Errorf("%s received the reminder for %s %d times, want %d", k[0], k[1], got, n)
					}
				case got < n:
					missing++
					if missing <= 5 {
						t.Errorf("%s received the reminder for %s %d times, want %d", k[0], k[1], got, n)
					}
				}
			}
			for k := range gotMail {
				if wantMail[k] == 0 {
					t.Errorf("%s received a reminder for %s that was never sent", k[0], k[1])
				}
			}
			if dups+missing > 0 {
				t.Fatalf("%d reminders emailed more than once, %d never", dups, missing)
			}
			// The channel records agree: one email delivery per reminder.
			if n := countRows(t, db, `SELECT COUNT(*) FROM notification_deliveries d JOIN notifications n ON n.id = d.notification_id
				WHERE n.type = 'MEDICATION_REMINDER' AND d.channel = $1 AND d.status = $2`, notify.ChannelEmail, store.DeliverySent); n != want {
				t.Fatalf("%d email deliveries recorded as sent, want %d", n, want)
			}
		})
	}
}

// readOutbox returns the emails written to the mail outbox under dataDir.
func readOutbox(t *testing.T, dataDir string) []mail.Received {
	t.Helper()
	msgs, err := mail.ReadOutbox(filepath.Join(dataDir, "outbox"))
	if err != nil {
		t.Fatal(err)
	}
	return msgs
}
