// Package featuretest sets up what tests of the application layer's
// services start from: active accounts as actors, and a family with a
// care recipient, written straight to the store.
package featuretest

import (
	"context"
	"testing"
	"time"

	"github.com/carecircle/carecircle/internal/care"
	"github.com/carecircle/carecircle/internal/clock"
	"github.com/carecircle/carecircle/internal/feature"
	"github.com/carecircle/carecircle/internal/store"
)

// Actor creates an active account with the email and returns it as an
// actor.
func Actor(t testing.TB, s *store.Store, email string) feature.Actor {
	t.Helper()
	u, err := s.CreateUser(context.Background(), store.NewUser{
		Email: email, PasswordHash: "hash", FullName: "Test " + email, Timezone: "Europe/Berlin", Status: care.UserActive,
	})
	if err != nil {
		t.Fatal(err)
	}
	return feature.Actor{User: u}
}

// Family creates a family with admin as its admin and one care recipient
// living in zone, and returns the family's id and the care recipient.
func Family(t testing.TB, s *store.Store, admin feature.Actor, zone string) (string, *care.CareRecipient) {
	t.Helper()
	ctx := context.Background()
	fam, _, err := s.CreateFamily(ctx, "Lee", admin.ID(), nil)
	if err != nil {
		t.Fatal(err)
	}
	cr, err := s.CreateCareRecipient(ctx, care.CareRecipient{FamilyID: fam.ID, FullName: "Gran Lee", Timezone: zone})
	if err != nil {
		t.Fatal(err)
	}
	return fam.ID, cr
}

// Base opens a store with open on a fake clock set at start, and returns
// the store, the clock and the application layer's base over them.
func Base(t testing.TB, open func(testing.TB, clock.Clock) *store.Store, start time.Time) (*store.Store, *clock.Fake, *feature.Base) {
	t.Helper()
	clk := clock.NewFake(start)
	st := open(t, clk)
	return st, clk, feature.New(feature.Deps{Store: st, Clock: clk})
}
