package api

import (
	"net/http"
	"time"

	"github.com/carecircle/carecircle/internal/kv"
)

// deleteAccountBody is the optional body of DELETE /user/delete-account:
// clients that ask for the password again send it, and a wrong one stops
// the deletion. Without a body the signed-in session is confirmation enough,
// as the contract has it.
type deleteAccountBody struct {
	Password *string `json:"password"`
}

// deleteAccount anonymises the caller's account (see account.Delete),
// announcing each family they leave or take with them and releasing what
// they had taken on in the families they leave, and signs them out. The
// last ADMIN of a family that has other members is refused with 409 and
// nothing changes.
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
	}
	if err := s.svc.Account.Delete(ctx, *p, b.Password); err != nil {
		return err
	}
	s.clearAuthCookies(w)
	writeJSON(w, http.StatusOK, map[string]any{"success": true, "message": "Your account has been deleted"})
	return nil
}
