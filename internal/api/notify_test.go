package api

import (
	"slices"
	"testing"
	"time"

	"github.com/carecircle/carecircle/internal/care"
	"github.com/carecircle/carecircle/internal/notify/notifytest"
)

// TestAPINotificationsGoThroughThePipeline: what the API's features notify
// (an urgent timeline entry, an emergency) is announced by exactly one
// event per notification, and a member who turned family activity off gets
// the emergency but not the family news.
func TestAPINotificationsGoThroughThePipeline(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, h *harness) {
		w := newTimelineWorld(t, h)
		h.request("PATCH", "/user/preferences/notifications", h.signIn(w.viewer.User),
			map[string]any{"familyActivity": false}).expect(200)
		w.post(w.caregiver, map[string]any{"type": "INCIDENT", "title": "Dizzy spell", "severity": "HIGH",
			"occurredAt": h.clock.Now().Add(-time.Minute).Format(time.RFC3339)})
		h.request("POST", alertsPath(w.CareRecipientID), h.signIn(w.caregiver.User), alertJSON("Fell")).expect(201)

		got := map[string][]string{} // type → users
		for _, r := range notifytest.Audit(t, h.store) {
			got[r.Type] = append(got[r.Type], r.UserID)
		}
		news, alerts := got[string(care.NotifyTimelineUpdate)], got[string(care.NotifyEmergencyAlert)]
		// The admin and the second caregiver hear of the entry; the viewer
		// does not, and the author is never told of their own entry.
		if len(news) != 2 || slices.Contains(news, w.viewer.ID) || slices.Contains(news, w.caregiver.ID) {
			t.Fatalf("urgent entry notified %v", news)
		}
		if !slices.Contains(alerts, w.viewer.ID) {
			t.Fatalf("the emergency did not reach the viewer: %v", alerts)
		}
	})
}
