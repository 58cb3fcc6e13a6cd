package jobs

import (
	"context"
	"testing"
	"time"

	"github.com/carecircle/carecircle/internal/care"
	"github.com/carecircle/carecircle/internal/clock"
	"github.com/carecircle/carecircle/internal/store"
	"github.com/carecircle/carecircle/internal/store/storetest"
)

func (r *rig) appointment(start time.Time, minutes ...int) *care.Appointment {
	r.t.Helper()
	as, err := r.st.CreateAppointments(context.Background(), store.NewAppointments{
		Appointment: care.Appointment{CareRecipientID: r.cr.ID, Title: "Cardiology", Type: care.AppointmentDoctorVisit,
			StartTime: start, EndTime: start.Add(time.Hour), ReminderMinutes: minutes},
		CreatedByID: r.admin.ID,
	})
	if err != nil {
		r.t.Fatal(err)
	}
	return &as[0]
}

func TestAppointmentRemindersFollowTheAppointment(t *testing.T) {
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, open func(testing.TB, clock.Clock) *store.Store) {
		start := mustTime("2026-01-15T08:00:00Z")
		r := newRig(t, open, start, "Asia/Tokyo", "23:59")
		ctx := context.Background()
		r.appointment(mustTime("2026-01-15T10:00:00Z"), 60, 15)
		cancelled := r.appointment(mustTime("2026-01-15T10:30:00Z"), 60)
		moved := r.appointment(mustTime("2026-01-15T11:00:00Z"), 60)
		r.run(start, mustTime("2026-01-15T09:00:00Z")) // kept's 60-minute reminder goes out
		if _, err := r.st.UpdateAppointment(ctx, cancelled.ID, func(a *care.Appointment) error {
			a.Status = care.AppointmentCancelled
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if _, err := r.st.UpdateAppointment(ctx, moved.ID, func(a *care.Appointment) error {
			a.StartTime, a.EndTime = mustTime("2026-01-15T12:00:00Z"), mustTime("2026-01-15T13:00:00Z")
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		r.run(mustTime("2026-01-15T09:01:00Z"), mustTime("2026-01-15T11:30:00Z"))
		got := r.reminders(r.others[1], care.NotifyAppointmentReminder) // the VIEWER is told too
		expectAt(t, "viewer", got, "2026-01-15T09:00:00Z", "2026-01-15T09:45:00Z", "2026-01-15T11:00:00Z")
		if got[2].Body == "" || got[0].Title != "Appointment reminder: Cardiology" {
			t.Fatalf("reminder = %+v", got[0])
		}
	})
}

func TestShiftRemindersGoToTheCaregiverOnly(t *testing.T) {
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, open func(testing.TB, clock.Clock) *store.Store) {
		start := mustTime("2026-01-15T06:00:00Z")
		r := newRig(t, open, start, "Europe/Berlin", "23:59")
		ctx := context.Background()
		carer := r.others[0]
		newShift := func(at time.Time) *care.Shift {
			sh, err := r.st.CreateShift(ctx, store.NewShift{CareRecipientID: r.cr.ID, CaregiverID: carer.ID,
				StartTime: at, EndTime: at.Add(4 * time.Hour), CreatedByID: r.admin.ID})
			if err != nil {
				t.Fatal(err)
			}
			return sh
		}
		newShift(mustTime("2026-01-15T08:00:00Z"))
		cancelled := newShift(mustTime("2026-01-15T13:00:00Z"))
		r.run(start, mustTime("2026-01-15T11:00:00Z"))
		if _, err := r.st.UpdateShift(ctx, cancelled.ID, func(s *care.Shift) error {
			s.Status = care.ShiftCancelled
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		r.run(mustTime("2026-01-15T11:01:00Z"), mustTime("2026-01-15T13:00:00Z"))
		expectAt(t, "caregiver", r.reminders(carer, care.NotifyShiftReminder), "2026-01-15T07:00:00Z", "2026-01-15T07:45:00Z")
		if got := r.reminders(r.admin, care.NotifyShiftReminder); len(got) != 0 {
			t.Fatalf("the admin got shift reminders: %v", got)
		}
	})
}
