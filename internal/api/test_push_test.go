package api

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"sync"
	"testing"

	"github.com/carecircle/carecircle/internal/clock"
	"github.com/carecircle/carecircle/internal/notify/webpush"
	"github.com/carecircle/carecircle/internal/notify/webpush/pushtest"
	"github.com/carecircle/carecircle/internal/store"
	"github.com/carecircle/carecircle/internal/store/storetest"
)

const testPushSubject = "mailto:ops@carecircle.test"

// pushFixture is a push service in the test and a sender whose VAPID key it
// verifies. Endpoints marked busy answer 503.
type pushFixture struct {
	service *pushtest.Service
	sender  *webpush.Sender

	mu   sync.Mutex
	busy map[string]bool
}

func newPushFixture(t *testing.T) *pushFixture {
	t.Helper()
	keys, err := webpush.GenerateKeys()
	if err != nil {
		t.Fatal(err)
	}
	f := &pushFixture{busy: map[string]bool{}}
	f.service = pushtest.NewService(t, keys.Public, testPushSubject, func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		busy := f.busy[r.URL.Path]
		f.mu.Unlock()
		if busy {
			w.Header().Set("Retry-After", "30")
			http.Error(w, "try later", http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusCreated)
	})
	f.sender, err = webpush.NewSender(webpush.VAPID{Keys: keys, Subject: testPushSubject}, f.service.Client(), nil)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// subscribe makes a new browser subscribe for u, stored as the
// subscription route stores it.
func (f *pushFixture) subscribe(t *testing.T, h *harness, u testUser, device string) *store.PushSubscription {
	t.Helper()
	sub, _ := f.service.Subscribe()
	saved, err := h.store.SavePushSubscription(context.Background(), store.PushSubscription{
		UserID: u.ID, Endpoint: sub.Endpoint, P256dh: sub.P256dh, Auth: sub.Auth, DeviceName: &device,
	})
	if err != nil {
		t.Fatal(err)
	}
	return saved
}

// makeBusy makes the push service answer 503 for sub.
func (f *pushFixture) makeBusy(t *testing.T, sub *store.PushSubscription) {
	t.Helper()
	u, err := url.Parse(sub.Endpoint)
	if err != nil {
		t.Fatal(err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.busy[u.Path] = true
}

func TestTestPush(t *testing.T) {
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, open func(testing.TB, clock.Clock) *store.Store) {
		f := newPushFixture(t)
		h := newHarness(t, open, harnessOptions{push: f.sender})
		ctx := context.Background()
		ann, bo, carol := h.newUser("ann@example.com"), h.newUser("bo@example.com"), h.newUser("carol@example.com")
		live := f.subscribe(t, h, ann, "Ann's laptop")
		dead := f.subscribe(t, h, ann, "Ann's old phone")
		f.service.Unsubscribe(dead.Endpoint)
		busy := f.subscribe(t, h, ann, "Ann's tablet")
		f.makeBusy(t, busy)
		f.subscribe(t, h, bo, "Bo's phone")

		var got testPushResponse
		h.request("POST", "/notifications/test-push", ann.Token, nil).expect(200).JSON(&got)
		if got.Sent != 1 || got.Removed != 1 || got.Failed != 1 || len(got.Results) != 3 {
			t.Fatalf("test push = %+v", got)
		}
		want := map[string]string{live.ID: "delivered", dead.ID: "gone", busy.ID: "retry"}
		for _, r := range got.Results {
			if want[r.SubscriptionID] != r.Outcome || r.DeviceName == nil {
				t.Errorf("result %+v, want outcome %q", r, want[r.SubscriptionID])
			}
		}

		// The live and the busy browser each decrypted the message.
		for range 2 {
			d := f.service.Next()
			var payload struct {
				Title string         `json:"title"`
				Tag   string         `json:"tag"`
				Data  map[string]any `json:"data"`
			}
			if err := json.Unmarshal(d.Payload, &payload); err != nil {
				t.Fatalf("payload %s: %v", d.Payload, err)
			}
			if payload.Title != "CareCircle test notification" || payload.Tag != "test-push" || payload.Data["url"] != "/settings" {
				t.Errorf("payload = %s", d.Payload)
			}
			if d.Header.Get("Urgency") != "high" || d.Claims.Sub != testPushSubject {
				t.Errorf("Urgency %q, sub %q", d.Header.Get("Urgency"), d.Claims.Sub)
			}
		}
		if n := f.service.RequestCount(); n != 3 {
			t.Errorf("%d requests reached the push service, want ann's 3", n)
		}
		subs, _ := h.store.PushSubscriptions(ctx, ann.ID)
		if len(subs) != 2 {
			t.Fatalf("ann keeps %d subscriptions, want 2 (the gone one removed)", len(subs))
		}
		for _, s := range subs {
			if s.ID == dead.ID {
				t.Fatal("the gone subscription was kept")
			}
		}
		if subs, _ := h.store.PushSubscriptions(ctx, bo.ID); len(subs) != 1 {
			t.Fatalf("bo's subscriptions = %+v", subs)
		}

		var none testPushResponse
		h.request("POST", "/notifications/test-push", carol.Token, nil).expect(200).JSON(&none)
		if none.Sent != 0 || none.Removed != 0 || none.Failed != 0 || none.Results == nil {
			t.Fatalf("no subscriptions: %+v", none)
		}
		h.request("POST", "/notifications/test-push", carol.Token, map[string]any{"x": 1}).errorEnvelope(400)
	})
}

func TestTestPushWithoutWebPush(t *testing.T) {
	t.Parallel()
	h := sqliteHarness(t, harnessOptions{})
	ann := h.newUser("ann@example.com")
	h.request("POST", "/notifications/test-push", ann.Token, nil).errorEnvelope(409)
}
