package api

import (
	"context"
	"errors"
	"net/http"

	"github.com/carecircle/carecircle/internal/care"
	"github.com/carecircle/carecircle/internal/events"
	"github.com/carecircle/carecircle/internal/store"
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

// writeDeleted answers a successful DELETE as the existing API does.
func writeDeleted(w http.ResponseWriter) {
	writeJSON(w, http.StatusOK, map[string]bool{"success": true})
}

// familyAccess reads {familyId} and checks the principal's membership.
func (s *Server) familyAccess(r *http.Request, p *Principal, n need) (string, *care.Member, error) {
	id, err := pathID(r, "familyId")
	if err != nil {
		return "", nil, err
	}
	if _, err := s.store.Family(r.Context(), id); errors.Is(err, store.ErrNotFound) {
		return "", nil, notFound("Family")
	} else if err != nil {
		return "", nil, err
	}
	m, err := s.familyMember(r.Context(), p, id, n)
	if err != nil {
		return "", nil, err
	}
	return id, m, nil
}

// familyDetails loads a family with its members, care recipients and open
// invitations.
func (s *Server) familyDetails(ctx context.Context, familyID string) (*care.FamilyDetails, error) {
	f, err := s.store.Family(ctx, familyID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, notFound("Family")
	}
	if err != nil {
		return nil, err
	}
	d := &care.FamilyDetails{Family: *f}
	if d.Members, err = s.store.Members(ctx, familyID); err != nil {
		return nil, err
	}
	if d.CareRecipients, err = s.store.CareRecipients(ctx, familyID); err != nil {
		return nil, err
	}
	if d.Invitations, err = s.store.PendingInvitations(ctx, familyID); err != nil {
		return nil, err
	}
	return d, nil
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
	var d *care.FamilyDetails
	err := s.store.Atomically(r.Context(), func(ctx context.Context) error {
		f, _, err := s.store.CreateFamily(ctx, b.Name, p.User.ID, b.Nickname)
		if err != nil {
			return err
		}
		s.membershipsChanged(ctx, p.User.ID)
		if b.Description != nil {
			if _, err := s.store.DescribeFamily(ctx, f.ID, b.Description); err != nil {
				return err
			}
		}
		if d, err = s.familyDetails(ctx, f.ID); err != nil {
			return err
		}
		return s.emit(ctx, domainEvent{Type: events.FamilyCreated, FamilyID: f.ID, ActorID: p.User.ID, Data: d})
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, d)
	return nil
}

// listFamilies lists the caller's families with their role in each.
func (s *Server) listFamilies(w http.ResponseWriter, r *http.Request, p *Principal) error {
	fams, err := s.store.FamilyListings(r.Context(), p.User.ID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, fams)
	return nil
}

func (s *Server) getFamily(w http.ResponseWriter, r *http.Request, p *Principal) error {
	id, _, err := s.familyAccess(r, p, anyMember)
	if err != nil {
		return err
	}
	d, err := s.familyDetails(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, d)
	return nil
}

type renameFamilyBody struct {
	Name Optional[string] `json:"name"`
}

func (b *renameFamilyBody) Validate(p Problems) {
	p.patchRequired("name", &b.Name, func(v string) string { return p.line("name", v, maxNameLen) })
}

func (s *Server) renameFamily(w http.ResponseWriter, r *http.Request, p *Principal) error {
	id, _, err := s.familyAccess(r, p, admin)
	if err != nil {
		return err
	}
	var b renameFamilyBody
	if err := decode(w, r, &b); err != nil {
		return err
	}
	var f *care.Family
	if b.Name.Set {
		err = s.store.Atomically(r.Context(), func(ctx context.Context) error {
			var err error
			if f, err = s.store.RenameFamily(ctx, id, b.Name.Value); err != nil {
				return err
			}
			s.familyChanged(ctx, id)
			return s.emit(ctx, domainEvent{Type: events.FamilyUpdated, FamilyID: id, ActorID: p.User.ID, Data: f})
		})
	} else {
		f, err = s.store.Family(r.Context(), id)
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, f)
	return nil
}

func (s *Server) deleteFamily(w http.ResponseWriter, r *http.Request, p *Principal) error {
	id, _, err := s.familyAccess(r, p, admin)
	if err != nil {
		return err
	}
	err = s.store.Atomically(r.Context(), func(ctx context.Context) error {
		f, err := s.store.Family(ctx, id)
		if err != nil {
			return err
		}
		members, err := s.store.Members(ctx, id)
		if err != nil {
			return err
		}
		if err := s.store.DeleteFamily(ctx, id); err != nil {
			return err
		}
		s.familyChanged(ctx, id)
		// The members it had, who lose its channels.
		users := make([]string, len(members))
		for i, m := range members {
			users[i] = m.UserID
		}
		return s.emit(ctx, domainEvent{Type: events.FamilyDeleted, FamilyID: id, ActorID: p.User.ID,
			Data: events.FamilyDeletedData{Family: f, UserIDs: users}})
	})
	if err != nil {
		return err
	}
	writeDeleted(w)
	return nil
}

func (s *Server) listMembers(w http.ResponseWriter, r *http.Request, p *Principal) error {
	id, _, err := s.familyAccess(r, p, anyMember)
	if err != nil {
		return err
	}
	members, err := s.store.Members(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, members)
	return nil
}

type memberRoleBody struct {
	Role care.Role `json:"role"`
}

func (b *memberRoleBody) Validate(p Problems) {
	p.oneOf("role", string(b.Role), care.Roles()...)
}

// memberError explains the member rules to the client.
func memberError(err error) error {
	switch {
	case errors.Is(err, store.ErrLastAdmin):
		return conflict("A family must keep at least one admin: make another member ADMIN first")
	case errors.Is(err, store.ErrNotFound):
		return notFound("Member")
	}
	return err
}

func (s *Server) changeMemberRole(w http.ResponseWriter, r *http.Request, p *Principal) error {
	memberID, err := pathID(r, "memberId")
	if err != nil {
		return err
	}
	familyID, _, err := s.familyAccess(r, p, admin)
	if err != nil {
		return err
	}
	var b memberRoleBody
	if err := decode(w, r, &b); err != nil {
		return err
	}
	var m *care.Member
	err = s.store.Atomically(r.Context(), func(ctx context.Context) error {
		was, err := s.store.Member(ctx, familyID, memberID)
		if err != nil {
			return err
		}
		if m, err = s.store.ChangeMemberRole(ctx, familyID, memberID, b.Role); err != nil {
			return err
		}
		s.membershipsChanged(ctx, m.UserID)
		if was.Role == m.Role {
			return nil
		}
		return s.emit(ctx, domainEvent{Type: events.MemberRoleUpdated, FamilyID: familyID, ActorID: p.User.ID,
			Data: events.MemberRoleData{Member: m, PreviousRole: was.Role}})
	})
	if err != nil {
		return memberError(err)
	}
	writeJSON(w, http.StatusOK, m)
	return nil
}

// removeMember ends a membership (an admin removing someone, or leaving
// themselves) and releases what the member had taken on in the family.
func (s *Server) removeMember(w http.ResponseWriter, r *http.Request, p *Principal) error {
	memberID, err := pathID(r, "memberId")
	if err != nil {
		return err
	}
	familyID, _, err := s.familyAccess(r, p, admin)
	if err != nil {
		return err
	}
	m, err := s.store.Member(r.Context(), familyID, memberID)
	if err != nil {
		return memberError(err)
	}
	err = s.store.Atomically(r.Context(), func(ctx context.Context) error {
		if err := s.store.RemoveMember(ctx, familyID, memberID); err != nil {
			return err
		}
		s.membershipsChanged(ctx, m.UserID)
		typ, why := events.MemberRemoved, memberName(m)+" was removed from the family"
		if m.UserID == p.User.ID {
			typ, why = events.MemberLeft, memberName(m)+" left the family"
		}
		if err := s.emit(ctx, domainEvent{Type: typ, FamilyID: familyID, ActorID: p.User.ID, Data: m}); err != nil {
			return err
		}
		return s.releaseCommitments(ctx, p, familyID, m.UserID, why)
	})
	if err != nil {
		return memberError(err)
	}
	writeDeleted(w)
	return nil
}

// memberName is how messages to the family name a member.
func memberName(m *care.Member) string {
	if m.User != nil && m.User.FullName != "" {
		return m.User.FullName
	}
	return "A member"
}

// releaseCommitments undoes, in the transaction that ends someone's
// membership of a family, what they had taken on there and can no longer
// do: the shifts they still had to work are cancelled, the appointments
// they were to drive to lose their driver, and the family's admins are told
// of each. why says what happened, as in "Bo Lee left the family".
func (s *Server) releaseCommitments(ctx context.Context, p *Principal, familyID, userID, why string) error {
	if err := s.releaseShifts(ctx, p, familyID, userID, why); err != nil {
		return err
	}
	return s.releaseTransport(ctx, p, familyID, userID, why)
}
