package api

import (
	"context"
	"strings"
	"testing"
)

func TestPushTokens(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, h *harness) {
		ctx := context.Background()
		ann := h.newUser("ann@example.com")
		bo := h.newUser("bo@example.com")
		const fcm = "dGVzdC1mY20tdG9rZW4:APA91bH-example_token-0123456789"
		register := func(u testUser, body any) *response {
			return h.request("POST", "/notifications/push-token", u.Token, body)
		}

		first := register(ann, map[string]any{"token": fcm, "platform": "Android"}).expect(201).Map()
		if first["token"] != fcm || first["platform"] != "android" || first["id"] == "" {
			t.Fatalf("token = %v", first)
		}
		if _, leaked := first["userId"]; leaked {
			t.Fatal("the owner's id is echoed")
		}
		again := register(ann, map[string]any{"token": " " + fcm + " ", "platform": "android"}).expect(201).Map()
		if again["id"] != first["id"] {
			t.Fatalf("registering again made a new token: %v, first %v", again, first)
		}
		register(ann, map[string]any{"token": "a1b2c3d4e5f6", "platform": "ios"}).expect(201)
		if toks, err := h.store.PushTokens(ctx, ann.ID); err != nil || len(toks) != 2 {
			t.Fatalf("ann's tokens = %+v, %v", toks, err)
		}

		for name, bad := range map[string]any{
			"no token":         map[string]any{"platform": "ios"},
			"no platform":      map[string]any{"token": "abc"},
			"unknown platform": map[string]any{"token": "abc", "platform": "windows"},
			"spaces in token":  map[string]any{"token": "ab c", "platform": "ios"},
			"control in token": map[string]any{"token": "ab\u0000c", "platform": "ios"},
			"token too long":   map[string]any{"token": strings.Repeat("a", 4097), "platform": "web"},
			"extra field":      map[string]any{"token": "abc", "platform": "ios", "device": "x"},
			"not an object":    `["abc"]`,
		} {
			if m := register(ann, bad).errorEnvelope(400); m["message"] == "" {
				t.Errorf("%s: %v", name, m)
			}
		}

		// Bo signs in to the app on Ann's old phone.
		register(bo, map[string]any{"token": fcm, "platform": "android"}).expect(201)
		if toks, _ := h.store.PushTokens(ctx, ann.ID); len(toks) != 1 || toks[0].Token != "a1b2c3d4e5f6" {
			t.Fatalf("ann's tokens after the move = %+v", toks)
		}
		unregister := func(u testUser, body any) *response {
			return h.request("DELETE", "/notifications/push-token", u.Token, body)
		}
		unregister(ann, map[string]any{"token": fcm}).errorEnvelope(404)
		unregister(bo, map[string]any{"token": fcm, "platform": "bogus"}).errorEnvelope(400)
		unregister(bo, map[string]any{"token": fcm, "platform": "android"}).expect(200)
		unregister(bo, map[string]any{"token": fcm}).errorEnvelope(404)
		unregister(ann, map[string]any{}).errorEnvelope(400)
		if toks, _ := h.store.PushTokens(ctx, bo.ID); len(toks) != 0 {
			t.Fatalf("bo's tokens = %+v", toks)
		}
	})
}

func TestPermissionMatrixPushTokensAndTestPush(t *testing.T) {
	t.Parallel()
	f := newPushFixture(t)
	runMatrixWith(t, harnessOptions{push: f.sender}, []matrixCase{
		{"register push token", "POST", withBody(map[string]any{"token": "fcm-matrix-token", "platform": "android"}, "/notifications/push-token"), signedIn(201)},
		{"unregister push token (none)", "DELETE", withBody(map[string]any{"token": "no-such-token"}, "/notifications/push-token"), signedIn(404)},
		{"test push", "POST", path("/notifications/test-push"), signedIn(200)},
	})
}
