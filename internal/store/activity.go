package store

import (
	"context"
	"fmt"
	"time"

	"github.com/carecircle/carecircle/internal/care"
)

// activityUnion is every item of a family's activity feed ($1 is the family
// id): its timeline entries, the dose logs that say what happened (a
// PENDING log says nothing yet), its appointments as scheduled and its
// emergency alerts as raised. Every branch yields the same columns, with
// ids and JSON as text and NULLs cast, so that both databases agree on the
// column types:
//
//	kind, id, category, title, description, care recipient id and name,
//	actor id and name, severity, status, act_at (when it happened: the
//	entry's occurrence, the dose's giving or logging, the scheduling, the
//	raising), then per kind: ref_id, text1, text2, text3, at1, at2.
const activityUnion = `
SELECT 'timeline_entry' AS kind, CAST(te.id AS TEXT) AS id, te.type AS category, te.title AS title,
	te.description AS description, CAST(cr.id AS TEXT) AS care_recipient_id, cr.full_name AS care_recipient_name,
	CAST(te.created_by_id AS TEXT) AS actor_id, u.full_name AS actor_name, te.severity AS severity,
	CAST(NULL AS TEXT) AS status, te.occurred_at AS act_at,
	CAST(NULL AS TEXT) AS ref_id, CAST(te.vitals AS TEXT) AS text1, CAST(te.attachments AS TEXT) AS text2,
	CAST(NULL AS TEXT) AS text3, CAST(NULL AS TIMESTAMPTZ) AS at1, CAST(NULL AS TIMESTAMPTZ) AS at2
FROM timeline_entries te JOIN care_recipients cr ON cr.id = te.care_recipient_id
	LEFT JOIN users u ON u.id = te.created_by_id
WHERE cr.family_id = $1
UNION ALL
SELECT 'medication_log', CAST(l.id AS TEXT), 'MEDICATION', m.name, l.notes, CAST(cr.id AS TEXT), cr.full_name,
	CAST(l.given_by_id AS TEXT), u.full_name, CAST(NULL AS TEXT), l.status, COALESCE(l.given_time, l.updated_at),
	CAST(m.id AS TEXT), m.dosage, l.skip_reason, CAST(NULL AS TEXT), l.scheduled_time, l.given_time
FROM medication_logs l JOIN medications m ON m.id = l.medication_id
	JOIN care_recipients cr ON cr.id = m.care_recipient_id
	LEFT JOIN users u ON u.id = l.given_by_id
WHERE cr.family_id = $1 AND l.status <> 'PENDING'
UNION ALL
SELECT 'appointment', CAST(a.id AS TEXT), a.type, a.title, a.notes, CAST(cr.id AS TEXT), cr.full_name,
	CAST(a.created_by_id AS TEXT), u.full_name, CAST(NULL AS TEXT), a.status, a.created_at,
	CAST(a.doctor_id AS TEXT), a.location, CAST(a.recurring_series_id AS TEXT), CAST(NULL AS TEXT),
	a.start_time, a.end_time
FROM appointments a JOIN care_recipients cr ON cr.id = a.care_recipient_id
	LEFT JOIN users u ON u.id = a.created_by_id
WHERE cr.family_id = $1
UNION ALL
SELECT 'emergency_alert', CAST(e.id AS TEXT), e.type, e.title, e.description, CAST(cr.id AS TEXT), cr.full_name,
	CAST(e.created_by_id AS TEXT), u.full_name, 'CRITICAL', e.status, e.created_at,
	CAST(NULL AS TEXT), e.location, e.resolution_notes, CAST(NULL AS TEXT), e.acknowledged_at, e.resolved_at
FROM emergency_alerts e JOIN care_recipients cr ON cr.id = e.care_recipient_id
	LEFT JOIN users u ON u.id = e.created_by_id
WHERE cr.family_id = $1`

// activityRow is one row of activityUnion.
type activityRow struct {
	kind, id, category, title  string
	description                *string
	careRecipientID, crName    string
	actorID, actorName         *string
	severity, status           *string
	at                         time.Time
	refID, text1, text2, text3 *string
	at1, at2                   *time.Time
}

// FamilyActivity reads one page of the family's activity feed, newest
// first (ties broken by id), skipping offset and returning at most limit
// items, with the number of items in the whole feed.
func (s *Store) FamilyActivity(ctx context.Context, familyID string, limit, offset int) (*care.ActivityPage, error) {
	q := s.rq(ctx)
	page := &care.ActivityPage{Activities: []care.Activity{}, FamilyID: familyID}
	if err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM (`+activityUnion+`) feed`, familyID).
		Scan(&page.Total); err != nil {
		return nil, fmt.Errorf("store: count family activity: %w", mapErr(err))
	}
	rows, err := q.QueryContext(ctx, `SELECT * FROM (`+activityUnion+`) feed
		ORDER BY act_at DESC, id DESC LIMIT $2 OFFSET $3`, familyID, limit, offset)
	if err != nil {
		return nil, fmt.Errorf("store: family activity: %w", mapErr(err))
	}
	defer rows.Close()
	for rows.Next() {
		var r activityRow
		if err := rows.Scan(&r.kind, &r.id, &r.category, &r.title, &r.description, &r.careRecipientID,
			&r.crName, &r.actorID, &r.actorName, &r.severity, &r.status, timeCol{&r.at}, &r.refID,
			&r.text1, &r.text2, &r.text3, nullTimeCol{&r.at1}, nullTimeCol{&r.at2}); err != nil {
			return nil, fmt.Errorf("store: family activity: %w", mapErr(err))
		}
		a, err := r.activity()
		if err != nil {
			return nil, fmt.Errorf("store: family activity: %w", err)
		}
		page.Activities = append(page.Activities, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: family activity: %w", mapErr(err))
	}
	return page, nil
}

// activity turns a row into the feed's item, with the metadata of its kind.
func (r *activityRow) activity() (care.Activity, error) {
	a := care.Activity{
		ID: r.id, Type: care.ActivityKind(r.kind), Category: r.category, Title: r.title,
		Description: r.description, CareRecipientID: r.careRecipientID, CareRecipientName: r.crName,
		ActorName: r.actorName, Severity: r.severity, Status: r.status, Timestamp: r.at,
		Metadata: map[string]any{"actorId": r.actorID},
	}
	md := a.Metadata
	switch a.Type {
	case care.ActivityTimelineEntry:
		var vitals *care.Vitals
		attachments := []string{}
		if err := (jsonCol{&vitals}).Scan(textValue(r.text1)); err != nil {
			return a, err
		}
		if err := (jsonCol{&attachments}).Scan(textValue(r.text2)); err != nil {
			return a, err
		}
		md["vitals"], md["attachments"] = vitals, attachments
	case care.ActivityMedicationLog:
		a.Title = r.title
		if r.text1 != nil && *r.text1 != "" {
			a.Title += " " + *r.text1
		}
		md["medicationId"], md["medicationName"], md["dosage"] = r.refID, r.title, r.text1
		md["skipReason"], md["scheduledTime"], md["givenTime"] = r.text2, r.at1, r.at2
	case care.ActivityAppointment:
		md["doctorId"], md["location"], md["recurringSeriesId"] = r.refID, r.text1, r.text2
		md["startTime"], md["endTime"] = r.at1, r.at2
	case care.ActivityEmergencyAlert:
		md["location"], md["resolutionNotes"] = r.text1, r.text2
		md["acknowledgedAt"], md["resolvedAt"] = r.at1, r.at2
	}
	return a, nil
}

// textValue is a nullable text column as a scan source.
func textValue(s *string) any {
	if s == nil {
		return nil
	}
	return *s
}
