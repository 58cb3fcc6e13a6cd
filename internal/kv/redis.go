package kv

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"
)

// ErrRedisNotConfigured means neither REDIS_URL nor REDIS_HOST was given: the
// node runs on its in-memory implementations.
var ErrRedisNotConfigured = errors.New("kv: redis is not configured")

// RedisOptions builds client options from REDIS_URL or, when it is empty,
// from REDIS_HOST, REDIS_PORT (6379 by default), REDIS_PASSWORD and
// REDIS_TLS. tlsOn also upgrades a redis:// URL to TLS. Timeouts are short,
// so that a Redis that stops answering sends callers to their fallback
// within about a second instead of the client's five-second defaults.
func RedisOptions(url, host, port, password string, tlsOn bool) (*redis.Options, error) {
	var opt *redis.Options
	switch {
	case url != "":
		o, err := redis.ParseURL(url)
		if err != nil {
			return nil, fmt.Errorf("kv: REDIS_URL: %w", err)
		}
		opt = o
		if password != "" && opt.Password == "" {
			opt.Password = password
		}
	case host != "":
		if port == "" {
			port = "6379"
		}
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return nil, fmt.Errorf("kv: REDIS_PORT %q is not a port number", port)
		}
		opt = &redis.Options{Addr: net.JoinHostPort(host, port), Password: password}
	default:
		return nil, ErrRedisNotConfigured
	}
	if tlsOn && opt.TLSConfig == nil {
		h, _, err := net.SplitHostPort(opt.Addr)
		if err != nil {
			h = opt.Addr
		}
		opt.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12, ServerName: h}
	}
	setDefault(&opt.DialTimeout, time.Second)
	setDefault(&opt.ReadTimeout, 500*time.Millisecond)
	setDefault(&opt.WriteTimeout, 500*time.Millisecond)
	setDefault(&opt.PoolTimeout, time.Second)
	if opt.MaxRetries == 0 {
		// One retry replaces a pooled connection that died with a restart;
		// more only delay the fallback while Redis is really away.
		opt.MaxRetries = 1
	}
	if opt.DialerRetries == 0 {
		opt.DialerRetries = 1
	}
	opt.ContextTimeoutEnabled = true
	if opt.MaintNotificationsConfig == nil {
		// Maintenance notifications are a Redis Enterprise/Cloud feature; off,
		// the client sends no extra handshake command on each connection.
		opt.MaintNotificationsConfig = &maintnotifications.Config{Mode: maintnotifications.ModeDisabled}
	}
	return opt, nil
}

func setDefault(d *time.Duration, v time.Duration) {
	if *d == 0 {
		*d = v
	}
}

// randomToken returns 16 random hex characters, for lock owners, tombstones
// and cache generations.
func randomToken() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// unixMicro and unixMilli format instants for the Lua scripts, whose numbers
// are doubles: exact up to 2^53, far beyond any microsecond timestamp.
func unixMicro(t time.Time) string { return strconv.FormatInt(t.UnixMicro(), 10) }

func unixMilli(t time.Time) string { return strconv.FormatInt(t.UnixMilli(), 10) }

// millis formats d in whole milliseconds, at least 1, for PX arguments.
func millis(d time.Duration) string {
	ms := (d + time.Millisecond - 1) / time.Millisecond
	if ms < 1 {
		ms = 1
	}
	return strconv.FormatInt(int64(ms), 10)
}

// wholeMillis formats d in whole milliseconds, rounded up; 0 when d <= 0.
func wholeMillis(d time.Duration) string {
	if d <= 0 {
		return "0"
	}
	return strconv.FormatInt(int64((d+time.Millisecond-1)/time.Millisecond), 10)
}

// ClientLogger adapts go-redis's internal log lines (one per failed dial,
// among others) to slog at debug level, so that an outage is reported once,
// by Resilient, rather than once per connection attempt. go-redis's logger
// is process-wide: main installs it with redis.SetLogger(kv.ClientLogger{…}).
type ClientLogger struct {
	Logger *slog.Logger
}

// Printf implements go-redis's logging interface.
func (l ClientLogger) Printf(ctx context.Context, format string, v ...any) {
	if l.Logger != nil {
		l.Logger.DebugContext(ctx, fmt.Sprintf(format, v...), slog.String("source", "go-redis"))
	}
}

// CommandStats reads from INFO commandstats how many times the server has
// run each command (calls made inside scripts included), by command name.
// Budgets of Redis use are measured with it.
func CommandStats(ctx context.Context, rdb *redis.Client) (map[string]int64, error) {
	info, err := rdb.Info(ctx, "commandstats").Result()
	if err != nil {
		return nil, err
	}
	out := map[string]int64{}
	for line := range strings.Lines(info) {
		rest, ok := strings.CutPrefix(strings.TrimSpace(line), "cmdstat_")
		if !ok {
			continue
		}
		name, fields, _ := strings.Cut(rest, ":")
		for f := range strings.SplitSeq(fields, ",") {
			if v, ok := strings.CutPrefix(f, "calls="); ok {
				n, err := strconv.ParseInt(v, 10, 64)
				if err != nil {
					return nil, fmt.Errorf("kv: commandstats %q: %w", line, err)
				}
				out[name] = n
			}
		}
	}
	return out, nil
}
