package events

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
)

// dialTimeout bounds the TCP connect and the AMQP handshake.
const dialTimeout = 15 * time.Second

// ConnOptions are what publishers and consumers need to reach the broker.
type ConnOptions struct {
	// URL is the broker's amqp:// or amqps:// URL.
	URL string
	// Topology names the exchanges and queues; it is declared on every
	// (re)connect.
	Topology Topology
	// Name labels the connection in the broker's management UI.
	Name string
	// Logger receives connection losses and retries; nil discards them.
	Logger *slog.Logger
	// Reconnect is the wait between reconnect attempts; the zero value
	// means 250 ms doubling up to 30 s with 20% jitter.
	Reconnect Backoff
	// Sleep waits out backoff delays; nil uses Sleep.
	Sleep SleepFunc
}

// withDefaults validates o and fills its defaults.
func (o ConnOptions) withDefaults(role string) (ConnOptions, error) {
	if _, err := amqp.ParseURI(o.URL); err != nil {
		return o, fmt.Errorf("events: broker URL: %w", err)
	}
	if err := o.Topology.Validate(); err != nil {
		return o, err
	}
	if o.Name == "" {
		o.Name = "carecircle " + role
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	o.Reconnect = o.Reconnect.withDefaults(defaultReconnect)
	if o.Sleep == nil {
		o.Sleep = Sleep
	}
	return o, nil
}

// dial opens a connection, giving up when ctx ends or after dialTimeout.
func (o ConnOptions) dial(ctx context.Context) (*amqp.Connection, error) {
	cfg := amqp.Config{
		Heartbeat:  10 * time.Second,
		Locale:     "en_US",
		Properties: amqp.Table{"connection_name": o.Name},
		Dial: func(network, addr string) (net.Conn, error) {
			d := net.Dialer{Timeout: dialTimeout}
			c, err := d.DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			// The library clears this deadline once the handshake is done.
			if err := c.SetDeadline(time.Now().Add(dialTimeout)); err != nil {
				c.Close()
				return nil, err
			}
			return c, nil
		},
	}
	conn, err := amqp.DialConfig(o.URL, cfg)
	if err != nil {
		return nil, fmt.Errorf("events: connect to broker: %w", err)
	}
	return conn, nil
}
