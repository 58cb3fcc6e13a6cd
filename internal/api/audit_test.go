package api

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/carecircle/carecircle/internal/store"
)

// auditEntries reads the whole audit log, oldest first.
func (h *harness) auditEntries() []store.AuditEntry {
	h.t.Helper()
	list, _, err := h.store.AuditLog(context.Background(), store.AuditQuery{Limit: 1000})
	if err != nil {
		h.t.Fatal(err)
	}
	for i, j := 0, len(list)-1; i < j; i, j = i+1, j-1 {
		list[i], list[j] = list[j], list[i]
	}
	return list
}

// makeSystemAdmin gives u the system role ADMIN.
func (h *harness) makeSystemAdmin(u testUser) {
	h.t.Helper()
	if _, err := h.store.DB().Exec(`UPDATE users SET system_role = 'ADMIN' WHERE id = $1`, u.ID); err != nil {
		h.t.Fatal(err)
	}
}

func TestWritesAreAuditedWithWhoWhatAndWhere(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, h *harness) {
		ann, bo := h.newUser("ann@example.com"), h.newUser("bo@example.com")
		const ua = "CareCircleTest/1.0 (audit)"
		client := []string{"X-Forwarded-For", "203.0.113.9, 10.0.0.1", "User-Agent", ua}
		fam := h.request("POST", "/families", ann.Token, map[string]any{"name": "Audited"}, client...).expect(201).Map()["id"].(string)
		cr := h.request("POST", "/families/"+fam+"/care-recipients", ann.Token, map[string]any{"fullName": "Grandma"}, client...).
			expect(201).Map()["id"].(string)
		med := h.createMedicationAs(ann, cr, dailyMedication())["id"].(string)
		h.request("PATCH", "/families/"+fam, ann.Token, map[string]any{"name": "Renamed"}, client...).expect(200)
		h.request("DELETE", medicationsPath(cr)+"/"+med, ann.Token, nil, client...).expect(200)
		tok := h.inviteToken(ann, fam, bo.Email, "VIEWER")
		h.request("POST", "/families/invitations/"+tok+"/accept", bo.Token, nil, client...).expect(200)
		// Neither reads nor refused writes are recorded.
		h.request("GET", "/families/"+fam, ann.Token, nil, client...).expect(200)
		h.request("PATCH", "/families/"+fam, ann.Token, map[string]any{"name": ""}, client...).errorEnvelope(400)
		h.request("PATCH", "/families/"+fam, bo.Token, map[string]any{"name": "Mine"}, client...).errorEnvelope(403)

		type want struct{ actor, action, typ, id, family string }
		wants := []want{
			{ann.ID, "POST /families", "family", fam, fam},
			{ann.ID, "POST /families/{familyId}/care-recipients", "care_recipient", cr, fam},
			{ann.ID, "POST /care-recipients/{careRecipientId}/medications", "medication", med, fam},
			{ann.ID, "PATCH /families/{familyId}", "family", fam, fam},
			{ann.ID, "DELETE /care-recipients/{careRecipientId}/medications/{medicationId}", "medication", med, fam},
			{ann.ID, "POST /families/{familyId}/invite", "invitation", "", fam},
			{bo.ID, "POST /families/invitations/{token}/accept", "invitation", "", ""},
		}
		got := h.auditEntries()
		if len(got) != len(wants) {
			for _, e := range got {
				t.Logf("%s %s %s", e.Action, deref(e.ResourceType), deref(e.ResourceID))
			}
			t.Fatalf("%d audit entries, want %d", len(got), len(wants))
		}
		for i, w := range wants {
			e := got[i]
			if deref(e.ActorID) != w.actor || e.Action != w.action || deref(e.ResourceType) != w.typ ||
				deref(e.FamilyID) != w.family || e.Status/100 != 2 {
				t.Errorf("entry %d = %s by %s on %s %s in %s (status %d), want %+v", i, e.Action, deref(e.ActorID),
					deref(e.ResourceType), deref(e.ResourceID), deref(e.FamilyID), e.Status, w)
			}
			if w.id != "" && deref(e.ResourceID) != w.id {
				t.Errorf("entry %d (%s) names %q, want %q", i, e.Action, deref(e.ResourceID), w.id)
			}
			var details map[string]string
			if err := json.Unmarshal(e.Details, &details); err != nil || details["requestId"] == "" {
				t.Errorf("entry %d details %s", i, e.Details)
			}
		}
		for _, i := range []int{0, 1, 3, 4, 6} { // the requests sent through the proxy
			if deref(got[i].IP) != "203.0.113.9" || deref(got[i].UserAgent) != ua {
				t.Errorf("%s from %q with %q", got[i].Action, deref(got[i].IP), deref(got[i].UserAgent))
			}
		}
		if got[2].IP == nil || deref(got[2].IP) == "203.0.113.9" {
			t.Errorf("direct request recorded from %q", deref(got[2].IP))
		}
		// The invitation link's token is a secret the log never keeps.
		raw, _ := json.Marshal(got)
		if strings.Contains(string(raw), tok) {
			t.Fatal("the invitation token is in the audit log")
		}
	})
}

func TestSensitiveReadsAreAudited(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, h *harness) {
		f := newFixture(t, h, newMatrixUsers(h))
		r := httptest.NewRequest("GET", "/api/v1/care-recipients/"+f.CareRecipientID+"/emergency-info", nil)
		r.SetPathValue("careRecipientId", f.CareRecipientID)
		r.RemoteAddr = "198.51.100.4:5555"
		r.Header.Set("User-Agent", "EmergencyReader/2")
		if err := h.api.auditRead(r, &Principal{User: f.caregiver.User}, "emergency_info.read", "care_recipient", f.CareRecipientID); err != nil {
			t.Fatal(err)
		}
		got := h.auditEntries()
		if len(got) != 1 {
			t.Fatalf("%d entries", len(got))
		}
		e := got[0]
		if e.Action != "emergency_info.read" || deref(e.ActorID) != f.caregiver.ID || deref(e.ResourceType) != "care_recipient" ||
			deref(e.ResourceID) != f.CareRecipientID || deref(e.FamilyID) != f.FamilyID || deref(e.IP) != "198.51.100.4" ||
			deref(e.UserAgent) != "EmergencyReader/2" || e.Status != 200 {
			t.Fatalf("entry %+v", e)
		}
	})
}

func TestAdminReadsTheAuditLog(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, h *harness) {
		ann, root := h.newUser("ann@example.com"), h.newUser("root@example.com")
		for _, name := range []string{"One", "Two", "Three"} {
			h.createFamilyAs(ann, name)
		}
		h.request("GET", "/admin/audit", ann.Token, nil).errorEnvelope(403)
		h.makeSystemAdmin(root)
		h.createFamilyAs(root, "Root's")

		var page auditPage
		h.request("GET", "/admin/audit?userId="+ann.ID+"&limit=2", root.Token, nil).expect(200).JSON(&page)
		if page.Total != 3 || page.Page != 1 || page.Limit != 2 || len(page.Items) != 2 {
			t.Fatalf("first page: %+v", page)
		}
		newest := page.Items[0]
		h.request("GET", "/admin/audit?userId="+ann.ID+"&limit=2&page=2", root.Token, nil).expect(200).JSON(&page)
		if page.Total != 3 || page.Page != 2 || len(page.Items) != 1 || page.Items[0].ID == newest.ID ||
			page.Items[0].At.After(newest.At) {
			t.Fatalf("second page: %+v", page)
		}
		// The wire form has every field.
		res := h.request("GET", "/admin/audit?action="+strings.ReplaceAll("POST /families", " ", "%20"), root.Token, nil).expect(200).Map()
		if res["total"].(float64) != 4 {
			t.Fatalf("by action: %v", res)
		}
		item := res["items"].([]any)[0].(map[string]any)
		for _, k := range []string{"id", "at", "actorId", "action", "resourceType", "resourceId", "familyId", "ip", "userAgent", "status", "details"} {
			if _, ok := item[k]; !ok {
				t.Errorf("item lacks %q: %v", k, item)
			}
		}
		// Reading the log is recorded too.
		h.request("GET", "/admin/audit?action=audit.read&userId="+root.ID, root.Token, nil).expect(200).JSON(&page)
		if page.Total < 3 {
			t.Fatalf("reads of the log: %+v", page)
		}
		// A time window: everything so far happened at the fake clock's now.
		now := h.clock.Now().UTC()
		h.request("GET", "/admin/audit?to="+now.Format("2006-01-02T15:04:05Z"), root.Token, nil).expect(200).JSON(&page)
		if page.Total != 0 {
			t.Fatalf("before now: %+v", page)
		}
		h.request("GET", "/admin/audit?from="+now.Format("2006-01-02")+"&to="+now.Format("2006-01-02")+"&action=POST%20/families", root.Token, nil).
			expect(200).JSON(&page)
		if page.Total != 4 {
			t.Fatalf("today: %+v", page)
		}
		for _, q := range []string{"userId=nope", "from=yesterday", "to=2026-13-01", "page=0", "limit=201", "limit=x",
			"from=2026-03-03&to=2026-03-02"} {
			h.request("GET", "/admin/audit?"+q, root.Token, nil).errorEnvelope(400)
		}
		// Nothing changes or removes an entry.
		for _, m := range []string{"DELETE", "PATCH", "PUT", "POST"} {
			if st := h.request(m, "/admin/audit", root.Token, nil).Status; st != 405 {
				t.Errorf("%s /admin/audit answered %d", m, st)
			}
		}
	})
}

func TestPermissionMatrixAudit(t *testing.T) {
	t.Parallel()
	runMatrix(t, []matrixCase{
		// System admins only; no family role is enough.
		{"audit log", "GET", path("/admin/audit"), statuses{401, 403, 403, 403, 403}},
	})
}
