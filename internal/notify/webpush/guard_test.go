package webpush

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
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
	} {
		err := CheckEndpoint(endpoint)
		if (err == nil) != want {
			t.Errorf("CheckEndpoint(%q) = %v, want allowed %v", endpoint, err, want)
		}
	}
}

func TestGuardedClientWillNotConnectToLoopback(t *testing.T) {
	reached := false
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { reached = true }))
	defer srv.Close()
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodPost, srv.URL, nil)
	_, err := GuardedClient().Do(req)
	if !errors.Is(err, ErrPrivateEndpoint) || reached {
		t.Fatalf("err = %v, reached %v; want ErrPrivateEndpoint and no request", err, reached)
	}
}
