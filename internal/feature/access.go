package feature

import (
	"context"

	"github.com/carecircle/carecircle/internal/care"
)

// Actor is the signed-in user a command or query runs for, with the
// session they act through.
type Actor struct {
	User    *care.User
	Session *care.Session
}

// ID is the actor's user id.
func (a Actor) ID() string { return a.User.ID }

// Need is the least a family member must be to run a command or query.
type Need int

const (
	AnyMember Need = iota // any active member
	Writer                // a member who is not VIEWER
	Admin                 // a family ADMIN
)

// Member checks that the actor is an active member of the family with at
// least the needed role, and returns the membership. A non-member is
// refused (KindForbidden), as is a member whose role is not enough.
func (b *Base) Member(ctx context.Context, a Actor, familyID string, n Need) (*care.Member, error) {
	m, err := b.Store.MemberOf(ctx, familyID, a.User.ID)
	if IsNotFound(err) {
		return nil, Forbidden("You are not a member of this family")
	}
	if err != nil {
		return nil, err
	}
	switch {
	case n == Writer && !m.Role.CanWrite():
		return nil, Forbidden("Viewers cannot make changes")
	case n == Admin && m.Role != care.RoleAdmin:
		return nil, Forbidden("Only a family admin can do this")
	}
	return m, nil
}

// Family checks that the family familyID exists (KindNotFound otherwise,
// so that "no such family" is told from "not yours") and the actor's
// membership in it, as Member does.
func (b *Base) Family(ctx context.Context, a Actor, familyID string, n Need) (*care.Member, error) {
	if _, err := b.Store.Family(ctx, familyID); IsNotFound(err) {
		return nil, NotFound("Family")
	} else if err != nil {
		return nil, err
	}
	return b.Member(ctx, a, familyID, n)
}

// CareRecipient loads a care recipient (KindNotFound when there is none)
// and checks the actor's membership in its family, as Member does.
func (b *Base) CareRecipient(ctx context.Context, a Actor, id string, n Need) (*care.CareRecipient, *care.Member, error) {
	cr, err := b.Store.CareRecipient(ctx, id)
	if IsNotFound(err) {
		return nil, nil, NotFound("Care recipient")
	}
	if err != nil {
		return nil, nil, err
	}
	m, err := b.Member(ctx, a, cr.FamilyID, n)
	if err != nil {
		return nil, nil, err
	}
	return cr, m, nil
}
