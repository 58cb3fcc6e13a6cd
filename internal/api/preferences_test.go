package api

import "testing"

func TestNotificationPreferences(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, h *harness) {
		u := h.newUser("ann@example.com")
		got := h.request("GET", "/user/preferences/notifications", u.Token, nil).expect(200).Map()
		if got["emergencyAlerts"] != true || got["medicationReminders"] != true || got["sms"] != false {
			t.Fatalf("defaults = %v", got)
		}
		got = h.request("PATCH", "/user/preferences/notifications", u.Token, map[string]any{
			"medicationReminders": false, "quietHours": map[string]any{"enabled": true, "start": "22:00", "end": "07:00"},
		}).expect(200).Map()
		if got["medicationReminders"] != false || got["appointmentReminders"] != true || got["quietHours"].(map[string]any)["start"] != "22:00" {
			t.Fatalf("after patch = %v", got)
		}
		// Kept, and the rest of the account's preferences untouched.
		again := h.request("GET", "/user/preferences/notifications", u.Token, nil).expect(200).Map()
		if again["medicationReminders"] != false {
			t.Fatalf("not kept: %v", again)
		}
		me := h.request("GET", "/auth/me", u.Token, nil).expect(200).Map()
		if me["preferences"].(map[string]any)["notifications"] == nil {
			t.Fatalf("me.preferences = %v", me["preferences"])
		}
		for _, bad := range []map[string]any{
			{"emergencyAlerts": false},
			{"quietHours": map[string]any{"enabled": true, "start": "25:00", "end": "07:00"}},
			{"quietHours": map[string]any{"enabled": true, "start": "07:00", "end": "07:00"}},
			{"push": "yes"},
			{"carrierPigeon": true},
		} {
			h.request("PATCH", "/user/preferences/notifications", u.Token, bad).errorEnvelope(400)
		}
		if g := h.request("GET", "/user/preferences/notifications", u.Token, nil).expect(200).Map(); g["quietHours"].(map[string]any)["end"] != "07:00" {
			t.Fatalf("a refused patch changed something: %v", g)
		}
		got = h.request("PATCH", "/user/preferences/notifications", u.Token, map[string]any{"quietHours": nil}).expect(200).Map()
		if got["quietHours"] != nil {
			t.Fatalf("quiet hours not cleared: %v", got)
		}
	})
}
