package store_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/carecircle/carecircle/internal/care"
	"github.com/carecircle/carecircle/internal/clock"
	"github.com/carecircle/carecircle/internal/store"
	"github.com/carecircle/carecircle/internal/store/storetest"
)

// alertWorld is a family with an ADMIN and a CAREGIVER caring for two people.
type alertWorld struct {
	s           *store.Store
	clk         *clock.Fake
	admin       *care.User
	carer       *care.User
	gran, grand *care.CareRecipient
}

func newAlertWorld(t *testing.T, open openFunc) *alertWorld {
	t.Helper()
	ctx := context.Background()
	w := &alertWorld{clk: clock.NewFake(t0)}
	w.s = open(t, w.clk)
	w.admin, w.carer = newUser(t, w.s, "ann@example.com"), newUser(t, w.s, "bo@example.com")
	f := newFamily(t, w.s, "Lees", w.admin)
	join(t, w.s, f, w.admin, w.carer, care.RoleCaregiver)
	var err error
	if w.gran, err = w.s.CreateCareRecipient(ctx, care.CareRecipient{FamilyID: f.ID, FullName: "Gran", Timezone: "Asia/Tokyo"}); err != nil {
		t.Fatal(err)
	}
	if w.grand, err = w.s.CreateCareRecipient(ctx, care.CareRecipient{FamilyID: f.ID, FullName: "Grandpa", Timezone: "Asia/Tokyo"}); err != nil {
		t.Fatal(err)
	}
	return w
}

func (w *alertWorld) raise(t *testing.T, cr *care.CareRecipient, by *care.User, title string) *care.EmergencyAlert {
	t.Helper()
	a, err := w.s.CreateEmergencyAlert(context.Background(), store.NewEmergencyAlert{CareRecipientID: cr.ID,
		CreatedByID: by.ID, Type: care.AlertFall, Title: title, Description: "Found on the floor"})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func alertIDs(as []care.EmergencyAlert) []string {
	out := []string{}
	for _, a := range as {
		out = append(out, a.ID)
	}
	return out
}

func sameIDs(got []string, want ...string) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		if got[i] != want[i] {
			return false
		}
	}
	return true
}

func TestEmergencyAlertLifecycle(t *testing.T) {
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, open openFunc) {
		w := newAlertWorld(t, open)
		ctx := context.Background()
		where := "Kitchen"
		a, err := w.s.CreateEmergencyAlert(ctx, store.NewEmergencyAlert{CareRecipientID: w.gran.ID, CreatedByID: w.carer.ID,
			Type: care.AlertMedical, Title: "Chest pain", Description: "Short of breath", Location: &where})
		if err != nil {
			t.Fatal(err)
		}
		if a.Status != care.AlertActive || a.Type != care.AlertMedical || a.Title != "Chest pain" ||
			a.Description != "Short of breath" || a.Location == nil || *a.Location != "Kitchen" ||
			a.CreatedByID == nil || *a.CreatedByID != w.carer.ID || a.CreatedBy == nil ||
			a.CreatedBy.FullName != w.carer.FullName || !a.CreatedAt.Equal(t0.Truncate(time.Microsecond)) ||
			a.AcknowledgedAt != nil || a.ResolvedAt != nil {
			t.Fatalf("created = %+v", a)
		}

		w.clk.Advance(time.Minute)
		ack, err := w.s.TransitionEmergencyAlert(ctx, a.ID, store.AlertChange{Action: care.AlertAcknowledge, ActorID: w.admin.ID})
		if err != nil {
			t.Fatal(err)
		}
		if ack.Status != care.AlertAcknowledged || ack.AcknowledgedByID == nil || *ack.AcknowledgedByID != w.admin.ID ||
			ack.AcknowledgedAt == nil || !ack.AcknowledgedAt.Equal(w.clk.Now().Truncate(time.Microsecond)) || ack.ResolvedAt != nil {
			t.Fatalf("acknowledged = %+v", ack)
		}
		// A second acknowledgement is refused and names the status.
		_, err = w.s.TransitionEmergencyAlert(ctx, a.ID, store.AlertChange{Action: care.AlertAcknowledge, ActorID: w.carer.ID})
		var refused *care.AlertTransitionError
		if !errors.As(err, &refused) || refused.From != care.AlertAcknowledged || !errors.Is(err, care.ErrAlertTransition) {
			t.Fatalf("second acknowledge: %v", err)
		}

		w.clk.Advance(time.Minute)
		notes := "Paramedics came; she is fine"
		res, err := w.s.TransitionEmergencyAlert(ctx, a.ID, store.AlertChange{Action: care.AlertResolve, ActorID: w.carer.ID, ResolutionNotes: &notes})
		if err != nil {
			t.Fatal(err)
		}
		if res.Status != care.AlertResolved || res.ResolvedByID == nil || *res.ResolvedByID != w.carer.ID ||
			res.ResolutionNotes == nil || *res.ResolutionNotes != notes || res.ResolvedAt == nil ||
			res.AcknowledgedByID == nil || *res.AcknowledgedByID != w.admin.ID {
			t.Fatalf("resolved = %+v", res)
		}
		for _, act := range []care.AlertAction{care.AlertAcknowledge, care.AlertResolve} {
			_, err := w.s.TransitionEmergencyAlert(ctx, a.ID, store.AlertChange{Action: act, ActorID: w.admin.ID})
			if !errors.As(err, &refused) || refused.From != care.AlertResolved || refused.Action != act {
				t.Fatalf("%s of a resolved alert: %v", act, err)
			}
		}
		// A refused action changes nothing.
		if got, err := w.s.EmergencyAlert(ctx, a.ID); err != nil || got.Status != care.AlertResolved ||
			*got.ResolvedByID != w.carer.ID || *got.ResolutionNotes != notes {
			t.Fatalf("after refusals = %+v, %v", got, err)
		}

		// An ACTIVE alert may be resolved directly.
		b := w.raise(t, w.gran, w.admin, "Fall")
		if got, err := w.s.TransitionEmergencyAlert(ctx, b.ID, store.AlertChange{Action: care.AlertResolve, ActorID: w.admin.ID}); err != nil ||
			got.Status != care.AlertResolved || got.ResolutionNotes != nil || got.AcknowledgedAt != nil {
			t.Fatalf("resolve active = %+v, %v", got, err)
		}

		const missing = "0190f000-0000-7000-8000-000000000000"
		if _, err := w.s.TransitionEmergencyAlert(ctx, missing, store.AlertChange{Action: care.AlertAcknowledge, ActorID: w.admin.ID}); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("transition of a missing alert: %v", err)
		}
		if _, err := w.s.EmergencyAlert(ctx, missing); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("missing alert: %v", err)
		}
		if _, err := w.s.CreateEmergencyAlert(ctx, store.NewEmergencyAlert{CareRecipientID: missing, CreatedByID: w.admin.ID,
			Type: care.AlertOther, Title: "x", Description: "y"}); !errors.Is(err, store.ErrReference) {
			t.Fatalf("alert for a missing care recipient: %v", err)
		}
	})
}

func TestEmergencyAlertListsAndHistory(t *testing.T) {
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, open openFunc) {
		w := newAlertWorld(t, open)
		ctx := context.Background()
		a1 := w.raise(t, w.gran, w.carer, "first")
		w.clk.Advance(time.Minute)
		a2 := w.raise(t, w.gran, w.carer, "second")
		w.clk.Advance(time.Minute)
		a3 := w.raise(t, w.gran, w.admin, "third")
		// Raised in the same instant as a3: the later one is newer.
		a4 := w.raise(t, w.gran, w.admin, "fourth")
		other := w.raise(t, w.grand, w.admin, "other person")
		if _, err := w.s.TransitionEmergencyAlert(ctx, a2.ID, store.AlertChange{Action: care.AlertAcknowledge, ActorID: w.admin.ID}); err != nil {
			t.Fatal(err)
		}
		if _, err := w.s.TransitionEmergencyAlert(ctx, a3.ID, store.AlertChange{Action: care.AlertResolve, ActorID: w.admin.ID}); err != nil {
			t.Fatal(err)
		}
		openAlerts, err := w.s.OpenEmergencyAlerts(ctx, w.gran.ID)
		if err != nil || !sameIDs(alertIDs(openAlerts), a4.ID, a2.ID, a1.ID) {
			t.Fatalf("open = %v, %v; want %v", alertIDs(openAlerts), err, []string{a4.ID, a2.ID, a1.ID})
		}
		all, err := w.s.EmergencyAlertHistory(ctx, w.gran.ID, 20)
		if err != nil || !sameIDs(alertIDs(all), a4.ID, a3.ID, a2.ID, a1.ID) {
			t.Fatalf("history = %v, %v", alertIDs(all), err)
		}
		two, err := w.s.EmergencyAlertHistory(ctx, w.gran.ID, 2)
		if err != nil || !sameIDs(alertIDs(two), a4.ID, a3.ID) {
			t.Fatalf("history limit 2 = %v, %v", alertIDs(two), err)
		}
		if l, err := w.s.OpenEmergencyAlerts(ctx, w.grand.ID); err != nil || !sameIDs(alertIDs(l), other.ID) {
			t.Fatalf("other care recipient = %v, %v", alertIDs(l), err)
		}
		// The creator's account going away leaves the alert, without its author.
		if _, err := w.s.DB().ExecContext(ctx, `DELETE FROM users WHERE id = $1`, w.carer.ID); err != nil {
			t.Fatal(err)
		}
		got, err := w.s.EmergencyAlert(ctx, a1.ID)
		if err != nil || got.CreatedByID != nil || got.CreatedBy != nil {
			t.Fatalf("alert of a deleted user = %+v, %v", got, err)
		}
	})
}

// TestEmergencyAlertConcurrentTransitions races members acting on one alert:
// exactly one acknowledgement and one resolution win; the rest are refused
// with the status they found.
func TestEmergencyAlertConcurrentTransitions(t *testing.T) {
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, open openFunc) {
		w := newAlertWorld(t, open)
		ctx := context.Background()
		a := w.raise(t, w.gran, w.carer, "race")
		const n = 8
		var wg sync.WaitGroup
		var mu sync.Mutex
		wins := map[care.AlertAction]int{}
		for i := range 2 * n {
			act := care.AlertAcknowledge
			if i%2 == 1 {
				act = care.AlertResolve
			}
			wg.Go(func() {
				_, err := w.s.TransitionEmergencyAlert(ctx, a.ID, store.AlertChange{Action: act, ActorID: w.admin.ID})
				switch {
				case err == nil:
					mu.Lock()
					wins[act]++
					mu.Unlock()
				case !errors.Is(err, care.ErrAlertTransition):
					t.Errorf("%s: %v", act, err)
				}
			})
		}
		wg.Wait()
		if wins[care.AlertResolve] != 1 || wins[care.AlertAcknowledge] > 1 {
			t.Fatalf("wins = %v; want one resolve and at most one acknowledge", wins)
		}
		got, err := w.s.EmergencyAlert(ctx, a.ID)
		if err != nil || got.Status != care.AlertResolved {
			t.Fatalf("final = %+v, %v", got, err)
		}
		// The acknowledgement, if it won, came before the resolution.
		if (wins[care.AlertAcknowledge] == 1) != (got.AcknowledgedAt != nil) {
			t.Fatalf("acknowledged stamp %v with %d acknowledgements", got.AcknowledgedAt, wins[care.AlertAcknowledge])
		}
	})
}
