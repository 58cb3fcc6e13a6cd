package kv

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"
)

func TestRedisOptions(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name                      string
		url, host, port, password string
		tls                       bool
		wantAddr, wantPass        string
		wantDB                    int
		wantTLS                   bool
		wantErr                   bool
	}{
		{name: "url", url: "redis://:s3cret@cache.internal:6380/2",
			wantAddr: "cache.internal:6380", wantPass: "s3cret", wantDB: 2},
		{name: "rediss url", url: "rediss://cache.internal:6380", wantAddr: "cache.internal:6380", wantTLS: true},
		{name: "url upgraded by REDIS_TLS", url: "redis://cache.internal", tls: true,
			wantAddr: "cache.internal:6379", wantTLS: true},
		{name: "url wins over host", url: "redis://a:1", host: "b", port: "2", wantAddr: "a:1"},
		{name: "password beside the url", url: "redis://a:1", password: "pw", wantAddr: "a:1", wantPass: "pw"},
		{name: "host and port", host: "10.0.0.5", port: "6390", password: "pw",
			wantAddr: "10.0.0.5:6390", wantPass: "pw"},
		{name: "host, default port, tls", host: "redis.example.com", tls: true,
			wantAddr: "redis.example.com:6379", wantTLS: true},
		{name: "ipv6 host", host: "::1", port: "6379", wantAddr: "[::1]:6379"},
		{name: "bad port", host: "h", port: "http", wantErr: true},
		{name: "bad url", url: "http://h", wantErr: true},
	}
	for _, c := range cases {
		opt, err := RedisOptions(c.url, c.host, c.port, c.password, c.tls)
		if c.wantErr {
			if err == nil {
				t.Errorf("%s: no error", c.name)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if opt.Addr != c.wantAddr || opt.Password != c.wantPass || opt.DB != c.wantDB || (opt.TLSConfig != nil) != c.wantTLS {
			t.Errorf("%s: addr %q password %q db %d tls %v", c.name, opt.Addr, opt.Password, opt.DB, opt.TLSConfig != nil)
		}
		if opt.ReadTimeout != 500*time.Millisecond || opt.DialTimeout != time.Second || opt.MaxRetries != 1 {
			t.Errorf("%s: timeouts not set for a quick fallback: %+v", c.name, opt)
		}
	}
	if _, err := RedisOptions("", "", "6379", "pw", true); !errors.Is(err, ErrRedisNotConfigured) {
		t.Errorf("nothing configured: %v, want ErrRedisNotConfigured", err)
	}
	opt, err := RedisOptions("redis://h:1/0?read_timeout=3s&max_retries=4", "", "", "", false)
	if err != nil || opt.ReadTimeout != 3*time.Second || opt.MaxRetries != 4 {
		t.Errorf("URL options overridden: %v, %+v", err, opt)
	}
}

func TestClientLogger(t *testing.T) {
	t.Parallel()
	logs := &logRecorder{}
	ClientLogger{Logger: slog.New(logs)}.Printf(context.Background(), "dial %s: %v", "h:1", "refused")
	if logs.count(slog.LevelDebug) != 1 || logs.records[0].Message != "dial h:1: refused" {
		t.Fatalf("logged %+v", logs.records)
	}
	ClientLogger{}.Printf(context.Background(), "no logger: %d", 1)
}
