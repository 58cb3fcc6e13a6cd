package kv

import (
	"context"
	"encoding/json"
	"strings"
	"time"
)

// Cache TTLs.
const (
	// DefaultTTL applies when Set or GetOrLoad is given no TTL.
	DefaultTTL = 15 * time.Minute
	// MaxTTL caps every entry's lifetime; longer TTLs are shortened to it.
	MaxTTL = 24 * time.Hour
	// generationTTL outlives every entry, so that a namespace generation
	// forgotten after it expires can never resurrect a live stale entry.
	generationTTL = MaxTTL + time.Hour
	// tombstoneTTL is how long a deleted key remembers its deletion, so that
	// a read that loaded from the database before the write cannot store its
	// stale value after it. It must exceed the slowest load.
	tombstoneTTL = time.Minute
)

// Cache holds encoded read results for a while so reads can skip the
// database. Writers invalidate what they change, by exact keys (Delete) or by
// a whole namespace at once (Bump), never by scanning.
//
// A key built with Key(ns, ...) belongs to namespace ns; Bump(ns) drops all
// such entries in one command by moving the namespace to a new generation,
// and the old entries expire by their TTL.
type Cache interface {
	// Get returns the value stored under key, found false when there is none.
	Get(ctx context.Context, key string) (val []byte, found bool, err error)
	// Set stores val under key for ttl (DefaultTTL when ttl <= 0).
	Set(ctx context.Context, key string, val []byte, ttl time.Duration) error
	// Delete drops the entries under keys, so the next read of each loads
	// afresh, on every node.
	Delete(ctx context.Context, keys ...string) error
	// Bump drops every entry whose key was built with Key(ns, ...).
	Bump(ctx context.Context, ns string) error
}

// Key builds a cache key in namespace ns (which must not contain '}') from
// parts joined by ':'. The namespace is written as a Redis hash tag, so a
// namespace's generation and its entries live on the same cluster slot.
func Key(ns string, parts ...string) string {
	return "{" + ns + "}:" + strings.Join(parts, ":")
}

// splitNamespace returns the namespace of a key built with Key, and the rest.
func splitNamespace(key string) (ns, rest string, ok bool) {
	if !strings.HasPrefix(key, "{") {
		return "", key, false
	}
	end := strings.IndexByte(key, '}')
	if end < 2 {
		return "", key, false
	}
	return key[1:end], key[end+1:], true
}

// clampTTL applies DefaultTTL and MaxTTL.
func clampTTL(ttl time.Duration) time.Duration {
	switch {
	case ttl <= 0:
		return DefaultTTL
	case ttl > MaxTTL:
		return MaxTTL
	}
	return ttl
}

// cacheVersion is what a read saw under a key: the namespace generation (if
// any) and the stored state (a stamp or the raw bytes; "" for nothing).
type cacheVersion struct {
	gen  string
	seen string
	// epoch counts a MemoryCache's flushes, so that a value loaded before
	// a flush is not stored after it.
	epoch uint64
}

// versionedCache lets GetOrLoad store a loaded value only if the key has not
// been written or invalidated since it was read, which closes cache-aside's
// race between a slow reader and a concurrent writer.
type versionedCache interface {
	getVersioned(ctx context.Context, key string) ([]byte, bool, cacheVersion, error)
	setIfVersion(ctx context.Context, key string, v cacheVersion, val []byte, ttl time.Duration) (bool, error)
}

// GetOrLoad returns the JSON-decoded value cached under key, or calls load,
// caches its result for ttl and returns it. A cache that fails (or a nil
// cache) only costs the load: the read itself never fails because of it.
// A value loaded while a writer invalidated the key is returned but not
// cached, so the next read sees the write.
func GetOrLoad[T any](ctx context.Context, c Cache, key string, ttl time.Duration, load func() (T, error)) (T, error) {
	if c == nil {
		return load()
	}
	vc, versioned := c.(versionedCache)
	var (
		raw   []byte
		found bool
		ver   cacheVersion
		err   error
	)
	if versioned {
		raw, found, ver, err = vc.getVersioned(ctx, key)
	} else {
		raw, found, err = c.Get(ctx, key)
	}
	if err == nil && found {
		var v T
		if json.Unmarshal(raw, &v) == nil {
			return v, nil
		}
	}
	cacheWorks := err == nil
	v, err := load()
	if err != nil || !cacheWorks {
		return v, err
	}
	b, err := json.Marshal(v)
	if err != nil {
		return v, nil
	}
	if versioned {
		_, _ = vc.setIfVersion(ctx, key, ver, b, ttl)
	} else {
		_ = c.Set(ctx, key, b, ttl)
	}
	return v, nil
}
