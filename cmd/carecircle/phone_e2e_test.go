package main

import (
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/carecircle/carecircle/internal/notify/sms/smstest"
)

// TestPhoneVerificationEndToEnd runs the binary with TWILIO_* pointing at a
// fake Twilio API: the verification code arrives there by text, and the
// number it proves is verified.
func TestPhoneVerificationEndToEnd(t *testing.T) {
	t.Parallel()
	texts := smstest.NewServer(t)
	dataDir := t.TempDir()
	base, _ := startServer(t, map[string]string{
		"DATA_DIR": dataDir, "RATE_LIMIT_ENABLED": "false",
		"TWILIO_ACCOUNT_SID": texts.AccountSID, "TWILIO_AUTH_TOKEN": texts.AuthToken,
		"TWILIO_FROM": texts.From, "TWILIO_BASE_URL": texts.URL,
	})
	c := &e2eClient{t: t, base: base, outbox: filepath.Join(dataDir, "outbox")}
	token, _ := c.signUp("Ann Lee", "ann@example.com")

	c.call("POST", "/user/phone/verification", token, map[string]any{"phone": "+44 7700 900123"}, 200)
	msg, ok := texts.Next(10 * time.Second)
	if !ok || msg.To != "+447700900123" || msg.From != texts.From {
		t.Fatalf("text = %+v, %v", msg, ok)
	}
	code := regexp.MustCompile(`code is ([0-9]{6})`).FindStringSubmatch(msg.Body)
	if code == nil {
		t.Fatalf("no code in %q", msg.Body)
	}
	c.call("POST", "/user/phone/verify", token, map[string]any{"code": code[1]}, 200)
	if me := c.call("GET", "/auth/me", token, nil, 200); me["phone"] != "+447700900123" || me["phoneVerified"] != true {
		t.Fatalf("me = %v", me)
	}
}
