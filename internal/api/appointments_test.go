package api

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/carecircle/carecircle/internal/care"
	"github.com/carecircle/carecircle/internal/store"
)

// apptBody is a valid one-hour appointment body starting at start.
func apptBody(start time.Time, extra ...any) map[string]any {
	b := map[string]any{
		"title": "Check-up", "type": "DOCTOR_VISIT",
		"startTime": start.UTC().Format(time.RFC3339), "endTime": start.Add(time.Hour).UTC().Format(time.RFC3339),
	}
	for i := 0; i+1 < len(extra); i += 2 {
		b[extra[i].(string)] = extra[i+1]
	}
	return b
}

// apptsPath is the appointments collection of a care recipient.
func apptsPath(crID string) string { return "/care-recipients/" + crID + "/appointments" }

// newYorkRecipient adds a care recipient living in New York to the fixture's family.
func newYorkRecipient(t *testing.T, f *fixture) string {
	t.Helper()
	cr, err := f.h.store.CreateCareRecipient(context.Background(), care.CareRecipient{FamilyID: f.FamilyID, FullName: "Grandpa", Timezone: "America/New_York"})
	if err != nil {
		t.Fatal(err)
	}
	return cr.ID
}

// appointmentNotes lists the GENERAL notifications about appointmentID a user has.
func (h *harness) appointmentNotes(userID, appointmentID string) []care.Notification {
	h.t.Helper()
	ns, err := h.store.UserNotifications(context.Background(), userID, store.NotificationQuery{Limit: 100})
	if err != nil {
		h.t.Fatal(err)
	}
	var out []care.Notification
	for _, n := range ns {
		var data map[string]any
		_ = json.Unmarshal(n.Data, &data)
		if n.Type == care.NotifyGeneral && data["appointmentId"] == appointmentID {
			out = append(out, n)
		}
	}
	return out
}

func apptItems(m map[string]any, key string) []map[string]any {
	raw, _ := m[key].([]any)
	out := make([]map[string]any, 0, len(raw))
	for _, x := range raw {
		out = append(out, x.(map[string]any))
	}
	return out
}

func apptStrings(items []map[string]any, key string) []string {
	out := []string{}
	for _, it := range items {
		out = append(out, fmt.Sprint(it[key]))
	}
	return out
}

func TestAppointmentCreateValidation(t *testing.T) {
	t.Parallel()
	h := sqliteHarness(t, harnessOptions{})
	f := newFixture(t, h, newMatrixUsers(h))
	ctx := context.Background()
	other, err := h.store.CreateCareRecipient(ctx, care.CareRecipient{FamilyID: f.FamilyID, FullName: "Other", Timezone: "UTC"})
	if err != nil {
		t.Fatal(err)
	}
	othersDoctor, err := h.store.CreateDoctor(ctx, care.Doctor{CareRecipientID: other.ID, Name: "Dr. Else"})
	if err != nil {
		t.Fatal(err)
	}
	start := testStart.Add(48 * time.Hour)
	base := apptsPath(f.CareRecipientID)
	eleven := []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}
	cases := []struct {
		name  string
		path  string
		body  any
		field string // the field named in errors, "" for a plain 400
	}{
		{"missing title", base, apptBody(start, "title", "  "), "title"},
		{"unknown type", base, apptBody(start, "type", "SURGERY"), "type"},
		{"missing type", base, apptBody(start, "type", ""), "type"},
		{"end before start", base, apptBody(start, "endTime", start.Add(-time.Minute).Format(time.RFC3339)), "endTime"},
		{"end equals start", base, apptBody(start, "endTime", start.Format(time.RFC3339)), "endTime"},
		{"longer than a day", base, apptBody(start, "endTime", start.Add(25*time.Hour).Format(time.RFC3339)), "endTime"},
		{"malformed start", base, apptBody(start, "startTime", "tomorrow at nine"), "startTime"},
		{"missing end", base, apptBody(start, "endTime", ""), "endTime"},
		{"malformed RRULE", base, apptBody(start, "recurrenceRule", "FREQ=WEEKLY;BYDAY=XX"), "recurrenceRule"},
		{"RRULE without FREQ", base, apptBody(start, "recurrenceRule", "RRULE:COUNT=3"), "recurrenceRule"},
		{"hourly RRULE", base, apptBody(start, "recurrenceRule", "FREQ=HOURLY"), "recurrenceRule"},
		{"rule that never occurs", base, apptBody(start, "recurrenceRule", "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30"), "recurrenceRule"},
		{"DTSTART not the start", base, apptBody(start, "recurrenceRule", "DTSTART:20300101T000000Z\nRRULE:FREQ=DAILY"), "recurrenceRule"},
		{"unknown recurrence", base, apptBody(start, "recurrence", "yearly"), "recurrence"},
		{"recurrence and rule", base, apptBody(start, "recurrence", "weekly", "recurrenceRule", "FREQ=DAILY"), "recurrence"},
		{"end date alone", base, apptBody(start, "recurrenceEndDate", "2026-05-01"), "recurrenceEndDate"},
		{"end date before start", base, apptBody(start, "recurrence", "weekly", "recurrenceEndDate", "2026-03-01"), "recurrenceEndDate"},
		{"end date with COUNT", base, apptBody(start, "recurrenceRule", "FREQ=DAILY;COUNT=3", "recurrenceEndDate", "2026-05-01"), "recurrenceEndDate"},
		{"malformed end date", base, apptBody(start, "recurrence", "weekly", "recurrenceEndDate", "May 1st"), "recurrenceEndDate"},
		{"UNTIL before the start", base, apptBody(start, "recurrenceRule", "FREQ=DAILY;UNTIL=20260101T000000Z"), "recurrenceRule"},
		{"negative reminder", base, apptBody(start, "reminderMinutes", []int{-5}), "reminderMinutes"},
		{"reminder too early", base, apptBody(start, "reminderMinutes", []int{40321}), "reminderMinutes"},
		{"too many reminders", base, apptBody(start, "reminderMinutes", eleven), "reminderMinutes"},
		{"reminders not numbers", base, apptBody(start, "reminderMinutes", []string{"soon"}), "reminderMinutes"},
		{"doctor of someone else", base, apptBody(start, "doctorId", othersDoctor.ID), "doctorId"},
		{"missing doctor", base, apptBody(start, "doctorId", "0190f000-0000-7000-8000-000000000000"), "doctorId"},
		{"malformed doctor", base, apptBody(start, "doctorId", "dr-who"), "doctorId"},
		{"driver not a member", base, apptBody(start, "transportAssignedToId", f.outsider.ID), "transportAssignedToId"},
		{"unknown field", base, apptBody(start, "colour", "blue"), "colour"},
		{"not an object", base, `["Check-up"]`, ""},
		{"cap above 366", base + "/recurring?maxOccurrences=10000", apptBody(start, "recurrenceRule", "FREQ=DAILY;COUNT=10000"), "maxOccurrences"},
		{"cap of zero", base + "/recurring?maxOccurrences=0", apptBody(start, "recurrence", "daily"), "maxOccurrences"},
		{"cap not a number", base + "/recurring?maxOccurrences=all", apptBody(start, "recurrence", "daily"), "maxOccurrences"},
		{"recurring without a rule", base + "/recurring", apptBody(start), "recurrence"},
		{"recurring with none", base + "/recurring", apptBody(start, "recurrence", "none"), "recurrence"},
	}
	for _, tc := range cases {
		res := h.request("POST", tc.path, f.admin.Token, tc.body)
		m := res.errorEnvelope(400)
		if tc.field != "" {
			errs, _ := m["errors"].(map[string]any)
			if _, ok := errs[tc.field]; !ok {
				t.Errorf("%s: errors %v lack %q", tc.name, m["errors"], tc.field)
			}
		}
	}
	// Nothing was written, anywhere.
	for _, cr := range []string{f.CareRecipientID, other.ID} {
		if got := h.request("GET", apptsPath(cr), f.admin.Token, nil).expect(200).List(); len(got) != 0 {
			t.Errorf("%d appointments written by refused requests", len(got))
		}
	}
	for _, u := range []testUser{f.caregiver, f.viewer, f.outsider} {
		ns, err := h.store.UserNotifications(ctx, u.ID, store.NotificationQuery{Limit: 10})
		if err != nil || len(ns) != 0 {
			t.Errorf("%s notified of refused requests: %v, %v", u.Email, ns, err)
		}
	}
	// Missing and malformed care recipients.
	h.request("POST", apptsPath("0190f000-0000-7000-8000-000000000000"), f.admin.Token, apptBody(start)).errorEnvelope(404)
	h.request("POST", apptsPath("nope"), f.admin.Token, apptBody(start)).errorEnvelope(400)
}

func TestAppointmentCreateAndRead(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, h *harness) {
		f := newFixture(t, h, newMatrixUsers(h))
		start := time.Date(2026, 3, 5, 1, 0, 0, 0, time.UTC) // 10:00 in Tokyo
		a := h.request("POST", apptsPath(f.CareRecipientID), f.caregiver.Token, apptBody(start,
			"doctorId", f.DoctorID, "location", "Clinic", "notes", "Bring the X-rays", "reminderMinutes", []int{1440, 15, 15})).expect(201).Map()
		for k, want := range map[string]any{
			"careRecipientId": f.CareRecipientID, "doctorId": f.DoctorID, "title": "Check-up", "type": "DOCTOR_VISIT",
			"startTime": "2026-03-05T01:00:00Z", "endTime": "2026-03-05T02:00:00Z", "location": "Clinic",
			"address": nil, "status": "SCHEDULED", "isRecurring": false, "recurrenceRule": nil,
			"recurringSeriesId": nil, "recurringIndex": nil, "transportAssignment": nil, "createdById": f.caregiver.ID,
		} {
			if fmt.Sprint(a[k]) != fmt.Sprint(want) {
				t.Errorf("%s = %v, want %v", k, a[k], want)
			}
		}
		if fmt.Sprint(a["reminderMinutes"]) != "[15 1440]" {
			t.Errorf("reminderMinutes = %v", a["reminderMinutes"])
		}
		if d, _ := a["doctor"].(map[string]any); d == nil || d["name"] != "Dr. Who" {
			t.Errorf("doctor = %v", a["doctor"])
		}
		if _, ok := a["seriesId"]; ok {
			t.Errorf("single appointment has a seriesId: %v", a)
		}
		id := a["id"].(string)
		// Defaults.
		b := h.request("POST", apptsPath(f.CareRecipientID), f.admin.Token, apptBody(start)).expect(201).Map()
		if fmt.Sprint(b["reminderMinutes"]) != "[60 1440]" {
			t.Errorf("default reminderMinutes = %v", b["reminderMinutes"])
		}
		// Read back, at the top level and nested.
		for _, p := range []string{"/appointments/" + id, apptsPath(f.CareRecipientID) + "/" + id} {
			got := h.request("GET", p, f.viewer.Token, nil).expect(200).Map()
			if got["id"] != id || got["location"] != "Clinic" {
				t.Errorf("GET %s = %v", p, got)
			}
		}
		// Nested under another care recipient it does not exist.
		other := newYorkRecipient(t, f)
		h.request("GET", apptsPath(other)+"/"+id, f.admin.Token, nil).errorEnvelope(404)
		h.request("GET", "/appointments/0190f000-0000-7000-8000-000000000000", f.admin.Token, nil).errorEnvelope(404)
		h.request("GET", "/appointments/nope", f.admin.Token, nil).errorEnvelope(400)
		// The rest of the family hears about it; the creator does not.
		for _, u := range []testUser{f.admin, f.viewer} {
			if ns := h.appointmentNotes(u.ID, id); len(ns) != 1 || !strings.Contains(ns[0].Title, "Check-up") {
				t.Errorf("%s notifications = %v", u.Email, ns)
			}
		}
		if ns := h.appointmentNotes(f.caregiver.ID, id); len(ns) != 0 {
			t.Errorf("creator notified: %v", ns)
		}
		if ns := h.appointmentNotes(f.outsider.ID, id); len(ns) != 0 {
			t.Errorf("outsider notified: %v", ns)
		}
		// Created with a driver: the driver is told.
		c := h.request("POST", apptsPath(f.CareRecipientID), f.admin.Token, apptBody(start, "transportAssignedToId", f.viewer.ID)).expect(201).Map()
		tr, _ := c["transportAssignment"].(map[string]any)
		if tr == nil || tr["assignedToId"] != f.viewer.ID || tr["confirmed"] != false {
			t.Errorf("transportAssignment = %v", c["transportAssignment"])
		}
		if ns := h.appointmentNotes(f.viewer.ID, c["id"].(string)); len(ns) != 2 {
			t.Errorf("driver got %d notifications, want new appointment and transport", len(ns))
		}
	})
}

func TestAppointmentRecurringCaps(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, h *harness) {
		f := newFixture(t, h, newMatrixUsers(h))
		start := time.Date(2026, 3, 5, 1, 0, 0, 0, time.UTC)
		base := apptsPath(f.CareRecipientID)
		// A rule asking for 10,000 occurrences is cut at the default 52.
		res := h.request("POST", base+"/recurring", f.admin.Token, apptBody(start, "recurrenceRule", "FREQ=DAILY;COUNT=10000")).expect(201).Map()
		appts := apptItems(res, "appointments")
		if res["totalCreated"] != 52.0 || len(appts) != 52 || res["truncated"] != true || len(apptItems(res, "nextOccurrences")) != 5 {
			t.Fatalf("totalCreated %v, %d appointments, truncated %v, next %v", res["totalCreated"], len(appts), res["truncated"], res["nextOccurrences"])
		}
		sid := res["seriesId"].(string)
		for i, a := range appts {
			want := start.AddDate(0, 0, i).Format(time.RFC3339)
			if a["startTime"] != want || a["recurringSeriesId"] != sid || a["recurringIndex"] != float64(i) || a["isRecurring"] != true {
				t.Fatalf("occurrence %d = %v", i, a)
			}
		}
		next := apptItems(res, "nextOccurrences")[0]
		if next["index"] != 52.0 || next["startTime"] != start.AddDate(0, 0, 52).Format(time.RFC3339) || next["virtual"] != true {
			t.Errorf("next = %v", next)
		}
		if got := h.request("GET", base, f.admin.Token, nil).expect(200).List(); len(got) != 52 {
			t.Errorf("%d stored", len(got))
		}
		// A short rule under a larger cap stores all of it.
		res = h.request("POST", base+"/recurring?maxOccurrences=3", f.admin.Token, apptBody(start, "recurrenceRule", "RRULE:FREQ=MONTHLY;COUNT=2")).expect(201).Map()
		if res["totalCreated"] != 2.0 || res["truncated"] != false || len(apptItems(res, "nextOccurrences")) != 0 {
			t.Errorf("COUNT=2: %v", res)
		}
		// The full cap.
		res = h.request("POST", base+"/recurring?maxOccurrences=366", f.admin.Token, apptBody(start.Add(time.Hour), "recurrence", "daily")).expect(201).Map()
		if res["totalCreated"] != 366.0 {
			t.Errorf("366 cap: %v", res["totalCreated"])
		}
		// A recurrence on the plain route answers the first appointment.
		first := h.request("POST", base, f.admin.Token, apptBody(start.Add(2*time.Hour), "recurrence", "biweekly",
			"recurrenceEndDate", "2026-04-02")).expect(201).Map()
		if first["seriesId"] == nil || first["seriesId"] != first["recurringSeriesId"] || first["totalCreated"] != 3.0 || first["recurringIndex"] != 0.0 {
			t.Errorf("plain route series = %v", first)
		}
		rule, _ := first["recurrenceRule"].(string)
		if !strings.HasPrefix(rule, "DTSTART;TZID=Asia/Tokyo:20260305T120000\nRRULE:FREQ=WEEKLY;INTERVAL=2;UNTIL=") {
			t.Errorf("rule = %q", rule)
		}
	})
}

func TestAppointmentWeeklySeriesKeepsLocalTimeAcrossDST(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, h *harness) {
		f := newFixture(t, h, newMatrixUsers(h))
		ny := newYorkRecipient(t, f)
		loc, _ := time.LoadLocation("America/New_York")
		// Monday 2 March 2026, 09:00 EST; the US moves to EDT on 8 March.
		res := h.request("POST", apptsPath(ny)+"/recurring", f.caregiver.Token,
			apptBody(time.Date(2026, 3, 2, 14, 0, 0, 0, time.UTC), "recurrence", "weekly")).expect(201).Map()
		appts := apptItems(res, "appointments")
		if len(appts) != 52 {
			t.Fatalf("%d occurrences", len(appts))
		}
		wantUTC := []string{"2026-03-02T14:00:00Z", "2026-03-09T13:00:00Z", "2026-03-16T13:00:00Z"}
		for i, want := range wantUTC {
			if appts[i]["startTime"] != want {
				t.Errorf("occurrence %d at %v, want %s", i, appts[i]["startTime"], want)
			}
		}
		for i, a := range appts {
			st, _ := time.Parse(time.RFC3339, a["startTime"].(string))
			en, _ := time.Parse(time.RFC3339, a["endTime"].(string))
			if l := st.In(loc); l.Hour() != 9 || l.Minute() != 0 || l.Weekday() != time.Monday || en.Sub(st) != time.Hour {
				t.Errorf("occurrence %d at %v local, lasting %v", i, l, en.Sub(st))
			}
		}
		// November: back to EST, 14:00 UTC again.
		if appts[40]["startTime"] != "2026-12-07T14:00:00Z" {
			t.Errorf("occurrence 40 at %v", appts[40]["startTime"])
		}
		if appts[0]["recurrenceRule"] != "DTSTART;TZID=America/New_York:20260302T090000\nRRULE:FREQ=WEEKLY" {
			t.Errorf("rule = %q", appts[0]["recurrenceRule"])
		}
		next := apptItems(res, "nextOccurrences")
		if len(next) != 5 || next[0]["startTime"] != "2027-03-01T14:00:00Z" {
			t.Errorf("next = %v", next)
		}
	})
}

// createSeries creates a series by POST .../recurring and returns its id and occurrences.
func createApptSeries(t *testing.T, h *harness, token, crID string, body map[string]any, query string) (string, []map[string]any) {
	t.Helper()
	res := h.request("POST", apptsPath(crID)+"/recurring"+query, token, body).expect(201).Map()
	return res["seriesId"].(string), apptItems(res, "appointments")
}

func TestAppointmentSeriesUpdateAndCancel(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, h *harness) {
		f := newFixture(t, h, newMatrixUsers(h))
		ny := newYorkRecipient(t, f)
		loc, _ := time.LoadLocation("America/New_York")
		sid, appts := createApptSeries(t, h, f.admin.Token, ny, apptBody(time.Date(2026, 3, 2, 14, 0, 0, 0, time.UTC),
			"recurrenceRule", "FREQ=WEEKLY;COUNT=6"), "")
		if len(appts) != 6 {
			t.Fatalf("%d occurrences", len(appts))
		}
		// Occurrence 3 is done already; it is not changed by series edits.
		h.request("PATCH", "/appointments/"+appts[3]["id"].(string), f.admin.Token, map[string]any{"status": "CONFIRMED"}).expect(200)
		h.request("PATCH", "/appointments/"+appts[3]["id"].(string), f.admin.Token, map[string]any{"status": "COMPLETED"}).expect(200)

		// From 16 March on: retitled, and moved to 11:30 local (given as an
		// instant on another day, in winter time), lasting 90 minutes.
		res := h.request("PATCH", "/appointments/series/"+sid+"?fromDate=2026-03-16", f.caregiver.Token, map[string]any{
			"title": "Physio", "startTime": "2026-01-05T16:30:00Z", "endTime": "2026-01-05T18:00:00Z",
		}).expect(200).Map()
		changed := apptItems(res, "appointments")
		if res["count"] != 3.0 || len(changed) != 3 {
			t.Fatalf("series update = %v", res)
		}
		all := h.request("GET", apptsPath(ny), f.admin.Token, nil).expect(200).List()
		for i, a := range all {
			st, _ := time.Parse(time.RFC3339, a["startTime"].(string))
			en, _ := time.Parse(time.RFC3339, a["endTime"].(string))
			l := st.In(loc)
			moved := i >= 2 && i != 3
			switch {
			case moved && (a["title"] != "Physio" || l.Hour() != 11 || l.Minute() != 30 || en.Sub(st) != 90*time.Minute):
				t.Errorf("occurrence %d not moved: %v at %v for %v", i, a["title"], l, en.Sub(st))
			case !moved && (a["title"] != "Check-up" || l.Hour() != 9 || en.Sub(st) != time.Hour):
				t.Errorf("occurrence %d changed: %v at %v", i, a["title"], l)
			}
			if moved && !strings.HasPrefix(a["recurrenceRule"].(string), "DTSTART;TZID=America/New_York:20260302T113000\n") {
				t.Errorf("occurrence %d rule %q", i, a["recurrenceRule"])
			}
		}
		if all[2]["startTime"] != "2026-03-16T15:30:00Z" {
			t.Errorf("occurrence 2 at %v", all[2]["startTime"])
		}

		// Cancel from 30 March: occurrences 4 and 5.
		res = h.request("PATCH", "/appointments/series/"+sid+"/cancel?fromDate=2026-03-30", f.caregiver.Token, nil).expect(200).Map()
		if res["count"] != 2.0 {
			t.Errorf("cancel count = %v", res["count"])
		}
		if res = h.request("PATCH", "/appointments/series/"+sid+"/cancel?fromDate=2026-03-30", f.caregiver.Token, nil).expect(200).Map(); res["count"] != 0.0 {
			t.Errorf("second cancel count = %v", res["count"])
		}
		statuses := apptStrings(h.request("GET", apptsPath(ny), f.admin.Token, nil).expect(200).List(), "status")
		if got := strings.Join(statuses, ","); got != "SCHEDULED,SCHEDULED,SCHEDULED,COMPLETED,CANCELLED,CANCELLED" {
			t.Errorf("statuses = %s", got)
		}

		// The series view (now is 2 March 15:00Z, after the first occurrence).
		series := h.request("GET", apptsPath(ny)+"/recurring/series", f.viewer.Token, nil).expect(200).List()
		if len(series) != 1 {
			t.Fatalf("series = %v", series)
		}
		sv := series[0]
		if sv["seriesId"] != sid || sv["totalCount"] != 6.0 || sv["openCount"] != 3.0 || sv["firstOccurrence"] != "2026-03-02T14:00:00Z" ||
			sv["lastOccurrence"] != "2026-04-06T15:30:00Z" || sv["nextOccurrence"] != "2026-03-09T13:00:00Z" || sv["nextAppointmentId"] != all[1]["id"] {
			t.Errorf("series view = %v", sv)
		}

		// Refusals.
		h.request("PATCH", "/appointments/series/"+sid, f.admin.Token, map[string]any{"endTime": "2026-01-05T18:00:00Z"}).errorEnvelope(400)
		h.request("PATCH", "/appointments/series/"+sid, f.admin.Token, map[string]any{"status": "CONFIRMED"}).errorEnvelope(400)
		h.request("PATCH", "/appointments/series/"+sid+"?fromDate=March", f.admin.Token, map[string]any{"title": "X"}).errorEnvelope(400)
		h.request("PATCH", "/appointments/series/"+sid, f.admin.Token, map[string]any{"doctorId": f.DoctorID}).errorEnvelope(400) // Tokyo's doctor
		h.request("PATCH", "/appointments/series/0190f000-0000-7000-8000-000000000000", f.admin.Token, map[string]any{"title": "X"}).errorEnvelope(404)
		h.request("PATCH", "/appointments/series/nope/cancel", f.admin.Token, nil).errorEnvelope(400)
		h.request("PATCH", "/appointments/series/cancel", f.admin.Token, nil).errorEnvelope(400)
		h.request("PATCH", "/appointments/"+sid+"/elsewhere", f.admin.Token, nil).errorEnvelope(404)
		// Without fromDate, from now on: every remaining open occurrence.
		res = h.request("PATCH", "/appointments/series/"+sid, f.admin.Token, map[string]any{"notes": "Bring shoes"}).expect(200).Map()
		if res["count"] != 2.0 { // occurrences 1 and 2
			t.Errorf("default fromDate changed %v", res["count"])
		}
	})
}

func TestAppointmentOccurrences(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, h *harness) {
		f := newFixture(t, h, newMatrixUsers(h))
		start := time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC) // 10:00 in Tokyo
		_, appts := createApptSeries(t, h, f.admin.Token, f.CareRecipientID, apptBody(start, "recurrence", "daily"), "?maxOccurrences=10")
		id := appts[0]["id"].(string)
		h.request("PATCH", "/appointments/"+appts[8]["id"].(string)+"/cancel", f.admin.Token, nil).expect(200)
		// Local dates 8 to 14 March in Tokyo.
		occ := h.request("GET", "/appointments/"+id+"/occurrences?startDate=2026-03-08&endDate=2026-03-14", f.viewer.Token, nil).expect(200).List()
		if len(occ) != 7 {
			t.Fatalf("%d occurrences: %v", len(occ), occ)
		}
		for i, o := range occ {
			idx := 6 + i
			if o["index"] != float64(idx) || o["startTime"] != start.AddDate(0, 0, idx).Format(time.RFC3339) {
				t.Errorf("occurrence %d = %v", i, o)
			}
			stored := idx < 10
			if o["virtual"] == stored || (o["appointmentId"] != nil) != stored {
				t.Errorf("occurrence %d stored=%v: %v", idx, stored, o)
			}
		}
		if occ[2]["status"] != "CANCELLED" || occ[2]["appointmentId"] != appts[8]["id"] {
			t.Errorf("cancelled occurrence = %v", occ[2])
		}
		// A long window is capped at 366; nested routes answer the same.
		long := h.request("GET", apptsPath(f.CareRecipientID)+"/"+id+"/occurrences?startDate=2026-03-01&endDate=2028-03-01", f.admin.Token, nil).expect(200).List()
		if len(long) != 366 {
			t.Errorf("long window gave %d", len(long))
		}
		// By default from now (2 March 15:00Z, after the first) for a year.
		if def := h.request("GET", "/appointments/"+id+"/occurrences", f.admin.Token, nil).expect(200).List(); len(def) != 366 || def[0]["index"] != 1.0 {
			t.Errorf("default window gave %d from %v", len(def), def[0]["index"])
		}
		h.request("GET", "/appointments/"+id+"/occurrences?startDate=2026-03-08&endDate=2026-03-01", f.admin.Token, nil).errorEnvelope(400)
		h.request("GET", "/appointments/"+id+"/occurrences?startDate=soon", f.admin.Token, nil).errorEnvelope(400)
		// A single appointment is its own only occurrence.
		single := h.request("POST", apptsPath(f.CareRecipientID), f.admin.Token, apptBody(start)).expect(201).Map()
		one := h.request("GET", "/appointments/"+single["id"].(string)+"/occurrences?startDate=2026-03-01&endDate=2026-03-03", f.admin.Token, nil).expect(200).List()
		if len(one) != 1 || one[0]["appointmentId"] != single["id"] || one[0]["virtual"] != false {
			t.Errorf("single occurrences = %v", one)
		}
		if none := h.request("GET", "/appointments/"+single["id"].(string)+"/occurrences?startDate=2026-04-01", f.admin.Token, nil).expect(200).List(); len(none) != 0 {
			t.Errorf("outside window = %v", none)
		}
	})
}

func TestAppointmentTransport(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, h *harness) {
		f := newFixture(t, h, newMatrixUsers(h))
		a := h.request("POST", apptsPath(f.CareRecipientID), f.admin.Token, apptBody(testStart.Add(24*time.Hour))).expect(201).Map()
		id := a["id"].(string)
		h.request("POST", "/appointments/"+id+"/transport/confirm", f.caregiver.Token, nil).errorEnvelope(404)
		tr := h.request("POST", "/appointments/"+id+"/transport", f.admin.Token, map[string]any{"assignedToId": f.caregiver.ID, "notes": "Wheelchair"}).expect(201).Map()
		if tr["assignedToId"] != f.caregiver.ID || tr["confirmed"] != false || tr["notes"] != "Wheelchair" || tr["appointmentId"] != id {
			t.Errorf("assignment = %v", tr)
		}
		if ns := h.appointmentNotes(f.caregiver.ID, id); len(ns) != 2 || (ns[0].Title != "Transport assigned" && ns[1].Title != "Transport assigned") {
			t.Errorf("assignee notifications = %v", ns)
		}
		// Only the assignee confirms.
		h.request("POST", "/appointments/"+id+"/transport/confirm", f.admin.Token, nil).errorEnvelope(403)
		h.request("POST", "/appointments/"+id+"/transport/confirm", f.viewer.Token, nil).errorEnvelope(403)
		h.request("POST", "/appointments/"+id+"/transport/confirm", f.outsider.Token, nil).errorEnvelope(403)
		tr = h.request("POST", apptsPath(f.CareRecipientID)+"/"+id+"/transport/confirm", f.caregiver.Token, nil).expect(200).Map()
		if tr["confirmed"] != true {
			t.Errorf("confirmed = %v", tr)
		}
		got := h.request("GET", "/appointments/"+id, f.viewer.Token, nil).expect(200).Map()
		if gt, _ := got["transportAssignment"].(map[string]any); gt == nil || gt["confirmed"] != true {
			t.Errorf("appointment transport = %v", got["transportAssignment"])
		}
		// One per appointment: a new assignment replaces it, unconfirmed.
		tr = h.request("POST", apptsPath(f.CareRecipientID)+"/"+id+"/transport", f.caregiver.Token, map[string]any{"assignedToId": f.viewer.ID}).expect(201).Map()
		if tr["assignedToId"] != f.viewer.ID || tr["confirmed"] != false || tr["notes"] != nil {
			t.Errorf("replacement = %v", tr)
		}
		h.request("POST", "/appointments/"+id+"/transport/confirm", f.caregiver.Token, nil).errorEnvelope(403)
		h.request("POST", "/appointments/"+id+"/transport/confirm", f.viewer.Token, nil).expect(200)
		// Refusals.
		h.request("POST", "/appointments/"+id+"/transport", f.admin.Token, map[string]any{"assignedToId": f.outsider.ID}).errorEnvelope(400)
		h.request("POST", "/appointments/"+id+"/transport", f.admin.Token, map[string]any{"assignedToId": "driver"}).errorEnvelope(400)
		h.request("POST", "/appointments/"+id+"/transport", f.admin.Token, map[string]any{}).errorEnvelope(400)
		// Assigning yourself sends you nothing.
		b := h.request("POST", apptsPath(f.CareRecipientID), f.caregiver.Token, apptBody(testStart.Add(48*time.Hour))).expect(201).Map()
		h.request("POST", "/appointments/"+b["id"].(string)+"/transport", f.caregiver.Token, map[string]any{"assignedToId": f.caregiver.ID}).expect(201)
		if ns := h.appointmentNotes(f.caregiver.ID, b["id"].(string)); len(ns) != 0 {
			t.Errorf("self-assignment notified: %v", ns)
		}
	})
}

func TestAppointmentStatusTransitions(t *testing.T) {
	t.Parallel()
	h := sqliteHarness(t, harnessOptions{})
	f := newFixture(t, h, newMatrixUsers(h))
	create := func() string {
		return h.request("POST", apptsPath(f.CareRecipientID), f.admin.Token, apptBody(testStart.Add(24*time.Hour))).expect(201).Map()["id"].(string)
	}
	set := func(id, status string, want int) {
		t.Helper()
		res := h.request("PATCH", "/appointments/"+id, f.caregiver.Token, map[string]any{"status": status})
		if res.Status != want {
			t.Errorf("-> %s: %d, want %d: %s", status, res.Status, want, res.Body)
		}
	}
	cancel := func(id string, want int) {
		t.Helper()
		if res := h.request("PATCH", "/appointments/"+id+"/cancel", f.caregiver.Token, nil); res.Status != want {
			t.Errorf("cancel: %d, want %d: %s", res.Status, want, res.Body)
		}
	}
	a := create()
	set(a, "COMPLETED", 409) // must be confirmed first
	set(a, "SCHEDULED", 200) // no change
	set(a, "CONFIRMED", 200)
	set(a, "SCHEDULED", 409)
	set(a, "COMPLETED", 200)
	set(a, "CANCELLED", 409)
	set(a, "NO_SHOW", 409)
	cancel(a, 409)
	set(a, "DONE", 400)

	b := create()
	cancel(b, 200)
	cancel(b, 409)
	set(b, "CONFIRMED", 409)
	if got := h.request("GET", "/appointments/"+b, f.viewer.Token, nil).expect(200).Map(); got["status"] != "CANCELLED" {
		t.Errorf("status = %v", got["status"])
	}

	c := create()
	set(c, "NO_SHOW", 200)
	set(c, "CONFIRMED", 409)
	cancel(c, 409)

	d := create()
	set(d, "CONFIRMED", 200)
	// Cancelling takes no body fields.
	h.request("PATCH", apptsPath(f.CareRecipientID)+"/"+d+"/cancel", f.caregiver.Token, map[string]any{"reason": "ill"}).errorEnvelope(400)
	h.request("PATCH", apptsPath(f.CareRecipientID)+"/"+d+"/cancel", f.caregiver.Token, map[string]any{}).expect(200)
}

func TestAppointmentPatchAndDelete(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, h *harness) {
		f := newFixture(t, h, newMatrixUsers(h))
		start := testStart.Add(24 * time.Hour)
		a := h.request("POST", apptsPath(f.CareRecipientID), f.admin.Token, apptBody(start, "doctorId", f.DoctorID, "notes", "x")).expect(201).Map()
		id := a["id"].(string)
		p := "/appointments/" + id
		got := h.request("PATCH", p, f.caregiver.Token, map[string]any{
			"title": "Dentist", "type": "SPECIALIST", "doctorId": nil, "notes": nil, "address": "1 Main St",
			"startTime": start.Add(time.Hour).Format(time.RFC3339), "endTime": start.Add(3 * time.Hour).Format(time.RFC3339),
			"reminderMinutes": []int{30},
		}).expect(200).Map()
		if got["title"] != "Dentist" || got["type"] != "SPECIALIST" || got["doctorId"] != nil || got["doctor"] != nil ||
			got["notes"] != nil || got["address"] != "1 Main St" || got["startTime"] != start.Add(time.Hour).Format(time.RFC3339) ||
			fmt.Sprint(got["reminderMinutes"]) != "[30]" {
			t.Errorf("patched = %v", got)
		}
		got = h.request("PATCH", apptsPath(f.CareRecipientID)+"/"+id, f.caregiver.Token, map[string]any{"reminderMinutes": nil, "doctorId": f.DoctorID}).expect(200).Map()
		if fmt.Sprint(got["reminderMinutes"]) != "[60 1440]" || got["doctorId"] != f.DoctorID {
			t.Errorf("reset reminders = %v, doctor %v", got["reminderMinutes"], got["doctorId"])
		}
		// Moving the start past the end, or lengthening past a day, is refused.
		for _, body := range []map[string]any{
			{"startTime": start.Add(5 * time.Hour).Format(time.RFC3339)},
			{"endTime": start.Add(30 * time.Hour).Format(time.RFC3339)},
			{"startTime": nil},
			{"title": nil},
			{"type": "SURGERY"},
			{"doctorId": "0190f000-0000-7000-8000-000000000000"},
			{"reminderMinutes": []int{-1}},
			{"recurrenceRule": "FREQ=DAILY"},
		} {
			h.request("PATCH", p, f.admin.Token, body).errorEnvelope(400)
		}
		if after := h.request("GET", p, f.admin.Token, nil).expect(200).Map(); after["title"] != "Dentist" || after["startTime"] != start.Add(time.Hour).Format(time.RFC3339) {
			t.Errorf("refused patch changed it: %v", after)
		}
		// Delete, nested under the wrong care recipient first.
		h.request("DELETE", apptsPath(newYorkRecipient(t, f))+"/"+id, f.admin.Token, nil).errorEnvelope(404)
		if res := h.request("DELETE", p, f.caregiver.Token, nil).expect(200).Map(); res["success"] != true {
			t.Errorf("delete = %v", res)
		}
		h.request("GET", p, f.admin.Token, nil).errorEnvelope(404)
		h.request("DELETE", p, f.admin.Token, nil).errorEnvelope(404)
	})
}

func TestAppointmentViews(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, h *harness) {
		f := newFixture(t, h, newMatrixUsers(h))
		base := apptsPath(f.CareRecipientID)
		mk := func(start time.Time) string {
			return h.request("POST", base, f.admin.Token, apptBody(start)).expect(201).Map()["id"].(string)
		}
		// Tokyo is UTC+9: 2026-03-04 local runs from 03-03T15:00Z to 03-04T15:00Z.
		past := mk(testStart.Add(-2 * time.Hour))                      // 03-02 13:00Z
		lateNight := mk(time.Date(2026, 3, 3, 14, 30, 0, 0, time.UTC)) // 23:30-00:30 local, into the 4th
		morning := mk(time.Date(2026, 3, 4, 0, 0, 0, 0, time.UTC))     // 09:00 local on the 4th
		cancelled := mk(time.Date(2026, 3, 4, 5, 0, 0, 0, time.UTC))
		h.request("PATCH", "/appointments/"+cancelled+"/cancel", f.admin.Token, nil).expect(200)
		later := mk(time.Date(2026, 3, 31, 0, 0, 0, 0, time.UTC))  // within 30 days
		tooLate := mk(time.Date(2026, 4, 2, 0, 0, 0, 0, time.UTC)) // beyond
		ids := func(items []map[string]any) string { return strings.Join(apptStrings(items, "id"), ",") }
		join := func(xs ...string) string { return strings.Join(xs, ",") }

		if got := ids(h.request("GET", base, f.viewer.Token, nil).expect(200).List()); got != join(past, lateNight, morning, cancelled, later, tooLate) {
			t.Errorf("all = %s", got)
		}
		if got := ids(h.request("GET", base+"/upcoming", f.viewer.Token, nil).expect(200).List()); got != join(lateNight, morning, later) {
			t.Errorf("upcoming = %s", got)
		}
		if got := ids(h.request("GET", base+"/day?date=2026-03-04", f.viewer.Token, nil).expect(200).List()); got != join(lateNight, morning, cancelled) {
			t.Errorf("day = %s", got)
		}
		// Today in Tokyo is 3 March (now is 00:00 on the 3rd there).
		if got := ids(h.request("GET", base+"/day", f.viewer.Token, nil).expect(200).List()); got != join(lateNight) {
			t.Errorf("today = %s", got)
		}
		if got := ids(h.request("GET", base+"?startDate=2026-03-04&endDate=2026-03-31", f.viewer.Token, nil).expect(200).List()); got != join(lateNight, morning, cancelled, later) {
			t.Errorf("range = %s", got)
		}
		if got := ids(h.request("GET", base+"?startDate=2026-03-04T00:00:00Z&status=CANCELLED", f.viewer.Token, nil).expect(200).List()); got != join(cancelled) {
			t.Errorf("cancelled since = %s", got)
		}
		if got := ids(h.request("GET", base+"?endDate=2026-03-02", f.viewer.Token, nil).expect(200).List()); got != join(past) {
			t.Errorf("until = %s", got)
		}
		for _, q := range []string{"?startDate=2026-13-01", "?status=DONE", "?startDate=2026-03-05&endDate=2026-03-04", "?endDate=yesterday"} {
			h.request("GET", base+q, f.viewer.Token, nil).errorEnvelope(400)
		}
		h.request("GET", base+"/day?date=04/03/2026", f.viewer.Token, nil).errorEnvelope(400)
		if got := h.request("GET", base+"/recurring/series", f.viewer.Token, nil).expect(200).List(); len(got) != 0 {
			t.Errorf("series = %v", got)
		}
	})
}
