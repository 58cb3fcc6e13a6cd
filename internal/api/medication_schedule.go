package api

import (
	"fmt"
	"net/http"
	"time"

	"github.com/carecircle/carecircle/internal/care"
)

// todaysMedicationSchedule lays out, for each active medication in effect
// today, today's doses with their logs and status, and all of today's logs
// (as-needed doses included). "Today" is the current date where the care
// recipient lives, and each dose's instant is its wall-clock time on that
// date in their zone, DST included.
func (s *Server) todaysMedicationSchedule(w http.ResponseWriter, r *http.Request, p *Principal) error {
	cr, err := s.careRecipientAccess(r, p, "careRecipientId", anyMember)
	if err != nil {
		return err
	}
	loc, err := time.LoadLocation(cr.Timezone)
	if err != nil {
		return fmt.Errorf("care recipient %s: zone: %w", cr.ID, err)
	}
	now := s.clock.Now()
	at := now
	if v := r.URL.Query().Get("date"); v != "" {
		d, err := time.Parse(time.DateOnly, v)
		if err != nil || d.Year() < 1970 || d.Year() >= 2200 {
			return Problems{"date": {"must be a date in the form YYYY-MM-DD"}}.Err()
		}
		// Noon of that date in the zone: a time every day has.
		at = time.Date(d.Year(), d.Month(), d.Day(), 12, 0, 0, 0, loc)
	}
	year, month, day, start, end := care.LocalDay(at, loc)
	date := time.Date(year, month, day, 0, 0, 0, 0, time.UTC).Format(time.DateOnly)
	meds, err := s.store.Medications(r.Context(), cr.ID, true)
	if err != nil {
		return err
	}
	logs, err := s.store.CareRecipientDoseLogs(r.Context(), cr.ID, start, end)
	if err != nil {
		return err
	}
	byMedication := map[string][]care.MedicationLog{}
	for _, l := range logs {
		byMedication[l.MedicationID] = append(byMedication[l.MedicationID], l)
	}
	out := []care.DayScheduleEntry{}
	for _, m := range meds {
		if !care.InDateRange(date, m.StartDate, m.EndDate) {
			continue
		}
		out = append(out, care.DaySchedule(m, loc, year, month, day, byMedication[m.ID], now))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
