package kv

import (
	"context"
	"sync"
	"time"

	"github.com/carecircle/carecircle/internal/clock"
)

// Lease is the right to do the work named Name until Expires.
type Lease struct {
	// Name is the lock's name.
	Name string
	// Token increases with every lease granted for Name. Whatever the lease
	// protects should remember the highest token it has seen and refuse
	// older ones, so that a holder paused past its expiry cannot overwrite
	// the work of the holder after it.
	Token int64
	// Expires is when the lease ends unless extended.
	Expires time.Time

	owner  string // random value that proves who holds the lock
	source int    // which backend granted the lease, for Resilient
}

// Locker grants leases that at most one holder has at a time, across every
// node that shares the backend.
type Locker interface {
	// Acquire takes the lock name for ttl; ok is false, with no error, when
	// someone else holds it.
	Acquire(ctx context.Context, name string, ttl time.Duration) (lease Lease, ok bool, err error)
	// Extend pushes a held lease's expiry to ttl from now, keeping its
	// token; ok is false when the lease has expired or was released.
	Extend(ctx context.Context, lease Lease, ttl time.Duration) (extended Lease, ok bool, err error)
	// Release gives the lock up. Releasing a lease that is no longer held
	// (it expired, and perhaps someone else holds the lock) does nothing.
	Release(ctx context.Context, lease Lease) error
}

// MemoryLocker is a Locker for the processes of one node: it excludes
// goroutines, not other nodes.
type MemoryLocker struct {
	clock  clock.Clock
	mu     sync.Mutex
	held   map[string]memLease
	tokens map[string]int64
}

type memLease struct {
	owner   string
	expires time.Time
}

var _ Locker = (*MemoryLocker)(nil)

// NewMemoryLocker returns a locker with no lock held, using clk.
func NewMemoryLocker(clk clock.Clock) *MemoryLocker {
	return &MemoryLocker{clock: clk, held: map[string]memLease{}, tokens: map[string]int64{}}
}

// Acquire implements Locker.
func (m *MemoryLocker) Acquire(_ context.Context, name string, ttl time.Duration) (Lease, bool, error) {
	now := m.clock.Now()
	m.mu.Lock()
	defer m.mu.Unlock()
	if h, ok := m.held[name]; ok && now.Before(h.expires) {
		return Lease{}, false, nil
	}
	m.tokens[name]++
	l := Lease{Name: name, Token: m.tokens[name], Expires: now.Add(ttl), owner: randomToken()}
	m.held[name] = memLease{owner: l.owner, expires: l.Expires}
	return l, true, nil
}

// Extend implements Locker.
func (m *MemoryLocker) Extend(_ context.Context, l Lease, ttl time.Duration) (Lease, bool, error) {
	now := m.clock.Now()
	m.mu.Lock()
	defer m.mu.Unlock()
	h, ok := m.held[l.Name]
	if !ok || h.owner != l.owner || !now.Before(h.expires) {
		return l, false, nil
	}
	l.Expires = now.Add(ttl)
	m.held[l.Name] = memLease{owner: l.owner, expires: l.Expires}
	return l, true, nil
}

// Release implements Locker.
func (m *MemoryLocker) Release(_ context.Context, l Lease) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if h, ok := m.held[l.Name]; ok && h.owner == l.owner {
		delete(m.held, l.Name)
	}
	return nil
}
