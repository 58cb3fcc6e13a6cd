package api

import (
	"reflect"
	"testing"
	"time"
)

// TestAppointmentPatchAsExistingClientsSendIt: an edit sends the add form's
// fields (dateTime, duration, doctorName, reminderBefore, isRecurring), and
// they map as on create; a pair that disagrees is a 400 that changes
// nothing.
func TestAppointmentPatchAsExistingClientsSendIt(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, h *harness) {
		f := newFixture(t, h, newMatrixUsers(h))
		start := testStart.Add(48 * time.Hour)
		a := h.request("POST", apptsPath(f.CareRecipientID), f.caregiver.Token, apptBody(start)).expect(201).Map()
		item := "/appointments/" + a["id"].(string)
		patch := func(body map[string]any) map[string]any {
			t.Helper()
			return h.request("PATCH", item, f.caregiver.Token, body).expect(200).Map()
		}
		moved := start.Add(2 * time.Hour)
		got := patch(map[string]any{"dateTime": moved.Format("2006-01-02T15:04:05.000Z"), "duration": 90})
		if got["startTime"] != moved.Format(time.RFC3339) || got["endTime"] != moved.Add(90*time.Minute).Format(time.RFC3339) {
			t.Fatalf("dateTime and duration: %v – %v", got["startTime"], got["endTime"])
		}
		// A duration alone runs from the appointment's own start.
		if got = patch(map[string]any{"duration": 30}); got["startTime"] != moved.Format(time.RFC3339) || got["endTime"] != moved.Add(30*time.Minute).Format(time.RFC3339) {
			t.Fatalf("duration alone: %v – %v", got["startTime"], got["endTime"])
		}
		if got = patch(map[string]any{"doctorName": "DR. WHO", "reminderBefore": []string{"1day", "1 hour"}, "isRecurring": false}); got["doctorId"] != f.DoctorID ||
			!reflect.DeepEqual(got["reminderMinutes"], []any{60.0, 1440.0}) {
			t.Fatalf("doctorName and reminderBefore: %v", got)
		}
		// A doctor the care recipient does not have heads the notes, in
		// place of the one named before.
		if got = patch(map[string]any{"doctorName": "Dr. Lin", "notes": "Fasting"}); got["doctorId"] != nil || got["notes"] != "Doctor: Dr. Lin\nFasting" {
			t.Fatalf("unknown doctor: %v", got)
		}
		if got = patch(map[string]any{"doctorName": "Dr. Kay"}); got["notes"] != "Doctor: Dr. Kay\nFasting" {
			t.Fatalf("second unknown doctor: notes %q", got["notes"])
		}

		before := h.request("GET", item, f.viewer.Token, nil).expect(200).Map()
		for name, body := range map[string]map[string]any{
			"dateTime and startTime disagree": {"startTime": start.Format(time.RFC3339), "dateTime": start.Add(time.Hour).Format(time.RFC3339)},
			"duration and endTime disagree":   {"dateTime": start.Format(time.RFC3339), "duration": 30, "endTime": start.Add(time.Hour).Format(time.RFC3339)},
			"duration beside endTime":         {"duration": 30, "endTime": start.Add(time.Hour).Format(time.RFC3339)},
			"duration too long":               {"duration": 24*60 + 1},
			"duration not a number":           {"duration": "1h"},
			"unknown lead time":               {"reminderBefore": []string{"soon"}},
			"reminders disagree":              {"reminderBefore": []string{"1day"}, "reminderMinutes": []int{60}},
			"recurring for a single one":      {"isRecurring": true},
			"doctorId and doctorName":         {"doctorId": f.DoctorID, "doctorName": "Dr. Who"},
		} {
			if res := h.request("PATCH", item, f.caregiver.Token, body); res.Status != 400 {
				t.Errorf("%s: status %d: %s", name, res.Status, res.Body)
			} else {
				res.errorEnvelope(400)
			}
		}
		if after := h.request("GET", item, f.viewer.Token, nil).expect(200).Map(); !reflect.DeepEqual(after, before) {
			t.Fatalf("refused bodies changed the appointment:\n%v\n%v", before, after)
		}

		// A series takes them too; a duration there needs a start, and a
		// series is recurring.
		sid, _ := createApptSeries(t, h, f.admin.Token, f.CareRecipientID, apptBody(start, "recurrence", "weekly", "recurrenceEndDate", "2026-04-01"), "")
		series := "/appointments/series/" + sid
		res := h.request("PATCH", series, f.caregiver.Token, map[string]any{
			"dateTime": start.Add(time.Hour).Format(time.RFC3339), "duration": 45, "isRecurring": true, "reminderBefore": []string{"2 hours"},
		}).expect(200).Map()
		for _, o := range apptItems(res, "appointments") {
			st, _ := time.Parse(time.RFC3339, o["startTime"].(string))
			en, _ := time.Parse(time.RFC3339, o["endTime"].(string))
			if en.Sub(st) != 45*time.Minute || !reflect.DeepEqual(o["reminderMinutes"], []any{120.0}) {
				t.Fatalf("series occurrence after the edit: %v", o)
			}
		}
		h.request("PATCH", series, f.caregiver.Token, map[string]any{"duration": 45}).errorEnvelope(400)
		h.request("PATCH", series, f.caregiver.Token, map[string]any{"isRecurring": false}).errorEnvelope(400)
	})
}

// TestQueriesExistingClientsSend: ?days on upcoming appointments, ?date on
// the medication schedule and ?limit on upcoming shifts are honoured, and
// a bad value is a 400 in the envelope.
func TestQueriesExistingClientsSend(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, h *harness) {
		f := newFixture(t, h, newMatrixUsers(h))
		cr := f.CareRecipientID

		// Upcoming appointments: 30 days by default, ?days=1 to 366.
		base := apptsPath(cr)
		soon := h.request("POST", base, f.caregiver.Token, apptBody(testStart.Add(20*time.Hour))).expect(201).Map()
		later := h.request("POST", base, f.caregiver.Token, apptBody(testStart.Add(10*24*time.Hour))).expect(201).Map()
		far := h.request("POST", base, f.caregiver.Token, apptBody(testStart.Add(40*24*time.Hour))).expect(201).Map()
		upcoming := func(q string) []any {
			t.Helper()
			var ids []any
			for _, a := range h.request("GET", base+"/upcoming"+q, f.viewer.Token, nil).expect(200).List() {
				ids = append(ids, a["id"])
			}
			return ids
		}
		if got := upcoming(""); !reflect.DeepEqual(got, []any{soon["id"], later["id"]}) {
			t.Errorf("upcoming = %v", got)
		}
		if got := upcoming("?days=1"); !reflect.DeepEqual(got, []any{soon["id"]}) {
			t.Errorf("upcoming 1 day = %v", got)
		}
		if got := upcoming("?days=60"); !reflect.DeepEqual(got, []any{soon["id"], later["id"], far["id"]}) {
			t.Errorf("upcoming 60 days = %v", got)
		}
		for _, q := range []string{"?days=0", "?days=367", "?days=week", "?days=2.5"} {
			if m := h.request("GET", base+"/upcoming"+q, f.viewer.Token, nil).errorEnvelope(400); fieldErrors(m)["days"] == nil {
				t.Errorf("upcoming%s: %v", q, m)
			}
		}

		// The medication schedule of another day in the care recipient's
		// zone (Tokyo; it is 00:00 on 3 March there).
		med := h.request("POST", medicationsPath(cr), f.caregiver.Token, map[string]any{
			"name": "Aspirin", "dosage": "1 tablet", "form": "TABLET", "frequency": "TWICE_DAILY", "scheduledTimes": []string{"08:00", "20:00"},
		}).expect(201).Map()
		h.request("POST", "/medications/"+med["id"].(string)+"/log", f.caregiver.Token, map[string]any{"status": "GIVEN", "scheduledTime": "08:00"}).expect(201)
		schedule := func(q string) []string {
			t.Helper()
			return doseSummary(scheduleEntry(t, h.request("GET", medicationsPath(cr)+"/schedule/today"+q, f.viewer.Token, nil).expect(200).List(), med["id"].(string)))
		}
		today := []string{"08:00 2026-03-02T23:00:00Z GIVEN", "20:00 2026-03-03T11:00:00Z UPCOMING"}
		if got := schedule(""); !reflect.DeepEqual(got, today) {
			t.Errorf("today = %v", got)
		}
		if got := schedule("?date=2026-03-03"); !reflect.DeepEqual(got, today) {
			t.Errorf("?date=today = %v", got)
		}
		if got := schedule("?date=2026-03-04"); !reflect.DeepEqual(got, []string{"08:00 2026-03-03T23:00:00Z UPCOMING", "20:00 2026-03-04T11:00:00Z UPCOMING"}) {
			t.Errorf("tomorrow = %v", got)
		}
		for _, q := range []string{"?date=tomorrow", "?date=2026-3-4", "?date=1900-01-01"} {
			if m := h.request("GET", medicationsPath(cr)+"/schedule/today"+q, f.viewer.Token, nil).errorEnvelope(400); fieldErrors(m)["date"] == nil {
				t.Errorf("schedule%s: %v", q, m)
			}
		}

		// Upcoming shifts: ?limit keeps the first ones.
		var shifts []any
		for i := range 3 {
			start := testStart.Add(time.Duration(i+1) * 24 * time.Hour)
			sh := h.request("POST", shiftsPath(cr), f.admin.Token, map[string]any{
				"caregiverId": f.caregiver.ID, "startTime": start.Format(time.RFC3339), "endTime": start.Add(4 * time.Hour).Format(time.RFC3339),
			}).expect(201).Map()
			shifts = append(shifts, sh["id"])
		}
		upcomingShifts := func(q string) []any {
			t.Helper()
			var ids []any
			for _, s := range h.request("GET", shiftsPath(cr)+"/upcoming"+q, f.viewer.Token, nil).expect(200).List() {
				ids = append(ids, s["id"])
			}
			return ids
		}
		if got := upcomingShifts("?limit=5"); !reflect.DeepEqual(got, shifts) {
			t.Errorf("limit 5 = %v", got)
		}
		if got := upcomingShifts("?limit=2"); !reflect.DeepEqual(got, shifts[:2]) {
			t.Errorf("limit 2 = %v", got)
		}
		for _, q := range []string{"?limit=0", "?limit=501", "?limit=few"} {
			if m := h.request("GET", shiftsPath(cr)+"/upcoming"+q, f.viewer.Token, nil).errorEnvelope(400); fieldErrors(m)["limit"] == nil {
				t.Errorf("upcoming shifts%s: %v", q, m)
			}
		}
	})
}
