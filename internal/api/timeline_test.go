package api

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/carecircle/carecircle/internal/auth"
	"github.com/carecircle/carecircle/internal/care"
	"github.com/carecircle/carecircle/internal/store"
)

// timelineWorld is a matrix fixture (care recipient in Asia/Tokyo) with a
// second caregiver, signing users in afresh for each request.
type timelineWorld struct {
	*fixture
	h      *harness
	carer2 testUser
}

func newTimelineWorld(t *testing.T, h *harness) *timelineWorld {
	t.Helper()
	f := newFixture(t, h, newMatrixUsers(h))
	w := &timelineWorld{fixture: f, h: h, carer2: h.newUser("carer2@example.com")}
	ctx := context.Background()
	tok := auth.NewOpaqueToken()
	if _, err := h.store.CreateInvitation(ctx, store.NewInvitation{FamilyID: f.FamilyID, Email: w.carer2.Email,
		Role: care.RoleCaregiver, InvitedByID: f.admin.ID, TokenHash: auth.HashToken(tok), TTL: care.InvitationTTL}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.store.AcceptInvitation(ctx, auth.HashToken(tok), w.carer2.ID, w.carer2.Email); err != nil {
		t.Fatal(err)
	}
	return w
}

// as sends a request signed in as u.
func (w *timelineWorld) as(u testUser, method, path string, body any) *response {
	w.h.t.Helper()
	return w.h.request(method, path, w.h.signIn(u.User), body)
}

func (w *timelineWorld) timelinePath() string {
	return "/care-recipients/" + w.CareRecipientID + "/timeline"
}

// post records an entry as u and returns it.
func (w *timelineWorld) post(u testUser, body map[string]any) map[string]any {
	w.h.t.Helper()
	return w.as(u, "POST", w.timelinePath(), body).expect(201).Map()
}

// entryCount counts the care recipient's stored entries.
func (w *timelineWorld) entryCount() int {
	w.h.t.Helper()
	var n int
	if err := w.h.store.DB().QueryRow(`SELECT COUNT(*) FROM timeline_entries WHERE care_recipient_id = $1`,
		w.CareRecipientID).Scan(&n); err != nil {
		w.h.t.Fatal(err)
	}
	return n
}

// timelineEvent is a committed domain event as the outbox keeps it.
type timelineEvent struct {
	Type            string         `json:"type"`
	FamilyID        string         `json:"familyId"`
	CareRecipientID string         `json:"careRecipientId"`
	Data            map[string]any `json:"data"`
}

// timelineEvents reads the committed domain events of one type, oldest first.
func timelineEvents(t *testing.T, h *harness, typ string) []timelineEvent {
	t.Helper()
	evs, err := h.store.PendingEvents(context.Background(), 10000)
	if err != nil {
		t.Fatal(err)
	}
	out := []timelineEvent{}
	for _, e := range evs {
		if e.Type != typ {
			continue
		}
		var env timelineEvent
		if err := json.Unmarshal(e.Envelope, &env); err != nil {
			t.Fatal(err)
		}
		out = append(out, env)
	}
	return out
}

// timelineNote is a stored notification, for assertions.
type timelineNote struct {
	UserID, Title, Body string
	Data                map[string]any
}

// timelineNotes reads every TIMELINE_UPDATE notification, oldest first.
func timelineNotes(t *testing.T, h *harness) []timelineNote {
	t.Helper()
	rows, err := h.store.DB().Query(`SELECT user_id, title, body, data FROM notifications
		WHERE type = $1 ORDER BY created_at, id`, string(care.NotifyTimelineUpdate))
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []timelineNote
	for rows.Next() {
		var n timelineNote
		var data []byte
		if err := rows.Scan(&n.UserID, &n.Title, &n.Body, &data); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(data, &n.Data); err != nil {
			t.Fatal(err)
		}
		out = append(out, n)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func timelineIDsOf(l []map[string]any) []string {
	out := []string{}
	for _, m := range l {
		out = append(out, m["id"].(string))
	}
	return out
}

func idsOfEntries(es ...map[string]any) []string {
	out := []string{}
	for _, e := range es {
		out = append(out, e["id"].(string))
	}
	return out
}

func TestTimelineCreate(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, h *harness) {
		w := newTimelineWorld(t, h)
		at := testStart.Add(-90 * time.Minute)
		e := w.post(w.caregiver, map[string]any{
			"type": "VITALS", "title": "  Morning check  ", "description": "Calm, ate breakfast", "severity": "LOW",
			"vitals": map[string]any{"bloodPressure": " 128 / 84 ", "heartRate": 72, "temperature": 98.6,
				"temperatureUnit": "f", "oxygenLevel": 97, "bloodSugar": 5.8, "bloodSugarUnit": "mmol/l", "weight": 61.5, "weightUnit": "kg"},
			"attachments": []string{"https://photos.example.com/1.jpg"},
			"occurredAt":  at.In(time.FixedZone("JST", 9*3600)).Format(time.RFC3339),
		})
		v := e["vitals"].(map[string]any)
		if e["type"] != "VITALS" || e["title"] != "Morning check" || e["description"] != "Calm, ate breakfast" ||
			e["severity"] != "LOW" || e["careRecipientId"] != w.CareRecipientID || e["createdById"] != w.caregiver.ID ||
			e["occurredAt"] != at.Format(time.RFC3339) || e["createdAt"] != testStart.Format(time.RFC3339) ||
			e["createdBy"].(map[string]any)["fullName"] != w.caregiver.FullName {
			t.Fatalf("created entry = %v", e)
		}
		// Readings come back normalised: "sys/dia", canonical units.
		if v["bloodPressure"] != "128/84" || v["heartRate"] != 72.0 || v["temperatureUnit"] != "F" ||
			v["bloodSugarUnit"] != "mmol/L" || v["weight"] != 61.5 || v["oxygenLevel"] != 97.0 {
			t.Fatalf("vitals = %v", v)
		}
		if a := e["attachments"].([]any); len(a) != 1 || a[0] != "https://photos.example.com/1.jpg" {
			t.Fatalf("attachments = %v", a)
		}
		got := w.as(w.viewer, "GET", "/timeline/"+e["id"].(string), nil).expect(200).Map()
		if got["id"] != e["id"] || got["vitals"].(map[string]any)["bloodPressure"] != "128/84" {
			t.Fatalf("GET entry = %v", got)
		}

		// Without occurredAt the entry happened now; a note needs no vitals.
		n := w.post(w.admin, map[string]any{"type": "NOTE", "title": "Quiet afternoon"})
		if n["occurredAt"] != testStart.Format(time.RFC3339) || n["vitals"] != nil || n["severity"] != nil ||
			len(n["attachments"].([]any)) != 0 {
			t.Fatalf("note = %v", n)
		}

		evs := timelineEvents(t, h, "timeline.entry.created")
		if len(evs) != 2 || evs[0].FamilyID != w.FamilyID || evs[0].CareRecipientID != w.CareRecipientID ||
			evs[0].Data["id"] != e["id"] || evs[1].Data["id"] != n["id"] {
			t.Fatalf("created events = %+v", evs)
		}
		// Neither is urgent: nobody is told.
		if notes := timelineNotes(t, h); len(notes) != 0 {
			t.Fatalf("notifications for routine entries: %+v", notes)
		}
		h.request("GET", "/timeline/0190f000-0000-7000-8000-000000000000", w.h.signIn(w.admin.User), nil).errorEnvelope(404)
		h.request("GET", "/timeline/nope", w.h.signIn(w.admin.User), nil).errorEnvelope(400)
		h.request("POST", "/care-recipients/0190f000-0000-7000-8000-000000000000/timeline", w.h.signIn(w.admin.User),
			map[string]any{"type": "NOTE", "title": "x"}).errorEnvelope(404)
	})
}

// Every reading is checked at the edges of its range; a refused body names
// the field and stores nothing.
func TestTimelineValidation(t *testing.T) {
	t.Parallel()
	h := sqliteHarness(t, harnessOptions{})
	w := newTimelineWorld(t, h)
	vitals := func(v map[string]any) map[string]any {
		return map[string]any{"type": "VITALS", "title": "Reading", "vitals": v}
	}
	ok := []map[string]any{
		vitals(map[string]any{"heartRate": 20}), vitals(map[string]any{"heartRate": 300}),
		vitals(map[string]any{"temperature": 30, "temperatureUnit": "C"}),
		vitals(map[string]any{"temperature": 45, "temperatureUnit": "C"}),
		vitals(map[string]any{"temperature": 86, "temperatureUnit": "F"}),
		vitals(map[string]any{"temperature": 113, "temperatureUnit": "F"}),
		vitals(map[string]any{"oxygenLevel": 50}), vitals(map[string]any{"oxygenLevel": 100}),
		vitals(map[string]any{"bloodPressure": "121/80"}), vitals(map[string]any{"bloodPressure": "81/80"}),
		vitals(map[string]any{"bloodSugar": 10, "bloodSugarUnit": "mg/dL"}),
		vitals(map[string]any{"bloodSugar": 1000, "bloodSugarUnit": "mg/dL"}),
		vitals(map[string]any{"weight": 0.5, "weightUnit": "kg"}), vitals(map[string]any{"weight": 1100, "weightUnit": "lb"}),
		vitals(map[string]any{"respiratoryRate": 4}),
		// Vitals may go with any type of entry.
		{"type": "INCIDENT", "title": "Fall", "vitals": map[string]any{"heartRate": 110}},
		{"type": "NOTE", "title": "Just now", "occurredAt": testStart.Add(4 * time.Minute).Format(time.RFC3339)},
	}
	for _, body := range ok {
		w.as(w.caregiver, "POST", w.timelinePath(), body).expect(201)
	}
	stored := w.entryCount()
	if stored != len(ok) {
		t.Fatalf("%d entries stored, want %d", stored, len(ok))
	}

	tooMany := make([]string, care.MaxTimelineAttachments+1)
	for i := range tooMany {
		tooMany[i] = fmt.Sprintf("https://example.com/%d.jpg", i)
	}
	bad := []struct {
		body  map[string]any
		field string
	}{
		{vitals(map[string]any{"heartRate": 19}), "vitals.heartRate"},
		{vitals(map[string]any{"heartRate": 301}), "vitals.heartRate"},
		{vitals(map[string]any{"heartRate": 72.5}), "vitals.heartRate"},
		{vitals(map[string]any{"temperature": 29.9, "temperatureUnit": "C"}), "vitals.temperature"},
		{vitals(map[string]any{"temperature": 45.1, "temperatureUnit": "C"}), "vitals.temperature"},
		{vitals(map[string]any{"temperature": 85.9, "temperatureUnit": "F"}), "vitals.temperature"},
		{vitals(map[string]any{"temperature": 113.1, "temperatureUnit": "F"}), "vitals.temperature"},
		// Without a unit, 37 reads as °C and 98.6 as °F; 60 is neither.
		{vitals(map[string]any{"temperature": 60}), "vitals.temperature"},
		{vitals(map[string]any{"temperature": 37, "temperatureUnit": "K"}), "vitals.temperatureUnit"},
		{vitals(map[string]any{"heartRate": 70, "temperatureUnit": "C"}), "vitals.temperatureUnit"},
		{vitals(map[string]any{"oxygenLevel": 49.9}), "vitals.oxygenLevel"},
		{vitals(map[string]any{"oxygenLevel": 100.1}), "vitals.oxygenLevel"},
		{vitals(map[string]any{"bloodPressure": "80/80"}), "vitals.bloodPressure"},
		{vitals(map[string]any{"bloodPressure": "80/120"}), "vitals.bloodPressure"},
		{vitals(map[string]any{"bloodPressure": "301/80"}), "vitals.bloodPressure"},
		{vitals(map[string]any{"bloodPressure": "high"}), "vitals.bloodPressure"},
		{vitals(map[string]any{"bloodSugar": 9.9, "bloodSugarUnit": "mg/dL"}), "vitals.bloodSugar"},
		{vitals(map[string]any{"bloodSugar": 1001, "bloodSugarUnit": "mg/dL"}), "vitals.bloodSugar"},
		{vitals(map[string]any{"bloodSugar": 100, "bloodSugarUnit": "g"}), "vitals.bloodSugarUnit"},
		{vitals(map[string]any{"sleepDuration": 25}), "vitals.sleepDuration"},
		{vitals(map[string]any{"mood": 3}), "vitals.mood"},
		{vitals(map[string]any{"weight": 0.4, "weightUnit": "kg"}), "vitals.weight"},
		{vitals(map[string]any{"weight": 1101, "weightUnit": "lb"}), "vitals.weight"},
		{vitals(map[string]any{"respiratoryRate": 61}), "vitals.respiratoryRate"},
		{vitals(map[string]any{}), "vitals"},
		{map[string]any{"type": "VITALS", "title": "Nothing measured"}, "vitals"},
		{vitals(map[string]any{"heartRate": "fast"}), "vitals.heartRate"},
		{map[string]any{"type": "DIARY", "title": "x"}, "type"},
		{map[string]any{"title": "x"}, "type"},
		{map[string]any{"type": "NOTE", "title": "  "}, "title"},
		{map[string]any{"type": "NOTE", "title": strings.Repeat("t", 201)}, "title"},
		{map[string]any{"type": "NOTE", "title": "x", "severity": "SEVERE"}, "severity"},
		{map[string]any{"type": "NOTE", "title": "x", "occurredAt": "yesterday"}, "occurredAt"},
		{map[string]any{"type": "NOTE", "title": "x", "occurredAt": testStart.Add(6 * time.Minute).Format(time.RFC3339)}, "occurredAt"},
		{map[string]any{"type": "NOTE", "title": "x", "attachments": []string{"javascript:alert(1)"}}, "attachments[0]"},
		{map[string]any{"type": "NOTE", "title": "x", "attachments": tooMany}, "attachments"},
		{map[string]any{"type": "NOTE", "title": "x", "mood": "happy"}, "mood"},
	}
	for _, tc := range bad {
		m := w.as(w.caregiver, "POST", w.timelinePath(), tc.body).errorEnvelope(400)
		errs, _ := m["errors"].(map[string]any)
		if _, named := errs[tc.field]; !named {
			t.Errorf("body %v: errors %v do not name %s", tc.body, m["errors"], tc.field)
		}
	}
	if n := w.entryCount(); n != stored {
		t.Fatalf("refused bodies stored entries: %d, want %d", n, stored)
	}
	if evs := timelineEvents(t, h, "timeline.entry.created"); len(evs) != len(ok) {
		t.Fatalf("%d created events, want %d", len(evs), len(ok))
	}
}

// Edit and delete: the author or a family ADMIN, never a VIEWER, nor
// another caregiver.
func TestTimelineEditAndDeleteRules(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, h *harness) {
		w := newTimelineWorld(t, h)
		mine := w.post(w.caregiver, map[string]any{"type": "NOTE", "title": "By the caregiver"})
		admins := w.post(w.admin, map[string]any{"type": "NOTE", "title": "By the admin"})
		entry := func(e map[string]any) string { return "/timeline/" + e["id"].(string) }
		patch := map[string]any{"title": "Edited"}

		for _, tc := range []struct {
			who    testUser
			e      map[string]any
			status int
		}{
			{w.viewer, mine, 403}, {w.carer2, mine, 403}, {w.outsider, mine, 403},
			{w.caregiver, admins, 403}, {w.viewer, admins, 403},
		} {
			w.as(tc.who, "PATCH", entry(tc.e), patch).errorEnvelope(tc.status)
			w.as(tc.who, "DELETE", entry(tc.e), nil).errorEnvelope(tc.status)
		}
		if got := w.as(w.viewer, "GET", entry(mine), nil).expect(200).Map(); got["title"] != "By the caregiver" {
			t.Fatalf("refused edits changed the entry: %v", got)
		}
		if evs := timelineEvents(t, h, "timeline.entry.updated"); len(evs) != 0 {
			t.Fatalf("refused edits emitted %d events", len(evs))
		}

		// The author edits; so does an ADMIN, even what they did not write.
		up := w.as(w.caregiver, "PATCH", entry(mine), map[string]any{"title": "Edited", "description": "More",
			"severity": "MEDIUM"}).expect(200).Map()
		if up["title"] != "Edited" || up["description"] != "More" || up["severity"] != "MEDIUM" || up["type"] != "NOTE" {
			t.Fatalf("author's edit = %v", up)
		}
		up = w.as(w.admin, "PATCH", entry(mine), map[string]any{"description": nil, "severity": nil,
			"type": "MOOD"}).expect(200).Map()
		if up["title"] != "Edited" || up["description"] != nil || up["severity"] != nil || up["type"] != "MOOD" ||
			up["createdById"] != w.caregiver.ID {
			t.Fatalf("admin's edit = %v", up)
		}
		evs := timelineEvents(t, h, "timeline.entry.updated")
		if len(evs) != 2 || evs[1].Data["type"] != "MOOD" || evs[1].FamilyID != w.FamilyID {
			t.Fatalf("updated events = %+v", evs)
		}

		// A VITALS entry keeps vitals in range, whatever the edit.
		vit := w.post(w.caregiver, map[string]any{"type": "VITALS", "title": "Pulse", "vitals": map[string]any{"heartRate": 70}})
		for _, tc := range []struct {
			body  map[string]any
			field string
		}{
			{map[string]any{"vitals": nil}, "vitals"},
			{map[string]any{"vitals": map[string]any{"heartRate": 301}}, "vitals.heartRate"},
			{map[string]any{"vitals": map[string]any{"heartRate": 70, "activityDuration": -5}}, "vitals.activityDuration"},
			{map[string]any{"vitals": map[string]any{"heartRate": 70, "mealType": 7}}, "vitals.mealType"},
			{map[string]any{"vitals": 5}, "vitals"},
			{map[string]any{"title": nil}, "title"},
			{map[string]any{"occurredAt": nil}, "occurredAt"},
			{map[string]any{"type": "SOMETHING"}, "type"},
		} {
			m := w.as(w.caregiver, "PATCH", entry(vit), tc.body).errorEnvelope(400)
			if _, named := m["errors"].(map[string]any)[tc.field]; !named {
				t.Errorf("patch %v: errors %v do not name %s", tc.body, m["errors"], tc.field)
			}
		}
		// A note whose type becomes VITALS needs vitals too.
		w.as(w.caregiver, "PATCH", entry(mine), map[string]any{"type": "VITALS"}).errorEnvelope(400)
		if got := w.as(w.caregiver, "GET", entry(vit), nil).expect(200).Map(); got["vitals"].(map[string]any)["heartRate"] != 70.0 {
			t.Fatalf("refused vitals edits changed the entry: %v", got)
		}
		up = w.as(w.caregiver, "PATCH", entry(vit), map[string]any{"vitals": map[string]any{"heartRate": 88,
			"bloodPressure": "130/85"}, "occurredAt": testStart.Add(-time.Hour).Format(time.RFC3339)}).expect(200).Map()
		if v := up["vitals"].(map[string]any); v["heartRate"] != 88.0 || v["bloodPressure"] != "130/85" ||
			up["occurredAt"] != testStart.Add(-time.Hour).Format(time.RFC3339) {
			t.Fatalf("vitals edit = %v", up)
		}

		// Delete: the author, and an ADMIN for anyone's entry.
		w.as(w.caregiver, "DELETE", entry(mine), nil).expect(200)
		if m := w.as(w.admin, "DELETE", entry(admins), nil).expect(200).Map(); m["success"] != true {
			t.Fatalf("delete answer = %v", m)
		}
		w.as(w.admin, "DELETE", entry(vit), nil).expect(200)
		w.as(w.admin, "GET", entry(mine), nil).errorEnvelope(404)
		w.as(w.admin, "DELETE", entry(mine), nil).errorEnvelope(404)
		w.as(w.admin, "PATCH", entry(mine), patch).errorEnvelope(404)
		dels := timelineEvents(t, h, "timeline.entry.deleted")
		if len(dels) != 3 || dels[0].Data["id"] != mine["id"] || dels[0].Data["title"] != "Edited" ||
			dels[0].CareRecipientID != w.CareRecipientID {
			t.Fatalf("deleted events = %+v", dels)
		}
		if n := w.entryCount(); n != 0 {
			t.Fatalf("%d entries left", n)
		}
	})
}

func TestTimelineListFilters(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, h *harness) {
		w := newTimelineWorld(t, h)
		// testStart is 2026-03-03 00:00 in Tokyo, the care recipient's zone.
		at := func(hours int) string { return testStart.Add(time.Duration(hours) * time.Hour).Format(time.RFC3339) }
		e1 := w.post(w.caregiver, map[string]any{"type": "NOTE", "title": "1", "occurredAt": at(-50)}) // Mar 1 Tokyo
		e2 := w.post(w.caregiver, map[string]any{"type": "MEAL", "title": "2", "occurredAt": at(-25)}) // Mar 1 Tokyo, 23:00
		e3 := w.post(w.caregiver, map[string]any{"type": "NOTE", "title": "3", "occurredAt": at(-23)}) // Mar 2 Tokyo, 01:00
		e4 := w.post(w.caregiver, map[string]any{"type": "SLEEP", "title": "4", "occurredAt": at(-1)}) // Mar 2 Tokyo, 23:00
		e5 := w.post(w.caregiver, map[string]any{"type": "NOTE", "title": "5", "occurredAt": at(0)})   // Mar 3 Tokyo
		list := func(query string) []string {
			t.Helper()
			return timelineIDsOf(w.as(w.viewer, "GET", w.timelinePath()+query, nil).expect(200).List())
		}
		if got := list(""); !slices.Equal(got, idsOfEntries(e5, e4, e3, e2, e1)) {
			t.Fatalf("newest first = %v", got)
		}
		if got := list("?type=NOTE"); !slices.Equal(got, idsOfEntries(e5, e3, e1)) {
			t.Fatalf("notes = %v", got)
		}
		if got := list("?type=MEAL,SLEEP"); !slices.Equal(got, idsOfEntries(e4, e2)) {
			t.Fatalf("meals and sleep = %v", got)
		}
		// Dates are whole days where the care recipient lives.
		if got := list("?startDate=2026-03-02&endDate=2026-03-02"); !slices.Equal(got, idsOfEntries(e4, e3)) {
			t.Fatalf("Mar 2 in Tokyo = %v", got)
		}
		if got := list("?endDate=2026-03-01"); !slices.Equal(got, idsOfEntries(e2, e1)) {
			t.Fatalf("until Mar 1 = %v", got)
		}
		if got := list("?startDate=" + at(-23) + "&type=NOTE"); !slices.Equal(got, idsOfEntries(e5, e3)) {
			t.Fatalf("from an instant = %v", got)
		}
		if got := list("?limit=2"); !slices.Equal(got, idsOfEntries(e5, e4)) {
			t.Fatalf("limit = %v", got)
		}
		if got := list("?limit=2&offset=2"); !slices.Equal(got, idsOfEntries(e3, e2)) {
			t.Fatalf("second page = %v", got)
		}
		if got := list("?offset=10"); len(got) != 0 {
			t.Fatalf("past the end = %v", got)
		}
		for query, field := range map[string]string{
			"?type=DIARY": "type", "?type=NOTE,": "type", "?startDate=03/02/2026": "startDate", "?endDate=tomorrow": "endDate",
			"?startDate=2026-03-03&endDate=2026-03-01": "startDate", "?limit=0": "limit", "?limit=201": "limit",
			"?limit=ten": "limit", "?offset=-1": "offset",
		} {
			m := w.as(w.viewer, "GET", w.timelinePath()+query, nil).errorEnvelope(400)
			if _, named := m["errors"].(map[string]any)[field]; !named {
				t.Errorf("%s: errors %v do not name %s", query, m["errors"], field)
			}
		}
	})
}

func TestTimelineVitalsHistoryAndIncidents(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, h *harness) {
		w := newTimelineWorld(t, h)
		ago := func(d time.Duration) string { return testStart.Add(-d).Format(time.RFC3339) }
		day := 24 * time.Hour
		w.post(w.caregiver, map[string]any{"type": "VITALS", "title": "old", "occurredAt": ago(8 * day),
			"vitals": map[string]any{"heartRate": 60}})
		v2 := w.post(w.caregiver, map[string]any{"type": "VITALS", "title": "v2", "occurredAt": ago(3 * day),
			"vitals": map[string]any{"bloodPressure": "120/80"}})
		fall := w.post(w.caregiver, map[string]any{"type": "INCIDENT", "title": "fall", "occurredAt": ago(2 * day),
			"severity": "MEDIUM", "vitals": map[string]any{"heartRate": 120}})
		v1 := w.post(w.caregiver, map[string]any{"type": "VITALS", "title": "v1", "occurredAt": ago(day),
			"vitals": map[string]any{"heartRate": 75, "oxygenLevel": 96}})
		crit := w.post(w.caregiver, map[string]any{"type": "SYMPTOM", "title": "chest pain", "occurredAt": ago(time.Hour),
			"severity": "CRITICAL"})
		high := w.post(w.caregiver, map[string]any{"type": "MOOD", "title": "very upset", "occurredAt": ago(2 * time.Hour),
			"severity": "HIGH"})
		w.post(w.caregiver, map[string]any{"type": "NOTE", "title": "fine", "severity": "LOW"})

		hist := w.as(w.viewer, "GET", w.timelinePath()+"/vitals", nil).expect(200).List()
		if got := timelineIDsOf(hist); !slices.Equal(got, idsOfEntries(v2, fall, v1)) {
			t.Fatalf("week of vitals, oldest first = %v", got)
		}
		if hist[2]["occurredAt"] != ago(day) || hist[2]["vitals"].(map[string]any)["oxygenLevel"] != 96.0 || hist[0]["type"] != "VITALS" {
			t.Fatalf("vitals point = %v", hist[2])
		}
		if got := timelineIDsOf(w.as(w.viewer, "GET", w.timelinePath()+"/vitals?days=2", nil).expect(200).List()); !slices.Equal(got, idsOfEntries(fall, v1)) {
			t.Fatalf("two days of vitals = %v", got)
		}
		if got := w.as(w.viewer, "GET", w.timelinePath()+"/vitals?days=365", nil).expect(200).List(); len(got) != 4 {
			t.Fatalf("a year of vitals = %d points", len(got))
		}
		for _, q := range []string{"?days=0", "?days=366", "?days=week"} {
			w.as(w.viewer, "GET", w.timelinePath()+"/vitals"+q, nil).errorEnvelope(400)
		}

		inc := w.as(w.viewer, "GET", w.timelinePath()+"/incidents", nil).expect(200).List()
		if got := timelineIDsOf(inc); !slices.Equal(got, idsOfEntries(crit, high, fall)) {
			t.Fatalf("incidents = %v", got)
		}
		if got := timelineIDsOf(w.as(w.viewer, "GET", w.timelinePath()+"/incidents?limit=1&offset=1", nil).expect(200).List()); !slices.Equal(got, idsOfEntries(high)) {
			t.Fatalf("incidents page = %v", got)
		}
		w.as(w.viewer, "GET", w.timelinePath()+"/incidents?limit=0", nil).errorEnvelope(400)
	})
}

// A HIGH or CRITICAL entry tells every other member at once, in the
// transaction that records it; a routine one tells nobody.
func TestTimelineUrgentEntryNotifiesFamily(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, h *harness) {
		w := newTimelineWorld(t, h)
		w.post(w.caregiver, map[string]any{"type": "NOTE", "title": "Routine", "severity": "MEDIUM"})
		if n := timelineNotes(t, h); len(n) != 0 {
			t.Fatalf("MEDIUM notified: %+v", n)
		}
		e := w.post(w.caregiver, map[string]any{"type": "INCIDENT", "title": "Fell in the bathroom", "severity": "HIGH"})
		notes := timelineNotes(t, h)
		var got []string
		for _, n := range notes {
			got = append(got, n.UserID)
			if n.Title != "High severity: Fell in the bathroom" || !strings.Contains(n.Body, w.caregiver.FullName) ||
				!strings.Contains(n.Body, "Grandma") || n.Data["timelineEntryId"] != e["id"] ||
				n.Data["careRecipientId"] != w.CareRecipientID || n.Data["severity"] != "HIGH" {
				t.Errorf("notification = %+v", n)
			}
		}
		want := []string{w.admin.ID, w.viewer.ID, w.carer2.ID}
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Fatalf("notified %v, want everyone but the author %v", got, want)
		}
		// One notification.created event carries them, besides the entry's own.
		var carried []string
		for _, ev := range timelineEvents(t, h, "notification.created") {
			if ev.Data["type"] != string(care.NotifyTimelineUpdate) {
				continue
			}
			for _, u := range ev.Data["userIds"].([]any) {
				carried = append(carried, u.(string))
			}
			if ev.FamilyID != w.FamilyID {
				t.Errorf("notification event of family %q", ev.FamilyID)
			}
		}
		slices.Sort(carried)
		if !slices.Equal(carried, want) {
			t.Fatalf("notification events carry %v, want %v", carried, want)
		}

		// Raising an entry to CRITICAL tells the family once; later edits
		// of an urgent entry say nothing new.
		routine := w.post(w.admin, map[string]any{"type": "SYMPTOM", "title": "Short of breath", "severity": "LOW"})
		before := len(timelineNotes(t, h))
		path := "/timeline/" + routine["id"].(string)
		w.as(w.admin, "PATCH", path, map[string]any{"severity": "CRITICAL"}).expect(200)
		raised := timelineNotes(t, h)[before:]
		if len(raised) != 3 || raised[0].Title != "Critical: Short of breath" {
			t.Fatalf("raised to CRITICAL notified %+v", raised)
		}
		for _, n := range raised {
			if n.UserID == w.admin.ID {
				t.Fatalf("the editor was notified of their own edit")
			}
		}
		w.as(w.admin, "PATCH", path, map[string]any{"description": "Better after rest"}).expect(200)
		w.as(w.admin, "PATCH", path, map[string]any{"severity": "HIGH"}).expect(200)
		if n := len(timelineNotes(t, h)); n != before+3 {
			t.Fatalf("further edits notified again: %d notifications, want %d", n, before+3)
		}
	})
}
