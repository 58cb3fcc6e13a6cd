// Package timeline is the application layer of the timeline: a care
// recipient's journal entries, their vitals and incidents, and the family's
// activity feed. Its commands check access, apply the rules (the pure ones
// are in internal/care), run one transaction, and record their events and
// notifications (see internal/feature).
package timeline

import (
	"context"
	"time"

	"github.com/carecircle/carecircle/internal/care"
	"github.com/carecircle/carecircle/internal/events"
	"github.com/carecircle/carecircle/internal/feature"
	"github.com/carecircle/carecircle/internal/store"
)

// maxVitalsPoints bounds one vitals history answer (a year of several
// readings a day).
const maxVitalsPoints = 5000

// Service runs the timeline's commands and queries.
type Service struct {
	b       *feature.Base
	entries feature.Records[care.TimelineEntry]
}

// New builds the service on the shared base.
func New(b *feature.Base) *Service {
	return &Service{b: b, entries: feature.Records[care.TimelineEntry]{
		Base: b, What: "Timeline entry", Load: b.Store.TimelineEntry,
		ID:     func(e *care.TimelineEntry) string { return e.ID },
		Owner:  func(e *care.TimelineEntry) *string { return &e.CareRecipientID },
		Create: b.Store.CreateTimelineEntry, Delete: b.Store.DeleteTimelineEntry,
	}}
}

// Filter picks and pages a care recipient's entries (see
// store.TimelineFilter).
type Filter = store.TimelineFilter

// Page is one page of a list: at most Limit items after skipping Offset.
type Page struct {
	Limit, Offset int
}

// mayChange applies care.MayChangeTimelineEntry: the author or a family
// ADMIN, never a VIEWER.
func mayChange(m feature.Membership, a feature.Actor, e *care.TimelineEntry) error {
	if care.MayChangeTimelineEntry(m.Role, a.ID(), e) {
		return nil
	}
	if !m.Role.CanWrite() {
		return feature.Forbidden("Viewers cannot make changes")
	}
	return feature.Forbidden("Only the entry's author or a family admin can change it")
}

// Create records an entry about the care recipient crID (a writer's
// command), by the actor. A HIGH or CRITICAL entry is announced to the rest
// of the family at once.
func (s *Service) Create(ctx context.Context, a feature.Actor, crID string, read feature.Input[care.TimelineEntry]) (*care.TimelineEntry, error) {
	byActor := func() (care.TimelineEntry, error) {
		in, err := read()
		author := a.ID()
		in.CreatedByID = &author
		return in, err
	}
	return s.entries.AddThen(ctx, a, crID, byActor, events.TimelineEntryCreated, func(ctx context.Context, cr *care.CareRecipient, e *care.TimelineEntry) error {
		if !e.IsUrgent() {
			return nil
		}
		return s.notifyUrgent(ctx, a, cr, e)
	})
}

// List lists the care recipient's entries, newest first, that the filter
// returned by filter picks; filter reads it in the care recipient's zone
// (dates are local days there; UTC if the stored zone no longer loads).
func (s *Service) List(ctx context.Context, a feature.Actor, crID string, filter func(loc *time.Location) (Filter, error)) ([]care.TimelineEntry, error) {
	return feature.ListIn(ctx, s.b, a, crID, filter, s.b.Store.TimelineEntries)
}

// VitalsReading is one reading of the vitals chart.
type VitalsReading struct {
	ID         string            `json:"id"`
	Type       care.TimelineType `json:"type"`
	Title      string            `json:"title"`
	OccurredAt time.Time         `json:"occurredAt"`
	Vitals     *care.Vitals      `json:"vitals"`
}

// Vitals lists the vitals recorded over the last days (which read returns),
// oldest first, for a chart.
func (s *Service) Vitals(ctx context.Context, a feature.Actor, crID string, read feature.Input[int]) ([]VitalsReading, error) {
	cr, _, err := s.b.CareRecipient(ctx, a, crID, feature.AnyMember)
	if err != nil {
		return nil, err
	}
	days, err := read()
	if err != nil {
		return nil, err
	}
	since := s.b.Clock.Now().Add(-time.Duration(days) * 24 * time.Hour)
	list, err := s.b.Store.VitalsHistory(ctx, cr.ID, since, maxVitalsPoints)
	if err != nil {
		return nil, err
	}
	out := make([]VitalsReading, len(list))
	for i, e := range list {
		out[i] = VitalsReading{ID: e.ID, Type: e.Type, Title: e.Title, OccurredAt: e.OccurredAt, Vitals: e.Vitals}
	}
	return out, nil
}

// Incidents lists what went wrong: INCIDENT entries and every entry graded
// HIGH or CRITICAL, newest first, one page of them.
func (s *Service) Incidents(ctx context.Context, a feature.Actor, crID string, read feature.Input[Page]) ([]care.TimelineEntry, error) {
	cr, _, err := s.b.CareRecipient(ctx, a, crID, feature.AnyMember)
	if err != nil {
		return nil, err
	}
	p, err := read()
	if err != nil {
		return nil, err
	}
	return s.b.Store.TimelineIncidents(ctx, cr.ID, p.Limit, p.Offset)
}

// Get returns the entry entryID; with crID set, only if it is that care
// recipient's.
func (s *Service) Get(ctx context.Context, a feature.Actor, crID, entryID string) (*care.TimelineEntry, error) {
	e, _, _, err := s.entries.Get(ctx, a, crID, entryID, feature.AnyMember)
	return e, err
}

// Update edits an entry, which only its author or a family admin may do.
// The edit read changes it as the caller asked and checks the result as a
// whole. An entry that becomes HIGH or CRITICAL is announced as a new one
// would be.
func (s *Service) Update(ctx context.Context, a feature.Actor, crID, entryID string, read feature.Input[feature.Edit[care.TimelineEntry]]) (*care.TimelineEntry, error) {
	e, cr, m, err := s.entries.Get(ctx, a, crID, entryID, feature.AnyMember)
	if err != nil {
		return nil, err
	}
	if err := mayChange(m, a, e); err != nil {
		return nil, err
	}
	edit, err := read()
	if err != nil {
		return nil, err
	}
	var up *care.TimelineEntry
	err = s.b.Atomically(ctx, func(ctx context.Context) error {
		var wasUrgent bool
		var err error
		up, err = s.b.Store.UpdateTimelineEntry(ctx, e.ID, func(cur *care.TimelineEntry) error {
			wasUrgent = cur.IsUrgent()
			return edit(cur)
		})
		if err != nil {
			return err
		}
		if err := s.b.EmitAbout(ctx, a, cr, events.TimelineEntryUpdated, up); err != nil {
			return err
		}
		if wasUrgent || !up.IsUrgent() {
			return nil
		}
		return s.notifyUrgent(ctx, a, cr, up)
	})
	if err != nil {
		return nil, s.entries.Missing(err)
	}
	return up, nil
}

// Delete deletes an entry, which only its author or a family admin may do.
func (s *Service) Delete(ctx context.Context, a feature.Actor, crID, entryID string) error {
	e, cr, m, err := s.entries.Get(ctx, a, crID, entryID, feature.AnyMember)
	if err != nil {
		return err
	}
	if err := mayChange(m, a, e); err != nil {
		return err
	}
	return s.entries.Remove(ctx, a, cr, e, events.TimelineEntryDeleted)
}

// notifyUrgent tells the other active members of a HIGH or CRITICAL entry,
// in the transaction that records it. Each member hears of an entry once,
// however often it is edited.
func (s *Service) notifyUrgent(ctx context.Context, a feature.Actor, cr *care.CareRecipient, e *care.TimelineEntry) error {
	text := care.UrgentEntryText(a.User.FullName, cr, e)
	return s.b.NotifyFamily(ctx, cr.FamilyID, a.ID(), nil, care.NotificationDraft{
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
