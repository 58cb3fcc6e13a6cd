package notifications_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/carecircle/carecircle/internal/care"
	"github.com/carecircle/carecircle/internal/clock"
	"github.com/carecircle/carecircle/internal/feature"
	"github.com/carecircle/carecircle/internal/feature/featuretest"
	"github.com/carecircle/carecircle/internal/feature/notifications"
	"github.com/carecircle/carecircle/internal/store"
	"github.com/carecircle/carecircle/internal/store/storetest"
)

var t0 = time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)

// TestUnread holds what the dashboard shows of a user's notifications: the
// newest unread ones first, at most the limit, none that were read or are
// someone else's, and the count of all the unread ones.
func TestUnread(t *testing.T) {
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, open func(testing.TB, clock.Clock) *store.Store) {
		ctx := context.Background()
		st, clk, b := featuretest.Base(t, open, t0)
		svc := notifications.New(b, nil)
		ann, bo := featuretest.Actor(t, st, "ann@example.com"), featuretest.Actor(t, st, "bo@example.com")
		famID, _ := featuretest.Family(t, st, ann, "Europe/Berlin")
		notify := func(title string, to ...feature.Actor) {
			t.Helper()
			var ids []string
			for _, a := range to {
				ids = append(ids, a.ID())
			}
			err := b.NotifyUsers(ctx, ids, care.NotificationDraft{Type: care.NotifyEmergencyAlert, Title: title, Body: title,
				Data: map[string]any{"familyId": famID}})
			if err != nil {
				t.Fatalf("notify %s: %v", title, err)
			}
			clk.Advance(time.Minute)
		}
		notify("first", ann)
		notify("second", ann, bo)
		notify("read", ann)
		notify("third", ann)
		notify("bo's own", bo)
		list, err := svc.List(ctx, ann, notifications.Query{})
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range list {
			if n.Title == "read" {
				if _, err := svc.MarkOneRead(ctx, ann, n.ID); err != nil {
					t.Fatal(err)
				}
			}
		}

		for limit, want := range map[int][]string{
			2:  {"third", "second"},
			10: {"third", "second", "first"},
			0:  {},
		} {
			ns, count, err := svc.Unread(ctx, ann, limit)
			if err != nil {
				t.Fatal(err)
			}
			got := []string{}
			for _, n := range ns {
				got = append(got, n.Title)
			}
			if !slices.Equal(got, want) || count != 3 {
				t.Errorf("Unread(limit %d) = %q, %d unread; want %q, 3 unread", limit, got, count, want)
			}
		}
		if _, err := svc.MarkOneRead(ctx, bo, list[0].ID); feature.KindOf(err) != feature.KindNotFound {
			t.Errorf("marking someone else's notification read: err = %v, want KindNotFound", err)
		}
	})
}
