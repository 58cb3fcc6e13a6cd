package api

import (
	"net/http"
	"strconv"
	"time"

	"github.com/carecircle/carecircle/internal/care"
	"github.com/carecircle/carecircle/internal/feature/medications"
)

// Paging of a medication's dose logs.
const (
	defaultDoseLogLimit = 50
	maxDoseLogLimit     = 500
	maxSkipReasonLen    = 500
)

// doseLogBody is the body of POST /medications/{medicationId}/log. Its
// scheduledTime is either "HH:mm", that dose today in the care recipient's
// zone, or an instant, matched to the nearest dose of its local day
// (care.MatchDose): existing clients send both.
type doseLogBody struct {
	Status        string  `json:"status"`
	ScheduledTime string  `json:"scheduledTime"`
	SkipReason    *string `json:"skipReason"`
	Notes         *string `json:"notes"`

	at    time.Time      // the parsed instant, when an instant was given
	clock care.ClockTime // the parsed dose time, when "HH:mm" was given
	daily bool           // whether "HH:mm" was given
}

func (b *doseLogBody) Validate(p Problems) {
	p.oneOf("status", b.Status, care.DoseStatuses()...)
	if b.ScheduledTime == "" {
		p.Add("scheduledTime", "is required")
	} else if c, err := care.ParseClockTime(b.ScheduledTime); err == nil {
		b.clock, b.daily = c, true
	} else if t, err := time.Parse(time.RFC3339, b.ScheduledTime); err != nil {
		p.Add("scheduledTime", "must be a dose time HH:mm or an RFC 3339 timestamp such as 2026-03-08T08:00:00-05:00")
	} else {
		b.at = t.UTC()
	}
	b.SkipReason = p.optText("skipReason", b.SkipReason, maxSkipReasonLen)
	switch {
	case care.DoseStatus(b.Status) == care.DoseSkipped && b.SkipReason == nil:
		p.Add("skipReason", "is required when status is SKIPPED")
	case care.DoseStatus(b.Status) != care.DoseSkipped && b.SkipReason != nil:
		p.Add("skipReason", "is only allowed when status is SKIPPED")
	}
	b.Notes = p.optText("notes", b.Notes, maxNotesLen)
}

// logDose records what happened to one dose: 201 with a new log, 200 when
// it replaces a PENDING or MISSED one, 409 when the dose already has a final
// log or the medication is inactive. The rest of the family is notified.
func (s *Server) logDose(w http.ResponseWriter, r *http.Request, p *Principal) error {
	id, err := pathID(r, "medicationId")
	if err != nil {
		return err
	}
	log, created, err := s.svc.Medications.LogDose(r.Context(), *p, id, func() (medications.Dose, error) {
		var b doseLogBody
		err := decode(w, r, &b)
		return medications.Dose{Status: care.DoseStatus(b.Status), At: b.at, Clock: b.clock, Daily: b.daily,
			SkipReason: b.SkipReason, Notes: b.Notes}, err
	})
	if err != nil {
		return err
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	writeJSON(w, status, log)
	return nil
}

// listMedicationLogs lists a medication's dose logs, newest dose first,
// optionally within startDate..endDate (both inclusive; RFC 3339 instants,
// or YYYY-MM-DD dates in the care recipient's zone).
func (s *Server) listMedicationLogs(w http.ResponseWriter, r *http.Request, p *Principal) error {
	crID, medID, err := medicationIDs(r)
	if err != nil {
		return err
	}
	logs, err := s.svc.Medications.Logs(r.Context(), *p, crID, medID, func(loc *time.Location) (medications.LogRange, error) {
		return doseLogQuery(r, loc)
	})
	return writeOK(w, logs, err)
}

// doseLogQuery reads startDate, endDate and limit.
func doseLogQuery(r *http.Request, loc *time.Location) (medications.LogRange, error) {
	q := r.URL.Query()
	p := Problems{}
	rng := medications.LogRange{Limit: defaultDoseLogLimit}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxDoseLogLimit {
			p.Add("limit", "must be a whole number from 1 to "+strconv.Itoa(maxDoseLogLimit))
		}
		rng.Limit = n
	}
	rng.From, rng.To = p.dateRange(q, loc)
	return rng, p.Err()
}
