package mail

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// brevoRequest is one call the fake Brevo API received.
type brevoRequest struct {
	Method, Path, APIKey, ContentType, Accept string
	Body                                      map[string]any
}

// fakeBrevo is an HTTP server speaking Brevo's transactional email API,
// answering each call with status (201 by default).
type fakeBrevo struct {
	URL string

	mu       sync.Mutex
	status   int
	requests []brevoRequest
}

func startFakeBrevo(t *testing.T) *fakeBrevo {
	t.Helper()
	f := &fakeBrevo{status: http.StatusCreated}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req := brevoRequest{Method: r.Method, Path: r.URL.Path, APIKey: r.Header.Get("api-key"),
			ContentType: r.Header.Get("Content-Type"), Accept: r.Header.Get("Accept")}
		b, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(b, &req.Body); err != nil {
			http.Error(w, `{"code":"bad_request","message":"invalid JSON"}`, http.StatusBadRequest)
			return
		}
		f.mu.Lock()
		f.requests = append(f.requests, req)
		status := f.status
		f.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		switch {
		case status == http.StatusCreated:
			_, _ = io.WriteString(w, `{"messageId":"<202603091300.1@smtp-relay.mailin.fr>"}`)
		case status == http.StatusBadRequest:
			_, _ = io.WriteString(w, `{"code":"invalid_parameter","message":"email is not valid in to"}`)
		case status == http.StatusUnauthorized:
			_, _ = io.WriteString(w, `{"code":"unauthorized","message":"Key not found"}`)
		case status == http.StatusTooManyRequests:
			_, _ = io.WriteString(w, `{"code":"too_many_requests","message":"rate limit"}`)
		default:
			_, _ = io.WriteString(w, `upstream trouble`)
		}
	}))
	t.Cleanup(srv.Close)
	f.URL = srv.URL
	return f
}

func (f *fakeBrevo) setStatus(code int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.status = code
}

func (f *fakeBrevo) received() []brevoRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]brevoRequest(nil), f.requests...)
}

func TestBrevoPostsTheMessage(t *testing.T) {
	t.Parallel()
	api := startFakeBrevo(t)
	b, err := NewBrevo("xkeysib-test", "CareCircle <no-reply@carecircle.test>", nil, api.URL+"/")
	if err != nil {
		t.Fatal(err)
	}
	m, err := Render("medication-reminder", "en", sampleData(t)["medication-reminder"])
	if err != nil {
		t.Fatal(err)
	}
	m.To = "Bo Lee <bo@example.com>"
	if err := b.Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	reqs := api.received()
	if len(reqs) != 1 {
		t.Fatalf("requests = %d", len(reqs))
	}
	r := reqs[0]
	if r.Method != http.MethodPost || r.Path != "/v3/smtp/email" || r.APIKey != "xkeysib-test" ||
		r.ContentType != "application/json" || r.Accept != "application/json" {
		t.Fatalf("request = %+v", r)
	}
	want := map[string]any{
		"sender":      map[string]any{"name": "CareCircle", "email": "no-reply@carecircle.test"},
		"to":          []any{map[string]any{"name": "Bo Lee", "email": "bo@example.com"}},
		"subject":     m.Subject,
		"htmlContent": m.HTML,
		"textContent": m.Text,
	}
	gotJSON, _ := json.Marshal(r.Body)
	wantJSON, _ := json.Marshal(want)
	if string(gotJSON) != string(wantJSON) {
		t.Fatalf("body =\n%s\nwant\n%s", gotJSON, wantJSON)
	}

	// A text-only message leaves htmlContent out.
	if err := b.Send(context.Background(), Message{To: "ann@example.com", Subject: "Hi", Text: "hello"}); err != nil {
		t.Fatal(err)
	}
	body := api.received()[1].Body
	if _, ok := body["htmlContent"]; ok || body["textContent"] != "hello" {
		t.Fatalf("text-only body = %v", body)
	}
	if to := body["to"].([]any)[0].(map[string]any); to["email"] != "ann@example.com" || to["name"] != nil {
		t.Fatalf("to = %v", to)
	}
}

func TestBrevoClassifiesFailures(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		status    int
		temporary bool
		reason    string
	}{
		{http.StatusBadRequest, false, "invalid_parameter email is not valid in to"},
		{http.StatusUnauthorized, false, "Key not found"},
		{http.StatusTooManyRequests, true, "rate limit"},
		{http.StatusInternalServerError, true, "upstream trouble"},
		{http.StatusServiceUnavailable, true, "upstream trouble"},
	} {
		t.Run(http.StatusText(c.status), func(t *testing.T) {
			t.Parallel()
			api := startFakeBrevo(t)
			api.setStatus(c.status)
			b, err := NewBrevo("xkeysib-secret", "no-reply@carecircle.test", nil, api.URL)
			if err != nil {
				t.Fatal(err)
			}
			err = b.Send(context.Background(), Message{To: "ann@example.com", Subject: "Hi", Text: "hello"})
			if err == nil || Temporary(err) != c.temporary || errors.Is(err, ErrPermanent) == c.temporary {
				t.Fatalf("err = %v", err)
			}
			if !strings.Contains(err.Error(), c.reason) || strings.Contains(err.Error(), "xkeysib-secret") {
				t.Fatalf("err = %v: want Brevo's reason and never the key", err)
			}
		})
	}

	t.Run("unreachable", func(t *testing.T) {
		t.Parallel()
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		l.Close()
		b, err := NewBrevo("k", "no-reply@carecircle.test", nil, "http://"+addr)
		if err != nil {
			t.Fatal(err)
		}
		if err := b.Send(context.Background(), Message{To: "ann@example.com", Text: "x"}); !Temporary(err) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("bad recipient never leaves", func(t *testing.T) {
		t.Parallel()
		api := startFakeBrevo(t)
		b, err := NewBrevo("k", "no-reply@carecircle.test", nil, api.URL)
		if err != nil {
			t.Fatal(err)
		}
		if err := b.Send(context.Background(), Message{To: "not an address", Text: "x"}); !errors.Is(err, ErrPermanent) {
			t.Fatalf("err = %v", err)
		}
		if n := len(api.received()); n != 0 {
			t.Fatalf("%d requests for an invalid address", n)
		}
	})
}

func TestNewBrevoValidates(t *testing.T) {
	t.Parallel()
	if _, err := NewBrevo("", "a@example.com", nil, ""); err == nil {
		t.Error("empty key accepted")
	}
	if _, err := NewBrevo("k", "nope", nil, ""); err == nil {
		t.Error("bad sender accepted")
	}
}
