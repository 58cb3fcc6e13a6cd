package api

import (
	"testing"
)

// TestValidationNamesEveryProblem: an unknown field does not hide missing
// required ones.
func TestValidationNamesEveryProblem(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, h *harness) {
		f := newFixture(t, h, newMatrixUsers(h))
		m := h.request("POST", medicationsPath(f.CareRecipientID), f.admin.Token, map[string]any{
			"name": "Aspirin", "colour": "white", "dosage": 5,
		}).errorEnvelope(400)
		fe := fieldErrors(m)
		for _, field := range []string{"colour", "dosage", "form", "frequency"} {
			if fe[field] == nil {
				t.Errorf("errors %v do not name %s", fe, field)
			}
		}
		if len(fe["dosage"].([]any)) != 1 {
			t.Errorf("a mistyped dosage has more than its type error: %v", fe["dosage"])
		}
		if m["message"] != "Validation failed for: colour, dosage, form, frequency" {
			t.Errorf("message = %v", m["message"])
		}
		if l := h.request("GET", medicationsPath(f.CareRecipientID), f.admin.Token, nil).expect(200).List(); len(l) != 0 {
			t.Fatalf("a refused body wrote %v", l)
		}
	})
}
