package realtime

import (
	"slices"
	"testing"

	"github.com/carecircle/carecircle/internal/events"
)

// Every realtime event of the contract is sent for some domain event of the
// catalog (or, for the member's own messages, alongside one), and nothing
// else is.
func TestEveryContractEventIsMapped(t *testing.T) {
	t.Parallel()
	sent := map[string]bool{}
	for _, spec := range events.Catalog() {
		r := spec.Realtime
		if r.Name == "" {
			continue
		}
		if !slices.Contains(contractNames(), r.Name) {
			t.Errorf("%s maps to %q, which the contract does not name", spec.Type, r.Name)
		}
		sent[r.Name] = true
		switch r.To {
		case events.ToRemovedMember:
			sent[youWereRemoved] = true
		case events.ToRoleChangedMember:
			sent[yourRoleChanged] = true
		}
	}
	for _, name := range contractNames() {
		if !sent[name] {
			t.Errorf("no domain event is sent as %s", name)
		}
	}
	for _, a := range []string{"check_in", "check_out", "cancelled"} {
		found := false
		for _, spec := range events.Catalog() {
			found = found || (spec.Realtime.Name == "shift_update" && spec.Realtime.Action == a)
		}
		if !found {
			t.Errorf("no shift_update with action %s", a)
		}
	}
}

func TestParseChannel(t *testing.T) {
	t.Parallel()
	id := "0195f0a4-8c1e-7b3a-9a55-2b6f1c0d9e11"
	for ch, want := range map[string]kind{
		"family:" + id: kindFamily, "care-recipient:" + id: kindCareRecipient, "user:" + id: kindUser,
		"admin:monitoring": kindAdmin, "family:" + id + "x": "", "family:": "", "chat:" + id: "", "family": "",
	} {
		if k, _, _ := parseChannel(ch); k != want {
			t.Errorf("parseChannel(%q) = %q, want %q", ch, k, want)
		}
	}
}
