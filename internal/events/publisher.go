package events

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
)

// PublisherOptions configure a Publisher.
type PublisherOptions struct {
	ConnOptions
	// ConfirmTimeout bounds the wait for one publisher confirm; zero means
	// 10 s. When it passes, Publish returns ErrConfirmTimeout.
	ConfirmTimeout time.Duration
}

// Publisher publishes events to the domain exchange as persistent messages
// and waits for the broker's confirm of each. It keeps one connection,
// reconnecting with backoff and declaring the topology again whenever the
// connection or its channel closes. It is safe for concurrent use;
// concurrent publishes share the channel and their confirms.
type Publisher struct {
	opts   PublisherOptions
	log    *slog.Logger
	cancel context.CancelFunc
	done   chan struct{} // closed when the connection loop has stopped

	mu    sync.Mutex
	sess  *pubSession   // nil while disconnected
	ready chan struct{} // closed when sess is set
}

// pubSession is one connection and its confirming channel.
type pubSession struct {
	conn *amqp.Connection
	ch   *amqp.Channel
	lost chan struct{} // closed once the session is known to be dead
	// connClosed and chClosed tell of the connection's or channel's end.
	connClosed, chClosed chan *amqp.Error
}

// NewPublisher starts a publisher that connects in the background; Publish
// waits for the connection. Close stops it.
func NewPublisher(opts PublisherOptions) (*Publisher, error) {
	conn, err := opts.ConnOptions.withDefaults("publisher")
	if err != nil {
		return nil, err
	}
	opts.ConnOptions = conn
	if opts.ConfirmTimeout <= 0 {
		opts.ConfirmTimeout = 10 * time.Second
	}
	ctx, cancel := context.WithCancel(context.Background())
	p := &Publisher{
		opts:   opts,
		log:    opts.Logger.With(slog.String("component", "events.publisher")),
		cancel: cancel,
		done:   make(chan struct{}),
		ready:  make(chan struct{}),
	}
	go p.run(ctx)
	return p, nil
}

// Close stops reconnecting, closes the connection and waits for both.
// Publishes still waiting return ErrClosed.
func (p *Publisher) Close() error {
	p.cancel()
	<-p.done
	return nil
}

// Connected reports whether the publisher currently holds a connection.
func (p *Publisher) Connected() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.sess != nil
}

// Publish sends e to the domain exchange under its type and blocks until the
// broker confirms it. While the broker is unreachable it waits for the
// reconnection; when the connection drops before the confirm it publishes
// again on the next one (so the broker may hold duplicates, which consumers
// drop by id). It returns ErrNacked or ErrConfirmTimeout when the broker
// refuses or does not answer, and ctx's error when ctx ends first: in every
// error case the caller should keep the event and try again later.
func (p *Publisher) Publish(ctx context.Context, e Event) error {
	return p.PublishBatch(ctx, []Event{e})[0]
}

// PublishBatch publishes es to the domain exchange, in order, and waits for
// all their confirms together, so a batch costs one round trip to the broker
// rather than one per event. errs[i] is what Publish would have returned for
// es[i]. Events whose confirm was lost with the connection go again, in
// order, on the next one.
func (p *Publisher) PublishBatch(ctx context.Context, es []Event) (errs []error) {
	errs = make([]error, len(es))
	msgs := make([]amqp.Publishing, len(es))
	var pending []int
	for i, e := range es {
		msg, err := message(e)
		if err != nil {
			errs[i] = err
			continue
		}
		msgs[i] = msg
		pending = append(pending, i)
	}
	exchange := p.opts.Topology.DomainExchange()
	for len(pending) > 0 {
		s, err := p.session(ctx)
		if err != nil {
			for _, i := range pending {
				errs[i] = fmt.Errorf("events: publish %s %s: %w", es[i].Type, es[i].ID, err)
			}
			return errs
		}
		retry := p.publishOnce(ctx, s, exchange, msgs, pending, errs)
		if len(retry) == 0 {
			return errs
		}
		p.log.DebugContext(ctx, "connection lost before confirm; publishing again",
			slog.Int("events", len(retry)))
		select {
		case <-s.lost:
		case <-ctx.Done():
			for _, i := range retry {
				errs[i] = fmt.Errorf("events: publish %s %s: %w", es[i].Type, es[i].ID, ctx.Err())
			}
			return errs
		}
		pending = retry
	}
	return errs
}

// message encodes e as a persistent message under its type.
func message(e Event) (amqp.Publishing, error) {
	if err := e.Validate(); err != nil {
		return amqp.Publishing{}, err
	}
	body, err := json.Marshal(e)
	if err != nil {
		return amqp.Publishing{}, fmt.Errorf("events: encode %s: %w", e.ID, err)
	}
	return amqp.Publishing{
		ContentType:   "application/json",
		DeliveryMode:  amqp.Persistent,
		MessageId:     e.ID,
		CorrelationId: e.CorrelationID,
		Type:          e.Type,
		Timestamp:     e.Timestamp,
		AppId:         Source,
		Body:          body,
	}, nil
}

// publishOnce publishes msgs[i] for every i in pending on s, then waits for
// their confirms, setting errs[i] for each settled one. It returns, in order,
// the indexes whose outcome the session's death left unknown: they must go
// again on the next session.
func (p *Publisher) publishOnce(ctx context.Context, s *pubSession, exchange string, msgs []amqp.Publishing, pending []int, errs []error) (retry []int) {
	wrap := func(i int, err error) error {
		return fmt.Errorf("events: publish %s %s: %w", msgs[i].Type, msgs[i].MessageId, err)
	}
	confirms := make([]*amqp.DeferredConfirmation, 0, len(pending))
	for k, i := range pending {
		dc, err := s.ch.PublishWithDeferredConfirmWithContext(ctx, exchange, msgs[i].Type, false, false, msgs[i])
		if err != nil {
			if ctx.Err() != nil {
				for _, j := range pending[k:] {
					errs[j] = wrap(j, ctx.Err())
				}
			} else {
				// A failed write means the connection is broken, though the
				// library notices only asynchronously; closing it makes the
				// loop reconnect now, and the rest go again on the new one.
				_ = s.conn.Close()
				retry = append(retry, pending[k:]...)
			}
			pending = pending[:k]
			break
		}
		confirms = append(confirms, dc)
	}
	wctx, cancel := context.WithTimeout(ctx, p.opts.ConfirmTimeout)
	defer cancel()
	var lost []int
	for k, dc := range confirms {
		i := pending[k]
		acked, err := dc.WaitContext(wctx)
		switch {
		case err != nil && ctx.Err() != nil:
			errs[i] = wrap(i, ctx.Err())
		case err != nil:
			errs[i] = wrap(i, ErrConfirmTimeout)
		case acked:
			errs[i] = nil
		case s.ch.IsClosed():
			// The library nacks every pending confirm when the channel
			// closes; that is a lost answer, not the broker's refusal.
			lost = append(lost, i)
		default:
			errs[i] = wrap(i, ErrNacked)
		}
	}
	return append(lost, retry...)
}

// session returns the live session, waiting for one while disconnected.
func (p *Publisher) session(ctx context.Context) (*pubSession, error) {
	for {
		p.mu.Lock()
		s, ready := p.sess, p.ready
		p.mu.Unlock()
		if s != nil {
			return s, nil
		}
		select {
		case <-ready:
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-p.done:
			return nil, ErrClosed
		}
	}
}

// run owns the connection: it connects with backoff, then waits for the
// connection or channel to close, and starts over until ctx ends.
func (p *Publisher) run(ctx context.Context) {
	defer close(p.done)
	for attempt := 0; ; {
		s, err := p.connect(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			delay := p.opts.Reconnect.Delay(attempt)
			p.log.WarnContext(ctx, "broker unreachable; retrying", slog.Int("attempt", attempt+1),
				slog.Duration("retry_in", delay), slog.Any("error", err))
			attempt++
			if p.opts.Sleep(ctx, delay) != nil {
				return
			}
			continue
		}
		if attempt > 0 {
			p.log.InfoContext(ctx, "reconnected to broker", slog.Int("attempts", attempt+1))
		}
		attempt = 0
		p.setSession(s)
		var cause *amqp.Error
		select {
		case <-ctx.Done():
		case cause = <-s.connClosed:
		case cause = <-s.chClosed:
		}
		p.clearSession(s)
		_ = s.conn.Close()
		if ctx.Err() != nil {
			return
		}
		p.log.WarnContext(ctx, "broker connection lost; reconnecting", slog.Any("error", cause))
	}
}

// connect opens a connection and a confirming channel and declares the
// topology on it.
func (p *Publisher) connect(ctx context.Context) (*pubSession, error) {
	conn, err := p.opts.dial(ctx)
	if err != nil {
		return nil, err
	}
	s := &pubSession{conn: conn, lost: make(chan struct{})}
	s.connClosed = conn.NotifyClose(make(chan *amqp.Error, 1))
	ch, err := conn.Channel()
	if err != nil {
		_ = conn.Close()
		return nil, fmt.Errorf("events: open channel: %w", err)
	}
	s.ch = ch
	s.chClosed = ch.NotifyClose(make(chan *amqp.Error, 1))
	if err := p.opts.Topology.Declare(ch); err != nil {
		_ = conn.Close()
		return nil, err
	}
	if err := ch.Confirm(false); err != nil {
		_ = conn.Close()
		return nil, fmt.Errorf("events: enable publisher confirms: %w", err)
	}
	return s, nil
}

func (p *Publisher) setSession(s *pubSession) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.sess = s
	close(p.ready)
}

// clearSession marks s dead, waking publishes that wait on it.
func (p *Publisher) clearSession(s *pubSession) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.sess = nil
	p.ready = make(chan struct{})
	close(s.lost)
}
