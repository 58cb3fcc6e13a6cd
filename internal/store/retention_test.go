package store_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/carecircle/carecircle/internal/care"
	"github.com/carecircle/carecircle/internal/clock"
	"github.com/carecircle/carecircle/internal/store"
	"github.com/carecircle/carecircle/internal/store/storetest"
)

// TestPruneRetentionRemovesOnlyWhatIsOld writes every kind of record a year
// ago and an hour ago, prunes with a 30-day cutoff, and finds only the old,
// finished ones gone: unread notifications, undispatched events and planned
// reminders stay whatever their age. A second prune finds nothing; the
// audit log still refuses to lose or change a recent entry.
func TestPruneRetentionRemovesOnlyWhatIsOld(t *testing.T) {
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, open openFunc) {
		now := t0
		old, recent := now.Add(-400*24*time.Hour), now.Add(-time.Hour)
		clk := clock.NewFake(old)
		s := open(t, clk)
		ctx := context.Background()
		crID := newCareRecipient(t, s)
		u := newUser(t, s, "retention@example.com")

		type made struct{ readNote, unreadNote, event string }
		write := func(at time.Time) made {
			t.Helper()
			clk.Set(at)
			var m made
			ns, err := s.InsertNotifications(ctx, []care.Notification{
				{UserID: u.ID, Type: "MEDICATION_REMINDER", Title: "read", Body: "b"},
				{UserID: u.ID, Type: "MEDICATION_REMINDER", Title: "unread", Body: "b"},
			})
			if err != nil {
				t.Fatal(err)
			}
			m.readNote, m.unreadNote = ns[0].ID, ns[1].ID
			if _, err := s.MarkNotificationsRead(ctx, u.ID, []string{m.readNote}); err != nil {
				t.Fatal(err)
			}
			if err := s.RecordDelivery(ctx, m.readNote, "email", u.Email, "SENT", "outbox", ""); err != nil {
				t.Fatal(err)
			}
			// One dispatched event and one still waiting.
			m.event = uuid.NewString()
			for _, id := range []string{m.event, uuid.NewString()} {
				if err := s.AppendEvent(ctx, store.OutboxEvent{ID: id, Type: "medication.logged", Envelope: []byte(`{}`)}); err != nil {
					t.Fatal(err)
				}
			}
			pending, err := s.PendingEvents(ctx, 100)
			if err != nil {
				t.Fatal(err)
			}
			lease := acquire(t, s, "dispatch-"+at.Format("20060102"), "test")
			for _, e := range pending {
				if e.ID == m.event {
					if err := s.MarkDeliveredUnder(ctx, lease, "channels", e.ID, false, nil); err != nil {
						t.Fatal(err)
					}
					if err := s.MarkDispatched(ctx, lease, []int64{e.Seq}); err != nil {
						t.Fatal(err)
					}
				}
			}
			// A finished (skipped) reminder and one still planned.
			if _, err := s.RecordPlan(ctx, "medication", at, []store.LedgerEntry{
				entry(crID, "done-"+at.Format(time.RFC3339), at.Add(-time.Hour)),
				entry(crID, "planned-"+at.Format(time.RFC3339), at.Add(time.Hour)),
			}, at); err != nil {
				t.Fatal(err)
			}
			if err := s.RecordJobRun(ctx, store.JobRun{Job: "reminder-planner", StartedAt: at, Status: "ok"}); err != nil {
				t.Fatal(err)
			}
			if err := s.RecordEmailAttempt(ctx, store.EmailAttempt{At: at, To: u.Email, Template: "reminder", Provider: "outbox", Priority: "routine", Status: "SENT"}); err != nil {
				t.Fatal(err)
			}
			if _, err := s.AppendAudit(ctx, store.AuditEntry{Action: "POST /families", Status: 201}); err != nil {
				t.Fatal(err)
			}
			return m
		}
		write(old)
		write(recent)
		clk.Set(now)
		before, err := s.TableSizes(ctx)
		if err != nil {
			t.Fatal(err)
		}

		cut := now.Add(-30 * 24 * time.Hour)
		got, err := s.PruneRetention(ctx, store.RetentionCutoffs{Notifications: cut, Outbox: cut, Ledger: cut, EmailLog: cut, Audit: cut})
		if err != nil {
			t.Fatal(err)
		}
		want := store.PruneCounts{Notifications: 1, Outbox: 1, Ledger: 1, JobRuns: 1, EmailLog: 1, Audit: 1}
		if got != want {
			t.Fatalf("pruned %+v, want %+v", got, want)
		}
		after, err := s.TableSizes(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for table, drop := range map[string]int64{"notifications": 1, "notification_deliveries": 1, "outbox_events": 1,
			"outbox_deliveries": 1, "reminder_ledger": 1, "job_runs": 1, "email_attempts": 1, "audit_log": 1} {
			if after[table] != before[table]-drop {
				t.Errorf("%s: %d rows before, %d after; want %d fewer", table, before[table], after[table], drop)
			}
		}
		// What stays: the old unread notification and the planned reminder.
		notes, err := s.UserNotifications(ctx, u.ID, store.NotificationQuery{Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		titles := map[string]int{}
		for _, n := range notes {
			titles[n.Title]++
		}
		if titles["unread"] != 2 || titles["read"] != 1 {
			t.Errorf("notifications left: %v", titles)
		}
		if es, err := s.LedgerEntries(ctx, []string{"planned-" + old.Format(time.RFC3339)}); err != nil || len(es) != 1 {
			t.Errorf("the old planned reminder: %v %v", es, err)
		}

		if again, err := s.PruneRetention(ctx, store.RetentionCutoffs{Notifications: cut, Outbox: cut, Ledger: cut, EmailLog: cut, Audit: cut}); err != nil || again.Total() != 0 {
			t.Fatalf("second prune: %+v %v", again, err)
		}
		// Zero cutoffs keep everything.
		if none, err := s.PruneRetention(ctx, store.RetentionCutoffs{}); err != nil || none.Total() != 0 {
			t.Fatalf("prune with no cutoffs: %+v %v", none, err)
		}
		// The audit log is still append-only for what retention keeps.
		if _, err := s.DB().ExecContext(ctx, `DELETE FROM audit_log`); err == nil {
			t.Error("deleting recent audit entries was allowed")
		}
		if _, err := s.DB().ExecContext(ctx, `UPDATE audit_log SET action = 'x'`); err == nil {
			t.Error("updating audit entries was allowed")
		}
		entries, total, err := s.AuditLog(ctx, store.AuditQuery{})
		if err != nil || total != 1 || !entries[0].At.Equal(recent.Truncate(time.Microsecond)) {
			b, _ := json.Marshal(entries)
			t.Fatalf("audit log after prune: %d %s %v", total, b, err)
		}
	})
}
