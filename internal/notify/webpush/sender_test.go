package webpush

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/carecircle/carecircle/internal/clock"
	"github.com/carecircle/carecircle/internal/notify/webpush/pushtest"
)

const testSubject = "mailto:ops@carecircle.example"

// setup is one test's push service and a Sender whose VAPID keys were
// generated and kept through LoadOrCreateKeys, as on a first start.
type setup struct {
	push   *pushtest.Service
	sender *Sender
	clock  *clock.Fake
	vapid  VAPID
}

func newSetup(t *testing.T, respond func(w http.ResponseWriter, r *http.Request)) setup {
	t.Helper()
	v, err := LoadOrCreateKeys(context.Background(), NewMemoryKeyStore(), testSubject)
	if err != nil {
		t.Fatal(err)
	}
	push := pushtest.NewService(t, v.Keys.Public, testSubject, respond)
	clk := clock.NewFake(time.Date(2025, 3, 30, 8, 0, 0, 0, time.UTC))
	sender, err := NewSender(v, push.Client(), clk)
	if err != nil {
		t.Fatal(err)
	}
	return setup{push: push, sender: sender, clock: clk, vapid: v}
}

// subscribe makes a browser subscribe at the test's push service.
func (s setup) subscribe() (Subscription, *pushtest.Browser) {
	sub, b := s.push.Subscribe()
	return Subscription(sub), b
}

func TestSendDeliversEncryptedSignedMessageWithPriorityHeaders(t *testing.T) {
	t.Parallel()
	tests := []struct {
		priority    Priority
		wantUrgency string
		wantTTL     string
	}{
		{Emergency, "high", "86400"},
		{High, "high", "3600"},
		{Normal, "normal", "14400"},
		{"", "normal", "14400"},
		{Low, "low", "43200"},
	}
	for _, tc := range tests {
		t.Run(string(tc.priority)+"_priority", func(t *testing.T) {
			t.Parallel()
			s := newSetup(t, nil)
			sub, _ := s.subscribe()
			msg := Message{
				Title:              "Emergency: Grandma fell",
				Body:               "Anna raised an alert — tap to respond. Ünïcødé ✓",
				Icon:               "/icons/icon-192.png",
				Tag:                "emergency-42",
				URL:                "/emergency/42",
				RequireInteraction: true,
				Actions:            []Action{{Action: "acknowledge", Title: "I'm on it"}, {Action: "open", Title: "Open"}},
				Data:               map[string]any{"alertId": "42", "type": "emergency.alert.created"},
			}

			res, err := s.sender.Send(context.Background(), sub, msg, tc.priority)
			if err != nil {
				t.Fatalf("Send: %v", err)
			}
			if res.Outcome != Delivered || res.StatusCode != http.StatusCreated {
				t.Fatalf("result = %+v, want delivered 201", res)
			}
			got := s.push.Next()

			var payload map[string]any
			if err := json.Unmarshal(got.Payload, &payload); err != nil {
				t.Fatalf("decrypted payload is not JSON: %v\n%s", err, got.Payload)
			}
			want := map[string]any{
				"title":              "Emergency: Grandma fell",
				"body":               "Anna raised an alert — tap to respond. Ünïcødé ✓",
				"icon":               "/icons/icon-192.png",
				"tag":                "emergency-42",
				"requireInteraction": true,
				"data": map[string]any{
					"url":     "/emergency/42",
					"alertId": "42",
					"type":    "emergency.alert.created",
				},
				"actions": []any{
					map[string]any{"action": "acknowledge", "title": "I'm on it"},
					map[string]any{"action": "open", "title": "Open"},
				},
			}
			if !reflect.DeepEqual(payload, want) {
				t.Errorf("decrypted payload\n got %v\nwant %v", payload, want)
			}
			if u := got.Header.Get("Urgency"); u != tc.wantUrgency {
				t.Errorf("Urgency = %q, want %q", u, tc.wantUrgency)
			}
			if ttl := got.Header.Get("TTL"); ttl != tc.wantTTL {
				t.Errorf("TTL = %q, want %q", ttl, tc.wantTTL)
			}
			if topic := got.Header.Get("Topic"); topic != "emergency-42" {
				t.Errorf("Topic = %q, want the tag", topic)
			}
			if got.Claims.Sub != testSubject {
				t.Errorf("sub = %q, want %q (not doubled mailto:)", got.Claims.Sub, testSubject)
			}
		})
	}
}

func TestSendEncryptsForTheSubscriptionOnly(t *testing.T) {
	t.Parallel()
	s := newSetup(t, nil)
	subA, _ := s.subscribe()
	_, browserB := s.subscribe()

	if _, err := s.sender.Send(context.Background(), subA, Message{Title: "for A"}, Normal); err != nil {
		t.Fatal(err)
	}
	got := s.push.Next()
	if !strings.Contains(string(got.Payload), `"for A"`) {
		t.Fatalf("A's browser read %s", got.Payload)
	}
	if plain, err := browserB.Decrypt(got.Body); err == nil {
		t.Fatalf("another browser's key decrypted A's message: %s", plain)
	}
}

func TestSendOmitsTopicThatIsNotAValidTopic(t *testing.T) {
	t.Parallel()
	s := newSetup(t, nil)
	sub, _ := s.subscribe()
	for _, tag := range []string{"", "medication:123", strings.Repeat("x", 33)} {
		if _, err := s.sender.Send(context.Background(), sub, Message{Title: "t", Tag: tag}, High); err != nil {
			t.Fatal(err)
		}
		got := s.push.Next()
		if topic, ok := got.Header["Topic"]; ok {
			t.Errorf("tag %q sent Topic %q; push services reject invalid topics", tag, topic)
		}
		if tag != "" && !strings.Contains(string(got.Payload), `"tag":"`+tag+`"`) {
			t.Errorf("tag %q missing from payload %s", tag, got.Payload)
		}
	}
}

func TestSendClassifiesPushServiceAnswers(t *testing.T) {
	t.Parallel()
	// Relative to the fake clock of newSetup.
	inTwoMinutes := time.Date(2025, 3, 30, 8, 2, 0, 0, time.UTC).Format(http.TimeFormat)
	tests := []struct {
		name    string
		status  int
		header  map[string]string
		body    string
		want    Outcome
		wantAft time.Duration
	}{
		{name: "410 gone", status: http.StatusGone, want: Gone},
		{name: "404 not found", status: http.StatusNotFound, want: Gone},
		{name: "429 with retry-after seconds", status: http.StatusTooManyRequests, header: map[string]string{"Retry-After": "120"}, body: "slow down", want: Retry, wantAft: 2 * time.Minute},
		{name: "503 with retry-after date", status: http.StatusServiceUnavailable, header: map[string]string{"Retry-After": inTwoMinutes}, want: Retry, wantAft: 2 * time.Minute},
		{name: "503 without retry-after", status: http.StatusServiceUnavailable, want: Retry},
		{name: "500", status: http.StatusInternalServerError, header: map[string]string{"Retry-After": "soon"}, want: Retry},
		{name: "400 bad request", status: http.StatusBadRequest, body: "bad TTL", want: Rejected},
		{name: "413 too large", status: http.StatusRequestEntityTooLarge, want: Rejected},
		{name: "200 ok", status: http.StatusOK, want: Delivered},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := newSetup(t, func(w http.ResponseWriter, _ *http.Request) {
				for k, v := range tc.header {
					w.Header().Set(k, v)
				}
				w.WriteHeader(tc.status)
				_, _ = w.Write([]byte(tc.body))
			})
			sub, _ := s.subscribe()
			res, err := s.sender.Send(context.Background(), sub, Message{Title: "x"}, Normal)
			if err != nil {
				t.Fatalf("Send: %v", err)
			}
			s.push.Next() // the request itself was well formed
			if res.Outcome != tc.want || res.StatusCode != tc.status || res.RetryAfter != tc.wantAft {
				t.Fatalf("result = %+v (%s), want %s status %d retryAfter %s", res, res.Outcome, tc.want, tc.status, tc.wantAft)
			}
			if tc.want != Delivered && res.Detail != tc.body {
				t.Errorf("detail = %q, want %q", res.Detail, tc.body)
			}
		})
	}
}

func TestSendUsesTheInjectedClient(t *testing.T) {
	t.Parallel()
	s := newSetup(t, nil)
	sub, _ := s.subscribe()
	// A client that does not trust the test service's certificate cannot
	// deliver, so a success above proves the injected client is used.
	plain, err := NewSender(s.vapid, &http.Client{Timeout: 10 * time.Second}, s.clock)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := plain.Send(context.Background(), sub, Message{Title: "x"}, Normal); err == nil {
		t.Fatal("a client without the test CA delivered over TLS")
	} else if strings.Contains(err.Error(), "/wpush/") {
		t.Errorf("error reveals the endpoint path: %v", err)
	}
	if res, err := s.sender.Send(context.Background(), sub, Message{Title: "x"}, Normal); err != nil || res.Outcome != Delivered {
		t.Fatalf("with the injected client: %+v, %v", res, err)
	}
	s.push.Next()
}

func TestSendStopsWhenContextEnds(t *testing.T) {
	t.Parallel()
	arrived := make(chan struct{})
	release := make(chan struct{})
	s := newSetup(t, func(w http.ResponseWriter, r *http.Request) {
		close(arrived)
		select {
		case <-r.Context().Done():
		case <-release:
		}
	})
	t.Cleanup(func() { close(release) }) // before the server closes
	sub, _ := s.subscribe()

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := s.sender.Send(ctx, sub, Message{Title: "x"}, Emergency)
		done <- err
	}()
	select {
	case <-arrived:
	case <-time.After(10 * time.Second):
		t.Fatal("request never reached the push service")
	}
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Send after cancel = %v, want context.Canceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Send did not return after its context was cancelled")
	}

	before := s.push.RequestCount()
	if _, err := s.sender.Send(ctx, sub, Message{Title: "x"}, Emergency); !errors.Is(err, context.Canceled) {
		t.Fatalf("Send with a cancelled context = %v, want context.Canceled", err)
	}
	if n := s.push.RequestCount(); n != before {
		t.Errorf("a cancelled Send still reached the push service")
	}
}

func TestSendRefusesWhatCannotBeDelivered(t *testing.T) {
	t.Parallel()
	s := newSetup(t, nil)
	good, _ := s.subscribe()
	tests := []struct {
		name     string
		sub      Subscription
		msg      Message
		priority Priority
		want     error
	}{
		{"http endpoint", Subscription{Endpoint: strings.Replace(good.Endpoint, "https:", "http:", 1), P256dh: good.P256dh, Auth: good.Auth}, Message{Title: "x"}, Normal, ErrInvalidSubscription},
		{"p256dh not a point", Subscription{Endpoint: good.Endpoint, P256dh: "BAAA", Auth: good.Auth}, Message{Title: "x"}, Normal, ErrInvalidSubscription},
		{"p256dh not base64", Subscription{Endpoint: good.Endpoint, P256dh: "!!!", Auth: good.Auth}, Message{Title: "x"}, Normal, ErrInvalidSubscription},
		{"short auth", Subscription{Endpoint: good.Endpoint, P256dh: good.P256dh, Auth: "AAAA"}, Message{Title: "x"}, Normal, ErrInvalidSubscription},
		{"payload over 4 KiB", good, Message{Title: "x", Body: strings.Repeat("a", 4000)}, Normal, ErrPayloadTooLarge},
		{"unknown priority", good, Message{Title: "x"}, Priority("urgent"), ErrInvalidPriority},
	}
	for _, tc := range tests {
		if _, err := s.sender.Send(context.Background(), tc.sub, tc.msg, tc.priority); !errors.Is(err, tc.want) {
			t.Errorf("%s: err = %v, want %v", tc.name, err, tc.want)
		}
	}
	if n := s.push.RequestCount(); n != 0 {
		t.Errorf("%d invalid sends reached the push service", n)
	}

	// Just under the limit still goes out in one record.
	res, err := s.sender.Send(context.Background(), good, Message{Title: "x", Body: strings.Repeat("a", 3900)}, Normal)
	if err != nil || res.Outcome != Delivered {
		t.Fatalf("3.9 KB body: %+v, %v", res, err)
	}
	s.push.Next()
}

func TestSubscriptionAcceptsBrowserKeyEncodings(t *testing.T) {
	t.Parallel()
	s := newSetup(t, nil)
	sub, _ := s.subscribe()
	// Some clients store the keys padded or in standard base64.
	std := func(k string) string {
		k = strings.NewReplacer("-", "+", "_", "/").Replace(k)
		for len(k)%4 != 0 {
			k += "="
		}
		return k
	}
	sub.P256dh, sub.Auth = std(sub.P256dh), std(sub.Auth)
	if err := sub.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	if res, err := s.sender.Send(context.Background(), sub, Message{Title: "padded"}, Low); err != nil || res.Outcome != Delivered {
		t.Fatalf("%+v, %v", res, err)
	}
	if got := s.push.Next(); !strings.Contains(string(got.Payload), "padded") {
		t.Fatalf("payload %s", got.Payload)
	}
}

func TestNewSenderRefusesBadCredentials(t *testing.T) {
	t.Parallel()
	k, err := GenerateKeys()
	if err != nil {
		t.Fatal(err)
	}
	other, _ := GenerateKeys()
	if _, err := NewSender(VAPID{Keys: Keys{Public: other.Public, Private: k.Private}, Subject: testSubject}, nil, nil); !errors.Is(err, ErrInvalidKeys) {
		t.Errorf("mismatched keys: %v", err)
	}
	if _, err := NewSender(VAPID{Keys: k, Subject: "ops"}, nil, nil); !errors.Is(err, ErrInvalidSubject) {
		t.Errorf("bad subject: %v", err)
	}
	s, err := NewSender(VAPID{Keys: k, Subject: testSubject}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if s.PublicKey() != k.Public {
		t.Errorf("PublicKey = %q, want %q", s.PublicKey(), k.Public)
	}
}

func TestOutcomeString(t *testing.T) {
	t.Parallel()
	for o, want := range map[Outcome]string{Delivered: "delivered", Gone: "gone", Retry: "retry", Rejected: "rejected", 0: "unknown"} {
		if o.String() != want {
			t.Errorf("%d.String() = %q, want %q", o, o.String(), want)
		}
	}
}

func TestSendToAnUnsubscribedBrowserIsGone(t *testing.T) {
	t.Parallel()
	s := newSetup(t, nil)
	live, _ := s.subscribe()
	dead, _ := s.subscribe()
	s.push.Unsubscribe(dead.Endpoint)
	if res, err := s.sender.Send(context.Background(), dead, Message{Title: "x"}, Normal); err != nil || res.Outcome != Gone || res.StatusCode != http.StatusGone {
		t.Fatalf("unsubscribed: %+v, %v", res, err)
	}
	if res, err := s.sender.Send(context.Background(), live, Message{Title: "still here"}, Normal); err != nil || res.Outcome != Delivered {
		t.Fatalf("live: %+v, %v", res, err)
	}
	if got := s.push.Next(); !strings.Contains(string(got.Payload), "still here") {
		t.Fatalf("payload %s", got.Payload)
	}
}
