package api

import (
	"context"
	"errors"

	"github.com/carecircle/carecircle/internal/care"
	"github.com/carecircle/carecircle/internal/store"
)

// need is the least a family member must be to use a route.
type need int

const (
	anyMember need = iota // [M] any active member
	writer                // [nV] a member who is not VIEWER
	admin                 // [A] a family ADMIN
)

// familyMember checks that the principal is an active member of the family
// with at least the needed role. Non-members get 403.
func (s *Server) familyMember(ctx context.Context, p *Principal, familyID string, n need) (*care.Member, error) {
	m, err := s.store.MemberOf(ctx, familyID, p.User.ID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, forbidden("You are not a member of this family")
	}
	if err != nil {
		return nil, err
	}
	switch {
	case n == writer && !m.Role.CanWrite():
		return nil, forbidden("Viewers cannot make changes")
	case n == admin && m.Role != care.RoleAdmin:
		return nil, forbidden("Only a family admin can do this")
	}
	return m, nil
}

// careRecipientMember loads a care recipient (404 when missing) and checks the
// principal's membership in its family.
func (s *Server) careRecipientMember(ctx context.Context, p *Principal, id string, n need) (*care.CareRecipient, *care.Member, error) {
	cr, err := s.store.CareRecipient(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, notFound("Care recipient")
	}
	if err != nil {
		return nil, nil, err
	}
	m, err := s.familyMember(ctx, p, cr.FamilyID, n)
	if err != nil {
		return nil, nil, err
	}
	return cr, m, nil
}
