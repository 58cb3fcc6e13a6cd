package api

import (
	"context"
	"testing"

	"github.com/carecircle/carecircle/internal/auth"
	"github.com/carecircle/carecircle/internal/care"
)

func TestNotificationsReadFlow(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, h *harness) {
		ann := h.newUser("ann@example.com")
		bo := h.newUser("bo@example.com")
		ctx := context.Background()
		for i, title := range []string{"first", "second", "third"} {
			d := care.NotificationDraft{Type: care.NotifyGeneral, Title: title, Body: "b", Data: map[string]any{"i": i}}
			if err := h.api.base.NotifyUsers(ctx, []string{ann.ID}, d); err != nil {
				t.Fatal(err)
			}
			h.clock.Advance(1)
		}
		// The same dedupe key twice makes one notification.
		d := care.NotificationDraft{Type: care.NotifyGeneral, Title: "once", Body: "b", DedupeKey: "k1"}
		_ = h.api.base.NotifyUsers(ctx, []string{bo.ID}, d)
		_ = h.api.base.NotifyUsers(ctx, []string{bo.ID}, d)
		if n := h.request("GET", "/notifications/unread/count", bo.Token, nil).expect(200).Map()["count"]; n != 1.0 {
			t.Fatalf("bo's unread = %v, want 1", n)
		}

		list := h.request("GET", "/notifications", ann.Token, nil).expect(200).List()
		if len(list) != 3 || list[0]["title"] != "third" {
			t.Fatalf("list = %v", list)
		}
		if n := h.request("GET", "/notifications/unread/count", ann.Token, nil).expect(200).Map()["count"]; n != 3.0 {
			t.Fatalf("unread = %v", n)
		}
		first := list[2]["id"].(string)
		one := h.request("PATCH", "/notifications/"+first+"/read", ann.Token, nil).expect(200).Map()
		if one["read"] != true || one["readAt"] == nil {
			t.Fatalf("read one = %v", one)
		}
		// Someone else's notification is not found, and is not touched.
		h.request("PATCH", "/notifications/"+first+"/read", bo.Token, nil).errorEnvelope(404)
		h.request("PATCH", "/notifications/read", bo.Token, map[string]any{"ids": []string{list[1]["id"].(string)}}).expect(200)
		if got := h.request("GET", "/notifications/unread", ann.Token, nil).expect(200).List(); len(got) != 2 {
			t.Fatalf("unread after another user's read = %d, want 2", len(got))
		}
		r := h.request("PATCH", "/notifications/read", ann.Token, map[string]any{"ids": []string{list[1]["id"].(string)}}).expect(200).Map()
		if r["count"] != 1.0 {
			t.Fatalf("read by ids = %v", r)
		}
		r = h.request("PATCH", "/notifications/read/all", ann.Token, nil).expect(200).Map()
		if r["count"] != 1.0 {
			t.Fatalf("read all = %v", r)
		}
		if got := h.request("GET", "/notifications?unreadOnly=true", ann.Token, nil).expect(200).List(); len(got) != 0 {
			t.Fatalf("unread after read all = %v", got)
		}
		if got := h.request("GET", "/notifications?limit=1", ann.Token, nil).expect(200).List(); len(got) != 1 {
			t.Fatalf("limit ignored: %d", len(got))
		}
	})
}

func TestNotificationsBadInput(t *testing.T) {
	t.Parallel()
	h := sqliteHarness(t, harnessOptions{})
	u := h.newUser("ann@example.com")
	for _, tc := range []struct {
		method, path string
		body         any
	}{
		{"GET", "/notifications?limit=0", nil},
		{"GET", "/notifications?limit=abc", nil},
		{"GET", "/notifications?unreadOnly=maybe", nil},
		{"PATCH", "/notifications/read", map[string]any{"ids": []string{}}},
		{"PATCH", "/notifications/read", map[string]any{"ids": []string{"nope"}}},
		{"PATCH", "/notifications/read", map[string]any{"ids": "x"}},
		{"PATCH", "/notifications/not-a-uuid/read", nil},
		{"PATCH", "/notifications/read/all", map[string]any{"x": 1}},
	} {
		h.request(tc.method, tc.path, u.Token, tc.body).errorEnvelope(400)
	}
}

func TestAdminFailedJobsNeedSystemAdmin(t *testing.T) {
	t.Parallel()
	h := sqliteHarness(t, harnessOptions{})
	u := h.newUser("ann@example.com")
	h.request("GET", "/admin/jobs/failed", "", nil).errorEnvelope(401)
	h.request("GET", "/admin/jobs/failed", u.Token, nil).errorEnvelope(403)
	h.request("POST", "/admin/jobs/failed/0190f000-0000-7000-8000-000000000000/retry", u.Token, nil).errorEnvelope(403)
	if _, err := h.store.DB().Exec(`UPDATE users SET system_role = 'ADMIN' WHERE id = $1`, u.ID); err != nil {
		t.Fatal(err)
	}
	// SQL by hand tells no cache: the session checked just before shows
	// the role once its entry ends.
	h.clock.Advance(auth.SessionCacheTTL)
	if got := h.request("GET", "/admin/jobs/failed", u.Token, nil).expect(200).List(); len(got) != 0 {
		t.Fatalf("failed jobs = %v", got)
	}
	h.request("POST", "/admin/jobs/failed/0190f000-0000-7000-8000-000000000000/retry", u.Token, nil).errorEnvelope(404)
}
