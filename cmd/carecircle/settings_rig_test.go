package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	netmail "net/mail"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/carecircle/carecircle/internal/care"
	"github.com/carecircle/carecircle/internal/mail"
	"github.com/carecircle/carecircle/internal/store"
)

// What the settings test runs the binary against: a certificate authority
// the binary trusts through SSL_CERT_FILE, and the services CareCircle
// talks to (an SMTP server with TLS and AUTH, a proxy standing in for
// Brevo's API, an S3 service checking signatures, a push service), each
// recording what reached it.

// settingsApp is one running binary of a settings row.
type settingsApp struct {
	t       *testing.T
	p       *process
	base    string // http://127.0.0.1:PORT
	prefix  string // the REST API's path prefix
	dataDir string
}

// startApp runs the binary with env, filling in a DATA_DIR and a PORT of
// the test's own when env has none, and waits until it is ready.
func startApp(t *testing.T, env map[string]string, args ...string) *settingsApp {
	t.Helper()
	if env["DATA_DIR"] == "" {
		env["DATA_DIR"] = t.TempDir()
	}
	if env["PORT"] == "" {
		env["PORT"] = strconv.Itoa(freePort(t))
	}
	prefix := env["API_PREFIX"]
	if prefix == "" {
		prefix = "/api/v1"
	}
	a := &settingsApp{t: t, p: startProcess(t, env, args...), base: "http://127.0.0.1:" + env["PORT"], prefix: prefix, dataDir: env["DATA_DIR"]}
	waitHealthy(t, a.base, "/health/ready")
	return a
}

// logText is everything the process has written so far.
func (a *settingsApp) logText() string {
	b, err := os.ReadFile(a.p.log.Name())
	if err != nil {
		a.t.Fatal(err)
	}
	return string(b)
}

// request sends one request and returns the answer's status, header and body.
func (a *settingsApp) request(method, url, token string, body any, header http.Header) (int, http.Header, []byte) {
	a.t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			a.t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		a.t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, res.Header, b
}

// api calls the REST API under the prefix and fails the test unless it
// answers want; it returns the decoded JSON object, if any.
func (a *settingsApp) api(method, path, token string, body any, want int) map[string]any {
	a.t.Helper()
	code, _, b := a.request(method, a.base+a.prefix+path, token, body, nil)
	if code != want {
		a.t.Fatalf("%s %s%s = %d, want %d: %s", method, a.prefix, path, code, want, b)
	}
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	return m
}

// health returns GET /health, decoded.
func (a *settingsApp) health() map[string]any {
	a.t.Helper()
	_, _, b := a.request("GET", a.base+"/health", "", nil, nil)
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		a.t.Fatalf("/health: %v: %s", err, b)
	}
	return m
}

// jpath walks a decoded JSON value by object keys.
func jpath(v any, keys ...string) any {
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

// eventually polls cond every 50 ms until it holds, failing after limit.
func eventually(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, limit)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

var otpRE = regexp.MustCompile(`\b(\d{6})\b`)

// signUp registers a user through the API, reads the code from the mail
// code returns for the address, verifies it, and returns the access token.
func (a *settingsApp) signUp(email string, code func(email string) string) string {
	a.t.Helper()
	a.api("POST", "/auth/register", "", map[string]any{"fullName": "Ann Lee", "email": email, "password": "Correct-horse-42"}, 201)
	v := a.api("POST", "/auth/verify-email", "", map[string]any{"email": email, "otp": code(email)}, 200)
	return v["accessToken"].(string)
}

// outboxCode reads the newest verification code to email in DATA_DIR/outbox.
func (a *settingsApp) outboxCode(email string) string {
	a.t.Helper()
	msg := a.outboxMail(email)
	m := otpRE.FindStringSubmatch(msg.Text)
	if m == nil {
		a.t.Fatalf("no code in %q", msg.Text)
	}
	return m[1]
}

// outboxMail is the newest message to email in DATA_DIR/outbox.
func (a *settingsApp) outboxMail(email string) mail.Received {
	a.t.Helper()
	msgs, err := mail.ReadOutbox(filepath.Join(a.dataDir, "outbox"))
	if err != nil {
		a.t.Fatal(err)
	}
	for i := len(msgs) - 1; i >= 0; i-- {
		if strings.EqualFold(msgs[i].To, email) {
			return msgs[i]
		}
	}
	a.t.Fatalf("no mail to %s in the outbox", email)
	return mail.Received{}
}

// jwtClaims decodes a token's claims without checking it.
func jwtClaims(t *testing.T, token string) map[string]any {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", token)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// jwtSignedWith reports whether token's HS256 signature is secret's.
func jwtSignedWith(token, secret string) bool {
	i := strings.LastIndex(token, ".")
	if i < 0 {
		return false
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(token[:i]))
	sig, err := base64.RawURLEncoding.DecodeString(token[i+1:])
	return err == nil && hmac.Equal(sig, mac.Sum(nil))
}

// seedDose creates, directly in the database, a user who is admin of a
// family whose care recipient (in UTC) takes a daily medication at the
// whole minute at, and returns the user's and the medication's IDs.
func seedDose(t *testing.T, st *store.Store, at time.Time) (userID, medID string) {
	t.Helper()
	ctx := context.Background()
	u, err := st.CreateUser(ctx, store.NewUser{Email: "dose@example.com", PasswordHash: "x", FullName: "Dee", Timezone: "UTC", Status: care.UserPending})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.ActivateUser(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	fam, _, err := st.CreateFamily(ctx, "Dose family", u.ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	cr, err := st.CreateCareRecipient(ctx, care.CareRecipient{FamilyID: fam.ID, FullName: "Pat", Timezone: "UTC"})
	if err != nil {
		t.Fatal(err)
	}
	at = at.UTC()
	med, err := st.CreateMedication(ctx, care.Medication{CareRecipientID: cr.ID, Name: "Metformin", Dosage: "500 mg",
		Form: care.FormTablet, Frequency: care.FrequencyDaily, ScheduledTimes: []string{at.Format("15:04")}, IsActive: true})
	if err != nil {
		t.Fatal(err)
	}
	return u.ID, med.ID
}

// testCA is a certificate authority of one test. The binary trusts it
// through SSL_CERT_FILE, which Go reads for its system roots.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	file string
	pool *x509.CertPool
}

func newTestCA(t *testing.T) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "CareCircle settings test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	file := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(file, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &testCA{cert: cert, key: key, file: file, pool: pool}
}

// leaf issues a server certificate for hosts (names or IP addresses).
func (ca *testCA) leaf(t *testing.T, hosts ...string) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{
		SerialNumber: serial, Subject: pkix.Name{CommonName: hosts[0]},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// writePEM writes a leaf's certificate and key to files, for servers that
// read them (redis-server).
func writePEM(t *testing.T, c tls.Certificate) (certFile, keyFile string) {
	t.Helper()
	dir := t.TempDir()
	keyDER, err := x509.MarshalPKCS8PrivateKey(c.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Certificate[0]}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}

// smtpReceived is one message the authenticating SMTP server accepted.
type smtpReceived struct {
	User string // who authenticated
	TLS  bool   // whether the session ran over TLS
	From string // the From header
	To   []string
	Text string
}

// startSMTPS runs an SMTP server with implicit TLS (SMTPS) that accepts
// mail only after AUTH PLAIN as user with password.
func startSMTPS(t *testing.T, ca *testCA, user, password string) (port int, got <-chan smtpReceived) {
	t.Helper()
	ch := make(chan smtpReceived, 16)
	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		_, isTLS := c.TLSConnectionState()
		return &smtpsSession{user: user, password: password, tls: isTLS, got: ch}, nil
	}))
	srv.Domain = "smtps.carecircle.test"
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	tl := tls.NewListener(l, &tls.Config{Certificates: []tls.Certificate{ca.leaf(t, "127.0.0.1")}})
	done := make(chan struct{})
	go func() { defer close(done); _ = srv.Serve(tl) }()
	t.Cleanup(func() { srv.Close(); <-done })
	return l.Addr().(*net.TCPAddr).Port, ch
}

type smtpsSession struct {
	user, password string
	tls            bool
	authed         string
	to             []string
	got            chan<- smtpReceived
}

func (s *smtpsSession) AuthMechanisms() []string { return []string{sasl.Plain} }
func (s *smtpsSession) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, password string) error {
		if user != s.user || password != s.password {
			return errors.New("invalid credentials")
		}
		s.authed = user
		return nil
	}), nil
}
func (s *smtpsSession) Mail(string, *smtp.MailOptions) error {
	if s.authed == "" {
		return smtp.ErrAuthRequired
	}
	return nil
}
func (s *smtpsSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.to = append(s.to, to)
	return nil
}
func (s *smtpsSession) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	hdr, err := netmail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return err
	}
	msg, err := mail.ReadEML(bytes.NewReader(raw))
	if err != nil {
		return err
	}
	s.got <- smtpReceived{User: s.authed, TLS: s.tls, From: hdr.Header.Get("From"), To: s.to, Text: msg.Text}
	return nil
}
func (s *smtpsSession) Reset()        { s.to = nil }
func (s *smtpsSession) Logout() error { return nil }

// proxied is one request that went through the intercepting proxy.
type proxied struct {
	Host   string // the CONNECT target
	Method string
	Path   string
	Header http.Header
	Body   []byte
}

// startInterceptingProxy runs an HTTPS proxy (for HTTPS_PROXY) that ends
// every tunnel itself, with a certificate of ca for the host asked for, and
// answers each request inside with status and body.
func startInterceptingProxy(t *testing.T, ca *testCA, status int, body string) (proxyURL string, got <-chan proxied) {
	t.Helper()
	ch := make(chan proxied, 16)
	var mu sync.Mutex
	certs := map[string]*tls.Certificate{}
	certFor := func(host string) *tls.Certificate {
		mu.Lock()
		defer mu.Unlock()
		if c, ok := certs[host]; ok {
			return c
		}
		c := ca.leaf(t, host)
		certs[host] = &c
		return &c
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodConnect {
			http.Error(w, "only CONNECT", http.StatusMethodNotAllowed)
			return
		}
		host, _, _ := net.SplitHostPort(r.Host)
		conn, _, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		defer conn.Close()
		_, _ = io.WriteString(conn, "HTTP/1.1 200 Connection established\r\n\r\n")
		tc := tls.Server(conn, &tls.Config{Certificates: []tls.Certificate{*certFor(host)}, NextProtos: []string{"http/1.1"}})
		br := bufio.NewReader(tc)
		for {
			req, err := http.ReadRequest(br)
			if err != nil {
				return
			}
			b, _ := io.ReadAll(req.Body)
			ch <- proxied{Host: r.Host, Method: req.Method, Path: req.URL.Path, Header: req.Header, Body: b}
			res := &http.Response{StatusCode: status, ProtoMajor: 1, ProtoMinor: 1, ContentLength: int64(len(body)),
				Header: http.Header{"Content-Type": {"application/json"}}, Body: io.NopCloser(strings.NewReader(body))}
			if err := res.Write(tc); err != nil {
				return
			}
		}
	}))
	t.Cleanup(srv.Close)
	return srv.URL, ch
}

// s3Request is one request the fake S3 service received.
type s3Request struct {
	Method, Path, Authorization string
	SignatureOK                 bool // signed (AWS SigV4) with the expected secret key
}

// startFakeS3 runs an S3-compatible service, path-style, holding only
// bucket, whose requests must be signed with secret; it records each.
func startFakeS3(t *testing.T, bucket, secret string) (endpoint string, requests func() []s3Request) {
	t.Helper()
	var mu sync.Mutex
	var reqs []s3Request
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ok := sigV4Valid(r, secret)
		mu.Lock()
		reqs = append(reqs, s3Request{Method: r.Method, Path: r.URL.Path, Authorization: r.Header.Get("Authorization"), SignatureOK: ok})
		mu.Unlock()
		w.Header().Set("Content-Type", "application/xml")
		switch {
		case !ok:
			w.WriteHeader(http.StatusForbidden)
			_, _ = io.WriteString(w, `<Error><Code>SignatureDoesNotMatch</Code></Error>`)
		case strings.Trim(r.URL.Path, "/") != bucket:
			w.WriteHeader(http.StatusNotFound)
			_, _ = io.WriteString(w, `<Error><Code>NoSuchBucket</Code></Error>`)
		case r.URL.Query().Has("location"):
			_, _ = io.WriteString(w, `<LocationConstraint></LocationConstraint>`)
		default:
			w.WriteHeader(http.StatusOK)
		}
	}))
	t.Cleanup(srv.Close)
	return srv.URL, func() []s3Request {
		mu.Lock()
		defer mu.Unlock()
		return append([]s3Request(nil), reqs...)
	}
}

var sigV4RE = regexp.MustCompile(`^AWS4-HMAC-SHA256 Credential=([^,]+), ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]+)$`)

// sigV4Valid checks an AWS Signature Version 4 Authorization header against
// secret, as S3 does.
func sigV4Valid(r *http.Request, secret string) bool {
	m := sigV4RE.FindStringSubmatch(r.Header.Get("Authorization"))
	if m == nil {
		return false
	}
	cred := strings.SplitN(m[1], "/", 2) // access key, scope
	if len(cred) != 2 {
		return false
	}
	scope := strings.Split(cred[1], "/") // date, region, service, aws4_request
	if len(scope) != 4 {
		return false
	}
	q := r.URL.Query()
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	enc := func(s string) string { return strings.ReplaceAll(url.QueryEscape(s), "+", "%20") }
	var query []string
	for _, k := range keys {
		for _, v := range q[k] {
			query = append(query, enc(k)+"="+enc(v))
		}
	}
	var headers strings.Builder
	for _, h := range strings.Split(m[2], ";") {
		v := r.Header.Get(h)
		if h == "host" {
			v = r.Host
		}
		headers.WriteString(h + ":" + strings.TrimSpace(v) + "\n")
	}
	canonical := strings.Join([]string{r.Method, r.URL.EscapedPath(), strings.Join(query, "&"), headers.String(), m[2],
		r.Header.Get("X-Amz-Content-Sha256")}, "\n")
	sum := sha256.Sum256([]byte(canonical))
	toSign := "AWS4-HMAC-SHA256\n" + r.Header.Get("X-Amz-Date") + "\n" + cred[1] + "\n" + hex.EncodeToString(sum[:])
	mac := func(key []byte, s string) []byte {
		h := hmac.New(sha256.New, key)
		h.Write([]byte(s))
		return h.Sum(nil)
	}
	k := mac([]byte("AWS4"+secret), scope[0])
	for _, s := range scope[1:] {
		k = mac(k, s)
	}
	return hmac.Equal([]byte(hex.EncodeToString(mac(k, toSign))), []byte(m[3]))
}

// receive waits for one value from ch.
func receive[T any](t *testing.T, ch <-chan T, limit time.Duration, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(limit):
		t.Fatalf("%s: nothing within %v", what, limit)
	}
	var zero T
	return zero
}

// tlsClient is a TLS client configuration trusting only ca.
func (ca *testCA) tlsClient(serverName string) *tls.Config {
	return &tls.Config{RootCAs: ca.pool, ServerName: serverName, MinVersion: tls.VersionTLS12}
}

// newRedisTLS is a redis-server command that speaks only TLS on port and
// requires password.
func newRedisTLS(port int, certFile, keyFile, caFile, password string) *exec.Cmd {
	return exec.Command("redis-server", "--port", "0", "--tls-port", strconv.Itoa(port), "--bind", "127.0.0.1",
		"--tls-cert-file", certFile, "--tls-key-file", keyFile, "--tls-ca-cert-file", caFile, "--tls-auth-clients", "no",
		"--requirepass", password, "--save", "", "--appendonly", "no")
}
