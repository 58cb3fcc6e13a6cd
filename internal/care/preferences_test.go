package care

import "testing"

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
