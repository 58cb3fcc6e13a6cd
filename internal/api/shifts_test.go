package api

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/carecircle/carecircle/internal/care"
)

// shiftNote is a notification as stored, for assertions.
type shiftNote struct {
	Title, Body string
	Data        map[string]any
}

// shiftNotes reads a user's notifications of one type straight from the
// database, oldest first.
func shiftNotes(t *testing.T, h *harness, userID string, typ care.NotificationType) []shiftNote {
	t.Helper()
	rows, err := h.store.DB().QueryContext(context.Background(), `SELECT title, body, data FROM notifications
		WHERE user_id = $1 AND type = $2 ORDER BY created_at, id`, userID, string(typ))
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []shiftNote
	for rows.Next() {
		var n shiftNote
		var data []byte
		if err := rows.Scan(&n.Title, &n.Body, &data); err != nil {
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

// shiftJSON is a create-shift body.
func shiftJSON(caregiverID string, start, end time.Time) map[string]any {
	return map[string]any{"caregiverId": caregiverID, "startTime": start.Format(time.RFC3339), "endTime": end.Format(time.RFC3339)}
}

// shiftTestWorld is a permission-matrix fixture on one backend, with a
// second care recipient in the same family, signing users in afresh for each
// request so that moving the fake clock never expires their tokens.
type shiftTestWorld struct {
	*fixture
	h     *harness
	paris string // a second care recipient, in Europe/Paris
}

func newShiftTestWorld(t *testing.T, h *harness) *shiftTestWorld {
	t.Helper()
	f := newFixture(t, h, newMatrixUsers(h))
	cr, err := h.store.CreateCareRecipient(context.Background(), care.CareRecipient{FamilyID: f.FamilyID, FullName: "Grandpa", Timezone: "Europe/Paris"})
	if err != nil {
		t.Fatal(err)
	}
	return &shiftTestWorld{fixture: f, h: h, paris: cr.ID}
}

// as sends a request signed in as u.
func (w *shiftTestWorld) as(u testUser, method, path string, body any) *response {
	w.h.t.Helper()
	return w.h.request(method, path, w.h.signIn(u.User), body)
}

// shiftsPath is the shift collection path of a care recipient.
func shiftsPath(crID string) string { return "/care-recipients/" + crID + "/shifts" }

// create schedules a shift as the admin and returns it.
func (w *shiftTestWorld) create(crID string, carer testUser, start, end time.Time) map[string]any {
	w.h.t.Helper()
	return w.as(w.admin, "POST", shiftsPath(crID), shiftJSON(carer.ID, start, end)).expect(201).Map()
}

func shiftListIDs(l []map[string]any) []string {
	out := []string{}
	for _, m := range l {
		out = append(out, m["id"].(string))
	}
	return out
}

func sameShiftIDs(l []map[string]any, want ...map[string]any) bool {
	got := shiftListIDs(l)
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		if got[i] != want[i]["id"] {
			return false
		}
	}
	return true
}

func TestShiftCreate(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, h *harness) {
		w := newShiftTestWorld(t, h)
		list := shiftsPath(w.CareRecipientID)
		start := testStart.Add(24 * time.Hour) // 2026-03-03T15:00Z, midnight in Tokyo
		end := start.Add(8 * time.Hour)

		for _, tc := range []struct {
			body  any
			field string
		}{
			{map[string]any{}, "startTime"},
			{map[string]any{}, "caregiverId"},
			{shiftJSON(w.caregiver.ID, end, start), "endTime"},
			{shiftJSON(w.caregiver.ID, start, start), "endTime"},
			{shiftJSON(w.caregiver.ID, start, start.Add(7*24*time.Hour+time.Second)), "endTime"},
			{map[string]any{"caregiverId": w.caregiver.ID, "startTime": "tomorrow", "endTime": end.Format(time.RFC3339)}, "startTime"},
			{map[string]any{"caregiverId": w.caregiver.ID, "startTime": "0000-01-01T00:00:00Z", "endTime": "0000-01-02T00:00:00Z"}, "startTime"},
			{shiftJSON("not-a-uuid", start, end), "caregiverId"},
			{map[string]any{"caregiverId": w.caregiver.ID, "startTime": start.Format(time.RFC3339), "endTime": end.Format(time.RFC3339), "notes": strings.Repeat("x", maxNotesLen+1)}, "notes"},
			{map[string]any{"caregiverId": w.caregiver.ID, "startTime": start.Format(time.RFC3339), "endTime": end.Format(time.RFC3339), "colour": "red"}, "colour"},
			// Only active members who are not VIEWERs take shifts.
			{shiftJSON(w.viewer.ID, start, end), "caregiverId"},
			{shiftJSON(w.outsider.ID, start, end), "caregiverId"},
			{shiftJSON(noSuchID, start, end), "caregiverId"},
		} {
			m := w.as(w.admin, "POST", list, tc.body).errorEnvelope(400)
			if fieldErrors(m)[tc.field] == nil {
				t.Fatalf("body %v: want an error on %s, got %v", tc.body, tc.field, m)
			}
		}
		w.as(w.viewer, "POST", list, shiftJSON(w.caregiver.ID, start, end)).errorEnvelope(403)
		w.as(w.outsider, "POST", list, shiftJSON(w.caregiver.ID, start, end)).errorEnvelope(403)
		w.as(w.admin, "POST", shiftsPath(noSuchID), shiftJSON(w.caregiver.ID, start, end)).errorEnvelope(404)
		if n := shiftNotes(t, h, w.caregiver.ID, care.NotifyShiftAssigned); len(n) != 0 {
			t.Fatalf("refused shifts notified: %v", n)
		}

		// A 7-day shift is the longest; times in any offset are stored in UTC.
		body := map[string]any{"caregiverId": w.caregiver.ID, "startTime": "2026-03-04T00:00:00+09:00",
			"endTime": "2026-03-04T08:00:00+09:00", "notes": sqlText}
		sh := w.as(w.admin, "POST", list, body).expect(201).Map()
		cg, _ := sh["caregiver"].(map[string]any)
		cr, _ := sh["careRecipient"].(map[string]any)
		if sh["status"] != "SCHEDULED" || sh["caregiverId"] != w.caregiver.ID || sh["careRecipientId"] != w.CareRecipientID ||
			sh["startTime"] != "2026-03-03T15:00:00Z" || sh["endTime"] != "2026-03-03T23:00:00Z" || sh["notes"] != sqlText ||
			sh["checkedInAt"] != nil || sh["createdById"] != w.admin.ID || cg["id"] != w.caregiver.ID ||
			cg["fullName"] != w.caregiver.FullName || cr["timezone"] != "Asia/Tokyo" || cr["fullName"] != "Grandma" {
			t.Fatalf("created shift = %v", sh)
		}
		notes := shiftNotes(t, h, w.caregiver.ID, care.NotifyShiftAssigned)
		if len(notes) != 1 || notes[0].Data["shiftId"] != sh["id"] || notes[0].Data["careRecipientId"] != w.CareRecipientID ||
			notes[0].Data["startTime"] != "2026-03-03T15:00:00Z" || !strings.Contains(notes[0].Body, "Wed 4 Mar 2026 00:00 JST") {
			t.Fatalf("assignment notifications = %+v", notes)
		}

		// The same caregiver cannot be in two places at once, whichever the
		// care recipient; shifts that only touch are fine.
		m := w.as(w.admin, "POST", shiftsPath(w.paris), shiftJSON(w.caregiver.ID, end.Add(-time.Minute), end.Add(time.Hour))).errorEnvelope(409)
		if !strings.Contains(m["message"].(string), "overlap") {
			t.Fatalf("overlap message = %v", m)
		}
		w.as(w.caregiver, "POST", list, shiftJSON(w.caregiver.ID, start.Add(-time.Hour), start.Add(time.Hour))).errorEnvelope(409)
		w.as(w.admin, "POST", shiftsPath(w.paris), shiftJSON(w.caregiver.ID, end, end.Add(time.Hour))).expect(201)
		w.as(w.admin, "POST", list, shiftJSON(w.caregiver.ID, start.Add(-time.Hour), start)).expect(201)
		w.as(w.caregiver, "POST", list, shiftJSON(w.admin.ID, start, end)).expect(201)
		if n := shiftNotes(t, h, w.caregiver.ID, care.NotifyShiftAssigned); len(n) != 3 {
			t.Fatalf("caregiver has %d assignment notifications, want 3", len(n))
		}
		if n := shiftNotes(t, h, w.admin.ID, care.NotifyShiftAssigned); len(n) != 1 {
			t.Fatalf("admin has %d assignment notifications, want 1", len(n))
		}
		// Scheduling yourself notifies no one.
		w.as(w.caregiver, "POST", list, shiftJSON(w.caregiver.ID, end.Add(2*time.Hour), end.Add(3*time.Hour))).expect(201)
		if n := shiftNotes(t, h, w.caregiver.ID, care.NotifyShiftAssigned); len(n) != 3 {
			t.Fatalf("self-scheduled shift notified: %d", len(n))
		}
	})
}

func TestShiftLifecycle(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, h *harness) {
		w := newShiftTestWorld(t, h)
		start := testStart.Add(3 * time.Hour)
		sh := w.create(w.CareRecipientID, w.caregiver, start, start.Add(4*time.Hour))
		item := shiftsPath(w.CareRecipientID) + "/" + sh["id"].(string)

		// Only the assignee confirms, checks in and out.
		for _, act := range []string{"/confirm", "/checkin", "/checkout"} {
			w.as(w.admin, "POST", item+act, nil).errorEnvelope(403)
			w.as(w.viewer, "POST", item+act, nil).errorEnvelope(403)
			w.as(w.outsider, "POST", item+act, nil).errorEnvelope(403)
		}
		w.as(w.caregiver, "POST", item+"/checkout", nil).errorEnvelope(409)
		w.as(w.caregiver, "POST", item+"/confirm", map[string]any{"x": 1}).errorEnvelope(400)
		if got := w.as(w.caregiver, "POST", item+"/confirm", nil).expect(200).Map(); got["status"] != "CONFIRMED" {
			t.Fatalf("confirmed = %v", got)
		}
		w.as(w.caregiver, "POST", item+"/confirm", nil).errorEnvelope(409)

		// Check-in opens an hour before the start.
		h.clock.Set(start.Add(-61 * time.Minute))
		w.as(w.caregiver, "POST", item+"/checkin", nil).errorEnvelope(400)
		if got := w.as(w.caregiver, "GET", item, nil).expect(200).Map(); got["status"] != "CONFIRMED" || got["checkedInAt"] != nil {
			t.Fatalf("a refused check-in changed the shift: %v", got)
		}
		h.clock.Set(start.Add(-time.Hour))
		// Check-in takes {notes?, location?} as existing clients send it;
		// a bad one changes nothing.
		w.as(w.caregiver, "POST", item+"/checkin", map[string]any{"notes": 5, "location": "Home"}).errorEnvelope(400)
		w.as(w.caregiver, "POST", item+"/checkin", map[string]any{"location": strings.Repeat("x", maxAddressLen+1)}).errorEnvelope(400)
		in := w.as(w.caregiver, "POST", item+"/checkin", map[string]any{"notes": "Arrived early", "location": "Front door"}).expect(200).Map()
		if in["status"] != "IN_PROGRESS" || in["checkedInAt"] != start.Add(-time.Hour).Format(time.RFC3339) ||
			in["checkInNotes"] != "Arrived early" || in["checkInLocation"] != "Front door" {
			t.Fatalf("checked in = %v", in)
		}
		w.as(w.caregiver, "POST", item+"/checkin", nil).errorEnvelope(409)
		w.as(w.admin, "PATCH", item+"/cancel", nil).errorEnvelope(409)
		w.as(w.caregiver, "POST", item+"/checkout", map[string]any{"handoffNotes": strings.Repeat("x", maxNotesLen+1)}).errorEnvelope(400)

		h.clock.Set(start.Add(5 * time.Hour))
		out := w.as(w.caregiver, "POST", item+"/checkout", map[string]any{
			"notes": "Quiet afternoon", "location": "Home", "handoffNotes": "Took her pills at 12",
		}).expect(200).Map()
		if out["status"] != "COMPLETED" || out["checkedOutAt"] != start.Add(5*time.Hour).Format(time.RFC3339) ||
			out["handoffNotes"] != "Took her pills at 12" || out["checkoutNotes"] != "Quiet afternoon" ||
			out["checkoutLocation"] != "Home" || out["checkedInAt"] != in["checkedInAt"] || out["checkInNotes"] != "Arrived early" {
			t.Fatalf("checked out = %v", out)
		}
		w.as(w.caregiver, "POST", item+"/checkout", nil).errorEnvelope(409)
		w.as(w.caregiver, "PATCH", item+"/cancel", nil).errorEnvelope(409)

		// Cancelling: an ADMIN or the assignee, while it is still open.
		later := w.create(w.CareRecipientID, w.caregiver, start.Add(24*time.Hour), start.Add(26*time.Hour))
		laterItem := shiftsPath(w.CareRecipientID) + "/" + later["id"].(string)
		w.as(w.viewer, "PATCH", laterItem+"/cancel", nil).errorEnvelope(403)
		byAdmin := w.create(w.CareRecipientID, w.caregiver, start.Add(48*time.Hour), start.Add(50*time.Hour))
		byAdminItem := shiftsPath(w.CareRecipientID) + "/" + byAdmin["id"].(string)
		w.as(w.caregiver, "POST", laterItem+"/confirm", nil).expect(200)
		if got := w.as(w.caregiver, "PATCH", laterItem+"/cancel", nil).expect(200).Map(); got["status"] != "CANCELLED" {
			t.Fatalf("cancelled by the assignee = %v", got)
		}
		if got := w.as(w.admin, "PATCH", byAdminItem+"/cancel", nil).expect(200).Map(); got["status"] != "CANCELLED" {
			t.Fatalf("cancelled by an admin = %v", got)
		}
		w.as(w.admin, "PATCH", byAdminItem+"/cancel", nil).errorEnvelope(409)
		h.clock.Set(start.Add(48 * time.Hour))
		w.as(w.caregiver, "POST", byAdminItem+"/checkin", nil).errorEnvelope(409)
		w.as(w.caregiver, "POST", byAdminItem+"/confirm", nil).errorEnvelope(409)
		cancelled := shiftNotes(t, h, w.caregiver.ID, care.NotifyShiftCancelled)
		if len(cancelled) != 1 || cancelled[0].Data["shiftId"] != byAdmin["id"] {
			t.Fatalf("cancellation notifications = %+v", cancelled)
		}
		// A cancelled shift frees the time.
		w.create(w.paris, w.caregiver, start.Add(48*time.Hour), start.Add(50*time.Hour))

		// Check-in closes when the shift ends.
		late := w.create(w.CareRecipientID, w.caregiver, start.Add(72*time.Hour), start.Add(73*time.Hour))
		h.clock.Set(start.Add(73 * time.Hour))
		w.as(w.caregiver, "POST", shiftsPath(w.CareRecipientID)+"/"+late["id"].(string)+"/checkin", nil).errorEnvelope(400)
	})
}

func TestShiftHandoff(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, h *harness) {
		w := newShiftTestWorld(t, h)
		carer2 := h.newUser("carer2@example.com")
		h.joinFamily(w.admin, w.FamilyID, carer2, "CAREGIVER")
		start := testStart.Add(time.Hour)
		sh := w.create(w.CareRecipientID, w.caregiver, start, start.Add(8*time.Hour))
		// Between it and the next shift: a cancelled one, and one for
		// someone else.
		gap := w.create(w.CareRecipientID, carer2, start.Add(8*time.Hour), start.Add(9*time.Hour))
		w.as(w.admin, "PATCH", shiftsPath(w.CareRecipientID)+"/"+gap["id"].(string)+"/cancel", nil).expect(200)
		w.create(w.paris, carer2, start.Add(8*time.Hour), start.Add(9*time.Hour))
		next := w.create(w.CareRecipientID, w.admin, start.Add(10*time.Hour), start.Add(18*time.Hour))
		w.create(w.CareRecipientID, carer2, start.Add(20*time.Hour), start.Add(22*time.Hour))

		item := shiftsPath(w.CareRecipientID) + "/" + sh["id"].(string)
		h.clock.Set(start)
		w.as(w.caregiver, "POST", item+"/checkin", nil).expect(200)
		h.clock.Set(start.Add(8 * time.Hour))
		w.as(w.caregiver, "POST", item+"/checkout", map[string]any{"handoffNotes": "Dinner at 6; " + sqlText}).expect(200)

		got := shiftNotes(t, h, w.admin.ID, care.NotifyShiftHandoff)
		if len(got) != 1 || got[0].Data["shiftId"] != next["id"] || got[0].Data["previousShiftId"] != sh["id"] ||
			got[0].Data["handoffNotes"] != "Dinner at 6; "+sqlText || got[0].Data["careRecipientId"] != w.CareRecipientID ||
			!strings.Contains(got[0].Body, "Dinner at 6") {
			t.Fatalf("handoff to the next caregiver = %+v", got)
		}
		if n := shiftNotes(t, h, carer2.ID, care.NotifyShiftHandoff); len(n) != 0 {
			t.Fatalf("handoff reached the wrong caregiver: %+v", n)
		}

		// With no shift within a day after, there is no one to hand off to.
		lone := w.create(w.paris, w.caregiver, start.Add(30*time.Hour), start.Add(31*time.Hour))
		w.create(w.paris, w.admin, start.Add(56*time.Hour), start.Add(57*time.Hour))
		h.clock.Set(start.Add(30 * time.Hour))
		loneItem := shiftsPath(w.paris) + "/" + lone["id"].(string)
		w.as(w.caregiver, "POST", loneItem+"/checkin", nil).expect(200)
		w.as(w.caregiver, "POST", loneItem+"/checkout", nil).expect(200)
		if n := shiftNotes(t, h, w.admin.ID, care.NotifyShiftHandoff); len(n) != 1 {
			t.Fatalf("handoff beyond a day: %+v", n)
		}
	})
}

func TestShiftViews(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, h *harness) {
		w := newShiftTestWorld(t, h)
		base := shiftsPath(w.CareRecipientID)
		now := testStart // 2026-03-02T15:00Z = 2026-03-03 00:00 in Tokyo
		old := w.create(w.CareRecipientID, w.caregiver, now.Add(-10*24*time.Hour), now.Add(-10*24*time.Hour+time.Hour))
		recent := w.create(w.CareRecipientID, w.caregiver, now.Add(-3*24*time.Hour), now.Add(-3*24*time.Hour+time.Hour))
		// 23:00 to 01:00 in Tokyo, across midnight into the 4th.
		late := w.create(w.CareRecipientID, w.caregiver, now.Add(23*time.Hour), now.Add(25*time.Hour))
		// 01:00 on the 4th in Tokyo, still the 3rd in UTC.
		early := w.create(w.CareRecipientID, w.admin, now.Add(25*time.Hour), now.Add(26*time.Hour))
		far := w.create(w.CareRecipientID, w.admin, now.Add(20*24*time.Hour), now.Add(20*24*time.Hour+time.Hour))
		cancelled := w.create(w.CareRecipientID, w.admin, now.Add(2*time.Hour), now.Add(3*time.Hour))
		w.as(w.admin, "PATCH", base+"/"+cancelled["id"].(string)+"/cancel", nil).expect(200)
		w.create(w.paris, w.admin, now.Add(-time.Hour), now.Add(time.Hour)) // another care recipient's

		if l := w.as(w.viewer, "GET", base, nil).expect(200).List(); !sameShiftIDs(l, recent, cancelled, late, early, far) {
			t.Fatalf("list = %v", shiftListIDs(l))
		}
		if l := w.as(w.viewer, "GET", base+"?limit=2", nil).expect(200).List(); !sameShiftIDs(l, recent, cancelled) {
			t.Fatalf("limited list = %v", shiftListIDs(l))
		}
		for _, q := range []string{"?limit=0", "?limit=201", "?limit=x"} {
			w.as(w.viewer, "GET", base+q, nil).errorEnvelope(400)
		}

		// Days are the care recipient's.
		day := func(date string) []map[string]any {
			return w.as(w.viewer, "GET", base+"/day?date="+date, nil).expect(200).List()
		}
		if l := day("2026-03-03"); !sameShiftIDs(l, cancelled, late) {
			t.Fatalf("day 3 in Tokyo = %v", shiftListIDs(l))
		}
		if l := day("2026-03-04"); !sameShiftIDs(l, late, early) {
			t.Fatalf("day 4 in Tokyo = %v", shiftListIDs(l))
		}
		if l := w.as(w.viewer, "GET", base+"/day", nil).expect(200).List(); !sameShiftIDs(l, cancelled, late) {
			t.Fatalf("today in Tokyo = %v", shiftListIDs(l))
		}
		for _, q := range []string{"?date=2026-02-30", "?date=tomorrow", "?date=0000-01-01"} {
			w.as(w.viewer, "GET", base+"/day"+q, nil).errorEnvelope(400)
		}

		// Ranges: dates in the care recipient's zone or instants, at most 92 days.
		rng := func(q string) *response { return w.as(w.viewer, "GET", base+"/range?"+q, nil) }
		if l := rng("startDate=2026-02-20&endDate=2026-03-03").expect(200).List(); !sameShiftIDs(l, old, recent, cancelled, late) {
			t.Fatalf("date range = %v", shiftListIDs(l))
		}
		if l := rng("startDate=2026-03-03T15:30:00Z&endDate=2026-03-03T16:00:00Z").expect(200).List(); !sameShiftIDs(l, late) {
			t.Fatalf("instant range = %v", shiftListIDs(l))
		}
		if l := rng("startDate=2026-01-01&endDate=2026-04-02").expect(200).List(); len(l) != 6 {
			t.Fatalf("92-day range = %v", shiftListIDs(l))
		}
		for _, q := range []string{"startDate=2026-01-01&endDate=2026-04-03", "startDate=2026-03-03", "endDate=2026-03-03",
			"startDate=2026-03-04&endDate=2026-03-03", "startDate=x&endDate=2026-03-03", ""} {
			if m := rng(q).errorEnvelope(400); len(fieldErrors(m)) == 0 {
				t.Fatalf("range %q: %v", q, m)
			}
		}

		// Upcoming: non-cancelled shifts starting within ?days.
		if l := w.as(w.viewer, "GET", base+"/upcoming", nil).expect(200).List(); !sameShiftIDs(l, late, early) {
			t.Fatalf("upcoming = %v", shiftListIDs(l))
		}
		if l := w.as(w.viewer, "GET", base+"/upcoming?days=30", nil).expect(200).List(); !sameShiftIDs(l, late, early, far) {
			t.Fatalf("upcoming 30 days = %v", shiftListIDs(l))
		}
		for _, q := range []string{"?days=0", "?days=91", "?days=1.5"} {
			w.as(w.viewer, "GET", base+"/upcoming"+q, nil).errorEnvelope(400)
		}

		// Current and on duty.
		if r := w.as(w.viewer, "GET", base+"/current", nil).expect(200); strings.TrimSpace(string(r.Body)) != "null" {
			t.Fatalf("current with none = %s", r.Body)
		}
		if r := w.as(w.viewer, "GET", base+"/on-duty", nil).expect(200); strings.TrimSpace(string(r.Body)) != "null" {
			t.Fatalf("on duty with none = %s", r.Body)
		}
		h.clock.Set(now.Add(23*time.Hour + 30*time.Minute))
		if cur := w.as(w.viewer, "GET", base+"/current", nil).expect(200).Map(); cur["id"] != late["id"] {
			t.Fatalf("current = %v", cur)
		}
		w.as(w.caregiver, "POST", base+"/"+late["id"].(string)+"/checkin", nil).expect(200)
		h.clock.Set(now.Add(25*time.Hour + 30*time.Minute)) // past late's end, into early
		if cur := w.as(w.viewer, "GET", base+"/current", nil).expect(200).Map(); cur["id"] != late["id"] {
			t.Fatalf("current prefers the shift in progress: %v", cur)
		}
		// On duty is {caregiver, shift}, as existing clients read it.
		duty := w.as(w.viewer, "GET", base+"/on-duty", nil).expect(200).Map()
		if shift, _ := duty["shift"].(map[string]any); len(duty) != 2 || shift["id"] != late["id"] || shift["status"] != "IN_PROGRESS" ||
			duty["caregiver"].(map[string]any)["fullName"] != w.caregiver.FullName || duty["caregiver"].(map[string]any)["id"] != w.caregiver.ID {
			t.Fatalf("on duty = %v", duty)
		}
		w.as(w.caregiver, "POST", base+"/"+late["id"].(string)+"/checkout", nil).expect(200)
		if cur := w.as(w.viewer, "GET", base+"/current", nil).expect(200).Map(); cur["id"] != early["id"] {
			t.Fatalf("current after check-out = %v", cur)
		}

		// One shift; another care recipient's is not found here.
		if got := w.as(w.viewer, "GET", base+"/"+far["id"].(string), nil).expect(200).Map(); got["id"] != far["id"] || got["caregiver"] == nil {
			t.Fatalf("get = %v", got)
		}
		w.as(w.viewer, "GET", shiftsPath(w.paris)+"/"+far["id"].(string), nil).errorEnvelope(404)
		w.as(w.viewer, "GET", base+"/"+noSuchID, nil).errorEnvelope(404)
		w.as(w.viewer, "GET", base+"/not-a-uuid", nil).errorEnvelope(400)
		w.as(w.viewer, "GET", shiftsPath(noSuchID), nil).errorEnvelope(404)
		w.as(w.viewer, "GET", shiftsPath("x")+"/current", nil).errorEnvelope(400)
		w.as(w.outsider, "GET", base+"/"+far["id"].(string), nil).errorEnvelope(403)
	})
}

func TestMyShifts(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, h *harness) {
		w := newShiftTestWorld(t, h)
		now := testStart
		done := w.create(w.CareRecipientID, w.caregiver, now.Add(-48*time.Hour), now.Add(-47*time.Hour))
		soon := w.create(w.paris, w.caregiver, now.Add(2*time.Hour), now.Add(3*time.Hour))
		dropped := w.create(w.CareRecipientID, w.caregiver, now.Add(4*time.Hour), now.Add(5*time.Hour))
		w.as(w.caregiver, "PATCH", shiftsPath(w.CareRecipientID)+"/"+dropped["id"].(string)+"/cancel", nil).expect(200)
		w.create(w.CareRecipientID, w.admin, now.Add(2*time.Hour), now.Add(3*time.Hour)) // someone else's

		// A family of the caregiver's own, in another zone.
		fam := h.createFamilyAs(w.caregiver, "Own")
		own := h.createCareRecipientAs(w.caregiver, fam, map[string]any{"fullName": "Dad", "timezone": "America/Chicago"})
		mine := w.as(w.caregiver, "POST", shiftsPath(own["id"].(string)), shiftJSON(w.caregiver.ID, now.Add(time.Hour), now.Add(2*time.Hour))).expect(201).Map()

		all := w.as(w.caregiver, "GET", "/my-shifts", nil).expect(200).List()
		if !sameShiftIDs(all, dropped, soon, mine, done) {
			t.Fatalf("my shifts = %v", shiftListIDs(all))
		}
		up := w.as(w.caregiver, "GET", "/my-shifts?upcomingOnly=true", nil).expect(200).List()
		if !sameShiftIDs(up, mine, soon) {
			t.Fatalf("my upcoming shifts = %v", shiftListIDs(up))
		}
		if cr := up[0]["careRecipient"].(map[string]any); cr["id"] != own["id"] || cr["fullName"] != "Dad" || cr["timezone"] != "America/Chicago" {
			t.Fatalf("care recipient of my shift = %v", cr)
		}
		if l := w.as(w.caregiver, "GET", "/my-shifts?limit=1", nil).expect(200).List(); !sameShiftIDs(l, dropped) {
			t.Fatalf("limited = %v", shiftListIDs(l))
		}
		w.as(w.caregiver, "GET", "/my-shifts?upcomingOnly=yes", nil).errorEnvelope(400)
		if l := w.as(w.outsider, "GET", "/my-shifts", nil).expect(200).List(); len(l) != 0 {
			t.Fatalf("outsider's shifts = %v", l)
		}

		// Leaving a family takes its shifts out of the list.
		m, err := h.store.MemberOf(context.Background(), w.FamilyID, w.caregiver.ID)
		if err != nil {
			t.Fatal(err)
		}
		if err := h.store.RemoveMember(context.Background(), w.FamilyID, m.ID); err != nil {
			t.Fatal(err)
		}
		if l := w.as(w.caregiver, "GET", "/my-shifts", nil).expect(200).List(); !sameShiftIDs(l, mine) {
			t.Fatalf("after leaving = %v", shiftListIDs(l))
		}
	})
}

// TestWhatAMemberWhoGoesHadTakenOnIsReleased: when a caregiver is removed
// from the family or deletes their account, the shift they are on ends,
// the shifts they still had to work are cancelled and the appointments they
// were to drive to lose their driver, each announced, and the family's
// other admins hear once of each that they need someone else; past shifts,
// and everyone else's, stay.
func TestWhatAMemberWhoGoesHadTakenOnIsReleased(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, h *harness) {
		w := newShiftTestWorld(t, h)
		admin2 := h.newUser("admin2@example.com")
		h.joinFamily(w.admin, w.FamilyID, admin2, "ADMIN")
		carer2 := h.newUser("carer2@example.com")
		h.joinFamily(w.admin, w.FamilyID, carer2, "CAREGIVER")
		start := testStart.Add(3 * time.Hour)
		status := func(crID string, sh map[string]any) any {
			t.Helper()
			return w.as(w.admin, "GET", shiftsPath(crID)+"/"+sh["id"].(string), nil).expect(200).Map()["status"]
		}

		past := w.create(w.CareRecipientID, w.caregiver, start, start.Add(time.Hour))
		working := w.create(w.paris, w.caregiver, start.Add(2*time.Hour), start.Add(6*time.Hour))
		next := w.create(w.CareRecipientID, w.caregiver, start.Add(24*time.Hour), start.Add(26*time.Hour))
		after := w.create(w.paris, w.caregiver, start.Add(48*time.Hour), start.Add(50*time.Hour))
		w.as(w.caregiver, "POST", shiftsPath(w.paris)+"/"+after["id"].(string)+"/confirm", nil).expect(200)
		theirs := w.create(w.CareRecipientID, carer2, start.Add(24*time.Hour), start.Add(26*time.Hour))
		carer2Next := w.create(w.paris, carer2, start.Add(72*time.Hour), start.Add(74*time.Hour))
		drive := func(u testUser, at time.Time) string {
			t.Helper()
			id := w.as(w.admin, "POST", apptsPath(w.CareRecipientID), apptBody(at)).expect(201).Map()["id"].(string)
			w.as(w.admin, "POST", "/appointments/"+id+"/transport", map[string]any{"assignedToId": u.ID}).expect(201)
			return id
		}
		needDriver := func(u testUser, id string) []care.Notification {
			t.Helper()
			var out []care.Notification
			for _, n := range h.appointmentNotes(u.ID, id) {
				if n.Title == "Appointments need a driver" {
					out = append(out, n)
				}
			}
			return out
		}
		driver := func(id string) any {
			t.Helper()
			tr, _ := w.as(w.admin, "GET", "/appointments/"+id, nil).expect(200).Map()["transportAssignment"].(map[string]any)
			return tr["assignedToId"]
		}
		drivesNext, carer2Drives := drive(w.caregiver, start.Add(30*time.Hour)), drive(carer2, start.Add(30*time.Hour))
		h.clock.Set(start.Add(2 * time.Hour))
		w.as(w.caregiver, "POST", shiftsPath(w.paris)+"/"+working["id"].(string)+"/checkin", nil).expect(200)
		h.clock.Set(start.Add(3 * time.Hour))

		w.as(w.admin, "DELETE", "/families/"+w.FamilyID+"/members/"+w.CaregiverMemberID, nil).expect(200)
		for _, c := range []struct {
			crID string
			sh   map[string]any
			want string
		}{
			{w.CareRecipientID, past, "SCHEDULED"}, {w.paris, working, "COMPLETED"}, {w.CareRecipientID, next, "CANCELLED"},
			{w.paris, after, "CANCELLED"}, {w.CareRecipientID, theirs, "SCHEDULED"}, {w.paris, carer2Next, "SCHEDULED"},
		} {
			if got := status(c.crID, c.sh); got != c.want {
				t.Errorf("shift starting %v is %v, want %s", c.sh["startTime"], got, c.want)
			}
		}
		announced := map[string]bool{}
		for _, e := range alertEvents(t, h, "shift.cancelled") {
			announced[e.Data["id"].(string)] = e.FamilyID == w.FamilyID && e.Data["status"] == "CANCELLED"
		}
		if len(announced) != 2 || !announced[next["id"].(string)] || !announced[after["id"].(string)] {
			t.Fatalf("shift.cancelled events = %v, want the two cancelled shifts", announced)
		}
		if ended := alertEvents(t, h, "shift.checked_out"); len(ended) != 1 || ended[0].Data["id"] != working["id"] ||
			ended[0].Data["status"] != "COMPLETED" || ended[0].Data["checkedOutAt"] != start.Add(3*time.Hour).Format(time.RFC3339) {
			t.Fatalf("shift.checked_out events = %+v, want the shift in progress ended now", ended)
		}
		if n := shiftNotes(t, h, w.admin.ID, care.NotifyShiftCancelled); len(n) != 0 {
			t.Fatalf("the admin who removed them was notified: %+v", n)
		}
		got := shiftNotes(t, h, admin2.ID, care.NotifyShiftCancelled)
		if len(got) != 1 || got[0].Title != "Shifts need cover" || !strings.Contains(got[0].Body,
			"was removed from the family, so the shift they were on has ended and 2 upcoming shifts they had are cancelled; the first is") ||
			got[0].Data["shiftId"] != next["id"] ||
			len(got[0].Data["shiftIds"].([]any)) != 2 || got[0].Data["caregiverId"] != w.caregiver.ID {
			t.Fatalf("admin2's notifications = %+v", got)
		}
		for _, u := range []testUser{w.viewer, carer2, w.caregiver} {
			if n := shiftNotes(t, h, u.ID, care.NotifyShiftCancelled); len(n) != 0 {
				t.Errorf("%s was notified: %+v", u.Email, n)
			}
		}
		if d := driver(drivesNext); d != nil {
			t.Errorf("the removed caregiver still drives to the appointment: %v", d)
		}
		if d := driver(carer2Drives); d != carer2.ID {
			t.Errorf("carer2's drive changed to %v", d)
		}
		updated := 0
		for _, e := range alertEvents(t, h, "appointment.updated") {
			if e.Data["id"] == drivesNext && e.Data["transportAssignment"] == nil {
				updated++
			}
		}
		if updated != 1 {
			t.Errorf("appointment.updated for the appointment without a driver: %d events, want 1", updated)
		}
		if n := needDriver(w.admin, drivesNext); len(n) != 0 {
			t.Errorf("the admin who removed them was told of the drive: %+v", n)
		}
		if n := needDriver(admin2, drivesNext); len(n) != 1 ||
			!strings.Contains(n[0].Body, "was removed from the family, so 1 appointment they were driving to needs someone else") {
			t.Errorf("admin2's notifications of the drive = %+v", n)
		}

		// Deleting the account does the same in every family left behind.
		w.as(carer2, "DELETE", "/user/delete-account", nil).expect(200)
		if got := status(w.CareRecipientID, theirs); got != "CANCELLED" {
			t.Errorf("after carer2 deleted the account their shift is %v", got)
		}
		if got := status(w.paris, carer2Next); got != "CANCELLED" {
			t.Errorf("after carer2 deleted the account their later shift is %v", got)
		}
		if d := driver(carer2Drives); d != nil {
			t.Errorf("after carer2 deleted the account they still drive: %v", d)
		}
		for _, u := range []testUser{w.admin, admin2} {
			if n := needDriver(u, carer2Drives); len(n) != 1 || !strings.Contains(n[0].Body, "deleted their account") {
				t.Errorf("%s's notifications of carer2's drive = %+v", u.Email, n)
			}
			got := shiftNotes(t, h, u.ID, care.NotifyShiftCancelled)
			if last := got[len(got)-1]; !strings.Contains(last.Body, "deleted their account") || !strings.Contains(last.Body, "2 upcoming shifts") {
				t.Errorf("%s's last notification = %+v", u.Email, last)
			}
		}
	})
}
