package api

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/carecircle/carecircle/internal/care"
	"github.com/carecircle/carecircle/internal/store"
)

// alertsPath is the alert collection of a care recipient.
func alertsPath(crID string) string { return "/care-recipients/" + crID + "/emergency/alerts" }

// alertJSON is a valid create-alert body.
func alertJSON(title string) map[string]any {
	return map[string]any{"type": "FALL", "title": title, "description": "Found on the bathroom floor, conscious"}
}

// outboxEvent is a committed domain event as the outbox keeps it.
type outboxEvent struct {
	Type            string         `json:"type"`
	FamilyID        string         `json:"familyId"`
	CareRecipientID string         `json:"careRecipientId"`
	Data            map[string]any `json:"data"`
}

// alertEvents reads the committed domain events of the given types, oldest
// first.
func alertEvents(t *testing.T, h *harness, types ...string) []outboxEvent {
	t.Helper()
	evs, err := h.store.PendingEvents(context.Background(), 10000)
	if err != nil {
		t.Fatal(err)
	}
	var out []outboxEvent
	for _, e := range evs {
		if len(types) > 0 && !hasString(types, e.Type) {
			continue
		}
		var env outboxEvent
		if err := json.Unmarshal(e.Envelope, &env); err != nil {
			t.Fatal(err)
		}
		out = append(out, env)
	}
	return out
}

func hasString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// alertRecipients lists, sorted, the users holding a notification of typ
// about the alert.
func alertRecipients(t *testing.T, h *harness, typ care.NotificationType, alertID string, users ...testUser) []string {
	t.Helper()
	var out []string
	for _, u := range users {
		for _, n := range shiftNotes(t, h, u.ID, typ) {
			if n.Data["alertId"] == alertID {
				out = append(out, u.Email)
			}
		}
	}
	sort.Strings(out)
	return out
}

func TestEmergencyAlertLifecycle(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, h *harness) {
		f := newFixture(t, h, newMatrixUsers(h))
		everyone := []testUser{f.admin, f.caregiver, f.viewer, f.outsider}
		as := func(u testUser, method, p string, body any) *response {
			return h.request(method, p, h.signIn(u.User), body)
		}

		// The caregiver raises an alert.
		h.clock.Advance(time.Minute)
		body := alertJSON("Fell in the bathroom")
		body["location"] = "Upstairs bathroom"
		a := as(f.caregiver, "POST", alertsPath(f.CareRecipientID), body).expect(201).Map()
		wantKeys := []string{"id", "careRecipientId", "createdById", "createdBy", "type", "title", "description", "location",
			"status", "acknowledgedAt", "acknowledgedById", "resolvedAt", "resolvedById", "resolutionNotes", "createdAt", "updatedAt"}
		for _, k := range wantKeys {
			if _, ok := a[k]; !ok {
				t.Fatalf("alert lacks %q: %v", k, a)
			}
		}
		if len(a) != len(wantKeys) {
			t.Fatalf("alert has fields beyond the contract's: %v", a)
		}
		id := a["id"].(string)
		if a["careRecipientId"] != f.CareRecipientID || a["createdById"] != f.caregiver.ID || a["type"] != "FALL" ||
			a["status"] != "ACTIVE" || a["location"] != "Upstairs bathroom" || a["resolvedAt"] != nil ||
			a["createdBy"].(map[string]any)["fullName"] != f.caregiver.FullName || a["createdAt"] != h.clock.Now().UTC().Format(time.RFC3339) {
			t.Fatalf("created alert = %v", a)
		}

		// Every other member is notified, with what the channels read; the
		// raiser and the outsider are not.
		if got := alertRecipients(t, h, care.NotifyEmergencyAlert, id, everyone...); !reflect.DeepEqual(got, []string{f.admin.Email, f.viewer.Email}) {
			t.Fatalf("EMERGENCY_ALERT went to %v", got)
		}
		n := shiftNotes(t, h, f.viewer.ID, care.NotifyEmergencyAlert)[0]
		if n.Data["raisedBy"] != f.caregiver.FullName || n.Data["careRecipientId"] != f.CareRecipientID || n.Data["type"] != "FALL" ||
			n.Data["location"] != "Upstairs bathroom" || n.Data["description"] != "Found on the bathroom floor, conscious" ||
			n.Data["familyId"] != f.FamilyID || !strings.Contains(n.Title, "Fell in the bathroom") || !strings.Contains(n.Body, "Grandma") {
			t.Fatalf("notification = %+v", n)
		}
		created := alertEvents(t, h, "emergency.alert.created")
		if len(created) != 1 || created[0].FamilyID != f.FamilyID || created[0].CareRecipientID != f.CareRecipientID || created[0].Data["id"] != id {
			t.Fatalf("created events = %+v", created)
		}

		open := as(f.viewer, "GET", alertsPath(f.CareRecipientID), nil).expect(200).List()
		if len(open) != 1 || open[0]["id"] != id {
			t.Fatalf("open alerts = %v", open)
		}

		// A viewer may acknowledge; a second acknowledgement is refused.
		h.clock.Advance(time.Minute)
		ack := as(f.viewer, "POST", alertsPath(f.CareRecipientID)+"/"+id+"/acknowledge", nil).expect(200).Map()
		if ack["status"] != "ACKNOWLEDGED" || ack["acknowledgedById"] != f.viewer.ID || ack["acknowledgedAt"] != h.clock.Now().UTC().Format(time.RFC3339) {
			t.Fatalf("acknowledged = %v", ack)
		}
		m := as(f.admin, "POST", alertsPath(f.CareRecipientID)+"/"+id+"/acknowledge", map[string]any{}).errorEnvelope(409)
		if m["message"] != "Cannot acknowledge an alert that is ACKNOWLEDGED" {
			t.Fatalf("second acknowledge = %v", m)
		}
		if got := alertRecipients(t, h, care.NotifyEmergencyAcknowledged, id, everyone...); !reflect.DeepEqual(got, []string{f.admin.Email, f.caregiver.Email}) {
			t.Fatalf("EMERGENCY_ACKNOWLEDGED went to %v", got)
		}
		if open := as(f.admin, "GET", alertsPath(f.CareRecipientID), nil).expect(200).List(); len(open) != 1 || open[0]["status"] != "ACKNOWLEDGED" {
			t.Fatalf("open alerts after acknowledge = %v", open)
		}

		// The admin resolves it with notes; nothing more can be done to it.
		res := as(f.admin, "POST", alertsPath(f.CareRecipientID)+"/"+id+"/resolve", map[string]any{"resolutionNotes": "  Paramedics checked her; fine  "}).expect(200).Map()
		if res["status"] != "RESOLVED" || res["resolvedById"] != f.admin.ID || res["resolutionNotes"] != "Paramedics checked her; fine" ||
			res["acknowledgedById"] != f.viewer.ID || res["resolvedAt"] == nil {
			t.Fatalf("resolved = %v", res)
		}
		as(f.caregiver, "POST", alertsPath(f.CareRecipientID)+"/"+id+"/resolve", nil).errorEnvelope(409)
		as(f.caregiver, "POST", alertsPath(f.CareRecipientID)+"/"+id+"/acknowledge", nil).errorEnvelope(409)
		if got := alertRecipients(t, h, care.NotifyEmergencyResolved, id, everyone...); !reflect.DeepEqual(got, []string{f.caregiver.Email, f.viewer.Email}) {
			t.Fatalf("EMERGENCY_RESOLVED went to %v", got)
		}
		if open := as(f.admin, "GET", alertsPath(f.CareRecipientID), nil).expect(200).List(); len(open) != 0 {
			t.Fatalf("open alerts after resolve = %v", open)
		}
		hist := as(f.viewer, "GET", alertsPath(f.CareRecipientID)+"/history", nil).expect(200).List()
		if len(hist) != 1 || hist[0]["id"] != id || hist[0]["status"] != "RESOLVED" {
			t.Fatalf("history = %v", hist)
		}

		// Each change committed its event, once, refusals none.
		var types []string
		for _, e := range alertEvents(t, h, "emergency.alert.created", "emergency.alert.acknowledged", "emergency.alert.resolved") {
			types = append(types, e.Type)
			if e.FamilyID != f.FamilyID || e.Data["id"] != id {
				t.Fatalf("event = %+v", e)
			}
		}
		if !reflect.DeepEqual(types, []string{"emergency.alert.created", "emergency.alert.acknowledged", "emergency.alert.resolved"}) {
			t.Fatalf("events = %v", types)
		}

		// An ACTIVE alert may be resolved at once, without a body.
		b := as(f.admin, "POST", alertsPath(f.CareRecipientID), alertJSON("Wandered off")).expect(201).Map()
		if r := as(f.caregiver, "POST", alertsPath(f.CareRecipientID)+"/"+b["id"].(string)+"/resolve", nil).expect(200).Map(); r["status"] != "RESOLVED" || r["resolutionNotes"] != nil {
			t.Fatalf("resolve active = %v", r)
		}
	})
}

func TestEmergencyAlertValidation(t *testing.T) {
	t.Parallel()
	h := sqliteHarness(t, harnessOptions{})
	f := newFixture(t, h, newMatrixUsers(h))
	tok := f.admin.Token
	p := alertsPath(f.CareRecipientID)
	long := strings.Repeat("x", 201)
	for name, tc := range map[string]struct {
		body  any
		field string
	}{
		"no type":         {map[string]any{"title": "t", "description": "d"}, "type"},
		"unknown type":    {map[string]any{"type": "FIRE", "title": "t", "description": "d"}, "type"},
		"lower-case type": {map[string]any{"type": "fall", "title": "t", "description": "d"}, "type"},
		"no title":        {map[string]any{"type": "FALL", "title": "  ", "description": "d"}, "title"},
		"long title":      {map[string]any{"type": "FALL", "title": long, "description": "d"}, "title"},
		"two-line title":  {map[string]any{"type": "FALL", "title": "a\nb", "description": "d"}, "title"},
		"no description":  {map[string]any{"type": "FALL", "title": "t"}, "description"},
		"control chars":   {map[string]any{"type": "FALL", "title": "t", "description": "d\x00"}, "description"},
		"long location":   {map[string]any{"type": "FALL", "title": "t", "description": "d", "location": strings.Repeat("y", 501)}, "location"},
	} {
		m := h.request("POST", p, tok, tc.body).errorEnvelope(400)
		errs, _ := m["errors"].(map[string]any)
		if _, ok := errs[tc.field]; !ok {
			t.Errorf("%s: errors = %v, want %s", name, m["errors"], tc.field)
		}
	}
	h.request("POST", p, tok, map[string]any{"type": "FALL", "title": "t", "description": "d", "severity": "HIGH"}).errorEnvelope(400)
	h.request("POST", p, tok, `{"type":"FALL","title":"t","description":5}`).errorEnvelope(400)
	h.request("POST", p, tok, nil).errorEnvelope(400)
	if l := h.request("GET", p+"/history?limit=100", tok, nil).expect(200).List(); len(l) != 0 {
		t.Fatalf("refused bodies created alerts: %v", l)
	}

	// Path ids: malformed 400, unknown 404, another care recipient's alert 404.
	a := h.request("POST", p, tok, alertJSON("Fall")).expect(201).Map()
	id := a["id"].(string)
	other, err := h.store.CreateCareRecipient(context.Background(), care.CareRecipient{FamilyID: f.FamilyID, FullName: "Grandpa", Timezone: "UTC"})
	if err != nil {
		t.Fatal(err)
	}
	const missing = "0190f000-0000-7000-8000-000000000000"
	for _, action := range []string{"acknowledge", "resolve"} {
		h.request("POST", p+"/not-a-uuid/"+action, tok, nil).errorEnvelope(400)
		h.request("POST", p+"/"+missing+"/"+action, tok, nil).errorEnvelope(404)
		h.request("POST", alertsPath(other.ID)+"/"+id+"/"+action, tok, nil).errorEnvelope(404)
		h.request("POST", alertsPath(missing)+"/"+id+"/"+action, tok, nil).errorEnvelope(404)
	}
	h.request("POST", p+"/"+id+"/acknowledge", tok, map[string]any{"note": "x"}).errorEnvelope(400)
	h.request("POST", p+"/"+id+"/resolve", tok, map[string]any{"resolutionNotes": 7}).errorEnvelope(400)
	h.request("POST", p+"/"+id+"/resolve", tok, map[string]any{"resolutionNotes": strings.Repeat("z", 5001)}).errorEnvelope(400)
	if got, err := h.store.EmergencyAlert(context.Background(), id); err != nil || got.Status != care.AlertActive {
		t.Fatalf("refused actions changed the alert: %+v, %v", got, err)
	}
	h.request("GET", alertsPath("nope"), tok, nil).errorEnvelope(400)
	h.request("GET", alertsPath(missing), tok, nil).errorEnvelope(404)
	h.request("POST", alertsPath(missing), tok, alertJSON("x")).errorEnvelope(404)
	h.request("GET", "/care-recipients/"+missing+"/emergency/info", tok, nil).errorEnvelope(404)
}

func TestEmergencyAlertHistoryLimit(t *testing.T) {
	t.Parallel()
	h := sqliteHarness(t, harnessOptions{})
	f := newFixture(t, h, newMatrixUsers(h))
	tok := f.caregiver.Token
	p := alertsPath(f.CareRecipientID)
	var ids []string
	for i := range 22 {
		h.clock.Advance(time.Second)
		ids = append(ids, h.request("POST", p, tok, alertJSON(fmt.Sprintf("alert %d", i))).expect(201).Map()["id"].(string))
	}
	listIDs := func(l []map[string]any) []string {
		out := []string{}
		for _, a := range l {
			out = append(out, a["id"].(string))
		}
		return out
	}
	newest := func(n int) []string {
		out := []string{}
		for i := len(ids) - 1; i >= len(ids)-n; i-- {
			out = append(out, ids[i])
		}
		return out
	}
	if got := listIDs(h.request("GET", p+"/history", tok, nil).expect(200).List()); !reflect.DeepEqual(got, newest(20)) {
		t.Fatalf("default history = %v", got)
	}
	if got := listIDs(h.request("GET", p+"/history?limit=3", tok, nil).expect(200).List()); !reflect.DeepEqual(got, newest(3)) {
		t.Fatalf("history limit 3 = %v", got)
	}
	if got := listIDs(h.request("GET", p+"/history?limit=100", tok, nil).expect(200).List()); !reflect.DeepEqual(got, newest(22)) {
		t.Fatalf("history limit 100 = %v", got)
	}
	if got := listIDs(h.request("GET", p+"/history?limit=1", tok, nil).expect(200).List()); !reflect.DeepEqual(got, newest(1)) {
		t.Fatalf("history limit 1 = %v", got)
	}
	for _, bad := range []string{"0", "101", "-1", "abc", "2.5"} {
		m := h.request("GET", p+"/history?limit="+bad, tok, nil).errorEnvelope(400)
		if _, ok := m["errors"].(map[string]any)["limit"]; !ok {
			t.Fatalf("limit=%s: %v", bad, m)
		}
	}
	// The open list is newest first too.
	if got := listIDs(h.request("GET", p, tok, nil).expect(200).List()); !reflect.DeepEqual(got, newest(22)) {
		t.Fatalf("open alerts = %v", got)
	}
}

func TestEmergencyInfoCard(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, h *harness) {
		ctx := context.Background()
		f := newFixture(t, h, newMatrixUsers(h))
		str := func(s string) *string { return &s }
		if _, err := h.store.UpdateCareRecipient(ctx, f.CareRecipientID, func(cr *care.CareRecipient) error {
			cr.PreferredName, cr.DateOfBirth, cr.BloodType = str("Gran"), str("1940-03-03"), str("O-")
			cr.Allergies, cr.Conditions = []string{"Penicillin"}, []string{"Diabetes type 2"}
			cr.PrimaryHospital, cr.HospitalAddress = str("St Luke's"), str("1 Hospital Rd")
			cr.InsuranceProvider, cr.InsurancePolicyNo = str("Acme Health"), str("POL-123")
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if _, err := h.store.UpdateUser(ctx, f.caregiver.ID, store.UserPatch{Phone: str("+15550100999")}); err != nil {
			t.Fatal(err)
		}
		meds := "/care-recipients/" + f.CareRecipientID + "/medications"
		h.request("POST", meds, f.admin.Token, map[string]any{"name": "Metformin", "dosage": "500 mg", "form": "TABLET", "frequency": "DAILY", "scheduledTimes": []string{"09:00"}}).expect(201)
		h.request("POST", meds, f.admin.Token, map[string]any{"name": "Old pill", "dosage": "1", "form": "TABLET", "frequency": "AS_NEEDED", "isActive": false}).expect(201)
		doc := func(name string, typ store.DocumentType, ready bool) string {
			d, err := h.store.CreateDocument(ctx, store.Document{FamilyID: f.FamilyID, UploadedByID: &f.admin.ID, Name: name, Type: typ,
				MimeType: "application/pdf", SizeBytes: 10, Filename: name + ".pdf", StorageKey: "k/" + name})
			if err != nil {
				t.Fatal(err)
			}
			if ready {
				if _, err := h.store.FinishDocument(ctx, d.ID, store.DocumentOutcome{Status: store.DocReady}); err != nil {
					t.Fatal(err)
				}
			}
			return d.ID
		}
		card := doc("Insurance card", store.DocInsuranceCard, true)
		dnr := doc("DNR order", store.DocDNR, true)
		doc("Lab results", store.DocLabResult, true)  // not a key document
		doc("Passport scan", store.DocPhotoID, false) // still processing
		alert := h.request("POST", alertsPath(f.CareRecipientID), f.caregiver.Token, alertJSON("Fall")).expect(201).Map()

		res := h.request("GET", "/care-recipients/"+f.CareRecipientID+"/emergency/info", f.viewer.Token, nil).expect(200)
		var info struct {
			care.EmergencyInfo
			Name              string `json:"name"`
			PrimaryHospital   string `json:"primaryHospital"`
			HospitalAddress   string `json:"hospitalAddress"`
			InsuranceProvider string `json:"insuranceProvider"`
			InsurancePolicyNo string `json:"insurancePolicyNo"`
		}
		res.JSON(&info)
		if info.Name != "Grandma" || info.FullName != "Grandma" || *info.PreferredName != "Gran" || *info.DateOfBirth != "1940-03-03" ||
			*info.BloodType != "O-" || !reflect.DeepEqual(info.Allergies, []string{"Penicillin"}) ||
			!reflect.DeepEqual(info.Conditions, []string{"Diabetes type 2"}) || info.Timezone != "Asia/Tokyo" {
			t.Fatalf("care recipient on the card = %s", res.Body)
		}
		// 2026-03-03 has begun in Tokyo at the test's start (15:00 UTC on the 2nd is 00:00 on the 3rd).
		if info.Age == nil || *info.Age != 86 {
			t.Fatalf("age = %v", info.Age)
		}
		if info.PrimaryHospital != "St Luke's" || *info.Hospital.Name != "St Luke's" || info.HospitalAddress != "1 Hospital Rd" ||
			*info.Hospital.Address != "1 Hospital Rd" || info.InsuranceProvider != "Acme Health" || *info.Insurance.Provider != "Acme Health" ||
			info.InsurancePolicyNo != "POL-123" || *info.Insurance.PolicyNumber != "POL-123" {
			t.Fatalf("hospital and insurance = %s", res.Body)
		}
		if len(info.Medications) != 1 || info.Medications[0].Name != "Metformin" {
			t.Fatalf("medications = %+v", info.Medications)
		}
		if len(info.EmergencyContacts) != 1 || info.EmergencyContacts[0].ID != f.ContactID || len(info.Doctors) != 1 || info.Doctors[0].ID != f.DoctorID {
			t.Fatalf("contacts and doctors = %s", res.Body)
		}
		phones := map[string]string{}
		for _, m := range info.FamilyMembers {
			phone := ""
			if m.Phone != nil {
				phone = *m.Phone
			}
			phones[m.UserID+" "+string(m.Role)] = phone
		}
		if !reflect.DeepEqual(phones, map[string]string{f.admin.ID + " ADMIN": "", f.caregiver.ID + " CAREGIVER": "+15550100999", f.viewer.ID + " VIEWER": ""}) {
			t.Fatalf("family members = %v", phones)
		}
		var docIDs []string
		for _, d := range info.Documents {
			docIDs = append(docIDs, d.ID)
		}
		sort.Strings(docIDs)
		want := []string{card, dnr}
		sort.Strings(want)
		if !reflect.DeepEqual(docIDs, want) {
			t.Fatalf("documents = %+v", info.Documents)
		}
		if len(info.ActiveAlerts) != 1 || info.ActiveAlerts[0].ID != alert["id"] {
			t.Fatalf("active alerts = %+v", info.ActiveAlerts)
		}
		// The read is in the audit log.
		entries, _, err := h.store.AuditLog(ctx, store.AuditQuery{ActorID: f.viewer.ID, Action: "emergency_info.read", Limit: 10})
		if err != nil || len(entries) != 1 || *entries[0].ResourceID != f.CareRecipientID || *entries[0].FamilyID != f.FamilyID {
			t.Fatalf("audit = %+v, %v", entries, err)
		}

		// The card is current right after a change: nothing stale is served.
		h.request("PATCH", "/care-recipients/"+f.CareRecipientID, f.admin.Token, map[string]any{"allergies": []string{"Penicillin", "Latex"}}).expect(200)
		h.request("POST", meds, f.admin.Token, map[string]any{"name": "Aspirin", "dosage": "100 mg", "form": "TABLET", "frequency": "DAILY", "scheduledTimes": []string{"08:00"}}).expect(201)
		if _, err := h.store.UpdateUser(ctx, f.viewer.ID, store.UserPatch{Phone: str("+15550100888")}); err != nil {
			t.Fatal(err)
		}
		again := h.request("GET", "/care-recipients/"+f.CareRecipientID+"/emergency/info", f.admin.Token, nil).expect(200).Map()
		if !reflect.DeepEqual(again["allergies"], []any{"Penicillin", "Latex"}) || len(again["medications"].([]any)) != 2 {
			t.Fatalf("card after changes = %v", again)
		}
		found := false
		for _, m := range again["familyMembers"].([]any) {
			if mm := m.(map[string]any); mm["userId"] == f.viewer.ID && mm["phone"] == "+15550100888" {
				found = true
			}
		}
		if !found {
			t.Fatalf("new phone missing from the card: %v", again["familyMembers"])
		}
	})
}
