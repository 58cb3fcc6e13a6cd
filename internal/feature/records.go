package feature

import (
	"context"
	"errors"
	"time"

	"github.com/carecircle/carecircle/internal/care"
	"github.com/carecircle/carecircle/internal/store"
)

// Records is one kind of a care recipient's records (their medications,
// doctors, emergency contacts, timeline entries, shifts, appointments; or
// the care recipients themselves, each their own record): how
// the store reads and writes it, so that every feature loads a record for
// an actor, and creates, edits and deletes it, the same way. A feature
// builds one per kind in its New; the writes it does not use may be nil.
type Records[T any] struct {
	Base *Base
	// What names the record in its KindNotFound ("Doctor").
	What string
	// Load reads the record id; the store's ErrNotFound when there is none.
	Load func(ctx context.Context, id string) (*T, error)
	// ID is the record's id, and Owner points at its care recipient's id.
	ID    func(*T) string
	Owner func(*T) *string
	// Create, Update and Delete are the store's writes of the record.
	Create func(ctx context.Context, in T) (*T, error)
	Update func(ctx context.Context, id string, edit func(*T) error) (*T, error)
	Delete func(ctx context.Context, id string) error
	// Changed, when not nil, runs in the transaction of every write, before
	// its event (to drop a cached view the record is part of).
	Changed func(ctx context.Context, cr *care.CareRecipient)
}

// Get loads the record id (KindNotFound when there is none) and checks the
// actor's membership in its care recipient's family with at least n. With
// crID set (the record named under its care recipient), a record of
// another care recipient is not found either.
func (r Records[T]) Get(ctx context.Context, a Actor, crID, id string, n Need) (*T, *care.CareRecipient, Membership, error) {
	v, err := r.Load(ctx, id)
	if IsNotFound(err) || (err == nil && crID != "" && *r.Owner(v) != crID) {
		return nil, nil, Membership{}, NotFound(r.What)
	}
	if err != nil {
		return nil, nil, Membership{}, err
	}
	cr, m, err := r.Base.CareRecipient(ctx, a, *r.Owner(v), n)
	if err != nil {
		return nil, nil, Membership{}, err
	}
	return v, cr, m, nil
}

// Of checks the actor's membership in the family of the care recipient
// crID with at least n, then loads the record id, which must be the care
// recipient's (KindNotFound otherwise).
func (r Records[T]) Of(ctx context.Context, a Actor, crID, id string, n Need) (*T, *care.CareRecipient, Membership, error) {
	cr, m, err := r.Base.CareRecipient(ctx, a, crID, n)
	if err != nil {
		return nil, nil, Membership{}, err
	}
	v, err := r.Load(ctx, id)
	if IsNotFound(err) || (err == nil && *r.Owner(v) != cr.ID) {
		return nil, nil, Membership{}, NotFound(r.What)
	}
	if err != nil {
		return nil, nil, Membership{}, err
	}
	return v, cr, m, nil
}

// Missing turns the store's "no such row" from a write into the record's
// KindNotFound (it was deleted meanwhile).
func (r Records[T]) Missing(err error) error { return Missing(err, r.What) }

// Missing returns err, with the store's "no such row" turned into the
// KindNotFound of what ("Push token").
func Missing(err error, what string) error {
	if IsNotFound(err) {
		return NotFound(what)
	}
	return err
}

// Add adds the record read gives to the care recipient crID (a writer's
// command), announcing it as typ in the transaction that creates it. A
// care recipient deleted meanwhile is KindNotFound.
func (r Records[T]) Add(ctx context.Context, a Actor, crID string, read Input[T], typ string) (*T, error) {
	return r.AddThen(ctx, a, crID, read, typ, nil)
}

// AddThen adds the record as Add does, and runs then (when not nil) on it
// in the same transaction, after its event (to notify someone of it).
func (r Records[T]) AddThen(ctx context.Context, a Actor, crID string, read Input[T], typ string, then func(ctx context.Context, cr *care.CareRecipient, v *T) error) (*T, error) {
	cr, _, err := r.Base.CareRecipient(ctx, a, crID, Writer)
	if err != nil {
		return nil, err
	}
	in, err := read()
	if err != nil {
		return nil, err
	}
	*r.Owner(&in) = cr.ID
	var out *T
	err = r.Base.Atomically(ctx, func(ctx context.Context) error {
		var err error
		if out, err = r.Create(ctx, in); err != nil {
			return err
		}
		r.changed(ctx, cr)
		if err := r.Base.EmitAbout(ctx, a, cr, typ, out); err != nil || then == nil {
			return err
		}
		return then(ctx, cr, out)
	})
	if errors.Is(err, store.ErrReference) || IsNotFound(err) {
		return nil, NotFound("Care recipient")
	}
	return out, err
}

// Edit changes v, a record of cr the actor may change, as the edit read
// gives, announcing the result as typ in the transaction that stores it.
func (r Records[T]) Edit(ctx context.Context, a Actor, cr *care.CareRecipient, v *T, read Input[Edit[T]], typ string) (*T, error) {
	edit, err := read()
	if err != nil {
		return nil, err
	}
	var out *T
	err = r.Base.Atomically(ctx, func(ctx context.Context) error {
		var err error
		if out, err = r.Update(ctx, r.ID(v), edit); err != nil {
			return err
		}
		r.changed(ctx, cr)
		return r.Base.EmitAbout(ctx, a, cr, typ, out)
	})
	return out, r.Missing(err)
}

// Remove deletes v, a record of cr the actor may delete, announcing it (as
// it was) as typ in the transaction that deletes it.
func (r Records[T]) Remove(ctx context.Context, a Actor, cr *care.CareRecipient, v *T, typ string) error {
	err := r.Base.Atomically(ctx, func(ctx context.Context) error {
		if err := r.Delete(ctx, r.ID(v)); err != nil {
			return err
		}
		r.changed(ctx, cr)
		return r.Base.EmitAbout(ctx, a, cr, typ, v)
	})
	return r.Missing(err)
}

// changed runs Changed, if any, for a write of a record of cr.
func (r Records[T]) changed(ctx context.Context, cr *care.CareRecipient) {
	if r.Changed != nil {
		r.Changed(ctx, cr)
	}
}

// Zone is the IANA zone named name (a care recipient's), in which their
// days and times are read; UTC if the stored name no longer loads.
func Zone(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		return time.UTC
	}
	return loc
}

// ListOf checks the actor's membership in the family of the care
// recipient crID, then lists their records with list.
func ListOf[R any](ctx context.Context, b *Base, a Actor, crID string, list func(ctx context.Context, crID string) ([]R, error)) ([]R, error) {
	cr, _, err := b.CareRecipient(ctx, a, crID, AnyMember)
	if err != nil {
		return nil, err
	}
	return list(ctx, cr.ID)
}

// ListIn checks the actor's membership in the family of the care recipient
// crID, then lists their records with list, picked by the filter that
// filter reads in their zone (see Zone).
func ListIn[F, R any](ctx context.Context, b *Base, a Actor, crID string, filter func(loc *time.Location) (F, error), list func(ctx context.Context, crID string, f F) ([]R, error)) ([]R, error) {
	cr, _, err := b.CareRecipient(ctx, a, crID, AnyMember)
	if err != nil {
		return nil, err
	}
	f, err := filter(Zone(cr.Timezone))
	if err != nil {
		return nil, err
	}
	return list(ctx, cr.ID, f)
}
