package kv

import (
	"context"
	"strconv"
	"time"
)

// A cache in the node's memory (MemoryCache, NodeCache) can also keep a
// value as it is, without encoding it: a hit then costs a map lookup, where
// decoding a cached read would cost more than the database saves on a small
// one. Such values live under the same keys, namespaces, invalidations and
// staleness rules as the encoded ones; a key holds one kind or the other.

// valueCache is a cache that keeps values in the node's memory.
type valueCache interface {
	getValue(key string) (val any, found bool, ver cacheVersion)
	setValueIfVersion(key string, v cacheVersion, val any, ttl time.Duration) bool
}

var (
	_ valueCache = (*MemoryCache)(nil)
	_ valueCache = (*NodeCache)(nil)
)

// KeepsValues reports whether GetOrLoadValue keeps values in c, that is
// whether c is in the node's memory; with any other cache it always loads.
func KeepsValues(c Cache) bool {
	_, ok := c.(valueCache)
	return ok
}

// GetOrLoadValue returns the value kept under key in the node's memory, or
// calls load and keeps what it returns for the TTL it returns with it
// (nothing when that TTL is not positive; MaxTTL at most). A NodeCache that
// does not receive the bus keeps nothing and finds nothing, as for encoded
// entries. A cache that is not in the node's memory (see KeepsValues), or a
// nil one, is bypassed: every call loads. As with GetOrLoad, a value loaded
// while its key was invalidated is returned but not kept.
//
// The value is not copied: every caller that gets it from the cache shares
// it, so neither load's caller nor any other may change it.
func GetOrLoadValue[T any](ctx context.Context, c Cache, key string, load func() (T, time.Duration, error)) (T, error) {
	vc, ok := c.(valueCache)
	if !ok {
		v, _, err := load()
		return v, err
	}
	got, found, ver := vc.getValue(key)
	if found {
		if v, ok := got.(T); ok {
			return v, nil
		}
	}
	v, ttl, err := load()
	if err != nil || ttl <= 0 {
		return v, err
	}
	vc.setValueIfVersion(key, ver, v, ttl)
	return v, nil
}

func (c *MemoryCache) getValue(key string) (any, bool, cacheVersion) {
	now := c.clock.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	gen := c.generation(now, key)
	e, ok := c.entries[physicalKey(key, gen)]
	if ok && !e.tomb && e.obj != nil && now.Before(e.expires) {
		return e.obj, true, cacheVersion{}
	}
	// Only a miss needs its version, for the value it is about to load.
	ver := cacheVersion{gen: gen, epoch: c.epoch}
	if ok {
		ver.seen = strconv.FormatUint(e.stamp, 10)
	}
	return nil, false, ver
}

func (c *MemoryCache) setValueIfVersion(key string, v cacheVersion, val any, ttl time.Duration) bool {
	now := c.clock.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	if v.epoch != c.epoch || c.generation(now, key) != v.gen {
		return false
	}
	phys := physicalKey(key, v.gen)
	seen := ""
	if e, ok := c.entries[phys]; ok {
		seen = strconv.FormatUint(e.stamp, 10)
	}
	if seen != v.seen {
		return false
	}
	c.stamp++
	c.entries[phys] = memEntry{obj: val, expires: now.Add(clampTTL(ttl)), stamp: c.stamp}
	c.sweep(now)
	return true
}

func (c *NodeCache) getValue(key string) (any, bool, cacheVersion) {
	val, found, ver := c.mem.getValue(key)
	// A hit's version is empty: it matches nothing once the bus has been
	// received (BusBack flushes), so what is loaded instead is not kept.
	if !c.live.Load() {
		return nil, false, ver
	}
	return val, found, ver
}

func (c *NodeCache) setValueIfVersion(key string, v cacheVersion, val any, ttl time.Duration) bool {
	if !c.live.Load() {
		return false
	}
	return c.mem.setValueIfVersion(key, v, val, ttl)
}
