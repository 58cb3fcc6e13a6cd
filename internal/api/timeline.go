package api

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/carecircle/carecircle/internal/care"
	"github.com/carecircle/carecircle/internal/events"
	"github.com/carecircle/carecircle/internal/store"
)

// Paging of timeline lists and the vitals chart.
const (
	defaultTimelineLimit = 50
	maxTimelineLimit     = 200
	maxTimelineOffset    = 1_000_000
	defaultVitalsDays    = 7
	// maxVitalsPoints bounds one vitals history answer (a year of several
	// readings a day).
	maxVitalsPoints = 5000
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

// timelineEntryAccess loads the entry {entryId} and checks that the
// principal is a member of its care recipient's family with at least n.
// Under /care-recipients/{careRecipientId}, an entry of another care
// recipient is not found.
func (s *Server) timelineEntryAccess(r *http.Request, p *Principal, n need) (*care.TimelineEntry, *care.CareRecipient, *care.Member, error) {
	id, err := pathID(r, "entryId")
	if err != nil {
		return nil, nil, nil, err
	}
	var crID string
	if r.PathValue("careRecipientId") != "" {
		if crID, err = pathID(r, "careRecipientId"); err != nil {
			return nil, nil, nil, err
		}
	}
	e, err := s.store.TimelineEntry(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && crID != "" && e.CareRecipientID != crID) {
		return nil, nil, nil, notFound("Timeline entry")
	}
	if err != nil {
		return nil, nil, nil, err
	}
	cr, m, err := s.careRecipientMember(r.Context(), p, e.CareRecipientID, n)
	if err != nil {
		return nil, nil, nil, err
	}
	return e, cr, m, nil
}

// createTimelineEntry records an entry about the care recipient. A HIGH or
// CRITICAL entry is announced to the rest of the family at once.
func (s *Server) createTimelineEntry(w http.ResponseWriter, r *http.Request, p *Principal) error {
	cr, err := s.careRecipientAccess(r, p, "careRecipientId", writer)
	if err != nil {
		return err
	}
	b := timelineBody{now: s.clock.Now()}
	if err := decode(w, r, &b); err != nil {
		return err
	}
	var e *care.TimelineEntry
	err = s.store.Atomically(r.Context(), func(ctx context.Context) error {
		var err error
		if e, err = s.store.CreateTimelineEntry(ctx, b.entry(cr.ID, p.User.ID)); err != nil {
			return err
		}
		if err := s.emitTimeline(ctx, p, cr, events.TimelineEntryCreated, e); err != nil {
			return err
		}
		if !e.IsUrgent() {
			return nil
		}
		return s.notifyUrgentEntry(ctx, p, cr, e)
	})
	switch {
	case errors.Is(err, store.ErrNotFound), errors.Is(err, store.ErrReference):
		return notFound("Care recipient")
	case err != nil:
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
	cr, err := s.careRecipientAccess(r, p, "careRecipientId", anyMember)
	if err != nil {
		return err
	}
	f, err := timelineQuery(r, timelineZone(cr))
	if err != nil {
		return err
	}
	list, err := s.store.TimelineEntries(r.Context(), cr.ID, f)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, list)
	return nil
}

// timelineQuery reads the filters and paging of a timeline list.
func timelineQuery(r *http.Request, loc *time.Location) (store.TimelineFilter, error) {
	q, p := r.URL.Query(), Problems{}
	var f store.TimelineFilter
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

// timelineZone is the care recipient's zone, in which dates are read; UTC
// if the stored name no longer loads.
func timelineZone(cr *care.CareRecipient) *time.Location {
	loc, err := time.LoadLocation(cr.Timezone)
	if err != nil {
		return time.UTC
	}
	return loc
}

// vitalsPoint is one reading of the vitals chart.
type vitalsPoint struct {
	ID         string            `json:"id"`
	Type       care.TimelineType `json:"type"`
	Title      string            `json:"title"`
	OccurredAt time.Time         `json:"occurredAt"`
	Vitals     *care.Vitals      `json:"vitals"`
}

// vitalsHistory lists the vitals recorded over the last ?days (7, at most
// a year), oldest first, for a chart.
func (s *Server) vitalsHistory(w http.ResponseWriter, r *http.Request, p *Principal) error {
	cr, err := s.careRecipientAccess(r, p, "careRecipientId", anyMember)
	if err != nil {
		return err
	}
	problems := Problems{}
	days := timelineInt(problems, "days", r.URL.Query().Get("days"), defaultVitalsDays, 1, care.MaxVitalsDays)
	if err := problems.Err(); err != nil {
		return err
	}
	since := s.clock.Now().Add(-time.Duration(days) * 24 * time.Hour)
	list, err := s.store.VitalsHistory(r.Context(), cr.ID, since, maxVitalsPoints)
	if err != nil {
		return err
	}
	out := make([]vitalsPoint, len(list))
	for i, e := range list {
		out[i] = vitalsPoint{ID: e.ID, Type: e.Type, Title: e.Title, OccurredAt: e.OccurredAt, Vitals: e.Vitals}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// timelineIncidents lists what went wrong: INCIDENT entries and every
// entry graded HIGH or CRITICAL, newest first, with ?limit and ?offset.
func (s *Server) timelineIncidents(w http.ResponseWriter, r *http.Request, p *Principal) error {
	cr, err := s.careRecipientAccess(r, p, "careRecipientId", anyMember)
	if err != nil {
		return err
	}
	problems := Problems{}
	limit, offset := timelinePage(problems, r)
	if err := problems.Err(); err != nil {
		return err
	}
	list, err := s.store.TimelineIncidents(r.Context(), cr.ID, limit, offset)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, list)
	return nil
}

func (s *Server) getTimelineEntry(w http.ResponseWriter, r *http.Request, p *Principal) error {
	e, _, _, err := s.timelineEntryAccess(r, p, anyMember)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, e)
	return nil
}

// mayChangeEntry applies care.MayChangeTimelineEntry: the author or a
// family ADMIN, never a VIEWER.
func mayChangeEntry(m *care.Member, p *Principal, e *care.TimelineEntry) error {
	if care.MayChangeTimelineEntry(m.Role, p.User.ID, e) {
		return nil
	}
	if !m.Role.CanWrite() {
		return forbidden("Viewers cannot make changes")
	}
	return forbidden("Only the entry's author or a family admin can change it")
}

// updateTimelineEntry edits an entry. An entry that becomes HIGH or
// CRITICAL is announced as a new one would be.
func (s *Server) updateTimelineEntry(w http.ResponseWriter, r *http.Request, p *Principal) error {
	e, cr, m, err := s.timelineEntryAccess(r, p, anyMember)
	if err != nil {
		return err
	}
	if err := mayChangeEntry(m, p, e); err != nil {
		return err
	}
	b := timelinePatch{now: s.clock.Now()}
	if err := decode(w, r, &b); err != nil {
		return err
	}
	var up *care.TimelineEntry
	err = s.store.Atomically(r.Context(), func(ctx context.Context) error {
		var wasUrgent bool
		var err error
		up, err = s.store.UpdateTimelineEntry(ctx, e.ID, func(cur *care.TimelineEntry) error {
			wasUrgent = cur.IsUrgent()
			return b.apply(cur)
		})
		if err != nil {
			return err
		}
		if err := s.emitTimeline(ctx, p, cr, events.TimelineEntryUpdated, up); err != nil {
			return err
		}
		if wasUrgent || !up.IsUrgent() {
			return nil
		}
		return s.notifyUrgentEntry(ctx, p, cr, up)
	})
	if errors.Is(err, store.ErrNotFound) {
		return notFound("Timeline entry")
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, up)
	return nil
}

func (s *Server) deleteTimelineEntry(w http.ResponseWriter, r *http.Request, p *Principal) error {
	e, cr, m, err := s.timelineEntryAccess(r, p, anyMember)
	if err != nil {
		return err
	}
	if err := mayChangeEntry(m, p, e); err != nil {
		return err
	}
	err = s.store.Atomically(r.Context(), func(ctx context.Context) error {
		if err := s.store.DeleteTimelineEntry(ctx, e.ID); err != nil {
			return err
		}
		return s.emitTimeline(ctx, p, cr, events.TimelineEntryDeleted, e)
	})
	if errors.Is(err, store.ErrNotFound) {
		return notFound("Timeline entry")
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]bool{"success": true})
	return nil
}

// emitTimeline announces a change to an entry to the family; e is the
// entry as the API answers it (as it was, for a deletion).
func (s *Server) emitTimeline(ctx context.Context, p *Principal, cr *care.CareRecipient, typ string, e *care.TimelineEntry) error {
	return s.emit(ctx, domainEvent{Type: typ, FamilyID: cr.FamilyID, CareRecipientID: cr.ID, ActorID: p.User.ID, Data: e})
}

// notifyUrgentEntry tells the other active members of a HIGH or CRITICAL
// entry, in the transaction that records it. Each member hears of an entry
// once, however often it is edited.
func (s *Server) notifyUrgentEntry(ctx context.Context, p *Principal, cr *care.CareRecipient, e *care.TimelineEntry) error {
	text := care.UrgentEntryText(p.User.FullName, cr, e)
	return s.notifyFamily(ctx, cr.FamilyID, p.User.ID, nil, care.NotificationDraft{
		Type:  care.NotifyTimelineUpdate,
		Title: text.Title,
		Body:  text.Body,
		Data: map[string]any{
			"timelineEntryId": e.ID, "careRecipientId": cr.ID, "type": e.Type, "severity": *e.Severity,
			"occurredAt": e.OccurredAt.Format(time.RFC3339),
		},
		DedupeKey: "timeline-urgent:" + e.ID,
	})
}
