package api

import (
	"context"
	"fmt"
	"testing"

	"github.com/carecircle/carecircle/internal/care"
	"github.com/carecircle/carecircle/internal/store"
)

// emergencyMatrix covers every emergency route. Each action case raises a
// fresh ACTIVE alert on its fixture, so every caller acts on an alert that
// allows the action.
func emergencyMatrix() []matrixCase {
	const base = "/care-recipients/%s/emergency"
	alert := func(suffix string, body any) func(f *fixture) (string, any) {
		return func(f *fixture) (string, any) {
			f.t.Helper()
			a, err := f.h.store.CreateEmergencyAlert(context.Background(), store.NewEmergencyAlert{CareRecipientID: f.CareRecipientID,
				CreatedByID: f.caregiver.ID, Type: care.AlertFall, Title: "Fall", Description: "In the garden"})
			if err != nil {
				f.t.Fatal(err)
			}
			return fmt.Sprintf(base+"/alerts/%s%s", f.CareRecipientID, a.ID, suffix), body
		}
	}
	raise := map[string]any{"type": "MEDICAL", "title": "Chest pain", "description": "Short of breath", "location": "Living room"}
	return []matrixCase{
		{"emergency info", "GET", path(base+"/info", careRecipientID), member(200)},
		{"raise alert", "POST", withBody(raise, base+"/alerts", careRecipientID), nonViewer(201)},
		{"open alerts", "GET", path(base+"/alerts", careRecipientID), member(200)},
		{"alert history", "GET", path(base+"/alerts/history?limit=5", careRecipientID), member(200)},
		{"acknowledge alert", "POST", alert("/acknowledge", nil), member(200)},
		{"resolve alert", "POST", alert("/resolve", map[string]any{"resolutionNotes": "All fine"}), nonViewer(200)},
	}
}

func TestPermissionMatrixEmergency(t *testing.T) {
	t.Parallel()
	runMatrix(t, emergencyMatrix())
}
