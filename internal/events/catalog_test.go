package events

import (
	"encoding/json"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/carecircle/carecircle/internal/care"
	"github.com/carecircle/carecircle/internal/clock"
)

// Every event type constant of catalog.go is in the catalog, and every
// catalog entry is a valid routing key with a struct for its data.
func TestCatalogListsEveryTypeConstant(t *testing.T) {
	t.Parallel()
	var consts []string
	for _, typ := range typeConstants(t) {
		consts = append(consts, typ)
	}
	for _, c := range consts {
		if _, ok := Lookup(c); !ok {
			t.Errorf("type %q has a constant but no catalog entry", c)
		}
	}
	cat := Catalog()
	if len(cat) != len(consts) {
		t.Errorf("%d catalog entries, %d type constants", len(cat), len(consts))
	}
	for _, s := range cat {
		if !typePattern.MatchString(s.Type) {
			t.Errorf("type %q is not a routing key of dot-separated lower-case words", s.Type)
		}
		if s.Data == nil || len(s.Fields()) <= len(ScopeFields()) {
			t.Errorf("type %q: data %v has no fields", s.Type, s.Data)
		}
		if s.Realtime.To == ToUsers {
			if _, ok := DecodeFor(t, s).(Addressed); !ok {
				t.Errorf("type %q goes to users, but %v does not say which (Addressed)", s.Type, s.Data)
			}
		}
		if s.Notifies && !slices.Contains(s.Fields(), "notificationIds") {
			t.Errorf("type %q notifies, but %v has no notificationIds", s.Type, s.Data)
		}
	}
}

// DecodeFor decodes an empty object as s's data.
func DecodeFor(t *testing.T, s Spec) any {
	t.Helper()
	v, err := DecodeData(Event{Type: s.Type, Data: json.RawMessage("{}")})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestBuildRefusesWhatTheCatalogDoesNotKnow(t *testing.T) {
	t.Parallel()
	clk := clock.NewFake(time.Date(2026, 3, 2, 15, 0, 0, 0, time.UTC))
	if _, _, err := Build(clk, "medication.renamed", "fam-1", "", "", "", nil); !errors.Is(err, ErrUnknownType) {
		t.Fatalf("unknown type: err %v", err)
	}
	// A field the struct does not have would reach no consumer that
	// decodes into it.
	_, _, err := Build(clk, ShiftReminder, "fam-1", "cr-1", "", "", map[string]any{"shiftId": "s1", "assignee": "u1"})
	if !errors.Is(err, ErrInvalidEvent) {
		t.Fatalf("unknown field: err %v", err)
	}
	// Nor would a field of the wrong type decode.
	_, _, err = Build(clk, ShiftReminder, "fam-1", "cr-1", "", "", map[string]any{"shiftId": "s1", "minutesBefore": "soon"})
	if !errors.Is(err, ErrInvalidEvent) {
		t.Fatalf("mistyped field: err %v", err)
	}
	env, _, err := Build(clk, ShiftReminder, "fam-1", "cr-1", "", "", map[string]any{"shiftId": "s1", "caregiverId": "u1"})
	if err != nil {
		t.Fatal(err)
	}
	e, err := DecodeEvent(env)
	if err != nil {
		t.Fatal(err)
	}
	v, err := DecodeData(e)
	if err != nil {
		t.Fatal(err)
	}
	d, ok := v.(*ShiftReminderData)
	if !ok || d.ShiftID != "s1" || !slices.Equal(d.AddressedTo(), []string{"u1"}) {
		t.Fatalf("decoded %#v", v)
	}
}

func TestBuildTakesTheCatalogStruct(t *testing.T) {
	t.Parallel()
	clk := clock.NewFake(time.Date(2026, 3, 2, 15, 0, 0, 0, time.UTC))
	log := &care.MedicationLog{ID: "l1", MedicationID: "m1", Status: care.DoseGiven}
	env, _, err := Build(clk, MedicationLogged, "fam-1", "cr-1", "u1", "", MedicationLoggedData{MedicationLog: log, MedicationName: "Aspirin", Dosage: "81 mg"})
	if err != nil {
		t.Fatal(err)
	}
	e, _ := DecodeEvent(env)
	v, err := DecodeData(e)
	if err != nil {
		t.Fatal(err)
	}
	d := v.(*MedicationLoggedData)
	if d.MedicationName != "Aspirin" || d.MedicationLog == nil || d.ID != "l1" || d.Status != care.DoseGiven {
		t.Fatalf("decoded %+v", d)
	}
	var obj map[string]any
	_ = json.Unmarshal(e.Data, &obj)
	if obj["familyId"] != "fam-1" || obj["careRecipientId"] != "cr-1" {
		t.Fatalf("data %v lacks its scope", obj)
	}
	if _, err := DecodeData(Event{Type: "medication.renamed"}); !errors.Is(err, ErrUnknownType) {
		t.Fatalf("decode unknown type: err %v", err)
	}
}

func TestSpecFieldsIncludeEmbeddedAndNestedFields(t *testing.T) {
	t.Parallel()
	s, _ := Lookup(MedicationLogged)
	f := s.Fields()
	for _, want := range []string{"id", "status", "givenBy", "givenBy.fullName", "medicationName", "familyId", "careRecipientId"} {
		if !slices.Contains(f, want) {
			t.Errorf("fields of %s lack %q: %v", s.Type, want, f)
		}
	}
	s, _ = Lookup(ShiftCheckedIn)
	if !slices.Contains(s.Fields(), "action") {
		t.Errorf("shift_update's action is not among %s's fields", s.Type)
	}
}
