package notify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/carecircle/carecircle/internal/care"
	"github.com/carecircle/carecircle/internal/clock"
	"github.com/carecircle/carecircle/internal/mail"
	"github.com/carecircle/carecircle/internal/store"
)

// StoreCounter keeps the daily email counters in the database, shared by
// every node.
type StoreCounter struct{ Store *store.Store }

// Incr implements mail.Counter.
func (c StoreCounter) Incr(ctx context.Context, key string, ttl time.Duration) (int64, error) {
	return c.Store.IncrCounter(ctx, key, ttl)
}

// IncrBelow implements mail.Counter.
func (c StoreCounter) IncrBelow(ctx context.Context, key string, ceiling int64, ttl time.Duration) (int64, bool, error) {
	return c.Store.IncrCounterBelow(ctx, key, ceiling, ttl)
}

// Get implements mail.Counter.
func (c StoreCounter) Get(ctx context.Context, key string) (int64, error) {
	return c.Store.Counter(ctx, key)
}

// StoreRecorder keeps every email attempt in the database.
type StoreRecorder struct{ Store *store.Store }

// Record implements mail.AttemptRecorder.
func (r StoreRecorder) Record(ctx context.Context, a mail.Attempt) error {
	return r.Store.RecordEmailAttempt(ctx, store.EmailAttempt{At: a.At, To: a.To, Template: a.Template,
		Provider: a.Provider, Priority: a.Priority.String(), Status: string(a.Status), Error: a.Error})
}

// QuotaWarner tells the system administrators, through the notification
// pipeline, that a provider has used most of the day's email quota. It is
// called once per provider and day.
func QuotaWarner(n *Notifier, logger *slog.Logger) func(context.Context, mail.QuotaWarning) {
	return func(ctx context.Context, w mail.QuotaWarning) {
		logger.Warn("email quota nearly spent", slog.String("provider", w.Provider),
			slog.Int64("used", w.Used), slog.Int64("limit", w.Limit))
		ids, err := n.Store.SystemAdminIDs(ctx)
		if err != nil {
			logger.Error("email quota warning: system admins", slog.Any("error", err))
			return
		}
		if _, err := n.Send(ctx, Notice{To: ids, Type: care.NotifyGeneral, Text: care.EmailQuotaText(w.Provider, w.Used, w.Limit),
			DedupeKey: fmt.Sprintf("email-quota:%s:%s", w.Provider, w.Day.Format(time.DateOnly))}); err != nil {
			logger.Error("email quota warning: notify", slog.Any("error", err))
		}
	}
}

// Mailer is the mail.Sender for account and family mail (codes, invitations,
// exports): it sends through the chain and, when the day's quota is spent,
// keeps the message for the next UTC day instead of failing.
type Mailer struct {
	Chain *mail.Chain
	Store *store.Store
	Clock clock.Clock
}

// Send implements mail.Sender.
func (m *Mailer) Send(ctx context.Context, msg mail.Message) error {
	_, err := m.Chain.Deliver(ctx, msg, mail.PriorityRoutine)
	if !errors.Is(err, mail.ErrQuotaExceeded) {
		return err
	}
	due := mail.NextDay(m.Clock.Now())
	if err := m.Store.DeferEmail(ctx, store.DeferredEmail{To: msg.To, Subject: msg.Subject, Text: msg.Text,
		HTML: msg.HTML, Template: msg.Template, DueAt: due}); err != nil {
		return err
	}
	m.Chain.RecordOutcome(ctx, msg, mail.PriorityRoutine, mail.StatusDeferred,
		fmt.Errorf("daily email quota spent; deferred to %s", due.Format(time.RFC3339)))
	return nil
}

// ErrCannotSendNow reports transactional mail that no provider could send
// now (quota spent or providers failing); the caller tells the person to
// try again later, and keeps nothing as sent.
var ErrCannotSendNow = errors.New("notify: email cannot be sent now")

// ProviderRetryDelay is how long after a provider failure (a refused
// connection, a 4xx or 5xx reply) a person is asked to wait before trying
// again: short, since relays usually come back within minutes.
const ProviderRetryDelay = time.Minute

// NotSentError is the error of a SendNow that sent nothing. It is
// ErrCannotSendNow, and wraps the chain's failure (mail.ErrQuotaExceeded
// when some provider's share was spent).
type NotSentError struct {
	// Wait is how long until a try may pass: until the next UTC day when
	// every provider's transactional share is spent, ProviderRetryDelay when
	// a provider failed.
	Wait time.Duration
	Err  error
}

func (e *NotSentError) Error() string { return ErrCannotSendNow.Error() + ": " + e.Err.Error() }

// Unwrap makes the error both ErrCannotSendNow and the chain's failure.
func (e *NotSentError) Unwrap() []error { return []error{ErrCannotSendNow, e.Err} }

// RetryAfter is how long the person should wait before trying again.
func (e *NotSentError) RetryAfter() time.Duration { return e.Wait }

// SendNow sends transactional mail (codes, invitations, reset links): now,
// through any provider with room below the critical share, or not at all;
// it is never deferred. It fails with a *NotSentError.
func (m *Mailer) SendNow(ctx context.Context, msg mail.Message) error {
	_, err := m.Chain.Deliver(ctx, msg, mail.PriorityTransactional)
	if err == nil {
		return nil
	}
	wait := ProviderRetryDelay
	if errors.Is(err, mail.ErrQuotaExceeded) && m.Chain.Spent(ctx, mail.PriorityTransactional) {
		now := m.Clock.Now()
		wait = mail.NextDay(now).Sub(now)
	}
	return &NotSentError{Wait: wait, Err: err}
}

// SendDeferred sends the deferred emails that are due, rescheduling those
// that still do not fit (or fail) to the next day. It returns how many went.
func (m *Mailer) SendDeferred(ctx context.Context) (int, error) {
	due, err := m.Store.DueEmails(ctx, m.Clock.Now(), 100)
	if err != nil {
		return 0, err
	}
	sent := 0
	for _, e := range due {
		msg := mail.Message{To: e.To, Subject: e.Subject, Text: e.Text, HTML: e.HTML, Template: e.Template}
		_, err := m.Chain.Deliver(ctx, msg, mail.PriorityRoutine)
		switch {
		case err == nil:
			sent++
			if err := m.Store.DeleteDeferredEmail(ctx, e.ID); err != nil {
				return sent, err
			}
		case errors.Is(err, mail.ErrQuotaExceeded):
			if err := m.Store.RescheduleEmail(ctx, e.ID, mail.NextDay(m.Clock.Now())); err != nil {
				return sent, err
			}
		default:
			if err := m.Store.RescheduleEmail(ctx, e.ID, m.Clock.Now().Add(15*time.Minute)); err != nil {
				return sent, err
			}
		}
	}
	return sent, nil
}

// QuotaHealth reports each metered provider's email use today on /health.
type QuotaHealth struct{ Chain *mail.Chain }

// Name implements api.HealthReporter.
func (QuotaHealth) Name() string { return "emailQuota" }

// Health implements api.HealthReporter.
func (q QuotaHealth) Health(ctx context.Context) any {
	out := []map[string]any{}
	for _, p := range q.Chain.Providers {
		if p.Unmetered || q.Chain.Quota == nil {
			out = append(out, map[string]any{"provider": p.Name, "metered": false})
			continue
		}
		u, err := q.Chain.Quota.Usage(ctx, p.Name)
		if err != nil {
			out = append(out, map[string]any{"provider": p.Name, "status": "unavailable"})
			continue
		}
		classes := map[string]any{}
		for class, ceiling := range u.Ceilings {
			classes[class] = map[string]int64{"ceiling": ceiling, "left": max(0, ceiling-u.Used)}
		}
		out = append(out, map[string]any{"provider": p.Name, "metered": true, "used": u.Used, "limit": u.Limit,
			"reserve": u.Reserve, "day": u.Day.Format(time.DateOnly), "classes": classes})
	}
	return out
}
