package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/carecircle/carecircle/internal/care"
	"github.com/carecircle/carecircle/internal/clock"
	"github.com/carecircle/carecircle/internal/store"
	"github.com/carecircle/carecircle/internal/store/storetest"
)

// The rig's medication is due at 08:00 New York time, 13:00Z on these days;
// its 30-minute reminder fires at 12:30Z and is staged two minutes ahead.
const (
	stageStart = "2026-01-15T12:00:00Z"
	stagedAt   = "2026-01-15T12:28:00Z"
	firesAt    = "2026-01-15T12:30:00Z"
)

// stageFirstReminder runs the engine up to stagedAt and returns the ledger
// key of the 30-minute reminder, now STAGED.
func (r *rig) stageFirstReminder() string {
	r.t.Helper()
	r.run(mustTime(stageStart), mustTime(stagedAt))
	key := ledgerKey(KindMedication, r.med.ID, mustTime("2026-01-15T13:00:00Z"), 30)
	if st := r.ledgerStatus(key); st != store.LedgerStaged {
		r.t.Fatalf("30-minute reminder is %s at %s, want STAGED", st, stagedAt)
	}
	return key
}

func (r *rig) ledgerStatus(key string) string {
	r.t.Helper()
	es, err := r.st.LedgerEntries(context.Background(), []string{key})
	if err != nil {
		r.t.Fatal(err)
	}
	if len(es) == 0 {
		return "absent"
	}
	return es[0].Status
}

// storedWithKey counts the notification rows with a dedupe key, shown or
// not.
func (r *rig) storedWithKey(key string) int {
	r.t.Helper()
	var n int
	if err := r.st.DB().QueryRowContext(context.Background(), `SELECT COUNT(*) FROM notifications WHERE dedupe_key = $1`,
		key).Scan(&n); err != nil {
		r.t.Fatal(err)
	}
	return n
}

func (r *rig) members() []*care.User { return append([]*care.User{r.admin}, r.others...) }

func TestStagedReminderIsHiddenUntilItsInstant(t *testing.T) {
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, open func(testing.TB, clock.Clock) *store.Store) {
		ctx := context.Background()
		r := newRig(t, open, mustTime(stageStart), "America/New_York", "08:00")
		key := r.stageFirstReminder()

		// Written ahead, one per member, and shown to nobody.
		if n := r.storedWithKey(key); n != 3 {
			t.Fatalf("%d staged notifications, want 3", n)
		}
		var staged []string
		if err := func() error {
			rows, err := r.st.DB().QueryContext(ctx, `SELECT id FROM notifications WHERE dedupe_key = $1`, key)
			if err != nil {
				return err
			}
			defer rows.Close()
			for rows.Next() {
				var id string
				if err := rows.Scan(&id); err != nil {
					return err
				}
				staged = append(staged, id)
			}
			return rows.Err()
		}(); err != nil {
			t.Fatal(err)
		}
		for _, u := range r.members() {
			if got := r.reminders(u, care.NotifyMedicationReminder); len(got) != 0 {
				t.Fatalf("%s sees a staged reminder before its instant: %+v", u.Email, got)
			}
			if n, err := r.st.UnreadNotificationCount(ctx, u.ID); err != nil || n != 0 {
				t.Fatalf("%s unread = %d, %v; want 0", u.Email, n, err)
			}
			if n, err := r.st.MarkNotificationsRead(ctx, u.ID, nil); err != nil || n != 0 {
				t.Fatalf("%s marked %d read, %v; want 0", u.Email, n, err)
			}
		}
		for _, id := range staged {
			n, err := r.st.DB().QueryContext(ctx, `SELECT user_id FROM notifications WHERE id = $1`, id)
			if err != nil {
				t.Fatal(err)
			}
			var uid string
			n.Next()
			_ = n.Scan(&uid)
			n.Close()
			if _, err := r.st.Notification(ctx, uid, id); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("staged notification %s readable by id: %v", id, err)
			}
		}
		if evs := outboxEvents(t, r.st); len(evs["medication.reminder"]) != 0 {
			t.Fatalf("reminder announced before its instant: %v", evs["medication.reminder"])
		}

		// At the instant: sent as staged, dated at the instant, announced once.
		r.run(mustTime(firesAt), mustTime(firesAt))
		if st := r.ledgerStatus(key); st != store.LedgerSent {
			t.Fatalf("ledger %s after the instant, want SENT", st)
		}
		var shown []string
		for _, u := range r.members() {
			got := r.reminders(u, care.NotifyMedicationReminder)
			expectAt(t, u.Email, got, firesAt)
			if !strings.Contains(got[0].Body, "in 30 minutes") || got[0].Read {
				t.Fatalf("%s reminder %+v", u.Email, got[0])
			}
			if n, err := r.st.UnreadNotificationCount(ctx, u.ID); err != nil || n != 1 {
				t.Fatalf("%s unread = %d, %v; want 1", u.Email, n, err)
			}
			shown = append(shown, got[0].ID)
		}
		evs := outboxEvents(t, r.st)["medication.reminder"]
		if len(evs) != 1 {
			t.Fatalf("%d reminder events, want 1", len(evs))
		}
		ids := slices.Clone(evs[0].data.NotificationIDs)
		slices.Sort(ids)
		slices.Sort(shown)
		slices.Sort(staged)
		if !slices.Equal(ids, shown) || !slices.Equal(shown, staged) {
			t.Fatalf("event names %v, members see %v, staged %v", ids, shown, staged)
		}
		if !evs[0].Timestamp.Equal(mustTime(firesAt)) {
			t.Fatalf("event occurred at %v, want the instant", evs[0].Timestamp)
		}
	})
}

func TestStagedReminderFollowsChangesBeforeItsInstant(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		change func(r *rig)
		// want is what each member gets at the instant (nil: nothing).
		want func(r *rig, u *care.User, got []care.Notification)
		// status is the ledger entry's state after the instant.
		status string
	}{
		{"dose logged", func(r *rig) {
			if _, _, err := r.st.LogDose(context.Background(), r.med.ID, care.DoseEntry{Status: care.DoseGiven,
				ScheduledTime: mustTime("2026-01-15T13:00:00Z"), LoggedByID: r.admin.ID}); err != nil {
				r.t.Fatal(err)
			}
		}, nil, store.LedgerSuppressed},
		{"medication stopped", func(r *rig) {
			if _, err := r.st.UpdateMedication(context.Background(), r.med.ID, func(m *care.Medication) error {
				m.IsActive = false
				return nil
			}); err != nil {
				r.t.Fatal(err)
			}
		}, nil, store.LedgerSuppressed},
		{"medication renamed", func(r *rig) {
			if _, err := r.st.UpdateMedication(context.Background(), r.med.ID, func(m *care.Medication) error {
				m.Name = "Glucophage"
				return nil
			}); err != nil {
				r.t.Fatal(err)
			}
		}, func(r *rig, u *care.User, got []care.Notification) {
			expectAt(r.t, u.Email, got, firesAt)
			if !strings.Contains(got[0].Title+got[0].Body, "Glucophage") {
				r.t.Fatalf("%s got the staged text: %q / %q", u.Email, got[0].Title, got[0].Body)
			}
		}, store.LedgerSent},
		{"viewer left", func(r *rig) {
			ms, err := r.st.Members(context.Background(), r.cr.FamilyID)
			if err != nil {
				r.t.Fatal(err)
			}
			for _, m := range ms {
				if m.UserID == r.others[1].ID {
					if err := r.st.RemoveMember(context.Background(), r.cr.FamilyID, m.ID); err != nil {
						r.t.Fatal(err)
					}
				}
			}
		}, func(r *rig, u *care.User, got []care.Notification) {
			if u.ID == r.others[1].ID {
				if len(got) != 0 {
					r.t.Fatalf("a member who left got %v", got)
				}
				return
			}
			if len(got) != 1 {
				r.t.Fatalf("%s got %d reminders, want 1", u.Email, len(got))
			}
		}, store.LedgerSent},
		{"caregiver turned medication reminders off", func(r *rig) {
			prefs := json.RawMessage(`{"notifications":{"medicationReminders":false}}`)
			if _, err := r.st.UpdateUser(context.Background(), r.others[0].ID, store.UserPatch{Preferences: prefs}); err != nil {
				r.t.Fatal(err)
			}
		}, func(r *rig, u *care.User, got []care.Notification) {
			want := 1
			if u.ID == r.others[0].ID {
				want = 0
			}
			if len(got) != want {
				r.t.Fatalf("%s got %d reminders, want %d", u.Email, len(got), want)
			}
		}, store.LedgerSent},
		{"care recipient removed", func(r *rig) {
			if err := r.st.DeleteCareRecipient(context.Background(), r.cr.ID); err != nil {
				r.t.Fatal(err)
			}
		}, nil, "absent"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			storetest.ForEach(t, func(t *testing.T, open func(testing.TB, clock.Clock) *store.Store) {
				r := newRig(t, open, mustTime(stageStart), "America/New_York", "08:00")
				key := r.stageFirstReminder()
				tc.change(r)
				r.run(mustTime(firesAt), mustTime(firesAt))
				if st := r.ledgerStatus(key); st != tc.status {
					t.Fatalf("ledger %s, want %s", st, tc.status)
				}
				sent := 0
				for _, u := range r.members() {
					got := r.reminders(u, care.NotifyMedicationReminder)
					sent += len(got)
					if tc.want == nil {
						if len(got) != 0 {
							t.Fatalf("%s got %v", u.Email, got)
						}
						continue
					}
					tc.want(r, u, got)
				}
				// Whatever was staged and not sent is gone, not merely hidden.
				if n := r.storedWithKey(key); n != sent {
					t.Fatalf("%d notifications stored under the key, %d shown", n, sent)
				}
				evs := outboxEvents(t, r.st)["medication.reminder"]
				if wantEvents := min(sent, 1); len(evs) != wantEvents && tc.status != store.LedgerSuppressed {
					t.Fatalf("%d reminder events, want %d", len(evs), wantEvents)
				}
				if tc.status == store.LedgerSuppressed && len(evs) != 0 {
					t.Fatalf("a suppressed reminder was announced: %v", evs)
				}
			})
		})
	}
}

// TestStagedReminderPastGraceIsSkipped stops the engine after staging and
// starts it again after the grace period: the reminder is skipped and its
// staged notifications deleted.
func TestStagedReminderPastGraceIsSkipped(t *testing.T) {
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, open func(testing.TB, clock.Clock) *store.Store) {
		r := newRig(t, open, mustTime(stageStart), "America/New_York", "08:00")
		key := r.stageFirstReminder()
		restart := mustTime(firesAt).Add(r.engine.cfg.Grace + time.Minute)
		r.run(restart, restart)
		if st := r.ledgerStatus(key); st != store.LedgerSkipped {
			t.Fatalf("ledger %s, want SKIPPED", st)
		}
		if n := r.storedWithKey(key); n != 0 {
			t.Fatalf("%d staged notifications left behind", n)
		}
	})
}
