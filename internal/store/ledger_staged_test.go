package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/carecircle/carecircle/internal/care"
	"github.com/carecircle/carecircle/internal/clock"
	"github.com/carecircle/carecircle/internal/store"
	"github.com/carecircle/carecircle/internal/store/storetest"
)

// TestStagedNotificationsShowOnlyOnceSent: a staged entry's notifications
// are left out of every read until the entry is sent, which appends its
// held event; a staged entry deleted with its care recipient takes its
// notifications with it.
func TestStagedNotificationsShowOnlyOnceSent(t *testing.T) {
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, open openFunc) {
		clk := clock.NewFake(t0)
		s := open(t, clk)
		ctx := context.Background()
		crID := newCareRecipient(t, s)
		cr, err := s.CareRecipient(ctx, crID)
		if err != nil {
			t.Fatal(err)
		}
		u := newUser(t, s, "staged@example.com")
		fire := clk.Now().Add(2 * time.Minute)
		if _, err := s.RecordPlan(ctx, "reminders", fire, []store.LedgerEntry{entry(crID, "k1", fire)}, clk.Now()); err != nil {
			t.Fatal(err)
		}
		key := "k1"
		created, err := s.InsertNotifications(ctx, []care.Notification{{UserID: u.ID, Type: care.NotifyMedicationReminder,
			Title: "t", Body: "b", Data: json.RawMessage(`{}`), DedupeKey: &key, CreatedAt: fire}})
		if err != nil || len(created) != 1 {
			t.Fatalf("insert = %v, %v", created, err)
		}
		id := created[0].ID
		ev := store.OutboxEvent{ID: uuid.NewString(), Type: "medication.reminder", FamilyID: cr.FamilyID, Envelope: []byte(`{"id":"x"}`)}
		if err := s.StageMany(ctx, []store.Staging{{Key: key, Fingerprint: "fp", Recipients: 1, Event: &ev}}); err != nil {
			t.Fatal(err)
		}

		hidden := func(want bool) {
			t.Helper()
			list, err := s.UserNotifications(ctx, u.ID, store.NotificationQuery{})
			if err != nil {
				t.Fatal(err)
			}
			unread, err := s.UnreadNotificationCount(ctx, u.ID)
			if err != nil {
				t.Fatal(err)
			}
			_, oneErr := s.Notification(ctx, u.ID, id)
			byID, err := s.NotificationsByID(ctx, []string{id})
			if err != nil {
				t.Fatal(err)
			}
			shown := len(list) == 1 && unread == 1 && oneErr == nil && byID[id] != nil
			gone := len(list) == 0 && unread == 0 && errors.Is(oneErr, store.ErrNotFound) && byID[id] == nil
			if (want && !gone) || (!want && !shown) {
				t.Fatalf("hidden=%v: list %d, unread %d, by id %v / %v", want, len(list), unread, oneErr, byID[id])
			}
		}
		hidden(true)
		if n, err := s.MarkNotificationsRead(ctx, u.ID, nil); err != nil || n != 0 {
			t.Fatalf("mark all read touched %d staged, %v", n, err)
		}
		if pending, _ := s.PendingEvents(ctx, 10); len(pending) != 0 {
			t.Fatalf("held event in the outbox before sending: %v", pending)
		}

		clk.Set(fire)
		due, err := s.StagedDue(ctx, fire, nil, 10)
		if err != nil || len(due) != 1 || due[0].Fingerprint != "fp" {
			t.Fatalf("staged due = %+v, %v", due, err)
		}
		n, err := s.ClaimStaged(ctx, []string{key}, func(ctx context.Context, claimed []store.StagedEntry) error {
			return s.SendStaged(ctx, []store.LedgerUpdate{{Key: key, Status: store.LedgerSent, Recipients: 1}})
		})
		if err != nil || n != 1 {
			t.Fatalf("claim = %d, %v", n, err)
		}
		hidden(false)
		pending, err := s.PendingEvents(ctx, 10)
		if err != nil || len(pending) != 1 || pending[0].ID != ev.ID || pending[0].FamilyID != cr.FamilyID {
			t.Fatalf("outbox after sending = %+v, %v", pending, err)
		}
		if n, err := s.ClaimStaged(ctx, []string{key}, func(context.Context, []store.StagedEntry) error {
			t.Fatal("a sent entry was claimed again")
			return nil
		}); err != nil || n != 0 {
			t.Fatalf("second claim = %d, %v", n, err)
		}

		// Another staged entry, then its care recipient goes.
		next := fire.Add(time.Minute)
		if _, err := s.RecordPlan(ctx, "reminders", next, []store.LedgerEntry{entry(crID, "k2", next)}, clk.Now()); err != nil {
			t.Fatal(err)
		}
		key2 := "k2"
		if _, err := s.InsertNotifications(ctx, []care.Notification{{UserID: u.ID, Type: care.NotifyMedicationReminder,
			Title: "t", Body: "b", Data: json.RawMessage(`{}`), DedupeKey: &key2, CreatedAt: next}}); err != nil {
			t.Fatal(err)
		}
		if err := s.StageMany(ctx, []store.Staging{{Key: key2, Fingerprint: "fp"}}); err != nil {
			t.Fatal(err)
		}
		if err := s.DeleteCareRecipient(ctx, crID); err != nil {
			t.Fatal(err)
		}
		var left int
		if err := s.DB().QueryRowContext(ctx, `SELECT COUNT(*) FROM notifications WHERE dedupe_key = $1`, key2).Scan(&left); err != nil || left != 0 {
			t.Fatalf("%d notifications of a deleted staged entry left, %v", left, err)
		}
	})
}
