package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/carecircle/carecircle/internal/care"
)

// alertColumns are an emergency alert with the name of the member who
// raised it, read from alertFrom.
const alertColumns = `a.id, a.care_recipient_id, a.created_by_id, a.type, a.title, a.description, a.location,
	a.status, a.acknowledged_at, a.acknowledged_by_id, a.resolved_at, a.resolved_by_id, a.resolution_notes,
	a.created_at, a.updated_at, u.full_name`

const alertFrom = ` FROM emergency_alerts a LEFT JOIN users u ON u.id = a.created_by_id`

// alertsNewestFirst orders alerts from the latest raised; ids are
// time-ordered, so they settle alerts raised in the same instant.
const alertsNewestFirst = ` ORDER BY a.created_at DESC, a.id DESC`

func scanAlert(row interface{ Scan(...any) error }) (*care.EmergencyAlert, error) {
	var a care.EmergencyAlert
	var creatorName *string
	err := row.Scan(&a.ID, &a.CareRecipientID, &a.CreatedByID, &a.Type, &a.Title, &a.Description, &a.Location,
		&a.Status, nullTimeCol{&a.AcknowledgedAt}, &a.AcknowledgedByID, nullTimeCol{&a.ResolvedAt}, &a.ResolvedByID,
		&a.ResolutionNotes, timeCol{&a.CreatedAt}, timeCol{&a.UpdatedAt}, &creatorName)
	if err != nil {
		return nil, mapErr(err)
	}
	if a.CreatedByID != nil && creatorName != nil {
		a.CreatedBy = &care.UserRef{ID: *a.CreatedByID, FullName: *creatorName}
	}
	return &a, nil
}

// NewEmergencyAlert is an emergency a member raises.
type NewEmergencyAlert struct {
	CareRecipientID string
	CreatedByID     string
	Type            care.AlertType
	Title           string
	Description     string
	Location        *string
}

// CreateEmergencyAlert raises an ACTIVE alert for a care recipient.
// ErrReference when the care recipient or the creator does not exist.
func (s *Store) CreateEmergencyAlert(ctx context.Context, n NewEmergencyAlert) (*care.EmergencyAlert, error) {
	id, now := newID(), ts(s.now())
	if _, err := s.wq(ctx).ExecContext(ctx, `INSERT INTO emergency_alerts (id, care_recipient_id, created_by_id,
		type, title, description, location, status, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)`,
		id, n.CareRecipientID, n.CreatedByID, n.Type, n.Title, n.Description, n.Location, care.AlertActive, now); err != nil {
		return nil, fmt.Errorf("store: create emergency alert: %w", mapErr(err))
	}
	a, err := s.alertByID(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("store: create emergency alert: %w", err)
	}
	return a, nil
}

func (s *Store) alertByID(ctx context.Context, id string) (*care.EmergencyAlert, error) {
	return scanAlert(s.rq(ctx).QueryRowContext(ctx, `SELECT `+alertColumns+alertFrom+` WHERE a.id = $1`, id))
}

// EmergencyAlert loads an alert by id.
func (s *Store) EmergencyAlert(ctx context.Context, id string) (*care.EmergencyAlert, error) {
	a, err := s.alertByID(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("store: emergency alert %s: %w", id, err)
	}
	return a, nil
}

// OpenEmergencyAlerts lists a care recipient's alerts that still need
// attention (ACTIVE or ACKNOWLEDGED), newest first.
func (s *Store) OpenEmergencyAlerts(ctx context.Context, careRecipientID string) ([]care.EmergencyAlert, error) {
	rows, err := s.rq(ctx).QueryContext(ctx, `SELECT `+alertColumns+alertFrom+`
		WHERE a.care_recipient_id = $1 AND a.status IN ($2, $3)`+alertsNewestFirst,
		careRecipientID, care.AlertActive, care.AlertAcknowledged)
	if err != nil {
		return nil, fmt.Errorf("store: open emergency alerts: %w", mapErr(err))
	}
	out, err := collect(rows, scanAlert)
	if err != nil {
		return nil, fmt.Errorf("store: open emergency alerts: %w", err)
	}
	return out, nil
}

// EmergencyAlertHistory lists a care recipient's alerts in every status,
// newest first, at most limit.
func (s *Store) EmergencyAlertHistory(ctx context.Context, careRecipientID string, limit int) ([]care.EmergencyAlert, error) {
	rows, err := s.rq(ctx).QueryContext(ctx, `SELECT `+alertColumns+alertFrom+`
		WHERE a.care_recipient_id = $1`+alertsNewestFirst+` LIMIT $2`, careRecipientID, limit)
	if err != nil {
		return nil, fmt.Errorf("store: emergency alert history: %w", mapErr(err))
	}
	out, err := collect(rows, scanAlert)
	if err != nil {
		return nil, fmt.Errorf("store: emergency alert history: %w", err)
	}
	return out, nil
}

// AlertChange is an action a member takes on an alert.
type AlertChange struct {
	Action  care.AlertAction
	ActorID string
	// ResolutionNotes go with a resolve.
	ResolutionNotes *string
}

// TransitionEmergencyAlert takes c.Action on the alert: acknowledge stamps
// who acknowledged it and when, resolve who resolved it, when and how. The
// status is checked by the update itself (it applies only while the alert
// is in one of care.AlertSources(c.Action)), so of concurrent actions on
// one alert exactly the allowed ones apply, one after the other. An action
// the alert's status no longer allows returns a *care.AlertTransitionError
// naming that status; ErrNotFound when the alert is gone.
func (s *Store) TransitionEmergencyAlert(ctx context.Context, id string, c AlertChange) (*care.EmergencyAlert, error) {
	sources := care.AlertSources(c.Action)
	if len(sources) == 0 {
		return nil, fmt.Errorf("store: emergency alert: unknown action %q", c.Action)
	}
	now := ts(s.now())
	var set string
	args := []any{id, now, c.ActorID}
	switch c.Action {
	case care.AlertAcknowledge:
		set = `status = $4, acknowledged_at = $2, acknowledged_by_id = $3, updated_at = $2`
		args = append(args, care.AlertAcknowledged)
	case care.AlertResolve:
		set = `status = $4, resolved_at = $2, resolved_by_id = $3, resolution_notes = $5, updated_at = $2`
		args = append(args, care.AlertResolved, c.ResolutionNotes)
	}
	in := placeholders(len(args)+1, len(sources))
	for _, st := range sources {
		args = append(args, st)
	}
	var out *care.EmergencyAlert
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE emergency_alerts SET `+set+` WHERE id = $1 AND status IN (`+in+`)`, args...)
		if err != nil {
			return mapErr(err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return mapErr(err)
		}
		cur, err := scanAlert(tx.QueryRowContext(ctx, `SELECT `+alertColumns+alertFrom+` WHERE a.id = $1`, id))
		if err != nil {
			return err
		}
		if n == 0 {
			return &care.AlertTransitionError{Action: c.Action, From: cur.Status}
		}
		out = cur
		return nil
	})
	var refused *care.AlertTransitionError
	if errors.As(err, &refused) {
		return nil, refused
	}
	if err != nil {
		return nil, fmt.Errorf("store: emergency alert %s: %w", c.Action, err)
	}
	return out, nil
}
