// Package notifytest checks, for tests, what the notification pipeline
// leaves behind: every notification in the database announced by exactly
// one event that clients hear of and the channels deliver, and none for a
// user who turned its kind off.
package notifytest

import (
	"context"
	"encoding/json"
	"slices"
	"testing"

	"github.com/carecircle/carecircle/internal/care"
	"github.com/carecircle/carecircle/internal/events"
	"github.com/carecircle/carecircle/internal/notify"
	"github.com/carecircle/carecircle/internal/store"
)

// Row is one notification as the audit saw it.
type Row struct {
	ID, UserID, Type string
	// Event is the type of the event that announced it.
	Event string
}

// Audit reads every notification in st and every event in its outbox and
// fails t unless:
//   - each notification is named, with its user, by exactly one event;
//   - that event's type carries notifications for the channels
//     (events.Notifies) and has a realtime message;
//   - every notification an event names exists;
//   - no notification went to a user whose preferences turn its kind off.
//
// It returns the notifications, oldest first.
func Audit(t testing.TB, st *store.Store) []Row {
	t.Helper()
	ctx := context.Background()
	rows, err := st.DB().QueryContext(ctx, `SELECT id, user_id, type FROM notifications ORDER BY created_at, id`)
	if err != nil {
		t.Fatal(err)
	}
	var out []Row
	for rows.Next() {
		var r Row
		if err := rows.Scan(&r.ID, &r.UserID, &r.Type); err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	if err := rows.Close(); err != nil {
		t.Fatal(err)
	}
	pending, err := st.PendingEvents(ctx, 1_000_000)
	if err != nil {
		t.Fatal(err)
	}
	announced := map[string][]string{} // notification id → event types
	user := map[string]string{}        // notification id → user named with it
	for _, oe := range pending {
		var e events.Event
		if err := json.Unmarshal(oe.Envelope, &e); err != nil {
			t.Fatalf("event %s: %v", oe.ID, err)
		}
		var n events.Notified
		if err := json.Unmarshal(e.Data, &n); err != nil {
			t.Fatalf("event %s data: %v", e.Type, err)
		}
		if len(n.NotificationIDs) == 0 {
			continue
		}
		spec, ok := events.Lookup(e.Type)
		if !ok || !spec.Notifies || spec.Realtime.Name == "" {
			t.Errorf("%s names notifications but is not a notifying event with a realtime message", e.Type)
		}
		if len(n.UserIDs) != len(n.NotificationIDs) {
			t.Errorf("%s names %d users for %d notifications", e.Type, len(n.UserIDs), len(n.NotificationIDs))
			continue
		}
		for i, id := range n.NotificationIDs {
			announced[id] = append(announced[id], e.Type)
			user[id] = n.UserIDs[i]
		}
	}
	var users []string
	for _, r := range out {
		users = append(users, r.UserID)
	}
	prefs, err := st.UserPreferences(ctx, users)
	if err != nil {
		t.Fatal(err)
	}
	exists := map[string]bool{}
	for i, r := range out {
		exists[r.ID] = true
		switch got := announced[r.ID]; {
		case len(got) != 1:
			t.Errorf("notification %s (%s to %s) announced by %v, want exactly one event", r.ID, r.Type, r.UserID, got)
		case user[r.ID] != r.UserID:
			t.Errorf("notification %s is %s's, its event names %s", r.ID, r.UserID, user[r.ID])
		default:
			out[i].Event = got[0]
		}
		if kind := notify.PreferenceKind(care.NotificationType(r.Type)); kind != "" && !care.WantsNotification(prefs[r.UserID], kind) {
			t.Errorf("notification %s (%s) went to %s, who turned %s off", r.ID, r.Type, r.UserID, kind)
		}
	}
	for id, types := range announced {
		if !exists[id] {
			t.Errorf("%v names notification %s, which does not exist", types, id)
		}
	}
	return out
}

// Types lists the rows' notification types, in order, without repeats.
func Types(rows []Row) []string {
	var out []string
	for _, r := range rows {
		if !slices.Contains(out, r.Type) {
			out = append(out, r.Type)
		}
	}
	return out
}
