package api

import (
	"reflect"
	"testing"
)

func TestEmergencyContactsKeepOnePrimary(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, h *harness) {
		f := h.newCareFamily()
		cr := h.createCareRecipientAs(f.admin, f.id, map[string]any{"fullName": "Gran"})
		list := "/care-recipients/" + cr["id"].(string) + "/emergency-contacts"
		add := func(name string, primary bool) string {
			t.Helper()
			c := h.request("POST", list, f.caregiver.Token, map[string]any{
				"name": name, "relationship": "daughter", "phone": "+1 555 0100", "isPrimary": primary,
			}).expect(201).Map()
			if c["isPrimary"] != primary || c["name"] != name {
				t.Fatalf("created contact = %v", c)
			}
			return c["id"].(string)
		}
		primaries := func() []string {
			t.Helper()
			var out []string
			for _, c := range h.request("GET", list, f.viewer.Token, nil).expect(200).List() {
				if c["isPrimary"] == true {
					out = append(out, c["name"].(string))
				}
			}
			return out
		}

		amy := add("Amy", true)
		add("Ben", true)
		cal := add("Cal", false)
		if got := primaries(); !reflect.DeepEqual(got, []string{"Ben"}) {
			t.Fatalf("primaries = %v, want [Ben]", got)
		}
		r := h.request("PATCH", "/emergency-contacts/"+amy, f.caregiver.Token, map[string]any{"isPrimary": true}).expect(200).Map()
		if r["isPrimary"] != true {
			t.Fatalf("patched = %v", r)
		}
		if got := primaries(); !reflect.DeepEqual(got, []string{"Amy"}) {
			t.Fatalf("primaries = %v, want [Amy]", got)
		}
		if cs := h.request("GET", "/care-recipients/"+cr["id"].(string), f.viewer.Token, nil).expect(200).Map()["emergencyContacts"].([]any); len(cs) != 3 || cs[0].(map[string]any)["name"] != "Amy" {
			t.Fatalf("embedded contacts = %v", cs)
		}

		// PATCH semantics and validation.
		r = h.request("PATCH", "/emergency-contacts/"+cal, f.caregiver.Token, map[string]any{"email": "Cal@Example.com", "notes": sqlText}).expect(200).Map()
		if r["email"] != "cal@example.com" || r["notes"] != sqlText || r["phone"] != "+1 555 0100" || r["isPrimary"] != false {
			t.Fatalf("patched Cal = %v", r)
		}
		if r = h.request("PATCH", "/emergency-contacts/"+cal, f.caregiver.Token, map[string]any{"email": nil}).expect(200).Map(); r["email"] != nil {
			t.Fatalf("cleared email = %v", r)
		}
		for _, bad := range []map[string]any{{"isPrimary": nil}, {"phone": nil}, {"phone": "none"}, {"relationship": ""}, {"name": nil}} {
			h.request("PATCH", "/emergency-contacts/"+cal, f.caregiver.Token, bad).errorEnvelope(400)
		}
		m := h.request("POST", list, f.caregiver.Token, map[string]any{"name": "Dee"}).errorEnvelope(400)
		if fe := fieldErrors(m); fe["relationship"] == nil || fe["phone"] == nil {
			t.Fatalf("contact without relationship and phone = %v", m)
		}
		h.request("POST", list, f.viewer.Token, map[string]any{"name": "Dee", "relationship": "son", "phone": "12345"}).errorEnvelope(403)
		h.request("PATCH", "/emergency-contacts/"+cal, f.viewer.Token, map[string]any{"notes": "x"}).errorEnvelope(403)
		h.request("GET", list, f.other.Token, nil).errorEnvelope(403)

		h.request("DELETE", "/emergency-contacts/"+amy, f.viewer.Token, nil).errorEnvelope(403)
		h.request("DELETE", "/emergency-contacts/"+amy, f.other.Token, nil).errorEnvelope(403)
		if r := h.request("DELETE", "/emergency-contacts/"+amy, f.caregiver.Token, nil).expect(200).Map(); r["success"] != true {
			t.Fatalf("delete = %v", r)
		}
		h.request("DELETE", "/emergency-contacts/"+amy, f.caregiver.Token, nil).errorEnvelope(404)
		if got := primaries(); len(got) != 0 {
			t.Fatalf("primaries after deleting Amy = %v", got)
		}
		if cs := h.request("GET", list, f.admin.Token, nil).expect(200).List(); len(cs) != 2 {
			t.Fatalf("contacts = %v", cs)
		}
	})
}
