package api

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

// The tests in this file send what the original web client
// (apps/web/src/lib/api/*.ts of the system CareCircle replaces) sends, and
// check what it reads, as the contract's "Existing clients" section
// decides.

// TestSignInCarriesFamilies: the client routes on user.families right after
// login and email verification, as GET /auth/me shows them.
func TestSignInCarriesFamilies(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, h *harness) {
		const addr = "ann@example.com"
		code := h.register(addr)
		verified := h.verify(addr, code).expect(200).Map()
		vu := verified["user"].(map[string]any)
		if fams, ok := vu["families"].([]any); !ok || len(fams) != 0 || vu["email"] != addr {
			t.Fatalf("verify-email user = %v, want families []", vu)
		}

		bob := h.newUser("bob@example.com")
		famID := h.createFamilyAs(bob, "The Lees")
		h.request("POST", "/families/"+famID+"/care-recipients", bob.Token,
			map[string]any{"fullName": "Grandma", "timezone": "Europe/Berlin"}).expect(201)
		login := h.login("bob@example.com", "Password1234").expect(200).Map()
		u := login["user"].(map[string]any)
		fams, _ := u["families"].([]any)
		if len(fams) != 1 {
			t.Fatalf("login user.families = %v", u["families"])
		}
		f := fams[0].(map[string]any)
		crs, _ := f["careRecipients"].([]any)
		if f["id"] != famID || f["name"] != "The Lees" || f["role"] != "ADMIN" || len(crs) != 1 ||
			crs[0].(map[string]any)["fullName"] != "Grandma" || u["id"] != bob.ID || u["passwordHash"] != nil {
			t.Fatalf("login user = %v", u)
		}
		me := h.request("GET", "/auth/me", bob.Token, nil).expect(200).Map()
		if len(me["families"].([]any)) != 1 || me["families"].([]any)[0].(map[string]any)["id"] != famID {
			t.Fatalf("me families = %v", me["families"])
		}
	})
}

// TestInvalidateCache: the client calls it before reading /auth/me afresh.
func TestInvalidateCache(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, h *harness) {
		ann := h.newUser("ann@example.com")
		got := h.request("POST", "/auth/invalidate-cache", ann.Token, map[string]any{}).expect(200).Map()
		if got["success"] != true || len(got) != 1 {
			t.Fatalf("invalidate-cache = %v", got)
		}
		h.request("POST", "/auth/invalidate-cache", ann.Token, `{"all":true}`).errorEnvelope(400)
		h.request("POST", "/auth/invalidate-cache", "", map[string]any{}).errorEnvelope(401)
	})
}

// TestMedicationsAsExistingClientsSendThem: scheduledTimes may be omitted on
// create; dose logs come as "HH:mm" (the medications page) or as an instant
// the browser computed in its own zone (the tracker); one log per dose.
func TestMedicationsAsExistingClientsSendThem(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, h *harness) {
		// 09:00 on 3 March in Tokyo, where the fixture's care recipient lives.
		h.clock.Set(time.Date(2026, 3, 3, 0, 0, 0, 0, time.UTC))
		f := newFixture(t, h, newMatrixUsers(h))
		list := medicationsPath(f.CareRecipientID)
		create := func(freq string) map[string]any {
			t.Helper()
			return h.request("POST", list, f.caregiver.Token, map[string]any{
				"name": "Med " + freq, "dosage": "1 tablet", "form": "TABLET", "frequency": freq, "currentSupply": 10,
			}).expect(201).Map()
		}
		for freq, want := range map[string][]any{
			"DAILY": {"08:00"}, "TWICE_DAILY": {"08:00", "20:00"}, "THREE_TIMES_DAILY": {"08:00", "14:00", "20:00"},
			"FOUR_TIMES_DAILY": {"08:00", "12:00", "16:00", "20:00"}, "AS_NEEDED": {}, "OTHER": {},
		} {
			if got := create(freq)["scheduledTimes"]; !reflect.DeepEqual(got, want) {
				t.Errorf("%s created without times: scheduledTimes = %v, want %v", freq, got, want)
			}
		}
		twice := h.request("GET", list, f.viewer.Token, nil).expect(200).List()
		var twiceID, otherID string
		for _, m := range twice {
			switch m["frequency"] {
			case "TWICE_DAILY":
				twiceID = m["id"].(string)
			case "OTHER":
				otherID = m["id"].(string)
			}
		}
		logPath := "/medications/" + twiceID + "/log"

		// "08:00" is today's 08:00 in Tokyo.
		l := h.request("POST", logPath, f.caregiver.Token, map[string]any{"status": "GIVEN", "scheduledTime": "08:00"}).expect(201).Map()
		if l["scheduledTime"] != "2026-03-02T23:00:00Z" {
			t.Fatalf("08:00 logged as %v", l["scheduledTime"])
		}
		// The same dose as an instant a browser in New York computed
		// (08:00 local there), or as "08:00" again: one log per dose.
		h.request("POST", logPath, f.admin.Token, map[string]any{"status": "GIVEN", "scheduledTime": "08:00"}).errorEnvelope(409)
		h.request("POST", logPath, f.admin.Token, map[string]any{"status": "GIVEN", "scheduledTime": "2026-03-02T21:10:00.000Z"}).errorEnvelope(409)
		// 17:40 in Tokyo is nearest today's 20:00, which it logs.
		ev := h.request("POST", logPath, f.caregiver.Token, map[string]any{"status": "SKIPPED", "scheduledTime": "2026-03-03T08:40:00.000Z", "skipReason": "asleep"}).expect(201).Map()
		if ev["scheduledTime"] != "2026-03-03T11:00:00Z" {
			t.Fatalf("evening dose logged as %v", ev["scheduledTime"])
		}
		// Not a dose: a time the medication does not have, a malformed one,
		// an instant nearer another day's dose. Nothing is written.
		for _, st := range []string{"09:00", "8:00", "25:00", "2026-03-02T15:30:00Z", "yesterday"} {
			h.request("POST", logPath, f.caregiver.Token, map[string]any{"status": "GIVEN", "scheduledTime": st}).errorEnvelope(400)
		}
		sched := h.request("GET", list+"/schedule/today", f.viewer.Token, nil).expect(200).List()
		e := scheduleEntry(t, sched, twiceID)
		if got := doseSummary(e); !reflect.DeepEqual(got, []string{"08:00 2026-03-02T23:00:00Z GIVEN", "20:00 2026-03-03T11:00:00Z SKIPPED"}) ||
			len(e["logs"].([]any)) != 2 {
			t.Fatalf("today's schedule = %v", e)
		}
		if m := h.request("GET", list+"/"+twiceID, f.viewer.Token, nil).expect(200).Map(); m["currentSupply"] != 9.0 {
			t.Fatalf("supply = %v, want 9 after one given dose", m["currentSupply"])
		}

		// OTHER takes any instant within a day, as AS_NEEDED does.
		other := "/medications/" + otherID + "/log"
		h.request("POST", other, f.caregiver.Token, map[string]any{"status": "GIVEN", "scheduledTime": "2026-03-02T22:17:00Z"}).expect(201)
		h.request("POST", other, f.caregiver.Token, map[string]any{"status": "GIVEN", "scheduledTime": "07:45"}).expect(201)
		h.request("POST", other, f.caregiver.Token, map[string]any{"status": "GIVEN", "scheduledTime": "2026-03-01T00:00:00Z"}).errorEnvelope(400)
	})
}

// TestTimelineAsExistingClientsSendIt: the add-entry form's bodies, vitals
// without units and the MOOD, ACTIVITY, SLEEP and MEAL fields it keeps in
// vitals, are recorded and read back.
func TestTimelineAsExistingClientsSendIt(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, h *harness) {
		f := newFixture(t, h, newMatrixUsers(h))
		tl := "/care-recipients/" + f.CareRecipientID + "/timeline"
		for _, tc := range []struct {
			body map[string]any
			want map[string]any // fields of the stored vitals
		}{
			{map[string]any{"type": "VITALS", "title": "Morning vitals", "vitals": map[string]any{
				"bloodPressure": "120/80", "heartRate": 72, "temperature": 98.6, "bloodSugar": 110, "oxygenLevel": 97, "weight": 150.5}},
				map[string]any{"bloodPressure": "120/80", "temperature": 98.6, "temperatureUnit": "F", "bloodSugarUnit": "mg/dL", "weightUnit": "lb"}},
			{map[string]any{"type": "MOOD", "title": "Mood check", "vitals": map[string]any{"mood": "Happy"}}, map[string]any{"mood": "Happy"}},
			{map[string]any{"type": "ACTIVITY", "title": "Walk", "vitals": map[string]any{"activityType": "Walking", "activityDuration": 30}},
				map[string]any{"activityType": "Walking", "activityDuration": 30.0}},
			{map[string]any{"type": "SLEEP", "title": "Night", "vitals": map[string]any{"sleepQuality": "good", "sleepDuration": 7.5}},
				map[string]any{"sleepQuality": "good", "sleepDuration": 7.5}},
			{map[string]any{"type": "MEAL", "title": "Lunch", "description": "Ate well", "occurredAt": "2026-03-02T12:30:00.000Z",
				"vitals": map[string]any{"mealType": "lunch", "mealDescription": "Soup and bread", "appetite": "good"}},
				map[string]any{"mealType": "lunch", "mealDescription": "Soup and bread", "appetite": "good"}},
		} {
			e := h.request("POST", tl, f.caregiver.Token, tc.body).expect(201).Map()
			got := h.request("GET", tl+"/"+e["id"].(string), f.viewer.Token, nil).expect(200).Map()["vitals"].(map[string]any)
			for k, v := range tc.want {
				if got[k] != v {
					t.Errorf("%s: vitals.%s = %v, want %v (%v)", tc.body["type"], k, got[k], v, got)
				}
			}
		}
		// Wrong types are refused, each named at once, and nothing is written.
		before := len(h.request("GET", tl, f.viewer.Token, nil).expect(200).List())
		m := h.request("POST", tl, f.caregiver.Token, map[string]any{"type": "VITALS", "title": "Bad",
			"vitals": map[string]any{"heartRate": "fast", "temperature": "warm", "mood": 5}}).errorEnvelope(400)
		for _, field := range []string{"vitals.heartRate", "vitals.temperature", "vitals.mood"} {
			if fieldErrors(m)[field] == nil {
				t.Errorf("errors %v do not name %s", m["errors"], field)
			}
		}
		if after := len(h.request("GET", tl, f.viewer.Token, nil).expect(200).List()); after != before {
			t.Fatalf("a refused body wrote an entry: %d → %d", before, after)
		}
	})
}

// TestNestedTimelineEntryRoutes: the client edits entries under their care
// recipient; an entry of another care recipient is not found there.
func TestNestedTimelineEntryRoutes(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, h *harness) {
		f := newFixture(t, h, newMatrixUsers(h))
		other := f.careRecipientIn("Europe/Paris")
		tl := "/care-recipients/" + f.CareRecipientID + "/timeline"
		e := h.request("POST", tl, f.caregiver.Token, map[string]any{"type": "NOTE", "title": "Walked"}).expect(201).Map()
		item := tl + "/" + e["id"].(string)
		if got := h.request("PATCH", item, f.caregiver.Token, map[string]any{"title": "Walked far"}).expect(200).Map(); got["title"] != "Walked far" {
			t.Fatalf("patched = %v", got)
		}
		h.request("PATCH", item, f.caregiver.Token, map[string]any{"title": 5}).errorEnvelope(400)
		elsewhere := "/care-recipients/" + other + "/timeline/" + e["id"].(string)
		h.request("GET", elsewhere, f.admin.Token, nil).errorEnvelope(404)
		h.request("DELETE", elsewhere, f.admin.Token, nil).errorEnvelope(404)
		h.request("GET", "/care-recipients/not-a-uuid/timeline/"+e["id"].(string), f.admin.Token, nil).errorEnvelope(400)
		if got := h.request("GET", item, f.viewer.Token, nil).expect(200).Map(); got["title"] != "Walked far" {
			t.Fatalf("after refused changes = %v", got)
		}
		h.request("DELETE", item, f.caregiver.Token, nil).expect(200)
		h.request("GET", "/timeline/"+e["id"].(string), f.admin.Token, nil).errorEnvelope(404)
	})
}

// TestHealthLiveAndEmergencyNames: probes match on /health/live's
// {status:"alive", uptime, timestamp}; the emergency card reads each
// member's name.
func TestHealthLiveAndEmergencyNames(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, h *harness) {
		h.clock.Advance(90 * time.Second)
		live := h.request("GET", "/health/live", "", nil).expect(200).Map()
		if live["status"] != "alive" || live["uptime"] != 90.0 || live["timestamp"] != testStart.Add(90*time.Second).Format(time.RFC3339) {
			t.Fatalf("live = %v", live)
		}
		f := newFixture(t, h, newMatrixUsers(h))
		info := h.request("GET", "/care-recipients/"+f.CareRecipientID+"/emergency/info", f.viewer.Token, nil).expect(200).Map()
		members, _ := info["familyMembers"].([]any)
		if len(members) != 3 {
			t.Fatalf("familyMembers = %v", info["familyMembers"])
		}
		for _, m := range members {
			m := m.(map[string]any)
			if m["name"] == "" || m["name"] != m["fullName"] {
				t.Errorf("member without name: %v", m)
			}
		}
	})
}

// TestFamilyDescription: scripts create families with a description, which
// the family then shows; an over-long one writes nothing.
func TestFamilyDescription(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, h *harness) {
		ann := h.newUser("ann@example.com")
		f := h.request("POST", "/families", ann.Token, map[string]any{"name": "The Lees", "description": "Caring for Gran"}).expect(201).Map()
		if f["description"] != "Caring for Gran" || len(f["members"].([]any)) != 1 {
			t.Fatalf("created = %v", f)
		}
		if got := h.request("GET", "/families/"+f["id"].(string), ann.Token, nil).expect(200).Map(); got["description"] != "Caring for Gran" {
			t.Fatalf("family = %v", got)
		}
		if l := h.request("GET", "/families", ann.Token, nil).expect(200).List(); len(l) != 1 || l[0]["description"] != "Caring for Gran" {
			t.Fatalf("families = %v", l)
		}
		plain := h.request("POST", "/families", ann.Token, map[string]any{"name": "Plain"}).expect(201).Map()
		if d, has := plain["description"]; !has || d != nil {
			t.Fatalf("without a description = %v", plain)
		}
		m := h.request("POST", "/families", ann.Token, map[string]any{"name": "Long", "description": strings.Repeat("x", 501)}).errorEnvelope(400)
		if fieldErrors(m)["description"] == nil {
			t.Fatalf("errors = %v", m["errors"])
		}
		if l := h.request("GET", "/families", ann.Token, nil).expect(200).List(); len(l) != 2 {
			t.Fatalf("a refused body created a family: %v", l)
		}
	})
}
