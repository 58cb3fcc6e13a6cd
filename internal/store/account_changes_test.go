package store_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/carecircle/carecircle/internal/care"
	"github.com/carecircle/carecircle/internal/clock"
	"github.com/carecircle/carecircle/internal/store"
	"github.com/carecircle/carecircle/internal/store/storetest"
)

// accountsHeard records what OnAccountsChanged tells.
type accountsHeard struct {
	mu    sync.Mutex
	users []string
}

func (h *accountsHeard) heard(_ context.Context, userIDs []string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.users = append(h.users, userIDs...)
}

// take returns what was told since the last take.
func (h *accountsHeard) take() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := h.users
	h.users = nil
	return out
}

// Every write to an account or a session tells the watchers whose it was,
// so a cache of sessions can drop it; creating one tells nothing.
func TestAccountWritesTellWhoseAccountChanged(t *testing.T) {
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, open openFunc) {
		clk := clock.NewFake(t0)
		s := open(t, clk)
		ctx := context.Background()
		h := &accountsHeard{}
		s.OnAccountsChanged(h, h.heard)
		must := func(err error) {
			t.Helper()
			if err != nil {
				t.Fatal(err)
			}
		}
		u := newUser(t, s, "ann@example.com")
		sess, err := s.CreateSession(ctx, store.NewSession{UserID: u.ID, TTL: time.Hour, RefreshHash: "r1"})
		must(err)
		if got := h.take(); len(got) != 0 {
			t.Fatalf("creating a user and a session told %v", got)
		}
		phone := "+15551234567"
		writes := []struct {
			name  string
			write func() error
		}{
			{"ActivateUser", func() error { _, err := s.ActivateUser(ctx, u.ID); return err }},
			{"UpdateUser", func() error { _, err := s.UpdateUser(ctx, u.ID, store.UserPatch{Phone: &phone}); return err }},
			{"MarkPhoneVerified", func() error { _, err := s.MarkPhoneVerified(ctx, u.ID, phone); return err }},
			{"CompleteOnboarding", func() error { _, err := s.CompleteOnboarding(ctx, u.ID); return err }},
			{"RecordLoginFailure", func() error { _, err := s.RecordLoginFailure(ctx, u.ID, 5, time.Minute); return err }},
			{"RecordLoginSuccess", func() error { return s.RecordLoginSuccess(ctx, u.ID) }},
			{"SetPassword", func() error { return s.SetPassword(ctx, u.ID, "hash2") }},
			{"SetSystemRole", func() error { _, err := s.SetSystemRole(ctx, u.Email, care.SystemAdmin); return err }},
			{"RotateRefreshToken", func() error { _, err := s.RotateRefreshToken(ctx, "r1", "r2", time.Hour); return err }},
			{"RotateRefreshToken (reuse)", func() error {
				if _, err := s.RotateRefreshToken(ctx, "r1", "r3", time.Hour); !errors.Is(err, store.ErrTokenReused) {
					return err
				}
				return nil
			}},
			{"ChangePassword", func() error { return s.ChangePassword(ctx, u.ID, "hash3", sess.ID) }},
			{"RevokeSession", func() error {
				if sess, err = s.CreateSession(ctx, store.NewSession{UserID: u.ID, TTL: time.Hour, RefreshHash: "r4"}); err != nil {
					return err
				}
				return s.RevokeSession(ctx, u.ID, sess.ID, "logout")
			}},
			{"RevokeUserSessions", func() error { _, err := s.RevokeUserSessions(ctx, u.ID, "", "logout all"); return err }},
			{"ResetPassword", func() error {
				if err := s.CreatePasswordReset(ctx, u.ID, "reset1", time.Hour); err != nil {
					return err
				}
				if got := h.take(); len(got) != 0 {
					t.Fatalf("creating a reset link told %v", got)
				}
				_, err := s.ResetPassword(ctx, "reset1", "hash4")
				return err
			}},
			{"SuspendUser", func() error { _, _, err := s.SuspendUser(ctx, u.ID); return err }},
			{"UnsuspendUser", func() error { _, err := s.UnsuspendUser(ctx, u.ID); return err }},
			{"DeleteAccount", func() error { _, err := s.DeleteAccount(ctx, u.ID); return err }},
		}
		for _, w := range writes {
			if err := w.write(); err != nil {
				t.Fatalf("%s: %v", w.name, err)
			}
			if got := h.take(); !slices.Equal(got, []string{u.ID}) {
				t.Fatalf("%s told %v, want [%s]", w.name, got, u.ID)
			}
		}
	})
}

// Watchers hear of a change once it has committed, so that what they drop
// cannot be loaded again as it was: never when it rolls back.
func TestAccountChangesAreToldAfterTheCommit(t *testing.T) {
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, open openFunc) {
		s := open(t, clock.NewFake(t0))
		ctx := context.Background()
		u, err := s.ActivateUser(ctx, newUser(t, s, "bo@example.com").ID)
		if err != nil {
			t.Fatal(err)
		}
		sess, err := s.CreateSession(ctx, store.NewSession{UserID: u.ID, TTL: time.Hour, RefreshHash: "r1"})
		if err != nil {
			t.Fatal(err)
		}
		// What a watcher that reloads sees.
		var seen []error
		s.OnAccountsChanged("reload", func(ctx context.Context, _ []string) {
			_, _, err := s.ActiveSession(ctx, sess.ID)
			seen = append(seen, err)
		})
		rollback := errors.New("roll back")
		err = s.Atomically(ctx, func(ctx context.Context) error {
			if _, _, err := s.SuspendUser(ctx, u.ID); err != nil {
				return err
			}
			if len(seen) != 0 {
				t.Fatal("a watcher heard of a change before its transaction committed")
			}
			return rollback
		})
		if !errors.Is(err, rollback) || len(seen) != 0 {
			t.Fatalf("Atomically: %v; a rolled-back change told %d times", err, len(seen))
		}
		for _, inTx := range []bool{false, true} {
			seen = nil
			sess, err = s.CreateSession(ctx, store.NewSession{UserID: u.ID, TTL: time.Hour, RefreshHash: fmt.Sprint("r-", inTx)})
			if err != nil {
				t.Fatal(err)
			}
			suspend := func(ctx context.Context) error {
				if _, err := s.UnsuspendUser(ctx, u.ID); err != nil {
					return err
				}
				_, _, err := s.SuspendUser(ctx, u.ID)
				return err
			}
			if inTx {
				err = s.Atomically(ctx, suspend)
			} else {
				err = suspend(ctx)
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(seen) != 2 || !errors.Is(seen[1], store.ErrNotFound) {
				t.Fatalf("in a transaction %v: the watcher read %v after the suspension; want the session gone", inTx, seen)
			}
		}
	})
}

// Registering again under the same watcher replaces it.
func TestAccountWatchersAreReplacedByTheirKey(t *testing.T) {
	t.Parallel()
	s := storetest.OpenSQLite(t, clock.NewFake(t0))
	first, second := &accountsHeard{}, &accountsHeard{}
	s.OnAccountsChanged("cache", first.heard)
	s.OnAccountsChanged("cache", second.heard)
	u := newUser(t, s, "cy@example.com")
	if err := s.RecordLoginSuccess(context.Background(), u.ID); err != nil {
		t.Fatal(err)
	}
	if len(first.take()) != 0 || len(second.take()) != 1 {
		t.Fatal("a watcher registered again was not replaced")
	}
}
