package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/carecircle/carecircle/internal/care"
)

// Delivery statuses of a notification on one channel and target.
const (
	DeliverySent       = "sent"
	DeliveryFailed     = "failed"     // will be tried again
	DeliveryRejected   = "rejected"   // refused for good
	DeliveryGone       = "gone"       // the push subscription no longer exists
	DeliveryDeferred   = "deferred"   // email waits for the next day's quota
	DeliveryDowngraded = "downgraded" // email did not fit; push and in-app carried it
	DeliverySuppressed = "suppressed" // preferences or quiet hours
)

// NotificationByID returns a notification whoever it belongs to.
func (s *Store) NotificationByID(ctx context.Context, id string) (*care.Notification, error) {
	var n care.Notification
	var userID string
	err := s.rq(ctx).QueryRowContext(ctx, `SELECT user_id FROM notifications WHERE id = $1`, id).Scan(&userID)
	if err != nil {
		return nil, fmt.Errorf("store: notification %s: %w", id, mapErr(err))
	}
	got, err := s.Notification(ctx, userID, id)
	if err != nil {
		return nil, err
	}
	n = *got
	return &n, nil
}

// DeliveryDone reports whether the notification has reached target on
// channel, or will never (sent, gone, rejected, suppressed, downgraded,
// deferred to another pass).
func (s *Store) DeliveryDone(ctx context.Context, notificationID, channel, target string) (bool, error) {
	var status string
	err := s.rq(ctx).QueryRowContext(ctx, `SELECT status FROM notification_deliveries
		WHERE notification_id = $1 AND channel = $2 AND target = $3`, notificationID, channel, target).Scan(&status)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("store: delivery: %w", mapErr(err))
	}
	return status != DeliveryFailed, nil
}

// RecordDelivery records what a channel did with a notification for target.
func (s *Store) RecordDelivery(ctx context.Context, notificationID, channel, target, status, provider, errMsg string) error {
	_, err := s.wq(ctx).ExecContext(ctx, `INSERT INTO notification_deliveries
		(notification_id, channel, target, status, provider, attempts, error, updated_at)
		VALUES ($1, $2, $3, $4, $5, 1, $6, $7)
		ON CONFLICT (notification_id, channel, target) DO UPDATE SET status = excluded.status,
			provider = excluded.provider, attempts = notification_deliveries.attempts + 1,
			error = excluded.error, updated_at = excluded.updated_at`,
		notificationID, channel, target, status, nullString(provider), nullString(errMsg), ts(s.now()))
	if err != nil {
		return fmt.Errorf("store: record delivery: %w", mapErr(err))
	}
	return nil
}

// Delivery is one row of a notification's delivery record.
type Delivery struct {
	NotificationID string  `json:"notificationId"`
	Channel        string  `json:"channel"`
	Target         string  `json:"target"`
	Status         string  `json:"status"`
	Provider       *string `json:"provider"`
	Attempts       int     `json:"attempts"`
	Error          *string `json:"error"`
}

// Deliveries returns the delivery record of the given notifications.
func (s *Store) Deliveries(ctx context.Context, notificationIDs ...string) ([]Delivery, error) {
	if len(notificationIDs) == 0 {
		return nil, nil
	}
	args := make([]any, len(notificationIDs))
	for i, id := range notificationIDs {
		args[i] = id
	}
	rows, err := s.rq(ctx).QueryContext(ctx, `SELECT notification_id, channel, target, status, provider, attempts, error
		FROM notification_deliveries WHERE notification_id IN (`+placeholders(1, len(args))+`)
		ORDER BY notification_id, channel, target`, args...)
	if err != nil {
		return nil, fmt.Errorf("store: deliveries: %w", mapErr(err))
	}
	return collect(rows, func(row interface{ Scan(...any) error }) (*Delivery, error) {
		var d Delivery
		if err := row.Scan(&d.NotificationID, &d.Channel, &d.Target, &d.Status, &d.Provider, &d.Attempts, &d.Error); err != nil {
			return nil, mapErr(err)
		}
		return &d, nil
	})
}

// EmailAttempt is one recorded try at sending an email.
type EmailAttempt struct {
	At       time.Time `json:"at"`
	To       string    `json:"to"`
	Template string    `json:"template"`
	Provider string    `json:"provider"`
	Priority string    `json:"priority"`
	Status   string    `json:"status"`
	Error    string    `json:"error"`
}

// RecordEmailAttempt appends to the email attempt log.
func (s *Store) RecordEmailAttempt(ctx context.Context, a EmailAttempt) error {
	_, err := s.wq(ctx).ExecContext(ctx, `INSERT INTO email_attempts (id, at, to_address, template, provider, priority, status, error)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, newID(), ts(a.At), a.To, a.Template, nullString(a.Provider),
		a.Priority, a.Status, nullString(a.Error))
	if err != nil {
		return fmt.Errorf("store: record email attempt: %w", mapErr(err))
	}
	return nil
}

// EmailAttempts returns the attempts to one address, oldest first.
func (s *Store) EmailAttempts(ctx context.Context, to string) ([]EmailAttempt, error) {
	rows, err := s.rq(ctx).QueryContext(ctx, `SELECT at, to_address, template, COALESCE(provider, ''), priority, status, COALESCE(error, '')
		FROM email_attempts WHERE to_address = $1 ORDER BY at, id`, to)
	if err != nil {
		return nil, fmt.Errorf("store: email attempts: %w", mapErr(err))
	}
	return collect(rows, func(row interface{ Scan(...any) error }) (*EmailAttempt, error) {
		var a EmailAttempt
		if err := row.Scan(timeCol{&a.At}, &a.To, &a.Template, &a.Provider, &a.Priority, &a.Status, &a.Error); err != nil {
			return nil, mapErr(err)
		}
		return &a, nil
	})
}

// IncrCounter adds one to a counter shared by every node on this database,
// creating it to expire ttl from now, and returns the new value. An expired
// counter starts again from one.
func (s *Store) IncrCounter(ctx context.Context, key string, ttl time.Duration) (int64, error) {
	now := s.now()
	var v int64
	err := s.wq(ctx).QueryRowContext(ctx, `INSERT INTO counters (key, value, expires_at) VALUES ($1, 1, $2)
		ON CONFLICT (key) DO UPDATE SET
			value = CASE WHEN counters.expires_at <= $3 THEN 1 ELSE counters.value + 1 END,
			expires_at = CASE WHEN counters.expires_at <= $3 THEN excluded.expires_at ELSE counters.expires_at END
		RETURNING value`, key, ts(now.Add(ttl)), ts(now)).Scan(&v)
	if err != nil {
		return 0, fmt.Errorf("store: counter %s: %w", key, mapErr(err))
	}
	return v, nil
}

// IncrCounterBelow adds one to a counter only while it is below ceiling,
// atomically, and returns its value and whether it added one.
func (s *Store) IncrCounterBelow(ctx context.Context, key string, ceiling int64, ttl time.Duration) (int64, bool, error) {
	if ceiling <= 0 {
		v, err := s.Counter(ctx, key)
		return v, false, err
	}
	now := s.now()
	var v int64
	err := s.wq(ctx).QueryRowContext(ctx, `INSERT INTO counters (key, value, expires_at) VALUES ($1, 1, $2)
		ON CONFLICT (key) DO UPDATE SET
			value = CASE WHEN counters.expires_at <= $3 THEN 1 ELSE counters.value + 1 END,
			expires_at = CASE WHEN counters.expires_at <= $3 THEN excluded.expires_at ELSE counters.expires_at END
		WHERE counters.expires_at <= $3 OR counters.value < $4
		RETURNING value`, key, ts(now.Add(ttl)), ts(now), ceiling).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		v, err = s.Counter(ctx, key)
		return v, false, err
	}
	if err != nil {
		return 0, false, fmt.Errorf("store: counter %s: %w", key, mapErr(err))
	}
	return v, true, nil
}

// Counter returns a counter's value, zero when absent or expired.
func (s *Store) Counter(ctx context.Context, key string) (int64, error) {
	var v int64
	err := s.rq(ctx).QueryRowContext(ctx, `SELECT value FROM counters WHERE key = $1 AND expires_at > $2`, key, ts(s.now())).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("store: counter %s: %w", key, mapErr(err))
	}
	return v, nil
}

// DeferredEmail is routine mail waiting for a later day's quota.
type DeferredEmail struct {
	ID       string
	To       string
	Subject  string
	Text     string
	HTML     string
	Template string
	DueAt    time.Time
	Attempts int
}

// DeferEmail keeps an email to send at due.
func (s *Store) DeferEmail(ctx context.Context, m DeferredEmail) error {
	_, err := s.wq(ctx).ExecContext(ctx, `INSERT INTO deferred_emails (id, to_address, subject, text_body, html_body, template, due_at, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, newID(), m.To, m.Subject, m.Text, m.HTML, m.Template, ts(m.DueAt), ts(s.now()))
	if err != nil {
		return fmt.Errorf("store: defer email: %w", mapErr(err))
	}
	return nil
}

// DueEmails returns up to limit deferred emails due by now, oldest first.
func (s *Store) DueEmails(ctx context.Context, now time.Time, limit int) ([]DeferredEmail, error) {
	rows, err := s.rq(ctx).QueryContext(ctx, `SELECT id, to_address, subject, text_body, html_body, template, due_at, attempts
		FROM deferred_emails WHERE due_at <= $1 ORDER BY due_at, id LIMIT $2`, ts(now), limit)
	if err != nil {
		return nil, fmt.Errorf("store: due emails: %w", mapErr(err))
	}
	return collect(rows, func(row interface{ Scan(...any) error }) (*DeferredEmail, error) {
		var m DeferredEmail
		if err := row.Scan(&m.ID, &m.To, &m.Subject, &m.Text, &m.HTML, &m.Template, timeCol{&m.DueAt}, &m.Attempts); err != nil {
			return nil, mapErr(err)
		}
		return &m, nil
	})
}

// RescheduleEmail moves a deferred email to a later due time.
func (s *Store) RescheduleEmail(ctx context.Context, id string, due time.Time) error {
	_, err := s.wq(ctx).ExecContext(ctx, `UPDATE deferred_emails SET due_at = $2, attempts = attempts + 1 WHERE id = $1`, id, ts(due))
	if err != nil {
		return fmt.Errorf("store: reschedule email: %w", mapErr(err))
	}
	return nil
}

// DeleteDeferredEmail removes a deferred email once it is sent.
func (s *Store) DeleteDeferredEmail(ctx context.Context, id string) error {
	_, err := s.wq(ctx).ExecContext(ctx, `DELETE FROM deferred_emails WHERE id = $1`, id)
	if err != nil {
		return fmt.Errorf("store: delete deferred email: %w", mapErr(err))
	}
	return nil
}

// DeletePushSubscriptionByEndpoint removes a subscription the push service
// says no longer exists, whoever it belonged to.
func (s *Store) DeletePushSubscriptionByEndpoint(ctx context.Context, endpoint string) error {
	_, err := s.wq(ctx).ExecContext(ctx, `DELETE FROM push_subscriptions WHERE endpoint = $1`, endpoint)
	if err != nil {
		return fmt.Errorf("store: delete push subscription: %w", mapErr(err))
	}
	return nil
}

func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// SystemAdminIDs returns the ids of active system administrators.
func (s *Store) SystemAdminIDs(ctx context.Context) ([]string, error) {
	rows, err := s.rq(ctx).QueryContext(ctx, `SELECT id FROM users WHERE system_role = 'ADMIN' AND status = 'ACTIVE' ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("store: system admins: %w", mapErr(err))
	}
	return collect(rows, func(row interface{ Scan(...any) error }) (*string, error) {
		var id string
		if err := row.Scan(&id); err != nil {
			return nil, mapErr(err)
		}
		return &id, nil
	})
}
