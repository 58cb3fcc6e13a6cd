package kv

import (
	"context"
	"testing"
	"time"
)

// valueLoader counts loads of a value that reads *db.
type valueLoader struct {
	db    *string
	ttl   time.Duration
	loads int
}

func (l *valueLoader) load() (*string, time.Duration, error) {
	l.loads++
	v := *l.db
	return &v, l.ttl, nil
}

func readValue(t *testing.T, c Cache, key string, l *valueLoader) string {
	t.Helper()
	v, err := GetOrLoadValue(context.Background(), c, key, l.load)
	if err != nil {
		t.Fatal(err)
	}
	return *v
}

// A value kept in memory is handed out as it is, until the TTL load gave
// it, a Delete or a Bump of its namespace drops it.
func TestMemoryCacheKeepsValues(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clk := newFakeClock()
	c := NewMemoryCache(clk, 0)
	db := "v1"
	l := &valueLoader{db: &db, ttl: 30 * time.Second}
	key := Key("account:u1", "s1")
	first, _ := GetOrLoadValue(ctx, c, key, l.load)
	again, _ := GetOrLoadValue(ctx, c, key, l.load)
	if first != again || l.loads != 1 {
		t.Fatalf("%d loads for two reads; the same value: %v", l.loads, first == again)
	}

	db = "v2"
	clk.Advance(29 * time.Second)
	if v := readValue(t, c, key, l); v != "v1" {
		t.Fatalf("read %q before the TTL ended", v)
	}
	clk.Advance(time.Second)
	if v := readValue(t, c, key, l); v != "v2" {
		t.Fatalf("read %q once the TTL ended", v)
	}

	db = "v3"
	if err := c.Bump(ctx, "account:u1"); err != nil {
		t.Fatal(err)
	}
	if v := readValue(t, c, key, l); v != "v3" {
		t.Fatalf("read %q after a Bump of its namespace", v)
	}
	db = "v4"
	if err := c.Delete(ctx, key); err != nil {
		t.Fatal(err)
	}
	if v := readValue(t, c, key, l); v != "v4" {
		t.Fatalf("read %q after a Delete", v)
	}

	// A TTL that is not positive keeps nothing.
	l.ttl = 0
	before := l.loads
	readValue(t, c, "other", l)
	readValue(t, c, "other", l)
	if l.loads != before+2 {
		t.Fatalf("%d loads for two reads of a value kept for no time", l.loads-before)
	}
}

// A read that loaded while its key was invalidated returns what it loaded
// but does not keep it.
func TestMemoryCacheDoesNotKeepARacingValue(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := NewMemoryCache(newFakeClock(), 0)
	key := Key("account:u1", "s1")
	db := "v1"
	v, _ := GetOrLoadValue(ctx, c, key, func() (string, time.Duration, error) {
		loaded := db
		db = "v2"
		_ = c.Bump(ctx, "account:u1")
		return loaded, time.Minute, nil
	})
	if v != "v1" {
		t.Fatalf("racing read %q", v)
	}
	l := &valueLoader{db: &db, ttl: time.Minute}
	if v := readValue(t, c, key, l); v != "v2" {
		t.Fatalf("read %q after a racing read; it kept a stale value", v)
	}
}

// On a NodeCache a value is dropped on the node that invalidates it at
// once and on the others when the broadcast arrives; without the bus
// nothing is kept or found.
func TestNodeCacheValues(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	caches, bus := newNodeCaches(t, newFakeClock(), 2, func(time.Duration) <-chan time.Time { return make(chan time.Time) })
	a, b := caches[0], caches[1]
	key := Key("account:u1", "s1")
	db := "v1"
	l := &valueLoader{db: &db, ttl: time.Minute}
	for _, c := range caches {
		readValue(t, c, key, l)
	}
	db = "v2"
	bus.holding = true
	if err := a.Bump(ctx, "account:u1"); err != nil {
		t.Fatal(err)
	}
	if v := readValue(t, a, key, l); v != "v2" {
		t.Fatalf("the node that invalidated read %q", v)
	}
	if v := readValue(t, b, key, l); v != "v1" {
		t.Fatalf("before the broadcast arrived node B read %q; the test bus did not hold it", v)
	}
	bus.release()
	if v := readValue(t, b, key, l); v != "v2" {
		t.Fatalf("after the broadcast arrived node B read %q", v)
	}

	// The bus is lost: B reads the database on every read and keeps
	// nothing, so what it loads now is gone once the bus is back.
	bus.setDown(true)
	b.BusLost()
	db = "v3"
	loads := l.loads
	for range 2 {
		if v := readValue(t, b, key, l); v != "v3" {
			t.Fatalf("without the bus node B read %q", v)
		}
	}
	if l.loads != loads+2 {
		t.Fatalf("%d loads for two reads without the bus", l.loads-loads)
	}
	bus.setDown(false)
	b.BusBack()
	db = "v4"
	if v := readValue(t, b, key, l); v != "v4" {
		t.Fatalf("after the bus came back node B read %q", v)
	}
}

// A cache outside the node's memory keeps no values: every read loads.
func TestValuesBypassOtherCaches(t *testing.T) {
	t.Parallel()
	db := "v1"
	l := &valueLoader{db: &db, ttl: time.Minute}
	for _, c := range []Cache{nil, newTestResilient(t, newFakeClock()).Cache()} {
		if KeepsValues(c) {
			t.Fatalf("%T keeps values", c)
		}
		l.loads = 0
		readValue(t, c, "k", l)
		readValue(t, c, "k", l)
		if l.loads != 2 {
			t.Fatalf("%T: %d loads for two reads", c, l.loads)
		}
	}
	if !KeepsValues(NewMemoryCache(newFakeClock(), 0)) {
		t.Fatal("a MemoryCache keeps no values")
	}
}
