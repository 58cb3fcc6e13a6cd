package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/carecircle/carecircle/internal/care"
	"github.com/carecircle/carecircle/internal/store"
)

// medicationsPath is the list route of a care recipient's medications.
func medicationsPath(crID string) string { return "/care-recipients/" + crID + "/medications" }

// createMedicationAs adds a medication and returns it.
func (h *harness) createMedicationAs(u testUser, crID string, body map[string]any) map[string]any {
	h.t.Helper()
	return h.request("POST", medicationsPath(crID), u.Token, body).expect(201).Map()
}

// dailyMedication is a valid body for a twice-daily medication.
func dailyMedication() map[string]any {
	return map[string]any{
		"name": "Metformin", "dosage": "500 mg", "form": "TABLET", "frequency": "TWICE_DAILY",
		"scheduledTimes": []string{"20:00", "08:00"}, "currentSupply": 10, "refillAt": 3,
	}
}

// careRecipientIn adds a care recipient living in zone to the fixture's family.
func (f *fixture) careRecipientIn(zone string) string {
	f.t.Helper()
	cr, err := f.h.store.CreateCareRecipient(context.Background(), care.CareRecipient{FamilyID: f.FamilyID, FullName: "Grandpa", Timezone: zone})
	if err != nil {
		f.t.Fatal(err)
	}
	return cr.ID
}

// medicationNotes lists the MEDICATION_LOGGED notifications a user has.
func (h *harness) medicationNotes(userID string) []care.Notification {
	h.t.Helper()
	ns, err := h.store.UserNotifications(context.Background(), userID, store.NotificationQuery{Limit: 100})
	if err != nil {
		h.t.Fatal(err)
	}
	var out []care.Notification
	for _, n := range ns {
		if n.Type == care.NotifyMedicationLogged {
			out = append(out, n)
		}
	}
	return out
}

func TestMedicationLifecycle(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, h *harness) {
		f := newFixture(t, h, newMatrixUsers(h))
		list := medicationsPath(f.CareRecipientID)
		body := dailyMedication()
		body["name"], body["notes"], body["startDate"], body["endDate"] = "  "+sqlText+" ", sqlText, "2026-03-01", "2026-03-01"
		m := h.createMedicationAs(f.caregiver, f.CareRecipientID, body)
		if m["careRecipientId"] != f.CareRecipientID || m["name"] != sqlText || m["notes"] != sqlText || m["isActive"] != true ||
			!reflect.DeepEqual(m["scheduledTimes"], []any{"08:00", "20:00"}) || m["timesPerDay"] != 2.0 ||
			m["currentSupply"] != 10.0 || m["genericName"] != nil || m["form"] != "TABLET" {
			t.Fatalf("created medication = %v", m)
		}
		item := list + "/" + m["id"].(string)
		if got := h.request("GET", item, f.viewer.Token, nil).expect(200).Map(); got["id"] != m["id"] || got["name"] != sqlText {
			t.Fatalf("GET medication = %v", got)
		}
		prn := h.createMedicationAs(f.admin, f.CareRecipientID, map[string]any{
			"name": "Paracetamol", "dosage": "1 g", "form": "TABLET", "frequency": "AS_NEEDED", "isActive": false,
		})
		if prn["isActive"] != false || prn["timesPerDay"] != nil || !reflect.DeepEqual(prn["scheduledTimes"], []any{}) {
			t.Fatalf("as-needed medication = %v", prn)
		}
		if ms := h.request("GET", list, f.viewer.Token, nil).expect(200).List(); len(ms) != 1 || ms[0]["id"] != m["id"] {
			t.Fatalf("active medications = %v", ms)
		}
		if ms := h.request("GET", list+"?activeOnly=false", f.viewer.Token, nil).expect(200).List(); len(ms) != 2 {
			t.Fatalf("all medications = %v", ms)
		}
		h.request("GET", list+"?activeOnly=maybe", f.viewer.Token, nil).errorEnvelope(400)

		// PATCH: absent fields stay, null clears, times re-sorted and counted.
		up := h.request("PATCH", item, f.caregiver.Token, map[string]any{
			"scheduledTimes": []string{"21:00", "07:30", "13:00"}, "notes": nil, "endDate": "2026-04-30", "genericName": "metformin HCl",
		}).expect(200).Map()
		if !reflect.DeepEqual(up["scheduledTimes"], []any{"07:30", "13:00", "21:00"}) || up["timesPerDay"] != 3.0 || up["notes"] != nil ||
			up["endDate"] != "2026-04-30" || up["name"] != sqlText || up["genericName"] != "metformin HCl" || up["dosage"] != "500 mg" {
			t.Fatalf("patched medication = %v", up)
		}
		// Switching to AS_NEEDED drops the schedule; back needs one again.
		asNeeded := h.request("PATCH", item, f.caregiver.Token, map[string]any{"frequency": "AS_NEEDED"}).expect(200).Map()
		if !reflect.DeepEqual(asNeeded["scheduledTimes"], []any{}) || asNeeded["timesPerDay"] != nil {
			t.Fatalf("as needed = %v", asNeeded)
		}
		e := h.request("PATCH", item, f.caregiver.Token, map[string]any{"frequency": "DAILY"}).errorEnvelope(400)
		if fieldErrors(e)["scheduledTimes"] == nil {
			t.Fatalf("daily without times = %v", e)
		}
		h.request("PATCH", item, f.caregiver.Token, map[string]any{"frequency": "DAILY", "scheduledTimes": []string{"09:00"}}).expect(200)

		// A medication is only reachable under its own care recipient.
		otherCR := f.careRecipientIn("Europe/Berlin")
		wrong := medicationsPath(otherCR) + "/" + m["id"].(string)
		h.request("GET", wrong, f.admin.Token, nil).errorEnvelope(404)
		h.request("PATCH", wrong, f.admin.Token, map[string]any{"notes": "x"}).errorEnvelope(404)
		h.request("DELETE", wrong, f.admin.Token, nil).errorEnvelope(404)
		h.request("PATCH", wrong+"/deactivate", f.admin.Token, nil).errorEnvelope(404)
		h.request("GET", wrong+"/logs", f.admin.Token, nil).errorEnvelope(404)
		h.request("GET", list+"/"+noSuchID, f.admin.Token, nil).errorEnvelope(404)
		h.request("GET", list+"/not-a-uuid", f.admin.Token, nil).errorEnvelope(400)
		h.request("GET", medicationsPath(noSuchID), f.admin.Token, nil).errorEnvelope(404)
		h.request("POST", "/medications/"+noSuchID+"/log", f.admin.Token, map[string]any{}).errorEnvelope(404)

		off := h.request("PATCH", item+"/deactivate", f.caregiver.Token, nil).expect(200).Map()
		if off["isActive"] != false {
			t.Fatalf("deactivated = %v", off)
		}
		h.request("PATCH", item+"/deactivate", f.caregiver.Token, nil).expect(200)
		if ms := h.request("GET", list, f.viewer.Token, nil).expect(200).List(); len(ms) != 0 {
			t.Fatalf("active medications after deactivation = %v", ms)
		}
		if r := h.request("DELETE", item, f.caregiver.Token, nil).expect(200).Map(); r["success"] != true {
			t.Fatalf("delete = %v", r)
		}
		h.request("GET", item, f.admin.Token, nil).errorEnvelope(404)
		h.request("DELETE", item, f.admin.Token, nil).errorEnvelope(404)
	})
}

func TestMedicationValidation(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, h *harness) {
		f := newFixture(t, h, newMatrixUsers(h))
		list := medicationsPath(f.CareRecipientID)
		with := func(changes map[string]any) map[string]any {
			b := dailyMedication()
			for k, v := range changes {
				if v == nil {
					delete(b, k)
				} else {
					b[k] = v
				}
			}
			return b
		}
		for _, tc := range []struct {
			name   string
			body   map[string]any
			fields []string
		}{
			{"no name", with(map[string]any{"name": nil}), []string{"name"}},
			{"long name", with(map[string]any{"name": strings.Repeat("x", 201)}), []string{"name"}},
			{"no dosage", with(map[string]any{"dosage": " "}), []string{"dosage"}},
			{"long dosage", with(map[string]any{"dosage": strings.Repeat("x", 101)}), []string{"dosage"}},
			{"unknown form", with(map[string]any{"form": "PILL"}), []string{"form"}},
			{"lower-case form", with(map[string]any{"form": "tablet"}), []string{"form"}},
			{"unknown frequency", with(map[string]any{"frequency": "HOURLY"}), []string{"frequency"}},
			{"no frequency", with(map[string]any{"frequency": nil}), []string{"frequency"}},
			{"bad time", with(map[string]any{"scheduledTimes": []string{"8:00"}}), []string{"scheduledTimes"}},
			{"time out of range", with(map[string]any{"scheduledTimes": []string{"24:00"}}), []string{"scheduledTimes"}},
			{"duplicate time", with(map[string]any{"scheduledTimes": []string{"08:00", "08:00"}}), []string{"scheduledTimes"}},
			{"times for an as-needed one", with(map[string]any{"frequency": "AS_NEEDED"}), []string{"scheduledTimes"}},
			{"timesPerDay 0", with(map[string]any{"timesPerDay": 0}), []string{"timesPerDay"}},
			{"timesPerDay 25", with(map[string]any{"timesPerDay": 25}), []string{"timesPerDay"}},
			{"negative supply", with(map[string]any{"currentSupply": -1}), []string{"currentSupply"}},
			{"negative refill level", with(map[string]any{"refillAt": -1}), []string{"refillAt"}},
			{"fractional supply", with(map[string]any{"currentSupply": 1.5}), []string{"currentSupply"}},
			{"bad date", with(map[string]any{"startDate": "2026-02-30"}), []string{"startDate"}},
			{"bad refill date", with(map[string]any{"lastRefillDate": "03/01/2026"}), []string{"lastRefillDate"}},
			{"end before start", with(map[string]any{"startDate": "2026-03-10", "endDate": "2026-03-09"}), []string{"endDate"}},
			{"bad pharmacy phone", with(map[string]any{"pharmacyPhone": "call me"}), []string{"pharmacyPhone"}},
			{"unknown field", with(map[string]any{"color": "red"}), []string{"color"}},
		} {
			res := h.request("POST", list, f.admin.Token, tc.body)
			if res.Status != 400 {
				t.Errorf("%s: status %d: %s", tc.name, res.Status, res.Body)
				continue
			}
			fe := fieldErrors(res.errorEnvelope(400))
			for _, field := range tc.fields {
				if fe[field] == nil {
					t.Errorf("%s: no error for %s: %v", tc.name, field, fe)
				}
			}
		}
		twentyFive := make([]string, 25)
		for i := range twentyFive {
			twentyFive[i] = fmt.Sprintf("%02d:%02d", i%24, i/24)
		}
		h.request("POST", list, f.admin.Token, with(map[string]any{"scheduledTimes": twentyFive})).errorEnvelope(400)
		if ms := h.request("GET", list+"?activeOnly=false", f.admin.Token, nil).expect(200).List(); len(ms) != 0 {
			t.Fatalf("refused bodies wrote medications: %v", ms)
		}

		// PATCH bodies are validated, against the merged medication too.
		m := h.createMedicationAs(f.admin, f.CareRecipientID, with(map[string]any{"startDate": "2026-03-01"}))
		item := list + "/" + m["id"].(string)
		for _, patch := range []map[string]any{
			{"name": nil}, {"dosage": ""}, {"form": "PILL"}, {"frequency": nil}, {"scheduledTimes": []string{"25:00"}},
			{"scheduledTimes": []string{}}, {"endDate": "2026-02-28"}, {"isActive": nil}, {"currentSupply": -3},
			{"timesPerDay": 30}, {"id": noSuchID},
		} {
			h.request("PATCH", item, f.admin.Token, patch).errorEnvelope(400)
		}
		if got := h.request("GET", item, f.admin.Token, nil).expect(200).Map(); !reflect.DeepEqual(got, m) {
			t.Fatalf("refused patches changed the medication:\n got %v\nwant %v", got, m)
		}
	})
}

// logBody is a dose log body.
func logBody(status string, at time.Time, extra ...any) map[string]any {
	b := map[string]any{"status": status, "scheduledTime": at.Format(time.RFC3339)}
	for i := 0; i+1 < len(extra); i += 2 {
		b[extra[i].(string)] = extra[i+1]
	}
	return b
}

func TestLogDoseRules(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, h *harness) {
		f := newFixture(t, h, newMatrixUsers(h))
		// The clock reads 2026-03-02T15:00Z: 00:00 on 3 March in Tokyo.
		m := h.createMedicationAs(f.admin, f.CareRecipientID, dailyMedication())
		id := m["id"].(string)
		logPath := "/medications/" + id + "/log"
		item := medicationsPath(f.CareRecipientID) + "/" + id
		supply := func() float64 {
			t.Helper()
			return h.request("GET", item, f.viewer.Token, nil).expect(200).Map()["currentSupply"].(float64)
		}
		// 08:00 and 20:00 in Tokyo on 2 March.
		morning := time.Date(2026, 3, 1, 23, 0, 0, 0, time.UTC)
		evening := time.Date(2026, 3, 2, 11, 0, 0, 0, time.UTC)

		l := h.request("POST", logPath, f.caregiver.Token, logBody("GIVEN", morning, "notes", "with breakfast")).expect(201).Map()
		givenBy, _ := l["givenBy"].(map[string]any)
		if l["status"] != "GIVEN" || l["scheduledTime"] != "2026-03-01T23:00:00Z" || l["givenTime"] != testStart.Format(time.RFC3339) ||
			l["medicationId"] != id || l["notes"] != "with breakfast" || givenBy["id"] != f.caregiver.ID || givenBy["fullName"] != f.caregiver.FullName {
			t.Fatalf("log = %v", l)
		}
		if s := supply(); s != 9 {
			t.Fatalf("supply after one dose = %v", s)
		}
		// The same dose again, in any status and any notation: 409, no decrement.
		for _, b := range []map[string]any{
			logBody("GIVEN", morning),
			{"status": "MISSED", "scheduledTime": "2026-03-02T08:00:00+09:00"},
			logBody("SKIPPED", morning, "skipReason", "asleep"),
			// An instant near the dose stands for it.
			logBody("GIVEN", morning.Add(time.Hour)),
		} {
			h.request("POST", logPath, f.admin.Token, b).errorEnvelope(409)
		}
		if s := supply(); s != 9 {
			t.Fatalf("supply after refused logs = %v", s)
		}

		// MISSED then GIVEN: the log is updated (200), the supply drops once.
		missed := h.request("POST", logPath, f.admin.Token, logBody("MISSED", evening)).expect(201).Map()
		if missed["givenTime"] != nil || supply() != 9 {
			t.Fatalf("missed = %v", missed)
		}
		h.clock.Advance(time.Minute)
		given := h.request("POST", logPath, f.caregiver.Token, logBody("GIVEN", evening)).expect(200).Map()
		if given["id"] != missed["id"] || given["status"] != "GIVEN" || given["givenTime"] != testStart.Add(time.Minute).Format(time.RFC3339) {
			t.Fatalf("missed → given = %v", given)
		}
		if s := supply(); s != 8 {
			t.Fatalf("supply after the late dose = %v", s)
		}
		h.request("POST", logPath, f.caregiver.Token, logBody("GIVEN", evening)).errorEnvelope(409)
		if s := supply(); s != 8 {
			t.Fatalf("supply after a repeat = %v", s)
		}

		// SKIPPED needs a reason, and only SKIPPED takes one.
		tomorrow := time.Date(2026, 3, 2, 23, 0, 0, 0, time.UTC) // 08:00 on 3 March in Tokyo
		e := h.request("POST", logPath, f.caregiver.Token, logBody("SKIPPED", tomorrow)).errorEnvelope(400)
		if fieldErrors(e)["skipReason"] == nil {
			t.Fatalf("skip without reason = %v", e)
		}
		h.request("POST", logPath, f.caregiver.Token, logBody("GIVEN", tomorrow, "skipReason", "x")).errorEnvelope(400)
		skipped := h.request("POST", logPath, f.caregiver.Token, logBody("SKIPPED", tomorrow, "skipReason", "Refused")).expect(201).Map()
		if skipped["skipReason"] != "Refused" || skipped["givenTime"] != nil || supply() != 8 {
			t.Fatalf("skipped = %v", skipped)
		}

		// Bad bodies and instants that are not this medication's doses.
		for name, b := range map[string]map[string]any{
			"unknown status": logBody("TAKEN", morning.Add(24*time.Hour)),
			"no time":        {"status": "GIVEN"},
			"not RFC 3339":   {"status": "GIVEN", "scheduledTime": "2026-03-02 08:00"},
			"a date only":    {"status": "GIVEN", "scheduledTime": "2026-03-02"},
			// 00:30 in Tokyo is nearer the day before's 20:00 than its own 08:00.
			"nearer another day": logBody("GIVEN", time.Date(2026, 3, 1, 15, 30, 0, 0, time.UTC)),
			"not a dose time":    {"status": "GIVEN", "scheduledTime": "09:00"},
			"more than 7 days":   logBody("GIVEN", morning.Add(-7*24*time.Hour)),
			"more than a day":    logBody("GIVEN", evening.Add(48*time.Hour)),
			"unknown field":      logBody("GIVEN", evening.Add(-24*time.Hour), "givenTime", "2026-03-01T11:00:00Z"),
			"notes too long":     logBody("GIVEN", evening.Add(-24*time.Hour), "notes", strings.Repeat("x", 5001)),
			"skip reason blank":  logBody("SKIPPED", evening.Add(-24*time.Hour), "skipReason", "  "),
		} {
			if res := h.request("POST", logPath, f.caregiver.Token, b); res.Status != 400 {
				t.Errorf("%s: status %d: %s", name, res.Status, res.Body)
			}
		}
		if s := supply(); s != 8 {
			t.Fatalf("refused logs changed the supply: %v", s)
		}

		// As-needed doses may be logged at any instant within a day of now.
		prn := h.createMedicationAs(f.admin, f.CareRecipientID, map[string]any{"name": "Paracetamol", "dosage": "1 g", "form": "TABLET", "frequency": "AS_NEEDED"})
		prnLog := "/medications/" + prn["id"].(string) + "/log"
		h.request("POST", prnLog, f.caregiver.Token, logBody("GIVEN", testStart.Add(-90*time.Minute+17*time.Second))).expect(201)
		h.request("POST", prnLog, f.caregiver.Token, logBody("GIVEN", testStart.Add(-25*time.Hour))).errorEnvelope(400)

		// An inactive medication takes no logs.
		h.request("PATCH", item+"/deactivate", f.admin.Token, nil).expect(200)
		h.request("POST", logPath, f.caregiver.Token, logBody("GIVEN", morning.Add(-24*time.Hour))).errorEnvelope(409)
		logs := h.request("GET", item+"/logs", f.viewer.Token, nil).expect(200).List()
		if len(logs) != 3 {
			t.Fatalf("logs = %v", logs)
		}
	})
}

func TestDoseLoggedNotifiesTheFamily(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, h *harness) {
		f := newFixture(t, h, newMatrixUsers(h))
		m := h.createMedicationAs(f.admin, f.CareRecipientID, dailyMedication())
		at := time.Date(2026, 3, 1, 23, 0, 0, 0, time.UTC)
		l := h.request("POST", "/medications/"+m["id"].(string)+"/log", f.caregiver.Token, logBody("GIVEN", at)).expect(201).Map()
		if n := h.medicationNotes(f.caregiver.ID); len(n) != 0 {
			t.Fatalf("the logger was notified: %+v", n)
		}
		if n := h.medicationNotes(f.outsider.ID); len(n) != 0 {
			t.Fatalf("a non-member was notified: %+v", n)
		}
		for _, u := range []testUser{f.admin, f.viewer} {
			ns := h.medicationNotes(u.ID)
			if len(ns) != 1 {
				t.Fatalf("%s has %d notifications", u.Email, len(ns))
			}
			n := ns[0]
			var data map[string]any
			if err := json.Unmarshal(n.Data, &data); err != nil {
				t.Fatal(err)
			}
			want := map[string]any{"medicationId": m["id"], "careRecipientId": f.CareRecipientID,
				"scheduledTime": "2026-03-01T23:00:00Z", "status": "GIVEN", "logId": l["id"]}
			if !reflect.DeepEqual(data, want) || !strings.Contains(n.Body, "Metformin") || !strings.Contains(n.Body, "08:00") {
				t.Fatalf("notification = %+v %v", n, data)
			}
		}
	})
}

// scheduleEntry finds a medication's entry in today's schedule.
func scheduleEntry(t *testing.T, entries []map[string]any, medicationID string) map[string]any {
	t.Helper()
	for _, e := range entries {
		if e["medication"].(map[string]any)["id"] == medicationID {
			return e
		}
	}
	t.Fatalf("medication %s is not in the schedule %v", medicationID, entries)
	return nil
}

// doseSummary reads "time scheduledTime status" for each dose of an entry.
func doseSummary(e map[string]any) []string {
	var out []string
	for _, d := range e["doses"].([]any) {
		d := d.(map[string]any)
		out = append(out, fmt.Sprintf("%s %s %s", d["time"], d["scheduledTime"], d["status"]))
	}
	return out
}

// TestTodaysScheduleAcrossDST: on the day New York springs forward, 08:00
// is 12:00Z (EDT), not 13:00Z (EST).
func TestTodaysScheduleAcrossDST(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, h *harness) {
		h.clock.Set(time.Date(2026, 3, 8, 15, 0, 0, 0, time.UTC)) // 11:00 EDT
		f := newFixture(t, h, newMatrixUsers(h))
		ny := f.careRecipientIn("America/New_York")
		body := dailyMedication()
		body["scheduledTimes"] = []string{"08:00", "02:30", "20:00"}
		m := h.createMedicationAs(f.admin, ny, body)
		h.request("POST", "/medications/"+m["id"].(string)+"/log", f.caregiver.Token, logBody("GIVEN", time.Date(2026, 3, 8, 12, 0, 0, 0, time.UTC))).expect(201)
		// Yesterday's 20:00 dose (01:00Z today) is not today's.
		h.request("POST", "/medications/"+m["id"].(string)+"/log", f.caregiver.Token, logBody("MISSED", time.Date(2026, 3, 8, 1, 0, 0, 0, time.UTC))).expect(201)

		entries := h.request("GET", medicationsPath(ny)+"/schedule/today", f.viewer.Token, nil).expect(200).List()
		if len(entries) != 1 {
			t.Fatalf("schedule = %v", entries)
		}
		e := scheduleEntry(t, entries, m["id"].(string))
		want := []string{
			"02:30 2026-03-08T07:00:00Z PENDING", // in the DST gap: 03:00 EDT
			"08:00 2026-03-08T12:00:00Z GIVEN",
			"20:00 2026-03-09T00:00:00Z UPCOMING",
		}
		if got := doseSummary(e); !reflect.DeepEqual(got, want) {
			t.Fatalf("doses = %v\nwant %v", got, want)
		}
		// Existing clients map over scheduledTimes as the medication's strings.
		if !reflect.DeepEqual(e["scheduledTimes"], []any{"02:30", "08:00", "20:00"}) {
			t.Fatalf("scheduledTimes = %v, want the medication's HH:mm strings", e["scheduledTimes"])
		}
		dose := e["doses"].([]any)[1].(map[string]any)
		if log, _ := dose["log"].(map[string]any); log == nil || log["status"] != "GIVEN" {
			t.Fatalf("08:00 dose without its log: %v", dose)
		}
		if logs := e["logs"].([]any); len(logs) != 1 {
			t.Fatalf("today's logs = %v", logs)
		}
	})
}

// TestTodaysScheduleInTokyo: "today" is the date in the care recipient's
// zone, which may differ from the UTC date.
func TestTodaysScheduleInTokyo(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, h *harness) {
		h.clock.Set(time.Date(2026, 3, 2, 20, 0, 0, 0, time.UTC)) // 05:00 on 3 March in Tokyo
		f := newFixture(t, h, newMatrixUsers(h))
		body := dailyMedication()
		body["scheduledTimes"] = []string{"04:00", "08:00"}
		m := h.createMedicationAs(f.admin, f.CareRecipientID, body)
		later := dailyMedication()
		later["name"], later["startDate"] = "Starts tomorrow", "2026-03-04"
		h.createMedicationAs(f.admin, f.CareRecipientID, later)
		ended := dailyMedication()
		ended["name"], ended["startDate"], ended["endDate"] = "Ended yesterday", "2026-02-01", "2026-03-02"
		h.createMedicationAs(f.admin, f.CareRecipientID, ended)
		prn := h.createMedicationAs(f.admin, f.CareRecipientID, map[string]any{"name": "Paracetamol", "dosage": "1 g", "form": "TABLET", "frequency": "AS_NEEDED"})
		h.request("POST", "/medications/"+prn["id"].(string)+"/log", f.caregiver.Token, logBody("GIVEN", time.Date(2026, 3, 2, 19, 30, 0, 0, time.UTC))).expect(201)
		h.request("POST", "/medications/"+prn["id"].(string)+"/log", f.caregiver.Token, logBody("GIVEN", time.Date(2026, 3, 2, 14, 0, 0, 0, time.UTC))).expect(201)

		entries := h.request("GET", medicationsPath(f.CareRecipientID)+"/schedule/today", f.caregiver.Token, nil).expect(200).List()
		if len(entries) != 2 {
			t.Fatalf("schedule has %d entries, want the daily and the as-needed one: %v", len(entries), entries)
		}
		want := []string{"04:00 2026-03-02T19:00:00Z PENDING", "08:00 2026-03-02T23:00:00Z UPCOMING"}
		if got := doseSummary(scheduleEntry(t, entries, m["id"].(string))); !reflect.DeepEqual(got, want) {
			t.Fatalf("doses = %v\nwant %v", got, want)
		}
		p := scheduleEntry(t, entries, prn["id"].(string))
		if logs := p["logs"].([]any); len(p["scheduledTimes"].([]any)) != 0 || len(p["doses"].([]any)) != 0 || len(logs) != 1 ||
			logs[0].(map[string]any)["scheduledTime"] != "2026-03-02T19:30:00Z" {
			t.Fatalf("as-needed entry = %v", p)
		}
	})
}

func TestMedicationLogsRange(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, h *harness) {
		h.clock.Set(time.Date(2026, 3, 8, 0, 0, 0, 0, time.UTC)) // 09:00 on 8 March in Tokyo
		f := newFixture(t, h, newMatrixUsers(h))
		body := dailyMedication()
		body["scheduledTimes"] = []string{"08:00"}
		m := h.createMedicationAs(f.admin, f.CareRecipientID, body)
		logPath := "/medications/" + m["id"].(string) + "/log"
		// 08:00 in Tokyo on 2..8 March is 23:00Z the day before.
		for d := 2; d <= 8; d++ {
			h.request("POST", logPath, f.caregiver.Token, logBody("GIVEN", time.Date(2026, 3, d-1, 23, 0, 0, 0, time.UTC))).expect(201)
		}
		logs := medicationsPath(f.CareRecipientID) + "/" + m["id"].(string) + "/logs"
		days := func(query string) []int {
			t.Helper()
			var out []int
			for _, l := range h.request("GET", logs+query, f.viewer.Token, nil).expect(200).List() {
				at, err := time.Parse(time.RFC3339, l["scheduledTime"].(string))
				if err != nil {
					t.Fatal(err)
				}
				out = append(out, at.In(time.FixedZone("JST", 9*3600)).Day())
			}
			return out
		}
		q := func(kv ...string) string {
			v := url.Values{}
			for i := 0; i+1 < len(kv); i += 2 {
				v.Set(kv[i], kv[i+1])
			}
			return "?" + v.Encode()
		}
		for _, tc := range []struct {
			query string
			want  []int
		}{
			{"", []int{8, 7, 6, 5, 4, 3, 2}},
			{q("limit", "3"), []int{8, 7, 6}},
			// Dates are whole days in the care recipient's zone, both included.
			{q("startDate", "2026-03-04", "endDate", "2026-03-06"), []int{6, 5, 4}},
			{q("startDate", "2026-03-07"), []int{8, 7}},
			{q("endDate", "2026-03-03"), []int{3, 2}},
			{q("startDate", "2026-03-05", "endDate", "2026-03-05"), []int{5}},
			// Instants are exact, both included.
			{q("startDate", "2026-03-03T23:00:00Z", "endDate", "2026-03-05T23:00:00Z"), []int{6, 5, 4}},
			{q("startDate", "2026-03-04T08:00:00+09:00", "endDate", "2026-03-05T07:59:59+09:00"), []int{4}},
			{q("startDate", "2026-03-09"), nil},
		} {
			if got := days(tc.query); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("logs%s: days %v, want %v", tc.query, got, tc.want)
			}
		}
		for _, bad := range []string{
			q("startDate", "2026-03-06", "endDate", "2026-03-04"),
			q("startDate", "2026-03-05T00:00:01Z", "endDate", "2026-03-05T00:00:00Z"),
			q("startDate", "yesterday"), q("endDate", "2026-13-01"),
			q("limit", "0"), q("limit", "501"), q("limit", "ten"),
		} {
			h.request("GET", logs+bad, f.viewer.Token, nil).errorEnvelope(400)
		}
		if got := days(q("limit", "500")); len(got) != 7 {
			t.Fatalf("limit 500 = %v", got)
		}
	})
}
