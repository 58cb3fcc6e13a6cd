package care

import (
	"encoding/json"
	"time"
)

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

// NotificationPreferences are a user's choices about what reaches them and
// how. Emergency alerts cannot be turned off.
type NotificationPreferences struct {
	EmergencyAlerts      bool        `json:"emergencyAlerts"`
	MedicationReminders  bool        `json:"medicationReminders"`
	AppointmentReminders bool        `json:"appointmentReminders"`
	ShiftReminders       bool        `json:"shiftReminders"`
	FamilyActivity       bool        `json:"familyActivity"`
	Email                bool        `json:"email"`
	Push                 bool        `json:"push"`
	SMS                  bool        `json:"sms"`
	QuietHours           *QuietHours `json:"quietHours"`
}

// QuietHours is a daily window, in the user's own zone, during which only
// emergencies interrupt. Start after End spans midnight.
type QuietHours struct {
	Enabled bool   `json:"enabled"`
	Start   string `json:"start"` // "HH:mm"
	End     string `json:"end"`   // "HH:mm"
}

// DefaultNotificationPreferences turns everything on except SMS.
func DefaultNotificationPreferences() NotificationPreferences {
	return NotificationPreferences{EmergencyAlerts: true, MedicationReminders: true, AppointmentReminders: true,
		ShiftReminders: true, FamilyActivity: true, Email: true, Push: true}
}

// ReadNotificationPreferences extracts the notification preferences from an
// account's preferences document, filling in defaults.
func ReadNotificationPreferences(prefs json.RawMessage) NotificationPreferences {
	out := DefaultNotificationPreferences()
	var doc struct {
		Notifications json.RawMessage `json:"notifications"`
	}
	if json.Unmarshal(prefs, &doc) == nil && len(doc.Notifications) > 0 {
		_ = json.Unmarshal(doc.Notifications, &out)
	}
	out.EmergencyAlerts = true
	return out
}

// WithNotificationPreferences returns prefs with its notification
// preferences replaced, keeping every other key.
func WithNotificationPreferences(prefs json.RawMessage, np NotificationPreferences) (json.RawMessage, error) {
	doc := map[string]json.RawMessage{}
	if len(prefs) > 0 {
		if err := json.Unmarshal(prefs, &doc); err != nil {
			doc = map[string]json.RawMessage{}
		}
	}
	np.EmergencyAlerts = true
	b, err := json.Marshal(np)
	if err != nil {
		return nil, err
	}
	doc["notifications"] = b
	return json.Marshal(doc)
}

// InQuietHours reports whether local (a time in the user's zone) falls in
// the quiet window.
func (q *QuietHours) InQuietHours(local time.Time) bool {
	if q == nil || !q.Enabled {
		return false
	}
	start, err1 := ParseClockTime(q.Start)
	end, err2 := ParseClockTime(q.End)
	if err1 != nil || err2 != nil || start == end {
		return false
	}
	m := local.Hour()*60 + local.Minute()
	s, e := start.Hour*60+start.Minute, end.Hour*60+end.Minute
	if s < e {
		return m >= s && m < e
	}
	return m >= s || m < e
}
