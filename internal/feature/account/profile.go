package account

import (
	"context"

	"github.com/carecircle/carecircle/internal/care"
	"github.com/carecircle/carecircle/internal/feature"
	"github.com/carecircle/carecircle/internal/store"
)

// ProfileChange is a change of the profile: the fields to set, and the
// optional ones to clear.
type ProfileChange = store.UserPatch

// UpdateProfile changes the actor's profile and answers the updated
// account.
func (s *Service) UpdateProfile(ctx context.Context, a feature.Actor, c ProfileChange) (*care.User, error) {
	return s.b.Store.UpdateUser(ctx, a.User.ID, c)
}

// CompleteOnboarding records that the actor finished the onboarding pages
// and answers the updated account.
func (s *Service) CompleteOnboarding(ctx context.Context, a feature.Actor) (*care.User, error) {
	return s.b.Store.CompleteOnboarding(ctx, a.User.ID)
}

// ForgetMemberships drops the actor's cached memberships on every node, so
// their next read of their families is afresh.
func (s *Service) ForgetMemberships(ctx context.Context, a feature.Actor) {
	s.b.MembershipsChanged(ctx, a.User.ID)
}
