// Package outbox dispatches the domain events that state changes append to
// the outbox table in their own transaction. One dispatcher at a time (a
// lease in the database elects it, and fences every record it writes) hands
// each event, in commit order, to every consumer at least once; consumers
// are idempotent by event id. A
// consumer that fails is retried with backoff and holds back the later
// events of that family for that consumer only, so a family's events keep
// their order; after MaxAttempts it gives up on that event and moves on.
package outbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/google/uuid"

	"github.com/carecircle/carecircle/internal/clock"
	"github.com/carecircle/carecircle/internal/events"
	"github.com/carecircle/carecircle/internal/store"
)

// Consumer takes domain events. Handle must be idempotent: the same event
// may arrive again after a crash or a retry.
type Consumer interface {
	Name() string
	Handle(ctx context.Context, e events.Event) error
}

// ConsumerFunc adapts a function to Consumer.
type ConsumerFunc struct {
	ConsumerName string
	Fn           func(ctx context.Context, e events.Event) error
}

// Name returns the consumer's name.
func (c ConsumerFunc) Name() string { return c.ConsumerName }

// Handle calls Fn.
func (c ConsumerFunc) Handle(ctx context.Context, e events.Event) error { return c.Fn(ctx, e) }

// BatchConsumer is a Consumer that takes many events in one call (a broker
// publishing them together, say). HandleBatch returns one outcome per event,
// in order; the dispatcher records each as it would Handle's. Events of a
// family waiting on an earlier event's retry are not offered.
type BatchConsumer interface {
	Consumer
	HandleBatch(ctx context.Context, es []events.Event) []error
}

// ErrPermanent marks a failure that retrying cannot fix; the event is given
// up at once for that consumer.
var ErrPermanent = errors.New("permanent failure")

// ErrUnavailable marks a consumer that cannot take anything right now (a
// broker it publishes to is away): the event waits for the next pass, and
// the attempt is neither counted nor recorded.
var ErrUnavailable = errors.New("consumer unavailable")

// LeaseName is the lease that elects the dispatching process.
const LeaseName = "outbox-dispatcher"

// Options tunes a Dispatcher; zero values take the defaults.
type Options struct {
	// Poll is how often the outbox is read when nothing signals new events
	// (events appended by another process). Default 500 ms.
	Poll time.Duration
	// Batch is how many events one pass reads. Default 256.
	Batch int
	// MaxAttempts per consumer and event before giving up. Default 8.
	MaxAttempts int
	// MaxBackoff caps the wait before a failed event's next attempt.
	// Default 5 min.
	MaxBackoff time.Duration
	// Retention keeps dispatched events this long. Default 72 h.
	Retention time.Duration
	// LeaseTTL bounds how long a dead dispatcher holds the lease, and so how
	// long events wait after the dispatching process dies. Default 6 s; a
	// live dispatcher renews it on every pass and, in a long one, every
	// third of it.
	LeaseTTL time.Duration
}

func (o *Options) defaults() {
	if o.Poll <= 0 {
		o.Poll = 500 * time.Millisecond
	}
	if o.Batch <= 0 {
		o.Batch = 256
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 8
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = maxBackoff
	}
	if o.Retention <= 0 {
		o.Retention = 72 * time.Hour
	}
	if o.LeaseTTL <= 0 {
		o.LeaseTTL = 6 * time.Second
	}
}

// Dispatcher moves events from the outbox to the consumers.
type Dispatcher struct {
	store     *store.Store
	consumers []Consumer
	clock     clock.Clock
	logger    *slog.Logger
	opts      Options
	holder    string
	lease     store.Lease // as the last DispatchOnce acquired it
	// leaseFresh is when the lease, by this process's clock, has run a
	// third of its TTL: a pass still handing events over then renews it
	// before the next hand-off, so a process that was paused past its lease
	// finds out before handing over anything more.
	leaseFresh time.Time
	kick       chan struct{}
}

// New returns a dispatcher over st for consumers. It registers itself to be
// woken when this process commits events.
func New(st *store.Store, clk clock.Clock, logger *slog.Logger, opts Options, consumers ...Consumer) *Dispatcher {
	opts.defaults()
	d := &Dispatcher{
		store: st, consumers: consumers, clock: clk, logger: logger, opts: opts,
		holder: uuid.NewString(), kick: make(chan struct{}, 1),
	}
	st.OnEventsCommitted(d.Kick)
	return d
}

// Kick wakes the dispatcher; it never blocks.
func (d *Dispatcher) Kick() {
	select {
	case d.kick <- struct{}{}:
	default:
	}
}

// ErrNotLeader: another dispatcher holds the lease, so this one dispatches
// nothing.
var ErrNotLeader = errors.New("outbox: another dispatcher holds the lease")

// Run dispatches until ctx ends, while this process holds the lease.
func (d *Dispatcher) Run(ctx context.Context) error {
	ticker := time.NewTicker(d.opts.Poll)
	defer ticker.Stop()
	defer func() {
		// A clean stop hands the lease over at once.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
		defer cancel()
		_ = d.store.ReleaseLease(rctx, LeaseName, d.holder)
	}()
	var lastPrune time.Time
	for {
		// Each batch renews the lease, so a long backlog does not outlive
		// it; a batch whose lease was lost stops, and the next poll tries to
		// acquire it again.
		leader := false
		for {
			n, err := d.DispatchOnce(ctx)
			if err != nil {
				switch {
				case ctx.Err() != nil, errors.Is(err, ErrNotLeader):
				case errors.Is(err, store.ErrLeaseLost):
					d.logger.Warn("outbox: lease lost, stopped dispatching", slog.Any("error", err))
				default:
					d.logger.Error("outbox dispatch", slog.Any("error", err))
				}
				leader = false
				break
			}
			leader = true
			if n < d.opts.Batch {
				break
			}
		}
		if now := d.clock.Now(); leader && now.Sub(lastPrune) > time.Hour {
			lastPrune = now
			if _, err := d.store.PruneOutbox(ctx, d.lease, now.Add(-d.opts.Retention)); err != nil && ctx.Err() == nil {
				d.logger.Warn("outbox prune", slog.Any("error", err))
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-ticker.C:
		case <-d.kick:
		}
	}
}

// DispatchOnce takes the lease (or renews it), reads one batch of pending
// events and offers each to every consumer that has not yet taken it. It
// returns how many events it read. Another dispatcher holding the lease is
// ErrNotLeader. Every record it writes is made under the lease's token; once
// the lease is lost (this process was paused past its TTL and another took
// over) the store refuses them and DispatchOnce stops with
// store.ErrLeaseLost, leaving what it had not recorded to the new holder.
func (d *Dispatcher) DispatchOnce(ctx context.Context) (int, error) {
	asked := d.clock.Now()
	ok, token, err := d.store.AcquireLease(ctx, LeaseName, d.holder, d.opts.LeaseTTL)
	if err != nil {
		return 0, err
	}
	if !ok {
		return 0, ErrNotLeader
	}
	d.lease = store.Lease{Name: LeaseName, Holder: d.holder, Token: token}
	d.leaseFresh = asked.Add(d.opts.LeaseTTL / 3)
	pending, err := d.store.PendingEvents(ctx, d.opts.Batch)
	if err != nil || len(pending) == 0 {
		return 0, err
	}
	ids := make([]string, len(pending))
	for i, p := range pending {
		ids[i] = p.ID
	}
	deliveries, err := d.store.OutboxDeliveries(ctx, ids)
	if err != nil {
		return 0, err
	}
	now := d.clock.Now()
	decoded := make([]*events.Event, len(pending))
	var dispatched []int64
	for i, p := range pending {
		var e events.Event
		if err := json.Unmarshal(p.Envelope, &e); err != nil {
			// An envelope that cannot be read never will be: record it and move on.
			d.logger.Error("outbox: unreadable event", slog.String("id", p.ID), slog.Any("error", err))
			dispatched = append(dispatched, p.Seq)
			continue
		}
		decoded[i] = &e
	}
	// What each consumer took is recorded together at the end of the pass,
	// one statement per consumer; failures are recorded as they happen. A
	// pass cut short still records what was taken.
	taken := make(map[string][]string)
	flush := func() error {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		for _, c := range d.consumers {
			if err := d.store.MarkDeliveredManyUnder(rctx, d.lease, c.Name(), taken[c.Name()]); err != nil {
				return err
			}
			delete(taken, c.Name())
		}
		return nil
	}
	stop := func(err error) (int, error) {
		if ferr := flush(); ferr != nil && !errors.Is(err, store.ErrLeaseLost) {
			d.logger.Warn("outbox: record deliveries", slog.Any("error", ferr))
		}
		return 0, err
	}
	// Batch consumers take every event they are due in one call first; the
	// loop below records the outcomes in order.
	batched := make(map[[2]string]error)
	for _, c := range d.consumers {
		if b, ok := c.(BatchConsumer); ok {
			if err := d.keepLease(ctx); err != nil {
				return stop(err)
			}
			d.handleBatch(ctx, b, pending, decoded, deliveries, now, batched)
		}
	}
	// held marks (consumer, family) pairs waiting on an earlier event.
	held := make(map[[2]string]bool)
	for i, p := range pending {
		e := decoded[i]
		if e == nil {
			continue
		}
		all := true
		for _, c := range d.consumers {
			key := [2]string{c.Name(), p.FamilyID}
			dl := deliveries[[2]string{c.Name(), p.ID}]
			if dl != nil && dl.Done {
				continue
			}
			result, wasBatched := batched[[2]string{c.Name(), p.ID}]
			if !wasBatched && (held[key] || (dl != nil && dl.NextAttemptAt != nil && dl.NextAttemptAt.After(now))) {
				held[key] = true
				all = false
				continue
			}
			if !wasBatched {
				if ctx.Err() != nil {
					return stop(ctx.Err())
				}
				if err := d.keepLease(ctx); err != nil {
					return stop(err)
				}
				result = SafeHandle(ctx, c, *e)
			}
			if result == nil {
				taken[c.Name()] = append(taken[c.Name()], p.ID)
				continue
			}
			done, err := d.recordFailure(ctx, c, *e, dl, result)
			if err != nil {
				return stop(err)
			}
			if !done {
				held[key] = true
				all = false
			}
		}
		if all {
			dispatched = append(dispatched, p.Seq)
		}
	}
	if err := flush(); err != nil {
		return 0, err
	}
	if err := d.store.MarkDispatched(ctx, d.lease, dispatched); err != nil {
		return 0, err
	}
	return len(pending), nil
}

// keepLease renews the lease once it has run a third of its TTL by this
// process's clock. It returns store.ErrLeaseLost when another process holds
// it now (this one was paused past it), or holds a newer token.
func (d *Dispatcher) keepLease(ctx context.Context) error {
	if d.clock.Now().Before(d.leaseFresh) {
		return nil
	}
	asked := d.clock.Now()
	ok, token, err := d.store.AcquireLease(ctx, LeaseName, d.holder, d.opts.LeaseTTL)
	if err != nil {
		return err
	}
	if !ok || token != d.lease.Token {
		return fmt.Errorf("outbox: renew lease: %w (%s, token %d)", store.ErrLeaseLost, LeaseName, d.lease.Token)
	}
	d.leaseFresh = asked.Add(d.opts.LeaseTTL / 3)
	return nil
}

// handleBatch offers b, in one call, every pending event it has not taken
// and may take now (not waiting on a retry, and not behind an event of its
// family that is), and puts each outcome in results under (consumer, event)
// for the caller to record.
func (d *Dispatcher) handleBatch(ctx context.Context, b BatchConsumer, pending []store.OutboxEvent, decoded []*events.Event,
	deliveries map[[2]string]*OutboxDeliveryState, now time.Time, results map[[2]string]error) {
	held := make(map[string]bool)
	var es []events.Event
	for i, p := range pending {
		dl := deliveries[[2]string{b.Name(), p.ID}]
		if decoded[i] == nil || (dl != nil && dl.Done) {
			continue
		}
		if held[p.FamilyID] || (dl != nil && dl.NextAttemptAt != nil && dl.NextAttemptAt.After(now)) {
			held[p.FamilyID] = true
			continue
		}
		es = append(es, *decoded[i])
	}
	if len(es) == 0 {
		return
	}
	errs := safeHandleBatch(ctx, b, es)
	for i, e := range es {
		results[[2]string{b.Name(), e.ID}] = errs[i]
	}
}

// recordFailure writes the failure of handing e to c under the lease; it reports
// whether c is done with e (given up). Its error is
// store.ErrLeaseLost: the record was refused and dispatching must stop.
func (d *Dispatcher) recordFailure(ctx context.Context, c Consumer, e events.Event, dl *OutboxDeliveryState, err error) (bool, error) {
	if errors.Is(err, ErrUnavailable) {
		return false, nil
	}
	attempts := 1
	if dl != nil {
		attempts = dl.Attempts + 1
	}
	msg := err.Error()
	if errors.Is(err, ErrPermanent) || attempts >= d.opts.MaxAttempts {
		d.logger.Error("outbox: consumer gave up on event", slog.String("consumer", c.Name()),
			slog.String("event", e.Type), slog.String("id", e.ID), slog.Int("attempts", attempts), slog.String("error", msg))
		if err := d.store.MarkDeliveredUnder(ctx, d.lease, c.Name(), e.ID, true, &msg); err != nil {
			if errors.Is(err, store.ErrLeaseLost) {
				return false, err
			}
			return false, nil
		}
		return true, nil
	}
	next := d.clock.Now().Add(min(Backoff(attempts), d.opts.MaxBackoff))
	d.logger.Warn("outbox: consumer failed, will retry", slog.String("consumer", c.Name()),
		slog.String("event", e.Type), slog.String("id", e.ID), slog.Int("attempt", attempts), slog.String("error", msg))
	if _, err := d.store.RecordDeliveryFailure(ctx, d.lease, c.Name(), e.ID, msg, next); err != nil {
		if errors.Is(err, store.ErrLeaseLost) {
			return false, err
		}
		d.logger.Warn("outbox: record failure", slog.Any("error", err))
	}
	return false, nil
}

// OutboxDeliveryState is what the store remembers of a consumer's attempts.
type OutboxDeliveryState = store.OutboxDelivery

// SafeHandle hands e to c, turning a panic into a permanent failure of e,
// so one bad event cannot stop whoever feeds the consumer.
func SafeHandle(ctx context.Context, c Consumer, e events.Event) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: consumer %s panicked: %v", ErrPermanent, c.Name(), r)
		}
	}()
	return c.Handle(ctx, e)
}

// safeHandleBatch is SafeHandle for a batch: a panic fails every event of it.
func safeHandleBatch(ctx context.Context, b BatchConsumer, es []events.Event) (errs []error) {
	defer func() {
		if r := recover(); r != nil {
			err := fmt.Errorf("%w: consumer %s panicked: %v", ErrPermanent, b.Name(), r)
			errs = make([]error, len(es))
			for i := range errs {
				errs[i] = err
			}
		}
	}()
	errs = b.HandleBatch(ctx, es)
	if len(errs) != len(es) {
		err := fmt.Errorf("consumer %s answered %d outcomes for %d events", b.Name(), len(errs), len(es))
		errs = make([]error, len(es))
		for i := range errs {
			errs[i] = err
		}
	}
	return errs
}

// maxBackoff is the longest wait Backoff gives.
const maxBackoff = 5 * time.Minute

// Backoff is the wait before attempt n+1: 1 s doubling to at most 5 min.
func Backoff(attempt int) time.Duration {
	d := time.Second
	for i := 1; i < attempt && d < maxBackoff; i++ {
		d *= 2
	}
	return min(d, maxBackoff)
}

// Health reports the outbox backlog on /health.
type Health struct{ Store *store.Store }

// Name implements api.HealthReporter.
func (Health) Name() string { return "outbox" }

// Health implements api.HealthReporter.
func (h Health) Health(ctx context.Context) any {
	n, oldest, err := h.Store.OutboxBacklog(ctx)
	if err != nil {
		return map[string]any{"status": "unavailable"}
	}
	out := map[string]any{"status": "up", "pending": n}
	if oldest != nil {
		out["oldestPending"] = oldest.UTC().Format(time.RFC3339)
	}
	return out
}
