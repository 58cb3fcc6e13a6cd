package store_test

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/carecircle/carecircle/internal/care"
	"github.com/carecircle/carecircle/internal/clock"
	"github.com/carecircle/carecircle/internal/store"
	"github.com/carecircle/carecircle/internal/store/storetest"
)

// medWorld is a store with a family, its admin and a care recipient.
type medWorld struct {
	s     *store.Store
	clk   *clock.Fake
	admin *care.User
	fam   *care.Family
	cr    *care.CareRecipient
}

func newMedWorld(t *testing.T, open openFunc, zone string) *medWorld {
	t.Helper()
	clk := clock.NewFake(t0)
	s := open(t, clk)
	admin := newUser(t, s, "ann@example.com")
	fam := newFamily(t, s, "Lees", admin)
	cr, err := s.CreateCareRecipient(context.Background(), care.CareRecipient{FamilyID: fam.ID, FullName: "Gran", Timezone: zone})
	if err != nil {
		t.Fatal(err)
	}
	return &medWorld{s: s, clk: clk, admin: admin, fam: fam, cr: cr}
}

func intp(n int) *int { return &n }

// medication creates a medication of the world's care recipient.
func (w *medWorld) medication(t *testing.T, m care.Medication) *care.Medication {
	t.Helper()
	m.CareRecipientID = w.cr.ID
	if m.Form == "" {
		m.Form = care.FormTablet
	}
	if m.Frequency == "" {
		m.Frequency = care.FrequencyDaily
	}
	if m.Dosage == "" {
		m.Dosage = "10 mg"
	}
	out, err := w.s.CreateMedication(context.Background(), m)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestMedications(t *testing.T) {
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, open openFunc) {
		w := newMedWorld(t, open, "Asia/Tokyo")
		ctx := context.Background()
		in := care.Medication{
			CareRecipientID: w.cr.ID, Name: sqlish, GenericName: strp("acetylsalicylic acid"), Dosage: "100 mg",
			Form: care.FormTablet, Frequency: care.FrequencyTwiceDaily, TimesPerDay: intp(2),
			ScheduledTimes: []string{"08:00", "20:00"}, Instructions: strp("with food"), PrescribedBy: strp("Dr. Lin"),
			Pharmacy: strp("Corner"), PharmacyPhone: strp("+81 3 0000 0000"), CurrentSupply: intp(30), RefillAt: intp(5),
			LastRefillDate: strp("2026-03-01"), IsActive: true, StartDate: strp("2026-03-01"), EndDate: strp("2026-06-30"),
			Notes: strp(sqlish),
		}
		m, err := w.s.CreateMedication(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		got, err := w.s.Medication(ctx, m.ID)
		if err != nil {
			t.Fatal(err)
		}
		in.ID, in.CreatedAt, in.UpdatedAt = m.ID, m.CreatedAt, m.UpdatedAt
		if !reflect.DeepEqual(*got, in) || !got.CreatedAt.Equal(w.clk.Now().Truncate(time.Microsecond)) {
			t.Fatalf("round trip:\n got %+v\nwant %+v", *got, in)
		}
		if _, err := w.s.CreateMedication(ctx, care.Medication{CareRecipientID: missingID, Name: "x", Dosage: "1",
			Form: care.FormOther, Frequency: care.FrequencyAsNeeded}); !errors.Is(err, store.ErrReference) {
			t.Fatalf("medication of a missing care recipient = %v", err)
		}
		prn := w.medication(t, care.Medication{Name: "Aspirin", Frequency: care.FrequencyAsNeeded})
		if prn.ScheduledTimes == nil || len(prn.ScheduledTimes) != 0 || prn.TimesPerDay != nil || prn.IsActive {
			t.Fatalf("minimal medication = %+v", prn) // IsActive is the caller's to set
		}

		w.clk.Advance(time.Hour)
		up, err := w.s.UpdateMedication(ctx, prn.ID, func(m *care.Medication) error {
			m.IsActive, m.Notes, m.CurrentSupply = true, strp("kept"), intp(12)
			return nil
		})
		if err != nil || !up.IsActive || *up.Notes != "kept" || *up.CurrentSupply != 12 || !up.UpdatedAt.Equal(w.clk.Now().Truncate(time.Microsecond)) {
			t.Fatalf("UpdateMedication = %+v, %v", up, err)
		}
		refuse := errors.New("refused")
		if _, err := w.s.UpdateMedication(ctx, prn.ID, func(m *care.Medication) error {
			m.Name = "changed"
			return refuse
		}); !errors.Is(err, refuse) {
			t.Fatalf("edit error = %v", err)
		}
		if got, _ := w.s.Medication(ctx, prn.ID); got.Name != "Aspirin" {
			t.Fatalf("a refused edit was written: %q", got.Name)
		}
		if _, err := w.s.UpdateMedication(ctx, missingID, func(*care.Medication) error { return nil }); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("update missing = %v", err)
		}

		w.medication(t, care.Medication{Name: "Old pills", ScheduledTimes: []string{"09:00"}})
		names := func(activeOnly bool) []string {
			t.Helper()
			ms, err := w.s.Medications(ctx, w.cr.ID, activeOnly)
			if err != nil {
				t.Fatal(err)
			}
			out := []string{}
			for _, m := range ms {
				out = append(out, m.Name)
			}
			return out
		}
		if got := names(true); !reflect.DeepEqual(got, []string{"Aspirin", sqlish}) {
			t.Fatalf("active medications = %q", got)
		}
		if got := names(false); !reflect.DeepEqual(got, []string{"Aspirin", "Old pills", sqlish}) {
			t.Fatalf("all medications = %q", got)
		}
		if ms, err := w.s.Medications(ctx, missingID, false); err != nil || ms == nil || len(ms) != 0 {
			t.Fatalf("medications of nobody = %v, %v", ms, err)
		}

		if _, _, err := w.s.LogDose(ctx, m.ID, care.DoseEntry{Status: care.DoseGiven, ScheduledTime: t0, LoggedByID: w.admin.ID}); err != nil {
			t.Fatal(err)
		}
		if err := w.s.DeleteMedication(ctx, m.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := w.s.Medication(ctx, m.ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("deleted medication = %v", err)
		}
		if _, err := w.s.MedicationLogAt(ctx, m.ID, t0); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("log of a deleted medication = %v", err)
		}
		if err := w.s.DeleteMedication(ctx, m.ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("second delete = %v", err)
		}
	})
}

func TestActiveMedicationSchedules(t *testing.T) {
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, open openFunc) {
		w := newMedWorld(t, open, "America/New_York")
		ctx := context.Background()
		other, err := w.s.CreateCareRecipient(ctx, care.CareRecipient{FamilyID: w.fam.ID, FullName: "Grandpa", Timezone: "Asia/Tokyo"})
		if err != nil {
			t.Fatal(err)
		}
		daily := w.medication(t, care.Medication{Name: "Metformin", Dosage: "500 mg", IsActive: true,
			ScheduledTimes: []string{"08:00", "20:30"}, StartDate: strp("2026-03-01")})
		w.medication(t, care.Medication{Name: "Paracetamol", IsActive: true, Frequency: care.FrequencyAsNeeded})
		w.medication(t, care.Medication{Name: "Stopped", IsActive: false, ScheduledTimes: []string{"09:00"}})
		tokyo, err := w.s.CreateMedication(ctx, care.Medication{CareRecipientID: other.ID, Name: "Weekly", Dosage: "1",
			Form: care.FormPatch, Frequency: care.FrequencyWeekly, ScheduledTimes: []string{"07:15"}, IsActive: true,
			EndDate: strp("2026-12-31")})
		if err != nil {
			t.Fatal(err)
		}
		got, err := w.s.ActiveMedicationSchedules(ctx)
		if err != nil {
			t.Fatal(err)
		}
		want := []care.MedicationSchedule{
			{MedicationID: daily.ID, CareRecipientID: w.cr.ID, FamilyID: w.fam.ID, Name: "Metformin", Dosage: "500 mg",
				Timezone: "America/New_York", Times: []care.ClockTime{{Hour: 8}, {Hour: 20, Minute: 30}}, StartDate: strp("2026-03-01")},
			{MedicationID: tokyo.ID, CareRecipientID: other.ID, FamilyID: w.fam.ID, Name: "Weekly", Dosage: "1",
				Timezone: "Asia/Tokyo", Times: []care.ClockTime{{Hour: 7, Minute: 15}}, EndDate: strp("2026-12-31")},
		}
		if daily.ID > tokyo.ID {
			want[0], want[1] = want[1], want[0]
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("schedules:\n got %+v\nwant %+v", got, want)
		}
		// The engine turns a schedule into instants in the person's zone.
		doses, err := got[0].Doses(time.Date(2026, 3, 8, 0, 0, 0, 0, time.UTC), time.Date(2026, 3, 9, 0, 0, 0, 0, time.UTC))
		if err != nil || len(doses) == 0 {
			t.Fatalf("doses = %v, %v", doses, err)
		}
	})
}
