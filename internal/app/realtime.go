package app

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"

	"github.com/carecircle/carecircle/internal/auth"
	"github.com/carecircle/carecircle/internal/clock"
	"github.com/carecircle/carecircle/internal/config"
	"github.com/carecircle/carecircle/internal/kv"
	"github.com/carecircle/carecircle/internal/realtime"
	"github.com/carecircle/carecircle/internal/store"
)

// newRealtime builds the realtime node: it serves clients where tokens are
// given (roles with the API) and publishes what the outbox dispatches. With
// Redis it shares its broker with every other node.
func newRealtime(cfg config.Config, role Role, st *store.Store, tokens *auth.Tokens, clk clock.Clock, logger *slog.Logger) (*realtime.Node, error) {
	opts := realtime.Options{
		HistorySize:           cfg.RealtimeHistorySize,
		HistoryTTL:            cfg.RealtimeHistoryTTL,
		MaxConnectionsPerUser: cfg.RealtimeMaxConnsPerUser,
		AllowedOrigins:        append([]string{originOf(cfg.PublicURL)}, cfg.AllowedOrigins...),
		RedisPrefix:           cfg.RedisKeyPrefix,
	}
	if host, err := os.Hostname(); err == nil {
		opts.Name = fmt.Sprintf("%s-%s-%d", host, role, os.Getpid())
	}
	if cfg.Redis() {
		o, err := kv.RedisOptions(cfg.RedisURL, cfg.RedisHost, cfg.RedisPort, cfg.RedisPassword, cfg.RedisTLS)
		if err != nil {
			return nil, fmt.Errorf("redis: %w", err)
		}
		opts.Redis = o
	} else if role == RoleWorker {
		logger.Warn("realtime: without Redis the worker's events reach no client; set REDIS_URL on every node or run carecircle serve")
	}
	return realtime.New(opts, realtime.Deps{Store: st, Tokens: tokens, Clock: clk, Logger: logger})
}

// withRealtime serves the realtime endpoints beside h. They bypass the
// API's middleware, whose response recorder can neither hijack a
// connection for WebSocket nor stream.
func withRealtime(h http.Handler, rt *realtime.Node) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/connection/", rt.Handler())
	mux.Handle("/", h)
	return mux
}

// shutdownRealtime disconnects the node's clients, telling them to
// reconnect (to another node).
func shutdownRealtime(ctx context.Context, rt *realtime.Node) error {
	if rt == nil {
		return nil
	}
	return rt.Shutdown(ctx)
}

func originOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return u.Scheme + "://" + u.Host
}
