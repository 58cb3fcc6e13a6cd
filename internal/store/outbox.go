package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// OutboxEvent is a domain event as the outbox keeps it: its envelope, already
// encoded, in the order the changes that made it committed.
type OutboxEvent struct {
	Seq       int64
	ID        string
	Type      string
	FamilyID  string
	Envelope  []byte
	CreatedAt time.Time
}

// OutboxDelivery is what a consumer has done with an event so far.
type OutboxDelivery struct {
	Consumer      string
	EventID       string
	Attempts      int
	LastError     *string
	NextAttemptAt *time.Time
	Done          bool
	GaveUp        bool
}

// OnEventsCommitted registers fn to run after every commit that appended
// outbox events (fn must not block).
func (s *Store) OnEventsCommitted(fn func()) { s.onEvents.Store(&fn) }

func (s *Store) eventsCommitted() {
	if fn := s.onEvents.Load(); fn != nil {
		(*fn)()
	}
}

// AppendEvent writes a domain event to the outbox: AppendEvents for one.
func (s *Store) AppendEvent(ctx context.Context, e OutboxEvent) error {
	return s.AppendEvents(ctx, []OutboxEvent{e})
}

// eventsAppended wakes the dispatcher once the events just appended have
// committed: after the transaction ctx carries, once per transaction.
func (s *Store) eventsAppended(ctx context.Context) {
	a := s.ambientFrom(ctx)
	if a == nil {
		s.eventsCommitted()
		return
	}
	if !a.appended {
		a.appended = true
		s.OnCommit(ctx, s.eventsCommitted)
	}
}

// PendingEvents returns up to limit undispatched events, oldest first.
func (s *Store) PendingEvents(ctx context.Context, limit int) ([]OutboxEvent, error) {
	rows, err := s.rq(ctx).QueryContext(ctx, `SELECT seq, id, type, family_id, envelope, created_at
		FROM outbox_events WHERE dispatched_at IS NULL ORDER BY seq LIMIT $1`, limit)
	if err != nil {
		return nil, fmt.Errorf("store: pending events: %w", mapErr(err))
	}
	return collect(rows, func(row interface{ Scan(...any) error }) (*OutboxEvent, error) {
		var e OutboxEvent
		var family sql.NullString
		var env string
		if err := row.Scan(&e.Seq, &e.ID, &e.Type, &family, &env, timeCol{&e.CreatedAt}); err != nil {
			return nil, mapErr(err)
		}
		e.FamilyID, e.Envelope = family.String, []byte(env)
		return &e, nil
	})
}

// OutboxDeliveries returns the recorded deliveries of the given events,
// keyed by consumer and event id.
func (s *Store) OutboxDeliveries(ctx context.Context, eventIDs []string) (map[[2]string]*OutboxDelivery, error) {
	out := make(map[[2]string]*OutboxDelivery)
	if len(eventIDs) == 0 {
		return out, nil
	}
	args := make([]any, len(eventIDs))
	for i, id := range eventIDs {
		args[i] = id
	}
	rows, err := s.rq(ctx).QueryContext(ctx, `SELECT consumer, event_id, attempts, last_error, next_attempt_at, done_at, gave_up
		FROM outbox_deliveries WHERE event_id IN (`+placeholders(1, len(args))+`)`, args...)
	if err != nil {
		return nil, fmt.Errorf("store: outbox deliveries: %w", mapErr(err))
	}
	list, err := collect(rows, func(row interface{ Scan(...any) error }) (*OutboxDelivery, error) {
		var d OutboxDelivery
		var done *time.Time
		if err := row.Scan(&d.Consumer, &d.EventID, &d.Attempts, &d.LastError, nullTimeCol{&d.NextAttemptAt}, nullTimeCol{&done}, &d.GaveUp); err != nil {
			return nil, mapErr(err)
		}
		d.Done = done != nil
		return &d, nil
	})
	if err != nil {
		return nil, err
	}
	for i := range list {
		d := &list[i]
		out[[2]string{d.Consumer, d.EventID}] = d
	}
	return out, nil
}

const markDeliveredUpsert = `
		ON CONFLICT (consumer, event_id) DO UPDATE SET attempts = outbox_deliveries.attempts + 1,
			last_error = excluded.last_error, done_at = excluded.done_at, gave_up = excluded.gave_up, next_attempt_at = NULL`

// MarkDeliveredUnder records that consumer has handled the event (or, with
// gaveUp, that it stopped trying after errMsg), under lease: it takes effect
// only while lease is still held, and returns ErrLeaseLost otherwise.
func (s *Store) MarkDeliveredUnder(ctx context.Context, lease Lease, consumer, eventID string, gaveUp bool, errMsg *string) error {
	now := s.now()
	held, args := s.leaseHeld(lease, 6, now)
	res, err := s.wq(ctx).ExecContext(ctx, `INSERT INTO outbox_deliveries (consumer, event_id, attempts, last_error, done_at, gave_up)
		SELECT $1, $2, 1, $3, $4, $5 WHERE `+held+markDeliveredUpsert,
		append([]any{consumer, eventID, errMsg, ts(now), gaveUp}, args...)...)
	if err != nil {
		return fmt.Errorf("store: mark delivered: %w", mapErr(err))
	}
	return leaseWrite(res, "mark delivered", lease)
}

// MarkDeliveredManyUnder records, in one statement under lease, that
// consumer has taken each of the events ids: a batch costs one round trip
// (and one commit) instead of one per event. ErrLeaseLost once the lease is
// no longer held.
func (s *Store) MarkDeliveredManyUnder(ctx context.Context, lease Lease, consumer string, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	now := s.now()
	args := []any{consumer, ts(now), false}
	for _, id := range ids {
		args = append(args, id)
	}
	held, largs := s.leaseHeld(lease, len(args)+1, now)
	res, err := s.wq(ctx).ExecContext(ctx, `INSERT INTO outbox_deliveries (consumer, event_id, attempts, last_error, done_at, gave_up)
		SELECT $1, e.id, 1, NULL, $2, $3 FROM outbox_events e
		WHERE e.id IN (`+placeholders(4, len(ids))+`) AND `+held+markDeliveredUpsert, append(args, largs...)...)
	if err != nil {
		return fmt.Errorf("store: mark delivered: %w", mapErr(err))
	}
	return leaseWrite(res, "mark delivered", lease)
}

// MarkDeliveredMany records, in one statement, that consumer has taken
// each of the events ids. It is for consumers fed outside the dispatcher
// (the RabbitMQ fan-in); the dispatcher records under its lease.
func (s *Store) MarkDeliveredMany(ctx context.Context, consumer string, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	args := []any{consumer, ts(s.now()), false}
	rows := make([]string, len(ids))
	for i, id := range ids {
		args = append(args, id)
		rows[i] = fmt.Sprintf("($1, $%d, 1, NULL, $2, $3)", len(args))
	}
	_, err := s.wq(ctx).ExecContext(ctx, `INSERT INTO outbox_deliveries (consumer, event_id, attempts, last_error, done_at, gave_up)
		VALUES `+strings.Join(rows, ", ")+markDeliveredUpsert, args...)
	if err != nil {
		return fmt.Errorf("store: mark delivered: %w", mapErr(err))
	}
	return nil
}

// RecordDeliveryFailure counts a failed attempt and when to try again, under
// lease (ErrLeaseLost once it is no longer held); it returns the number of
// attempts so far.
func (s *Store) RecordDeliveryFailure(ctx context.Context, lease Lease, consumer, eventID, errMsg string, next time.Time) (int, error) {
	held, args := s.leaseHeld(lease, 5, s.now())
	var attempts int
	err := s.wq(ctx).QueryRowContext(ctx, `INSERT INTO outbox_deliveries (consumer, event_id, attempts, last_error, next_attempt_at)
		SELECT $1, $2, 1, $3, $4 WHERE `+held+`
		ON CONFLICT (consumer, event_id) DO UPDATE SET attempts = outbox_deliveries.attempts + 1,
			last_error = excluded.last_error, next_attempt_at = excluded.next_attempt_at
		RETURNING attempts`, append([]any{consumer, eventID, errMsg, ts(next)}, args...)...).Scan(&attempts)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("store: record delivery failure: %w (%s, token %d)", ErrLeaseLost, lease.Name, lease.Token)
	}
	if err != nil {
		return 0, fmt.Errorf("store: record delivery failure: %w", mapErr(err))
	}
	return attempts, nil
}

// MarkDispatched marks events every consumer has taken, under lease
// (ErrLeaseLost once it is no longer held).
func (s *Store) MarkDispatched(ctx context.Context, lease Lease, seqs []int64) error {
	if len(seqs) == 0 {
		return nil
	}
	now := s.now()
	args := []any{ts(now)}
	for _, q := range seqs {
		args = append(args, q)
	}
	held, largs := s.leaseHeld(lease, len(args)+1, now)
	res, err := s.wq(ctx).ExecContext(ctx, `UPDATE outbox_events SET dispatched_at = $1
		WHERE seq IN (`+placeholders(2, len(seqs))+`) AND `+held, append(args, largs...)...)
	if err != nil {
		return fmt.Errorf("store: mark dispatched: %w", mapErr(err))
	}
	// Under a held lease every pending event read is still there, so no row
	// updated means the lease is gone.
	return leaseWrite(res, "mark dispatched", lease)
}

// PruneOutbox deletes events dispatched before cutoff, with their
// deliveries, under lease (ErrLeaseLost once it is no longer held).
func (s *Store) PruneOutbox(ctx context.Context, lease Lease, cutoff time.Time) (int64, error) {
	var n int64
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		// Touching the lease row first holds it until commit (a row lock on
		// PostgreSQL, the single writer on SQLite): no new holder can take
		// the lease between this check and the deletes.
		res, err := tx.ExecContext(ctx, `UPDATE leases SET token = token
			WHERE name = $1 AND holder = $2 AND token = $3 AND expires_at >= $4`,
			lease.Name, lease.Holder, lease.Token, ts(s.now()))
		if err != nil {
			return mapErr(err)
		}
		if err := leaseWrite(res, "hold lease", lease); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM outbox_deliveries WHERE event_id IN
			(SELECT id FROM outbox_events WHERE dispatched_at < $1)`, ts(cutoff)); err != nil {
			return mapErr(err)
		}
		res, err = tx.ExecContext(ctx, `DELETE FROM outbox_events WHERE dispatched_at < $1`, ts(cutoff))
		if err != nil {
			return mapErr(err)
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("store: prune outbox: %w", err)
	}
	return n, nil
}

// OutboxBacklog counts undispatched events and the age of the oldest.
func (s *Store) OutboxBacklog(ctx context.Context) (int, *time.Time, error) {
	var n int
	var oldest *time.Time
	err := s.rq(ctx).QueryRowContext(ctx, `SELECT COUNT(*), MIN(created_at) FROM outbox_events WHERE dispatched_at IS NULL`).
		Scan(&n, nullTimeCol{&oldest})
	if err != nil {
		return 0, nil, fmt.Errorf("store: outbox backlog: %w", mapErr(err))
	}
	return n, oldest, nil
}

// ErrLeaseLost: a write made under a lease was refused because the lease is
// no longer held with the writer's token: it expired (the holder was paused
// or cut off past its TTL), and perhaps another holder has taken it over.
// The write changed nothing; the writer must stop and acquire the lease again.
var ErrLeaseLost = errors.New("lease lost")

// Lease is a lease as AcquireLease granted it to Holder, with its fencing
// token. The writes made under it (MarkDeliveredUnder, MarkDispatched...)
// check in the same statement that Holder still holds it with Token and that
// it has not expired, so a holder paused past its lease cannot write after
// another took over.
type Lease struct {
	Name   string
	Holder string
	Token  int64
}

// leaseHeld returns the condition that lease is still held at now, with its
// arguments numbered from $n. On PostgreSQL it share-locks the lease row
// until the write commits, so a takeover waits for the write, or the write,
// having waited for the takeover, sees the new holder and changes nothing; on
// SQLite the single writer serialises them.
func (s *Store) leaseHeld(lease Lease, n int, now time.Time) (string, []any) {
	lock := ""
	if s.dialect == Postgres {
		lock = " FOR SHARE"
	}
	return fmt.Sprintf(`EXISTS (SELECT 1 FROM leases WHERE name = $%d AND holder = $%d AND token = $%d AND expires_at >= $%d%s)`,
			n, n+1, n+2, n+3, lock),
		[]any{lease.Name, lease.Holder, lease.Token, ts(now)}
}

// leaseWrite turns a fenced write that changed no row into ErrLeaseLost.
func leaseWrite(res sql.Result, what string, lease Lease) error {
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("store: %s: %w", what, mapErr(err))
	}
	if n == 0 {
		return fmt.Errorf("store: %s: %w (%s, token %d)", what, ErrLeaseLost, lease.Name, lease.Token)
	}
	return nil
}

// AcquireLease makes holder the holder of the named lease until ttl from now
// if it is free, expired or already held by holder. It reports whether holder
// holds it and the lease's fencing token, which grows with each new holder
// (a renewal by the same holder keeps it).
func (s *Store) AcquireLease(ctx context.Context, name, holder string, ttl time.Duration) (bool, int64, error) {
	now := s.now()
	var got string
	var token int64
	err := s.wq(ctx).QueryRowContext(ctx, `INSERT INTO leases (name, holder, token, expires_at) VALUES ($1, $2, 1, $3)
		ON CONFLICT (name) DO UPDATE SET
			token = CASE WHEN leases.holder = excluded.holder THEN leases.token ELSE leases.token + 1 END,
			holder = excluded.holder, expires_at = excluded.expires_at
		WHERE leases.holder = excluded.holder OR leases.expires_at < $4
		RETURNING holder, token`, name, holder, ts(now.Add(ttl)), ts(now)).Scan(&got, &token)
	if err == sql.ErrNoRows {
		return false, 0, nil
	}
	if err != nil {
		return false, 0, fmt.Errorf("store: acquire lease %s: %w", name, mapErr(err))
	}
	return got == holder, token, nil
}

// ReleaseLease gives the lease up if holder holds it. The row stays, expired,
// so the next holder's token is still greater than holder's.
func (s *Store) ReleaseLease(ctx context.Context, name, holder string) error {
	_, err := s.wq(ctx).ExecContext(ctx, `UPDATE leases SET expires_at = $3 WHERE name = $1 AND holder = $2`,
		name, holder, ts(time.Unix(0, 0)))
	if err != nil {
		return fmt.Errorf("store: release lease %s: %w", name, mapErr(err))
	}
	return nil
}
