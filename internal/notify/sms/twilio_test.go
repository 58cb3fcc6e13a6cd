package sms

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/carecircle/carecircle/internal/notify/sms/smstest"
)

// newTwilio returns a client for the fake API's account.
func newTwilio(t *testing.T, srv *smstest.Server) *Twilio {
	t.Helper()
	tw, err := NewTwilio(TwilioConfig{AccountSID: srv.AccountSID, AuthToken: srv.AuthToken, From: srv.From, BaseURL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	return tw
}

func TestTwilioSendsTheMessage(t *testing.T) {
	t.Parallel()
	srv := smstest.NewServer(t)
	tw := newTwilio(t, srv)
	body := "CareCircle: Grandma's alert — tap to respond ✓"
	m, err := tw.Send(context.Background(), "+1 (555) 010-0100", body)
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	if !strings.HasPrefix(m.SID, "SM") || m.Status != "queued" {
		t.Errorf("message = %+v, want an SM sid, queued", m)
	}
	got := srv.Messages()
	if len(got) != 1 {
		t.Fatalf("server accepted %d messages, want 1", len(got))
	}
	want := smstest.Message{SID: m.SID, To: "+15550100100", From: smstest.DefaultFrom, Body: body}
	if got[0] != want {
		t.Errorf("server received %+v, want %+v", got[0], want)
	}

	// Through the Sender interface too.
	var s Sender = tw
	if err := s.SendSMS(context.Background(), "+447700900123", "second"); err != nil {
		t.Fatal(err)
	}
	if m, ok := srv.Next(time.Second); !ok || m.To != "+15550100100" {
		t.Fatalf("first message %+v, %v", m, ok)
	}
	if m, ok := srv.Next(time.Second); !ok || m.To != "+447700900123" || m.Body != "second" {
		t.Fatalf("second message %+v, %v", m, ok)
	}
}

func TestTwilioRequestIsAFormPostWithBasicAuth(t *testing.T) {
	t.Parallel()
	type seen struct {
		method, path, contentType, accept, user, pass string
		form                                          url.Values
	}
	got := make(chan seen, 1)
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, pass, _ := r.BasicAuth()
		raw, _ := io.ReadAll(r.Body)
		form, _ := url.ParseQuery(string(raw))
		got <- seen{r.Method, r.URL.EscapedPath(), r.Header.Get("Content-Type"), r.Header.Get("Accept"), user, pass, form}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		_, _ = io.WriteString(w, `{"sid":"SM0123456789abcdef0123456789abcdef","status":"queued"}`)
	}))
	t.Cleanup(api.Close)
	tw, err := NewTwilio(TwilioConfig{AccountSID: "AC00000000000000000000000000000001", AuthToken: "tok&en", From: "+15005550006", BaseURL: api.URL + "/"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tw.Send(context.Background(), "+15551234567", "a&b=c ü"); err != nil {
		t.Fatal(err)
	}
	s := <-got
	if s.method != "POST" || s.path != "/2010-04-01/Accounts/AC00000000000000000000000000000001/Messages.json" {
		t.Errorf("%s %s", s.method, s.path)
	}
	if s.contentType != "application/x-www-form-urlencoded" || s.accept != "application/json" {
		t.Errorf("Content-Type %q, Accept %q", s.contentType, s.accept)
	}
	if s.user != "AC00000000000000000000000000000001" || s.pass != "tok&en" {
		t.Errorf("basic auth %q:%q", s.user, s.pass)
	}
	want := url.Values{"To": {"+15551234567"}, "From": {"+15005550006"}, "Body": {"a&b=c ü"}}
	if s.form.Encode() != want.Encode() {
		t.Errorf("form %v, want %v", s.form, want)
	}
}

func TestTwilioClassifiesRefusals(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		to        string
		fail      *smstest.Failure
		token     string
		status    int
		code      int
		temporary bool
		retry     time.Duration
	}{
		{name: "invalid number", to: smstest.InvalidNumber, status: 400, code: 21211},
		{name: "unreachable number", to: smstest.UnroutableNumber, status: 400, code: 21612},
		{name: "unsubscribed recipient", to: smstest.BlockedNumber, status: 400, code: 21610},
		{name: "landline", to: smstest.LandlineNumber, status: 400, code: 21614},
		{name: "wrong credentials", to: "+15551234567", token: "wrong", status: 401, code: 20003},
		{name: "rate limited", to: "+15551234567", fail: &smstest.Failure{Status: 429, Code: 20429, Message: "Too Many Requests", RetryAfter: "30"},
			status: 429, code: 20429, temporary: true, retry: 30 * time.Second},
		{name: "internal error", to: "+15551234567", fail: &smstest.Failure{Status: 500, Code: 20500, Message: "Internal Server Error"},
			status: 500, code: 20500, temporary: true},
		{name: "unavailable", to: "+15551234567", fail: &smstest.Failure{Status: 503, Code: 20503, Message: "Service unavailable"},
			status: 503, code: 20503, temporary: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := smstest.NewServer(t)
			token := srv.AuthToken
			if tc.token != "" {
				token = tc.token
			}
			tw, err := NewTwilio(TwilioConfig{AccountSID: srv.AccountSID, AuthToken: token, From: srv.From, BaseURL: srv.URL})
			if err != nil {
				t.Fatal(err)
			}
			if tc.fail != nil {
				srv.FailNext(*tc.fail)
			}
			_, err = tw.Send(context.Background(), tc.to, "hello")
			var apiErr *APIError
			if !errors.As(err, &apiErr) {
				t.Fatalf("err = %v, want an *APIError", err)
			}
			if apiErr.StatusCode != tc.status || apiErr.Code != tc.code || apiErr.Message == "" || apiErr.RetryAfter != tc.retry {
				t.Errorf("APIError = %+v, want status %d code %d retry %s", apiErr, tc.status, tc.code, tc.retry)
			}
			if !strings.HasSuffix(apiErr.MoreInfo, "/errors/"+strconv.Itoa(tc.code)) {
				t.Errorf("more_info = %q", apiErr.MoreInfo)
			}
			if Temporary(err) != tc.temporary || errors.Is(err, ErrPermanent) == tc.temporary {
				t.Errorf("temporary = %v, permanent = %v, want temporary %v", Temporary(err), errors.Is(err, ErrPermanent), tc.temporary)
			}
			if strings.Contains(err.Error(), srv.AuthToken) {
				t.Errorf("error reveals the auth token: %v", err)
			}
			if len(srv.Messages()) != 0 {
				t.Errorf("a refused message was recorded as accepted")
			}
		})
	}
}

func TestTwilioReadsAnErrorThatIsNotJSON(t *testing.T) {
	t.Parallel()
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Retry-After", "5")
		http.Error(w, "bad gateway from the proxy", http.StatusBadGateway)
	}))
	t.Cleanup(api.Close)
	tw, err := NewTwilio(TwilioConfig{AccountSID: "AC1", AuthToken: "t", From: "+15005550006", BaseURL: api.URL})
	if err != nil {
		t.Fatal(err)
	}
	_, err = tw.Send(context.Background(), "+15551234567", "x")
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 502 || apiErr.Message != "bad gateway from the proxy" || apiErr.RetryAfter != 5*time.Second || !Temporary(err) {
		t.Fatalf("err = %v (%+v)", err, apiErr)
	}
}

func TestTwilioRefusesBeforeSending(t *testing.T) {
	t.Parallel()
	srv := smstest.NewServer(t)
	tw := newTwilio(t, srv)
	tests := []struct {
		name, to, body string
		want           error
	}{
		{"no country code", "555-0100", "x", ErrInvalidNumber},
		{"national trunk prefix", "(0)20 7946 0000", "x", ErrInvalidNumber},
		{"letters", "+1 555 CALL NOW", "x", ErrInvalidNumber},
		{"too many digits", "+1234567890123456", "x", ErrInvalidNumber},
		{"empty body", "+15551234567", " \n", ErrInvalidBody},
		{"body over 1600 characters", "+15551234567", strings.Repeat("é", 1601), ErrInvalidBody},
	}
	for _, tc := range tests {
		_, err := tw.Send(context.Background(), tc.to, tc.body)
		if !errors.Is(err, tc.want) || !errors.Is(err, ErrPermanent) {
			t.Errorf("%s: err = %v, want %v and permanent", tc.name, err, tc.want)
		}
	}
	if n := srv.Requests(); n != 0 {
		t.Errorf("%d invalid messages reached the API", n)
	}
	if _, err := tw.Send(context.Background(), "+15551234567", strings.Repeat("é", 1600)); err != nil {
		t.Errorf("1600 characters: %v", err)
	}
}

func TestTwilioUnreachableIsTemporary(t *testing.T) {
	t.Parallel()
	api := httptest.NewServer(http.NotFoundHandler())
	base := api.URL
	api.Close()
	tw, err := NewTwilio(TwilioConfig{AccountSID: "AC1", AuthToken: "secret-token", From: "+15005550006", BaseURL: base})
	if err != nil {
		t.Fatal(err)
	}
	_, err = tw.Send(context.Background(), "+15551234567", "x")
	if !Temporary(err) {
		t.Fatalf("err = %v, want temporary", err)
	}
	if strings.Contains(err.Error(), "+15551234567") || strings.Contains(err.Error(), "secret-token") {
		t.Errorf("error reveals the number or the token: %v", err)
	}
}

func TestTwilioStopsWhenContextEnds(t *testing.T) {
	t.Parallel()
	arrived := make(chan struct{})
	release := make(chan struct{})
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(arrived)
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	t.Cleanup(api.Close)
	t.Cleanup(func() { close(release) }) // runs before the server closes
	tw, err := NewTwilio(TwilioConfig{AccountSID: "AC1", AuthToken: "t", From: "+15005550006", BaseURL: api.URL})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := tw.Send(ctx, "+15551234567", "x")
		done <- err
	}()
	select {
	case <-arrived:
	case <-time.After(10 * time.Second):
		t.Fatal("the request never arrived")
	}
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want context.Canceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Send did not return after its context was cancelled")
	}
}

func TestNewTwilioChecksSettings(t *testing.T) {
	t.Parallel()
	good := TwilioConfig{AccountSID: "AC1", AuthToken: "t", From: "+15005550006"}
	for name, mutate := range map[string]func(c *TwilioConfig){
		"no sid":         func(c *TwilioConfig) { c.AccountSID = "" },
		"no token":       func(c *TwilioConfig) { c.AuthToken = "" },
		"from not E.164": func(c *TwilioConfig) { c.From = "5005550006" },
		"bad base URL":   func(c *TwilioConfig) { c.BaseURL = "ftp://example.com" },
	} {
		c := good
		mutate(&c)
		if _, err := NewTwilio(c); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	tw, err := NewTwilio(good)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(tw.endpoint, DefaultBaseURL+"/2010-04-01/Accounts/AC1/") {
		t.Errorf("endpoint %q does not default to Twilio", tw.endpoint)
	}
}

func TestNormalizeE164(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"+15551234567":           "+15551234567",
		" +1 (555) 123-4567 ":    "+15551234567",
		"+44 20 7946 0000":       "+442079460000",
		"0044 20 7946 0000":      "+442079460000",
		"+49.30.1234567":         "+49301234567",
		"+33\u00a06 12 34 56 78": "+33612345678",
		"+1 555 0100":            "+15550100",
		"5551234567":             "",
		"+0123456789":            "",
		"+1 555":                 "",
		"+1234567890123456":      "",
		"":                       "",
		"+1 555 123 4567 x12":    "",
	} {
		got, err := NormalizeE164(in)
		if want == "" {
			if !errors.Is(err, ErrInvalidNumber) {
				t.Errorf("%q: got %q, %v; want ErrInvalidNumber", in, got, err)
			}
			continue
		}
		if err != nil || got != want {
			t.Errorf("%q: got %q, %v; want %q", in, got, err, want)
		}
	}
}
