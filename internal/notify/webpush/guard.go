package webpush

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// ErrPrivateEndpoint reports a subscription endpoint that points into a
// private network: a browser's push service never lives there, and sending
// to it would let a user make the server reach internal hosts.
var ErrPrivateEndpoint = errors.New("webpush: endpoint is not a public address")

// ErrInsecureEndpoint reports a push request that is not https.
var ErrInsecureEndpoint = errors.New("webpush: endpoint is not https")

// PublicAddr reports whether ip may be a push service: not loopback,
// private, link-local, multicast or unspecified.
func PublicAddr(ip netip.Addr) bool {
	ip = ip.Unmap()
	return ip.IsValid() && !ip.IsLoopback() && !ip.IsPrivate() && !ip.IsLinkLocalUnicast() &&
		!ip.IsLinkLocalMulticast() && !ip.IsMulticast() && !ip.IsUnspecified() && !ip.IsInterfaceLocalMulticast() &&
		!netip.MustParsePrefix("100.64.0.0/10").Contains(ip) // carrier-grade NAT
}

// Endpoints is where the server sends pushes: https endpoints on public
// addresses, and on the hosts an operator trusts although they are private
// or loopback (PUSH_ALLOWED_HOSTS: a company's own push relay). The zero
// value allows public addresses only.
type Endpoints struct {
	// allowed holds "host" (any port) and "host:port" entries, host in
	// canonical form (lower case, no trailing dot, IPv6 unbracketed).
	allowed map[string]bool
}

// NewEndpoints allows, besides public addresses, the hosts listed, each
// "host" (any port) or "host:port" ("[::1]:8443" for IPv6 with a port).
func NewEndpoints(allowed []string) (Endpoints, error) {
	e := Endpoints{allowed: map[string]bool{}}
	for _, entry := range allowed {
		host, port, err := ParseAllowedHost(entry)
		if err != nil {
			return Endpoints{}, err
		}
		e.allowed[allowKey(host, port)] = true
	}
	return e, nil
}

// ParseAllowedHost reads one "host" or "host:port" entry of an allowlist,
// returning the host in canonical form and the port ("" for any port).
func ParseAllowedHost(entry string) (host, port string, err error) {
	entry = strings.TrimSpace(entry)
	host = entry
	if h, p, splitErr := net.SplitHostPort(entry); splitErr == nil {
		host, port = h, p
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return "", "", fmt.Errorf("webpush: allowed host %q: %q is not a port", entry, p)
		}
	} else if strings.HasPrefix(entry, "[") && strings.HasSuffix(entry, "]") {
		host = entry[1 : len(entry)-1]
	}
	host = canonicalHost(host)
	if host == "" || strings.ContainsAny(host, "/?#@[] ") {
		return "", "", fmt.Errorf("webpush: allowed host %q is not host[:port]", entry)
	}
	if strings.Contains(host, ":") {
		if _, err := netip.ParseAddr(host); err != nil {
			return "", "", fmt.Errorf("webpush: allowed host %q is not host[:port]", entry)
		}
	}
	return host, port, nil
}

func canonicalHost(host string) string {
	host = strings.TrimSuffix(strings.ToLower(strings.TrimSpace(host)), ".")
	if ip, err := netip.ParseAddr(host); err == nil {
		return ip.Unmap().String()
	}
	return host
}

func allowKey(host, port string) string {
	if port == "" {
		return host
	}
	return net.JoinHostPort(host, port)
}

// Allows reports whether host:port was listed as trusted.
func (e Endpoints) Allows(host, port string) bool {
	host = canonicalHost(host)
	return e.allowed[host] || (port != "" && e.allowed[allowKey(host, port)])
}

// Check refuses an endpoint that is not https, or whose host is an address
// (or a name such as localhost) that cannot be a public push service and
// is not allowed. Names are checked again at connection time by Client,
// after resolution.
func (e Endpoints) Check(endpoint string) error {
	u, err := url.Parse(endpoint)
	if err != nil {
		return fmt.Errorf("webpush: endpoint: %w", err)
	}
	if u.Scheme != "https" || u.Host == "" {
		return ErrInsecureEndpoint
	}
	port := u.Port()
	if port == "" {
		port = "443"
	}
	host := canonicalHost(u.Hostname())
	if e.Allows(host, port) {
		return nil
	}
	if host == "localhost" || strings.HasSuffix(host, ".localhost") || strings.HasSuffix(host, ".internal") || strings.HasSuffix(host, ".local") {
		return ErrPrivateEndpoint
	}
	if ip, err := netip.ParseAddr(host); err == nil && !PublicAddr(ip) {
		return ErrPrivateEndpoint
	}
	return nil
}

// CheckEndpoint is Check with no host allowed besides public ones.
func CheckEndpoint(endpoint string) error { return Endpoints{}.Check(endpoint) }

// Client is the HTTP client for sending pushes in production: https only,
// verified against roots (nil: the system's); it refuses to connect to
// non-public addresses whatever a name resolves to (so DNS cannot point a
// subscription at an internal host), except on the allowed hosts, and
// bounds each request.
func (e Endpoints) Client(roots *x509.CertPool) *http.Client {
	guarded := &net.Dialer{
		Timeout: 10 * time.Second,
		Control: func(_, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil || !PublicAddr(ap.Addr()) {
				return ErrPrivateEndpoint
			}
			return nil
		},
	}
	trusted := &net.Dialer{Timeout: 10 * time.Second}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.Proxy = nil
	// address is the endpoint's host:port before resolution, so an allowed
	// name is trusted whatever it resolves to, as the operator said.
	tr.DialContext = func(ctx context.Context, network, address string) (net.Conn, error) {
		if host, port, err := net.SplitHostPort(address); err == nil && e.Allows(host, port) {
			return trusted.DialContext(ctx, network, address)
		}
		return guarded.DialContext(ctx, network, address)
	}
	tr.TLSClientConfig = &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}
	// An emergency fans out to a handful of push services at once; keep
	// enough connections to each for the next fan-out to skip the TLS
	// handshakes (HTTP/2 services multiplex over one anyway).
	tr.MaxIdleConnsPerHost = 32
	return &http.Client{Transport: httpsOnly{tr}, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// GuardedClient is Client with no host allowed besides public ones and
// the system's roots.
func GuardedClient() *http.Client { return Endpoints{}.Client(nil) }

// httpsOnly refuses plain-http requests: a push message travels encrypted
// to the push service whether or not it is a trusted host.
type httpsOnly struct{ next http.RoundTripper }

func (h httpsOnly) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.URL.Scheme != "https" {
		if r.Body != nil {
			_ = r.Body.Close()
		}
		return nil, ErrInsecureEndpoint
	}
	return h.next.RoundTrip(r)
}

// systemBundles are the usual homes of the system's root bundle on Unix,
// which Go reads in place of SSL_CERT_FILE when that is unset.
var systemBundles = []string{
	"/etc/ssl/certs/ca-certificates.crt",                // Debian, Ubuntu, Alpine
	"/etc/pki/tls/certs/ca-bundle.crt",                  // Fedora, RHEL
	"/etc/ssl/ca-bundle.pem",                            // openSUSE
	"/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem", // CentOS, RHEL 7
	"/etc/ssl/cert.pem",                                 // Alpine, BSDs
}

// TrustedRoots is the system's certificate roots plus those in certFile
// (SSL_CERT_FILE) when it is set. On Linux Go reads SSL_CERT_FILE in place
// of the system bundle, so the bundle is added back; elsewhere the
// platform's roots stay and the file is added to them.
func TrustedRoots(certFile string) (*x509.CertPool, error) {
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	if certFile == "" {
		return pool, nil
	}
	pem, err := os.ReadFile(certFile)
	if err != nil {
		return nil, fmt.Errorf("webpush: SSL_CERT_FILE: %w", err)
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("webpush: SSL_CERT_FILE %s holds no PEM certificate", certFile)
	}
	for _, bundle := range systemBundles {
		if b, err := os.ReadFile(bundle); err == nil && pool.AppendCertsFromPEM(b) {
			break
		}
	}
	return pool, nil
}
