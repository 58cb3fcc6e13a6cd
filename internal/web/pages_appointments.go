package web

import (
	"net/http"
	"time"

	"github.com/carecircle/carecircle/internal/care"
)

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
		a, err := s.svc.Appointments.Get(r.Context(), *p.Viewer, "", id)
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
	c, err := s.svc.Appointments.Calendar(r.Context(), *p.Viewer, p.CR.ID, from, to)
	if err != nil {
		return "", err
	}
	var days []calendarDay
	for _, a := range c.Appointments {
		d := p.Day(a.StartTime)
		if len(days) == 0 || days[len(days)-1].Day != d {
			days = append(days, calendarDay{Day: d})
		}
		days[len(days)-1].Appointments = append(days[len(days)-1].Appointments, a)
	}
	data := map[string]any{"Days": days, "Members": c.Members, "Doctors": c.Doctors, "Types": care.AppointmentTypes(),
		"DefaultStart": now.Add(24 * time.Hour).Truncate(time.Hour)}
	if m, ok := p.Data.(map[string]any); ok {
		data["Open"] = m["Open"]
	}
	p.Data = data
	return "calendar", nil
}
