package webpush

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCheckEndpointRefusesPrivateHosts(t *testing.T) {
	for endpoint, want := range map[string]bool{
		"https://fcm.googleapis.com/fcm/send/abc":            true,
		"https://updates.push.services.mozilla.com/wpush/v2": true,
		"https://localhost/push":                             false,
		"https://127.0.0.1/push":                             false,
		"https://10.1.2.3/push":                              false,
		"https://192.168.0.10/push":                          false,
		"https://169.254.169.254/latest/meta-data":           false,
		"https://[::1]/push":                                 false,
		"https://[fd00::1]/push":                             false,
		"https://100.64.0.1/push":                            false,
		"https://metadata.google.internal/x":                 false,
		"https://8.8.8.8/push":                               true,
		"http://fcm.googleapis.com/fcm/send/abc":             false,
	} {
		err := CheckEndpoint(endpoint)
		if (err == nil) != want {
			t.Errorf("CheckEndpoint(%q) = %v, want allowed %v", endpoint, err, want)
		}
	}
}

func TestEndpointsAllowListedPrivateHostsOverHTTPSOnly(t *testing.T) {
	e, err := NewEndpoints([]string{"127.0.0.1:8443", " Push.Corp. ", "[::1]", "10.9.8.7"})
	if err != nil {
		t.Fatal(err)
	}
	for endpoint, want := range map[string]error{
		"https://127.0.0.1:8443/push/1":     nil,
		"https://127.0.0.1:9443/push/1":     ErrPrivateEndpoint, // another port of an allowed host:port
		"https://127.0.0.1/push/1":          ErrPrivateEndpoint,
		"http://127.0.0.1:8443/push/1":      ErrInsecureEndpoint,
		"https://push.corp/wpush/1":         nil,
		"https://PUSH.CORP.:4443/wpush/1":   nil, // a host without a port allows every port
		"https://[::1]:5000/push":           nil,
		"https://10.9.8.7/push":             nil,
		"https://10.9.8.6/push":             ErrPrivateEndpoint,
		"https://localhost:8443/push/1":     ErrPrivateEndpoint, // names are not addresses
		"https://updates.push.services.moz": nil,
	} {
		if err := e.Check(endpoint); !errors.Is(err, want) || (want == nil && err != nil) {
			t.Errorf("Check(%q) = %v, want %v", endpoint, err, want)
		}
	}
}

func TestParseAllowedHostRefusesWhatIsNotHostPort(t *testing.T) {
	for _, bad := range []string{"", "  ", "push.corp:0", "push.corp:x", "push.corp:70000", "https://push.corp", "push.corp/x", "a b", "::1:"} {
		if _, _, err := ParseAllowedHost(bad); err == nil {
			t.Errorf("ParseAllowedHost(%q) accepted it", bad)
		}
	}
	for entry, want := range map[string]string{"127.0.0.1": "127.0.0.1|", "[::1]:8443": "::1|8443", "::1": "::1|", "Relay.Example.:443": "relay.example|443"} {
		host, port, err := ParseAllowedHost(entry)
		if err != nil || host+"|"+port != want {
			t.Errorf("ParseAllowedHost(%q) = %q, %q, %v; want %s", entry, host, port, err, want)
		}
	}
}

func TestGuardedClientWillNotConnectToLoopback(t *testing.T) {
	reached := false
	srv := httptest.NewTLSServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { reached = true }))
	defer srv.Close()
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodPost, srv.URL, nil)
	_, err := GuardedClient().Do(req)
	if !errors.Is(err, ErrPrivateEndpoint) || reached {
		t.Fatalf("err = %v, reached %v; want ErrPrivateEndpoint and no request", err, reached)
	}
}

// TestClientReachesAllowedHostVerifyingItsCertificate: an allowed loopback
// push service is reached over TLS verified against the given roots; not
// without them, and never over plain http.
func TestClientReachesAllowedHostVerifyingItsCertificate(t *testing.T) {
	reached := 0
	handler := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { reached++; w.WriteHeader(http.StatusCreated) })
	srv := httptest.NewTLSServer(handler)
	defer srv.Close()
	plain := httptest.NewServer(handler)
	defer plain.Close()
	host := strings.TrimPrefix(srv.URL, "https://")
	e, err := NewEndpoints([]string{host, strings.TrimPrefix(plain.URL, "http://")})
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(srv.Certificate())
	post := func(c *http.Client, u string) (int, error) {
		req, _ := http.NewRequestWithContext(context.Background(), http.MethodPost, u, nil)
		res, err := c.Do(req)
		if err != nil {
			return 0, err
		}
		res.Body.Close()
		return res.StatusCode, nil
	}
	if code, err := post(e.Client(roots), srv.URL+"/push"); err != nil || code != http.StatusCreated {
		t.Fatalf("allowed host with its certificate trusted: %d, %v", code, err)
	}
	var unknown x509.UnknownAuthorityError
	if _, err := post(e.Client(nil), srv.URL+"/push"); !errors.As(err, &unknown) {
		t.Errorf("allowed host, certificate not trusted: err = %v, want an unknown authority", err)
	}
	if _, err := post(e.Client(roots), plain.URL+"/push"); !errors.Is(err, ErrInsecureEndpoint) {
		t.Errorf("allowed host over http: err = %v, want ErrInsecureEndpoint", err)
	}
	other, _ := NewEndpoints([]string{"127.0.0.2"})
	if _, err := post(other.Client(roots), srv.URL+"/push"); !errors.Is(err, ErrPrivateEndpoint) {
		t.Errorf("loopback host not listed: err = %v, want ErrPrivateEndpoint", err)
	}
	if reached != 1 {
		t.Errorf("the service was reached %d times, want once", reached)
	}
}

func TestTrustedRootsAddsTheCertificateFile(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {}))
	defer srv.Close()
	dir := t.TempDir()
	file := filepath.Join(dir, "push-ca.pem")
	if err := os.WriteFile(file, certPEM(srv.Certificate()), 0o600); err != nil {
		t.Fatal(err)
	}
	roots, err := TrustedRoots(file)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := srv.Certificate().Verify(x509.VerifyOptions{Roots: roots, DNSName: "127.0.0.1"}); err != nil {
		t.Errorf("certificate from SSL_CERT_FILE not trusted: %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "empty.pem"), []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{filepath.Join(dir, "empty.pem"), filepath.Join(dir, "missing.pem")} {
		if _, err := TrustedRoots(bad); err == nil {
			t.Errorf("TrustedRoots(%s) accepted it", bad)
		}
	}
}

// TestGuardedSenderDeliversToAllowedLoopbackService: a self-hosted push
// service on 127.0.0.1 gets a message it can verify and decrypt once its
// host is allowed, and the sender refuses it before connecting otherwise.
func TestGuardedSenderDeliversToAllowedLoopbackService(t *testing.T) {
	s := newSetup(t, nil)
	sub, _ := s.subscribe()
	u, err := url.Parse(sub.Endpoint)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(s.push.Certificate())
	e, err := NewEndpoints([]string{u.Host})
	if err != nil {
		t.Fatal(err)
	}
	sender, err := NewGuardedSender(s.vapid, e, roots, s.clock)
	if err != nil {
		t.Fatal(err)
	}
	msg := Message{Title: "Self-hosted", Body: "reached"}
	res, err := sender.Send(context.Background(), sub, msg, High)
	if err != nil || res.Outcome != Delivered {
		t.Fatalf("send to allowed loopback service: %+v, %v", res, err)
	}
	if got := string(s.push.Next().Payload); !strings.Contains(got, `"title":"Self-hosted"`) {
		t.Errorf("decrypted payload %s", got)
	}

	closed, err := NewGuardedSender(s.vapid, Endpoints{}, roots, s.clock)
	if err != nil {
		t.Fatal(err)
	}
	before := s.push.RequestCount()
	if _, err := closed.Send(context.Background(), sub, msg, High); !errors.Is(err, ErrPrivateEndpoint) {
		t.Errorf("send with no host allowed: %v, want ErrPrivateEndpoint", err)
	}
	if err := closed.CheckEndpoint(sub.Endpoint); !errors.Is(err, ErrPrivateEndpoint) {
		t.Errorf("CheckEndpoint = %v", err)
	}
	if s.push.RequestCount() != before {
		t.Error("a refused endpoint was contacted")
	}
}

func certPEM(c *x509.Certificate) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
}
