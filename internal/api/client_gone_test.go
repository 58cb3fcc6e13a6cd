package api

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"testing"
)

// A request the client abandoned is not a server fault; a cancellation
// the server caused itself, or another error, still is.
func TestClientGone(t *testing.T) {
	live := httptest.NewRequest("GET", "/api/v1/auth/me", nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	gone := live.WithContext(ctx)
	wrapped := fmt.Errorf("store: appointments: %w", context.Canceled)
	for _, c := range []struct {
		name string
		gone bool
		err  error
		want bool
	}{
		{"client went away", true, wrapped, true},
		{"cancelled by the server, client still there", false, wrapped, false},
		{"another error after the client went away", true, errors.New("disk full"), false},
		{"a deadline after the client went away", true, context.DeadlineExceeded, false},
	} {
		r := live
		if c.gone {
			r = gone
		}
		if got := clientGone(r, c.err); got != c.want {
			t.Errorf("%s: clientGone = %v, want %v", c.name, got, c.want)
		}
	}
}
