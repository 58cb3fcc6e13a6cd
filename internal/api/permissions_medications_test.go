package api

import (
	"context"
	"testing"

	"github.com/carecircle/carecircle/internal/care"
)

// matrixMedicationID creates a daily 08:00 medication for the fixture's
// care recipient (in Tokyo) and returns its id.
func matrixMedicationID(f *fixture) string {
	f.t.Helper()
	m, err := f.h.store.CreateMedication(context.Background(), care.Medication{
		CareRecipientID: f.CareRecipientID, Name: "Metformin", Dosage: "500 mg", Form: care.FormTablet,
		Frequency: care.FrequencyDaily, ScheduledTimes: []string{"08:00"}, IsActive: true,
	})
	if err != nil {
		f.t.Fatal(err)
	}
	return m.ID
}

// medicationsMatrix covers every medication route.
func medicationsMatrix() []matrixCase {
	create := map[string]any{"name": "Aspirin", "dosage": "100 mg", "form": "TABLET", "frequency": "DAILY", "scheduledTimes": []string{"09:00"}}
	// 08:00 on 2 March in Tokyo, a dose of the day before the fixture's clock.
	dose := map[string]any{"status": "GIVEN", "scheduledTime": "2026-03-01T23:00:00Z"}
	return []matrixCase{
		{"create medication", "POST", withBody(create, "/care-recipients/%s/medications", careRecipientID), nonViewer(201)},
		{"list medications", "GET", path("/care-recipients/%s/medications?activeOnly=false", careRecipientID), member(200)},
		{"today's schedule", "GET", path("/care-recipients/%s/medications/schedule/today", careRecipientID), member(200)},
		{"get medication", "GET", path("/care-recipients/%s/medications/%s", careRecipientID, matrixMedicationID), member(200)},
		{"patch medication", "PATCH", withBody(map[string]any{"notes": "with food"}, "/care-recipients/%s/medications/%s", careRecipientID, matrixMedicationID), nonViewer(200)},
		{"delete medication", "DELETE", path("/care-recipients/%s/medications/%s", careRecipientID, matrixMedicationID), nonViewer(200)},
		{"deactivate medication", "PATCH", path("/care-recipients/%s/medications/%s/deactivate", careRecipientID, matrixMedicationID), nonViewer(200)},
		{"medication logs", "GET", path("/care-recipients/%s/medications/%s/logs?startDate=2026-03-01&endDate=2026-03-02&limit=10", careRecipientID, matrixMedicationID), member(200)},
		{"log dose", "POST", withBody(dose, "/medications/%s/log", matrixMedicationID), nonViewer(201)},
	}
}

func TestPermissionMatrixMedications(t *testing.T) {
	t.Parallel()
	runMatrix(t, medicationsMatrix())
}
