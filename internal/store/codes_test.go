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

// codeRequest asks for an EMAIL_VERIFY code with hash h: 5 minutes to live,
// one a minute at most.
func codeRequest(userID, h string) store.CodeRequest {
	return store.CodeRequest{UserID: userID, Purpose: store.PurposeEmailVerify, CodeHash: h,
		TTL: 5 * time.Minute, Cooldown: time.Minute}
}

func TestIssueCodeCooldown(t *testing.T) {
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, open openFunc) {
		clk := clock.NewFake(t0)
		s := open(t, clk)
		ctx := context.Background()
		u := newUser(t, s, "ann@example.com")
		if err := s.IssueCode(ctx, codeRequest(u.ID, "first")); err != nil {
			t.Fatal(err)
		}
		clk.Advance(40 * time.Second)
		var cd *store.CooldownError
		if err := s.IssueCode(ctx, codeRequest(u.ID, "second")); !errors.As(err, &cd) {
			t.Fatalf("second code within a minute: err = %v, want *CooldownError", err)
		}
		if want := t0.Truncate(time.Microsecond).Add(time.Minute); !cd.Until.Equal(want) {
			t.Fatalf("cooldown until %v, want %v", cd.Until, want)
		}
		// The refused request changed nothing: the first code still works.
		if got, err := s.CheckCode(ctx, u.ID, store.PurposeEmailVerify, "second", 5); err != nil || got != care.CodeRejected {
			t.Fatalf("refused code = %v, %v; want rejected", got, err)
		}
		clk.Advance(20 * time.Second)
		if err := s.IssueCode(ctx, codeRequest(u.ID, "third")); err != nil {
			t.Fatalf("code after the cooldown: %v", err)
		}
		// The new code replaced the old one and reset the wrong-try count.
		if got, _ := s.CheckCode(ctx, u.ID, store.PurposeEmailVerify, "first", 5); got != care.CodeRejected {
			t.Fatalf("replaced code = %v, want rejected", got)
		}
		if got, _ := s.CheckCode(ctx, u.ID, store.PurposeEmailVerify, "third", 5); got != care.CodeAccepted {
			t.Fatalf("new code = %v, want accepted", got)
		}
		if err := s.IssueCode(ctx, store.CodeRequest{UserID: "00000000-0000-0000-0000-000000000000",
			Purpose: store.PurposeEmailVerify, CodeHash: "x", TTL: time.Minute}); !errors.Is(err, store.ErrReference) {
			t.Fatalf("code for a missing user: err = %v, want ErrReference", err)
		}
	})
}

func TestCheckCode(t *testing.T) {
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, open openFunc) {
		ctx := context.Background()
		check := func(t *testing.T, s *store.Store, userID, h string, want care.CodeOutcome) {
			t.Helper()
			got, err := s.CheckCode(ctx, userID, store.PurposeEmailVerify, h, 5)
			if err != nil || got != want {
				t.Fatalf("CheckCode(%q) = %v, %v; want %v", h, got, err, want)
			}
		}
		t.Run("accepted once", func(t *testing.T) {
			s := open(t, clock.NewFake(t0))
			u := newUser(t, s, "a@example.com")
			check(t, s, u.ID, "good", care.CodeAbsent)
			if err := s.IssueCode(ctx, codeRequest(u.ID, "good")); err != nil {
				t.Fatal(err)
			}
			check(t, s, u.ID, "good", care.CodeAccepted)
			check(t, s, u.ID, "good", care.CodeAbsent)
		})
		t.Run("fifth wrong try voids", func(t *testing.T) {
			s := open(t, clock.NewFake(t0))
			u := newUser(t, s, "b@example.com")
			if err := s.IssueCode(ctx, codeRequest(u.ID, "good")); err != nil {
				t.Fatal(err)
			}
			for i := 0; i < 4; i++ {
				check(t, s, u.ID, "bad", care.CodeRejected)
			}
			check(t, s, u.ID, "bad", care.CodeVoided)
			check(t, s, u.ID, "good", care.CodeVoided)
		})
		t.Run("expires", func(t *testing.T) {
			clk := clock.NewFake(t0)
			s := open(t, clk)
			u := newUser(t, s, "c@example.com")
			if err := s.IssueCode(ctx, codeRequest(u.ID, "good")); err != nil {
				t.Fatal(err)
			}
			clk.Advance(5*time.Minute - time.Second)
			check(t, s, u.ID, "bad", care.CodeRejected)
			clk.Advance(time.Second)
			check(t, s, u.ID, "good", care.CodeExpired)
			check(t, s, u.ID, "bad", care.CodeExpired)
		})
		t.Run("bound to user and purpose", func(t *testing.T) {
			s := open(t, clock.NewFake(t0))
			a := newUser(t, s, "d@example.com")
			b := newUser(t, s, "e@example.com")
			if err := s.IssueCode(ctx, codeRequest(a.ID, "good")); err != nil {
				t.Fatal(err)
			}
			check(t, s, b.ID, "good", care.CodeAbsent)
			if got, _ := s.CheckCode(ctx, a.ID, "PHONE_VERIFY", "good", 5); got != care.CodeAbsent {
				t.Fatalf("other purpose = %v, want absent", got)
			}
			check(t, s, a.ID, "good", care.CodeAccepted)
		})
	})
}
