package store_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/carecircle/carecircle/internal/care"
	"github.com/carecircle/carecircle/internal/clock"
	"github.com/carecircle/carecircle/internal/store"
	"github.com/carecircle/carecircle/internal/store/storetest"
)

// sqlish is text full of SQL metacharacters, which must round-trip unchanged.
const sqlish = `Robert'); DROP TABLE care_recipients; -- "quoted" \ backslash % _ $1 ?`

const missingID = "00000000-0000-0000-0000-000000000000"

func strp(s string) *string { return &s }

func TestCareRecipients(t *testing.T) {
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, open openFunc) {
		clk := clock.NewFake(t0)
		s := open(t, clk)
		ctx := context.Background()
		f := newFamily(t, s, "Lees", newUser(t, s, "ann@example.com"))
		in := care.CareRecipient{
			FamilyID: f.ID, FullName: sqlish, PreferredName: strp("Gran"), DateOfBirth: strp("1940-02-29"),
			BloodType: strp("AB-"), Allergies: []string{"penicillin", sqlish}, Notes: strp(sqlish),
			Timezone: "Asia/Tokyo",
		}
		cr, err := s.CreateCareRecipient(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		got, err := s.CareRecipient(ctx, cr.ID)
		if err != nil {
			t.Fatal(err)
		}
		in.ID, in.CreatedAt, in.UpdatedAt, in.Conditions = cr.ID, cr.CreatedAt, cr.UpdatedAt, []string{}
		if !reflect.DeepEqual(*got, in) {
			t.Fatalf("round trip:\n got %+v\nwant %+v", *got, in)
		}
		if _, err := s.CreateCareRecipient(ctx, care.CareRecipient{FamilyID: missingID, FullName: "x", Timezone: "UTC"}); !errors.Is(err, store.ErrReference) {
			t.Fatalf("care recipient of a missing family = %v", err)
		}
		if _, err := s.CreateCareRecipient(ctx, care.CareRecipient{FamilyID: f.ID, FullName: "Aunt May", Timezone: "UTC"}); err != nil {
			t.Fatal(err)
		}
		list, err := s.CareRecipients(ctx, f.ID)
		if err != nil || len(list) != 2 || list[0].FullName != "Aunt May" || list[1].ID != cr.ID {
			t.Fatalf("CareRecipients = %+v, %v", list, err)
		}

		clk.Advance(time.Hour)
		up, err := s.UpdateCareRecipient(ctx, cr.ID, func(c *care.CareRecipient) error {
			c.Timezone, c.Notes, c.Conditions = "Europe/Paris", nil, []string{"diabetes"}
			return nil
		})
		if err != nil || up.Timezone != "Europe/Paris" || up.Notes != nil || up.FullName != sqlish ||
			!reflect.DeepEqual(up.Conditions, []string{"diabetes"}) || !up.UpdatedAt.Equal(clk.Now().Truncate(time.Microsecond)) {
			t.Fatalf("UpdateCareRecipient = %+v, %v", up, err)
		}
		refuse := errors.New("refused")
		if _, err := s.UpdateCareRecipient(ctx, cr.ID, func(c *care.CareRecipient) error {
			c.FullName = "changed"
			return refuse
		}); !errors.Is(err, refuse) {
			t.Fatalf("edit error = %v", err)
		}
		if got, _ := s.CareRecipient(ctx, cr.ID); got.FullName != sqlish {
			t.Fatalf("a refused edit was written: %q", got.FullName)
		}
		if _, err := s.UpdateCareRecipient(ctx, missingID, func(*care.CareRecipient) error { return nil }); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("update missing = %v", err)
		}

		if err := s.DeleteCareRecipient(ctx, cr.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.CareRecipient(ctx, cr.ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("deleted care recipient = %v", err)
		}
		if err := s.DeleteCareRecipient(ctx, cr.ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("delete twice = %v", err)
		}
	})
}

func TestDoctors(t *testing.T) {
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, open openFunc) {
		s := open(t, clock.NewFake(t0))
		ctx := context.Background()
		f := newFamily(t, s, "Lees", newUser(t, s, "ann@example.com"))
		cr, err := s.CreateCareRecipient(ctx, care.CareRecipient{FamilyID: f.ID, FullName: "Gran", Timezone: "UTC"})
		if err != nil {
			t.Fatal(err)
		}
		d, err := s.CreateDoctor(ctx, care.Doctor{CareRecipientID: cr.ID, Name: "Dr. " + sqlish, Specialty: strp("Cardiology"),
			Phone: strp("+1 555 0100"), Email: strp("dr@example.com")})
		if err != nil || d.Name != "Dr. "+sqlish || *d.Specialty != "Cardiology" || d.Fax != nil {
			t.Fatalf("CreateDoctor = %+v, %v", d, err)
		}
		if _, err := s.CreateDoctor(ctx, care.Doctor{CareRecipientID: missingID, Name: "x"}); !errors.Is(err, store.ErrReference) {
			t.Fatalf("doctor of a missing care recipient = %v", err)
		}
		if _, err := s.CreateDoctor(ctx, care.Doctor{CareRecipientID: cr.ID, Name: "Dr. Adams"}); err != nil {
			t.Fatal(err)
		}
		list, err := s.Doctors(ctx, cr.ID)
		if err != nil || len(list) != 2 || list[0].Name != "Dr. Adams" || list[1].ID != d.ID {
			t.Fatalf("Doctors = %+v, %v", list, err)
		}
		up, err := s.UpdateDoctor(ctx, d.ID, func(d *care.Doctor) error {
			d.Specialty, d.Fax = nil, strp("+1 555 0199")
			return nil
		})
		if err != nil || up.Specialty != nil || *up.Fax != "+1 555 0199" || *up.Phone != "+1 555 0100" {
			t.Fatalf("UpdateDoctor = %+v, %v", up, err)
		}
		if got, err := s.Doctor(ctx, d.ID); err != nil || !reflect.DeepEqual(got, up) {
			t.Fatalf("Doctor = %+v, %v", got, err)
		}
		if err := s.DeleteDoctor(ctx, d.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Doctor(ctx, d.ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("deleted doctor = %v", err)
		}
		if _, err := s.UpdateDoctor(ctx, d.ID, func(*care.Doctor) error { return nil }); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("update deleted doctor = %v", err)
		}
	})
}

func TestEmergencyContactsOnePrimary(t *testing.T) {
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, open openFunc) {
		s := open(t, clock.NewFake(t0))
		ctx := context.Background()
		f := newFamily(t, s, "Lees", newUser(t, s, "ann@example.com"))
		cr, err := s.CreateCareRecipient(ctx, care.CareRecipient{FamilyID: f.ID, FullName: "Gran", Timezone: "UTC"})
		if err != nil {
			t.Fatal(err)
		}
		add := func(name string, primary bool) *care.EmergencyContact {
			t.Helper()
			c, err := s.CreateEmergencyContact(ctx, care.EmergencyContact{CareRecipientID: cr.ID, Name: name,
				Relationship: "child", Phone: "+1 555 0100", IsPrimary: primary, Notes: strp(sqlish)})
			if err != nil {
				t.Fatal(err)
			}
			return c
		}
		primaries := func() []string {
			t.Helper()
			list, err := s.EmergencyContacts(ctx, cr.ID)
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, c := range list {
				if c.IsPrimary {
					out = append(out, c.Name)
				}
			}
			return out
		}
		a := add("Amy", true)
		b := add("Ben", true)
		c := add("Cal", false)
		if got := primaries(); !reflect.DeepEqual(got, []string{"Ben"}) {
			t.Fatalf("primaries after adding Ben = %v", got)
		}
		if list, _ := s.EmergencyContacts(ctx, cr.ID); list[0].ID != b.ID || *list[0].Notes != sqlish {
			t.Fatalf("primary contact not listed first: %+v", list)
		}
		up, err := s.UpdateEmergencyContact(ctx, a.ID, func(c *care.EmergencyContact) error {
			c.IsPrimary = true
			return nil
		})
		if err != nil || !up.IsPrimary {
			t.Fatalf("make Amy primary = %+v, %v", up, err)
		}
		if got := primaries(); !reflect.DeepEqual(got, []string{"Amy"}) {
			t.Fatalf("primaries after promoting Amy = %v", got)
		}
		if _, err := s.UpdateEmergencyContact(ctx, c.ID, func(c *care.EmergencyContact) error {
			c.Phone = "+44 20 7946 0000"
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if got := primaries(); !reflect.DeepEqual(got, []string{"Amy"}) {
			t.Fatalf("editing a non-primary contact changed the primary: %v", got)
		}
		if _, err := s.CreateEmergencyContact(ctx, care.EmergencyContact{CareRecipientID: missingID, Name: "x",
			Relationship: "x", Phone: "12345", IsPrimary: true}); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("primary contact of a missing care recipient = %v", err)
		}
		if err := s.DeleteEmergencyContact(ctx, a.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.EmergencyContact(ctx, a.ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("deleted contact = %v", err)
		}
		if got := primaries(); len(got) != 0 {
			t.Fatalf("primaries after deleting Amy = %v", got)
		}

		// Concurrent primaries queue up: all are written, one stays primary.
		errs := make(chan error, 6)
		for i := 0; i < cap(errs); i++ {
			go func() {
				_, err := s.CreateEmergencyContact(ctx, care.EmergencyContact{CareRecipientID: cr.ID,
					Name: fmt.Sprintf("Racer %d", i), Relationship: "friend", Phone: "12345", IsPrimary: true})
				errs <- err
			}()
		}
		for i := 0; i < cap(errs); i++ {
			if err := <-errs; err != nil {
				t.Fatalf("concurrent primary contact: %v", err)
			}
		}
		if got := primaries(); len(got) != 1 {
			t.Fatalf("primaries after concurrent creates = %v", got)
		}
	})
}
