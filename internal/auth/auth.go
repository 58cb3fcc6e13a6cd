// Package auth provides CareCircle's credentials: argon2id password hashes,
// HS256 access tokens, opaque refresh and link tokens, and one-time codes.
package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/crypto/argon2"
)

// Argon2id parameters: OWASP's recommended minimum (19 MiB, 2 passes).
const (
	argonMemory  = 19 * 1024
	argonTime    = 2
	argonThreads = 1
	argonKeyLen  = 32
	argonSaltLen = 16
)

// HashPassword returns an encoded argon2id hash of pw.
func HashPassword(pw string) (string, error) {
	salt := make([]byte, argonSaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("auth: salt: %w", err)
	}
	key := argon2.IDKey([]byte(pw), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime,
		argonThreads, base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key)), nil
}

// CheckPassword reports whether pw matches an encoded hash.
func CheckPassword(encoded, pw string) bool {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false
	}
	var m uint32
	var t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil {
		return false
	}
	salt, err := base64.RawStdEncoding.DecodeString(parts[4])
	if err != nil {
		return false
	}
	want, err := base64.RawStdEncoding.DecodeString(parts[5])
	if err != nil || len(want) == 0 {
		return false
	}
	got := argon2.IDKey([]byte(pw), salt, t, m, p, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}

// ErrInvalidToken is returned for any access token that is malformed,
// badly signed or expired.
var ErrInvalidToken = errors.New("invalid or expired token")

// Claims are the contents of an access token: sub and email as the existing
// clients expect, plus the session it belongs to.
type Claims struct {
	Email     string `json:"email"`
	SessionID string `json:"sid"`
	jwt.RegisteredClaims
}

// Tokens issues and verifies access tokens.
type Tokens struct {
	secret []byte
	ttl    time.Duration
	now    func() time.Time
	// verified remembers the claims of tokens whose signature has been
	// verified: a client sends the same token with every request for its
	// 15 minutes, and a map lookup costs less than an HMAC and a JSON
	// decode. The key is the whole token, so a token that differs in any
	// byte is verified afresh; expiry is judged on every Parse.
	mu       sync.RWMutex
	verified map[string]*Claims
}

// maxVerified bounds Tokens.verified; when it is full it starts over.
const maxVerified = 10_000

// NewTokens returns an issuer signing with secret; tokens live for ttl as
// measured by now.
func NewTokens(secret []byte, ttl time.Duration, now func() time.Time) *Tokens {
	return &Tokens{secret: secret, ttl: ttl, now: now}
}

// TTL is the lifetime of issued access tokens.
func (t *Tokens) TTL() time.Duration { return t.ttl }

// Issue signs an access token for the user and session.
func (t *Tokens) Issue(userID, email, sessionID string) (string, error) {
	now := t.now()
	claims := Claims{
		Email:     email,
		SessionID: sessionID,
		RegisteredClaims: jwt.RegisteredClaims{
			Subject:   userID,
			IssuedAt:  jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(t.ttl)),
		},
	}
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(t.secret)
	if err != nil {
		return "", fmt.Errorf("auth: sign token: %w", err)
	}
	return s, nil
}

// Parse verifies an access token and returns its claims, the caller's own
// copy.
func (t *Tokens) Parse(token string) (*Claims, error) {
	t.mu.RLock()
	seen := t.verified[token]
	t.mu.RUnlock()
	if seen != nil {
		// As the jwt validator judges it: valid while now is before exp.
		if !t.now().Before(seen.ExpiresAt.Time) {
			return nil, ErrInvalidToken
		}
		c := *seen
		return &c, nil
	}
	c, err := t.parse(token)
	if err != nil {
		return nil, err
	}
	kept := *c
	t.mu.Lock()
	if len(t.verified) >= maxVerified || t.verified == nil {
		t.verified = make(map[string]*Claims)
	}
	t.verified[token] = &kept
	t.mu.Unlock()
	return c, nil
}

// parse verifies an access token's signature and expiry.
func (t *Tokens) parse(token string) (*Claims, error) {
	var c Claims
	_, err := jwt.ParseWithClaims(token, &c, func(*jwt.Token) (any, error) { return t.secret, nil },
		jwt.WithValidMethods([]string{"HS256"}), jwt.WithTimeFunc(t.now), jwt.WithExpirationRequired())
	if err != nil || c.Subject == "" {
		return nil, ErrInvalidToken
	}
	return &c, nil
}

// NewOpaqueToken returns a random URL-safe token (256 bits).
func NewOpaqueToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
	return base64.RawURLEncoding.EncodeToString(b)
}

// HashToken returns the SHA-256 of an opaque token, the only form stored.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// NewCode returns a uniformly random 6-digit code.
func NewCode() string {
	n, _ := rand.Int(rand.Reader, big.NewInt(1_000_000))
	return fmt.Sprintf("%06d", n.Int64())
}

// EqualHash compares two hex hashes in constant time.
func EqualHash(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }
