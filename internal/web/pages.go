package web

import (
	"errors"
	"net/http"
	"slices"
	"time"

	"github.com/carecircle/carecircle/internal/auth"
	"github.com/carecircle/carecircle/internal/care"
	"github.com/carecircle/carecircle/internal/store"
)

// acceptInvite shows an invitation to whoever holds its link; accepting
// needs an account with the invited email.
func (s *Server) acceptInvite(w http.ResponseWriter, r *http.Request) {
	v, _ := s.signedIn(r)
	token := r.PathValue("token")
	d, err := s.store.InvitationDetails(r.Context(), auth.HashToken(token))
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "accept", &page{Title: "Join a family", Viewer: v, Public: true, Data: map[string]any{
		"Invitation": d, "Token": token, "Next": safeNext(r.URL.Path),
	}})
}

// onboarding walks a new user through creating a family, adding the person
// they care for and inviting the others; the step follows from what exists.
func (s *Server) onboarding(w http.ResponseWriter, r *http.Request, p *page) (string, error) {
	p.Title = "Get started"
	step := 1
	var invites []care.Invitation
	switch {
	case p.Family == nil:
	case p.CR == nil:
		step = 2
	default:
		step = 3
		if p.IsAdmin() {
			var err error
			if invites, err = s.store.PendingInvitations(r.Context(), p.Family.ID); err != nil {
				return "", err
			}
		}
	}
	p.Data = map[string]any{"Step": step, "Invitations": invites, "Zones": commonZones(p.Viewer.User.Timezone)}
	return "onboarding", nil
}

// doseRow is one dose of today's schedule on the dashboard.
type doseRow struct {
	Medication care.Medication
	Dose       care.ScheduledDose
}

// todaysDoses lays out the care recipient's doses of their local today.
func (s *Server) todaysDoses(r *http.Request, cr *care.CareRecipient, now time.Time) ([]doseRow, error) {
	loc := zone(cr.Timezone)
	year, month, day, start, end := care.LocalDay(now, loc)
	meds, err := s.store.Medications(r.Context(), cr.ID, true)
	if err != nil {
		return nil, err
	}
	logs, err := s.store.CareRecipientDoseLogs(r.Context(), cr.ID, start, end)
	if err != nil {
		return nil, err
	}
	byMed := map[string][]care.MedicationLog{}
	for _, l := range logs {
		byMed[l.MedicationID] = append(byMed[l.MedicationID], l)
	}
	var rows []doseRow
	for _, m := range meds {
		for _, d := range care.DaySchedule(m, loc, year, month, day, byMed[m.ID], now).Doses {
			rows = append(rows, doseRow{Medication: m, Dose: d})
		}
	}
	slices.SortStableFunc(rows, func(a, b doseRow) int { return a.Dose.ScheduledAt.Compare(b.Dose.ScheduledAt) })
	return rows, nil
}

// dashboard shows today at a glance for the chosen care recipient.
func (s *Server) dashboard(w http.ResponseWriter, r *http.Request, p *page) (string, error) {
	if len(p.Families) == 0 {
		http.Redirect(w, r, "/onboarding", http.StatusSeeOther)
		return "", nil
	}
	p.Title = "Today"
	ctx := r.Context()
	now := s.clock.Now()
	data := map[string]any{}
	if p.CR != nil {
		doses, err := s.todaysDoses(r, p.CR, now)
		if err != nil {
			return "", err
		}
		appts, err := s.store.Appointments(ctx, p.CR.ID, store.AppointmentFilter{EndAfter: &now,
			Statuses: []care.AppointmentStatus{care.AppointmentScheduled, care.AppointmentConfirmed}})
		if err != nil {
			return "", err
		}
		if len(appts) > 3 {
			appts = appts[:3]
		}
		onDuty, err := s.store.OnDutyShifts(ctx, p.CR.ID)
		if err != nil {
			return "", err
		}
		var current *care.Shift
		if len(onDuty) == 0 {
			if current, err = s.store.CurrentShift(ctx, p.CR.ID, now); err != nil && !errors.Is(err, store.ErrNotFound) {
				return "", err
			}
		}
		data["Doses"], data["Appointments"], data["OnDuty"], data["Current"] = doses, appts, onDuty, current
	}
	unread, err := s.store.UserNotifications(ctx, p.Viewer.User.ID, store.NotificationQuery{UnreadOnly: true, Limit: 5})
	if err != nil {
		return "", err
	}
	count, err := s.store.UnreadNotificationCount(ctx, p.Viewer.User.ID)
	if err != nil {
		return "", err
	}
	data["Unread"], data["UnreadCount"] = unread, count
	p.Data = data
	return "dashboard", nil
}

// careRecipients lists everyone the viewer's families care for.
func (s *Server) careRecipients(w http.ResponseWriter, r *http.Request, p *page) (string, error) {
	p.Title = "People we care for"
	return "carerecipients", nil
}

// careRecipientPage shows one care recipient's profile, doctors and
// emergency contacts.
func (s *Server) careRecipientPage(w http.ResponseWriter, r *http.Request, p *page) (string, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return "", err
	}
	if err := p.focus(id); err != nil {
		return "", err
	}
	p.Title = p.CR.FullName
	docs, err := s.store.Doctors(r.Context(), id)
	if err != nil {
		return "", err
	}
	contacts, err := s.store.EmergencyContacts(r.Context(), id)
	if err != nil {
		return "", err
	}
	p.Data = map[string]any{"Doctors": docs, "Contacts": contacts, "BloodTypes": bloodTypes}
	return "carerecipient", nil
}

var bloodTypes = []string{"A+", "A-", "B+", "B-", "AB+", "AB-", "O+", "O-", "Unknown"}

// medications lists the care recipient's medications with today's doses.
func (s *Server) medications(w http.ResponseWriter, r *http.Request, p *page) (string, error) {
	p.Title = "Medications"
	if p.CR == nil {
		return "medications", nil
	}
	meds, err := s.store.Medications(r.Context(), p.CR.ID, false)
	if err != nil {
		return "", err
	}
	doses, err := s.todaysDoses(r, p.CR, s.clock.Now())
	if err != nil {
		return "", err
	}
	p.Data = map[string]any{"Medications": meds, "Doses": doses, "Forms": care.MedicationForms(), "Frequencies": care.MedicationFrequencies()}
	return "medications", nil
}

// calendarDay is one day of appointments.
type calendarDay struct {
	Day          string
	Appointments []care.Appointment
}

// calendar lists the care recipient's appointments from a week ago to two
// months ahead, by the viewer's day; ?appointment= opens one.
func (s *Server) calendar(w http.ResponseWriter, r *http.Request, p *page) (string, error) {
	p.Title = "Calendar"
	if id := r.URL.Query().Get("appointment"); id != "" {
		a, err := s.store.Appointment(r.Context(), id)
		if err != nil {
			return "", errNotFound
		}
		if err := p.focus(a.CareRecipientID); err != nil {
			return "", err
		}
		p.Data = map[string]any{"Open": a}
	}
	if p.CR == nil {
		return "calendar", nil
	}
	now := s.clock.Now()
	from, to := now.AddDate(0, 0, -7), now.AddDate(0, 2, 0)
	appts, err := s.store.Appointments(r.Context(), p.CR.ID, store.AppointmentFilter{StartFrom: &from, StartBefore: &to})
	if err != nil {
		return "", err
	}
	var days []calendarDay
	for _, a := range appts {
		d := p.Day(a.StartTime)
		if len(days) == 0 || days[len(days)-1].Day != d {
			days = append(days, calendarDay{Day: d})
		}
		days[len(days)-1].Appointments = append(days[len(days)-1].Appointments, a)
	}
	members, err := s.store.Members(r.Context(), p.Family.ID)
	if err != nil {
		return "", err
	}
	doctors, err := s.store.Doctors(r.Context(), p.CR.ID)
	if err != nil {
		return "", err
	}
	data := map[string]any{"Days": days, "Members": members, "Doctors": doctors, "Types": care.AppointmentTypes(),
		"DefaultStart": now.Add(24 * time.Hour).Truncate(time.Hour)}
	if m, ok := p.Data.(map[string]any); ok {
		data["Open"] = m["Open"]
	}
	p.Data = data
	return "calendar", nil
}

// caregivers lists who is on duty and the shifts of the next two weeks.
func (s *Server) caregivers(w http.ResponseWriter, r *http.Request, p *page) (string, error) {
	p.Title = "Caregiver shifts"
	if p.CR == nil {
		return "caregivers", nil
	}
	now := s.clock.Now()
	ctx := r.Context()
	upcoming, err := s.store.ShiftsOverlapping(ctx, p.CR.ID, now.Add(-24*time.Hour), now.AddDate(0, 0, 14))
	if err != nil {
		return "", err
	}
	members, err := s.store.Members(ctx, p.Family.ID)
	if err != nil {
		return "", err
	}
	members = slices.DeleteFunc(members, func(m care.Member) bool { return !m.Role.CanWrite() })
	p.Data = map[string]any{"Shifts": upcoming, "Members": members, "DefaultStart": now.Add(time.Hour).Truncate(time.Hour)}
	return "caregivers", nil
}

// shiftPage shows one shift with its check-in, check-out and handoff.
func (s *Server) shiftPage(w http.ResponseWriter, r *http.Request, p *page) (string, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return "", err
	}
	sh, err := s.store.Shift(r.Context(), id)
	if err != nil {
		return "", err
	}
	if err := p.focus(sh.CareRecipientID); err != nil {
		return "", err
	}
	p.Title = "Shift"
	p.Data = map[string]any{"Shift": sh, "Mine": sh.CaregiverID == p.Viewer.User.ID}
	return "shift", nil
}

// emergency is the alerts page with the printable emergency info card; the
// alerts and the card come from the API, so they are kept fresh offline by
// the service worker.
func (s *Server) emergency(w http.ResponseWriter, r *http.Request, p *page) (string, error) {
	p.Title = "Emergency"
	p.Data = map[string]any{"AlertID": r.PathValue("id"), "Types": []string{"FALL", "MEDICAL", "MISSING", "HOSPITALIZATION", "OTHER"}}
	return "emergency", nil
}

// timeline is the care recipient's journal with the vitals chart.
func (s *Server) timeline(w http.ResponseWriter, r *http.Request, p *page) (string, error) {
	p.Title = "Timeline"
	p.Data = map[string]any{
		"Types":      []string{"NOTE", "VITALS", "SYMPTOM", "INCIDENT", "MOOD", "MEAL", "ACTIVITY", "SLEEP", "BATHROOM", "MEDICATION_CHANGE", "APPOINTMENT_SUMMARY", "OTHER"},
		"Severities": []string{"LOW", "MEDIUM", "HIGH", "CRITICAL"},
		"Now":        p.LocalInput(s.clock.Now()),
	}
	return "timeline", nil
}

// documents lists the family's documents.
func (s *Server) documents(w http.ResponseWriter, r *http.Request, p *page) (string, error) {
	p.Title = "Documents"
	if p.Family == nil {
		return "documents", nil
	}
	docs, err := s.store.Documents(r.Context(), p.Family.ID)
	if err != nil {
		return "", err
	}
	p.Data = map[string]any{"Documents": docs, "Types": []string{"INSURANCE_CARD", "PHOTO_ID", "MEDICAL_RECORD", "LAB_RESULT",
		"PRESCRIPTION", "POWER_OF_ATTORNEY", "LIVING_WILL", "DNR", "OTHER"},
		"CanUpload": p.Family.Role == care.RoleAdmin || p.Family.Role == care.RoleCaregiver}
	return "documents", nil
}

// family shows the members, their roles and the pending invitations.
func (s *Server) family(w http.ResponseWriter, r *http.Request, p *page) (string, error) {
	p.Title = "Family"
	if p.Family == nil {
		return "family", nil
	}
	members, err := s.store.Members(r.Context(), p.Family.ID)
	if err != nil {
		return "", err
	}
	invites, err := s.store.PendingInvitations(r.Context(), p.Family.ID)
	if err != nil {
		return "", err
	}
	p.Data = map[string]any{"Members": members, "Invitations": invites, "Roles": care.Roles()}
	return "family", nil
}

// notifications lists the viewer's notifications, newest first.
func (s *Server) notifications(w http.ResponseWriter, r *http.Request, p *page) (string, error) {
	p.Title = "Notifications"
	list, err := s.store.UserNotifications(r.Context(), p.Viewer.User.ID, store.NotificationQuery{Limit: 100})
	if err != nil {
		return "", err
	}
	p.Data = map[string]any{"Notifications": list}
	return "notifications", nil
}

// settings shows the profile, password, notification preferences, push,
// export and account deletion.
func (s *Server) settings(w http.ResponseWriter, r *http.Request, p *page) (string, error) {
	p.Title = "Settings"
	prefs := care.ReadNotificationPreferences(p.Viewer.User.Preferences)
	if prefs.QuietHours == nil {
		prefs.QuietHours = &care.QuietHours{Start: "22:00", End: "07:00"}
	}
	p.Data = map[string]any{"Prefs": prefs, "Zones": commonZones(p.Viewer.User.Timezone)}
	return "settings", nil
}

// commonZones offers the zones families most often live in, with the
// user's own first.
func commonZones(mine string) []string {
	zones := []string{"America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles", "America/Anchorage",
		"Pacific/Honolulu", "America/Toronto", "America/Mexico_City", "America/Sao_Paulo", "Europe/London", "Europe/Dublin",
		"Europe/Paris", "Europe/Berlin", "Europe/Madrid", "Europe/Rome", "Europe/Warsaw", "Europe/Athens", "Africa/Lagos",
		"Africa/Johannesburg", "Asia/Dubai", "Asia/Kolkata", "Asia/Singapore", "Asia/Shanghai", "Asia/Tokyo", "Asia/Seoul",
		"Australia/Sydney", "Pacific/Auckland", "UTC"}
	if mine != "" && !slices.Contains(zones, mine) {
		zones = append([]string{mine}, zones...)
	}
	return zones
}
