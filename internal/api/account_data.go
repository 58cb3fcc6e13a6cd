package api

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/carecircle/carecircle/internal/care"
	"github.com/carecircle/carecircle/internal/feature"
	"github.com/carecircle/carecircle/internal/feature/account"
	"github.com/carecircle/carecircle/internal/kv"
)

// exportLimit bounds how often one account may export its data: each export
// reads everything the user can see, which for a long-cared-for family is a
// lot of rows.
var exportLimit = kv.Limit{Count: 10, Period: time.Hour}

// accountDataRoutes registers the routes of a user's data export and account deletion.
func (s *Server) accountDataRoutes() {
	s.authed("GET", "/user/export", s.exportUserData)
	s.authed("GET", "/user/export/download", s.downloadUserData)
	s.authed("DELETE", "/user/delete-account", s.deleteAccount)
}

// exportUserData answers the caller's data export as JSON.
func (s *Server) exportUserData(w http.ResponseWriter, r *http.Request, p *Principal) error {
	return s.serveExport(w, r, p, false)
}

// downloadUserData answers the same export as a file to save.
func (s *Server) downloadUserData(w http.ResponseWriter, r *http.Request, p *Principal) error {
	return s.serveExport(w, r, p, true)
}

// serveExport streams the export: {exportedAt, user, then every section of
// account.Sections}, row by row, so its size does not bound memory. The
// read is recorded in the audit log before anything is served. Once the
// answer has started, a failure can no longer be told in the error envelope:
// the connection is cut, so the client sees a broken transfer rather than a
// complete-looking file with data missing.
func (s *Server) serveExport(w http.ResponseWriter, r *http.Request, p *Principal, download bool) error {
	ctx := r.Context()
	if err := s.limit(ctx, "user:export:"+p.User.ID, exportLimit); err != nil {
		return err
	}
	action := "user_data.export"
	if download {
		action = "user_data.download"
	}
	if err := s.auditRead(r, p, action, "user", p.User.ID); err != nil {
		return err
	}
	now := s.clock.Now().UTC()
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	if download {
		h.Set("Content-Disposition", `attachment; filename="`+exportFilename(p.User, now)+`"`)
	}
	w.WriteHeader(http.StatusOK)
	if err := s.writeExport(ctx, w, *p, now); err != nil {
		s.logger.ErrorContext(ctx, "data export interrupted", slog.String("userId", p.User.ID),
			slog.String("requestId", requestID(ctx)), slog.Any("error", err))
		panic(http.ErrAbortHandler)
	}
	return nil
}

// exportFilename is carecircle-export-YYYY-MM-DD.json, dated in the user's
// time zone.
func exportFilename(u *care.User, now time.Time) string {
	loc, err := time.LoadLocation(u.Timezone)
	if err != nil {
		loc = time.UTC
	}
	return "carecircle-export-" + now.In(loc).Format(time.DateOnly) + ".json"
}

// writeExport writes the actor's export document to w.
func (s *Server) writeExport(ctx context.Context, w io.Writer, a feature.Actor, now time.Time) error {
	bw := bufio.NewWriterSize(w, 32<<10)
	ew := &exportWriter{w: bw, enc: json.NewEncoder(bw)}
	ew.raw(`{"exportedAt":`)
	ew.value(now)
	ew.raw(`,"user":`)
	ew.value(a.User)
	for _, sec := range account.Sections() {
		if ew.err != nil {
			break
		}
		ew.raw(`,"` + string(sec) + `":[`) // section names are plain constants
		first := true
		err := s.svc.Account.EachExported(ctx, a, sec, func(v any) error {
			if !first {
				ew.raw(`,`)
			}
			first = false
			ew.value(v)
			return ew.err
		})
		if ew.err == nil {
			ew.err = err
		}
		ew.raw(`]`)
	}
	ew.raw("}\n")
	if ew.err != nil {
		return ew.err
	}
	return bw.Flush()
}

// exportWriter writes JSON pieces, keeping the first error.
type exportWriter struct {
	w   io.Writer
	enc *json.Encoder
	err error
}

func (e *exportWriter) raw(s string) {
	if e.err == nil {
		_, e.err = io.WriteString(e.w, s)
	}
}

func (e *exportWriter) value(v any) {
	if e.err == nil {
		e.err = e.enc.Encode(v)
	}
}
