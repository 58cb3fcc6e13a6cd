package api

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/carecircle/carecircle/internal/auth"
	"github.com/carecircle/carecircle/internal/care"
	"github.com/carecircle/carecircle/internal/events"
	"github.com/carecircle/carecircle/internal/kv"
	"github.com/carecircle/carecircle/internal/store"
)

// deleteAccountBody is the optional body of DELETE /user/delete-account:
// clients that ask for the password again send it, and a wrong one stops
// the deletion. Without a body the signed-in session is confirmation enough,
// as the contract has it.
type deleteAccountBody struct {
	Password *string `json:"password"`
}

// deleteAccount anonymises the caller's account (see store.DeleteAccount),
// announces each family they leave (family.member.left) or take with them
// (family.deleted, when they were its only member) in the same transaction,
// releases what they had taken on in the families they leave (see
// releaseCommitments), and signs them out. The last ADMIN of a family that
// has other members is refused with 409 and nothing changes.
func (s *Server) deleteAccount(w http.ResponseWriter, r *http.Request, p *Principal) error {
	var b deleteAccountBody
	if err := decodeOptional(w, r, &b); err != nil {
		return err
	}
	ctx := r.Context()
	if b.Password != nil {
		if err := s.limit(ctx, "auth:delete-account:"+p.User.ID, kv.Limit{Count: 5, Period: 15 * time.Minute}); err != nil {
			return err
		}
		if !auth.CheckPassword(p.User.PasswordHash, *b.Password) {
			return Problems{"password": {"is incorrect"}}.Err()
		}
	}
	var d *store.AccountDeletion
	err := s.store.Atomically(ctx, func(ctx context.Context) error {
		var err error
		if d, err = s.store.DeleteAccount(ctx, p.User.ID); err != nil {
			return err
		}
		for _, m := range d.Left {
			s.familyChanged(ctx, m.FamilyID)
		}
		for _, f := range d.DeletedFamilies {
			s.familyChanged(ctx, f.ID)
		}
		s.membershipsChanged(ctx, p.User.ID)
		for _, m := range d.Left {
			if err := s.emit(ctx, domainEvent{Type: events.MemberLeft, FamilyID: m.FamilyID, ActorID: p.User.ID, Data: m}); err != nil {
				return err
			}
			if err := s.releaseCommitments(ctx, p, m.FamilyID, p.User.ID, p.User.FullName+" deleted their account"); err != nil {
				return err
			}
		}
		for _, f := range d.DeletedFamilies {
			err := s.emit(ctx, domainEvent{Type: events.FamilyDeleted, FamilyID: f.ID, ActorID: p.User.ID,
				Data: events.FamilyDeletedData{Family: &f, UserIDs: []string{p.User.ID}}})
			if err != nil {
				return err
			}
		}
		return nil
	})
	var last *store.LastAdminError
	switch {
	case errors.As(err, &last):
		return conflict("You are the last admin of %s; make another member admin or delete the family first", familyNames(last.Families))
	case errors.Is(err, store.ErrNotFound):
		return unauthorized("Account is not active") // deleted by a concurrent request
	case err != nil:
		return err
	}
	s.sessionsEnded(ctx, p.User.ID, "")
	s.clearAuthCookies(w)
	writeJSON(w, http.StatusOK, map[string]any{"success": true, "message": "Your account has been deleted"})
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
