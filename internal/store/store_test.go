package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/carecircle/carecircle/internal/care"
	"github.com/carecircle/carecircle/internal/clock"
	"github.com/carecircle/carecircle/internal/store"
	"github.com/carecircle/carecircle/internal/store/storetest"
)

var t0 = time.Date(2026, 3, 8, 6, 30, 0, 123456789, time.UTC)

type openFunc = func(t testing.TB, clk clock.Clock) *store.Store

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

func TestMigrateIsIdempotent(t *testing.T) {
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, open openFunc) {
		s := open(t, clock.NewFake(t0))
		ctx := context.Background()
		n, err := s.Migrate(ctx)
		if err != nil || n != 0 {
			t.Fatalf("second Migrate = %d, %v; want 0, nil", n, err)
		}
		ms, err := s.Migrations(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range ms {
			if m.AppliedAt == nil {
				t.Fatalf("migration %d not applied", m.Version)
			}
		}
	})
}

func TestUsers(t *testing.T) {
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, open openFunc) {
		clk := clock.NewFake(t0)
		s := open(t, clk)
		ctx := context.Background()
		u := newUser(t, s, "ann@example.com")
		if !u.CreatedAt.Equal(t0.Truncate(time.Microsecond)) {
			t.Fatalf("CreatedAt = %v, want %v", u.CreatedAt, t0)
		}
		if u.Status != care.UserPending || u.SystemRole != care.SystemUser || u.EmailVerified {
			t.Fatalf("unexpected new user: %+v", u)
		}
		if _, err := s.CreateUser(ctx, store.NewUser{Email: "ann@example.com", PasswordHash: "x",
			FullName: "Dup", Timezone: "UTC", Status: care.UserPending}); !errors.Is(err, store.ErrConflict) {
			t.Fatalf("duplicate email err = %v, want ErrConflict", err)
		}
		got, err := s.UserByEmail(ctx, "ann@example.com")
		if err != nil || got.ID != u.ID {
			t.Fatalf("UserByEmail = %v, %v", got, err)
		}
		if _, err := s.UserByID(ctx, "00000000-0000-0000-0000-000000000000"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("missing user err = %v", err)
		}
		clk.Advance(time.Minute)
		act, err := s.ActivateUser(ctx, u.ID)
		if err != nil || act.Status != care.UserActive || !act.EmailVerified || act.EmailVerifiedAt == nil {
			t.Fatalf("ActivateUser = %+v, %v", act, err)
		}
		phone := "+1 555 0100"
		name := "Ann B"
		up, err := s.UpdateUser(ctx, u.ID, store.UserPatch{FullName: &name, Phone: &phone})
		if err != nil || up.FullName != name || up.Phone == nil || *up.Phone != phone {
			t.Fatalf("UpdateUser = %+v, %v", up, err)
		}
		up, err = s.UpdateUser(ctx, u.ID, store.UserPatch{ClearPhone: true})
		if err != nil || up.Phone != nil || up.FullName != name {
			t.Fatalf("clear phone = %+v, %v", up, err)
		}
	})
}

func TestLoginLockout(t *testing.T) {
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, open openFunc) {
		clk := clock.NewFake(t0)
		s := open(t, clk)
		ctx := context.Background()
		u := newUser(t, s, "bob@example.com")
		var got *care.User
		var err error
		for i := 0; i < 4; i++ {
			if got, err = s.RecordLoginFailure(ctx, u.ID, 5, 30*time.Minute); err != nil {
				t.Fatal(err)
			}
		}
		if got.LockedUntil != nil {
			t.Fatalf("locked after 4 failures")
		}
		if got, err = s.RecordLoginFailure(ctx, u.ID, 5, 30*time.Minute); err != nil {
			t.Fatal(err)
		}
		if got.LockedUntil == nil || !got.LockedUntil.Equal(clk.Now().Add(30*time.Minute).Truncate(time.Microsecond)) {
			t.Fatalf("LockedUntil = %v", got.LockedUntil)
		}
		if err := s.RecordLoginSuccess(ctx, u.ID); err != nil {
			t.Fatal(err)
		}
		got, _ = s.UserByID(ctx, u.ID)
		if got.LockedUntil != nil || got.FailedLogins != 0 || got.LastLoginAt == nil {
			t.Fatalf("after success: %+v", got)
		}
	})
}

func TestRefreshRotationAndReuse(t *testing.T) {
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, open openFunc) {
		clk := clock.NewFake(t0)
		s := open(t, clk)
		ctx := context.Background()
		u := newUser(t, s, "cy@example.com")
		sess, err := s.CreateSession(ctx, store.NewSession{UserID: u.ID, TTL: 7 * 24 * time.Hour, RefreshHash: "h1"})
		if err != nil {
			t.Fatal(err)
		}
		clk.Advance(time.Hour)
		rot, err := s.RotateRefreshToken(ctx, "h1", "h2", 7*24*time.Hour)
		if err != nil || rot.ID != sess.ID || !rot.LastUsedAt.After(sess.LastUsedAt) {
			t.Fatalf("rotate = %+v, %v", rot, err)
		}
		if _, err := s.RotateRefreshToken(ctx, "nope", "h3", time.Hour); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("unknown token err = %v", err)
		}
		// The old token again: theft. The whole session ends.
		if _, err := s.RotateRefreshToken(ctx, "h1", "h4", time.Hour); !errors.Is(err, store.ErrTokenReused) {
			t.Fatalf("reuse err = %v, want ErrTokenReused", err)
		}
		if _, _, err := s.ActiveSession(ctx, sess.ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("session still active after reuse: %v", err)
		}
		if _, err := s.RotateRefreshToken(ctx, "h2", "h5", time.Hour); err == nil {
			t.Fatalf("current token of a revoked session still rotates")
		}
	})
}

func TestSessionExpiryAndRevocation(t *testing.T) {
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, open openFunc) {
		clk := clock.NewFake(t0)
		s := open(t, clk)
		ctx := context.Background()
		u := newUser(t, s, "di@example.com")
		a, _ := s.CreateSession(ctx, store.NewSession{UserID: u.ID, TTL: time.Hour, RefreshHash: "a"})
		b, _ := s.CreateSession(ctx, store.NewSession{UserID: u.ID, TTL: 2 * time.Hour, RefreshHash: "b"})
		c, _ := s.CreateSession(ctx, store.NewSession{UserID: u.ID, TTL: 2 * time.Hour, RefreshHash: "c"})
		list, err := s.UserSessions(ctx, u.ID)
		if err != nil || len(list) != 3 {
			t.Fatalf("sessions = %d, %v", len(list), err)
		}
		clk.Advance(90 * time.Minute)
		if _, _, err := s.ActiveSession(ctx, a.ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("expired session active: %v", err)
		}
		n, err := s.RevokeUserSessions(ctx, u.ID, b.ID, "password changed")
		if err != nil || n != 2 {
			t.Fatalf("revoked %d, %v; want 2 (a and c)", n, err)
		}
		if _, _, err := s.ActiveSession(ctx, c.ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("c still active")
		}
		if _, _, err := s.ActiveSession(ctx, b.ID); err != nil {
			t.Fatalf("kept session ended: %v", err)
		}
		if n, _ := s.RevokeUserSessions(ctx, u.ID, "", "logout all"); n != 1 {
			t.Fatalf("logout-all revoked %d, want 1", n)
		}
	})
}

// Writes made inside Atomically join its transaction: on SQLite's single
// writer connection anything else would wait for the transaction forever,
// and a rollback must undo them.
func TestAccountWritesJoinTheTransaction(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, open openFunc) {
		s := open(t, clock.NewFake(time.Date(2026, 3, 9, 20, 0, 0, 0, time.UTC)))
		ctx := context.Background()
		rollback := errors.New("roll back")
		err := s.Atomically(ctx, func(ctx context.Context) error {
			u, err := s.CreateUser(ctx, store.NewUser{Email: "tx@example.com", PasswordHash: "h", FullName: "Tx",
				Timezone: "UTC", Status: care.UserActive})
			if err != nil {
				return err
			}
			if err := s.SetPassword(ctx, u.ID, "h2"); err != nil {
				return err
			}
			if _, err := s.RevokeUserSessions(ctx, u.ID, "", "test"); err != nil {
				return err
			}
			return rollback
		})
		if !errors.Is(err, rollback) {
			t.Fatalf("Atomically: %v", err)
		}
		if _, err := s.UserByEmail(ctx, "tx@example.com"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("the rolled-back user: %v", err)
		}
	})
}
