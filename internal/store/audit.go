package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"
)

// AuditEntry is one line of the append-only audit log: who did what to
// which resource, from where, and how it ended.
type AuditEntry struct {
	ID      string    `json:"id"`
	At      time.Time `json:"at"`
	ActorID *string   `json:"actorId"`
	// Action is the route and method, such as
	// "POST /families/{familyId}/invite", or a named sensitive read.
	Action       string  `json:"action"`
	ResourceType *string `json:"resourceType"`
	ResourceID   *string `json:"resourceId"`
	FamilyID     *string `json:"familyId"`
	IP           *string `json:"ip"`
	UserAgent    *string `json:"userAgent"`
	// Status is the HTTP status the request was answered with.
	Status  int             `json:"status"`
	Details json.RawMessage `json:"details"`
}

const auditColumns = `id, at, actor_id, action, resource_type, resource_id, family_id, ip, user_agent, status, details`

func scanAudit(row interface{ Scan(...any) error }) (*AuditEntry, error) {
	var e AuditEntry
	err := row.Scan(&e.ID, timeCol{&e.At}, &e.ActorID, &e.Action, &e.ResourceType, &e.ResourceID, &e.FamilyID,
		&e.IP, &e.UserAgent, &e.Status, jsonCol{&e.Details})
	if err != nil {
		return nil, mapErr(err)
	}
	return &e, nil
}

// AppendAudit adds an entry to the audit log, stamped now. Inside Atomically
// it commits with the caller's change. There is deliberately no way to
// update or delete an entry.
func (s *Store) AppendAudit(ctx context.Context, e AuditEntry) (*AuditEntry, error) {
	e.ID, e.At = newID(), s.now()
	if len(e.Details) == 0 {
		e.Details = json.RawMessage("{}")
	}
	_, err := s.wq(ctx).ExecContext(ctx, `INSERT INTO audit_log (`+auditColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		e.ID, ts(e.At), blankAsNull(e.ActorID), e.Action, blankAsNull(e.ResourceType), blankAsNull(e.ResourceID),
		blankAsNull(e.FamilyID), blankAsNull(e.IP), blankAsNull(e.UserAgent), e.Status, jsonArg(e.Details))
	if err != nil {
		return nil, fmt.Errorf("store: append audit: %w", mapErr(err))
	}
	return &e, nil
}

// AuditQuery filters the audit log; zero fields do not filter.
type AuditQuery struct {
	ActorID string
	Action  string
	From    *time.Time // inclusive
	To      *time.Time // exclusive
	Limit   int
	Offset  int
}

// AuditLog lists matching entries, newest first, with how many match in all.
func (s *Store) AuditLog(ctx context.Context, q AuditQuery) ([]AuditEntry, int, error) {
	if q.Limit <= 0 {
		q.Limit = 50
	}
	where, args := "TRUE", []any{}
	add := func(cond string, v any) {
		args = append(args, v)
		where += " AND " + cond + " $" + strconv.Itoa(len(args))
	}
	if q.ActorID != "" {
		add("actor_id =", q.ActorID)
	}
	if q.Action != "" {
		add("action =", q.Action)
	}
	if q.From != nil {
		add("at >=", ts(*q.From))
	}
	if q.To != nil {
		add("at <", ts(*q.To))
	}
	var total int
	if err := s.rq(ctx).QueryRowContext(ctx, `SELECT COUNT(*) FROM audit_log WHERE `+where, args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("store: count audit log: %w", mapErr(err))
	}
	n := len(args)
	rows, err := s.rq(ctx).QueryContext(ctx, `SELECT `+auditColumns+` FROM audit_log WHERE `+where+`
		ORDER BY at DESC, id DESC LIMIT $`+strconv.Itoa(n+1)+` OFFSET $`+strconv.Itoa(n+2),
		append(args, q.Limit, q.Offset)...)
	if err != nil {
		return nil, 0, fmt.Errorf("store: audit log: %w", mapErr(err))
	}
	list, err := collect(rows, scanAudit)
	if err != nil {
		return nil, 0, fmt.Errorf("store: audit log: %w", err)
	}
	return list, total, nil
}

// blankAsNull stores a missing or empty optional value as NULL.
func blankAsNull(v *string) any {
	if v == nil || *v == "" {
		return nil
	}
	return *v
}
