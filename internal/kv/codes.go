package kv

import (
	"context"
	"crypto/subtle"
	"sync"
	"time"

	"github.com/carecircle/carecircle/internal/care"
	"github.com/carecircle/carecircle/internal/clock"
)

// CodeRetention is how long an expired code is remembered after it expires,
// so that presenting it says "expired" or "voided" rather than "absent".
// Every Codes implementation honours it.
const CodeRetention = time.Hour

// Codes keeps one-time codes (as hashes) with their wrong-try counts, and
// resend cooldowns.
type Codes interface {
	// Put stores codeHash under key for ttl, replacing any previous code and
	// its wrong-try count.
	Put(ctx context.Context, key, codeHash string, ttl time.Duration) error
	// Check presents codeHash: a match uses the code up; a mismatch counts a
	// wrong try, and the maxTries-th voids the code. Voided, expired and
	// absent codes count nothing. The error reports only backend failures.
	Check(ctx context.Context, key, codeHash string, maxTries int) (care.CodeOutcome, error)
	// Cooldown claims key for d: it reports ok when no claim was running
	// (and starts one), otherwise how long until the running one ends.
	Cooldown(ctx context.Context, key string, d time.Duration) (ok bool, retryAfter time.Duration, err error)
	// EndCooldown ends key's running claim, so the next Cooldown succeeds:
	// for a claim whose code could not be sent. Without a claim it does
	// nothing.
	EndCooldown(ctx context.Context, key string) error
}

// LockoutPolicy says when repeated failures lock an account.
type LockoutPolicy struct {
	// Max failures within Window lock the key; <= 0 never locks.
	Max int
	// Window is how long failures are counted from the first one; <= 0
	// means LockFor.
	Window time.Duration
	// LockFor is how long a lock lasts; <= 0 never locks.
	LockFor time.Duration
}

// Lockout counts failures (such as wrong passwords) per key and locks the
// key when they come too fast.
type Lockout interface {
	// Fail counts a failure under key. The failure that reaches p.Max locks
	// the key until the returned time and restarts the count; failures while
	// locked count nothing and report the running lock.
	Fail(ctx context.Context, key string, p LockoutPolicy) (locked bool, until time.Time, err error)
	// Locked reports whether key is locked, and until when.
	Locked(ctx context.Context, key string) (locked bool, until time.Time, err error)
	// Reset forgets key's failures and lifts its lock, after a success.
	Reset(ctx context.Context, key string) error
}

// MemoryCodes is Codes in process memory.
type MemoryCodes struct {
	clock     clock.Clock
	mu        sync.Mutex
	codes     map[string]memCode
	cooldowns map[string]time.Time
	ops       int
}

type memCode struct {
	hash    string
	tries   int
	expires time.Time
}

var _ Codes = (*MemoryCodes)(nil)

// NewMemoryCodes returns an empty code store using clk.
func NewMemoryCodes(clk clock.Clock) *MemoryCodes {
	return &MemoryCodes{clock: clk, codes: map[string]memCode{}, cooldowns: map[string]time.Time{}}
}

// Put implements Codes.
func (m *MemoryCodes) Put(_ context.Context, key, codeHash string, ttl time.Duration) error {
	now := m.clock.Now()
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sweep(now)
	m.codes[key] = memCode{hash: codeHash, expires: now.Add(ttl)}
	return nil
}

// Check implements Codes.
func (m *MemoryCodes) Check(_ context.Context, key, codeHash string, maxTries int) (care.CodeOutcome, error) {
	now := m.clock.Now()
	m.mu.Lock()
	defer m.mu.Unlock()
	c, ok := m.codes[key]
	switch {
	case !ok || !now.Before(c.expires.Add(CodeRetention)):
		return care.CodeAbsent, nil
	case c.tries >= maxTries:
		return care.CodeVoided, nil
	case !now.Before(c.expires):
		return care.CodeExpired, nil
	case subtle.ConstantTimeCompare([]byte(c.hash), []byte(codeHash)) == 1:
		delete(m.codes, key)
		return care.CodeAccepted, nil
	}
	c.tries++
	m.codes[key] = c
	if c.tries >= maxTries {
		return care.CodeVoided, nil
	}
	return care.CodeRejected, nil
}

// Cooldown implements Codes.
func (m *MemoryCodes) Cooldown(_ context.Context, key string, d time.Duration) (bool, time.Duration, error) {
	if d <= 0 {
		return true, 0, nil
	}
	now := m.clock.Now()
	m.mu.Lock()
	defer m.mu.Unlock()
	if until, ok := m.cooldowns[key]; ok && now.Before(until) {
		return false, until.Sub(now), nil
	}
	m.cooldowns[key] = now.Add(d)
	return true, 0, nil
}

// EndCooldown implements Codes.
func (m *MemoryCodes) EndCooldown(_ context.Context, key string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.cooldowns, key)
	return nil
}

// sweep drops forgotten codes and finished cooldowns every 256 writes; the
// caller holds mu.
func (m *MemoryCodes) sweep(now time.Time) {
	m.ops++
	if m.ops%256 != 0 {
		return
	}
	for k, c := range m.codes {
		if !now.Before(c.expires.Add(CodeRetention)) {
			delete(m.codes, k)
		}
	}
	for k, until := range m.cooldowns {
		if !now.Before(until) {
			delete(m.cooldowns, k)
		}
	}
}

// MemoryLockout is Lockout in process memory.
type MemoryLockout struct {
	clock clock.Clock
	mu    sync.Mutex
	keys  map[string]memLockout
	ops   int
}

type memLockout struct {
	fails       int
	windowEnds  time.Time
	lockedUntil time.Time
}

var _ Lockout = (*MemoryLockout)(nil)

// NewMemoryLockout returns an empty lockout store using clk.
func NewMemoryLockout(clk clock.Clock) *MemoryLockout {
	return &MemoryLockout{clock: clk, keys: map[string]memLockout{}}
}

// Fail implements Lockout.
func (m *MemoryLockout) Fail(_ context.Context, key string, p LockoutPolicy) (bool, time.Time, error) {
	now := m.clock.Now()
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sweep(now)
	s := m.keys[key]
	if now.Before(s.lockedUntil) {
		return true, s.lockedUntil, nil
	}
	if p.Max <= 0 || p.LockFor <= 0 {
		return false, time.Time{}, nil
	}
	if !now.Before(s.windowEnds) {
		s.fails = 0
		s.windowEnds = now.Add(p.window())
	}
	s.fails++
	if s.fails >= p.Max {
		s = memLockout{lockedUntil: now.Add(p.LockFor)}
	}
	m.keys[key] = s
	if now.Before(s.lockedUntil) {
		return true, s.lockedUntil, nil
	}
	return false, time.Time{}, nil
}

// Locked implements Lockout.
func (m *MemoryLockout) Locked(_ context.Context, key string) (bool, time.Time, error) {
	now := m.clock.Now()
	m.mu.Lock()
	defer m.mu.Unlock()
	if s := m.keys[key]; now.Before(s.lockedUntil) {
		return true, s.lockedUntil, nil
	}
	return false, time.Time{}, nil
}

// Reset implements Lockout.
func (m *MemoryLockout) Reset(_ context.Context, key string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.keys, key)
	return nil
}

// sweep drops keys with neither a running window nor a lock every 256
// failures; the caller holds mu.
func (m *MemoryLockout) sweep(now time.Time) {
	m.ops++
	if m.ops%256 != 0 {
		return
	}
	for k, s := range m.keys {
		if !now.Before(s.windowEnds) && !now.Before(s.lockedUntil) {
			delete(m.keys, k)
		}
	}
}

// window is the counting window, LockFor when unset.
func (p LockoutPolicy) window() time.Duration {
	if p.Window > 0 {
		return p.Window
	}
	return p.LockFor
}
