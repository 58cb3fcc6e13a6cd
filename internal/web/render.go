package web

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/carecircle/carecircle/internal/care"
)

// pageTemplate is one page: the shared layout with the page's blocks.
type pageTemplate struct{ t *template.Template }

// parsePages parses every page under templates/pages with the layout and
// partials.
func parsePages() (map[string]*pageTemplate, error) {
	base, err := template.New("base").Funcs(funcs).ParseFS(files, "templates/*.html")
	if err != nil {
		return nil, fmt.Errorf("web: templates: %w", err)
	}
	names, err := fs.Glob(files, "templates/pages/*.html")
	if err != nil {
		return nil, err
	}
	pages := map[string]*pageTemplate{}
	for _, n := range names {
		t, err := template.Must(base.Clone()).ParseFS(files, n)
		if err != nil {
			return nil, fmt.Errorf("web: template %s: %w", n, err)
		}
		pages[strings.TrimSuffix(path.Base(n), ".html")] = &pageTemplate{t: t}
	}
	return pages, nil
}

// funcs are the template helpers that need no page.
var funcs = template.FuncMap{
	"json": func(v any) (string, error) {
		b, err := json.Marshal(v)
		return string(b), err
	},
	"deref": func(p *string) string {
		if p == nil {
			return ""
		}
		return *p
	},
	"derefInt": func(p *int) string {
		if p == nil {
			return ""
		}
		return fmt.Sprint(*p)
	},
	"join":  strings.Join,
	"lower": strings.ToLower,
	"title": func(s string) string { // "DOCTOR_VISIT" → "Doctor visit"
		s = strings.ToLower(strings.ReplaceAll(s, "_", " "))
		if s == "" {
			return s
		}
		return strings.ToUpper(s[:1]) + s[1:]
	},
	"initials": func(name string) string {
		var out []rune
		for _, f := range strings.Fields(name) {
			out = append(out, []rune(f)[0])
			if len(out) == 2 {
				break
			}
		}
		return strings.ToUpper(string(out))
	},
	"dict": func(kv ...any) map[string]any {
		m := map[string]any{}
		for i := 0; i+1 < len(kv); i += 2 {
			m[fmt.Sprint(kv[i])] = kv[i+1]
		}
		return m
	},
	"bytes": func(n int64) string {
		switch {
		case n >= 1<<20:
			return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
		case n >= 1<<10:
			return fmt.Sprintf("%.0f kB", float64(n)/(1<<10))
		}
		return fmt.Sprintf("%d B", n)
	},
}

// page is what every page template receives.
type page struct {
	Title     string
	Nav       string // the navigation entry to mark current
	APIPrefix string
	Viewer    *viewer
	// Families are the viewer's families; Family and CR the ones the page is
	// about (nil when the viewer has none yet).
	Families []care.FamilySummary
	Family   *care.FamilySummary
	CR       *care.CareRecipient
	Now      time.Time
	TokenTTL time.Duration
	// Public pages have no navigation and no live connection.
	Public bool
	Data   any
}

// viewerZone is the signed-in user's zone (UTC when signed out).
func (p *page) viewerZone() *time.Location {
	if p.Viewer == nil {
		return time.UTC
	}
	return zone(p.Viewer.User.Timezone)
}

// When formats an instant in the viewer's zone and, when the care recipient
// lives in a zone that shows another wall time, in theirs too.
func (p *page) When(t time.Time) string {
	return p.format(t, "Mon 2 Jan 15:04")
}

// Clock formats an instant's time of day the same way.
func (p *page) Clock(t time.Time) string {
	return p.format(t, "15:04")
}

func (p *page) format(t time.Time, layout string) string {
	mine := t.In(p.viewerZone())
	s := mine.Format(layout)
	if p.CR != nil {
		theirs := t.In(zone(p.CR.Timezone))
		if theirs.Format(layout) != s {
			s += " (" + theirs.Format(layout) + " " + shortZone(p.CR.Timezone) + ")"
		}
	}
	return s
}

// Day is the viewer's local date of t.
func (p *page) Day(t time.Time) string { return t.In(p.viewerZone()).Format("Monday 2 January") }

// ISO is t in RFC 3339 UTC, for machine-readable attributes.
func (p *page) ISO(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// LocalInput is t as a datetime-local value in the care recipient's zone.
func (p *page) LocalInput(t time.Time) string {
	loc := p.viewerZone()
	if p.CR != nil {
		loc = zone(p.CR.Timezone)
	}
	return t.In(loc).Format("2006-01-02T15:04")
}

// CanWrite reports whether the viewer may change the family's care data.
func (p *page) CanWrite() bool { return p.Family != nil && p.Family.Role.CanWrite() }

// IsAdmin reports whether the viewer is an admin of the page's family.
func (p *page) IsAdmin() bool { return p.Family != nil && p.Family.Role == care.RoleAdmin }

// FamilyIDs lists the viewer's family ids, for the live connection.
func (p *page) FamilyIDs() string {
	ids := make([]string, 0, len(p.Families))
	for _, f := range p.Families {
		ids = append(ids, f.ID)
	}
	return strings.Join(ids, " ")
}

// CareRecipientIDs lists every care recipient the viewer cares for.
func (p *page) CareRecipientIDs() string {
	var ids []string
	for _, f := range p.Families {
		for _, c := range f.CareRecipients {
			ids = append(ids, c.ID)
		}
	}
	return strings.Join(ids, " ")
}

// AllCareRecipients lists every care recipient the viewer cares for, with
// the family each belongs to.
func (p *page) AllCareRecipients() []care.CareRecipient {
	var out []care.CareRecipient
	for _, f := range p.Families {
		out = append(out, f.CareRecipients...)
	}
	return out
}

// shortZone is the city part of an IANA zone name.
func shortZone(name string) string {
	if i := strings.LastIndex(name, "/"); i >= 0 {
		name = name[i+1:]
	}
	return strings.ReplaceAll(name, "_", " ")
}

// render writes a page. Pages are never cached: they carry personal data.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, name string, p *page) {
	t, ok := s.pages[name]
	if !ok {
		s.fail(w, r, fmt.Errorf("web: no page %q", name))
		return
	}
	p.APIPrefix = s.cfg.APIPrefix
	p.Now = s.clock.Now()
	if s.tokens != nil {
		p.TokenTTL = s.tokens.TTL()
	}
	var buf bytes.Buffer
	if err := t.t.ExecuteTemplate(&buf, "layout", p); err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = buf.WriteTo(w)
}

// fail logs an unexpected error and answers a plain 500 page that leaks
// nothing.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, context.Canceled) && errors.Is(r.Context().Err(), context.Canceled) {
		// Not a fault: the browser stopped waiting (it navigated away).
		s.logger.DebugContext(r.Context(), "web page abandoned by the client", slog.String("path", r.URL.Path))
		return
	}
	s.logger.ErrorContext(r.Context(), "web page failed", slog.String("path", r.URL.Path), slog.Any("error", err))
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusInternalServerError)
	_, _ = w.Write([]byte(`<!doctype html><html lang="en"><meta charset="utf-8"><title>Something went wrong</title>` +
		`<link rel="stylesheet" href="/static/app.css"><main class="narrow"><h1>Something went wrong</h1>` +
		`<p>Please try again in a moment.</p><p><a href="/dashboard">Back to the dashboard</a></p></main></html>`))
}

// notFound answers the 404 page.
func (s *Server) notFound(w http.ResponseWriter, r *http.Request, v *viewer) {
	s.render(w, r, http.StatusNotFound, "notfound", &page{Title: "Not found", Viewer: v, Public: v == nil})
}
