package feature

import (
	"context"
	"slices"
	"time"

	"github.com/carecircle/carecircle/internal/care"
	"github.com/carecircle/carecircle/internal/kv"
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

// enough reports why the role is not enough for n, or nil when it is.
func (n Need) enough(r care.Role) error {
	switch {
	case n == Writer && !r.CanWrite():
		return Forbidden("Viewers cannot make changes")
	case n == Admin && r != care.RoleAdmin:
		return Forbidden("Only a family admin can do this")
	}
	return nil
}

// CareRecipientFamilyTTL is how long a node remembers which family a care
// recipient belongs to. That never changes; the care recipient themselves is
// read from the family's view (FamilyView), which every write to them drops.
const CareRecipientFamilyTTL = time.Hour

// Access checks answer from the node-memory cache when they can, and only
// ever to let a member in: the actor's memberships (MembershipsKey, dropped
// by MembershipsChanged after every join, role change and removal) and the
// family's view (dropped by FamilyChanged, saying when the family is gone).
// A refusal, or a role that is not enough, is always confirmed by the
// database, so a membership added or raised where no invalidation reached
// (the demo seed, SQL by hand) is never refused for the cache's sake; what
// can go stale is a removal or demotion, for as long as the invalidation
// takes to reach this node (see cache.go).

// Member checks that the actor is an active member of the family with at
// least the needed role, and returns the membership. A non-member is
// refused (KindForbidden), as is a member whose role is not enough.
func (b *Base) Member(ctx context.Context, a Actor, familyID string, n Need) (Membership, error) {
	if m, ok := b.knownMember(ctx, a.ID(), familyID); ok && n.enough(m.Role) == nil {
		return m, nil
	}
	m, err := b.Store.MemberOf(ctx, familyID, a.User.ID)
	if IsNotFound(err) {
		return Membership{}, Forbidden("You are not a member of this family")
	}
	if err != nil {
		return Membership{}, err
	}
	if err := n.enough(m.Role); err != nil {
		return Membership{}, err
	}
	return Membership{FamilyID: m.FamilyID, Role: m.Role}, nil
}

// knownMember returns the actor's membership of the family as the
// node-memory cache knows it, when the family is still there. It knows
// nothing inside a transaction (see FamilyRead) or without a cache in the
// node's memory, where a lookup would cost as much as the query it spares.
func (b *Base) knownMember(ctx context.Context, userID, familyID string) (Membership, bool) {
	if !b.FamilyViewsInMemory(ctx) {
		return Membership{}, false
	}
	ms, err := b.memberships(ctx, userID)
	if err != nil {
		return Membership{}, false
	}
	i := slices.IndexFunc(ms, func(m Membership) bool { return m.FamilyID == familyID })
	if i < 0 {
		return Membership{}, false
	}
	// A deleted family's memberships go with it; its view says so at once.
	if v, err := b.familyView(ctx, familyID); err != nil || v.Gone {
		return Membership{}, false
	}
	return ms[i], true
}

// Family checks that the family familyID exists (KindNotFound otherwise,
// so that "no such family" is told from "not yours") and the actor's
// membership in it, as Member does.
func (b *Base) Family(ctx context.Context, a Actor, familyID string, n Need) (Membership, error) {
	if m, ok := b.knownMember(ctx, a.ID(), familyID); ok && n.enough(m.Role) == nil {
		return m, nil
	}
	if _, err := b.Store.Family(ctx, familyID); IsNotFound(err) {
		return Membership{}, NotFound("Family")
	} else if err != nil {
		return Membership{}, err
	}
	return b.Member(ctx, a, familyID, n)
}

// CareRecipient loads a care recipient (KindNotFound when there is none)
// and checks the actor's membership in its family, as Member does. The care
// recipient is the caller's own copy.
func (b *Base) CareRecipient(ctx context.Context, a Actor, id string, n Need) (*care.CareRecipient, Membership, error) {
	cr, err := b.careRecipient(ctx, id)
	if IsNotFound(err) {
		return nil, Membership{}, NotFound("Care recipient")
	}
	if err != nil {
		return nil, Membership{}, err
	}
	m, err := b.Member(ctx, a, cr.FamilyID, n)
	if err != nil {
		return nil, Membership{}, err
	}
	return cr, m, nil
}

// careRecipient loads a care recipient from their family's view when the
// node keeps one in memory (which family that is, it remembers for
// CareRecipientFamilyTTL), else from the database. One the view does not
// hold, deleted or created since it was cached, is read from the database.
func (b *Base) careRecipient(ctx context.Context, id string) (*care.CareRecipient, error) {
	if !b.FamilyViewsInMemory(ctx) {
		return b.Store.CareRecipient(ctx, id)
	}
	var loaded *care.CareRecipient
	familyID, err := kv.GetOrLoadValue(ctx, b.Cache, careRecipientFamilyKey(id), func() (string, time.Duration, error) {
		cr, err := b.Store.CareRecipient(ctx, id)
		if err != nil {
			return "", 0, err
		}
		loaded = cr
		return cr.FamilyID, CareRecipientFamilyTTL, nil
	})
	if err != nil || loaded != nil {
		return loaded, err
	}
	v, err := b.familyView(ctx, familyID)
	if err != nil {
		return nil, err
	}
	for i := range v.CareRecipients {
		if cr := &v.CareRecipients[i]; cr.ID == id {
			own := *cr
			own.Allergies = slices.Clone(cr.Allergies)
			own.Conditions = slices.Clone(cr.Conditions)
			return &own, nil
		}
	}
	return b.Store.CareRecipient(ctx, id)
}

// careRecipientFamilyKey holds the id of the care recipient's family.
func careRecipientFamilyKey(id string) string { return "care-recipient-family:" + id }
