package api

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/carecircle/carecircle/internal/clock"
	"github.com/carecircle/carecircle/internal/notify/sms"
	"github.com/carecircle/carecircle/internal/notify/sms/smstest"
	"github.com/carecircle/carecircle/internal/store"
	"github.com/carecircle/carecircle/internal/store/storetest"
)

// twilioFor returns a client of the fake Twilio API's account.
func twilioFor(t *testing.T, texts *smstest.Server) *sms.Twilio {
	t.Helper()
	tw, err := sms.NewTwilio(sms.TwilioConfig{AccountSID: texts.AccountSID, AuthToken: texts.AuthToken, From: texts.From, BaseURL: texts.URL})
	if err != nil {
		t.Fatal(err)
	}
	return tw
}

// forEachBackendWithSMS runs fn on both backends against a server whose
// texts go to a fake Twilio API.
func forEachBackendWithSMS(t *testing.T, fn func(t *testing.T, h *harness, texts *smstest.Server)) {
	t.Helper()
	storetest.ForEach(t, func(t *testing.T, open func(testing.TB, clock.Clock) *store.Store) {
		texts := smstest.NewServer(t)
		fn(t, newHarness(t, open, harnessOptions{sms: twilioFor(t, texts)}), texts)
	})
}

var textedCode = regexp.MustCompile(`verification code is ([0-9]{6})\.`)

// lastCode returns the code in the newest text to number.
func lastCode(t *testing.T, texts *smstest.Server, number string) string {
	t.Helper()
	msgs := texts.Messages()
	for i := len(msgs) - 1; i >= 0; i-- {
		if msgs[i].To == number {
			m := textedCode.FindStringSubmatch(msgs[i].Body)
			if m == nil {
				t.Fatalf("text without a code: %q", msgs[i].Body)
			}
			return m[1]
		}
	}
	t.Fatalf("no text sent to %s", number)
	return ""
}

func TestPhoneVerification(t *testing.T) {
	t.Parallel()
	forEachBackendWithSMS(t, func(t *testing.T, h *harness, texts *smstest.Server) {
		ann := h.newUser("ann@example.com")
		send := func(body any) *response { return h.request("POST", "/user/phone/verification", ann.Token, body) }
		verify := func(code string) *response {
			return h.request("POST", "/user/phone/verify", ann.Token, map[string]any{"code": code})
		}

		if m := send(nil).errorEnvelope(422); !strings.Contains(m["message"].(string), "no phone number") {
			t.Fatalf("no phone: %v", m)
		}
		if m := send(map[string]any{"phone": "555-0100"}).errorEnvelope(400); m["errors"].(map[string]any)["phone"] == nil {
			t.Fatalf("national number: %v", m)
		}

		got := send(map[string]any{"phone": "+1 (555) 010-0100"}).expect(200).Map()
		if got["phone"] != "+15550100100" || got["expiresInSeconds"] != float64(600) {
			t.Fatalf("send = %v", got)
		}
		msgs := texts.Messages()
		if len(msgs) != 1 || msgs[0].To != "+15550100100" || msgs[0].From != smstest.DefaultFrom {
			t.Fatalf("texts = %+v", msgs)
		}
		code := lastCode(t, texts, "+15550100100")
		if !strings.HasSuffix(msgs[0].Body, "\n\n@carecircle.test #"+code) {
			t.Errorf("text lacks the WebOTP line: %q", msgs[0].Body)
		}
		me := h.request("GET", "/auth/me", ann.Token, nil).expect(200).Map()
		if me["phone"] != "+15550100100" || me["phoneVerified"] != false {
			t.Fatalf("me after send = %v", me)
		}

		// One text a minute.
		res := send(nil)
		res.errorEnvelope(429)
		if res.Header.Get("Retry-After") == "" {
			t.Error("429 without Retry-After")
		}
		if n := len(texts.Messages()); n != 1 {
			t.Fatalf("%d texts sent within the cooldown", n)
		}

		verify("12345").errorEnvelope(400)
		wrong := "000000"
		if code == wrong {
			wrong = "111111"
		}
		if m := verify(wrong).errorEnvelope(400); m["message"] != "Invalid verification code" {
			t.Fatalf("wrong code: %v", m)
		}
		got = verify(code).expect(200).Map()
		if got["phoneVerified"] != true || got["user"].(map[string]any)["phoneVerified"] != true {
			t.Fatalf("verify = %v", got)
		}
		if _, leaked := got["user"].(map[string]any)["passwordHash"]; leaked {
			t.Fatal("the answer carries the password hash")
		}
		if me := h.request("GET", "/auth/me", ann.Token, nil).expect(200).Map(); me["phoneVerified"] != true {
			t.Fatalf("me after verify = %v", me)
		}
		verify(code).errorEnvelope(409)
		send(nil).errorEnvelope(409)

		// Saving the same number keeps it verified; a new number is not.
		patch := func(phone any) map[string]any {
			return h.request("PATCH", "/auth/me", ann.Token, map[string]any{"phone": phone}).expect(200).Map()
		}
		if u := patch("+15550100100"); u["phoneVerified"] != true {
			t.Fatalf("same number unverified: %v", u)
		}
		if u := patch("+15550100199"); u["phoneVerified"] != false || u["phone"] != "+15550100199" {
			t.Fatalf("new number: %v", u)
		}

		// A code texted to one number does not verify the next one.
		h.clock.Advance(phoneCodeCooldown)
		send(nil).expect(200)
		oldCode := lastCode(t, texts, "+15550100199")
		patch("+15550100288")
		if oldCode != "000000" {
			verify(oldCode).errorEnvelope(400)
		}
		if u := patch(nil); u["phone"] != nil || u["phoneVerified"] != false {
			t.Fatalf("cleared phone: %v", u)
		}
		verify("123456").errorEnvelope(422)
	})
}

func TestPhoneVerificationCodeExpiresAndVoids(t *testing.T) {
	t.Parallel()
	texts := smstest.NewServer(t)
	h := sqliteHarness(t, harnessOptions{sms: twilioFor(t, texts)})
	ann := h.newUser("ann@example.com")
	const number = "+447700900123"
	send := func() {
		h.request("POST", "/user/phone/verification", ann.Token, map[string]any{"phone": number}).expect(200)
	}
	verify := func(code string) *response {
		return h.request("POST", "/user/phone/verify", ann.Token, map[string]any{"code": code})
	}
	other := func(code string) string {
		if code == "000000" {
			return "000001"
		}
		return "000000"
	}

	send()
	code := lastCode(t, texts, number)
	h.clock.Advance(phoneCodeTTL + time.Second)
	if m := verify(code).errorEnvelope(400); !strings.Contains(m["message"].(string), "expired") {
		t.Fatalf("expired code: %v", m)
	}

	send()
	code = lastCode(t, texts, number)
	for i := 1; i <= phoneCodeMaxTries; i++ {
		m := verify(other(code)).errorEnvelope(400)
		if i == phoneCodeMaxTries && !strings.Contains(m["message"].(string), "Too many wrong codes") {
			t.Fatalf("try %d: %v", i, m)
		}
	}
	verify(code).errorEnvelope(400)

	h.clock.Advance(phoneCodeCooldown)
	send()
	verify(lastCode(t, texts, number)).expect(200)
}

func TestPhoneVerificationWhenTheTextIsRefused(t *testing.T) {
	t.Parallel()
	texts := smstest.NewServer(t)
	h := sqliteHarness(t, harnessOptions{sms: twilioFor(t, texts)})
	ann := h.newUser("ann@example.com")
	send := func(phone string) *response {
		return h.request("POST", "/user/phone/verification", ann.Token, map[string]any{"phone": phone})
	}

	// A number that cannot receive texts is the user's to fix.
	if m := send(smstest.BlockedNumber).errorEnvelope(422); !strings.Contains(m["message"].(string), "unsubscribed recipient") {
		t.Fatalf("blocked number: %v", m)
	}
	h.clock.Advance(phoneCodeCooldown)
	send(smstest.LandlineNumber).errorEnvelope(422)

	// A provider outage is not: 502, try again after the cooldown.
	h.clock.Advance(phoneCodeCooldown)
	texts.FailNext(smstest.Failure{Status: 503, Code: 20503, Message: "Service unavailable"})
	res := send("+15550100100")
	res.errorEnvelope(502)
	if res.Header.Get("Retry-After") != "60" {
		t.Errorf("Retry-After = %q", res.Header.Get("Retry-After"))
	}
	send("+15550100100").errorEnvelope(429)
	h.clock.Advance(phoneCodeCooldown)
	send("+15550100100").expect(200)
	h.request("POST", "/user/phone/verify", ann.Token, map[string]any{"code": lastCode(t, texts, "+15550100100")}).expect(200)

	// Wrong credentials are the server's fault, not the user's.
	bad, err := sms.NewTwilio(sms.TwilioConfig{AccountSID: texts.AccountSID, AuthToken: "wrong", From: texts.From, BaseURL: texts.URL})
	if err != nil {
		t.Fatal(err)
	}
	h2 := sqliteHarness(t, harnessOptions{sms: bad})
	bo := h2.newUser("bo@example.com")
	h2.request("POST", "/user/phone/verification", bo.Token, map[string]any{"phone": "+15550100101"}).errorEnvelope(502)
}

func TestPhoneVerificationNeedsAnInternationalNumberAndSMS(t *testing.T) {
	t.Parallel()
	texts := smstest.NewServer(t)
	h := sqliteHarness(t, harnessOptions{sms: twilioFor(t, texts)})
	ann := h.newUser("ann@example.com")
	// PATCH /auth/me accepts a number as people write it locally.
	h.request("PATCH", "/auth/me", ann.Token, map[string]any{"phone": "555 0100"}).expect(200)
	if m := h.request("POST", "/user/phone/verification", ann.Token, nil).errorEnvelope(422); !strings.Contains(m["message"].(string), "country code") {
		t.Fatalf("local number: %v", m)
	}
	// Written with its country code and separators, it is stored as texted.
	h.request("PATCH", "/auth/me", ann.Token, map[string]any{"phone": "+1 555 010 0100"}).expect(200)
	if got := h.request("POST", "/user/phone/verification", ann.Token, map[string]any{}).expect(200).Map(); got["phone"] != "+15550100100" {
		t.Fatalf("send = %v", got)
	}
	if me := h.request("GET", "/auth/me", ann.Token, nil).expect(200).Map(); me["phone"] != "+15550100100" {
		t.Fatalf("me = %v", me)
	}
	if n := texts.Requests(); n != 1 {
		t.Fatalf("%d requests reached the SMS API", n)
	}

	off := sqliteHarness(t, harnessOptions{})
	bo := off.newUser("bo@example.com")
	if m := off.request("POST", "/user/phone/verification", bo.Token, map[string]any{"phone": "+15550100100"}).errorEnvelope(409); !strings.Contains(m["message"].(string), "not set up") {
		t.Fatalf("without SMS: %v", m)
	}
	if me := off.request("GET", "/auth/me", bo.Token, nil).expect(200).Map(); me["phone"] != nil {
		t.Fatalf("the number was saved although no code could be sent: %v", me)
	}
}

func TestPermissionMatrixPhoneVerification(t *testing.T) {
	t.Parallel()
	texts := smstest.NewServer(t)
	runMatrixWith(t, harnessOptions{sms: twilioFor(t, texts)}, []matrixCase{
		{"send phone code", "POST", withBody(map[string]any{"phone": "+15550100100"}, "/user/phone/verification"), signedIn(200)},
		// Each signed-in caller now has a code; this one is wrong.
		{"verify phone", "POST", withBody(map[string]any{"code": "000000"}, "/user/phone/verify"), signedIn(400)},
	})
}
