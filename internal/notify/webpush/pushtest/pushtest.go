// Package pushtest runs a Web Push service inside a test, on a real TLS
// socket, that checks every message as a push service and a browser
// together would: the VAPID JWT (RFC 8292) is verified against the
// application server key the subscription was made with, and the payload
// is decrypted (RFC 8291, aes128gcm) with the subscriber's private key,
// using only the standard library.
package pushtest

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// Subscription is a subscription as the application stores it: the
// endpoint and the browser's keys, unpadded base64url.
type Subscription struct {
	Endpoint string
	P256dh   string
	Auth     string
}

// Browser is the receiving side of a subscription, as a browser creates it:
// a P-256 key pair and a 16-byte auth secret.
type Browser struct {
	priv *ecdh.PrivateKey
	auth []byte
}

// NewBrowser makes a browser with fresh keys.
func NewBrowser(t testing.TB) *Browser {
	t.Helper()
	priv, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	auth := make([]byte, 16)
	if _, err := rand.Read(auth); err != nil {
		t.Fatal(err)
	}
	return &Browser{priv: priv, auth: auth}
}

// Keys returns the browser's public key (p256dh) and auth secret as a
// PushSubscription's toJSON gives them.
func (b *Browser) Keys() (p256dh, auth string) {
	return base64.RawURLEncoding.EncodeToString(b.priv.PublicKey().Bytes()), base64.RawURLEncoding.EncodeToString(b.auth)
}

// Decrypt opens an aes128gcm push body (RFC 8291 over RFC 8188) with the
// browser's private key and auth secret.
func (b *Browser) Decrypt(body []byte) ([]byte, error) {
	const headerLen = 16 + 4 + 1
	if len(body) < headerLen {
		return nil, errors.New("body shorter than the aes128gcm header")
	}
	salt := body[:16]
	rs := binary.BigEndian.Uint32(body[16:20])
	idLen := int(body[20])
	if rs < 18 {
		return nil, fmt.Errorf("record size %d below 18", rs)
	}
	if idLen != 65 || len(body) < headerLen+idLen {
		return nil, fmt.Errorf("keyid is %d bytes, want the sender's 65-byte public key", idLen)
	}
	asPublicBytes := body[headerLen : headerLen+idLen]
	record := body[headerLen+idLen:]
	if len(record) > int(rs) {
		return nil, fmt.Errorf("%d bytes of ciphertext in more than one %d-byte record; web push allows one", len(record), rs)
	}
	asPublic, err := ecdh.P256().NewPublicKey(asPublicBytes)
	if err != nil {
		return nil, fmt.Errorf("sender public key: %w", err)
	}
	ecdhSecret, err := b.priv.ECDH(asPublic)
	if err != nil {
		return nil, fmt.Errorf("ecdh: %w", err)
	}
	keyInfo := "WebPush: info\x00" + string(b.priv.PublicKey().Bytes()) + string(asPublicBytes)
	ikm, err := hkdf.Key(sha256.New, ecdhSecret, b.auth, keyInfo, 32)
	if err != nil {
		return nil, err
	}
	cek, err := hkdf.Key(sha256.New, ikm, salt, "Content-Encoding: aes128gcm\x00", 16)
	if err != nil {
		return nil, err
	}
	nonce, err := hkdf.Key(sha256.New, ikm, salt, "Content-Encoding: nonce\x00", 12)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(cek)
	if err != nil {
		return nil, err
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	plain, err := gcm.Open(nil, nonce, record, nil)
	if err != nil {
		return nil, fmt.Errorf("aes-gcm: %w", err)
	}
	// Padding is zeros after a 0x02 delimiter, which marks the last record.
	end := bytes.LastIndexFunc(plain, func(r rune) bool { return r != 0 })
	if end < 0 || plain[end] != 0x02 {
		return nil, errors.New("no final-record padding delimiter 0x02")
	}
	return plain[:end], nil
}

// Claims are the JWT claims RFC 8292 requires.
type Claims struct {
	Aud string `json:"aud"`
	Exp int64  `json:"exp"`
	Sub string `json:"sub"`
}

// VerifyVAPID checks an Authorization header as a push service does: the
// scheme is "vapid t=<JWT>, k=<key>", k is the key the subscription was made
// with, the ES256 signature verifies against k, aud is the push service's
// origin, exp lies in the next 24 hours, and sub is the expected contact.
func VerifyVAPID(header, wantKey, wantAud, wantSub string, now time.Time) (Claims, error) {
	var claims Claims
	rest, ok := strings.CutPrefix(header, "vapid ")
	if !ok {
		return claims, fmt.Errorf("authorization scheme is not vapid: %q", header)
	}
	var token, key string
	for _, part := range strings.Split(rest, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "t":
			token = v
		case "k":
			key = v
		}
	}
	if token == "" || key == "" {
		return claims, fmt.Errorf("authorization lacks t or k: %q", header)
	}
	keyBytes, err := base64.RawURLEncoding.DecodeString(key)
	if err != nil {
		return claims, fmt.Errorf("k is not unpadded base64url: %w", err)
	}
	wantKeyBytes, _ := base64.RawURLEncoding.DecodeString(wantKey)
	if !bytes.Equal(keyBytes, wantKeyBytes) {
		return claims, errors.New("k is not the applicationServerKey the subscription was made with")
	}
	pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), keyBytes)
	if err != nil {
		return claims, fmt.Errorf("k: %w", err)
	}
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return claims, fmt.Errorf("JWT has %d parts", len(parts))
	}
	var head struct {
		Alg string `json:"alg"`
	}
	if err := decodeJWTPart(parts[0], &head); err != nil {
		return claims, fmt.Errorf("JWT header: %w", err)
	}
	if head.Alg != "ES256" {
		return claims, fmt.Errorf("JWT alg %q, want ES256", head.Alg)
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil || len(sig) != 64 {
		return claims, fmt.Errorf("JWT signature is not 64 bytes of r||s (%d, %v)", len(sig), err)
	}
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	r, s := new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])
	if !ecdsa.Verify(pub, digest[:], r, s) {
		return claims, errors.New("JWT signature does not verify against k")
	}
	if err := decodeJWTPart(parts[1], &claims); err != nil {
		return claims, fmt.Errorf("JWT claims: %w", err)
	}
	if claims.Aud != wantAud {
		return claims, fmt.Errorf("aud %q, want %q", claims.Aud, wantAud)
	}
	exp := time.Unix(claims.Exp, 0)
	if !exp.After(now) || exp.After(now.Add(24*time.Hour)) {
		return claims, fmt.Errorf("exp %s is not within 24h after %s", exp, now)
	}
	if claims.Sub != wantSub {
		return claims, fmt.Errorf("sub %q, want %q", claims.Sub, wantSub)
	}
	return claims, nil
}

func decodeJWTPart(part string, v any) error {
	b, err := base64.RawURLEncoding.DecodeString(part)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

// Delivery is one request the push service accepted as well formed.
type Delivery struct {
	Header  http.Header
	Claims  Claims
	Body    []byte // as sent, encrypted
	Payload []byte // decrypted
}

// Service is a Web Push service on a real TLS socket. It validates every
// request completely — VAPID and decryption with the subscriber's key —
// before answering with the status its respond function chooses. A request
// it cannot accept (bad VAPID, undecryptable body, unknown endpoint) fails
// the test as well as being refused.
type Service struct {
	t        testing.TB
	srv      *httptest.Server
	vapidKey string
	subject  string
	respond  func(w http.ResponseWriter, r *http.Request)

	mu        sync.Mutex
	browsers  map[string]*Browser
	gone      map[string]bool
	requests  int
	delivered chan Delivery
}

// NewService starts a push service expecting messages signed with the
// VAPID public key vapidKey for subject; respond nil answers 201 Created.
// It stops when t ends.
func NewService(t testing.TB, vapidKey, subject string, respond func(w http.ResponseWriter, r *http.Request)) *Service {
	t.Helper()
	if respond == nil {
		respond = func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusCreated) }
	}
	p := &Service{
		t:         t,
		vapidKey:  vapidKey,
		subject:   subject,
		respond:   respond,
		browsers:  map[string]*Browser{},
		gone:      map[string]bool{},
		delivered: make(chan Delivery, 64),
	}
	p.srv = httptest.NewUnstartedServer(http.HandlerFunc(p.serve))
	// Handshakes refused on purpose would otherwise print to stderr; the
	// handler reports what matters through t.Errorf.
	p.srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	p.srv.StartTLS()
	t.Cleanup(p.srv.Close)
	return p
}

// Subscribe registers a new browser and returns its subscription as the
// application would store it.
func (p *Service) Subscribe() (Subscription, *Browser) {
	b := NewBrowser(p.t)
	id := make([]byte, 12)
	_, _ = rand.Read(id)
	path := "/wpush/v2/" + hex.EncodeToString(id)
	p.mu.Lock()
	p.browsers[path] = b
	p.mu.Unlock()
	p256dh, auth := b.Keys()
	return Subscription{Endpoint: p.srv.URL + path, P256dh: p256dh, Auth: auth}, b
}

// Unsubscribe ends a subscription as a browser does when the user revokes
// permission: from then on the service answers its messages 410 Gone.
func (p *Service) Unsubscribe(endpoint string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.gone[strings.TrimPrefix(endpoint, p.srv.URL)] = true
}

// Certificate is the service's self-signed TLS certificate, for clients
// that trust it from a file (SSL_CERT_FILE) or a pool of their own.
func (p *Service) Certificate() *x509.Certificate { return p.srv.Certificate() }

// CertificatePEM is Certificate PEM-encoded.
func (p *Service) CertificatePEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: p.srv.Certificate().Raw})
}

// Client is an HTTP client that trusts the service's certificate.
func (p *Service) Client() *http.Client { return p.srv.Client() }

// RequestCount is how many requests reached the service, valid or not.
func (p *Service) RequestCount() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.requests
}

// Next waits for the next well-formed request to a live subscription,
// failing the test after 10 seconds without one.
func (p *Service) Next() Delivery {
	p.t.Helper()
	select {
	case d := <-p.delivered:
		return d
	case <-time.After(10 * time.Second):
		p.t.Fatal("push service received no valid message")
		return Delivery{}
	}
}

func (p *Service) serve(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	p.requests++
	b := p.browsers[r.URL.Path]
	gone := p.gone[r.URL.Path]
	p.mu.Unlock()
	fail := func(status int, format string, args ...any) {
		msg := fmt.Sprintf(format, args...)
		p.t.Errorf("push service: %s", msg)
		http.Error(w, msg, status)
	}
	if r.Method != http.MethodPost {
		fail(http.StatusMethodNotAllowed, "method %s", r.Method)
		return
	}
	if b == nil {
		fail(http.StatusNotFound, "unknown subscription %s", r.URL.Path)
		return
	}
	claims, err := VerifyVAPID(r.Header.Get("Authorization"), p.vapidKey, p.srv.URL, p.subject, time.Now())
	if err != nil {
		fail(http.StatusUnauthorized, "vapid: %v", err)
		return
	}
	if gone {
		http.Error(w, "push subscription has unsubscribed or expired", http.StatusGone)
		return
	}
	if ce := r.Header.Get("Content-Encoding"); ce != "aes128gcm" {
		fail(http.StatusUnsupportedMediaType, "Content-Encoding %q", ce)
		return
	}
	if r.Header.Get("TTL") == "" {
		fail(http.StatusBadRequest, "no TTL header")
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 8192))
	if err != nil {
		fail(http.StatusBadRequest, "read body: %v", err)
		return
	}
	if len(body) > 4096 {
		fail(http.StatusRequestEntityTooLarge, "body of %d bytes exceeds 4096", len(body))
		return
	}
	plain, err := b.Decrypt(body)
	if err != nil {
		fail(http.StatusBadRequest, "decrypt: %v", err)
		return
	}
	p.delivered <- Delivery{Header: r.Header.Clone(), Claims: claims, Body: body, Payload: plain}
	p.respond(w, r)
}
