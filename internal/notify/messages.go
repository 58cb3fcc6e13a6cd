package notify

import (
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"time"

	"github.com/carecircle/carecircle/internal/care"
	"github.com/carecircle/carecircle/internal/mail"
	"github.com/carecircle/carecircle/internal/notify/webpush"
)

// refs are the identifiers a notification's data may carry.
type refs struct {
	CareRecipientID string `json:"careRecipientId"`
	MedicationID    string `json:"medicationId"`
	AppointmentID   string `json:"appointmentId"`
	ShiftID         string `json:"shiftId"`
	AlertID         string `json:"alertId"`
	EntryID         string `json:"entryId"`
	DocumentID      string `json:"documentId"`
	ScheduledTime   string `json:"scheduledTime"`
	Timezone        string `json:"timezone"`
	Type            string `json:"type"`
	Location        string `json:"location"`
	Description     string `json:"description"`
	RaisedBy        string `json:"raisedBy"`
}

func readRefs(n *care.Notification) refs {
	var r refs
	_ = json.Unmarshal(n.Data, &r)
	return r
}

// NotificationURL is the web app page a notification opens.
func NotificationURL(n *care.Notification, publicURL string) string {
	r := readRefs(n)
	base := strings.TrimRight(publicURL, "/")
	switch {
	case r.AlertID != "":
		return base + "/emergency/" + r.AlertID
	case n.Type == care.NotifyEmergencyAlert:
		return base + "/emergency"
	case r.AppointmentID != "":
		return base + "/calendar?appointment=" + r.AppointmentID
	case r.ShiftID != "":
		return base + "/shifts/" + r.ShiftID
	case r.MedicationID != "":
		return base + "/medications"
	case r.DocumentID != "":
		return base + "/documents"
	case r.EntryID != "" || n.Type == care.NotifyTimelineUpdate:
		return base + "/timeline"
	case n.Type == care.NotifyFamilyInvitation || n.Type == care.NotifyFamilyUpdate:
		return base + "/family"
	}
	return base + "/notifications"
}

// PushMessage is what the service worker shows for n: emergencies stay on
// screen until acted on; reminders offer their one-tap action.
func PushMessage(n *care.Notification, publicURL string) webpush.Message {
	r := readRefs(n)
	m := webpush.Message{
		Title: n.Title,
		Body:  n.Body,
		Icon:  "/static/icons/icon-192.png",
		Tag:   string(n.Type) + ":" + n.ID,
		URL:   NotificationURL(n, publicURL),
		Data:  map[string]any{"notificationId": n.ID, "type": string(n.Type)},
	}
	switch n.Type {
	case care.NotifyEmergencyAlert:
		m.RequireInteraction = true
		m.Tag = "emergency:" + r.AlertID
		m.Actions = []webpush.Action{{Action: "acknowledge", Title: "Acknowledge"}, {Action: "open", Title: "Open"}}
		m.Data["alertId"] = r.AlertID
	case care.NotifyMedicationReminder, care.NotifyMedicationMissed:
		m.Tag = "dose:" + r.MedicationID + ":" + r.ScheduledTime
		m.Actions = []webpush.Action{{Action: "log-dose", Title: "Log dose"}, {Action: "open", Title: "Open"}}
		m.Data["medicationId"], m.Data["scheduledTime"] = r.MedicationID, r.ScheduledTime
	}
	if r.CareRecipientID != "" {
		m.Data["careRecipientId"] = r.CareRecipientID
	}
	return m
}

// EmailFor renders the email for n, if its kind has one; timeBound says the
// message is worthless after its moment (a reminder), so it is downgraded
// rather than deferred when the quota is spent. Family activity goes to the
// app and push only.
func (c *EmailChannel) EmailFor(ctx context.Context, n *care.Notification, u *care.User) (m mail.Message, timeBound, ok bool) {
	r := readRefs(n)
	crName := ""
	tz := u.Timezone
	if r.CareRecipientID != "" {
		if cr, err := c.Store.CareRecipient(ctx, r.CareRecipientID); err == nil {
			crName = cr.CalledBy()
			// Times are the care recipient's, as in the app and in push.
			if cr.Timezone != "" {
				tz = cr.Timezone
			}
		}
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		loc = time.UTC
	}
	at := c.Clock.Now()
	if t, err := time.Parse(time.RFC3339, r.ScheduledTime); err == nil {
		at = t
	}
	at = at.In(loc)
	url := NotificationURL(n, c.PublicURL)
	var name string
	var data any
	switch n.Type {
	case care.NotifyEmergencyAlert:
		name = "emergency-alert"
		data = mail.EmergencyAlertData{Name: u.FullName, RaisedBy: r.RaisedBy, CareRecipientName: crName, Type: r.Type,
			Title: n.Title, Description: firstNonEmpty(r.Description, n.Body), Location: r.Location, RaisedAt: n.CreatedAt.In(loc), AlertURL: url}
	case care.NotifyMedicationReminder, care.NotifyMedicationMissed:
		name, timeBound = "medication-reminder", true
		med, dosage := n.Title, ""
		if r.MedicationID != "" {
			if x, err := c.Store.Medication(ctx, r.MedicationID); err == nil {
				med, dosage = x.Name, x.Dosage
			}
		}
		data = mail.MedicationReminderData{Name: u.FullName, CareRecipientName: crName, MedicationName: med, Dosage: dosage,
			Instructions: n.Body, DueAt: at, MedicationsURL: url}
	case care.NotifyAppointmentReminder:
		name, timeBound = "appointment-reminder", true
		data = mail.AppointmentReminderData{Name: u.FullName, CareRecipientName: crName, Title: strings.TrimPrefix(n.Title, "Appointment reminder: "),
			StartsAt: at, AppointmentURL: url}
	case care.NotifyShiftReminder:
		name, timeBound = "shift-reminder", true
		end := at
		if r.ShiftID != "" {
			if sh, err := c.Store.Shift(ctx, r.ShiftID); err == nil {
				end = sh.EndTime.In(loc)
			}
		}
		data = mail.ShiftReminderData{Name: u.FullName, CareRecipientName: crName, StartsAt: at, EndsAt: end, ShiftURL: url}
	case care.NotifyRefillAlert:
		name = "refill-alert"
		med, left := n.Title, 0
		if r.MedicationID != "" {
			if x, err := c.Store.Medication(ctx, r.MedicationID); err == nil {
				med = x.Name
				if x.CurrentSupply != nil {
					left = *x.CurrentSupply
				}
			}
		}
		data = mail.RefillAlertData{Name: u.FullName, CareRecipientName: crName, MedicationName: med, Remaining: left, MedicationsURL: url}
	default:
		return mail.Message{}, false, false
	}
	m, err = mail.Render(name, language(u), data)
	if err != nil {
		c.Logger.Error("notify: render email", slog.String("template", name), slog.Any("error", err))
		return mail.Message{}, false, false
	}
	m.To = u.Email
	return m, timeBound, true
}

// language is the user's preferred language for email, English by default.
func language(u *care.User) string {
	var p struct {
		Language string `json:"language"`
	}
	if json.Unmarshal(u.Preferences, &p) == nil && p.Language != "" {
		return p.Language
	}
	return "en"
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
