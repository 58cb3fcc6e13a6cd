package api

import (
	"context"

	"github.com/carecircle/carecircle/internal/care"
	"github.com/carecircle/carecircle/internal/feature"
)

// need is the least a family member must be to use a route.
type need = feature.Need

const (
	anyMember = feature.AnyMember // [M] any active member
	writer    = feature.Writer    // [nV] a member who is not VIEWER
	admin     = feature.Admin     // [A] a family ADMIN
)

// familyMember checks that the principal is an active member of the family
// with at least the needed role. Non-members get 403.
func (s *Server) familyMember(ctx context.Context, p *Principal, familyID string, n need) (*care.Member, error) {
	return s.base.Member(ctx, *p, familyID, n)
}

// careRecipientMember loads a care recipient (404 when missing) and checks the
// principal's membership in its family.
func (s *Server) careRecipientMember(ctx context.Context, p *Principal, id string, n need) (*care.CareRecipient, *care.Member, error) {
	return s.base.CareRecipient(ctx, *p, id, n)
}
