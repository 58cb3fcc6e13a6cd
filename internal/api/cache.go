package api

import (
	"context"
	"time"

	"github.com/carecircle/carecircle/internal/care"
	"github.com/carecircle/carecircle/internal/feature"
)

// What is cached, and what drops it, is said in internal/feature/cache.go.

const (
	meTTL             = feature.MembershipsTTL
	careRecipientsTTL = feature.FamilyViewTTL
)

// membership is a user's cached membership of one family.
type membership = feature.Membership

func membershipsCacheKey(userID string) string { return feature.MembershipsKey(userID) }

// cachedFamilyRead answers a read of a family's data from the cache (see
// feature.FamilyRead).
func cachedFamilyRead[T any](ctx context.Context, s *Server, familyID, name string, ttl time.Duration, load func() (T, error)) (T, error) {
	return feature.FamilyRead(ctx, s.base, familyID, name, ttl, load)
}

// familyChanged drops every cached read of the family once the
// transaction ctx carries has committed.
func (s *Server) familyChanged(ctx context.Context, familyID string) {
	s.base.FamilyChanged(ctx, familyID)
}

// membershipsChanged drops the cached memberships of the users once the
// transaction ctx carries has committed.
func (s *Server) membershipsChanged(ctx context.Context, userIDs ...string) {
	s.base.MembershipsChanged(ctx, userIDs...)
}

// familyView returns the family's name and care recipients, from the cache
// when it can.
func (s *Server) familyView(ctx context.Context, familyID string) (feature.FamilyView, error) {
	return s.base.FamilyView(ctx, familyID)
}

// userFamilies lists the user's families with their care recipients.
func (s *Server) userFamilies(ctx context.Context, userID string) ([]care.FamilySummary, error) {
	return s.base.UserFamilies(ctx, userID)
}
