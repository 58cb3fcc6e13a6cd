package store_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/carecircle/carecircle/internal/care"
	"github.com/carecircle/carecircle/internal/store"
	"github.com/carecircle/carecircle/internal/store/storetest"
)

// insertAlert writes an emergency alert row as the emergency routes do.
func insertAlert(t *testing.T, s *store.Store, id, careRecipientID, createdByID, title, status string, at time.Time) {
	t.Helper()
	stamp := at.UTC().Format("2006-01-02T15:04:05.000000Z")
	if _, err := s.DB().ExecContext(context.Background(), `INSERT INTO emergency_alerts (id, care_recipient_id,
		created_by_id, type, title, description, location, status, created_at, updated_at)
		VALUES ($1, $2, $3, 'FALL', $4, 'Fell in the kitchen', 'Kitchen', $5, $6, $6)`,
		id, careRecipientID, createdByID, title, status, stamp); err != nil {
		t.Fatal(err)
	}
}

func TestFamilyActivityMergesNewestFirst(t *testing.T) {
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, open openFunc) {
		w := newTimelineWorld(t, open)
		ctx := context.Background()
		m, err := w.s.CreateMedication(ctx, care.Medication{CareRecipientID: w.cr.ID, Name: "Metformin", Dosage: "500 mg",
			Form: care.FormTablet, Frequency: care.FrequencyDaily, IsActive: true, ScheduledTimes: []string{"08:00"}})
		if err != nil {
			t.Fatal(err)
		}
		dose := func(st care.DoseStatus, scheduled time.Time, reason *string) *care.MedicationLog {
			t.Helper()
			l, _, err := w.s.LogDose(ctx, m.ID, care.DoseEntry{Status: st, ScheduledTime: scheduled, SkipReason: reason,
				LoggedByID: w.admin.ID})
			if err != nil {
				t.Fatal(err)
			}
			return l
		}
		start := t0.Truncate(time.Microsecond)

		// t0: an appointment is scheduled (for two days later).
		appts, err := w.s.CreateAppointments(ctx, store.NewAppointments{Appointment: care.Appointment{
			CareRecipientID: w.other.ID, Title: "Cardiology", Type: care.AppointmentSpecialist,
			StartTime: start.Add(48 * time.Hour), EndTime: start.Add(49 * time.Hour), Location: strp("Clinic"),
		}, CreatedByID: w.admin.ID})
		if err != nil {
			t.Fatal(err)
		}
		// t0+30m: a timeline entry occurred (written now, dated then).
		hr := 88
		entry := w.entry(t, w.cr, care.TimelineSymptom, "Dizzy", start.Add(30*time.Minute), entrySeverity(care.SeverityHigh),
			entryVitals(care.Vitals{HeartRate: &hr}))
		// t0+1h: a dose given.
		w.clk.Advance(time.Hour)
		given := dose(care.DoseGiven, time.Date(2026, 3, 6, 23, 0, 0, 0, time.UTC), nil)
		// t0+2h: an alert raised.
		const alertID = "0190f000-0000-7000-8000-00000000a1e7"
		insertAlert(t, w.s, alertID, w.cr.ID, w.admin.ID, "Fall", "ACTIVE", start.Add(2*time.Hour))
		// t0+3h: a dose skipped; t0+4h: a dose left PENDING, which is no news.
		w.clk.Advance(2 * time.Hour)
		skipped := dose(care.DoseSkipped, time.Date(2026, 3, 5, 23, 0, 0, 0, time.UTC), strp("asleep"))
		w.clk.Advance(time.Hour)
		dose(care.DosePending, time.Date(2026, 3, 4, 23, 0, 0, 0, time.UTC), nil)

		// Another family's news never shows.
		carl := newUser(t, w.s, "carl@example.com")
		fam2 := newFamily(t, w.s, "Others", carl)
		cr2, err := w.s.CreateCareRecipient(ctx, care.CareRecipient{FamilyID: fam2.ID, FullName: "Stranger", Timezone: "UTC"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.s.CreateTimelineEntry(ctx, care.TimelineEntry{CareRecipientID: cr2.ID, Type: care.TimelineNote,
			Title: "not yours", OccurredAt: start.Add(5 * time.Hour)}); err != nil {
			t.Fatal(err)
		}

		page, err := w.s.FamilyActivity(ctx, w.fam.ID, 20, 0)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, a := range page.Activities {
			got = append(got, string(a.Type)+":"+a.ID)
		}
		want := []string{"medication_log:" + skipped.ID, "emergency_alert:" + alertID, "medication_log:" + given.ID,
			"timeline_entry:" + entry.ID, "appointment:" + appts[0].ID}
		if !slices.Equal(got, want) || page.Total != 5 || page.FamilyID != w.fam.ID {
			t.Fatalf("activity = %v (total %d), want %v", got, page.Total, want)
		}
		byKind := map[care.ActivityKind]care.Activity{}
		for _, a := range page.Activities {
			byKind[a.Type] = a
		}

		sk := page.Activities[0]
		if sk.Category != "MEDICATION" || sk.Title != "Metformin 500 mg" || *sk.Status != "SKIPPED" ||
			sk.CareRecipientName != "Gran" || sk.CareRecipientID != w.cr.ID || *sk.ActorName != w.admin.FullName ||
			!sk.Timestamp.Equal(start.Add(3*time.Hour)) || sk.Severity != nil ||
			*sk.Metadata["skipReason"].(*string) != "asleep" || *sk.Metadata["medicationId"].(*string) != m.ID {
			t.Fatalf("skipped dose item = %+v", sk)
		}
		gv := page.Activities[2]
		if *gv.Status != "GIVEN" || !gv.Timestamp.Equal(start.Add(time.Hour)) || gv.Metadata["givenTime"] == nil {
			t.Fatalf("given dose item = %+v", gv)
		}
		al := byKind[care.ActivityEmergencyAlert]
		if al.Category != "FALL" || al.Title != "Fall" || *al.Description != "Fell in the kitchen" ||
			*al.Status != "ACTIVE" || *al.Severity != "CRITICAL" || !al.Timestamp.Equal(start.Add(2*time.Hour)) ||
			*al.Metadata["location"].(*string) != "Kitchen" {
			t.Fatalf("alert item = %+v", al)
		}
		te := byKind[care.ActivityTimelineEntry]
		v, _ := te.Metadata["vitals"].(*care.Vitals)
		if te.Category != "SYMPTOM" || te.Title != "Dizzy" || *te.Severity != "HIGH" || te.Status != nil ||
			!te.Timestamp.Equal(start.Add(30*time.Minute)) || v == nil || *v.HeartRate != 88 {
			t.Fatalf("timeline item = %+v", te)
		}
		ap := byKind[care.ActivityAppointment]
		st, _ := ap.Metadata["startTime"].(*time.Time)
		if ap.Category != "SPECIALIST" || ap.Title != "Cardiology" || *ap.Status != "SCHEDULED" ||
			ap.CareRecipientName != "Grandpa" || !ap.Timestamp.Equal(start) || st == nil || !st.Equal(start.Add(48*time.Hour)) {
			t.Fatalf("appointment item = %+v", ap)
		}

		// Pages split the same order, and the total stays the whole feed's.
		var paged []string
		for off := 0; off < 6; off += 2 {
			p, err := w.s.FamilyActivity(ctx, w.fam.ID, 2, off)
			if err != nil || p.Total != 5 {
				t.Fatalf("page at %d = %+v, %v", off, p, err)
			}
			for _, a := range p.Activities {
				paged = append(paged, string(a.Type)+":"+a.ID)
			}
		}
		if !slices.Equal(paged, want) {
			t.Fatalf("paged = %v, want %v", paged, want)
		}

		other, err := w.s.FamilyActivity(ctx, fam2.ID, 20, 0)
		if err != nil || other.Total != 1 || len(other.Activities) != 1 || other.Activities[0].Title != "not yours" ||
			other.Activities[0].ActorName != nil {
			t.Fatalf("other family's feed = %+v, %v", other, err)
		}
		// A family with no news has an empty feed, not a missing one.
		quiet := newFamily(t, w.s, "Quiet", carl)
		empty, err := w.s.FamilyActivity(ctx, quiet.ID, 20, 0)
		if err != nil || empty.Total != 0 || empty.Activities == nil || len(empty.Activities) != 0 {
			t.Fatalf("quiet family's feed = %+v, %v", empty, err)
		}
	})
}
