package api

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"github.com/carecircle/carecircle/internal/store"
)

// careFamily is a family with an ADMIN, a CAREGIVER, a VIEWER and an outsider.
type careFamily struct {
	id                              string
	admin, caregiver, viewer, other testUser
}

func (h *harness) newCareFamily() careFamily {
	h.t.Helper()
	f := careFamily{
		admin: h.newUser("ann@example.com"), caregiver: h.newUser("cg@example.com"),
		viewer: h.newUser("vi@example.com"), other: h.newUser("out@example.com"),
	}
	f.id = h.createFamilyAs(f.admin, "Lees")
	h.joinFamily(f.admin, f.id, f.caregiver, "CAREGIVER")
	h.joinFamily(f.admin, f.id, f.viewer, "VIEWER")
	return f
}

// createCareRecipientAs adds a care recipient and returns it.
func (h *harness) createCareRecipientAs(u testUser, familyID string, body map[string]any) map[string]any {
	h.t.Helper()
	return h.request("POST", "/families/"+familyID+"/care-recipients", u.Token, body).expect(201).Map()
}

func TestCareRecipientTimezone(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, h *harness) {
		ann := h.newUser("ann@example.com")
		id := h.createFamilyAs(ann, "Lees")

		if cr := h.createCareRecipientAs(ann, id, map[string]any{"fullName": "Grandma", "timezone": "Asia/Tokyo"}); cr["timezone"] != "Asia/Tokyo" {
			t.Fatalf("explicit zone = %v", cr["timezone"])
		}
		if cr := h.createCareRecipientAs(ann, id, map[string]any{"fullName": "Grandpa"}); cr["timezone"] != "America/New_York" {
			t.Fatalf("default zone = %v, want the creator's", cr["timezone"])
		}
		berlin := "Europe/Berlin"
		if _, err := h.store.UpdateUser(context.Background(), ann.ID, store.UserPatch{Timezone: &berlin}); err != nil {
			t.Fatal(err)
		}
		if cr := h.createCareRecipientAs(ann, id, map[string]any{"fullName": "Aunt"}); cr["timezone"] != berlin {
			t.Fatalf("default zone after the creator moved = %v", cr["timezone"])
		}
		for _, bad := range []any{"Mars/Olympus", "Local", "", 9} {
			m := h.request("POST", "/families/"+id+"/care-recipients", ann.Token, map[string]any{"fullName": "X", "timezone": bad}).errorEnvelope(400)
			if fieldErrors(m)["timezone"] == nil {
				t.Fatalf("timezone %v: %v", bad, m)
			}
		}
		if l := h.request("GET", "/families/"+id+"/care-recipients", ann.Token, nil).expect(200).List(); len(l) != 3 {
			t.Fatalf("care recipients = %v", l)
		}
	})
}

func TestCareRecipientValidation(t *testing.T) {
	t.Parallel()
	h := sqliteHarness(t, harnessOptions{})
	ann := h.newUser("ann@example.com")
	id := h.createFamilyAs(ann, "Lees")
	many := make([]string, 51)
	for i := range many {
		many[i] = "x"
	}
	// The harness clock reads 2026-03-02 15:00 UTC, already 2026-03-03 east of UTC+9.
	for _, tc := range []struct {
		name  string
		body  map[string]any
		field string
	}{
		{"no name", map[string]any{}, "fullName"},
		{"long name", map[string]any{"fullName": strings.Repeat("a", 101)}, "fullName"},
		{"future birth date", map[string]any{"fullName": "X", "dateOfBirth": "2026-03-04"}, "dateOfBirth"},
		{"impossible date", map[string]any{"fullName": "X", "dateOfBirth": "1950-02-30"}, "dateOfBirth"},
		{"date with time", map[string]any{"fullName": "X", "dateOfBirth": "1950-02-01T00:00:00Z"}, "dateOfBirth"},
		{"blood type", map[string]any{"fullName": "X", "bloodType": "Z+"}, "bloodType"},
		{"too many allergies", map[string]any{"fullName": "X", "allergies": many}, "allergies"},
		{"long allergy", map[string]any{"fullName": "X", "allergies": []string{strings.Repeat("a", 201)}}, "allergies[0]"},
		{"blank condition", map[string]any{"fullName": "X", "conditions": []string{"ok", " "}}, "conditions[1]"},
		{"allergies not strings", map[string]any{"fullName": "X", "allergies": []int{1}}, "allergies"},
		{"photo not http", map[string]any{"fullName": "X", "photoUrl": "javascript:alert(1)"}, "photoUrl"},
		{"long notes", map[string]any{"fullName": "X", "notes": strings.Repeat("n", 5001)}, "notes"},
		{"unknown field", map[string]any{"fullName": "X", "ssn": "123"}, "ssn"},
	} {
		m := h.request("POST", "/families/"+id+"/care-recipients", ann.Token, tc.body).errorEnvelope(400)
		if fieldErrors(m)[tc.field] == nil {
			t.Errorf("%s: errors = %v, want one for %s", tc.name, m["errors"], tc.field)
		}
	}
	if l := h.request("GET", "/families/"+id+"/care-recipients", ann.Token, nil).expect(200).List(); len(l) != 0 {
		t.Fatalf("refused requests created care recipients: %v", l)
	}
	cr := h.createCareRecipientAs(ann, id, map[string]any{"fullName": "Gran", "dateOfBirth": "2026-03-03", "bloodType": "O-",
		"allergies": many[:50], "photoUrl": "https://example.com/gran.jpg"})
	if cr["dateOfBirth"] != "2026-03-03" || len(cr["allergies"].([]any)) != 50 || cr["conditions"] == nil {
		t.Fatalf("care recipient = %v", cr)
	}
}

func TestCareRecipientPatchAndAccess(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, h *harness) {
		f := h.newCareFamily()
		h.request("POST", "/families/"+f.id+"/care-recipients", f.viewer.Token, map[string]any{"fullName": "X"}).errorEnvelope(403)
		h.request("POST", "/families/"+f.id+"/care-recipients", f.other.Token, map[string]any{"fullName": "X"}).errorEnvelope(403)
		cr := h.createCareRecipientAs(f.caregiver, f.id, map[string]any{
			"fullName": "Margaret Lee", "preferredName": "Maggie", "dateOfBirth": "1941-07-09", "bloodType": "A+",
			"allergies": []string{"penicillin"}, "conditions": []string{"diabetes"}, "notes": "Likes tea",
			"primaryHospital": "St. Mary's", "insuranceProvider": "Acme", "timezone": "Asia/Tokyo",
		})
		path := "/care-recipients/" + cr["id"].(string)
		patch := func(u testUser, body any) *response { return h.request("PATCH", path, u.Token, body) }

		got := patch(f.caregiver, map[string]any{"notes": nil, "preferredName": "Nana", "allergies": nil}).expect(200).Map()
		want := copyMap(cr)
		want["notes"], want["preferredName"], want["allergies"] = nil, "Nana", []any{}
		want["updatedAt"] = got["updatedAt"]
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("patch:\n got %v\nwant %v", got, want)
		}
		if again := patch(f.caregiver, map[string]any{}).expect(200).Map(); !reflect.DeepEqual(again, got) {
			t.Fatalf("empty patch changed something: %v", again)
		}
		// Blank optional text clears too.
		if r := patch(f.admin, map[string]any{"primaryHospital": "  "}).expect(200).Map(); r["primaryHospital"] != nil {
			t.Fatalf("blank hospital = %v", r["primaryHospital"])
		}
		for _, bad := range []map[string]any{
			{"fullName": nil}, {"timezone": nil}, {"timezone": "Mars/Olympus"}, {"fullName": ""},
			{"bloodType": "B"}, {"dateOfBirth": "2030-01-01"}, {"id": "x"},
		} {
			patch(f.admin, bad).errorEnvelope(400)
		}
		patch(f.viewer, map[string]any{"notes": "x"}).errorEnvelope(403)
		patch(f.other, map[string]any{"notes": "x"}).errorEnvelope(403)
		cur := h.request("GET", path, f.viewer.Token, nil).expect(200).Map()
		if cur["timezone"] != "Asia/Tokyo" || cur["fullName"] != "Margaret Lee" || cur["bloodType"] != "A+" || cur["notes"] != nil {
			t.Fatalf("refused patches changed the care recipient: %v", cur)
		}
		if ds, cs := cur["doctors"].([]any), cur["emergencyContacts"].([]any); len(ds) != 0 || len(cs) != 0 {
			t.Fatalf("embedded lists = %v, %v", ds, cs)
		}
		if r := patch(f.admin, map[string]any{"timezone": "Europe/London", "bloodType": nil}).expect(200).Map(); r["timezone"] != "Europe/London" || r["bloodType"] != nil {
			t.Fatalf("zone change = %v", r)
		}

		h.request("GET", path, f.other.Token, nil).errorEnvelope(403)
		h.request("GET", "/care-recipients/"+noSuchID, f.admin.Token, nil).errorEnvelope(404)
		h.request("GET", "/care-recipients/123", f.admin.Token, nil).errorEnvelope(400)
		h.request("DELETE", path, f.caregiver.Token, nil).errorEnvelope(403)
		if r := h.request("DELETE", path, f.admin.Token, nil).expect(200).Map(); r["success"] != true {
			t.Fatalf("delete = %v", r)
		}
		h.request("GET", path, f.admin.Token, nil).errorEnvelope(404)
		h.request("PATCH", path, f.admin.Token, map[string]any{"notes": "x"}).errorEnvelope(404)
	})
}

func TestCareRecipientSQLMetacharactersRoundTrip(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, h *harness) {
		ann := h.newUser("ann@example.com")
		id := h.createFamilyAs(ann, "Lees")
		body := map[string]any{
			"fullName": sqlText[:60], "notes": sqlText, "allergies": []string{sqlText, `"]}`},
			"conditions": []string{"it's"}, "hospitalAddress": sqlText, "insurancePolicyNo": "A'1--",
		}
		cr := h.createCareRecipientAs(ann, id, body)
		got := h.request("GET", "/care-recipients/"+cr["id"].(string), ann.Token, nil).expect(200).Map()
		for k, v := range body {
			if s, ok := v.([]string); ok {
				v = []any{}
				for _, x := range s {
					v = append(v.([]any), x)
				}
			}
			if !reflect.DeepEqual(got[k], v) {
				t.Errorf("%s = %#v, want %#v", k, got[k], v)
			}
		}
		if l := h.request("GET", "/families/"+id+"/care-recipients", ann.Token, nil).expect(200).List(); len(l) != 1 || l[0]["notes"] != sqlText {
			t.Fatalf("list = %v", l)
		}
	})
}

func copyMap(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
