package api

import (
	"net/http"
)

// memberResetMessage answers a family admin's password reset of a member.
const memberResetMessage = "A password reset link has been sent to the member. They have been signed out everywhere."

// resetMemberPassword is POST /families/{familyId}/members/{userId}/reset-password
// [A]: a family admin sends a member a password reset link (never a
// password) and signs them out of every device, closing their realtime
// connections, for a member whose account may have been taken over (see
// family.ResetPassword). An admin resets their own password through
// change-password instead. When the link cannot be sent now the answer is
// 503 with Retry-After and nothing changes, so the admin can simply try
// again.
func (s *Server) resetMemberPassword(w http.ResponseWriter, r *http.Request, p *Principal) error {
	userID, err := pathID(r, "userId")
	if err != nil {
		return err
	}
	familyID, err := pathID(r, "familyId")
	if err != nil {
		return err
	}
	err = s.svc.Family.ResetPassword(r.Context(), *p, familyID, userID, func() (struct{}, error) {
		return struct{}{}, decodeOptional(w, r, &struct{}{})
	})
	if err != nil {
		return err
	}
	writeAuthMessage(w, memberResetMessage)
	return nil
}
