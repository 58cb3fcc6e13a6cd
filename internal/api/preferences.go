package api

import (
	"net/http"

	"github.com/carecircle/carecircle/internal/care"
)

func (s *Server) preferenceRoutes() {
	s.authed("GET", "/user/preferences/notifications", s.getNotificationPreferences)
	s.authed("PATCH", "/user/preferences/notifications", s.patchNotificationPreferences)
}

func (s *Server) getNotificationPreferences(w http.ResponseWriter, _ *http.Request, p *Principal) error {
	writeJSON(w, http.StatusOK, s.svc.Notifications.Preferences(*p))
	return nil
}

// preferencesPatch is the body of PATCH /user/preferences/notifications;
// absent fields keep their value.
type preferencesPatch struct {
	EmergencyAlerts      *bool                      `json:"emergencyAlerts"`
	MedicationReminders  *bool                      `json:"medicationReminders"`
	AppointmentReminders *bool                      `json:"appointmentReminders"`
	ShiftReminders       *bool                      `json:"shiftReminders"`
	FamilyActivity       *bool                      `json:"familyActivity"`
	Email                *bool                      `json:"email"`
	Push                 *bool                      `json:"push"`
	SMS                  *bool                      `json:"sms"`
	QuietHours           Optional[*care.QuietHours] `json:"quietHours"`
}

// Validate refuses turning emergency alerts off and malformed quiet hours.
func (b *preferencesPatch) Validate(p Problems) {
	if b.EmergencyAlerts != nil && !*b.EmergencyAlerts {
		p.Add("emergencyAlerts", "cannot be turned off")
	}
	if q := b.QuietHours.Value; b.QuietHours.Set && !b.QuietHours.Null && q != nil {
		if _, err := care.ParseClockTime(q.Start); err != nil {
			p.Add("quietHours.start", "must be HH:mm")
		}
		if _, err := care.ParseClockTime(q.End); err != nil {
			p.Add("quietHours.end", "must be HH:mm")
		}
		if q.Start == q.End && q.Start != "" {
			p.Add("quietHours", "start and end must differ")
		}
	}
}

// apply writes the patch onto np.
func (b *preferencesPatch) apply(np *care.NotificationPreferences) error {
	for _, f := range []struct {
		dst *bool
		src *bool
	}{
		{&np.MedicationReminders, b.MedicationReminders}, {&np.AppointmentReminders, b.AppointmentReminders},
		{&np.ShiftReminders, b.ShiftReminders}, {&np.FamilyActivity, b.FamilyActivity},
		{&np.Email, b.Email}, {&np.Push, b.Push}, {&np.SMS, b.SMS},
	} {
		if f.src != nil {
			*f.dst = *f.src
		}
	}
	if b.QuietHours.Set {
		np.QuietHours = b.QuietHours.Value
	}
	return nil
}

func (s *Server) patchNotificationPreferences(w http.ResponseWriter, r *http.Request, p *Principal) error {
	var b preferencesPatch
	if err := decode(w, r, &b); err != nil {
		return err
	}
	np, err := s.svc.Notifications.UpdatePreferences(r.Context(), *p, b.apply)
	return writeOK(w, np, err)
}
