package web

import (
	"net/http"
	"time"

	"github.com/carecircle/carecircle/internal/care"
	"github.com/carecircle/carecircle/internal/store"
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
