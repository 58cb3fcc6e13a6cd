package kv

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/carecircle/carecircle/internal/clock"
)

// Broadcaster carries a NodeCache's invalidations to every other node, whose
// NodeCache receives them through its Bus methods. The realtime node's Redis
// bus is one: a broadcast is one PUBLISH on the channel every node already
// subscribes to.
type Broadcaster interface {
	Broadcast(ctx context.Context, body string) error
}

// broadcastTimeout bounds one broadcast.
const broadcastTimeout = time.Second

// Invalidation messages: "k" and keys joined by "\n", "n" and a namespace,
// or "*" for everything.
const (
	msgKeys      = 'k'
	msgNamespace = 'n'
	msgFlush     = '*'
)

// NodeCacheConfig configures a NodeCache. Bus is required.
type NodeCacheConfig struct {
	Bus        Broadcaster
	Clock      clock.Clock // clock.Real when nil
	Logger     *slog.Logger
	MaxEntries int // DefaultMaxEntries when <= 0
	// After waits between retries of a broadcast that failed (time.After
	// when nil).
	After func(time.Duration) <-chan time.Time
}

// NodeCache is a Cache in the node's memory, kept coherent across nodes by
// broadcasting every invalidation on a bus that every node receives. A read
// costs no Redis command, a hit or a miss; an invalidation costs one PUBLISH
// whatever the number of nodes.
//
//   - A write applies its invalidation to this node at once, then
//     broadcasts it; every other node applies it when it arrives. Until then
//     a node may serve the entry as it was: that delay (the PUBLISH's trip
//     to the other nodes, milliseconds) is the only staleness.
//   - A read that loaded from the database while an invalidation arrived
//     does not store its value (the entry's version changed), so a late read
//     never undoes a write.
//   - The cache is trusted only while the bus is received. When the node
//     loses the bus (BusLost: Redis restarted or went away, the connection
//     broke), broadcasts may be missed from then on, so reads load from the
//     database and nothing is stored; when it receives the bus again
//     (BusBack) it drops its whole memory first, since whatever it missed
//     cannot be known.
//   - A broadcast that fails is kept and sent again, with the others
//     pending, with a backoff (100 ms doubling to 5 s) and as soon as the
//     bus is back; beyond 10,000 pending invalidations, every node is told
//     to drop everything instead.
type NodeCache struct {
	mem    *MemoryCache
	bus    Broadcaster
	logger *slog.Logger
	after  func(time.Duration) <-chan time.Time

	live atomic.Bool

	mu       sync.Mutex
	pending  []string // messages not broadcast yet
	flushAll bool     // too many pending: broadcast "*" instead
	kept     uint64   // messages kept so far
	retrying bool
	wake     chan struct{}

	stop context.Context
	halt context.CancelFunc
	wg   sync.WaitGroup
}

var (
	_ Cache          = (*NodeCache)(nil)
	_ versionedCache = (*NodeCache)(nil)
)

// NewNodeCache returns an empty cache, bypassed until BusBack says the
// node receives the bus. Close stops its retries.
func NewNodeCache(cfg NodeCacheConfig) *NodeCache {
	if cfg.Clock == nil {
		cfg.Clock = clock.Real{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.After == nil {
		cfg.After = time.After
	}
	c := &NodeCache{
		mem:    NewMemoryCache(cfg.Clock, cfg.MaxEntries),
		bus:    cfg.Bus,
		logger: cfg.Logger,
		after:  cfg.After,
		wake:   make(chan struct{}, 1),
	}
	c.stop, c.halt = context.WithCancel(context.Background())
	return c
}

// Live reports whether the cache is in use: the node receives the bus.
func (c *NodeCache) Live() bool { return c.live.Load() }

// Get implements Cache.
func (c *NodeCache) Get(ctx context.Context, key string) ([]byte, bool, error) {
	val, found, _, err := c.getVersioned(ctx, key)
	return val, found, err
}

// Set implements Cache; while the bus is lost it stores nothing.
func (c *NodeCache) Set(ctx context.Context, key string, val []byte, ttl time.Duration) error {
	if !c.live.Load() {
		return nil
	}
	return c.mem.Set(ctx, key, val, ttl)
}

func (c *NodeCache) getVersioned(ctx context.Context, key string) ([]byte, bool, cacheVersion, error) {
	val, found, ver, err := c.mem.getVersioned(ctx, key)
	if !c.live.Load() {
		return nil, false, ver, err
	}
	return val, found, ver, err
}

func (c *NodeCache) setIfVersion(ctx context.Context, key string, v cacheVersion, val []byte, ttl time.Duration) (bool, error) {
	if !c.live.Load() {
		return false, nil
	}
	return c.mem.setIfVersion(ctx, key, v, val, ttl)
}

// Delete implements Cache: the keys are dropped here at once and on every
// other node when the broadcast arrives.
func (c *NodeCache) Delete(ctx context.Context, keys ...string) error {
	if len(keys) == 0 {
		return nil
	}
	_ = c.mem.Delete(ctx, keys...)
	c.broadcast(ctx, string(msgKeys)+strings.Join(keys, "\n"))
	return nil
}

// Bump implements Cache, on this node at once and on every other node when
// the broadcast arrives.
func (c *NodeCache) Bump(ctx context.Context, ns string) error {
	_ = c.mem.Bump(ctx, ns)
	c.broadcast(ctx, string(msgNamespace)+ns)
	return nil
}

// BusMessage applies another node's invalidation.
func (c *NodeCache) BusMessage(body string) {
	if body == "" {
		return
	}
	ctx := context.Background()
	switch body[0] {
	case msgKeys:
		_ = c.mem.Delete(ctx, strings.Split(body[1:], "\n")...)
	case msgNamespace:
		_ = c.mem.Bump(ctx, body[1:])
	case msgFlush:
		c.mem.Flush()
	}
}

// BusLost stops using the cache: from now on, invalidations may be missed.
func (c *NodeCache) BusLost() {
	if c.live.Swap(false) {
		c.logger.Warn("cache: bus lost; reads go to the database until it is back")
	}
}

// BusBack drops everything the node kept (it may have missed
// invalidations meanwhile), uses the cache again, and sends what failed to
// go out.
func (c *NodeCache) BusBack() {
	c.mem.Flush()
	c.live.Store(true)
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// Close stops retrying broadcasts and waits for the retry loop.
func (c *NodeCache) Close() {
	c.halt()
	c.wg.Wait()
}

// broadcast sends msg, or keeps it for the retry loop (with whatever is
// already pending, so the order holds).
func (c *NodeCache) broadcast(ctx context.Context, msg string) {
	c.mu.Lock()
	if c.retrying {
		c.keep(msg)
		c.mu.Unlock()
		return
	}
	c.mu.Unlock()
	// The write has committed: a caller that gives up does not stop its
	// invalidation, and a Redis that does not answer sends it to the
	// retries within a second.
	bctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), broadcastTimeout)
	err := c.bus.Broadcast(bctx, msg)
	cancel()
	if err == nil {
		return
	}
	c.logger.Warn("cache: invalidation not broadcast; sending it again until it goes out", slog.Any("error", err))
	c.mu.Lock()
	defer c.mu.Unlock()
	c.keep(msg)
	if !c.retrying && c.stop.Err() == nil {
		c.retrying = true
		c.wg.Add(1)
		go c.retry()
	}
}

// keep queues msg; the caller holds mu.
func (c *NodeCache) keep(msg string) {
	c.kept++
	if c.flushAll {
		return
	}
	c.pending = append(c.pending, msg)
	if len(c.pending) > maxPending {
		c.pending, c.flushAll = nil, true
	}
}

// retry sends the pending messages, with a backoff, until they are out.
func (c *NodeCache) retry() {
	defer c.wg.Done()
	backoff := 100 * time.Millisecond
	for {
		select {
		case <-c.stop.Done():
			return
		case <-c.after(backoff):
		case <-c.wake:
		}
		c.mu.Lock()
		msgs, all, kept := c.pending, c.flushAll, c.kept
		c.mu.Unlock()
		if all {
			msgs = []string{string(msgFlush)}
		}
		sent := 0
		for _, m := range msgs {
			bctx, cancel := context.WithTimeout(c.stop, broadcastTimeout)
			err := c.bus.Broadcast(bctx, m)
			cancel()
			if err != nil {
				break
			}
			sent++
		}
		c.mu.Lock()
		switch {
		case !all && !c.flushAll:
			c.pending = c.pending[sent:]
		case sent == 1 && c.kept == kept:
			// Nothing was invalidated while "*" went out; anything kept
			// during it waits for the next "*".
			c.flushAll = false
		}
		if len(c.pending) == 0 && !c.flushAll {
			c.retrying = false
			c.mu.Unlock()
			c.logger.Info("cache: pending invalidations broadcast")
			return
		}
		c.mu.Unlock()
		backoff = min(backoff*2, 5*time.Second)
	}
}
