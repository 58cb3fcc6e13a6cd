package api

import (
	"encoding/json"
	"errors"
	"strconv"
	"time"

	"github.com/carecircle/carecircle/internal/care"
)

// Bounds on timeline entries' fields.
const (
	// timelineFutureSlack tolerates a device clock a little ahead of ours
	// when an entry says when it happened.
	timelineFutureSlack = 5 * time.Minute
	maxTimelineTitleLen = 200
)

// timelineBody is the body of POST /care-recipients/{careRecipientId}/timeline.
type timelineBody struct {
	Type        string       `json:"type"`
	Title       string       `json:"title"`
	Description *string      `json:"description"`
	Severity    *string      `json:"severity"`
	Vitals      *care.Vitals `json:"vitals"`
	Attachments []string     `json:"attachments"`
	OccurredAt  *string      `json:"occurredAt"`

	now      time.Time // the server's clock, set before decoding
	occurred time.Time // OccurredAt parsed, now when absent
}

func (b *timelineBody) Validate(p Problems) {
	p.oneOf("type", b.Type, care.TimelineTypes()...)
	b.Title = p.line("title", b.Title, maxTimelineTitleLen)
	b.Description = p.optText("description", b.Description, maxNotesLen)
	if b.Severity != nil {
		p.oneOf("severity", *b.Severity, care.Severities()...)
	}
	b.Attachments = p.timelineAttachments(b.Attachments)
	b.occurred = b.now
	if b.OccurredAt != nil {
		if t, ok := p.timelineInstant("occurredAt", *b.OccurredAt, b.now); ok {
			b.occurred = t
		}
	}
	p.timelineVitals(care.TimelineType(b.Type), b.Vitals)
}

// input is the new entry the body describes (the timeline service sets
// its care recipient and author).
func (b *timelineBody) input() care.TimelineEntry {
	e := care.TimelineEntry{
		Type: care.TimelineType(b.Type), Title: b.Title, Description: b.Description, Vitals: b.Vitals,
		Attachments: b.Attachments, OccurredAt: b.occurred,
	}
	if b.Severity != nil {
		sev := care.Severity(*b.Severity)
		e.Severity = &sev
	}
	return e
}

// timelinePatch is the body of PATCH /timeline/{entryId}: every field may be
// left out; description, severity and vitals may be cleared with null.
type timelinePatch struct {
	Type        Optional[string]    `json:"type"`
	Title       Optional[string]    `json:"title"`
	Description Optional[string]    `json:"description"`
	Severity    Optional[string]    `json:"severity"`
	Vitals      Optional[rawVitals] `json:"vitals"`
	Attachments Optional[[]string]  `json:"attachments"`
	OccurredAt  Optional[string]    `json:"occurredAt"`

	now      time.Time    // the server's clock, set before decoding
	vitals   *care.Vitals // Vitals decoded
	occurred *time.Time   // OccurredAt parsed
}

// rawVitals keeps the vitals of a PATCH body as sent, so that they are
// decoded as strictly as a POST body's (Optional's own decoding would let
// unknown readings through).
type rawVitals json.RawMessage

func (v *rawVitals) UnmarshalJSON(b []byte) error {
	*v = append((*v)[:0], b...)
	return nil
}

func (b *timelinePatch) Validate(p Problems) {
	p.patchRequired("type", &b.Type, func(v string) string {
		p.oneOf("type", v, care.TimelineTypes()...)
		return v
	})
	p.patchRequired("title", &b.Title, func(v string) string { return p.line("title", v, maxTimelineTitleLen) })
	patchOptional(&b.Description, func(v *string) *string { return p.optText("description", v, maxNotesLen) })
	if b.Severity.Set && !b.Severity.Null {
		p.oneOf("severity", b.Severity.Value, care.Severities()...)
	}
	if b.Attachments.Set {
		b.Attachments.Value, b.Attachments.Null = p.timelineAttachments(b.Attachments.Value), false
	}
	switch {
	case !b.OccurredAt.Set:
	case b.OccurredAt.Null:
		p.Add("occurredAt", "must not be null")
	default:
		if t, ok := p.timelineInstant("occurredAt", b.OccurredAt.Value, b.now); ok {
			b.occurred = &t
		}
	}
	if b.Vitals.Set && !b.Vitals.Null {
		var v care.Vitals
		if err := decodeJSON([]byte(b.Vitals.Value), &v); err != nil {
			p.nested("vitals", err)
		} else {
			b.vitals = &v
		}
	}
}

// apply changes e as the patch says and checks the entry it makes as a
// whole (a VITALS entry keeps its vitals, and they are in range).
func (b *timelinePatch) apply(e *care.TimelineEntry) error {
	if b.Type.Set && !b.Type.Null {
		e.Type = care.TimelineType(b.Type.Value)
	}
	assignRequired(&e.Title, b.Title)
	assign(&e.Description, b.Description)
	if b.Severity.Set {
		e.Severity = nil
		if !b.Severity.Null {
			sev := care.Severity(b.Severity.Value)
			e.Severity = &sev
		}
	}
	if b.Vitals.Set {
		e.Vitals = b.vitals
	}
	if b.Attachments.Set {
		e.Attachments = b.Attachments.Value
	}
	if b.occurred != nil {
		e.OccurredAt = *b.occurred
	}
	p := Problems{}
	p.timelineVitals(e.Type, e.Vitals)
	return p.Err()
}

// timelineVitals checks an entry's vitals: every reading in range with its
// unit, and some vitals on a VITALS entry. Problems name the reading, as
// "vitals.heartRate".
func (p Problems) timelineVitals(typ care.TimelineType, v *care.Vitals) {
	if v == nil {
		if typ == care.TimelineVitals {
			p.Add("vitals", "is required for a VITALS entry")
		}
		return
	}
	for _, pr := range v.Check() {
		field := "vitals"
		if pr.Field != "vitals" {
			field += "." + pr.Field
		}
		p.Add(field, pr.Reason)
	}
}

// timelineAttachments checks the attachment links: at most
// care.MaxTimelineAttachments http(s) URLs. It never returns nil.
func (p Problems) timelineAttachments(v []string) []string {
	if len(v) > care.MaxTimelineAttachments {
		p.Add("attachments", "must have at most "+strconv.Itoa(care.MaxTimelineAttachments)+" links")
		return []string{}
	}
	out := make([]string, 0, len(v))
	for i, link := range v {
		field := "attachments[" + strconv.Itoa(i) + "]"
		if t := p.webURL(field, &link); t != nil {
			out = append(out, *t)
		} else {
			p.Add(field, "is required")
		}
	}
	return out
}

// timelineInstant checks when an entry happened: an RFC 3339 timestamp, not
// in the future and not before 1970.
func (p Problems) timelineInstant(field, v string, now time.Time) (time.Time, bool) {
	t, err := time.Parse(time.RFC3339, v)
	switch {
	case err != nil:
		p.Add(field, "must be an RFC 3339 timestamp such as 2026-03-02T09:00:00Z")
	case t.Year() < 1970:
		p.Add(field, "must not be before 1970")
	case t.After(now.Add(timelineFutureSlack)):
		p.Add(field, "must not be in the future")
	default:
		return t.UTC(), true
	}
	return time.Time{}, false
}

// nested records a decoding error of the object in field under that
// field's name ("vitals.heartRate").
func (p Problems) nested(field string, err error) {
	var e *Error
	if !errors.As(err, &e) || len(e.Fields) == 0 {
		p.Add(field, "must be an object of readings")
		return
	}
	for f, reasons := range e.Fields {
		for _, r := range reasons {
			p.Add(field+"."+f, r)
		}
	}
}
