package webpush

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"
)

// ErrPrivateEndpoint reports a subscription endpoint that points into a
// private network: a browser's push service never lives there, and sending
// to it would let a user make the server reach internal hosts.
var ErrPrivateEndpoint = errors.New("webpush: endpoint is not a public address")

// PublicAddr reports whether ip may be a push service: not loopback,
// private, link-local, multicast or unspecified.
func PublicAddr(ip netip.Addr) bool {
	ip = ip.Unmap()
	return ip.IsValid() && !ip.IsLoopback() && !ip.IsPrivate() && !ip.IsLinkLocalUnicast() &&
		!ip.IsLinkLocalMulticast() && !ip.IsMulticast() && !ip.IsUnspecified() && !ip.IsInterfaceLocalMulticast() &&
		!netip.MustParsePrefix("100.64.0.0/10").Contains(ip) // carrier-grade NAT
}

// CheckEndpoint refuses endpoints whose host is an address (or a name such as
// localhost) that cannot be a public push service. Names are checked again
// at connection time by GuardedClient, after resolution.
func CheckEndpoint(endpoint string) error {
	u, err := url.Parse(endpoint)
	if err != nil {
		return fmt.Errorf("webpush: endpoint: %w", err)
	}
	host := strings.TrimSuffix(strings.ToLower(u.Hostname()), ".")
	if host == "localhost" || strings.HasSuffix(host, ".localhost") || strings.HasSuffix(host, ".internal") || strings.HasSuffix(host, ".local") {
		return ErrPrivateEndpoint
	}
	if ip, err := netip.ParseAddr(host); err == nil && !PublicAddr(ip) {
		return ErrPrivateEndpoint
	}
	return nil
}

// GuardedClient is the HTTP client for sending pushes in production: it
// refuses to connect to non-public addresses whatever a name resolves to
// (so DNS cannot point a subscription at an internal host) and bounds each
// request.
func GuardedClient() *http.Client {
	dialer := &net.Dialer{
		Timeout: 10 * time.Second,
		Control: func(_, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil || !PublicAddr(ap.Addr()) {
				return ErrPrivateEndpoint
			}
			return nil
		},
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.Proxy = nil
	tr.DialContext = dialer.DialContext
	// An emergency fans out to a handful of push services at once; keep
	// enough connections to each for the next fan-out to skip the TLS
	// handshakes (HTTP/2 services multiplex over one anyway).
	tr.MaxIdleConnsPerHost = 32
	return &http.Client{Transport: tr, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}
