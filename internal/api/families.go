package api

import (
	"context"
	"net/http"

	"github.com/carecircle/carecircle/internal/care"
	"github.com/carecircle/carecircle/internal/feature"
	"github.com/carecircle/carecircle/internal/feature/family"
)

// familyRoutes registers families, their members and their invitations.
func (s *Server) familyRoutes() {
	s.authed("POST", "/families", s.createFamily)
	s.authed("GET", "/families", s.listFamilies)
	s.authed("GET", "/families/{familyId}", s.getFamily)
	s.authed("PATCH", "/families/{familyId}", s.renameFamily)
	s.authed("DELETE", "/families/{familyId}", s.deleteFamily)
	s.authed("GET", "/families/{familyId}/members", s.listMembers)
	s.authed("PATCH", "/families/{familyId}/members/{memberId}/role", s.changeMemberRole)
	s.authed("DELETE", "/families/{familyId}/members/{memberId}", s.removeMember)
	s.authed("POST", "/families/{familyId}/members/{userId}/reset-password", s.resetMemberPassword)
	s.invitationRoutes()
}

// familyAccess reads {familyId} and checks the principal's membership
// (as family.Access does): 404 when there is no such family, 403 for a
// non-member or a role not enough.
func (s *Server) familyAccess(r *http.Request, p *Principal, n need) (string, feature.Membership, error) {
	id, err := pathID(r, "familyId")
	if err != nil {
		return "", feature.Membership{}, err
	}
	m, err := s.svc.Family.Access(r.Context(), *p, id, n)
	if err != nil {
		return "", feature.Membership{}, err
	}
	return id, m, nil
}

// familyDeps are what the family's commands need from the API: its mail
// links, limits and realtime connections (features.New adds the release of
// a leaving member's shifts and driving).
func (s *Server) familyDeps() family.Deps {
	return family.Deps{
		PublicURL:     s.cfg.PublicURL,
		Limit:         s.limit,
		SessionsEnded: func(ctx context.Context, userID string) { s.sessionsEnded(ctx, userID, "") },
		ResetTTL:      resetTokenTTL,
	}
}

// maxFamilyDescriptionLen bounds a family's description.
const maxFamilyDescriptionLen = 500

type createFamilyBody struct {
	Name        string  `json:"name"`
	Description *string `json:"description"`
	Nickname    *string `json:"nickname"`
}

func (b *createFamilyBody) Validate(p Problems) {
	b.Name = p.line("name", b.Name, maxNameLen)
	b.Description = p.optText("description", b.Description, maxFamilyDescriptionLen)
	b.Nickname = p.optLine("nickname", b.Nickname, 50)
}

// createFamily makes a family whose creator is its ADMIN.
func (s *Server) createFamily(w http.ResponseWriter, r *http.Request, p *Principal) error {
	var b createFamilyBody
	if err := decode(w, r, &b); err != nil {
		return err
	}
	d, err := s.svc.Family.Create(r.Context(), *p, family.NewFamily{Name: b.Name, Description: b.Description, Nickname: b.Nickname})
	return writeCreated(w, d, err)
}

// listFamilies lists the caller's families with their role in each.
func (s *Server) listFamilies(w http.ResponseWriter, r *http.Request, p *Principal) error {
	fams, err := s.svc.Family.List(r.Context(), *p)
	return writeOK(w, fams, err)
}

func (s *Server) getFamily(w http.ResponseWriter, r *http.Request, p *Principal) error {
	return answerByID(w, r, p, "familyId", s.svc.Family.Get, writeOK)
}

type renameFamilyBody struct {
	Name Optional[string] `json:"name"`
}

func (b *renameFamilyBody) Validate(p Problems) {
	p.patchRequired("name", &b.Name, func(v string) string { return p.line("name", v, maxNameLen) })
}

// renameFamily renames a family; a body without a name changes nothing.
func (s *Server) renameFamily(w http.ResponseWriter, r *http.Request, p *Principal) error {
	id, err := pathID(r, "familyId")
	if err != nil {
		return err
	}
	f, err := s.svc.Family.Rename(r.Context(), *p, id, func() (*string, error) {
		var b renameFamilyBody
		if err := decode(w, r, &b); err != nil || !b.Name.Set {
			return nil, err
		}
		return &b.Name.Value, nil
	})
	return writeOK(w, f, err)
}

func (s *Server) deleteFamily(w http.ResponseWriter, r *http.Request, p *Principal) error {
	return deleteByID(w, r, p, "familyId", s.svc.Family.Delete)
}

func (s *Server) listMembers(w http.ResponseWriter, r *http.Request, p *Principal) error {
	return answerByID(w, r, p, "familyId", s.svc.Family.Members, writeOK)
}

type memberRoleBody struct {
	Role care.Role `json:"role"`
}

func (b *memberRoleBody) Validate(p Problems) {
	p.oneOf("role", string(b.Role), care.Roles()...)
}

// memberIDs reads the path's member id, then its family id.
func memberIDs(r *http.Request) (familyID, memberID string, err error) {
	if memberID, err = pathID(r, "memberId"); err != nil {
		return "", "", err
	}
	familyID, err = pathID(r, "familyId")
	return familyID, memberID, err
}

func (s *Server) changeMemberRole(w http.ResponseWriter, r *http.Request, p *Principal) error {
	familyID, memberID, err := memberIDs(r)
	if err != nil {
		return err
	}
	m, err := s.svc.Family.ChangeRole(r.Context(), *p, familyID, memberID, func() (care.Role, error) {
		var b memberRoleBody
		err := decode(w, r, &b)
		return b.Role, err
	})
	return writeOK(w, m, err)
}

// removeMember ends a membership (an admin removing someone, or leaving
// themselves) and releases what the member had taken on in the family.
func (s *Server) removeMember(w http.ResponseWriter, r *http.Request, p *Principal) error {
	return deleteByIDs(w, r, p, memberIDs, s.svc.Family.Remove)
}
