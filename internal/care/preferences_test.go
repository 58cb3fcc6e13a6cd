package care

import (
	"strings"
	"testing"
	"time"
)

func TestWantsNotification(t *testing.T) {
	t.Parallel()
	cases := []struct {
		prefs, kind string
		want        bool
	}{
		{``, "medicationReminders", true},
		{`{}`, "medicationReminders", true},
		{`{"notifications":{"medicationReminders":false}}`, "medicationReminders", false},
		{`{"notifications":{"medicationReminders":false}}`, "shiftReminders", true},
		{`{"notifications":{"emergencyAlerts":false}}`, "emergencyAlerts", true},
		{`not json`, "medicationReminders", true},
	}
	for _, c := range cases {
		if got := WantsNotification([]byte(c.prefs), c.kind); got != c.want {
			t.Errorf("%s %s = %v, want %v", c.prefs, c.kind, got, c.want)
		}
	}
}

func TestNotificationPreferencesRoundTrip(t *testing.T) {
	t.Parallel()
	p := ReadNotificationPreferences(nil)
	if !p.EmergencyAlerts || !p.MedicationReminders || p.SMS {
		t.Fatalf("defaults = %+v", p)
	}
	p.MedicationReminders, p.EmergencyAlerts = false, false
	doc, err := WithNotificationPreferences([]byte(`{"theme":"dark"}`), p)
	if err != nil {
		t.Fatal(err)
	}
	back := ReadNotificationPreferences(doc)
	if back.MedicationReminders || !back.EmergencyAlerts || !WantsNotification(doc, "emergencyAlerts") || WantsNotification(doc, "medicationReminders") {
		t.Fatalf("round trip = %+v (%s)", back, doc)
	}
	if !strings.Contains(string(doc), `"theme":"dark"`) {
		t.Fatalf("other preferences lost: %s", doc)
	}
}

func TestQuietHours(t *testing.T) {
	t.Parallel()
	at := func(h, m int) time.Time { return time.Date(2026, 1, 1, h, m, 0, 0, time.UTC) }
	night := &QuietHours{Enabled: true, Start: "22:00", End: "07:00"}
	for _, c := range []struct {
		q    *QuietHours
		t    time.Time
		want bool
	}{
		{night, at(23, 0), true}, {night, at(6, 59), true}, {night, at(7, 0), false}, {night, at(12, 0), false},
		{&QuietHours{Enabled: true, Start: "13:00", End: "14:00"}, at(13, 30), true},
		{&QuietHours{Enabled: false, Start: "00:00", End: "23:59"}, at(13, 30), false},
		{nil, at(1, 0), false},
	} {
		if got := c.q.InQuietHours(c.t); got != c.want {
			t.Errorf("%+v at %s = %v", c.q, c.t.Format("15:04"), got)
		}
	}
}
