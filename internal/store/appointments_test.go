package store_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/carecircle/carecircle/internal/care"
	"github.com/carecircle/carecircle/internal/clock"
	"github.com/carecircle/carecircle/internal/store"
	"github.com/carecircle/carecircle/internal/store/storetest"
)

// apptWorld is a family (ADMIN, CAREGIVER) with a care recipient in Tokyo
// and their doctor, plus an outsider and a second care recipient's doctor.
type apptWorld struct {
	s                       *store.Store
	admin, carer, outsider  *care.User
	cr, other               *care.CareRecipient
	doctor, strangersDoctor *care.Doctor
}

func newApptWorld(t *testing.T, open openFunc) *apptWorld {
	t.Helper()
	ctx := context.Background()
	w := &apptWorld{s: open(t, clock.NewFake(t0))}
	active := func(email string) *care.User {
		u, err := w.s.ActivateUser(ctx, newUser(t, w.s, email).ID)
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	w.admin, w.carer, w.outsider = active("ann@example.com"), active("cg@example.com"), active("out@example.com")
	fam := newFamily(t, w.s, "Lees", w.admin)
	join(t, w.s, fam, w.admin, w.carer, care.RoleCaregiver)
	otherFam := newFamily(t, w.s, "Others", w.outsider)
	var err error
	if w.cr, err = w.s.CreateCareRecipient(ctx, care.CareRecipient{FamilyID: fam.ID, FullName: "Gran", Timezone: "Asia/Tokyo"}); err != nil {
		t.Fatal(err)
	}
	if w.other, err = w.s.CreateCareRecipient(ctx, care.CareRecipient{FamilyID: otherFam.ID, FullName: "Stranger", Timezone: "UTC"}); err != nil {
		t.Fatal(err)
	}
	if w.doctor, err = w.s.CreateDoctor(ctx, care.Doctor{CareRecipientID: w.cr.ID, Name: "Dr. Sato"}); err != nil {
		t.Fatal(err)
	}
	if w.strangersDoctor, err = w.s.CreateDoctor(ctx, care.Doctor{CareRecipientID: w.other.ID, Name: "Dr. Else"}); err != nil {
		t.Fatal(err)
	}
	return w
}

// at is 2026-03-10 plus days, at hh:00 UTC.
func at(days, hh int) time.Time { return time.Date(2026, 3, 10+days, hh, 0, 0, 0, time.UTC) }

func (w *apptWorld) appt(start time.Time) care.Appointment {
	return care.Appointment{CareRecipientID: w.cr.ID, Title: "Check-up", Type: care.AppointmentDoctorVisit,
		StartTime: start, EndTime: start.Add(time.Hour), ReminderMinutes: []int{60, 1440}}
}

func (w *apptWorld) create(t *testing.T, n store.NewAppointments) []care.Appointment {
	t.Helper()
	out, err := w.s.CreateAppointments(context.Background(), n)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func (w *apptWorld) count(t *testing.T) int {
	t.Helper()
	all, err := w.s.Appointments(context.Background(), w.cr.ID, store.AppointmentFilter{})
	if err != nil {
		t.Fatal(err)
	}
	return len(all)
}

func apptIDs(as []care.Appointment) []string {
	out := []string{}
	for _, a := range as {
		out = append(out, a.ID)
	}
	return out
}

func TestAppointmentCreateAndRead(t *testing.T) {
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, open openFunc) {
		w := newApptWorld(t, open)
		ctx := context.Background()
		tmpl := w.appt(at(0, 1))
		tmpl.DoctorID = &w.doctor.ID
		loc := `Clinic "A"; DROP TABLE appointments; --`
		tmpl.Location = &loc
		one := w.create(t, store.NewAppointments{Appointment: tmpl, TransportToID: w.carer.ID, CreatedByID: w.admin.ID})
		if len(one) != 1 {
			t.Fatalf("created %d", len(one))
		}
		a := one[0]
		if a.Status != care.AppointmentScheduled || a.IsRecurring || a.RecurringSeriesID != nil || a.RecurringIndex != nil ||
			!a.StartTime.Equal(at(0, 1)) || !a.EndTime.Equal(at(0, 2)) || *a.Location != loc ||
			!slices.Equal(a.ReminderMinutes, []int{60, 1440}) || *a.CreatedByID != w.admin.ID {
			t.Errorf("appointment = %+v", a)
		}
		if a.Doctor == nil || a.Doctor.Name != "Dr. Sato" {
			t.Errorf("doctor = %+v", a.Doctor)
		}
		tr := a.TransportAssignment
		if tr == nil || tr.AssignedToID != w.carer.ID || tr.Confirmed || tr.AssignedTo == nil || tr.AssignedTo.FullName == "" {
			t.Errorf("transport = %+v", tr)
		}
		got, err := w.s.Appointment(ctx, a.ID)
		if err != nil || got.ID != a.ID || got.TransportAssignment == nil {
			t.Errorf("Appointment = %+v, %v", got, err)
		}
		if _, err := w.s.Appointment(ctx, "0190f000-0000-7000-8000-000000000000"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("missing appointment: %v", err)
		}

		// Refusals write nothing.
		bad := w.appt(at(1, 1))
		bad.DoctorID = &w.strangersDoctor.ID
		if _, err := w.s.CreateAppointments(ctx, store.NewAppointments{Appointment: bad}); !errors.Is(err, store.ErrAppointmentDoctor) {
			t.Errorf("stranger's doctor: %v", err)
		}
		missing := "0190f000-0000-7000-8000-000000000001"
		bad.DoctorID = &missing
		if _, err := w.s.CreateAppointments(ctx, store.NewAppointments{Appointment: bad}); !errors.Is(err, store.ErrAppointmentDoctor) {
			t.Errorf("missing doctor: %v", err)
		}
		if _, err := w.s.CreateAppointments(ctx, store.NewAppointments{Appointment: w.appt(at(1, 1)),
			Occurrences: []time.Time{at(1, 1), at(2, 1)}, TransportToID: w.outsider.ID}); !errors.Is(err, store.ErrTransportAssignee) {
			t.Errorf("outsider driver: %v", err)
		}
		if n := w.count(t); n != 1 {
			t.Errorf("%d appointments after refusals, want 1", n)
		}
		gone := w.appt(at(1, 1))
		gone.CareRecipientID = missing
		if _, err := w.s.CreateAppointments(ctx, store.NewAppointments{Appointment: gone}); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("missing care recipient: %v", err)
		}
	})
}

func TestAppointmentSeriesStore(t *testing.T) {
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, open openFunc) {
		w := newApptWorld(t, open)
		ctx := context.Background()
		// 120 occurrences: more than one INSERT chunk.
		var starts []time.Time
		for i := range 120 {
			starts = append(starts, at(i, 1))
		}
		rule := "DTSTART;TZID=Asia/Tokyo:20260310T100000\nRRULE:FREQ=DAILY"
		series := w.create(t, store.NewAppointments{Appointment: w.appt(at(0, 1)), Occurrences: starts,
			RecurrenceRule: &rule, TransportToID: w.carer.ID})
		if len(series) != 120 {
			t.Fatalf("created %d", len(series))
		}
		sid := *series[0].RecurringSeriesID
		for i, a := range series {
			if !a.IsRecurring || *a.RecurringSeriesID != sid || *a.RecurringIndex != i || !a.StartTime.Equal(starts[i]) ||
				*a.RecurrenceRule != rule || a.TransportAssignment == nil || a.Duration() != time.Hour {
				t.Fatalf("occurrence %d = %+v", i, a)
			}
		}
		got, err := w.s.SeriesAppointments(ctx, sid)
		if err != nil || !slices.Equal(apptIDs(got), apptIDs(series)) {
			t.Errorf("SeriesAppointments: %d, %v", len(got), err)
		}
		if _, err := w.s.SeriesAppointments(ctx, "0190f000-0000-7000-8000-000000000000"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("missing series: %v", err)
		}
		single := w.create(t, store.NewAppointments{Appointment: w.appt(at(0, 5))})
		rec, err := w.s.RecurringAppointments(ctx, w.cr.ID)
		if err != nil || len(rec) != 120 || slices.Contains(apptIDs(rec), single[0].ID) {
			t.Errorf("RecurringAppointments: %d, %v", len(rec), err)
		}

		// Occurrence 3 is completed; from occurrence 2 on, the others move.
		if _, err := w.s.UpdateAppointment(ctx, series[3].ID, func(a *care.Appointment) error {
			a.Status = care.AppointmentCompleted
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		changed, err := w.s.UpdateSeries(ctx, sid, at(2, 0), func(a *care.Appointment) error {
			a.Title = "Physio"
			a.StartTime, a.EndTime = a.StartTime.Add(30*time.Minute), a.EndTime.Add(time.Hour)
			return nil
		})
		if err != nil || len(changed) != 117 || changed[0].ID != series[2].ID || changed[1].ID != series[4].ID {
			t.Fatalf("UpdateSeries: %d, %v", len(changed), err)
		}
		all, _ := w.s.SeriesAppointments(ctx, sid)
		for i, a := range all {
			moved := i >= 2 && i != 3
			if (a.Title == "Physio") != moved || a.StartTime.Equal(starts[i]) == moved {
				t.Errorf("occurrence %d after series update: %s at %v", i, a.Title, a.StartTime)
			}
		}
		// A doctor of someone else is refused for the whole series.
		if _, err := w.s.UpdateSeries(ctx, sid, at(2, 0), func(a *care.Appointment) error {
			a.DoctorID = &w.strangersDoctor.ID
			return nil
		}); !errors.Is(err, store.ErrAppointmentDoctor) {
			t.Errorf("series stranger doctor: %v", err)
		}

		n, err := w.s.CancelSeries(ctx, sid, at(100, 0))
		if err != nil || n != 20 {
			t.Errorf("CancelSeries = %d, %v; want 20", n, err)
		}
		if n, _ := w.s.CancelSeries(ctx, sid, at(100, 0)); n != 0 {
			t.Errorf("second CancelSeries = %d", n)
		}
		cancelled, _ := w.s.Appointments(ctx, w.cr.ID, store.AppointmentFilter{Statuses: []care.AppointmentStatus{care.AppointmentCancelled}})
		if len(cancelled) != 20 || !cancelled[0].StartTime.Equal(at(100, 1).Add(30*time.Minute)) {
			t.Errorf("cancelled = %d", len(cancelled))
		}

		if err := w.s.DeleteAppointment(ctx, series[0].ID); err != nil {
			t.Fatal(err)
		}
		if err := w.s.DeleteAppointment(ctx, series[0].ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("second delete: %v", err)
		}
	})
}

func TestAppointmentFiltersAndTransport(t *testing.T) {
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, open openFunc) {
		w := newApptWorld(t, open)
		ctx := context.Background()
		a := w.create(t, store.NewAppointments{Appointment: w.appt(at(0, 1))})[0] // 01:00-02:00
		b := w.create(t, store.NewAppointments{Appointment: w.appt(at(0, 3))})[0] // 03:00-04:00
		c := w.create(t, store.NewAppointments{Appointment: w.appt(at(1, 1))})[0]
		if _, err := w.s.UpdateAppointment(ctx, b.ID, func(x *care.Appointment) error { return x.SetStatus(care.AppointmentCancelled) }); err != nil {
			t.Fatal(err)
		}
		from, to, endAfter := at(0, 1), at(1, 0), at(0, 1).Add(30*time.Minute)
		for name, tc := range map[string]struct {
			f    store.AppointmentFilter
			want []string
		}{
			"all":          {store.AppointmentFilter{}, []string{a.ID, b.ID, c.ID}},
			"start range":  {store.AppointmentFilter{StartFrom: &from, StartBefore: &to}, []string{a.ID, b.ID}},
			"ends after":   {store.AppointmentFilter{EndAfter: &endAfter}, []string{a.ID, b.ID, c.ID}},
			"start before": {store.AppointmentFilter{StartBefore: &from}, []string{}},
			"statuses": {store.AppointmentFilter{Statuses: []care.AppointmentStatus{care.AppointmentScheduled, care.AppointmentConfirmed}},
				[]string{a.ID, c.ID}},
		} {
			got, err := w.s.Appointments(ctx, w.cr.ID, tc.f)
			if err != nil || !slices.Equal(apptIDs(got), tc.want) {
				t.Errorf("%s: %v, %v; want %v", name, apptIDs(got), err, tc.want)
			}
		}
		// An edit error aborts the update.
		if _, err := w.s.UpdateAppointment(ctx, b.ID, func(x *care.Appointment) error { return x.SetStatus(care.AppointmentConfirmed) }); !errors.Is(err, care.ErrAppointmentTransition) {
			t.Errorf("cancelled -> confirmed: %v", err)
		}
		if _, err := w.s.UpdateAppointment(ctx, a.ID, func(x *care.Appointment) error {
			x.DoctorID = &w.strangersDoctor.ID
			return nil
		}); !errors.Is(err, store.ErrAppointmentDoctor) {
			t.Errorf("stranger's doctor: %v", err)
		}

		// Transport: assign, confirm, replace (which needs a new confirmation).
		if _, err := w.s.ConfirmTransport(ctx, a.ID, w.carer.ID); !errors.Is(err, store.ErrNoTransport) || !errors.Is(err, store.ErrNotFound) {
			t.Errorf("confirm without assignment: %v", err)
		}
		if _, err := w.s.AssignTransport(ctx, a.ID, w.outsider.ID, nil); !errors.Is(err, store.ErrTransportAssignee) {
			t.Errorf("outsider: %v", err)
		}
		notes := "Take the wheelchair"
		got, err := w.s.AssignTransport(ctx, a.ID, w.carer.ID, &notes)
		if err != nil || got.TransportAssignment == nil || got.TransportAssignment.AssignedToID != w.carer.ID || *got.TransportAssignment.Notes != notes {
			t.Fatalf("assign: %+v, %v", got, err)
		}
		if _, err := w.s.ConfirmTransport(ctx, a.ID, w.admin.ID); !errors.Is(err, store.ErrTransportNotAssignee) {
			t.Errorf("confirm by another: %v", err)
		}
		got, err = w.s.ConfirmTransport(ctx, a.ID, w.carer.ID)
		if err != nil || !got.TransportAssignment.Confirmed {
			t.Fatalf("confirm: %+v, %v", got, err)
		}
		got, err = w.s.AssignTransport(ctx, a.ID, w.admin.ID, nil)
		if err != nil || got.TransportAssignment.AssignedToID != w.admin.ID || got.TransportAssignment.Confirmed || got.TransportAssignment.Notes != nil {
			t.Fatalf("reassign: %+v, %v", got.TransportAssignment, err)
		}
		if _, err := w.s.AssignTransport(ctx, "0190f000-0000-7000-8000-000000000000", w.admin.ID, nil); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("assign to missing appointment: %v", err)
		}
	})
}

func TestAppointmentsStartingBetween(t *testing.T) {
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, open openFunc) {
		w := newApptWorld(t, open)
		ctx := context.Background()
		mk := func(start time.Time, minutes []int) care.Appointment {
			tmpl := w.appt(start)
			tmpl.ReminderMinutes = minutes
			return w.create(t, store.NewAppointments{Appointment: tmpl})[0]
		}
		before := mk(at(0, 0).Add(-time.Second), []int{60})
		first := mk(at(0, 0), []int{15, 60})
		confirmed := mk(at(0, 5), []int{})
		cancelled := mk(at(0, 6), []int{60})
		done := mk(at(0, 7), []int{60})
		edge := mk(at(1, 0), []int{60})
		set := func(id string, st ...care.AppointmentStatus) {
			if _, err := w.s.UpdateAppointment(ctx, id, func(a *care.Appointment) error {
				for _, s := range st {
					if err := a.SetStatus(s); err != nil {
						return err
					}
				}
				return nil
			}); err != nil {
				t.Fatal(err)
			}
		}
		set(confirmed.ID, care.AppointmentConfirmed)
		set(cancelled.ID, care.AppointmentCancelled)
		set(done.ID, care.AppointmentConfirmed, care.AppointmentCompleted)
		got, err := w.s.AppointmentsStartingBetween(ctx, at(0, 0), at(1, 0))
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 || got[0].AppointmentID != first.ID || got[1].AppointmentID != confirmed.ID {
			t.Fatalf("got %+v; want %s and %s (not %s, %s, %s, %s)", got, first.ID, confirmed.ID, before.ID, cancelled.ID, done.ID, edge.ID)
		}
		r := got[0]
		if r.CareRecipientID != w.cr.ID || r.FamilyID != w.cr.FamilyID || r.Title != "Check-up" || r.Timezone != "Asia/Tokyo" ||
			!r.StartTime.Equal(at(0, 0)) || !slices.Equal(r.ReminderMinutes, []int{15, 60}) || !r.UpdatedAt.Equal(first.UpdatedAt) {
			t.Errorf("source = %+v", r)
		}
		if got[1].ReminderMinutes == nil || len(got[1].ReminderMinutes) != 0 {
			t.Errorf("empty reminders = %#v", got[1].ReminderMinutes)
		}
	})
}

func TestDropTransport(t *testing.T) {
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, open openFunc) {
		w := newApptWorld(t, open)
		ctx := context.Background()
		assign := func(a care.Appointment, u *care.User) {
			t.Helper()
			if _, err := w.s.AssignTransport(ctx, a.ID, u.ID, nil); err != nil {
				t.Fatal(err)
			}
		}
		past := w.create(t, store.NewAppointments{Appointment: w.appt(at(0, 1))})[0]
		next := w.create(t, store.NewAppointments{Appointment: w.appt(at(1, 1))})[0]
		later := w.create(t, store.NewAppointments{Appointment: w.appt(at(2, 1))})[0]
		cancelled := w.create(t, store.NewAppointments{Appointment: w.appt(at(3, 1))})[0]
		others := w.create(t, store.NewAppointments{Appointment: w.appt(at(4, 1))})[0]
		for _, a := range []care.Appointment{past, next, later, cancelled} {
			assign(a, w.carer)
		}
		assign(others, w.admin)
		if _, err := w.s.UpdateAppointment(ctx, later.ID, func(x *care.Appointment) error { return x.SetStatus(care.AppointmentConfirmed) }); err != nil {
			t.Fatal(err)
		}
		if _, err := w.s.UpdateAppointment(ctx, cancelled.ID, func(x *care.Appointment) error { return x.SetStatus(care.AppointmentCancelled) }); err != nil {
			t.Fatal(err)
		}

		got, err := w.s.DropTransport(ctx, w.cr.FamilyID, w.carer.ID, at(0, 2))
		if err != nil || !slices.Equal(apptIDs(got), []string{next.ID, later.ID}) {
			t.Fatalf("dropped %v, %v; want the two to come", apptIDs(got), err)
		}
		for _, a := range got {
			if a.TransportAssignment != nil {
				t.Errorf("returned %s still has a driver: %+v", a.ID, a.TransportAssignment)
			}
		}
		for a, want := range map[string]string{past.ID: w.carer.ID, next.ID: "", later.ID: "", cancelled.ID: w.carer.ID, others.ID: w.admin.ID} {
			cur, err := w.s.Appointment(ctx, a)
			if err != nil {
				t.Fatal(err)
			}
			driver := ""
			if cur.TransportAssignment != nil {
				driver = cur.TransportAssignment.AssignedToID
			}
			if driver != want {
				t.Errorf("appointment at %s: driver %q, want %q", cur.StartTime, driver, want)
			}
		}
		if again, err := w.s.DropTransport(ctx, w.cr.FamilyID, w.carer.ID, at(0, 2)); err != nil || again == nil || len(again) != 0 {
			t.Fatalf("second call = %v, %v; want an empty list", again, err)
		}
	})
}
