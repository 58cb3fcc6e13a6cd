package dbkv_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/carecircle/carecircle/internal/care"
	"github.com/carecircle/carecircle/internal/clock"
	"github.com/carecircle/carecircle/internal/kv"
	"github.com/carecircle/carecircle/internal/kv/dbkv"
	"github.com/carecircle/carecircle/internal/kv/kvtest"
	"github.com/carecircle/carecircle/internal/store"
	"github.com/carecircle/carecircle/internal/store/storetest"
)

// userKeys maps the suites' names to keys of real users of s, creating one
// user per name.
func userKeys(t *testing.T, s *store.Store, purpose store.CodePurpose) func(string) string {
	var (
		mu   sync.Mutex
		keys = map[string]string{}
	)
	return func(name string) string {
		mu.Lock()
		defer mu.Unlock()
		if k, ok := keys[name]; ok {
			return k
		}
		u := newUser(t, s, name+"@example.com")
		keys[name] = store.UserKey(purpose, u.ID)
		return keys[name]
	}
}

// TestCodesConformance holds the database's codes to the behaviour of the
// memory and Redis ones.
func TestCodesConformance(t *testing.T) {
	t.Parallel()
	var backends []kvtest.Backend[kv.Codes]
	for _, b := range storetest.Backends() {
		backends = append(backends, kvtest.Backend[kv.Codes]{Name: b.Name,
			Open: func(t *testing.T, clk *clock.Fake) (kv.Codes, func(string) string) {
				s := b.Open(t, clk)
				return dbkv.Codes(s), userKeys(t, s, store.PurposeEmailVerify)
			}})
	}
	kvtest.Codes(t, backends...)
}

// TestLockoutConformance holds the database's lockouts to the behaviour of
// the memory and Redis ones.
func TestLockoutConformance(t *testing.T) {
	t.Parallel()
	var backends []kvtest.Backend[kv.Lockout]
	for _, b := range storetest.Backends() {
		backends = append(backends, kvtest.Backend[kv.Lockout]{Name: b.Name,
			Open: func(t *testing.T, clk *clock.Fake) (kv.Lockout, func(string) string) {
				s := b.Open(t, clk)
				return dbkv.Lockout(s), userKeys(t, s, store.PurposeLogin)
			}})
	}
	kvtest.Lockout(t, backends...)
}

// TestAddressLockoutConformance holds the database's lockouts per email
// address (accounts or none) to the same behaviour.
func TestAddressLockoutConformance(t *testing.T) {
	t.Parallel()
	var backends []kvtest.Backend[kv.Lockout]
	for _, b := range storetest.Backends() {
		backends = append(backends, kvtest.Backend[kv.Lockout]{Name: b.Name,
			Open: func(t *testing.T, clk *clock.Fake) (kv.Lockout, func(string) string) {
				return dbkv.Lockout(b.Open(t, clk)), func(name string) string {
					return store.AddressKey(store.PurposeLogin, name+"@example.com")
				}
			}})
	}
	kvtest.Lockout(t, backends...)
}

// TestUserStateIsApart: a user's code, cooldown and lockout of one purpose
// live side by side, apart from another user's, and only for real users.
func TestUserStateIsApart(t *testing.T) {
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, open func(testing.TB, clock.Clock) *store.Store) {
		ctx := context.Background()
		s := open(t, clock.NewFake(t0))
		a := newUser(t, s, "a@example.com")
		b := newUser(t, s, "b@example.com")
		ka, kb := store.UserKey(store.PurposeEmailVerify, a.ID), store.UserKey(store.PurposeEmailVerify, b.ID)
		codes, lockout := dbkv.Codes(s), dbkv.Lockout(s)
		if err := codes.Put(ctx, ka, "h", time.Minute); err != nil {
			t.Fatal(err)
		}
		if ok, _, err := codes.Cooldown(ctx, ka, time.Minute); !ok || err != nil {
			t.Fatalf("cooldown beside a code: %v, %v", ok, err)
		}
		if locked, _, err := lockout.Fail(ctx, ka, kv.LockoutPolicy{Max: 1, LockFor: time.Hour}); !locked || err != nil {
			t.Fatalf("lockout beside a code: %v, %v", locked, err)
		}
		if got, _ := codes.Check(ctx, kb, "h", 5); got != care.CodeAbsent {
			t.Fatalf("another user's code = %v, want absent", got)
		}
		if got, _ := codes.Check(ctx, store.UserKey(store.PurposeLogin, a.ID), "h", 5); got != care.CodeAbsent {
			t.Fatalf("another purpose's code = %v, want absent", got)
		}
		if got, _ := codes.Check(ctx, ka, "h", 5); got != care.CodeAccepted {
			t.Fatalf("code = %v, want accepted", got)
		}
		if locked, _, _ := lockout.Locked(ctx, ka); !locked {
			t.Fatal("using the code lifted the lock")
		}
		for _, bad := range []string{"", "nouser", "EMAIL_VERIFY:", ":" + a.ID} {
			if err := codes.Put(ctx, bad, "h", time.Minute); err == nil {
				t.Fatalf("Put(%q) accepted a key that names no user", bad)
			}
		}
		missing := store.UserKey(store.PurposeEmailVerify, "00000000-0000-0000-0000-000000000000")
		if err := codes.Put(ctx, missing, "h", time.Minute); !errors.Is(err, store.ErrReference) {
			t.Fatalf("code for a missing user: err = %v, want ErrReference", err)
		}
	})
}

var t0 = time.Date(2026, 3, 8, 6, 30, 0, 123456789, time.UTC)

func newUser(t *testing.T, s *store.Store, email string) *care.User {
	t.Helper()
	u, err := s.CreateUser(context.Background(), store.NewUser{
		Email: email, PasswordHash: "hash", FullName: "Test " + email,
		Timezone: "Europe/Berlin", Status: care.UserPending,
	})
	if err != nil {
		t.Fatal(err)
	}
	return u
}
