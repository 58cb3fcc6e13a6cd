package kv_test

import (
	"testing"

	"github.com/carecircle/carecircle/internal/clock"
	"github.com/carecircle/carecircle/internal/kv"
	"github.com/carecircle/carecircle/internal/kv/kvtest"
)

// sameKey uses the suite's names as keys as they are.
func sameKey(name string) string { return "k:" + name }

func TestCodesConformance(t *testing.T) {
	t.Parallel()
	kvtest.Codes(t,
		kvtest.Backend[kv.Codes]{Name: "memory", Open: func(_ *testing.T, clk *clock.Fake) (kv.Codes, func(string) string) {
			return kv.NewMemoryCodes(clk), sameKey
		}},
		kvtest.Backend[kv.Codes]{Name: "redis", Open: func(t *testing.T, clk *clock.Fake) (kv.Codes, func(string) string) {
			return kv.NewRedisCodes(kv.NewTestRedisClient(t), kv.NewTestPrefix(t), clk), sameKey
		}},
		kvtest.Backend[kv.Codes]{Name: "resilient", Open: func(t *testing.T, clk *clock.Fake) (kv.Codes, func(string) string) {
			return kv.NewTestResilient(t, clk).Codes(), sameKey
		}},
	)
}
