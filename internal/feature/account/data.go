package account

import (
	"context"
	"errors"
	"strings"

	"github.com/carecircle/carecircle/internal/care"
	"github.com/carecircle/carecircle/internal/events"
	"github.com/carecircle/carecircle/internal/feature"
	"github.com/carecircle/carecircle/internal/store"
)

// Section names one list of a user's data export, as the export's JSON
// field calls it.
type Section = store.ExportSection

// Sections lists the sections of a data export in the order the export
// holds them.
func Sections() []Section { return store.ExportSections() }

// EachExported calls fn with each row of section sec of the actor's data
// export, in order, reading them one by one so an export's size does not
// bound memory; fn's error stops the read.
func (s *Service) EachExported(ctx context.Context, a feature.Actor, sec Section, fn func(v any) error) error {
	return s.b.Store.EachExported(ctx, a.User.ID, sec, fn)
}

// Delete anonymises the actor's account (see store.DeleteAccount),
// announces each family they leave (family.member.left) or take with them
// (family.deleted, when they were its only member) in the same transaction,
// releases what they had taken on in the families they leave (Deps.Release)
// and closes the realtime connections of all their sessions. When password
// is given it must be the account's (a field error otherwise). The last
// ADMIN of a family that has other members is refused (KindConflict) and
// nothing changes.
func (s *Service) Delete(ctx context.Context, a feature.Actor, password *string) error {
	if password != nil && !s.check(a.User.PasswordHash, *password) {
		return feature.FieldError("password", "is incorrect")
	}
	uid := a.User.ID
	err := s.b.Atomically(ctx, func(ctx context.Context) error {
		d, err := s.b.Store.DeleteAccount(ctx, uid)
		if err != nil {
			return err
		}
		for _, m := range d.Left {
			s.b.FamilyChanged(ctx, m.FamilyID)
		}
		for _, f := range d.DeletedFamilies {
			s.b.FamilyChanged(ctx, f.ID)
		}
		s.b.MembershipsChanged(ctx, uid)
		for _, m := range d.Left {
			if err := s.b.Emit(ctx, feature.Event{Type: events.MemberLeft, FamilyID: m.FamilyID, ActorID: uid, Data: m}); err != nil {
				return err
			}
			if s.release != nil {
				if err := s.release(ctx, a, m.FamilyID, uid, a.User.FullName+" deleted their account"); err != nil {
					return err
				}
			}
		}
		for _, f := range d.DeletedFamilies {
			err := s.b.Emit(ctx, feature.Event{Type: events.FamilyDeleted, FamilyID: f.ID, ActorID: uid,
				Data: events.FamilyDeletedData{Family: &f, UserIDs: []string{uid}}})
			if err != nil {
				return err
			}
		}
		return nil
	})
	var last *store.LastAdminError
	switch {
	case errors.As(err, &last):
		return feature.Conflict("You are the last admin of %s; make another member admin or delete the family first", familyNames(last.Families))
	case feature.IsNotFound(err):
		return unauthenticated("Account is not active") // deleted by a concurrent request
	case err != nil:
		return err
	}
	s.sessionsEnded(ctx, uid, "")
	return nil
}

// familyNames lists family names for a sentence: "A", "A and B", "A, B and C".
func familyNames(fs []care.Family) string {
	names := make([]string, len(fs))
	for i, f := range fs {
		names[i] = f.Name
	}
	if len(names) <= 1 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}
