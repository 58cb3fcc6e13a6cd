package api

import (
	"context"
	"testing"
	"time"

	"github.com/carecircle/carecircle/internal/care"
	"github.com/carecircle/carecircle/internal/store"
)

// matrixAppointments stores a day-after-tomorrow appointment (or, with
// occurrences > 1, a daily series) for the fixture's care recipient, its
// transport optionally assigned to the CAREGIVER.
func matrixAppointments(f *fixture, occurrences int, driver bool) []care.Appointment {
	f.t.Helper()
	start := testStart.Add(48 * time.Hour)
	n := store.NewAppointments{
		Appointment: care.Appointment{CareRecipientID: f.CareRecipientID, Title: "Check-up", Type: care.AppointmentDoctorVisit,
			StartTime: start, EndTime: start.Add(time.Hour), ReminderMinutes: care.DefaultReminderMinutes()},
		CreatedByID: f.admin.ID,
	}
	if occurrences > 1 {
		rule, err := care.ParseRecurrence("FREQ=DAILY", start, time.UTC)
		if err != nil {
			f.t.Fatal(err)
		}
		text := rule.String()
		n.RecurrenceRule = &text
		for _, o := range rule.First(occurrences) {
			n.Occurrences = append(n.Occurrences, o.Start)
		}
	}
	if driver {
		n.TransportToID = f.caregiver.ID
	}
	out, err := f.h.store.CreateAppointments(context.Background(), n)
	if err != nil {
		f.t.Fatal(err)
	}
	return out
}

// appointmentsMatrix covers every appointment route, the item routes both at
// /appointments/{id} and nested under the care recipient.
func appointmentsMatrix() []matrixCase {
	start := testStart.Add(72 * time.Hour)
	body := apptBody(start)
	series := apptBody(start, "recurrence", "weekly")
	const base = "/care-recipients/%s/appointments"
	items := []struct {
		name string
		path func(f *fixture, a care.Appointment) string
	}{
		{"", func(_ *fixture, a care.Appointment) string { return "/appointments/" + a.ID }},
		{"nested ", func(f *fixture, a care.Appointment) string { return apptsPath(f.CareRecipientID) + "/" + a.ID }},
	}
	fixed := func(v any) func(*fixture) any { return func(*fixture) any { return v } }
	// on builds a request on a fresh appointment of the fixture.
	on := func(item func(*fixture, care.Appointment) string, driver bool, suffix string, body func(*fixture) any) func(f *fixture) (string, any) {
		return func(f *fixture) (string, any) {
			return item(f, matrixAppointments(f, 1, driver)[0]) + suffix, body(f)
		}
	}
	onSeries := func(suffix string, body any) func(f *fixture) (string, any) {
		return func(f *fixture) (string, any) {
			return "/appointments/series/" + *matrixAppointments(f, 3, false)[0].RecurringSeriesID + suffix, body
		}
	}
	driver := func(f *fixture) any { return map[string]any{"assignedToId": f.viewer.ID} }
	// Only the assigned driver (here the CAREGIVER) confirms the transport.
	assignee := statuses{401, 403, 403, 200, 403}
	cases := []matrixCase{
		{"create appointment", "POST", withBody(body, base, careRecipientID), nonViewer(201)},
		{"create series", "POST", withBody(series, base+"/recurring?maxOccurrences=4", careRecipientID), nonViewer(201)},
		{"list appointments", "GET", path(base+"?startDate=2026-03-01&endDate=2026-03-31&status=SCHEDULED", careRecipientID), member(200)},
		{"upcoming appointments", "GET", path(base+"/upcoming", careRecipientID), member(200)},
		{"appointment day", "GET", path(base+"/day?date=2026-03-04", careRecipientID), member(200)},
		{"list series", "GET", path(base+"/recurring/series", careRecipientID), member(200)},
		{"update series", "PATCH", onSeries("?fromDate=2026-03-01", map[string]any{"title": "Physio"}), nonViewer(200)},
		{"cancel series", "PATCH", onSeries("/cancel?fromDate=2026-03-01", nil), nonViewer(200)},
	}
	for _, it := range items {
		cases = append(cases,
			matrixCase{it.name + "get appointment", "GET", on(it.path, false, "", fixed(nil)), member(200)},
			matrixCase{it.name + "patch appointment", "PATCH", on(it.path, false, "", fixed(map[string]any{"status": "CONFIRMED"})), nonViewer(200)},
			matrixCase{it.name + "delete appointment", "DELETE", on(it.path, false, "", fixed(nil)), nonViewer(200)},
			matrixCase{it.name + "cancel appointment", "PATCH", on(it.path, false, "/cancel", fixed(nil)), nonViewer(200)},
			matrixCase{it.name + "occurrences", "GET", on(it.path, false, "/occurrences?startDate=2026-03-01&endDate=2026-03-31", fixed(nil)), member(200)},
			matrixCase{it.name + "assign transport", "POST", on(it.path, false, "/transport", driver), nonViewer(201)},
			matrixCase{it.name + "confirm transport", "POST", on(it.path, true, "/transport/confirm", fixed(nil)), assignee},
		)
	}
	return cases
}

func TestPermissionMatrixAppointments(t *testing.T) {
	t.Parallel()
	runMatrix(t, appointmentsMatrix())
}
