package api

import "testing"

func TestDoctors(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, h *harness) {
		f := h.newCareFamily()
		cr := h.createCareRecipientAs(f.admin, f.id, map[string]any{"fullName": "Gran"})
		list := "/care-recipients/" + cr["id"].(string) + "/doctors"

		h.request("POST", list, f.viewer.Token, map[string]any{"name": "Dr. Who"}).errorEnvelope(403)
		h.request("POST", list, f.other.Token, map[string]any{"name": "Dr. Who"}).errorEnvelope(403)
		h.request("POST", "/care-recipients/"+noSuchID+"/doctors", f.admin.Token, map[string]any{"name": "Dr. Who"}).errorEnvelope(404)
		m := h.request("POST", list, f.caregiver.Token, map[string]any{"phone": "call me", "email": "nope"}).errorEnvelope(400)
		if fe := fieldErrors(m); fe["name"] == nil || fe["phone"] == nil || fe["email"] == nil {
			t.Fatalf("invalid doctor = %v", m)
		}
		d := h.request("POST", list, f.caregiver.Token, map[string]any{
			"name": "Dr. O'Neil", "specialty": "Cardiology", "phone": "+1 (555) 010-0100", "email": "Dr@Example.com",
			"address": "1 Main St", "notes": sqlText,
		}).expect(201).Map()
		if d["careRecipientId"] != cr["id"] || d["name"] != "Dr. O'Neil" || d["email"] != "dr@example.com" || d["notes"] != sqlText || d["fax"] != nil {
			t.Fatalf("created doctor = %v", d)
		}
		path := "/doctors/" + d["id"].(string)

		ds := h.request("GET", list, f.viewer.Token, nil).expect(200).List()
		if len(ds) != 1 || ds[0]["id"] != d["id"] {
			t.Fatalf("doctors = %v", ds)
		}
		h.request("GET", list, f.other.Token, nil).errorEnvelope(403)
		if got := h.request("GET", "/care-recipients/"+cr["id"].(string), f.viewer.Token, nil).expect(200).Map(); len(got["doctors"].([]any)) != 1 {
			t.Fatalf("care recipient without its doctor: %v", got)
		}

		up := h.request("PATCH", path, f.caregiver.Token, map[string]any{"specialty": nil, "fax": "+1 555 0199"}).expect(200).Map()
		if up["specialty"] != nil || up["fax"] != "+1 555 0199" || up["name"] != "Dr. O'Neil" || up["phone"] != "+1 (555) 010-0100" {
			t.Fatalf("patched doctor = %v", up)
		}
		h.request("PATCH", path, f.caregiver.Token, map[string]any{"name": nil}).errorEnvelope(400)
		h.request("PATCH", path, f.caregiver.Token, map[string]any{"email": "x@"}).errorEnvelope(400)
		h.request("PATCH", path, f.viewer.Token, map[string]any{"notes": "x"}).errorEnvelope(403)
		h.request("PATCH", path, f.other.Token, map[string]any{"notes": "x"}).errorEnvelope(403)
		h.request("PATCH", "/doctors/"+noSuchID, f.admin.Token, map[string]any{"notes": "x"}).errorEnvelope(404)
		h.request("PATCH", "/doctors/x", f.admin.Token, map[string]any{"notes": "x"}).errorEnvelope(400)

		h.request("DELETE", path, f.viewer.Token, nil).errorEnvelope(403)
		if r := h.request("DELETE", path, f.caregiver.Token, nil).expect(200).Map(); r["success"] != true {
			t.Fatalf("delete = %v", r)
		}
		h.request("DELETE", path, f.caregiver.Token, nil).errorEnvelope(404)
		if ds := h.request("GET", list, f.admin.Token, nil).expect(200).List(); len(ds) != 0 {
			t.Fatalf("doctors after delete = %v", ds)
		}
	})
}
