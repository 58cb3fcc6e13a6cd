package web

import (
	"errors"
	"net/http"

	"github.com/google/uuid"

	"github.com/carecircle/carecircle/internal/feature"
)

// The contract's page paths.
func (s *Server) routes() {
	s.assetRoutes()
	s.mux.HandleFunc("GET /{$}", s.home)
	// Pages anyone may see.
	s.public("/login", "login", "Sign in")
	s.public("/register", "register", "Create your account")
	s.public("/verify-email", "verify", "Confirm your email")
	s.public("/forgot-password", "forgot", "Forgot your password")
	s.public("/reset-password", "reset", "Choose a new password")
	s.public("/offline", "offline", "You are offline")
	s.mux.HandleFunc("GET /accept-invite/{token}", s.acceptInvite)
	// Pages for signed-in users.
	s.app("/onboarding", "", s.onboarding)
	s.app("/dashboard", "dashboard", s.dashboard)
	s.app("/care-recipients", "care-recipients", s.careRecipients)
	s.app("/care-recipients/{id}", "care-recipients", s.careRecipientPage)
	s.app("/medications", "medications", s.medications)
	s.app("/calendar", "calendar", s.calendar)
	s.app("/caregivers", "caregivers", s.caregivers)
	s.app("/shifts/{id}", "caregivers", s.shiftPage)
	s.app("/emergency", "emergency", s.emergency)
	s.app("/emergency/{id}", "emergency", s.emergency)
	s.app("/timeline", "timeline", s.timeline)
	s.app("/documents", "documents", s.documents)
	s.app("/family", "family", s.family)
	s.app("/notifications", "notifications", s.notifications)
	s.app("/settings", "settings", s.settings)
	// The operator's page and River UI, for system administrators.
	s.app("/admin", "admin", s.adminPage)
	if s.jobsUI != nil {
		s.mux.HandleFunc("/admin/jobs/", s.serveJobsUI)
	}
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		v, _ := s.signedIn(r)
		s.notFound(w, r, v)
	})
}

// home sends the signed-in to their dashboard and everyone else to sign in.
func (s *Server) home(w http.ResponseWriter, r *http.Request) {
	if _, err := s.signedIn(r); err == nil {
		http.Redirect(w, r, "/dashboard", http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

// public serves a page that needs no account; the scripts do the work.
func (s *Server) public(path, name, title string) {
	s.mux.HandleFunc("GET "+path, func(w http.ResponseWriter, r *http.Request) {
		v, _ := s.signedIn(r)
		q := r.URL.Query()
		s.render(w, r, http.StatusOK, name, &page{Title: title, Viewer: v, Public: true, Data: map[string]string{
			"Email": q.Get("email"), "Token": q.Get("token"), "Next": safeNext(q.Get("next")),
		}})
	})
}

// errNotFound renders the 404 page: a missing thing, or one of a family the
// viewer is not in (which is not told apart).
var errNotFound = errors.New("web: not found")

// pageFunc fills a signed-in page; it returns errNotFound for the 404 page.
type pageFunc func(w http.ResponseWriter, r *http.Request, p *page) (name string, err error)

// app serves a page for signed-in users: without a session it redirects to
// sign in and back. The page is about the care recipient chosen with ?cr=
// (remembered in a cookie), else the viewer's first one.
func (s *Server) app(path, nav string, fn pageFunc) {
	s.mux.HandleFunc("GET "+path, func(w http.ResponseWriter, r *http.Request) {
		v, err := s.signedIn(r)
		if errors.Is(err, errSignedOut) {
			http.Redirect(w, r, loginURL(r), http.StatusSeeOther)
			return
		}
		if err != nil {
			s.fail(w, r, err)
			return
		}
		fams, err := s.base.UserFamilies(r.Context(), v.User.ID)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		p := &page{Nav: nav, Viewer: v, Families: fams}
		p.choose(r.URL.Query().Get("cr"), cookieValue(r, "cc_cr"), r.URL.Query().Get("family"))
		if c := r.URL.Query().Get("cr"); c != "" && p.CR != nil && p.CR.ID == c {
			http.SetCookie(w, &http.Cookie{Name: "cc_cr", Value: c, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode, MaxAge: 365 * 24 * 3600})
		}
		name, err := fn(w, r, p)
		switch {
		case errors.Is(err, errNotFound) || feature.IsNotFound(err) || notTheirs(err):
			s.notFound(w, r, v)
		case err != nil:
			s.fail(w, r, err)
		case name != "":
			s.render(w, r, http.StatusOK, name, p)
		}
	})
}

// choose picks the page's care recipient and family among the viewer's.
func (p *page) choose(wantCR, rememberedCR, wantFamily string) {
	for _, id := range []string{wantCR, rememberedCR} {
		for i := range p.Families {
			for j := range p.Families[i].CareRecipients {
				if id != "" && p.Families[i].CareRecipients[j].ID == id {
					p.Family, p.CR = &p.Families[i], &p.Families[i].CareRecipients[j]
					break
				}
			}
		}
		if p.CR != nil {
			break
		}
	}
	if wantFamily != "" && (p.Family == nil || p.Family.ID != wantFamily) {
		for i := range p.Families {
			if p.Families[i].ID == wantFamily {
				p.Family, p.CR = &p.Families[i], nil
				if len(p.Family.CareRecipients) > 0 {
					p.CR = &p.Family.CareRecipients[0]
				}
			}
		}
	}
	if p.Family == nil && len(p.Families) > 0 {
		p.Family = &p.Families[0]
		for i := range p.Families {
			if len(p.Families[i].CareRecipients) > 0 {
				p.Family, p.CR = &p.Families[i], &p.Families[i].CareRecipients[0]
				break
			}
		}
	}
}

// focus makes the care recipient with the given id (which must be one of
// the viewer's) the page's.
func (p *page) focus(crID string) error {
	for i := range p.Families {
		for j := range p.Families[i].CareRecipients {
			if p.Families[i].CareRecipients[j].ID == crID {
				p.Family, p.CR = &p.Families[i], &p.Families[i].CareRecipients[j]
				return nil
			}
		}
	}
	return errNotFound
}

func cookieValue(r *http.Request, name string) string {
	if c, err := r.Cookie(name); err == nil {
		return c.Value
	}
	return ""
}

// pathID reads a UUID path value; anything else is not found.
func pathID(r *http.Request, name string) (string, error) {
	id := r.PathValue(name)
	if _, err := uuid.Parse(id); err != nil {
		return "", errNotFound
	}
	return id, nil
}

// notTheirs reports whether the application layer refused err's read as
// missing or not the viewer's: both show the 404 page, so that a page
// never tells a stranger that something exists.
func notTheirs(err error) bool {
	k := feature.KindOf(err)
	return k == feature.KindNotFound || k == feature.KindForbidden
}
