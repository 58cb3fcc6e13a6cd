package care

import "encoding/json"

// WantsNotification reports whether a user's preferences allow notifications
// of the named kind ("medicationReminders", "appointmentReminders",
// "shiftReminders", "familyActivity"). Preferences live under
// "notifications" in the account's preferences; anything not turned off is
// on, and emergency alerts can never be turned off.
func WantsNotification(prefs json.RawMessage, kind string) bool {
	if kind == "emergencyAlerts" || len(prefs) == 0 {
		return true
	}
	var p struct {
		Notifications map[string]json.RawMessage `json:"notifications"`
	}
	if err := json.Unmarshal(prefs, &p); err != nil {
		return true
	}
	var on bool
	if raw, ok := p.Notifications[kind]; ok && json.Unmarshal(raw, &on) == nil {
		return on
	}
	return true
}
