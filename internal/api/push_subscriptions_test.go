package api

import (
	"context"
	"crypto/ecdh"
	"crypto/rand"
	"encoding/base64"
	"testing"
)

// browserKeys makes the keys a browser's PushManager would hand out.
func browserKeys(t *testing.T) (p256dh, authSecret string) {
	t.Helper()
	k, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	secret := make([]byte, 16)
	_, _ = rand.Read(secret)
	return base64.RawURLEncoding.EncodeToString(k.PublicKey().Bytes()), base64.RawURLEncoding.EncodeToString(secret)
}

func TestPushSubscriptions(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, h *harness) {
		ann := h.newUser("ann@example.com")
		bo := h.newUser("bo@example.com")
		p256, secret := browserKeys(t)
		body := map[string]any{"endpoint": "https://push.example.com/send/abc", "keys": map[string]any{"p256dh": p256, "auth": secret},
			"platform": "web", "deviceName": "Ann's phone"}
		got := h.request("POST", "/notifications/push-subscription", ann.Token, body).expect(201).Map()
		if got["endpoint"] != "https://push.example.com/send/abc" || got["deviceName"] != "Ann's phone" {
			t.Fatalf("subscription = %v", got)
		}
		if _, leaked := got["auth"]; leaked {
			t.Fatal("the auth secret is echoed back")
		}
		// The same browser subscribing again (as Bo, on a shared device) moves it.
		h.request("POST", "/notifications/push-subscription", bo.Token, body).expect(201)
		ctx := context.Background()
		if subs, _ := h.store.PushSubscriptions(ctx, ann.ID); len(subs) != 0 {
			t.Fatalf("ann still has %d subscriptions", len(subs))
		}
		if subs, _ := h.store.PushSubscriptions(ctx, bo.ID); len(subs) != 1 || subs[0].Auth != secret {
			t.Fatalf("bo's subscriptions = %+v", subs)
		}
		h.request("DELETE", "/notifications/push-subscription", ann.Token, map[string]any{"endpoint": "https://push.example.com/send/abc"}).errorEnvelope(404)
		h.request("DELETE", "/notifications/push-subscription", bo.Token, map[string]any{"endpoint": "https://push.example.com/send/abc"}).expect(200)

		for _, bad := range []map[string]any{
			{"endpoint": "http://push.example.com/x", "keys": map[string]any{"p256dh": p256, "auth": secret}},
			{"endpoint": "https://push.example.com/x", "keys": map[string]any{"p256dh": "short", "auth": secret}},
			{"endpoint": "https://push.example.com/x", "keys": map[string]any{"p256dh": p256, "auth": "AAAA"}},
			{"endpoint": "https://push.example.com/x"},
			{"endpoint": "https://push.example.com/x", "keys": map[string]any{"p256dh": p256, "auth": secret}, "extra": 1},
		} {
			h.request("POST", "/notifications/push-subscription", ann.Token, bad).errorEnvelope(400)
		}
		if subs, _ := h.store.PushSubscriptions(ctx, ann.ID); len(subs) != 0 {
			t.Fatalf("a refused subscription was stored: %+v", subs)
		}
	})
}
