package kv_test

import (
	"testing"

	"github.com/carecircle/carecircle/internal/clock"
	"github.com/carecircle/carecircle/internal/kv"
	"github.com/carecircle/carecircle/internal/kv/kvtest"
)

func TestLockoutConformance(t *testing.T) {
	t.Parallel()
	kvtest.Lockout(t,
		kvtest.Backend[kv.Lockout]{Name: "memory", Open: func(_ *testing.T, clk *clock.Fake) (kv.Lockout, func(string) string) {
			return kv.NewMemoryLockout(clk), sameKey
		}},
		kvtest.Backend[kv.Lockout]{Name: "redis", Open: func(t *testing.T, clk *clock.Fake) (kv.Lockout, func(string) string) {
			return kv.NewRedisLockout(kv.NewTestRedisClient(t), kv.NewTestPrefix(t), clk), sameKey
		}},
		kvtest.Backend[kv.Lockout]{Name: "resilient", Open: func(t *testing.T, clk *clock.Fake) (kv.Lockout, func(string) string) {
			return kv.NewTestResilient(t, clk).Lockout(), sameKey
		}},
	)
}
