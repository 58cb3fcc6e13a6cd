package webpush

import (
	"bytes"
	"context"
	"crypto/ecdh"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/mail"
	"net/url"
	"strings"
	"sync"
)

// Environment variables that, when both set, supply the VAPID key pair.
const (
	EnvPublicKey  = "VAPID_PUBLIC_KEY"
	EnvPrivateKey = "VAPID_PRIVATE_KEY"
)

// SettingKey is the KeyStore key under which a generated pair is kept.
const SettingKey = "webpush.vapid_keys"

// ErrInvalidKeys reports a VAPID key pair that cannot be used: malformed,
// or a public key that does not belong to the private key.
var ErrInvalidKeys = errors.New("webpush: invalid VAPID keys")

// Keys is a VAPID key pair on P-256, each half unpadded base64url: Public is
// the 65-byte uncompressed point browsers take as applicationServerKey,
// Private the 32-byte scalar.
type Keys struct {
	Public  string `json:"publicKey"`
	Private string `json:"privateKey"`
}

// GenerateKeys returns a fresh random key pair.
func GenerateKeys() (Keys, error) {
	priv, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		return Keys{}, fmt.Errorf("webpush: generate VAPID keys: %w", err)
	}
	return Keys{
		Public:  base64.RawURLEncoding.EncodeToString(priv.PublicKey().Bytes()),
		Private: base64.RawURLEncoding.EncodeToString(priv.Bytes()),
	}, nil
}

// Validate checks that both halves decode and that Public is the public key
// of Private, so a mistyped environment variable fails at start rather than
// at the first push.
func (k Keys) Validate() error {
	privBytes, err := decodeBase64(k.Private)
	if err != nil {
		return fmt.Errorf("%w: private key: %w", ErrInvalidKeys, err)
	}
	priv, err := ecdh.P256().NewPrivateKey(privBytes)
	if err != nil {
		return fmt.Errorf("%w: private key: %w", ErrInvalidKeys, err)
	}
	pubBytes, err := decodeBase64(k.Public)
	if err != nil {
		return fmt.Errorf("%w: public key: %w", ErrInvalidKeys, err)
	}
	if !bytes.Equal(priv.PublicKey().Bytes(), pubBytes) {
		return fmt.Errorf("%w: the public key does not match the private key", ErrInvalidKeys)
	}
	return nil
}

// decodeBase64 accepts base64url or standard base64, padded or not, as key
// generators and browsers emit all four.
func decodeBase64(s string) ([]byte, error) {
	s = strings.TrimRight(strings.TrimSpace(s), "=")
	if s == "" {
		return nil, errors.New("empty")
	}
	if b, err := base64.RawURLEncoding.DecodeString(s); err == nil {
		return b, nil
	}
	return base64.RawStdEncoding.DecodeString(s)
}

// normalized re-encodes both halves as unpadded base64url, the form the
// Authorization header and browsers expect.
func (k Keys) normalized() Keys {
	pub, _ := decodeBase64(k.Public)
	priv, _ := decodeBase64(k.Private)
	return Keys{
		Public:  base64.RawURLEncoding.EncodeToString(pub),
		Private: base64.RawURLEncoding.EncodeToString(priv),
	}
}

// VAPID is what signing a push request needs: the key pair and the contact
// the push service may use to reach the operator.
type VAPID struct {
	Keys    Keys
	Subject string // "mailto:…" or "https://…"
}

// KeyStore keeps small named values shared by every node; the application
// backs it with the database's settings table.
type KeyStore interface {
	// Get returns the value under key and whether there is one.
	Get(ctx context.Context, key string) (value string, ok bool, err error)
	// PutIfAbsent stores value under key unless one is already there, and
	// returns the value that is stored afterwards — the caller's or the
	// earlier one.
	PutIfAbsent(ctx context.Context, key, value string) (stored string, err error)
}

// MemoryKeyStore is a KeyStore in process memory, for tests and single runs.
type MemoryKeyStore struct {
	mu     sync.Mutex
	values map[string]string
}

// NewMemoryKeyStore returns an empty in-memory KeyStore.
func NewMemoryKeyStore() *MemoryKeyStore {
	return &MemoryKeyStore{values: map[string]string{}}
}

// Get returns the value under key and whether there is one.
func (m *MemoryKeyStore) Get(_ context.Context, key string) (string, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	v, ok := m.values[key]
	return v, ok, nil
}

// PutIfAbsent stores value under key unless one is there, and returns the
// stored value.
func (m *MemoryKeyStore) PutIfAbsent(_ context.Context, key, value string) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if v, ok := m.values[key]; ok {
		return v, nil
	}
	m.values[key] = value
	return value, nil
}

// Option adjusts LoadOrCreateKeys.
type Option func(*loadOptions)

type loadOptions struct {
	getenv func(string) string
}

// FromEnv makes a pair given in VAPID_PUBLIC_KEY and VAPID_PRIVATE_KEY, read
// through getenv (os.Getenv in production), take precedence over the stored
// one. Setting only one of the two is an error.
func FromEnv(getenv func(string) string) Option {
	return func(o *loadOptions) { o.getenv = getenv }
}

// LoadOrCreateKeys returns the VAPID credentials for subject: the pair from
// the environment when FromEnv is given and it is set, otherwise the pair kept
// in kv, generating and keeping one on first start. Nodes starting at once
// agree on a single pair because the pair is stored as one value with
// PutIfAbsent.
func LoadOrCreateKeys(ctx context.Context, kv KeyStore, subject string, opts ...Option) (VAPID, error) {
	var o loadOptions
	for _, opt := range opts {
		opt(&o)
	}
	sub, err := NormalizeSubject(subject)
	if err != nil {
		return VAPID{}, err
	}
	if o.getenv != nil {
		pub, priv := strings.TrimSpace(o.getenv(EnvPublicKey)), strings.TrimSpace(o.getenv(EnvPrivateKey))
		switch {
		case pub != "" && priv != "":
			k := Keys{Public: pub, Private: priv}
			if err := k.Validate(); err != nil {
				return VAPID{}, fmt.Errorf("webpush: keys from %s/%s: %w", EnvPublicKey, EnvPrivateKey, err)
			}
			return VAPID{Keys: k.normalized(), Subject: sub}, nil
		case pub != "" || priv != "":
			return VAPID{}, fmt.Errorf("%w: set both %s and %s, or neither", ErrInvalidKeys, EnvPublicKey, EnvPrivateKey)
		}
	}
	if kv == nil {
		return VAPID{}, errors.New("webpush: load VAPID keys: no key store")
	}
	stored, ok, err := kv.Get(ctx, SettingKey)
	if err != nil {
		return VAPID{}, fmt.Errorf("webpush: load VAPID keys: %w", err)
	}
	if !ok {
		fresh, err := GenerateKeys()
		if err != nil {
			return VAPID{}, err
		}
		encoded, err := json.Marshal(fresh)
		if err != nil {
			return VAPID{}, fmt.Errorf("webpush: encode VAPID keys: %w", err)
		}
		if stored, err = kv.PutIfAbsent(ctx, SettingKey, string(encoded)); err != nil {
			return VAPID{}, fmt.Errorf("webpush: keep VAPID keys: %w", err)
		}
	}
	var k Keys
	if err := json.Unmarshal([]byte(stored), &k); err != nil {
		return VAPID{}, fmt.Errorf("%w: stored value under %s: %w", ErrInvalidKeys, SettingKey, err)
	}
	if err := k.Validate(); err != nil {
		return VAPID{}, fmt.Errorf("webpush: stored keys under %s: %w", SettingKey, err)
	}
	return VAPID{Keys: k.normalized(), Subject: sub}, nil
}

// ErrInvalidSubject reports a VAPID subject that is neither a mailto: address
// nor an https: URL, as RFC 8292 requires.
var ErrInvalidSubject = errors.New("webpush: VAPID subject must be a mailto: address or an https: URL")

// NormalizeSubject checks a VAPID subject and returns it in canonical form;
// a bare email address gains "mailto:".
func NormalizeSubject(subject string) (string, error) {
	s := strings.TrimSpace(subject)
	switch {
	case strings.HasPrefix(s, "https://"):
		u, err := url.Parse(s)
		if err != nil || u.Host == "" {
			return "", fmt.Errorf("%w: %q", ErrInvalidSubject, subject)
		}
		return s, nil
	case strings.HasPrefix(s, "mailto:"):
		if _, err := mail.ParseAddress(strings.TrimPrefix(s, "mailto:")); err != nil {
			return "", fmt.Errorf("%w: %q", ErrInvalidSubject, subject)
		}
		return s, nil
	case s != "" && !strings.Contains(s, ":"):
		if _, err := mail.ParseAddress(s); err != nil {
			return "", fmt.Errorf("%w: %q", ErrInvalidSubject, subject)
		}
		return "mailto:" + s, nil
	}
	return "", fmt.Errorf("%w: %q", ErrInvalidSubject, subject)
}
