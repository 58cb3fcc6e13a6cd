package api

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/carecircle/carecircle/internal/care"
	"github.com/carecircle/carecircle/internal/feature"
	"github.com/carecircle/carecircle/internal/feature/timeline"
)

// Paging of timeline lists and the vitals chart.
const (
	defaultTimelineLimit = 50
	maxTimelineLimit     = 200
	maxTimelineOffset    = 1_000_000
	defaultVitalsDays    = 7
)

// timelineRoutes registers the routes of timeline entries, vitals history and incidents.
func (s *Server) timelineRoutes() {
	const base = "/care-recipients/{careRecipientId}/timeline"
	s.authed("POST", base, s.createTimelineEntry)
	s.authed("GET", base, s.listTimeline)
	s.authed("GET", base+"/vitals", s.vitalsHistory)
	s.authed("GET", base+"/incidents", s.timelineIncidents)
	s.authed("GET", "/timeline/{entryId}", s.getTimelineEntry)
	s.authed("PATCH", "/timeline/{entryId}", s.updateTimelineEntry)
	s.authed("DELETE", "/timeline/{entryId}", s.deleteTimelineEntry)
	// The same, under the care recipient, as existing clients call them.
	s.authed("GET", base+"/{entryId}", s.getTimelineEntry)
	s.authed("PATCH", base+"/{entryId}", s.updateTimelineEntry)
	s.authed("DELETE", base+"/{entryId}", s.deleteTimelineEntry)
}

// timelineEntryIDs reads the path's entry id and, under
// /care-recipients/{careRecipientId}, its care recipient's ("" otherwise).
func timelineEntryIDs(r *http.Request) (crID, entryID string, err error) {
	if entryID, err = pathID(r, "entryId"); err != nil {
		return "", "", err
	}
	if r.PathValue("careRecipientId") != "" {
		if crID, err = pathID(r, "careRecipientId"); err != nil {
			return "", "", err
		}
	}
	return crID, entryID, nil
}

// createTimelineEntry records an entry about the care recipient. A HIGH or
// CRITICAL entry is announced to the rest of the family at once.
func (s *Server) createTimelineEntry(w http.ResponseWriter, r *http.Request, p *Principal) error {
	crID, err := pathID(r, "careRecipientId")
	if err != nil {
		return err
	}
	e, err := s.svc.Timeline.Create(r.Context(), *p, crID, func() (care.TimelineEntry, error) {
		b := timelineBody{now: s.clock.Now()}
		err := decode(w, r, &b)
		return b.entry(), err
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, e)
	return nil
}

// listTimeline lists the care recipient's entries, newest first: ?type (one
// type or several, comma-separated), ?startDate and ?endDate (RFC 3339
// instants, or YYYY-MM-DD dates in the care recipient's zone, both
// inclusive), ?limit (50) and ?offset.
func (s *Server) listTimeline(w http.ResponseWriter, r *http.Request, p *Principal) error {
	crID, err := pathID(r, "careRecipientId")
	if err != nil {
		return err
	}
	list, err := s.svc.Timeline.List(r.Context(), *p, crID, func(loc *time.Location) (timeline.Filter, error) {
		return timelineQuery(r, loc)
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, list)
	return nil
}

// timelineQuery reads the filters and paging of a timeline list.
func timelineQuery(r *http.Request, loc *time.Location) (timeline.Filter, error) {
	q, p := r.URL.Query(), Problems{}
	var f timeline.Filter
	if v := q.Get("type"); v != "" {
		for _, t := range strings.Split(v, ",") {
			t = strings.TrimSpace(t)
			p.oneOf("type", t, care.TimelineTypes()...)
			f.Types = append(f.Types, care.TimelineType(t))
		}
	}
	f.From, f.To = p.dateRange(q, loc)
	f.Limit, f.Offset = timelinePage(p, r)
	return f, p.Err()
}

// timelinePage reads ?limit (1 to 200, 50 by default) and ?offset.
func timelinePage(p Problems, r *http.Request) (limit, offset int) {
	q := r.URL.Query()
	return timelineInt(p, "limit", q.Get("limit"), defaultTimelineLimit, 1, maxTimelineLimit),
		timelineInt(p, "offset", q.Get("offset"), 0, 0, maxTimelineOffset)
}

// timelineInt reads an optional whole-number query parameter within
// [lo, hi], def when absent or wrong (wrong is recorded in p).
func timelineInt(p Problems, field, v string, def, lo, hi int) int {
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		p.Add(field, "must be a whole number from "+strconv.Itoa(lo)+" to "+strconv.Itoa(hi))
		return def
	}
	return n
}

// vitalsHistory lists the vitals recorded over the last ?days (7, at most
// a year), oldest first, for a chart.
func (s *Server) vitalsHistory(w http.ResponseWriter, r *http.Request, p *Principal) error {
	crID, err := pathID(r, "careRecipientId")
	if err != nil {
		return err
	}
	list, err := s.svc.Timeline.Vitals(r.Context(), *p, crID, func() (int, error) {
		problems := Problems{}
		days := timelineInt(problems, "days", r.URL.Query().Get("days"), defaultVitalsDays, 1, care.MaxVitalsDays)
		return days, problems.Err()
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, list)
	return nil
}

// timelineIncidents lists what went wrong: INCIDENT entries and every
// entry graded HIGH or CRITICAL, newest first, with ?limit and ?offset.
func (s *Server) timelineIncidents(w http.ResponseWriter, r *http.Request, p *Principal) error {
	crID, err := pathID(r, "careRecipientId")
	if err != nil {
		return err
	}
	list, err := s.svc.Timeline.Incidents(r.Context(), *p, crID, func() (timeline.Page, error) {
		problems := Problems{}
		limit, offset := timelinePage(problems, r)
		return timeline.Page{Limit: limit, Offset: offset}, problems.Err()
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, list)
	return nil
}

func (s *Server) getTimelineEntry(w http.ResponseWriter, r *http.Request, p *Principal) error {
	crID, entryID, err := timelineEntryIDs(r)
	if err != nil {
		return err
	}
	e, err := s.svc.Timeline.Get(r.Context(), *p, crID, entryID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, e)
	return nil
}

// updateTimelineEntry edits an entry (its author or a family admin). An
// entry that becomes HIGH or CRITICAL is announced as a new one would be.
func (s *Server) updateTimelineEntry(w http.ResponseWriter, r *http.Request, p *Principal) error {
	crID, entryID, err := timelineEntryIDs(r)
	if err != nil {
		return err
	}
	e, err := s.svc.Timeline.Update(r.Context(), *p, crID, entryID, func() (feature.Edit[care.TimelineEntry], error) {
		b := timelinePatch{now: s.clock.Now()}
		err := decode(w, r, &b)
		return b.apply, err
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, e)
	return nil
}

// deleteTimelineEntry deletes an entry (its author or a family admin).
func (s *Server) deleteTimelineEntry(w http.ResponseWriter, r *http.Request, p *Principal) error {
	crID, entryID, err := timelineEntryIDs(r)
	if err != nil {
		return err
	}
	if err := s.svc.Timeline.Delete(r.Context(), *p, crID, entryID); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]bool{"success": true})
	return nil
}
