package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/carecircle/carecircle/internal/clock"
	"github.com/carecircle/carecircle/internal/store"
	"github.com/carecircle/carecircle/internal/store/storetest"
)

func TestPasswordReset(t *testing.T) {
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, open openFunc) {
		clk := clock.NewFake(t0)
		s := open(t, clk)
		ctx := context.Background()
		u := newUser(t, s, "ann@example.com")
		a, _ := s.CreateSession(ctx, store.NewSession{UserID: u.ID, TTL: time.Hour, RefreshHash: "a"})
		b, _ := s.CreateSession(ctx, store.NewSession{UserID: u.ID, TTL: time.Hour, RefreshHash: "b"})
		if _, err := s.RecordLoginFailure(ctx, u.ID, 1, time.Hour); err != nil {
			t.Fatal(err)
		}
		for _, h := range []string{"r0", "r1", "r2"} {
			if err := s.CreatePasswordReset(ctx, u.ID, h, time.Hour); err != nil {
				t.Fatal(err)
			}
			if got, err := s.PasswordResetUser(ctx, h); err != nil || got.ID != u.ID {
				t.Fatalf("PasswordResetUser(%s) = %v, %v", h, got, err)
			}
		}
		// A newer link voids the older ones.
		for _, h := range []string{"r0", "r1"} {
			if _, err := s.PasswordResetUser(ctx, h); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("older link %s still valid: %v", h, err)
			}
			if _, err := s.ResetPassword(ctx, h, "old-link"); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("reset with older link %s: err = %v, want ErrNotFound", h, err)
			}
		}
		if _, err := s.PasswordResetUser(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("unknown token err = %v", err)
		}
		// Another user's new link leaves this one's alone.
		other := newUser(t, s, "cy@example.com")
		if err := s.CreatePasswordReset(ctx, other.ID, "o1", time.Hour); err != nil {
			t.Fatal(err)
		}
		got, err := s.ResetPassword(ctx, "r2", "new-hash")
		if err != nil || got.PasswordHash != "new-hash" || got.LockedUntil != nil {
			t.Fatalf("ResetPassword = %+v, %v", got, err)
		}
		for _, sess := range []string{a.ID, b.ID} {
			if _, _, err := s.ActiveSession(ctx, sess); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("session %s survived the reset: %v", sess, err)
			}
		}
		// The token is spent; no link of the user works any more, and the
		// other user's does.
		if _, err := s.PasswordResetUser(ctx, "o1"); err != nil {
			t.Fatalf("another user's link voided: %v", err)
		}
		for _, h := range []string{"r0", "r1", "r2"} {
			if _, err := s.ResetPassword(ctx, h, "other"); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("second reset with %s: err = %v, want ErrNotFound", h, err)
			}
			if _, err := s.PasswordResetUser(ctx, h); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("spent token %s still valid: %v", h, err)
			}
		}
		if cur, _ := s.UserByID(ctx, u.ID); cur.PasswordHash != "new-hash" {
			t.Fatalf("refused reset changed the password to %q", cur.PasswordHash)
		}
	})
}

func TestPasswordResetExpires(t *testing.T) {
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, open openFunc) {
		clk := clock.NewFake(t0)
		s := open(t, clk)
		ctx := context.Background()
		u := newUser(t, s, "bo@example.com")
		if err := s.CreatePasswordReset(ctx, u.ID, "r", time.Hour); err != nil {
			t.Fatal(err)
		}
		clk.Advance(time.Hour)
		if _, err := s.PasswordResetUser(ctx, "r"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("expired token err = %v", err)
		}
		if _, err := s.ResetPassword(ctx, "r", "x"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("reset with expired token err = %v", err)
		}
		if cur, _ := s.UserByID(ctx, u.ID); cur.PasswordHash != "hash" {
			t.Fatalf("expired reset changed the password")
		}
	})
}

func TestChangePasswordKeepsOneSession(t *testing.T) {
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, open openFunc) {
		s := open(t, clock.NewFake(t0))
		ctx := context.Background()
		u := newUser(t, s, "cy@example.com")
		keep, _ := s.CreateSession(ctx, store.NewSession{UserID: u.ID, TTL: time.Hour, RefreshHash: "k"})
		other, _ := s.CreateSession(ctx, store.NewSession{UserID: u.ID, TTL: time.Hour, RefreshHash: "o"})
		if err := s.ChangePassword(ctx, u.ID, "changed", keep.ID); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.ActiveSession(ctx, keep.ID); err != nil {
			t.Fatalf("kept session ended: %v", err)
		}
		if _, _, err := s.ActiveSession(ctx, other.ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("other session survived: %v", err)
		}
		if cur, _ := s.UserByID(ctx, u.ID); cur.PasswordHash != "changed" {
			t.Fatalf("password hash = %q", cur.PasswordHash)
		}
		if err := s.ChangePassword(ctx, "00000000-0000-0000-0000-000000000000", "x", ""); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("missing user err = %v", err)
		}
	})
}
