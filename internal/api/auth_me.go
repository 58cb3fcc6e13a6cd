package api

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/carecircle/carecircle/internal/care"
	"github.com/carecircle/carecircle/internal/feature/account"
)

// maxAvatarURLLen bounds an avatar link.
const maxAvatarURLLen = 2048

// meResponse is the signed-in user with the families they belong to.
type meResponse struct {
	*care.User
	Families []care.FamilySummary `json:"families"`
}

// me answers the caller's account and families; the families come from the
// cache (see cache.go), the account as authentication read it.
func (s *Server) me(w http.ResponseWriter, r *http.Request, p *Principal) error {
	families, err := s.base.UserFamilies(r.Context(), p.User.ID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, meResponse{User: p.User, Families: families})
	return nil
}

// updateMeRequest is the body of PATCH /auth/me. An explicit null clears
// phone and avatarUrl; fullName and timezone cannot be cleared.
type updateMeRequest struct {
	FullName  Optional[string] `json:"fullName"`
	Phone     Optional[string] `json:"phone"`
	Timezone  Optional[string] `json:"timezone"`
	AvatarURL Optional[string] `json:"avatarUrl"`
}

// Validate checks every field that is present and normalises it.
func (b *updateMeRequest) Validate(p Problems) {
	if b.FullName.Set {
		if b.FullName.Null {
			p.Add("fullName", "must not be null")
		} else {
			b.FullName.Value = p.text("fullName", b.FullName.Value, 100)
		}
	}
	if b.Timezone.Set {
		if b.Timezone.Null {
			p.Add("timezone", "must not be null")
		} else {
			p.timezone("timezone", b.Timezone.Value)
		}
	}
	if b.Phone.Set && !b.Phone.Null {
		// An empty phone clears it, as null does.
		if t := p.phone("phone", &b.Phone.Value); t != nil {
			b.Phone.Value = *t
		} else {
			b.Phone.Null = true
		}
	}
	if b.AvatarURL.Set && !b.AvatarURL.Null {
		v := strings.TrimSpace(b.AvatarURL.Value)
		switch {
		case v == "":
			b.AvatarURL.Null = true
		case !webURL(v):
			p.Add("avatarUrl", "must be an http or https URL")
		case len(v) > maxAvatarURLLen:
			p.Add("avatarUrl", "must be at most 2048 characters")
		}
		b.AvatarURL.Value = v
	}
}

// change turns the validated request into a profile change.
func (b *updateMeRequest) change() account.ProfileChange {
	return account.ProfileChange{
		FullName:    b.FullName.Ptr(),
		Phone:       b.Phone.Ptr(),
		ClearPhone:  b.Phone.Set && b.Phone.Null,
		Timezone:    b.Timezone.Ptr(),
		AvatarURL:   b.AvatarURL.Ptr(),
		ClearAvatar: b.AvatarURL.Set && b.AvatarURL.Null,
	}
}

// webURL reports whether s is an absolute http or https URL with a host.
func webURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" && u.User == nil
}

// updateMe changes the caller's profile and answers the updated account.
func (s *Server) updateMe(w http.ResponseWriter, r *http.Request, p *Principal) error {
	var b updateMeRequest
	if err := decode(w, r, &b); err != nil {
		return err
	}
	u, err := s.svc.Account.UpdateProfile(r.Context(), *p, b.change())
	return writeOK(w, u, err)
}

// completeOnboarding records that the caller finished the onboarding pages
// and answers {message, user}, as existing clients expect.
func (s *Server) completeOnboarding(w http.ResponseWriter, r *http.Request, p *Principal) error {
	if err := decodeOptional(w, r, &struct{}{}); err != nil {
		return err
	}
	u, err := s.svc.Account.CompleteOnboarding(r.Context(), *p)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"message": "Onboarding completed", "user": u})
	return nil
}

// invalidateCache drops the caller's cached memberships on every node, for
// a client that wants its next GET /auth/me read afresh.
func (s *Server) invalidateCache(w http.ResponseWriter, r *http.Request, p *Principal) error {
	if err := decodeOptional(w, r, &struct{}{}); err != nil {
		return err
	}
	s.svc.Account.ForgetMemberships(r.Context(), *p)
	writeJSON(w, http.StatusOK, map[string]bool{"success": true})
	return nil
}
