package web

import (
	"net/http"

	"github.com/carecircle/carecircle/internal/care"
	"github.com/carecircle/carecircle/internal/feature"
)

// acceptInvite shows an invitation to whoever holds its link; accepting
// needs an account with the invited email.
func (s *Server) acceptInvite(w http.ResponseWriter, r *http.Request) {
	v, _ := s.signedIn(r)
	token := r.PathValue("token")
	d, err := s.svc.Family.Lookup(r.Context(), token)
	if err != nil && feature.KindOf(err) != feature.KindNotFound {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "accept", &page{Title: "Join a family", Viewer: v, Public: true, Data: map[string]any{
		"Invitation": d, "Token": token, "Next": safeNext(r.URL.Path),
	}})
}

// onboarding walks a new user through creating a family, adding the person
// they care for and inviting the others; the step follows from what exists.
func (s *Server) onboarding(w http.ResponseWriter, r *http.Request, p *page) (string, error) {
	p.Title = "Get started"
	step := 1
	var invites []care.Invitation
	switch {
	case p.Family == nil:
	case p.CR == nil:
		step = 2
	default:
		step = 3
		if p.IsAdmin() {
			var err error
			if invites, err = s.svc.Family.Invitations(r.Context(), *p.Viewer, p.Family.ID); err != nil {
				return "", err
			}
		}
	}
	p.Data = map[string]any{"Step": step, "Invitations": invites, "Zones": commonZones(p.Viewer.User.Timezone)}
	return "onboarding", nil
}

// family shows the members, their roles and the pending invitations.
func (s *Server) family(w http.ResponseWriter, r *http.Request, p *page) (string, error) {
	p.Title = "Family"
	if p.Family == nil {
		return "family", nil
	}
	members, err := s.svc.Family.Members(r.Context(), *p.Viewer, p.Family.ID)
	if err != nil {
		return "", err
	}
	invites, err := s.svc.Family.Invitations(r.Context(), *p.Viewer, p.Family.ID)
	if err != nil {
		return "", err
	}
	p.Data = map[string]any{"Members": members, "Invitations": invites, "Roles": care.Roles()}
	return "family", nil
}
