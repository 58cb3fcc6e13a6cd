// Package rtclient is a small CareCircle realtime client on centrifuge-go,
// for tests and the load command: connect with an access token, subscribe
// to channels, and read the messages in the order they arrive.
package rtclient

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/centrifugal/centrifuge-go"
)

// Received is one message as a client got it.
type Received struct {
	Channel string
	Offset  uint64
	Event   string          `json:"event"`
	Data    json.RawMessage `json:"data"`
	ID      string          `json:"id"`
	// Timestamp is the domain event's time, RFC 3339.
	Timestamp string `json:"timestamp"`
	// At is when the client received it.
	At time.Time
}

// Options configure a client.
type Options struct {
	// Token is the connect token (a CareCircle access token).
	Token string
	// GetToken, when set, is asked for a fresh token when the server says
	// the current one expired.
	GetToken func() (string, error)
	// Header is sent with the WebSocket handshake (Authorization, Cookie,
	// Origin).
	Header http.Header
	// Buffer is how many received messages may wait to be read; more are
	// dropped and counted. Default 1024.
	Buffer int
	// Timeout bounds the WebSocket handshake and each reply the client waits
	// for; zero keeps centrifuge-go's defaults (1 s and 5 s). Load tests on
	// a busy machine need more.
	Timeout time.Duration
}

// Client is one realtime connection.
type Client struct {
	c        *centrifuge.Client
	msgs     chan Received
	dropped  sync.Map
	mu       sync.Mutex
	unsubbed map[string]chan struct{}
	// unrecovered are, per channel, when a resubscription could not
	// recover what the client missed.
	unrecovered map[string][]time.Time
	errs        chan error
	conn        chan struct{}
	ended       chan Disconnect
}

// Disconnect is the server closing a connection: its code, reason, and when
// the client learnt of it.
type Disconnect struct {
	Code   uint32
	Reason string
	At     time.Time
}

// URL turns an HTTP base URL (http://host:port) into the WebSocket endpoint.
func URL(base string) string {
	return "ws" + strings.TrimPrefix(strings.TrimSuffix(base, "/"), "http") + "/connection/websocket"
}

// New builds a client for the endpoint; Connect opens it.
func New(endpoint string, o Options) *Client {
	if o.Buffer <= 0 {
		o.Buffer = 1024
	}
	cfg := centrifuge.Config{Token: o.Token, Header: o.Header, MinReconnectDelay: 50 * time.Millisecond, MaxReconnectDelay: time.Second,
		HandshakeTimeout: o.Timeout, ReadTimeout: o.Timeout}
	if o.GetToken != nil {
		cfg.GetToken = func(centrifuge.ConnectionTokenEvent) (string, error) { return o.GetToken() }
	}
	cl := &Client{
		c:    centrifuge.NewJsonClient(endpoint, cfg),
		msgs: make(chan Received, o.Buffer), unsubbed: map[string]chan struct{}{}, unrecovered: map[string][]time.Time{},
		errs: make(chan error, 16), conn: make(chan struct{}, 16), ended: make(chan Disconnect, 16),
	}
	cl.c.OnPublication(func(e centrifuge.ServerPublicationEvent) { cl.deliver(e.Channel, e.Publication) })
	cl.c.OnConnected(func(centrifuge.ConnectedEvent) { signal(cl.conn) })
	cl.c.OnDisconnected(func(e centrifuge.DisconnectedEvent) {
		select {
		case cl.errs <- fmt.Errorf("disconnected: %d %s", e.Code, e.Reason):
		default:
		}
		select {
		case cl.ended <- Disconnect{Code: e.Code, Reason: e.Reason, At: time.Now()}:
		default:
		}
	})
	cl.c.OnUnsubscribed(func(e centrifuge.ServerUnsubscribedEvent) { cl.markUnsubscribed(e.Channel) })
	return cl
}

func signal(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

func (cl *Client) deliver(channel string, p centrifuge.Publication) {
	r := Received{Channel: channel, Offset: p.Offset, At: time.Now()}
	_ = json.Unmarshal(p.Data, &r)
	select {
	case cl.msgs <- r:
	default:
		n, _ := cl.dropped.LoadOrStore(channel, new(int))
		*n.(*int)++
	}
}

func (cl *Client) unsubscribedCh(channel string) chan struct{} {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	ch, ok := cl.unsubbed[channel]
	if !ok {
		ch = make(chan struct{})
		cl.unsubbed[channel] = ch
	}
	return ch
}

func (cl *Client) markUnsubscribed(channel string) {
	ch := cl.unsubscribedCh(channel)
	cl.mu.Lock()
	defer cl.mu.Unlock()
	select {
	case <-ch:
	default:
		close(ch)
	}
}

// Connect opens the connection and waits until the server accepts it.
func (cl *Client) Connect(ctx context.Context) error {
	if err := cl.c.Connect(); err != nil {
		return err
	}
	return cl.waitConnected(ctx)
}

func (cl *Client) waitConnected(ctx context.Context) error {
	for {
		select {
		case <-cl.conn:
			return nil
		case err := <-cl.errs:
			return err
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Drop closes the connection the way a network loss would, keeping the
// client's positions in its channels; Connect then reconnects and
// recovers what was missed.
func (cl *Client) Drop(ctx context.Context) error {
	if err := cl.c.Disconnect(); err != nil {
		return err
	}
	select {
	case <-cl.errs:
	case <-ctx.Done():
		return ctx.Err()
	}
	for {
		select {
		case <-cl.conn:
		case <-cl.errs:
		default:
			return nil
		}
	}
}

// Subscribe subscribes to a channel and waits for the server's answer.
func (cl *Client) Subscribe(ctx context.Context, channel string) error {
	sub, err := cl.c.NewSubscription(channel, centrifuge.SubscriptionConfig{Recoverable: true, Positioned: true})
	if err != nil {
		return err
	}
	done := make(chan error, 1)
	sub.OnPublication(func(e centrifuge.PublicationEvent) { cl.deliver(channel, e.Publication) })
	sub.OnSubscribed(func(e centrifuge.SubscribedEvent) {
		if e.WasRecovering && !e.Recovered {
			cl.mu.Lock()
			cl.unrecovered[channel] = append(cl.unrecovered[channel], time.Now())
			cl.mu.Unlock()
		}
		select {
		case done <- nil:
		default:
		}
	})
	sub.OnUnsubscribed(func(e centrifuge.UnsubscribedEvent) {
		select {
		case done <- fmt.Errorf("unsubscribed from %s: %d %s", channel, e.Code, e.Reason):
		default:
		}
		cl.markUnsubscribed(channel)
	})
	if err := sub.Subscribe(); err != nil {
		return err
	}
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Next returns the next message received on any channel.
func (cl *Client) Next(ctx context.Context) (Received, error) {
	select {
	case r := <-cl.msgs:
		return r, nil
	case <-ctx.Done():
		return Received{}, ctx.Err()
	}
}

// Messages is the stream Next reads from.
func (cl *Client) Messages() <-chan Received { return cl.msgs }

// Unsubscribed is closed once the server unsubscribes the client from the
// channel.
func (cl *Client) Unsubscribed(channel string) <-chan struct{} { return cl.unsubscribedCh(channel) }

// PresenceStats asks the server for the presence counts of a channel the
// connection is subscribed to (its user channel, say): a round trip that
// succeeds only while the connection is up.
func (cl *Client) PresenceStats(ctx context.Context, channel string) (clients, users int, err error) {
	res, err := cl.c.PresenceStats(ctx, channel)
	if err != nil {
		return 0, 0, err
	}
	return int(res.NumClients), int(res.NumUsers), nil
}

// Disconnected waits until the connection is closed for good (by the
// server, or by Close) and tells how.
func (cl *Client) Disconnected(ctx context.Context) (Disconnect, error) {
	select {
	case d := <-cl.ended:
		return d, nil
	case <-ctx.Done():
		return Disconnect{}, ctx.Err()
	}
}

// Unrecovered lists when the client resubscribed to channel (after a
// reconnect, or when the server found its position stale) without getting
// back what it missed: the server no longer had it, and an app reloads
// what the channel describes.
func (cl *Client) Unrecovered(channel string) []time.Time {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	return append([]time.Time(nil), cl.unrecovered[channel]...)
}

// Close ends the connection for good.
func (cl *Client) Close() { cl.c.Close() }
