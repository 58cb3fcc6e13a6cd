package kv

import (
	"context"
	"strconv"
	"sync"
	"time"

	"github.com/carecircle/carecircle/internal/clock"
)

// DefaultMaxEntries bounds a MemoryCache created with maxEntries <= 0.
const DefaultMaxEntries = 10_000

// MemoryCache is a Cache in process memory, bounded in entries.
type MemoryCache struct {
	clock clock.Clock
	max   int

	mu      sync.Mutex
	entries map[string]memEntry
	gens    map[string]memGen
	stamp   uint64 // increases with every write, so states never repeat
	epoch   uint64 // increases with every Flush
	ops     int
}

type memEntry struct {
	val []byte
	// obj is a value kept as it is, without encoding (SetValue); val is
	// then nil.
	obj     any
	expires time.Time
	stamp   uint64
	tomb    bool
}

type memGen struct {
	gen     string
	expires time.Time
}

var (
	_ Cache          = (*MemoryCache)(nil)
	_ versionedCache = (*MemoryCache)(nil)
)

// NewMemoryCache returns an empty cache holding at most maxEntries entries
// (DefaultMaxEntries when maxEntries <= 0).
func NewMemoryCache(clk clock.Clock, maxEntries int) *MemoryCache {
	if maxEntries <= 0 {
		maxEntries = DefaultMaxEntries
	}
	return &MemoryCache{clock: clk, max: maxEntries, entries: map[string]memEntry{}, gens: map[string]memGen{}}
}

// Get implements Cache.
func (c *MemoryCache) Get(ctx context.Context, key string) ([]byte, bool, error) {
	val, found, _, err := c.getVersioned(ctx, key)
	return val, found, err
}

// Set implements Cache.
func (c *MemoryCache) Set(_ context.Context, key string, val []byte, ttl time.Duration) error {
	now := c.clock.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	c.store(now, c.physical(now, key), val, ttl)
	return nil
}

// Delete implements Cache.
func (c *MemoryCache) Delete(_ context.Context, keys ...string) error {
	now := c.clock.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, k := range keys {
		c.stamp++
		c.entries[c.physical(now, k)] = memEntry{expires: now.Add(tombstoneTTL), stamp: c.stamp, tomb: true}
	}
	c.sweep(now)
	return nil
}

// Bump implements Cache.
func (c *MemoryCache) Bump(_ context.Context, ns string) error {
	now := c.clock.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	c.stamp++
	c.gens[ns] = memGen{gen: strconv.FormatUint(c.stamp, 10), expires: now.Add(generationTTL)}
	return nil
}

// Flush drops every entry and namespace generation. A read that loaded
// before the flush does not store its value after it.
func (c *MemoryCache) Flush() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.epoch++
	c.entries = map[string]memEntry{}
	c.gens = map[string]memGen{}
}

func (c *MemoryCache) getVersioned(_ context.Context, key string) ([]byte, bool, cacheVersion, error) {
	now := c.clock.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	gen := c.generation(now, key)
	e, ok := c.entries[physicalKey(key, gen)]
	ver := cacheVersion{gen: gen, epoch: c.epoch}
	if ok {
		ver.seen = strconv.FormatUint(e.stamp, 10)
	}
	if !ok || e.tomb || !now.Before(e.expires) {
		return nil, false, ver, nil
	}
	return append([]byte(nil), e.val...), true, ver, nil
}

func (c *MemoryCache) setIfVersion(_ context.Context, key string, v cacheVersion, val []byte, ttl time.Duration) (bool, error) {
	now := c.clock.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	if v.epoch != c.epoch || c.generation(now, key) != v.gen {
		return false, nil
	}
	phys := physicalKey(key, v.gen)
	seen := ""
	if e, ok := c.entries[phys]; ok {
		seen = strconv.FormatUint(e.stamp, 10)
	}
	if seen != v.seen {
		return false, nil
	}
	c.store(now, phys, val, ttl)
	return true, nil
}

// store writes an entry; the caller holds mu.
func (c *MemoryCache) store(now time.Time, phys string, val []byte, ttl time.Duration) {
	c.stamp++
	c.entries[phys] = memEntry{val: append([]byte(nil), val...), expires: now.Add(clampTTL(ttl)), stamp: c.stamp}
	c.sweep(now)
}

// generation returns the current generation of key's namespace ("" for a
// key without one); the caller holds mu.
func (c *MemoryCache) generation(now time.Time, key string) string {
	ns, _, ok := splitNamespace(key)
	if !ok {
		return ""
	}
	g, ok := c.gens[ns]
	if !ok || !now.Before(g.expires) {
		return "0"
	}
	return g.gen
}

// physical returns where key's entry lives in the current generation; the
// caller holds mu.
func (c *MemoryCache) physical(now time.Time, key string) string {
	return physicalKey(key, c.generation(now, key))
}

// physicalKey places a namespaced key under generation gen.
func physicalKey(key, gen string) string {
	ns, rest, ok := splitNamespace(key)
	if !ok {
		return key
	}
	return "{" + ns + "}#" + gen + rest
}

// sweep drops expired entries every 256 writes, and when the cache is full
// evicts values before tombstones (a forgotten tombstone would let a slow
// reader store a stale value); the caller holds mu.
func (c *MemoryCache) sweep(now time.Time) {
	c.ops++
	if c.ops%256 != 0 && len(c.entries) <= c.max {
		return
	}
	for k, e := range c.entries {
		if !now.Before(e.expires) {
			delete(c.entries, k)
		}
	}
	for ns, g := range c.gens {
		if !now.Before(g.expires) {
			delete(c.gens, ns)
		}
	}
	for _, tombs := range []bool{false, true} {
		for k, e := range c.entries {
			if len(c.entries) <= c.max*9/10 {
				return
			}
			if e.tomb == tombs {
				delete(c.entries, k)
			}
		}
	}
}
