// Package demo fills a CareCircle database with a demo family and a week of
// its life (doses given and skipped, appointments, shifts, journal entries
// with vitals), so that someone trying CareCircle sees a living app. It
// writes through the store, as the API would, and never twice: a second
// run finds the demo users and refuses.
package demo

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/carecircle/carecircle/internal/auth"
	"github.com/carecircle/carecircle/internal/care"
	"github.com/carecircle/carecircle/internal/store"
)

// Password is the demo users' password, printed for the newcomer.
const Password = "Demo-Family-2026"

// ErrAlreadySeeded says the demo family exists already.
var ErrAlreadySeeded = errors.New("demo: the demo family exists already")

// User is one demo member.
type User struct {
	Name, Email string
	Role        care.Role
}

// Result is what Seed created.
type Result struct {
	FamilyID, FamilyName      string
	CareRecipientID, CareName string
	Users                     []User
	Doses, Appointments       int
	Shifts, Entries           int
}

// Users are the demo family's members; the first is its admin.
var Users = []User{
	{Name: "Maria Garcia", Email: "maria@demo.carecircle.example", Role: care.RoleAdmin},
	{Name: "James Garcia", Email: "james@demo.carecircle.example", Role: care.RoleCaregiver},
	{Name: "Lena Park", Email: "lena@demo.carecircle.example", Role: care.RoleViewer},
}

// zone is the care recipient's; the demo users live there too.
const zone = "America/New_York"

// Seed creates the demo family with the week before now and the week ahead.
func Seed(ctx context.Context, st *store.Store, now time.Time) (*Result, error) {
	if _, err := st.UserByEmail(ctx, Users[0].Email); err == nil {
		return nil, ErrAlreadySeeded
	} else if !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	loc, err := time.LoadLocation(zone)
	if err != nil {
		return nil, err
	}
	hash, err := auth.HashPassword(Password)
	if err != nil {
		return nil, err
	}
	s := &seeder{ctx: ctx, st: st, now: now, loc: loc, res: &Result{Users: Users}}
	ids := make([]string, len(Users))
	for i, u := range Users {
		created, err := st.CreateUser(ctx, store.NewUser{Email: u.Email, PasswordHash: hash, FullName: u.Name,
			Phone: ptr(fmt.Sprintf("+1212555%04d", 100+i)), Timezone: zone, Status: care.UserActive, SystemRole: care.SystemUser})
		if err != nil {
			return nil, fmt.Errorf("demo: user %s: %w", u.Email, err)
		}
		if _, err := st.CompleteOnboarding(ctx, created.ID); err != nil {
			return nil, err
		}
		ids[i] = created.ID
	}
	s.admin, s.caregiver = ids[0], ids[1]
	if err := s.family(ids); err != nil {
		return nil, err
	}
	for _, step := range []func() error{s.people, s.medications, s.appointments, s.shifts, s.journal} {
		if err := step(); err != nil {
			return nil, err
		}
	}
	return s.res, nil
}

type seeder struct {
	ctx              context.Context
	st               *store.Store
	now              time.Time
	loc              *time.Location
	res              *Result
	admin, caregiver string
	crID             string
}

// at is the instant of a wall time days from today in the care recipient's zone.
func (s *seeder) at(days, hour, minute int) time.Time {
	y, m, d := s.now.In(s.loc).Date()
	return time.Date(y, m, d+days, hour, minute, 0, 0, s.loc)
}

func (s *seeder) family(ids []string) error {
	fam, _, err := s.st.CreateFamily(s.ctx, "The Garcias", s.admin, ptr("Maria"))
	if err != nil {
		return fmt.Errorf("demo: family: %w", err)
	}
	s.res.FamilyID, s.res.FamilyName = fam.ID, fam.Name
	for i, u := range Users[1:] {
		token := fmt.Sprintf("demo-invitation-%d-%d", i, s.now.UnixNano())
		if _, err := s.st.CreateInvitation(s.ctx, store.NewInvitation{FamilyID: fam.ID, Email: u.Email, Role: u.Role,
			InvitedByID: s.admin, TokenHash: auth.HashToken(token), TTL: 7 * 24 * time.Hour}); err != nil {
			return fmt.Errorf("demo: invite %s: %w", u.Email, err)
		}
		if _, err := s.st.AcceptInvitation(s.ctx, auth.HashToken(token), ids[i+1], u.Email); err != nil {
			return fmt.Errorf("demo: join %s: %w", u.Email, err)
		}
	}
	cr, err := s.st.CreateCareRecipient(s.ctx, care.CareRecipient{
		FamilyID: fam.ID, FullName: "Rosa Garcia", PreferredName: ptr("Abuela Rosa"), DateOfBirth: ptr("1941-03-12"),
		BloodType: ptr("O+"), Allergies: []string{"Penicillin", "Shellfish"}, Conditions: []string{"Type 2 diabetes", "Hypertension"},
		PrimaryHospital: ptr("Mount Sinai Hospital"), HospitalAddress: ptr("1468 Madison Ave, New York, NY"),
		InsuranceProvider: ptr("Medicare"), InsurancePolicyNo: ptr("1EG4-TE5-MK72"), Timezone: zone,
	})
	if err != nil {
		return fmt.Errorf("demo: care recipient: %w", err)
	}
	s.crID, s.res.CareRecipientID, s.res.CareName = cr.ID, cr.ID, cr.FullName
	return nil
}

func (s *seeder) people() error {
	if _, err := s.st.CreateDoctor(s.ctx, care.Doctor{CareRecipientID: s.crID, Name: "Dr. Amara Okafor", Specialty: ptr("Cardiology"),
		Phone: ptr("+12125550142")}); err != nil {
		return fmt.Errorf("demo: doctor: %w", err)
	}
	if _, err := s.st.CreateDoctor(s.ctx, care.Doctor{CareRecipientID: s.crID, Name: "Dr. Peter Lindqvist", Specialty: ptr("General practice"),
		Phone: ptr("+12125550199")}); err != nil {
		return fmt.Errorf("demo: doctor: %w", err)
	}
	if _, err := s.st.CreateEmergencyContact(s.ctx, care.EmergencyContact{CareRecipientID: s.crID, Name: "Maria Garcia",
		Relationship: "Daughter", Phone: "+12125550100", IsPrimary: true}); err != nil {
		return fmt.Errorf("demo: emergency contact: %w", err)
	}
	return nil
}

// medications adds three medications and logs the week's doses: all given
// but one skipped, and today's up to the last hour (the latest one left
// for whoever opens the dashboard).
func (s *seeder) medications() error {
	type med struct {
		name, dosage, instructions string
		freq                       care.MedicationFrequency
		times                      [][2]int
		supply                     int
	}
	meds := []med{
		{"Metformin", "500 mg", "With breakfast and dinner", care.FrequencyTwiceDaily, [][2]int{{8, 0}, {20, 0}}, 54},
		{"Lisinopril", "10 mg", "In the morning", care.FrequencyDaily, [][2]int{{9, 0}}, 23},
		{"Atorvastatin", "20 mg", "At bedtime", care.FrequencyDaily, [][2]int{{21, 30}}, 6},
	}
	for mi, m := range meds {
		var times []string
		for _, t := range m.times {
			times = append(times, fmt.Sprintf("%02d:%02d", t[0], t[1]))
		}
		created, err := s.st.CreateMedication(s.ctx, care.Medication{CareRecipientID: s.crID, Name: m.name, Dosage: m.dosage,
			Form: care.FormTablet, Frequency: m.freq, ScheduledTimes: times, Instructions: ptr(m.instructions),
			CurrentSupply: ptr(m.supply), RefillAt: ptr(7), IsActive: true, StartDate: ptr(s.at(-30, 0, 0).Format("2006-01-02"))})
		if err != nil {
			return fmt.Errorf("demo: medication %s: %w", m.name, err)
		}
		for day := -7; day <= 0; day++ {
			for ti, t := range m.times {
				when := s.at(day, t[0], t[1])
				if !when.Before(s.now.Add(-time.Hour)) {
					continue
				}
				e := care.DoseEntry{Status: care.DoseGiven, ScheduledTime: when, LoggedByID: s.admin}
				if (day+ti)%2 == 0 {
					e.LoggedByID = s.caregiver
				}
				if day == -3 && mi == 2 {
					e.Status, e.SkipReason = care.DoseSkipped, ptr("She was asleep; the doctor said to skip rather than wake her")
				}
				if _, _, err := s.st.LogDose(s.ctx, created.ID, e); err != nil {
					return fmt.Errorf("demo: dose of %s: %w", m.name, err)
				}
				s.res.Doses++
			}
		}
	}
	return nil
}

func (s *seeder) appointments() error {
	type appt struct {
		title            string
		typ              care.AppointmentType
		days, hour, mins int
		length           time.Duration
		where            string
	}
	for _, a := range []appt{
		{"Blood work", care.AppointmentLabWork, -4, 8, 30, 30 * time.Minute, "Quest Diagnostics, 2nd floor"},
		{"Cardiology check-up", care.AppointmentSpecialist, 1, 10, 30, time.Hour, "Mount Sinai Heart, 1190 5th Ave"},
		{"Physical therapy", care.AppointmentPhysicalTherapy, 3, 14, 0, 45 * time.Minute, "Home visit"},
		{"Dr. Lindqvist, medication review", care.AppointmentDoctorVisit, 6, 9, 15, 30 * time.Minute, "East Side Family Practice"},
	} {
		start := s.at(a.days, a.hour, a.mins)
		status := care.AppointmentScheduled
		if start.Before(s.now) {
			status = care.AppointmentCompleted
		}
		if _, err := s.st.CreateAppointments(s.ctx, store.NewAppointments{Appointment: care.Appointment{
			CareRecipientID: s.crID, Title: a.title, Type: a.typ, StartTime: start, EndTime: start.Add(a.length),
			Location: ptr(a.where), ReminderMinutes: []int{60, 1440}, Status: status,
		}, TransportToID: s.caregiver, CreatedByID: s.admin}); err != nil {
			return fmt.Errorf("demo: appointment %s: %w", a.title, err)
		}
		s.res.Appointments++
	}
	return nil
}

// shifts puts James on duty now (checked in) and plans the next days.
func (s *seeder) shifts() error {
	start := s.now.Add(-2 * time.Hour).Truncate(time.Hour)
	plan := []struct {
		who        string
		start, end time.Time
		checkIn    bool
	}{
		{s.caregiver, start, start.Add(6 * time.Hour), true},
		{s.admin, start.Add(6 * time.Hour), start.Add(12 * time.Hour), false},
		{s.caregiver, start.Add(24 * time.Hour), start.Add(30 * time.Hour), false},
		{s.admin, start.Add(48 * time.Hour), start.Add(54 * time.Hour), false},
	}
	for _, p := range plan {
		sh, err := s.st.CreateShift(s.ctx, store.NewShift{CareRecipientID: s.crID, CaregiverID: p.who, StartTime: p.start, EndTime: p.end, CreatedByID: s.admin})
		if err != nil {
			return fmt.Errorf("demo: shift: %w", err)
		}
		if p.checkIn {
			in := p.start.Add(5 * time.Minute)
			if _, err := s.st.UpdateShift(s.ctx, sh.ID, func(x *care.Shift) error {
				x.Status, x.CheckedInAt = care.ShiftInProgress, &in
				return nil
			}); err != nil {
				return fmt.Errorf("demo: check in: %w", err)
			}
		}
		s.res.Shifts++
	}
	return nil
}

// journal writes a morning vitals reading each day and a few notes.
func (s *seeder) journal() error {
	notes := []struct {
		days, hour int
		typ        care.TimelineType
		title      string
		text       string
	}{
		{-6, 13, care.TimelineMeal, "Lunch with the neighbours", "Ate well: soup and half a sandwich."},
		{-4, 10, care.TimelineNote, "Blood work done", "Results to Dr. Okafor before Thursday."},
		{-2, 16, care.TimelineActivity, "Walk in the park", "20 minutes with the walker, no dizziness."},
		{-1, 19, care.TimelineMood, "Cheerful evening", "Video call with the grandchildren."},
	}
	for day := -7; day <= 0; day++ {
		at := s.at(day, 8, 15)
		if at.After(s.now) {
			continue
		}
		sys, dia := 128+(day*7+21)%11, 78+(day*5+15)%7
		e := care.TimelineEntry{CareRecipientID: s.crID, CreatedByID: &s.caregiver, Type: care.TimelineVitals,
			Title: "Morning vitals", Severity: ptr(care.SeverityLow), OccurredAt: at, Vitals: &care.Vitals{
				BloodPressure: ptr(fmt.Sprintf("%d/%d", sys, dia)), HeartRate: ptr(68 + (day*3+21)%9),
				OxygenLevel: ptr(float64(95 + (day+7)%4)), BloodSugar: ptr(float64(112 + (day*13+91)%30)),
			}}
		if _, err := s.st.CreateTimelineEntry(s.ctx, e); err != nil {
			return fmt.Errorf("demo: vitals: %w", err)
		}
		s.res.Entries++
	}
	for _, n := range notes {
		if _, err := s.st.CreateTimelineEntry(s.ctx, care.TimelineEntry{CareRecipientID: s.crID, CreatedByID: &s.admin, Type: n.typ,
			Title: n.title, Description: ptr(n.text), Severity: ptr(care.SeverityLow), OccurredAt: s.at(n.days, n.hour, 0)}); err != nil {
			return fmt.Errorf("demo: journal: %w", err)
		}
		s.res.Entries++
	}
	return nil
}

// Summary is what the seed command prints: who to sign in as, and how.
func (r *Result) Summary(publicURL string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Demo family %q created, caring for %s:\n", r.FamilyName, r.CareName)
	fmt.Fprintf(&b, "  %d doses logged, %d appointments, %d shifts, %d journal entries over the last week and the next.\n\n",
		r.Doses, r.Appointments, r.Shifts, r.Entries)
	fmt.Fprintf(&b, "Sign in at %s/login as any of:\n", strings.TrimRight(publicURL, "/"))
	for _, u := range r.Users {
		fmt.Fprintf(&b, "  %-32s %-10s %s\n", u.Email, u.Role, u.Name)
	}
	fmt.Fprintf(&b, "with the password: %s\n", Password)
	return b.String()
}

func ptr[T any](v T) *T { return &v }
