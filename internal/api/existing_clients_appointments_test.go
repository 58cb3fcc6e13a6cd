package api

import (
	"reflect"
	"testing"
	"time"
)

// TestAppointmentsAsExistingClientsSendThem: the add-appointment form sends
// dateTime, duration, doctorName and reminderBefore; pairs that disagree
// are refused and write nothing.
func TestAppointmentsAsExistingClientsSendThem(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, h *harness) {
		f := newFixture(t, h, newMatrixUsers(h))
		list := apptsPath(f.CareRecipientID)
		start := testStart.Add(48 * time.Hour)
		a := h.request("POST", list, f.caregiver.Token, map[string]any{
			"title": "Check-up", "type": "DOCTOR_VISIT", "dateTime": start.Format("2006-01-02T15:04:05.000Z"), "duration": 45,
			"doctorName": "dr. who", "location": "Clinic", "reminderBefore": []string{"1day", "1hour", "1week", "30min"},
		}).expect(201).Map()
		if a["startTime"] != start.Format(time.RFC3339) || a["endTime"] != start.Add(45*time.Minute).Format(time.RFC3339) ||
			a["doctorId"] != f.DoctorID || !reflect.DeepEqual(a["reminderMinutes"], []any{30.0, 60.0, 1440.0, 10080.0}) {
			t.Fatalf("created = %v", a)
		}
		// A doctor the care recipient does not have is kept in the notes.
		b := h.request("POST", list, f.caregiver.Token, map[string]any{
			"title": "Eyes", "type": "SPECIALIST", "dateTime": start.Add(24 * time.Hour).Format(time.RFC3339), "duration": 60,
			"doctorName": "Dr. Lin", "notes": "Bring glasses", "isRecurring": false,
		}).expect(201).Map()
		if b["doctorId"] != nil || b["notes"] != "Doctor: Dr. Lin\nBring glasses" {
			t.Fatalf("unknown doctor = %v", b)
		}
		before := len(h.request("GET", list, f.viewer.Token, nil).expect(200).List())
		for name, body := range map[string]map[string]any{
			"dateTime and startTime disagree": {"startTime": start.Format(time.RFC3339), "dateTime": start.Add(time.Hour).Format(time.RFC3339), "duration": 30},
			"duration and endTime disagree":   {"dateTime": start.Format(time.RFC3339), "duration": 30, "endTime": start.Add(time.Hour).Format(time.RFC3339)},
			"duration too short":              {"dateTime": start.Format(time.RFC3339), "duration": 5},
			"duration not a number":           {"dateTime": start.Format(time.RFC3339), "duration": "1h"},
			"unknown lead time":               {"dateTime": start.Format(time.RFC3339), "duration": 30, "reminderBefore": []string{"soon"}},
			"reminders disagree":              {"dateTime": start.Format(time.RFC3339), "duration": 30, "reminderBefore": []string{"1day"}, "reminderMinutes": []int{60}},
			"recurring without a rule":        {"dateTime": start.Format(time.RFC3339), "duration": 30, "isRecurring": true},
			"doctorId and doctorName":         {"dateTime": start.Format(time.RFC3339), "duration": 30, "doctorId": f.DoctorID, "doctorName": "Dr. Who"},
		} {
			body["title"], body["type"] = "Bad", "DOCTOR_VISIT"
			if res := h.request("POST", list, f.caregiver.Token, body); res.Status != 400 {
				t.Errorf("%s: status %d: %s", name, res.Status, res.Body)
			} else {
				res.errorEnvelope(400)
			}
		}
		if after := len(h.request("GET", list, f.viewer.Token, nil).expect(200).List()); after != before {
			t.Fatalf("refused bodies wrote appointments: %d → %d", before, after)
		}
	})
}
