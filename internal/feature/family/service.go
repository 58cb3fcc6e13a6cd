// Package family is the application layer of a family: the family itself,
// its members and their roles, and its invitations. Its commands check
// access, apply the rules (the pure ones are in internal/care), run one
// transaction, record events and notifications and drop the cache entries
// they change (see internal/feature).
package family

import (
	"context"
	"time"

	"github.com/carecircle/carecircle/internal/care"
	"github.com/carecircle/carecircle/internal/events"
	"github.com/carecircle/carecircle/internal/feature"
	"github.com/carecircle/carecircle/internal/kv"
)

// Deps are what the family's commands need beyond the base: the limit on
// member resets, the realtime connections of a member signed out, and what
// other features release when a membership ends. A service that only
// answers queries (the web pages') needs none of them.
type Deps struct {
	// PublicURL is the base of the links in the emails.
	PublicURL string
	// Limit refuses a request over the limit l kept under key.
	Limit func(ctx context.Context, key string, l kv.Limit) error
	// SessionsEnded closes the realtime connections of every session of
	// the user, just revoked together.
	SessionsEnded func(ctx context.Context, userID string)
	// Release are the other features' commands that give up what a member
	// had taken on in the family (shifts.Release, appointments'
	// ReleaseTransport), run by Release.
	Release []ReleaseFunc
	// ResetTTL is how long a password reset link stays valid.
	ResetTTL time.Duration
}

// ReleaseFunc gives up, in the transaction that ends userID's membership of
// the family, what they had taken on there, telling the family's admins
// why ("Bo Lee left the family").
type ReleaseFunc func(ctx context.Context, a feature.Actor, familyID, userID, why string) error

// Service runs a family's commands and queries: the family itself, its
// members and their roles, and its invitations.
type Service struct {
	b *feature.Base
	d Deps
}

// New builds the service on the shared base.
func New(b *feature.Base, d Deps) *Service { return &Service{b: b, d: d} }

// Release gives up, in the transaction ctx carries (the one that ends
// userID's membership), everything the member had taken on in the family:
// the shifts they still had to work, the appointments they were to drive
// to. Removing a member and deleting an account both end with it.
func (s *Service) Release(ctx context.Context, a feature.Actor, familyID, userID, why string) error {
	for _, release := range s.d.Release {
		if err := release(ctx, a, familyID, userID, why); err != nil {
			return err
		}
	}
	return nil
}

// NewFamily is a family to create: its name, an optional description, and
// the nickname its creator goes by in it.
type NewFamily struct {
	Name        string
	Description *string
	Nickname    *string
}

// Access checks that the family exists (KindNotFound otherwise) and that
// the actor is a member of it with at least the needed role, and returns
// the membership.
func (s *Service) Access(ctx context.Context, a feature.Actor, familyID string, n feature.Need) (feature.Membership, error) {
	return s.b.Family(ctx, a, familyID, n)
}

// details loads a family with its members, care recipients and open
// invitations.
func (s *Service) details(ctx context.Context, familyID string) (*care.FamilyDetails, error) {
	f, err := s.b.Store.Family(ctx, familyID)
	if feature.IsNotFound(err) {
		return nil, feature.NotFound("Family")
	}
	if err != nil {
		return nil, err
	}
	d := &care.FamilyDetails{Family: *f}
	if d.Members, err = s.b.Store.Members(ctx, familyID); err != nil {
		return nil, err
	}
	if d.CareRecipients, err = s.b.Store.CareRecipients(ctx, familyID); err != nil {
		return nil, err
	}
	if d.Invitations, err = s.b.Store.PendingInvitations(ctx, familyID); err != nil {
		return nil, err
	}
	return d, nil
}

// Create makes a family whose creator, the actor, is its ADMIN, and
// returns it with its members, care recipients and invitations.
func (s *Service) Create(ctx context.Context, a feature.Actor, in NewFamily) (*care.FamilyDetails, error) {
	var d *care.FamilyDetails
	err := s.b.Atomically(ctx, func(ctx context.Context) error {
		f, _, err := s.b.Store.CreateFamily(ctx, in.Name, a.ID(), in.Nickname)
		if err != nil {
			return err
		}
		s.b.MembershipsChanged(ctx, a.ID())
		if in.Description != nil {
			if _, err := s.b.Store.DescribeFamily(ctx, f.ID, in.Description); err != nil {
				return err
			}
		}
		if d, err = s.details(ctx, f.ID); err != nil {
			return err
		}
		return s.b.Emit(ctx, feature.Event{Type: events.FamilyCreated, FamilyID: f.ID, ActorID: a.ID(), Data: d})
	})
	if err != nil {
		return nil, err
	}
	return d, nil
}

// List lists the actor's families with their role in each.
// Where the node keeps family views in memory, the care recipients come
// from them (dropped by FamilyChanged, as for GET /auth/me), sparing a query.
func (s *Service) List(ctx context.Context, a feature.Actor) ([]care.FamilyListing, error) {
	if !s.b.FamilyViewsInMemory(ctx) {
		return s.b.Store.FamilyListings(ctx, a.ID())
	}
	out, err := s.b.Store.FamilyListingsWithoutCareRecipients(ctx, a.ID())
	if err != nil {
		return nil, err
	}
	for i := range out {
		v, err := s.b.FamilyView(ctx, out[i].ID)
		if err != nil {
			return nil, err
		}
		out[i].CareRecipients = v.CareRecipients
	}
	return out, nil
}

// Get returns a family of the actor's with its members, care recipients
// and open invitations.
func (s *Service) Get(ctx context.Context, a feature.Actor, familyID string) (*care.FamilyDetails, error) {
	if _, err := s.Access(ctx, a, familyID, feature.AnyMember); err != nil {
		return nil, err
	}
	return s.details(ctx, familyID)
}

// Rename renames a family (an admin's command). The input is the new name,
// nil to leave it as it is, which changes and announces nothing.
func (s *Service) Rename(ctx context.Context, a feature.Actor, familyID string, read feature.Input[*string]) (*care.Family, error) {
	if _, err := s.Access(ctx, a, familyID, feature.Admin); err != nil {
		return nil, err
	}
	name, err := read()
	if err != nil {
		return nil, err
	}
	if name == nil {
		return s.b.Store.Family(ctx, familyID)
	}
	var f *care.Family
	err = s.b.Atomically(ctx, func(ctx context.Context) error {
		var err error
		if f, err = s.b.Store.RenameFamily(ctx, familyID, *name); err != nil {
			return err
		}
		s.b.FamilyChanged(ctx, familyID)
		return s.b.Emit(ctx, feature.Event{Type: events.FamilyUpdated, FamilyID: familyID, ActorID: a.ID(), Data: f})
	})
	if err != nil {
		return nil, err
	}
	return f, nil
}

// Delete deletes a family with everything in it (an admin's command). The
// event names the members it had, who lose its channels.
func (s *Service) Delete(ctx context.Context, a feature.Actor, familyID string) error {
	if _, err := s.Access(ctx, a, familyID, feature.Admin); err != nil {
		return err
	}
	return s.b.Atomically(ctx, func(ctx context.Context) error {
		f, err := s.b.Store.Family(ctx, familyID)
		if err != nil {
			return err
		}
		members, err := s.b.Store.Members(ctx, familyID)
		if err != nil {
			return err
		}
		if err := s.b.Store.DeleteFamily(ctx, familyID); err != nil {
			return err
		}
		s.b.FamilyChanged(ctx, familyID)
		users := make([]string, len(members))
		for i, m := range members {
			users[i] = m.UserID
		}
		s.b.MembershipsChanged(ctx, users...)
		return s.b.Emit(ctx, feature.Event{Type: events.FamilyDeleted, FamilyID: familyID, ActorID: a.ID(),
			Data: events.FamilyDeletedData{Family: f, UserIDs: users}})
	})
}
