package api

import "testing"

// notificationMatrix covers the notification routes: every signed-in user
// has their own, family or not.
func notificationMatrix() []matrixCase {
	return []matrixCase{
		{"list", "GET", path("/notifications"), signedIn(200)},
		{"unread", "GET", path("/notifications/unread"), signedIn(200)},
		{"unread count", "GET", path("/notifications/unread/count"), signedIn(200)},
		{"read by ids", "PATCH", withBody(map[string]any{"ids": []string{"0190f000-0000-7000-8000-000000000000"}}, "/notifications/read"), signedIn(200)},
		{"read all", "PATCH", path("/notifications/read/all"), signedIn(200)},
		{"read one (not theirs)", "PATCH", path("/notifications/0190f000-0000-7000-8000-000000000000/read"), signedIn(404)},
		// System administration: no family role is enough.
		{"failed jobs", "GET", path("/admin/jobs/failed"), statuses{401, 403, 403, 403, 403}},
		{"retry failed job", "POST", path("/admin/jobs/failed/0190f000-0000-7000-8000-000000000000/retry"), statuses{401, 403, 403, 403, 403}},
	}
}

func TestPermissionMatrixNotifications(t *testing.T) {
	t.Parallel()
	runMatrix(t, notificationMatrix())
}

func TestPermissionMatrixPreferences(t *testing.T) {
	t.Parallel()
	runMatrix(t, []matrixCase{
		{"get preferences", "GET", path("/user/preferences/notifications"), signedIn(200)},
		{"patch preferences", "PATCH", withBody(map[string]any{"push": false}, "/user/preferences/notifications"), signedIn(200)},
	})
}

func TestPermissionMatrixPushSubscriptions(t *testing.T) {
	t.Parallel()
	body := map[string]any{"endpoint": "https://push.example.com/send/matrix", "keys": map[string]any{
		"p256dh": "BOr4n0SFnKb9jQnWo2K4xqMsWlj3lcS-_gctSRa7PNCVdHjPQMJzFMkMGTM6t9FnSkNgTgaN7hlY5uEh6U0wPcI", "auth": "8eDyX_uCN0XRhSbY5hs7Hg"}}
	runMatrix(t, []matrixCase{
		{"subscribe", "POST", withBody(body, "/notifications/push-subscription"), signedIn(201)},
		{"vapid public key", "GET", path("/notifications/vapid-public-key"), signedIn(200)},
		{"unsubscribe (none)", "DELETE", withBody(map[string]any{"endpoint": "https://push.example.com/send/none"}, "/notifications/push-subscription"), signedIn(404)},
	})
}
