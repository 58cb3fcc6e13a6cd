package store_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/carecircle/carecircle/internal/clock"
	"github.com/carecircle/carecircle/internal/store"
	"github.com/carecircle/carecircle/internal/store/storetest"
)

func TestPushTokens(t *testing.T) {
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, open openFunc) {
		clk := clock.NewFake(t0)
		s := open(t, clk)
		ctx := context.Background()
		ann, bo := newUser(t, s, "ann@example.com"), newUser(t, s, "bo@example.com")

		first, err := s.SavePushToken(ctx, ann.ID, "fcm-token-1", "android")
		if err != nil {
			t.Fatal(err)
		}
		clk.Advance(time.Minute)
		again, err := s.SavePushToken(ctx, ann.ID, "fcm-token-1", "android")
		if err != nil {
			t.Fatal(err)
		}
		if again.ID != first.ID || !again.CreatedAt.Equal(first.CreatedAt) || !again.UpdatedAt.Equal(t0.Add(time.Minute).Truncate(time.Microsecond)) {
			t.Fatalf("saving again: %+v, first %+v", again, first)
		}
		clk.Advance(time.Minute)
		if _, err := s.SavePushToken(ctx, ann.ID, "apns-token-2", "ios"); err != nil {
			t.Fatal(err)
		}
		got, err := s.PushTokens(ctx, ann.ID)
		if err != nil || len(got) != 2 || got[0].Token != "apns-token-2" || got[1].Token != "fcm-token-1" || got[1].Platform != "android" {
			t.Fatalf("ann's tokens = %+v, %v", got, err)
		}

		// The app signed in to Bo's account on Ann's old phone.
		moved, err := s.SavePushToken(ctx, bo.ID, "fcm-token-1", "android")
		if err != nil || moved.ID != first.ID {
			t.Fatalf("moved = %+v, %v", moved, err)
		}
		if got, _ := s.PushTokens(ctx, ann.ID); len(got) != 1 || got[0].Token != "apns-token-2" {
			t.Fatalf("ann still has %+v", got)
		}
		if err := s.DeletePushToken(ctx, ann.ID, "fcm-token-1"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("ann deleting bo's token: %v", err)
		}
		if err := s.DeletePushToken(ctx, bo.ID, "fcm-token-1"); err != nil {
			t.Fatal(err)
		}
		if err := s.DeletePushToken(ctx, bo.ID, "fcm-token-1"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("deleting twice: %v", err)
		}
		if got, err := s.PushTokens(ctx, bo.ID); err != nil || len(got) != 0 {
			t.Fatalf("bo's tokens = %+v, %v", got, err)
		}
	})
}

func TestPushTokenSavedConcurrentlyIsOneRow(t *testing.T) {
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, open openFunc) {
		s := open(t, clock.NewFake(t0))
		ctx := context.Background()
		u := newUser(t, s, "ann@example.com")
		var wg sync.WaitGroup
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := s.SavePushToken(ctx, u.ID, "same-token", "web"); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		if got, err := s.PushTokens(ctx, u.ID); err != nil || len(got) != 1 {
			t.Fatalf("tokens = %+v, %v", got, err)
		}
	})
}

func TestMarkPhoneVerified(t *testing.T) {
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, open openFunc) {
		s := open(t, clock.NewFake(t0))
		ctx := context.Background()
		u := newUser(t, s, "ann@example.com")
		phone := "+15550100100"
		if _, err := s.UpdateUser(ctx, u.ID, store.UserPatch{Phone: &phone}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.MarkPhoneVerified(ctx, u.ID, "+15559999999"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("another number: %v", err)
		}
		got, err := s.MarkPhoneVerified(ctx, u.ID, phone)
		if err != nil || !got.PhoneVerified || got.Phone == nil || *got.Phone != phone {
			t.Fatalf("verified = %+v, %v", got, err)
		}
		// Keeping the number keeps it verified; a new number is not.
		if got, _ := s.UpdateUser(ctx, u.ID, store.UserPatch{Phone: &phone}); !got.PhoneVerified {
			t.Fatal("saving the same number unverified it")
		}
		other := "+15550100101"
		if got, _ := s.UpdateUser(ctx, u.ID, store.UserPatch{Phone: &other}); got.PhoneVerified {
			t.Fatal("a new number is verified")
		}
	})
}
