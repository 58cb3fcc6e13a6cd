package api

import (
	"net/http"
	"time"

	"github.com/carecircle/carecircle/internal/care"
	"github.com/carecircle/carecircle/internal/feature/family"
)

// invitationRoutes registers the invitation life cycle: invite, look up by
// link, accept or decline, and cancel or resend.
func (s *Server) invitationRoutes() {
	s.authed("POST", "/families/{familyId}/invite", s.invite)
	s.authed("GET", "/families/{familyId}/invitations", s.listInvitations)
	s.route("GET", "/families/invitations/{token}/details", s.invitationDetails)
	s.authed("POST", "/families/invitations/{token}/accept", s.acceptInvitation)
	s.route("POST", "/families/invitations/{token}/decline", s.declineInvitation)
	s.authed("DELETE", "/families/invitations/{invitationId}", s.cancelInvitation)
	s.authed("POST", "/families/invitations/{invitationId}/resend", s.resendInvitation)
}

type inviteBody struct {
	Email   string    `json:"email"`
	Role    care.Role `json:"role"`
	Message *string   `json:"message"`
}

func (b *inviteBody) Validate(p Problems) {
	b.Email = p.email("email", b.Email)
	p.oneOf("role", string(b.Role), care.Roles()...)
	b.Message = p.optText("message", b.Message, 1000)
}

// invitationSent is the answer to invite.
type invitationSent struct {
	ID        string    `json:"id"`
	Email     string    `json:"email"`
	Role      care.Role `json:"role"`
	ExpiresAt time.Time `json:"expiresAt"`
}

// invite records an invitation and emails its link to the invitee (see
// family.Invite): when the link cannot be sent now the answer is 503 with
// Retry-After, so the admin invites again later.
func (s *Server) invite(w http.ResponseWriter, r *http.Request, p *Principal) error {
	familyID, err := pathID(r, "familyId")
	if err != nil {
		return err
	}
	inv, err := s.svc.Family.Invite(r.Context(), *p, familyID, func() (family.NewInvitation, error) {
		var b inviteBody
		err := decode(w, r, &b)
		return family.NewInvitation{Email: b.Email, Role: b.Role, Message: b.Message}, err
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, invitationSent{ID: inv.ID, Email: inv.Email, Role: inv.Role, ExpiresAt: inv.ExpiresAt})
	return nil
}

func (s *Server) listInvitations(w http.ResponseWriter, r *http.Request, p *Principal) error {
	return answerByID(w, r, p, "familyId", s.svc.Family.Invitations, writeOK)
}

// invitationDetails shows the holder of a link what they were invited to.
// An expired invitation is 410 Gone; one already accepted, declined or
// cancelled is 400.
func (s *Server) invitationDetails(w http.ResponseWriter, r *http.Request) error {
	d, err := s.svc.Family.Details(r.Context(), r.PathValue("token"))
	return writeOK(w, d, err)
}

// acceptInvitation makes the signed-in invitee a member and answers with the
// family.
func (s *Server) acceptInvitation(w http.ResponseWriter, r *http.Request, p *Principal) error {
	d, err := s.svc.Family.Accept(r.Context(), *p, r.PathValue("token"))
	return writeOK(w, d, err)
}

func (s *Server) declineInvitation(w http.ResponseWriter, r *http.Request) error {
	if err := s.svc.Family.Decline(r.Context(), r.PathValue("token")); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]string{"message": "Invitation declined"})
	return nil
}

func (s *Server) cancelInvitation(w http.ResponseWriter, r *http.Request, p *Principal) error {
	return deleteByID(w, r, p, "invitationId", s.svc.Family.Cancel)
}

// resendInvitation issues a new link with a new expiry, which makes the old
// link useless, and emails it again (see family.Resend): when it cannot be
// sent now the answer is 503 with Retry-After and the old link keeps
// working.
func (s *Server) resendInvitation(w http.ResponseWriter, r *http.Request, p *Principal) error {
	id, err := pathID(r, "invitationId")
	if err != nil {
		return err
	}
	inv, err := s.svc.Family.Resend(r.Context(), *p, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"success": true, "message": "Invitation resent", "expiresAt": inv.ExpiresAt})
	return nil
}
