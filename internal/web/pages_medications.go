package web

import (
	"net/http"
	"slices"

	"github.com/carecircle/carecircle/internal/care"
)

// doseRow is one dose of today's schedule on the dashboard.
type doseRow struct {
	Medication care.Medication
	Dose       care.ScheduledDose
}

// todaysDoses lays out the care recipient's doses of their local today, in
// the order they are due.
func (s *Server) todaysDoses(r *http.Request, v *viewer, cr *care.CareRecipient) ([]doseRow, error) {
	day, err := s.svc.Medications.Today(r.Context(), *v, cr.ID, nil)
	if err != nil {
		return nil, err
	}
	var rows []doseRow
	for _, e := range day {
		for _, d := range e.Doses {
			rows = append(rows, doseRow{Medication: e.Medication, Dose: d})
		}
	}
	slices.SortStableFunc(rows, func(a, b doseRow) int { return a.Dose.ScheduledAt.Compare(b.Dose.ScheduledAt) })
	return rows, nil
}

// medications lists the care recipient's medications with today's doses.
func (s *Server) medications(w http.ResponseWriter, r *http.Request, p *page) (string, error) {
	p.Title = "Medications"
	if p.CR == nil {
		return "medications", nil
	}
	meds, err := s.svc.Medications.List(r.Context(), *p.Viewer, p.CR.ID, false)
	if err != nil {
		return "", err
	}
	doses, err := s.todaysDoses(r, p.Viewer, p.CR)
	if err != nil {
		return "", err
	}
	p.Data = map[string]any{"Medications": meds, "Doses": doses, "Forms": care.MedicationForms(), "Frequencies": care.MedicationFrequencies()}
	return "medications", nil
}
