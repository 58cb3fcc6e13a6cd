package kv

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/carecircle/carecircle/internal/clock"
)

func cacheBackends() []backend[Cache] {
	return []backend[Cache]{
		{"memory", func(_ *testing.T, clk clock.Clock) Cache { return NewMemoryCache(clk, 0) }},
		{"redis", func(t *testing.T, clk clock.Clock) Cache {
			return NewRedisCache(newRedisClient(t), newPrefix(t), clk)
		}},
		{"resilient", func(t *testing.T, clk clock.Clock) Cache { return newTestResilient(t, clk).Cache() }},
		{"node", func(t *testing.T, clk clock.Clock) Cache {
			caches, _ := newNodeCaches(t, clk, 2, nil)
			return caches[0]
		}},
	}
}

// wantCached fails unless key holds want (or nothing, when want is "").
func wantCached(t *testing.T, c Cache, key, want string) {
	t.Helper()
	got, found, err := c.Get(context.Background(), key)
	switch {
	case err != nil:
		t.Fatalf("Get(%q): %v", key, err)
	case want == "" && found:
		t.Fatalf("Get(%q) = %q, want a miss", key, got)
	case want != "" && (!found || string(got) != want):
		t.Fatalf("Get(%q) = %q, %v; want %q", key, got, found, want)
	}
}

func TestCacheSetGetExpire(t *testing.T) {
	t.Parallel()
	forEach(t, cacheBackends(), func(t *testing.T, clk *clock.Fake, c Cache) {
		ctx := context.Background()
		wantCached(t, c, "me:u1", "")
		if err := c.Set(ctx, "me:u1", []byte(`{"id":"u1"}`), 5*time.Minute); err != nil {
			t.Fatal(err)
		}
		if err := c.Set(ctx, "me:u2", []byte("two"), 0); err != nil {
			t.Fatal(err)
		}
		wantCached(t, c, "me:u1", `{"id":"u1"}`)
		wantCached(t, c, "me:u3", "")
		clk.Advance(5*time.Minute - time.Millisecond)
		wantCached(t, c, "me:u1", `{"id":"u1"}`)
		clk.Advance(time.Millisecond)
		wantCached(t, c, "me:u1", "")
		wantCached(t, c, "me:u2", "two") // DefaultTTL is 15 minutes
		clk.Advance(DefaultTTL - 5*time.Minute)
		wantCached(t, c, "me:u2", "")
		if err := c.Set(ctx, "empty", []byte{}, time.Minute); err != nil {
			t.Fatal(err)
		}
		if v, found, err := c.Get(ctx, "empty"); err != nil || !found || len(v) != 0 {
			t.Fatalf("empty value: %q, %v, %v", v, found, err)
		}
	})
}

func TestCacheDelete(t *testing.T) {
	t.Parallel()
	forEach(t, cacheBackends(), func(t *testing.T, _ *clock.Fake, c Cache) {
		ctx := context.Background()
		for _, k := range []string{"a", "b", "c", Key("family:f1", "recipients")} {
			if err := c.Set(ctx, k, []byte("v-"+k), time.Minute); err != nil {
				t.Fatal(err)
			}
		}
		if err := c.Delete(ctx, "a", "b", Key("family:f1", "recipients"), "never-set"); err != nil {
			t.Fatal(err)
		}
		wantCached(t, c, "a", "")
		wantCached(t, c, "b", "")
		wantCached(t, c, Key("family:f1", "recipients"), "")
		wantCached(t, c, "never-set", "")
		wantCached(t, c, "c", "v-c")
		if err := c.Delete(ctx); err != nil {
			t.Fatal(err)
		}
		// A deleted key can be cached again.
		if err := c.Set(ctx, "a", []byte("new"), time.Minute); err != nil {
			t.Fatal(err)
		}
		wantCached(t, c, "a", "new")
	})
}

func TestCacheBumpDropsANamespace(t *testing.T) {
	t.Parallel()
	forEach(t, cacheBackends(), func(t *testing.T, _ *clock.Fake, c Cache) {
		ctx := context.Background()
		f1list, f1info := Key("family:f1", "recipients", "u1"), Key("family:f1", "emergency", "r9")
		f2list := Key("family:f2", "recipients", "u1")
		for _, k := range []string{f1list, f1info, f2list, "plain"} {
			if err := c.Set(ctx, k, []byte(k), time.Minute); err != nil {
				t.Fatal(err)
			}
		}
		wantCached(t, c, f1list, f1list)
		if err := c.Bump(ctx, "family:f1"); err != nil {
			t.Fatal(err)
		}
		wantCached(t, c, f1list, "")
		wantCached(t, c, f1info, "")
		wantCached(t, c, f2list, f2list)
		wantCached(t, c, "plain", "plain")
		if err := c.Set(ctx, f1list, []byte("fresh"), time.Minute); err != nil {
			t.Fatal(err)
		}
		wantCached(t, c, f1list, "fresh")
		if err := c.Bump(ctx, "family:f1"); err != nil {
			t.Fatal(err)
		}
		wantCached(t, c, f1list, "")
		if err := c.Bump(ctx, "never-used"); err != nil {
			t.Fatal(err)
		}
	})
}

type recipient struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

func TestGetOrLoad(t *testing.T) {
	t.Parallel()
	forEach(t, cacheBackends(), func(t *testing.T, clk *clock.Fake, c Cache) {
		ctx := context.Background()
		for _, key := range []string{"recipients:u1", Key("family:f1", "recipients", "u1")} {
			loads := 0
			db := []recipient{{ID: "r1", Name: "Ada"}}
			load := func() ([]recipient, error) {
				loads++
				return append([]recipient(nil), db...), nil
			}
			get := func() []recipient {
				t.Helper()
				v, err := GetOrLoad(ctx, c, key, 5*time.Minute, load)
				if err != nil {
					t.Fatal(err)
				}
				return v
			}
			if v := get(); len(v) != 1 || v[0].Name != "Ada" || loads != 1 {
				t.Fatalf("%s: first read: %+v after %d loads", key, v, loads)
			}
			if v := get(); len(v) != 1 || loads != 1 {
				t.Fatalf("%s: second read loaded again (%d loads): %+v", key, loads, v)
			}
			// A write, then its invalidation: the very next read sees it.
			db = append(db, recipient{ID: "r2", Name: "Grace"})
			if ns, _, ok := splitNamespace(key); ok {
				if err := c.Bump(ctx, ns); err != nil {
					t.Fatal(err)
				}
			} else if err := c.Delete(ctx, key); err != nil {
				t.Fatal(err)
			}
			if v := get(); len(v) != 2 || loads != 2 {
				t.Fatalf("%s: read after the write: %+v after %d loads", key, v, loads)
			}
			if v := get(); len(v) != 2 || loads != 2 {
				t.Fatalf("%s: reread after the write loaded again (%d loads)", key, loads)
			}
			clk.Advance(5 * time.Minute)
			if get(); loads != 3 {
				t.Fatalf("%s: read after the TTL did not load (%d loads)", key, loads)
			}
		}
	})
}

// A read that loads from the database while a writer changes it and
// invalidates the key must not cache what it loaded: the write would stay
// invisible until the TTL.
func TestGetOrLoadDoesNotCacheARacingRead(t *testing.T) {
	t.Parallel()
	forEach(t, cacheBackends(), func(t *testing.T, _ *clock.Fake, c Cache) {
		ctx := context.Background()
		cases := []struct {
			key        string
			invalidate func() error
		}{
			{"me:u1", func() error { return c.Delete(ctx, "me:u1") }},
			{Key("family:f1", "recipients"), func() error { return c.Bump(ctx, "family:f1") }},
			{Key("family:f2", "recipients"), func() error { return c.Delete(ctx, Key("family:f2", "recipients")) }},
		}
		for _, tc := range cases {
			for _, cachedBefore := range []bool{false, true} {
				if cachedBefore {
					// The entry expired or was dropped before: a tombstone or
					// nothing is what the slow reader saw.
					if err := c.Delete(ctx, tc.key); err != nil {
						t.Fatal(err)
					}
				}
				version := "old"
				v, err := GetOrLoad(ctx, c, tc.key, time.Minute, func() (string, error) {
					loaded := version
					version = "new" // the writer commits and invalidates
					if err := tc.invalidate(); err != nil {
						t.Fatal(err)
					}
					return loaded, nil
				})
				if err != nil || v != "old" {
					t.Fatalf("%s: racing read returned %q, %v", tc.key, v, err)
				}
				v, err = GetOrLoad(ctx, c, tc.key, time.Minute, func() (string, error) { return version, nil })
				if err != nil || v != "new" {
					t.Fatalf("%s (tombstone before: %v): read after the write got %q, %v; the racing read cached a stale value",
						tc.key, cachedBefore, v, err)
				}
				if err := c.Delete(ctx, tc.key); err != nil {
					t.Fatal(err)
				}
			}
		}
	})
}

func TestGetOrLoadErrors(t *testing.T) {
	t.Parallel()
	forEach(t, cacheBackends(), func(t *testing.T, _ *clock.Fake, c Cache) {
		ctx := context.Background()
		boom := errors.New("database down")
		if _, err := GetOrLoad(ctx, c, "k", time.Minute, func() (int, error) { return 0, boom }); !errors.Is(err, boom) {
			t.Fatalf("load error: got %v", err)
		}
		if v, err := GetOrLoad(ctx, c, "k", time.Minute, func() (int, error) { return 7, nil }); err != nil || v != 7 {
			t.Fatalf("a failed load was cached: %v, %v", v, err)
		}
		// A value that no longer decodes (a type changed between releases)
		// is loaded again and replaced.
		if err := c.Set(ctx, "shape", []byte(`"a string"`), time.Minute); err != nil {
			t.Fatal(err)
		}
		loads := 0
		for i := 0; i < 2; i++ {
			v, err := GetOrLoad(ctx, c, "shape", time.Minute, func() (recipient, error) {
				loads++
				return recipient{ID: "r1"}, nil
			})
			if err != nil || v.ID != "r1" {
				t.Fatalf("undecodable entry: %+v, %v", v, err)
			}
		}
		if loads != 1 {
			t.Fatalf("undecodable entry loaded %d times, want once then cached", loads)
		}
	})
}

// brokenCache fails every call, like a cache whose server is gone.
type brokenCache struct{}

var errBroken = errors.New("cache unreachable")

func (brokenCache) Get(context.Context, string) ([]byte, bool, error) { return nil, false, errBroken }
func (brokenCache) Set(context.Context, string, []byte, time.Duration) error {
	return errBroken
}
func (brokenCache) Delete(context.Context, ...string) error { return errBroken }
func (brokenCache) Bump(context.Context, string) error      { return errBroken }

func TestGetOrLoadNeverFailsBecauseOfTheCache(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, c := range []Cache{brokenCache{}, nil} {
		v, err := GetOrLoad(ctx, c, "k", time.Minute, func() (string, error) { return "from db", nil })
		if err != nil || v != "from db" {
			t.Fatalf("%T: got %q, %v; want the loaded value", c, v, err)
		}
	}
}

func TestMemoryCacheStaysBounded(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := NewMemoryCache(newFakeClock(), 100)
	for i := 0; i < 1000; i++ {
		if err := c.Set(ctx, fmt.Sprintf("k%d", i), []byte("v"), time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	c.mu.Lock()
	n := len(c.entries)
	c.mu.Unlock()
	if n > 100 {
		t.Fatalf("%d entries held, max 100", n)
	}
	wantCached(t, c, "k999", "v")
}

func TestKey(t *testing.T) {
	t.Parallel()
	k := Key("family:f1", "recipients", "u1")
	if k != "{family:f1}:recipients:u1" {
		t.Fatalf("Key = %q", k)
	}
	if ns, rest, ok := splitNamespace(k); !ok || ns != "family:f1" || rest != ":recipients:u1" {
		t.Fatalf("splitNamespace(%q) = %q, %q, %v", k, ns, rest, ok)
	}
	for _, plain := range []string{"me:u1", "{}x", "{unclosed"} {
		if _, _, ok := splitNamespace(plain); ok {
			t.Fatalf("%q has no namespace", plain)
		}
	}
}
