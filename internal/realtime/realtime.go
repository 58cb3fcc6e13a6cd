// Package realtime pushes what happens in a family to its members' browsers
// and phones as it happens. A Centrifuge node serves /connection/websocket
// (and HTTP-streaming and SSE fallbacks) on the API port, authenticates each
// connection with its CareCircle access token, lets members subscribe to
// their family:{id} and care-recipient:{id} channels, and joins every
// connection to its user:{id} channel. The outbox Consumer publishes each
// domain event there as {event, data, id, timestamp}; channels keep a short
// history so a client that reconnects receives exactly what it missed. With
// Redis, nodes share one broker, so a member connected to one node sees
// events that another produced; an idle node or connection sends Redis
// nothing (see redisBroker).
package realtime

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/centrifugal/centrifuge"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/carecircle/carecircle/internal/auth"
	"github.com/carecircle/carecircle/internal/clock"
	"github.com/carecircle/carecircle/internal/store"
)

// Options configure a Node; zero values take the defaults.
type Options struct {
	// Name identifies the node among its peers (default: the host name).
	Name string
	// HistorySize and HistoryTTL bound what each channel keeps for clients
	// that reconnect. Defaults 100 and 10 minutes.
	HistorySize int
	HistoryTTL  time.Duration
	// MaxConnectionsPerUser caps one user's connections to this node.
	// Default 10.
	MaxConnectionsPerUser int
	// AllowedOrigins are the browser origins (scheme://host[:port]) that may
	// connect; a request without an Origin (not a browser) is always let in.
	AllowedOrigins []string
	// Redis, when set, shares the broker and presence with every node using
	// the same server and RedisPrefix; nil keeps them in memory.
	Redis       *redis.Options
	RedisPrefix string
	// ClientQueueMaxSize is how many bytes may wait for a slow client before
	// it is disconnected. Default 512 KiB.
	ClientQueueMaxSize int
	// PingInterval and PongTimeout keep connections alive and find dead ones.
	// Defaults 25 s and 10 s.
	PingInterval time.Duration
	PongTimeout  time.Duration
}

func (o *Options) defaults() {
	if o.HistorySize <= 0 {
		o.HistorySize = 100
	}
	if o.HistoryTTL <= 0 {
		o.HistoryTTL = 10 * time.Minute
	}
	if o.MaxConnectionsPerUser <= 0 {
		o.MaxConnectionsPerUser = 10
	}
	if o.ClientQueueMaxSize <= 0 {
		o.ClientQueueMaxSize = 512 << 10
	}
}

// Deps are what a Node checks tokens and memberships against.
type Deps struct {
	Store  *store.Store
	Tokens *auth.Tokens // nil on a node that serves no clients (the worker)
	Clock  clock.Clock
	Logger *slog.Logger
}

// Node is a Centrifuge node with CareCircle's authentication, channel rules
// and limits.
type Node struct {
	opts   Options
	node   *centrifuge.Node
	store  *store.Store
	tokens *auth.Tokens
	// sessions checks a connection's session in the database, not the
	// node's memory: connecting and refreshing are rare, and the node
	// cache's invalidations travel on this very node's bus.
	sessions *auth.Sessions
	clock    clock.Clock
	logger   *slog.Logger
	redis    *redisBroker
	registry *prometheus.Registry
	ws       http.Handler
	stream   http.Handler
	sse      http.Handler
	emulate  http.Handler
}

// New builds a node; Run starts it.
func New(opts Options, d Deps) (*Node, error) {
	opts.defaults()
	n := &Node{opts: opts, store: d.Store, tokens: d.Tokens, clock: d.Clock, logger: d.Logger, registry: prometheus.NewRegistry(),
		sessions: auth.NewSessions(d.Store, nil, d.Clock)}
	node, err := centrifuge.New(centrifuge.Config{
		Name:                opts.Name,
		LogLevel:            centrifuge.LogLevelWarn,
		LogHandler:          n.log,
		UserConnectionLimit: opts.MaxConnectionsPerUser,
		ClientQueueMaxSize:  opts.ClientQueueMaxSize,
		// A family member has a handful of families and care recipients.
		ClientChannelLimit: 128,
		Metrics:            centrifuge.MetricsConfig{RegistererGatherer: n.registry, GetChannelNamespaceLabel: namespaceOf},
	})
	if err != nil {
		return nil, fmt.Errorf("realtime: %w", err)
	}
	n.node = node
	if opts.Redis != nil {
		if err := n.useRedis(); err != nil {
			return nil, err
		}
	}
	node.OnConnecting(n.onConnecting)
	node.OnConnect(n.onConnect)
	pingPong := centrifuge.PingPongConfig{PingInterval: opts.PingInterval, PongTimeout: opts.PongTimeout}
	n.ws = centrifuge.NewWebsocketHandler(node, centrifuge.WebsocketConfig{
		CheckOrigin:      n.originAllowed,
		ReadBufferSize:   1024,
		WriteBufferSize:  1024,
		MessageSizeLimit: 64 << 10,
		WriteTimeout:     2 * time.Second,
		PingPongConfig:   pingPong,
		// Most connections are idle for hours; keep their stacks small.
		ProcessCommandsOffReadLoop: true,
	})
	n.stream = centrifuge.NewHTTPStreamHandler(node, centrifuge.HTTPStreamConfig{MaxRequestBodySize: 64 << 10, PingPongConfig: pingPong})
	n.sse = centrifuge.NewSSEHandler(node, centrifuge.SSEConfig{MaxRequestBodySize: 64 << 10, PingPongConfig: pingPong})
	n.emulate = centrifuge.NewEmulationHandler(node, centrifuge.EmulationConfig{MaxRequestBodySize: 64 << 10})
	return n, nil
}

// Run starts the node: its broker and, with Redis, the subscriptions that
// connect it to its peers.
func (n *Node) Run() error {
	if err := n.node.Run(); err != nil {
		return fmt.Errorf("realtime: start: %w", err)
	}
	return nil
}

// Shutdown disconnects the clients (they reconnect to another node) and
// stops the node.
func (n *Node) Shutdown(ctx context.Context) error {
	err := n.node.Shutdown(ctx)
	if n.redis != nil {
		_ = n.redis.Close(ctx)
	}
	if err != nil && !errors.Is(err, context.Canceled) {
		return fmt.Errorf("realtime: shutdown: %w", err)
	}
	return nil
}

// Status reports the node for /health: its clients and, with Redis,
// whether it receives the other nodes' events. It sends nothing to Redis,
// so a probe polling /health costs no command.
func (n *Node) Status() map[string]any {
	out := map[string]any{"status": "up", "broker": "memory", "clients": n.node.Hub().NumClients()}
	if n.redis != nil {
		out["broker"] = "redis"
		out["connected"] = n.redis.Connected()
	}
	return out
}

// Metrics gathers the node's Prometheus metrics.
func (n *Node) Metrics() prometheus.Gatherer { return n.registry }

// namespaceOf labels metrics by channel kind, never by id.
func namespaceOf(channel string) string {
	k, _, _ := parseChannel(channel)
	return string(k)
}

// log forwards Centrifuge's log entries to the process logger.
func (n *Node) log(e centrifuge.LogEntry) {
	level := slog.LevelInfo
	switch e.Level {
	case centrifuge.LogLevelTrace, centrifuge.LogLevelDebug:
		level = slog.LevelDebug
	case centrifuge.LogLevelWarn:
		level = slog.LevelWarn
	case centrifuge.LogLevelError:
		level = slog.LevelError
	}
	attrs := make([]slog.Attr, 0, len(e.Fields)+1)
	attrs = append(attrs, slog.String("component", "realtime"))
	for k, v := range e.Fields {
		attrs = append(attrs, slog.Any(k, v))
	}
	n.logger.LogAttrs(context.Background(), level, e.Message, attrs...)
}

// Name names the node's part of /health.
func (n *Node) Name() string { return "realtime" }

// Health is the node's part of /health.
func (n *Node) Health(context.Context) any { return n.Status() }
