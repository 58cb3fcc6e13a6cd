package api

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/carecircle/carecircle/internal/care"
	"github.com/carecircle/carecircle/internal/store"
)

// activityKeys are the fields of an activity item, as the contract lists them.
var activityKeys = []string{"id", "type", "category", "title", "description", "careRecipientId",
	"careRecipientName", "actorName", "severity", "status", "timestamp", "metadata"}

func TestFamilyActivityFeed(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, h *harness) {
		w := newTimelineWorld(t, h)
		ctx := context.Background()
		feed := w.activityPath()

		// An empty family has an empty feed.
		page := w.as(w.viewer, "GET", feed, nil).expect(200).Map()
		if page["total"] != 0.0 || len(page["activities"].([]any)) != 0 || page["familyId"] != w.FamilyID {
			t.Fatalf("empty feed = %v", page)
		}

		// 15:00 an appointment is scheduled; 15:10 a dose given; 15:20 an
		// alert raised; 15:30 a timeline entry (dated 15:25).
		appts, err := h.store.CreateAppointments(ctx, store.NewAppointments{Appointment: care.Appointment{
			CareRecipientID: w.CareRecipientID, Title: "Blood test", Type: care.AppointmentLabWork,
			StartTime: testStart.Add(48 * time.Hour), EndTime: testStart.Add(49 * time.Hour),
		}, CreatedByID: w.admin.ID})
		if err != nil {
			t.Fatal(err)
		}
		h.clock.Advance(10 * time.Minute)
		m, err := h.store.CreateMedication(ctx, care.Medication{CareRecipientID: w.CareRecipientID, Name: "Aspirin",
			Dosage: "100 mg", Form: care.FormTablet, Frequency: care.FrequencyDaily, IsActive: true, ScheduledTimes: []string{"08:00"}})
		if err != nil {
			t.Fatal(err)
		}
		dose, _, err := h.store.LogDose(ctx, m.ID, care.DoseEntry{Status: care.DoseGiven,
			ScheduledTime: time.Date(2026, 3, 1, 23, 0, 0, 0, time.UTC), LoggedByID: w.caregiver.ID})
		if err != nil {
			t.Fatal(err)
		}
		h.clock.Advance(10 * time.Minute)
		const alertID = "0190f000-0000-7000-8000-0000000a1e70"
		stamp := h.clock.Now().UTC().Format("2006-01-02T15:04:05.000000Z")
		if _, err := h.store.DB().Exec(`INSERT INTO emergency_alerts (id, care_recipient_id, created_by_id, type,
			title, description, status, created_at, updated_at) VALUES ($1, $2, $3, 'MEDICAL', 'Chest pain',
			'Called 911', 'ACTIVE', $4, $4)`, alertID, w.CareRecipientID, w.caregiver.ID, stamp); err != nil {
			t.Fatal(err)
		}
		h.clock.Advance(10 * time.Minute)
		entry := w.post(w.caregiver, map[string]any{"type": "INCIDENT", "title": "Dizzy spell", "severity": "HIGH",
			"occurredAt": testStart.Add(25 * time.Minute).Format(time.RFC3339)})

		// Another family's news stays there.
		other := h.newUser("other@example.com")
		fam, _, err := h.store.CreateFamily(ctx, "Others", other.ID, nil)
		if err != nil {
			t.Fatal(err)
		}
		cr, err := h.store.CreateCareRecipient(ctx, care.CareRecipient{FamilyID: fam.ID, FullName: "Stranger", Timezone: "UTC"})
		if err != nil {
			t.Fatal(err)
		}
		h.request("POST", "/care-recipients/"+cr.ID+"/timeline", h.signIn(other.User),
			map[string]any{"type": "NOTE", "title": "Not theirs"}).expect(201)

		want := []string{"timeline_entry:" + entry["id"].(string), "emergency_alert:" + alertID,
			"medication_log:" + dose.ID, "appointment:" + appts[0].ID}
		page = w.as(w.viewer, "GET", feed, nil).expect(200).Map()
		items := page["activities"].([]any)
		var got []string
		for _, it := range items {
			a := it.(map[string]any)
			got = append(got, a["type"].(string)+":"+a["id"].(string))
			for _, k := range activityKeys {
				if _, ok := a[k]; !ok {
					t.Errorf("activity item lacks %q: %v", k, a)
				}
			}
			if a["careRecipientId"] != w.CareRecipientID || a["careRecipientName"] != "Grandma" {
				t.Errorf("activity item of another care recipient: %v", a)
			}
		}
		if !slices.Equal(got, want) || page["total"] != 4.0 {
			t.Fatalf("feed = %v (total %v), want %v", got, page["total"], want)
		}
		te, al, dl, ap := items[0].(map[string]any), items[1].(map[string]any), items[2].(map[string]any), items[3].(map[string]any)
		if te["category"] != "INCIDENT" || te["severity"] != "HIGH" || te["actorName"] != w.caregiver.FullName ||
			te["timestamp"] != testStart.Add(25*time.Minute).Format(time.RFC3339) || te["title"] != "Dizzy spell" {
			t.Errorf("timeline item = %v", te)
		}
		if al["category"] != "MEDICAL" || al["status"] != "ACTIVE" || al["description"] != "Called 911" ||
			al["timestamp"] != testStart.Add(20*time.Minute).Format(time.RFC3339) {
			t.Errorf("alert item = %v", al)
		}
		if dl["category"] != "MEDICATION" || dl["title"] != "Aspirin 100 mg" || dl["status"] != "GIVEN" ||
			dl["actorName"] != w.caregiver.FullName || dl["metadata"].(map[string]any)["medicationId"] != m.ID ||
			dl["timestamp"] != testStart.Add(10*time.Minute).Format(time.RFC3339) {
			t.Errorf("dose item = %v", dl)
		}
		if ap["category"] != "LAB_WORK" || ap["status"] != "SCHEDULED" || ap["actorName"] != w.admin.FullName ||
			ap["metadata"].(map[string]any)["startTime"] != testStart.Add(48*time.Hour).Format(time.RFC3339) {
			t.Errorf("appointment item = %v", ap)
		}

		// Pages of two walk the same order; the total is the whole feed's.
		var paged []string
		for _, q := range []string{"?limit=2", "?limit=2&offset=2", "?limit=2&offset=4"} {
			p := w.as(w.caregiver, "GET", feed+q, nil).expect(200).Map()
			if p["total"] != 4.0 {
				t.Fatalf("%s total = %v", q, p["total"])
			}
			for _, it := range p["activities"].([]any) {
				a := it.(map[string]any)
				paged = append(paged, a["type"].(string)+":"+a["id"].(string))
			}
		}
		if !slices.Equal(paged, want) {
			t.Fatalf("paged = %v, want %v", paged, want)
		}

		for q, field := range map[string]string{"?limit=0": "limit", "?limit=101": "limit", "?limit=x": "limit", "?offset=-3": "offset"} {
			m := w.as(w.viewer, "GET", feed+q, nil).errorEnvelope(400)
			if _, named := m["errors"].(map[string]any)[field]; !named {
				t.Errorf("%s: errors %v do not name %s", q, m["errors"], field)
			}
		}
		w.as(w.viewer, "GET", "/families/not-a-uuid/activity", nil).errorEnvelope(400)
		w.as(w.viewer, "GET", "/families/"+fam.ID+"/activity", nil).errorEnvelope(403)
	})
}

func (w *timelineWorld) activityPath() string { return "/families/" + w.FamilyID + "/activity" }
