// Package kvtest holds conformance suites for the kv seams that have
// implementations outside package kv: one-time codes and login lockouts are
// kept in Redis or, without it, in the database, and both must behave alike.
// Each suite runs every case against every backend it is given.
package kvtest

import (
	"testing"
	"time"

	"github.com/carecircle/carecircle/internal/clock"
)

// Start is where every suite's fake clock starts: on a whole second, so that
// millisecond arithmetic in Redis scripts and microsecond timestamps in the
// database land on the same instants as the memory implementations.
var Start = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

// Backend opens a fresh implementation of a seam for one test, driven by
// clk. The returned key function maps each name a case uses ("u1", "u2",
// ...) to a key the implementation accepts, the same key for the same name:
// the database's keys name real users, so its backend creates one per name.
type Backend[T any] struct {
	Name string
	Open func(t *testing.T, clk *clock.Fake) (impl T, key func(name string) string)
}

// run runs each case as a subtest with a parallel subtest per backend.
func run[T any](t *testing.T, backends []Backend[T], cases []testCase[T]) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			for _, b := range backends {
				t.Run(b.Name, func(t *testing.T) {
					t.Parallel()
					clk := clock.NewFake(Start)
					impl, key := b.Open(t, clk)
					c.fn(t, clk, impl, key)
				})
			}
		})
	}
}

// testCase is one behaviour every backend must show.
type testCase[T any] struct {
	name string
	fn   func(t *testing.T, clk *clock.Fake, impl T, key func(string) string)
}
