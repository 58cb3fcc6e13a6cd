package auth

import (
	"errors"
	"testing"
	"time"
)

func TestPasswordHash(t *testing.T) {
	t.Parallel()
	h, err := HashPassword("Correct horse 9")
	if err != nil {
		t.Fatal(err)
	}
	if !CheckPassword(h, "Correct horse 9") {
		t.Fatal("right password refused")
	}
	if CheckPassword(h, "Correct horse 8") || CheckPassword("garbage", "x") || CheckPassword("$argon2id$v=19$m=1,t=1,p=1$$", "") {
		t.Fatal("wrong password accepted")
	}
	h2, _ := HashPassword("Correct horse 9")
	if h == h2 {
		t.Fatal("hashes are not salted")
	}
}

func TestTokens(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	tk := NewTokens([]byte("secret-secret-secret-secret-1234"), 15*time.Minute, clock)
	s, err := tk.Issue("u1", "a@b.c", "s1")
	if err != nil {
		t.Fatal(err)
	}
	c, err := tk.Parse(s)
	if err != nil || c.Subject != "u1" || c.Email != "a@b.c" || c.SessionID != "s1" {
		t.Fatalf("Parse = %+v, %v", c, err)
	}
	other := NewTokens([]byte("another-secret-another-secret-12"), time.Minute, clock)
	if _, err := other.Parse(s); !errors.Is(err, ErrInvalidToken) {
		t.Fatalf("foreign signature accepted: %v", err)
	}
	now = now.Add(16 * time.Minute)
	if _, err := tk.Parse(s); !errors.Is(err, ErrInvalidToken) {
		t.Fatalf("expired token accepted: %v", err)
	}
	if _, err := tk.Parse("a.b.c"); !errors.Is(err, ErrInvalidToken) {
		t.Fatal("garbage accepted")
	}
}

func TestCodesAndTokens(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for i := 0; i < 50; i++ {
		c := NewCode()
		if len(c) != 6 {
			t.Fatalf("code %q is not 6 digits", c)
		}
		seen[c] = true
	}
	if len(seen) < 45 {
		t.Fatalf("codes repeat too often: %d distinct of 50", len(seen))
	}
	a, b := NewOpaqueToken(), NewOpaqueToken()
	if a == b || len(a) < 40 || HashToken(a) == HashToken(b) || !EqualHash(HashToken(a), HashToken(a)) {
		t.Fatal("opaque tokens are not random or hashes not stable")
	}
}

// A token verified once is remembered, but only byte for byte, still
// expires, and each caller gets claims of its own.
func TestTokensRememberWhatTheyVerified(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tk := NewTokens([]byte("secret-secret-secret-secret-1234"), 15*time.Minute, func() time.Time { return now })
	s, err := tk.Issue("u1", "a@b.c", "s1")
	if err != nil {
		t.Fatal(err)
	}
	first, err := tk.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	first.Subject = "someone else"
	again, err := tk.Parse(s)
	if err != nil || again.Subject != "u1" || again.SessionID != "s1" {
		t.Fatalf("second Parse = %+v, %v", again, err)
	}
	// The same claims signed with another key, and the token with its
	// signature cut short, are verified afresh and refused.
	forged, _ := NewTokens([]byte("another-secret-another-secret-12"), 15*time.Minute, func() time.Time { return now }).Issue("u1", "a@b.c", "s1")
	for _, bad := range []string{forged, s[:len(s)-2], s + "A"} {
		if _, err := tk.Parse(bad); !errors.Is(err, ErrInvalidToken) {
			t.Fatalf("Parse(%q) = %v", bad, err)
		}
	}
	now = now.Add(15*time.Minute - time.Nanosecond)
	if _, err := tk.Parse(s); err != nil {
		t.Fatalf("just before it expires: %v", err)
	}
	now = now.Add(time.Nanosecond)
	if _, err := tk.Parse(s); !errors.Is(err, ErrInvalidToken) {
		t.Fatalf("once it expired: %v", err)
	}
}
