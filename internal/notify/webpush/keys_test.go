package webpush

import (
	"context"
	"encoding/base64"
	"errors"
	"strings"
	"sync"
	"testing"

	webpushgo "github.com/SherClockHolmes/webpush-go"
)

func env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

func TestGenerateKeysMakesAUsablePair(t *testing.T) {
	t.Parallel()
	a, err := GenerateKeys()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := GenerateKeys()
	if a == b {
		t.Fatal("two generated pairs are equal")
	}
	pub, err := base64.RawURLEncoding.DecodeString(a.Public)
	if err != nil || len(pub) != 65 || pub[0] != 0x04 {
		t.Errorf("public key is not an unpadded base64url uncompressed point: %q", a.Public)
	}
	priv, err := base64.RawURLEncoding.DecodeString(a.Private)
	if err != nil || len(priv) != 32 {
		t.Errorf("private key is not 32 bytes of unpadded base64url: %d, %v", len(priv), err)
	}
	if err := a.Validate(); err != nil {
		t.Errorf("Validate: %v", err)
	}
	if err := (Keys{Public: b.Public, Private: a.Private}).Validate(); !errors.Is(err, ErrInvalidKeys) {
		t.Errorf("halves of two pairs validate: %v", err)
	}
}

func TestLoadOrCreateKeysGeneratesOnceAndKeeps(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := NewMemoryKeyStore()
	first, err := LoadOrCreateKeys(ctx, store, testSubject)
	if err != nil {
		t.Fatal(err)
	}
	if err := first.Keys.Validate(); err != nil {
		t.Fatal(err)
	}
	if first.Subject != testSubject {
		t.Errorf("subject = %q", first.Subject)
	}
	if _, ok, _ := store.Get(ctx, SettingKey); !ok {
		t.Fatalf("nothing kept under %s", SettingKey)
	}
	// A restart, with FromEnv but nothing set, reads the same pair back.
	again, err := LoadOrCreateKeys(ctx, store, testSubject, FromEnv(env(nil)))
	if err != nil {
		t.Fatal(err)
	}
	if again.Keys != first.Keys {
		t.Fatalf("restart got another pair: %+v vs %+v", again.Keys, first.Keys)
	}
}

// racingStore makes every caller's Get miss until all n have asked, so they
// all generate a pair and race on PutIfAbsent as nodes starting at once do.
type racingStore struct {
	*MemoryKeyStore
	arrived sync.WaitGroup
}

func (r *racingStore) Get(ctx context.Context, key string) (string, bool, error) {
	r.arrived.Done()
	r.arrived.Wait()
	return "", false, nil
}

func TestLoadOrCreateKeysConcurrentFirstStartsAgree(t *testing.T) {
	t.Parallel()
	const nodes = 16
	store := &racingStore{MemoryKeyStore: NewMemoryKeyStore()}
	store.arrived.Add(nodes)
	results := make([]VAPID, nodes)
	errs := make([]error, nodes)
	var wg sync.WaitGroup
	for i := range nodes {
		wg.Go(func() {
			results[i], errs[i] = LoadOrCreateKeys(context.Background(), store, testSubject)
		})
	}
	wg.Wait()
	for i := range nodes {
		if errs[i] != nil {
			t.Fatalf("node %d: %v", i, errs[i])
		}
		if results[i].Keys != results[0].Keys {
			t.Fatalf("node %d uses %+v, node 0 %+v", i, results[i].Keys, results[0].Keys)
		}
	}
	kept, _, _ := store.MemoryKeyStore.Get(context.Background(), SettingKey)
	if !strings.Contains(kept, results[0].Keys.Public) {
		t.Errorf("the agreed pair is not the kept one: %s", kept)
	}
}

func TestLoadOrCreateKeysPrefersEnvironment(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := NewMemoryKeyStore()
	stored, err := LoadOrCreateKeys(ctx, store, testSubject)
	if err != nil {
		t.Fatal(err)
	}
	// The format `web-push generate-vapid-keys` and webpush-go print.
	priv, pub, err := webpushgo.GenerateVAPIDKeys()
	if err != nil {
		t.Fatal(err)
	}
	got, err := LoadOrCreateKeys(ctx, store, testSubject, FromEnv(env(map[string]string{
		EnvPublicKey: pub, EnvPrivateKey: priv,
	})))
	if err != nil {
		t.Fatal(err)
	}
	if got.Keys != (Keys{Public: pub, Private: priv}) {
		t.Fatalf("got %+v, want the environment's pair", got.Keys)
	}
	again, _ := LoadOrCreateKeys(ctx, store, testSubject)
	if again.Keys != stored.Keys {
		t.Error("keys from the environment replaced the kept pair")
	}

	// Padded standard base64 is accepted and handed out canonical.
	std := func(s string) string {
		b, _ := base64.RawURLEncoding.DecodeString(s)
		return base64.StdEncoding.EncodeToString(b)
	}
	got, err = LoadOrCreateKeys(ctx, nil, testSubject, FromEnv(env(map[string]string{
		EnvPublicKey: std(pub), EnvPrivateKey: std(priv) + "\n",
	})))
	if err != nil {
		t.Fatal(err)
	}
	if got.Keys != (Keys{Public: pub, Private: priv}) {
		t.Fatalf("got %+v, want canonical %s / %s", got.Keys, pub, priv)
	}
}

func TestLoadOrCreateKeysRefusesBrokenKeys(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	a, _ := GenerateKeys()
	b, _ := GenerateKeys()
	tests := []struct {
		name string
		vars map[string]string
	}{
		{"public only", map[string]string{EnvPublicKey: a.Public}},
		{"private only", map[string]string{EnvPrivateKey: a.Private}},
		{"halves of two pairs", map[string]string{EnvPublicKey: b.Public, EnvPrivateKey: a.Private}},
		{"not base64", map[string]string{EnvPublicKey: "not*base64", EnvPrivateKey: a.Private}},
		{"private key too short", map[string]string{EnvPublicKey: a.Public, EnvPrivateKey: "AAAA"}},
	}
	for _, tc := range tests {
		store := NewMemoryKeyStore()
		if _, err := LoadOrCreateKeys(ctx, store, testSubject, FromEnv(env(tc.vars))); !errors.Is(err, ErrInvalidKeys) {
			t.Errorf("%s: err = %v, want ErrInvalidKeys", tc.name, err)
		}
		if _, ok, _ := store.Get(ctx, SettingKey); ok {
			t.Errorf("%s: a pair was generated despite the broken environment", tc.name)
		}
	}

	corrupt := NewMemoryKeyStore()
	_, _ = corrupt.PutIfAbsent(ctx, SettingKey, `{"publicKey":"`+b.Public+`","privateKey":"`+a.Private+`"}`)
	if _, err := LoadOrCreateKeys(ctx, corrupt, testSubject); !errors.Is(err, ErrInvalidKeys) {
		t.Errorf("mismatched stored pair: %v", err)
	}
	notJSON := NewMemoryKeyStore()
	_, _ = notJSON.PutIfAbsent(ctx, SettingKey, "garbage")
	if _, err := LoadOrCreateKeys(ctx, notJSON, testSubject); !errors.Is(err, ErrInvalidKeys) {
		t.Errorf("garbage stored: %v", err)
	}
}

type failingStore struct{ err error }

func (f failingStore) Get(context.Context, string) (string, bool, error) { return "", false, f.err }
func (f failingStore) PutIfAbsent(context.Context, string, string) (string, error) {
	return "", f.err
}

func TestLoadOrCreateKeysReportsStoreErrors(t *testing.T) {
	t.Parallel()
	boom := errors.New("database is locked")
	if _, err := LoadOrCreateKeys(context.Background(), failingStore{boom}, testSubject); !errors.Is(err, boom) {
		t.Errorf("err = %v, want it to wrap the store's error", err)
	}
}

func TestNormalizeSubject(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"mailto:ops@carecircle.example", "mailto:ops@carecircle.example", true},
		{" ops@carecircle.example ", "mailto:ops@carecircle.example", true},
		{"https://carecircle.example/contact", "https://carecircle.example/contact", true},
		{"", "", false},
		{"ops", "", false},
		{"http://carecircle.example", "", false},
		{"mailto:", "", false},
		{"https://", "", false},
	}
	for _, tc := range tests {
		got, err := NormalizeSubject(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("NormalizeSubject(%q) = %q, %v; want %q ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
		if !tc.ok && !errors.Is(err, ErrInvalidSubject) {
			t.Errorf("NormalizeSubject(%q) error %v is not ErrInvalidSubject", tc.in, err)
		}
		if _, err := LoadOrCreateKeys(context.Background(), NewMemoryKeyStore(), tc.in); (err == nil) != tc.ok {
			t.Errorf("LoadOrCreateKeys with subject %q: %v", tc.in, err)
		}
	}
}
