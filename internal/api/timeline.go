package api

import (
	"net/http"
	"strings"
	"time"

	"github.com/carecircle/carecircle/internal/care"
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
	return createByID(w, r, p, "careRecipientId", s.svc.Timeline.Create, &timelineBody{now: s.clock.Now()})
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
	return writeOK(w, list, err)
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
	return p.wholeNumber("limit", q.Get("limit"), defaultTimelineLimit, 1, maxTimelineLimit),
		p.wholeNumber("offset", q.Get("offset"), 0, 0, maxTimelineOffset)
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
		days := problems.wholeNumber("days", r.URL.Query().Get("days"), defaultVitalsDays, 1, care.MaxVitalsDays)
		return days, problems.Err()
	})
	return writeOK(w, list, err)
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
	return writeOK(w, list, err)
}

func (s *Server) getTimelineEntry(w http.ResponseWriter, r *http.Request, p *Principal) error {
	return answerByIDs(w, r, p, timelineEntryIDs, s.svc.Timeline.Get, writeOK)
}

// updateTimelineEntry edits an entry (its author or a family admin). An
// entry that becomes HIGH or CRITICAL is announced as a new one would be.
func (s *Server) updateTimelineEntry(w http.ResponseWriter, r *http.Request, p *Principal) error {
	return updateByIDs(w, r, p, timelineEntryIDs, s.svc.Timeline.Update, &timelinePatch{now: s.clock.Now()})
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
