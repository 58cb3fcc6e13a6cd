package mail

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/carecircle/carecircle/internal/clock"
)

// AttemptStatus is the outcome of one try at delivering an email.
type AttemptStatus string

const (
	// StatusSent means the provider accepted the message.
	StatusSent AttemptStatus = "sent"
	// StatusFailed means the provider refused it or could not be reached.
	StatusFailed AttemptStatus = "failed"
	// StatusDeferred means routine mail did not fit the quota and waits for
	// the next day.
	StatusDeferred AttemptStatus = "deferred"
	// StatusDowngraded means routine mail did not fit the quota and went by
	// push or in-app instead.
	StatusDowngraded AttemptStatus = "downgraded"
)

// Attempt is one recorded try at delivering an email.
type Attempt struct {
	To       string
	Template string
	Provider string // empty for deferred and downgraded mail
	Priority Priority
	Status   AttemptStatus
	Error    string // why it failed, was deferred or downgraded
	At       time.Time
}

// AttemptRecorder keeps the record of delivery attempts; the app persists
// them.
type AttemptRecorder interface {
	Record(ctx context.Context, a Attempt) error
}

// MemoryRecorder keeps attempts in memory, for tests and the embedded mode's
// diagnostics.
type MemoryRecorder struct {
	mu       sync.Mutex
	attempts []Attempt
}

// Record implements AttemptRecorder.
func (r *MemoryRecorder) Record(_ context.Context, a Attempt) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.attempts = append(r.attempts, a)
	return nil
}

// Attempts returns a copy of the attempts recorded so far, oldest first.
func (r *MemoryRecorder) Attempts() []Attempt {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Attempt(nil), r.attempts...)
}

// Provider is a named transport in a Chain.
type Provider struct {
	Name   string // "brevo", "smtp", "outbox": in records and quota keys
	Sender Sender
	// Unmetered providers do not count against the daily quota (the outbox
	// file, a relay without limits).
	Unmetered bool
}

// Chain delivers each message through the first provider that accepts it,
// within each provider's daily quota, recording every attempt.
//
// Routine mail only goes to providers with room in their quota and returns
// ErrQuotaExceeded when none has any. An emergency takes from the reserve
// first and, when every metered provider is spent, is still sent through
// them in order: our count must never be what silences an emergency.
type Chain struct {
	Providers []Provider      // tried in order, the primary first
	Quota     *Quota          // nil means no daily limit
	Recorder  AttemptRecorder // nil records nothing
	Clock     clock.Clock     // stamps attempts; nil means the wall clock
	Logger    *slog.Logger    // nil discards
}

// Send delivers m as routine mail, so a Chain is a Sender.
func (c *Chain) Send(ctx context.Context, m Message) error {
	_, err := c.Deliver(ctx, m, PriorityRoutine)
	return err
}

// Deliver sends m through the first provider that accepts it and returns
// that provider's name. When all fail the error joins each provider's
// failure: Temporary reports whether a later try may pass, and
// errors.Is(err, ErrQuotaExceeded) whether routine mail found no quota left
// on some provider (the caller then defers it to NextDay or downgrades it,
// and says so with RecordOutcome).
func (c *Chain) Deliver(ctx context.Context, m Message, p Priority) (string, error) {
	if len(c.Providers) == 0 {
		return "", errors.New("mail: no email provider configured")
	}
	var errs []error
	var spent []Provider
	for _, pr := range c.Providers {
		if err := ctx.Err(); err != nil {
			return "", fmt.Errorf("mail: deliver: %w", err)
		}
		if c.Quota != nil && !pr.Unmetered {
			ok, err := c.Quota.Reserve(ctx, pr.Name, p)
			if err != nil {
				// Failing open: a broken counter must not stop the mail.
				c.logger().WarnContext(ctx, "email quota unavailable; sending anyway",
					slog.String("provider", pr.Name), slog.Any("error", err))
				ok = true
			}
			if !ok {
				spent = append(spent, pr)
				continue
			}
		}
		if err := c.try(ctx, pr, m, p); err != nil {
			errs = append(errs, err)
			continue
		}
		return pr.Name, nil
	}
	if p == PriorityEmergency {
		for _, pr := range spent {
			if err := c.Quota.Charge(ctx, pr.Name); err != nil {
				c.logger().WarnContext(ctx, "email quota unavailable", slog.String("provider", pr.Name), slog.Any("error", err))
			}
			c.logger().WarnContext(ctx, "emergency email sent beyond the daily quota", slog.String("provider", pr.Name))
			if err := c.try(ctx, pr, m, p); err != nil {
				errs = append(errs, err)
				continue
			}
			return pr.Name, nil
		}
	} else if len(spent) > 0 {
		errs = append(errs, ErrQuotaExceeded)
	}
	return "", fmt.Errorf("mail: no provider delivered %q: %w", m.Template, errors.Join(errs...))
}

// Spent reports whether no provider has room for class p today: there is a
// quota, every provider is metered, and each one's count has reached p's
// ceiling. Until the next UTC day (NextDay) a message of class p can then
// only fail. A count that cannot be read counts as room.
func (c *Chain) Spent(ctx context.Context, p Priority) bool {
	if c.Quota == nil || len(c.Providers) == 0 {
		return false
	}
	for _, pr := range c.Providers {
		if pr.Unmetered {
			return false
		}
		u, err := c.Quota.Usage(ctx, pr.Name)
		if err != nil || u.Used < c.Quota.ceiling(p) {
			return false
		}
	}
	return true
}

// RecordOutcome records what became of mail that Deliver could not send for
// lack of quota: StatusDeferred or StatusDowngraded, with the reason.
func (c *Chain) RecordOutcome(ctx context.Context, m Message, p Priority, status AttemptStatus, reason error) {
	c.record(ctx, Attempt{To: m.To, Template: m.Template, Priority: p, Status: status, Error: errorText(reason)})
}

func (c *Chain) try(ctx context.Context, pr Provider, m Message, p Priority) error {
	err := pr.Sender.Send(ctx, m)
	a := Attempt{To: m.To, Template: m.Template, Provider: pr.Name, Priority: p, Status: StatusSent}
	if err != nil {
		a.Status, a.Error = StatusFailed, err.Error()
		c.logger().WarnContext(ctx, "email provider failed", slog.String("provider", pr.Name),
			slog.String("template", m.Template), slog.Bool("temporary", Temporary(err)), slog.Any("error", err))
	}
	c.record(ctx, a)
	if err != nil {
		return fmt.Errorf("%s: %w", pr.Name, err)
	}
	return nil
}

func (c *Chain) record(ctx context.Context, a Attempt) {
	if c.Recorder == nil {
		return
	}
	if c.Clock != nil {
		a.At = c.Clock.Now()
	} else {
		a.At = time.Now().UTC()
	}
	if err := c.Recorder.Record(ctx, a); err != nil {
		c.logger().ErrorContext(ctx, "email attempt not recorded", slog.String("to", a.To),
			slog.String("status", string(a.Status)), slog.Any("error", err))
	}
}

func (c *Chain) logger() *slog.Logger {
	if c.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return c.Logger
}

func errorText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
