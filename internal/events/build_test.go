package events

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/carecircle/carecircle/internal/clock"
)

func TestBuildScopesTheEnvelopeAndItsData(t *testing.T) {
	t.Parallel()
	clk := clock.NewFake(time.Date(2026, 3, 2, 15, 0, 0, 0, time.UTC))
	type medication struct {
		ID              string `json:"id"`
		CareRecipientID string `json:"careRecipientId"`
	}
	env, id, err := Build(clk, "medication.created", "fam-1", "cr-1", "user-1", "req-1", medication{ID: "m1", CareRecipientID: "cr-1"})
	if err != nil {
		t.Fatal(err)
	}
	e, err := DecodeEvent(env)
	if err != nil {
		t.Fatal(err)
	}
	if e.ID != id || e.Type != "medication.created" || e.FamilyID != "fam-1" || e.CareRecipientID != "cr-1" ||
		e.CausedBy != "user-1" || e.CorrelationID != "req-1" || !e.Timestamp.Equal(clk.Now()) {
		t.Fatalf("envelope %+v (id %s)", e, id)
	}
	var data map[string]string
	if err := json.Unmarshal(e.Data, &data); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"id": "m1", "careRecipientId": "cr-1", "familyId": "fam-1"}
	if len(data) != len(want) {
		t.Fatalf("data %v, want %v", data, want)
	}
	for k, v := range want {
		if data[k] != v {
			t.Fatalf("data %v, want %v", data, want)
		}
	}
}

func TestBuildKeepsDataItsOwnIDs(t *testing.T) {
	t.Parallel()
	clk := clock.NewFake(time.Date(2026, 3, 2, 15, 0, 0, 0, time.UTC))
	env, _, err := Build(clk, "family.member.removed", "fam-1", "", "", "", map[string]any{"familyId": "fam-1", "userId": "u2"})
	if err != nil {
		t.Fatal(err)
	}
	e, err := DecodeEvent(env)
	if err != nil {
		t.Fatal(err)
	}
	var data map[string]any
	if err := json.Unmarshal(e.Data, &data); err != nil {
		t.Fatal(err)
	}
	if _, has := data["careRecipientId"]; has || data["userId"] != "u2" || data["familyId"] != "fam-1" {
		t.Fatalf("data %v", data)
	}
	if e.CareRecipientID != "" || e.CausedBy != "" {
		t.Fatalf("envelope %+v", e)
	}

	// Data that is not an object has no catalog struct to decode into.
	if _, _, err = Build(clk, "family.deleted", "fam-1", "", "", "", []string{"a"}); !errors.Is(err, ErrInvalidEvent) {
		t.Fatalf("data that is not an object: err %v", err)
	}
	if _, _, err := Build(clk, "Not A Type", "", "", "", "", nil); err == nil {
		t.Fatal("an invalid type was accepted")
	}
}
