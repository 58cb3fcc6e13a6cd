package api

import (
	"context"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/carecircle/carecircle/internal/auth"
	"github.com/carecircle/carecircle/internal/care"
)

const strongPassword = "Correct-horse-42"

var (
	codeRE  = regexp.MustCompile(`\b(\d{6})\b`)
	resetRE = regexp.MustCompile(`/reset-password\?token=([A-Za-z0-9_-]+)`)
)

// register signs up addr and returns the code mailed to it.
func (h *harness) register(addr string) string {
	h.t.Helper()
	h.request("POST", "/auth/register", "", map[string]any{
		"fullName": "Ann Lee", "email": addr, "password": strongPassword,
	}).expect(201)
	return h.mailedCode(addr)
}

// mailedCode reads the code from the newest mail to addr.
func (h *harness) mailedCode(addr string) string {
	h.t.Helper()
	m := codeRE.FindStringSubmatch(h.mail.last(h.t, addr).Text)
	if m == nil {
		h.t.Fatalf("no code in the mail to %s", addr)
	}
	return m[1]
}

// verify spends a code and answers the response.
func (h *harness) verify(addr, code string) *response {
	h.t.Helper()
	return h.request("POST", "/auth/verify-email", "", map[string]any{"email": addr, "otp": code})
}

// login signs in and answers the response.
func (h *harness) login(addr, password string, extra ...any) *response {
	h.t.Helper()
	body := map[string]any{"email": addr, "password": password}
	for i := 0; i+1 < len(extra); i += 2 {
		body[extra[i].(string)] = extra[i+1]
	}
	return h.request("POST", "/auth/login", "", body)
}

// signIn answers the access and refresh token of a successful sign-in.
func signIn(r *response) (access, refresh string) {
	r.t.Helper()
	var v struct {
		Tokens       tokenPair `json:"tokens"`
		AccessToken  string    `json:"accessToken"`
		RefreshToken string    `json:"refreshToken"`
	}
	r.expect(200).JSON(&v)
	if v.Tokens.AccessToken == "" || v.Tokens.RefreshToken == "" || v.AccessToken != v.Tokens.AccessToken || v.RefreshToken != v.Tokens.RefreshToken {
		r.t.Fatalf("sign-in tokens missing or inconsistent: %s", r.Body)
	}
	return v.AccessToken, v.RefreshToken
}

// message asserts an error's message.
func expectMessage(t *testing.T, m map[string]any, want string) {
	t.Helper()
	if m["message"] != want {
		t.Fatalf("message = %q, want %q", m["message"], want)
	}
}

// cookies parses the Set-Cookie headers of a response by name.
func (r *response) cookies() map[string]*http.Cookie {
	out := map[string]*http.Cookie{}
	for _, c := range (&http.Response{Header: r.Header}).Cookies() {
		out[c.Name] = c
	}
	return out
}

func TestSignUpVerifyAndRefreshRotation(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, h *harness) {
		const addr = "ann@example.com"
		reg := h.request("POST", "/auth/register", "", map[string]any{
			"fullName": "  Ann Lee ", "email": " Ann@Example.com", "password": strongPassword, "phone": "+1 555 0100",
		}).expect(201).Map()
		user := reg["user"].(map[string]any)
		if user["email"] != addr || user["fullName"] != "Ann Lee" || !validUUID(user["id"].(string)) || len(user) != 3 {
			t.Fatalf("register user = %v", user)
		}
		if reg["message"] == "" {
			t.Fatalf("register message missing: %v", reg)
		}
		code := h.mailedCode(addr)
		if !strings.Contains(h.mail.last(t, addr).Text, "http://carecircle.test/verify-email?email=ann%40example.com") {
			t.Fatalf("verification mail lacks the page link: %s", h.mail.last(t, addr).Text)
		}

		// Not yet verified: no sign-in, however right the password.
		expectMessage(t, h.login(addr, strongPassword).errorEnvelope(403), "Please verify your email")
		// Someone else signing up with the address is refused; the same
		// person again (same password) within a minute is told to use the
		// code just sent, and no second mail goes out.
		h.request("POST", "/auth/register", "", map[string]any{
			"fullName": "Other", "email": addr, "password": "Another-horse-43",
		}).errorEnvelope(409)
		h.request("POST", "/auth/register", "", map[string]any{
			"fullName": "Ann Lee", "email": addr, "password": strongPassword,
		}).expect(201)
		if n := h.mail.count(addr); n != 1 {
			t.Fatalf("a repeated sign-up within the cooldown sent %d mails, want 1", n)
		}

		wrong := "000000"
		if code == wrong {
			wrong = "111111"
		}
		h.verify(addr, wrong).errorEnvelope(400)
		res := h.verify(addr, code)
		access, refresh := signIn(res)
		body := res.Map()
		u := body["user"].(map[string]any)
		if u["status"] != "ACTIVE" || u["emailVerified"] != true || u["timezone"] != care.DefaultTimezone || u["phone"] != "+1 555 0100" {
			t.Fatalf("verified user = %v", u)
		}
		if _, leaked := u["passwordHash"]; leaked || strings.Contains(string(res.Body), "argon2") {
			t.Fatalf("password hash serialised: %s", res.Body)
		}
		c := res.cookies()
		if c["access_token"] == nil || c["access_token"].Value != access || !c["access_token"].HttpOnly ||
			c["refresh_token"] == nil || c["refresh_token"].Value != refresh || c["refresh_token"].Path != "/api/v1/auth" {
			t.Fatalf("auth cookies = %v", res.Header["Set-Cookie"])
		}
		// The code is spent.
		h.verify(addr, code).errorEnvelope(400)

		me := h.request("GET", "/auth/me", access, nil).expect(200).Map()
		if me["email"] != addr || me["status"] != "ACTIVE" {
			t.Fatalf("me = %v", me)
		}
		if fams, ok := me["families"].([]any); !ok || len(fams) != 0 {
			t.Fatalf("families = %v, want []", me["families"])
		}

		// Refresh rotates the refresh token and issues a working access token.
		h.clock.Advance(time.Minute)
		var rot tokenPair
		rres := h.request("POST", "/auth/refresh", "", map[string]any{"refreshToken": refresh}).expect(200)
		rres.JSON(&rot)
		if rot.RefreshToken == "" || rot.RefreshToken == refresh || rot.AccessToken == "" || rres.cookies()["refresh_token"].Value != rot.RefreshToken {
			t.Fatalf("refresh = %s", rres.Body)
		}
		h.request("GET", "/auth/me", rot.AccessToken, nil).expect(200)

		// Presenting the rotated token again is theft: the session ends.
		m := h.request("POST", "/auth/refresh", "", map[string]any{"refreshToken": refresh}).errorEnvelope(401)
		if !strings.Contains(m["message"].(string), "already used") {
			t.Fatalf("reuse message = %v", m["message"])
		}
		h.request("GET", "/auth/me", rot.AccessToken, nil).errorEnvelope(401)
		h.request("GET", "/auth/me", access, nil).errorEnvelope(401)
		h.request("POST", "/auth/refresh", "", map[string]any{"refreshToken": rot.RefreshToken}).errorEnvelope(401)

		// The password still works for a new session.
		a2, _ := signIn(h.login(addr, strongPassword))
		h.request("GET", "/auth/me", a2, nil).expect(200)
	})
}

func TestRegisterValidation(t *testing.T) {
	t.Parallel()
	h := sqliteHarness(t, harnessOptions{})
	valid := func() map[string]any {
		return map[string]any{"fullName": "Ann", "email": "ann@example.com", "password": strongPassword}
	}
	cases := map[string]struct {
		change func(map[string]any)
		field  string
	}{
		"missing name":   {func(b map[string]any) { delete(b, "fullName") }, "fullName"},
		"blank name":     {func(b map[string]any) { b["fullName"] = "   " }, "fullName"},
		"bad email":      {func(b map[string]any) { b["email"] = "ann" }, "email"},
		"short password": {func(b map[string]any) { b["password"] = "Short1" }, "password"},
		"no digit":       {func(b map[string]any) { b["password"] = "NoDigitsHereAtAll" }, "password"},
		"no upper":       {func(b map[string]any) { b["password"] = "lowercase12345" }, "password"},
		"unknown zone":   {func(b map[string]any) { b["timezone"] = "Mars/Olympus" }, "timezone"},
		"Local zone":     {func(b map[string]any) { b["timezone"] = "Local" }, "timezone"},
		"bad phone":      {func(b map[string]any) { b["phone"] = "call me" }, "phone"},
		"unknown field":  {func(b map[string]any) { b["role"] = "ADMIN" }, "role"},
		"wrong type":     {func(b map[string]any) { b["fullName"] = 42 }, "fullName"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			b := valid()
			tc.change(b)
			m := h.request("POST", "/auth/register", "", b).errorEnvelope(400)
			errs, _ := m["errors"].(map[string]any)
			if _, ok := errs[tc.field]; !ok || !strings.HasPrefix(m["message"].(string), "Validation failed for: ") {
				t.Fatalf("errors = %v, want a %q entry", m, tc.field)
			}
		})
	}
	if n := h.mail.count("ann@example.com"); n != 0 {
		t.Fatalf("refused sign-ups sent %d mails", n)
	}
	// Nothing was created: the address is still free.
	b := valid()
	b["timezone"] = "Asia/Tokyo"
	h.request("POST", "/auth/register", "", b).expect(201)
	access, _ := signIn(h.verify("ann@example.com", h.mailedCode("ann@example.com")))
	if tz := h.request("GET", "/auth/me", access, nil).expect(200).Map()["timezone"]; tz != "Asia/Tokyo" {
		t.Fatalf("timezone = %v", tz)
	}
}

func TestVerificationCodeLifetime(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, h *harness) {
		// Just inside five minutes the code works.
		code := h.register("in@example.com")
		h.clock.Advance(5*time.Minute - time.Second)
		signIn(h.verify("in@example.com", code))

		// At five minutes it has expired; a new one must be asked for.
		code = h.register("out@example.com")
		h.clock.Advance(5 * time.Minute)
		m := h.verify("out@example.com", code).errorEnvelope(400)
		expectMessage(t, m, "The verification code has expired. Request a new one.")
		h.request("POST", "/auth/resend-verification", "", map[string]any{"email": "out@example.com"}).expect(200)
		fresh := h.mailedCode("out@example.com")
		if fresh != code {
			h.verify("out@example.com", code).errorEnvelope(400)
		}
		signIn(h.verify("out@example.com", fresh))
	})
}

func TestVerificationCodeVoidedAfterFiveWrongTries(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, h *harness) {
		const addr = "ann@example.com"
		code := h.register(addr)
		wrong := "123456"
		if code == wrong {
			wrong = "654321"
		}
		for i := 1; i <= 4; i++ {
			expectMessage(t, h.verify(addr, wrong).errorEnvelope(400), "Invalid verification code")
		}
		voided := "Too many wrong codes. Request a new verification code."
		expectMessage(t, h.verify(addr, wrong).errorEnvelope(400), voided)
		// Even the right code no longer works.
		expectMessage(t, h.verify(addr, code).errorEnvelope(400), voided)
		expectMessage(t, h.login(addr, strongPassword).errorEnvelope(403), "Please verify your email")

		h.clock.Advance(time.Minute)
		h.request("POST", "/auth/resend-verification", "", map[string]any{"email": addr}).expect(200)
		signIn(h.verify(addr, h.mailedCode(addr)))

		// A malformed code is a validation error, not a try.
		m := h.verify(addr, "12ab56").errorEnvelope(400)
		if _, ok := m["errors"].(map[string]any)["otp"]; !ok {
			t.Fatalf("malformed otp = %v", m)
		}
		// Codes for unknown addresses fail like wrong ones.
		expectMessage(t, h.verify("nobody@example.com", "123456").errorEnvelope(400), "Invalid or expired verification code")
	})
}

func TestResendVerification(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, h *harness) {
		const addr = "ann@example.com"
		first := h.register(addr)
		resend := func(email string) *response {
			return h.request("POST", "/auth/resend-verification", "", map[string]any{"email": email})
		}

		// The registration mail started the one-minute cooldown.
		r := resend(addr)
		r.errorEnvelope(429)
		if r.Header.Get("Retry-After") != "60" {
			t.Fatalf("Retry-After = %q, want 60", r.Header.Get("Retry-After"))
		}
		h.clock.Advance(45 * time.Second)
		if r := resend(addr); r.Status != 429 || r.Header.Get("Retry-After") != "15" {
			t.Fatalf("resend after 45 s = %d, Retry-After %q", r.Status, r.Header.Get("Retry-After"))
		}
		if n := h.mail.count(addr); n != 1 {
			t.Fatalf("refused resends sent mail: %d messages", n)
		}
		h.clock.Advance(15 * time.Second)
		generic := resend(addr).expect(200).Map()["message"]
		if h.mail.count(addr) != 2 {
			t.Fatalf("resend sent no mail")
		}
		second := h.mailedCode(addr)
		if second != first {
			h.verify(addr, first).errorEnvelope(400)
		}

		// Unknown and verified addresses get the same answer and no mail.
		if got := resend("nobody@example.com").expect(200).Map()["message"]; got != generic {
			t.Fatalf("unknown address message %q, want %q", got, generic)
		}
		signIn(h.verify(addr, second))
		h.clock.Advance(time.Hour)
		if got := resend(addr).expect(200).Map()["message"]; got != generic {
			t.Fatalf("verified address message %q, want %q", got, generic)
		}
		if n := h.mail.count(addr) + h.mail.count("nobody@example.com"); n != 2 {
			t.Fatalf("mail sent to unknown or verified address: %d messages", n)
		}
		resend("not-an-email").errorEnvelope(400)
	})
}

func TestLoginLockout(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, h *harness) {
		u := h.newUser("ann@example.com")
		const invalid = "Invalid email or password"
		const locked = "Account is locked. Try again later."
		expectMessage(t, h.login("nobody@example.com", "Password1234").errorEnvelope(401), invalid)
		for i := 1; i <= 4; i++ {
			expectMessage(t, h.login(u.Email, "Wrong-password-1").errorEnvelope(401), invalid)
		}
		// A success in between starts the count again.
		signIn(h.login(u.Email, "Password1234"))
		for i := 1; i <= 5; i++ {
			expectMessage(t, h.login(u.Email, "Wrong-password-1").errorEnvelope(401), invalid)
		}
		// Five in a row lock the account, even against the right password.
		expectMessage(t, h.login(u.Email, "Password1234").errorEnvelope(403), locked)
		h.clock.Advance(30*time.Minute - time.Second)
		expectMessage(t, h.login(u.Email, "Password1234").errorEnvelope(403), locked)
		h.clock.Advance(time.Second)
		access, _ := signIn(h.login(u.Email, "Password1234"))
		if me := h.request("GET", "/auth/me", access, nil).expect(200).Map(); me["lastLoginAt"] == nil {
			t.Fatalf("lastLoginAt not set: %v", me)
		}
	})
}

func TestLoginRefusesInactiveAccounts(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, h *harness) {
		for _, status := range []care.UserStatus{care.UserSuspended, care.UserDeleted} {
			u := h.newUser(strings.ToLower(string(status)) + "@example.com")
			if _, err := h.store.DB().Exec(`UPDATE users SET status = $1 WHERE id = $2`, status, u.ID); err != nil {
				t.Fatal(err)
			}
			expectMessage(t, h.login(u.Email, "Password1234").errorEnvelope(403), "Account is not active")
			// The wrong password still says only that.
			expectMessage(t, h.login(u.Email, "Wrong-password-1").errorEnvelope(401), "Invalid email or password")
		}
		h.request("POST", "/auth/login", "", map[string]any{"email": "a@example.com"}).errorEnvelope(400)
		h.request("POST", "/auth/login", "", map[string]any{"email": "a@example.com", "password": "x", "remember": true}).errorEnvelope(400)
		h.request("POST", "/auth/login", "", map[string]any{"email": "a@example.com", "password": "x", "rememberMe": "yes"}).errorEnvelope(400)
	})
}

func TestSessionsListAndLifetime(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, h *harness) {
		u := h.newUser("ann@example.com")
		const firefox = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0"
		res := h.request("POST", "/auth/login", "", map[string]any{"email": u.Email, "password": "Password1234", "rememberMe": true},
			"User-Agent", firefox, "X-Forwarded-For", "203.0.113.7")
		remembered, rememberedRefresh := signIn(res)
		if maxAge := res.cookies()["refresh_token"].MaxAge; maxAge != int((30 * 24 * time.Hour).Seconds()) {
			t.Fatalf("remembered refresh cookie Max-Age = %d", maxAge)
		}
		_, shortRefresh := signIn(h.login(u.Email, "Password1234"))

		list := h.request("GET", "/auth/sessions", remembered, nil).expect(200).List()
		if len(list) != 3 { // newUser's own session, and the two above
			t.Fatalf("sessions = %v", list)
		}
		var current []map[string]any
		for _, s := range list {
			if s["current"] == true {
				current = append(current, s)
			}
		}
		if len(current) != 1 {
			t.Fatalf("current sessions = %v", current)
		}
		cur := current[0]
		if cur["ipAddress"] != "203.0.113.7" || cur["userAgent"] != firefox || cur["deviceInfo"] != "Firefox on Windows" {
			t.Fatalf("current session = %v", cur)
		}
		if exp := testStart.Add(30 * 24 * time.Hour).Format(time.RFC3339); !strings.HasPrefix(cur["expiresAt"].(string), exp[:19]) {
			t.Fatalf("remembered session expires %v, want %v", cur["expiresAt"], exp)
		}
		for _, k := range []string{"userId", "refreshHash", "revokedAt", "rememberMe"} {
			if _, ok := cur[k]; ok {
				t.Fatalf("session exposes %q: %v", k, cur)
			}
		}

		// A plain session ends after 7 days; the remembered one, refreshed,
		// lives on with its 30-day lifetime.
		h.clock.Advance(7*24*time.Hour + time.Minute)
		h.request("POST", "/auth/refresh", "", map[string]any{"refreshToken": shortRefresh}).errorEnvelope(401)
		var rot tokenPair
		h.request("POST", "/auth/refresh", "", map[string]any{"refreshToken": rememberedRefresh}).expect(200).JSON(&rot)
		list = h.request("GET", "/auth/sessions", rot.AccessToken, nil).expect(200).List()
		if len(list) != 1 || list[0]["current"] != true {
			t.Fatalf("sessions after a week = %v", list)
		}
		want := h.clock.Now().Add(30 * 24 * time.Hour).Format(time.RFC3339)
		if !strings.HasPrefix(list[0]["expiresAt"].(string), want[:19]) {
			t.Fatalf("refreshed session expires %v, want %v", list[0]["expiresAt"], want)
		}
	})
}

func TestRefreshFromCookie(t *testing.T) {
	t.Parallel()
	h := sqliteHarness(t, harnessOptions{})
	u := h.newUser("ann@example.com")
	_, refresh := signIn(h.login(u.Email, "Password1234"))
	send := func(cookie, origin string) *response {
		req, _ := http.NewRequest("POST", h.srv.URL+"/api/v1/auth/refresh", nil)
		if cookie != "" {
			req.AddCookie(&http.Cookie{Name: "refresh_token", Value: cookie})
		}
		if origin != "" {
			req.Header.Set("Origin", origin)
		}
		res, err := h.srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		return &response{t: t, Status: res.StatusCode, Header: res.Header}
	}
	if r := send(refresh, "https://evil.example"); r.Status != 403 {
		t.Fatalf("cookie refresh from a foreign origin = %d, want 403", r.Status)
	}
	r := send(refresh, "http://carecircle.test")
	if r.Status != 200 || r.cookies()["refresh_token"] == nil || r.cookies()["refresh_token"].Value == refresh {
		t.Fatalf("cookie refresh = %d, cookies %v", r.Status, r.Header["Set-Cookie"])
	}
	if r := send("", "http://carecircle.test"); r.Status != 401 {
		t.Fatalf("refresh without a token = %d, want 401", r.Status)
	}
	h.request("POST", "/auth/refresh", "", map[string]any{"refreshToken": "not-a-token"}).errorEnvelope(401)
	h.request("POST", "/auth/refresh", "", map[string]any{"refreshToken": 5}).errorEnvelope(400)
}

func TestLogoutAndLogoutAll(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, h *harness) {
		u := h.newUser("ann@example.com")
		a, aRefresh := signIn(h.login(u.Email, "Password1234"))
		b, _ := signIn(h.login(u.Email, "Password1234"))
		c, cRefresh := signIn(h.login(u.Email, "Password1234"))

		res := h.request("POST", "/auth/logout", a, nil).expect(200)
		if res.Map()["message"] == nil {
			t.Fatalf("logout body = %s", res.Body)
		}
		if ck := res.cookies()["access_token"]; ck == nil || ck.MaxAge >= 0 {
			t.Fatalf("logout did not clear cookies: %v", res.Header["Set-Cookie"])
		}
		h.request("GET", "/auth/me", a, nil).errorEnvelope(401)
		h.request("POST", "/auth/refresh", "", map[string]any{"refreshToken": aRefresh}).errorEnvelope(401)
		h.request("GET", "/auth/me", b, nil).expect(200)
		h.request("GET", "/auth/me", c, nil).expect(200)

		// Logging out with another session's refresh token ends that one too.
		h.request("POST", "/auth/logout", b, map[string]any{"refreshToken": cRefresh}).expect(200)
		h.request("GET", "/auth/me", c, nil).errorEnvelope(401)
		h.request("GET", "/auth/me", u.Token, nil).expect(200)

		d, _ := signIn(h.login(u.Email, "Password1234"))
		h.request("POST", "/auth/logout-all", d, map[string]any{"everywhere": true}).errorEnvelope(400)
		h.request("POST", "/auth/logout-all", d, nil).expect(200)
		h.request("GET", "/auth/me", d, nil).errorEnvelope(401)
		h.request("GET", "/auth/me", u.Token, nil).errorEnvelope(401)
		h.request("POST", "/auth/logout", d, nil).errorEnvelope(401)
	})
}

func TestPasswordResetFlow(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, h *harness) {
		u := h.newUser("ann@example.com")
		other, _ := signIn(h.login(u.Email, "Password1234"))
		forgot := func(email string) string {
			return h.request("POST", "/auth/forgot-password", "", map[string]any{"email": email}).expect(200).Map()["message"].(string)
		}
		generic := forgot("nobody@example.com")
		if h.mail.count("nobody@example.com") != 0 {
			t.Fatal("reset mail sent to an unknown address")
		}
		if got := forgot(u.Email); got != generic {
			t.Fatalf("known address message %q, want %q", got, generic)
		}
		link := resetRE.FindStringSubmatch(h.mail.last(t, u.Email).Text)
		if link == nil || !strings.Contains(h.mail.last(t, u.Email).Text, "http://carecircle.test/reset-password?token=") {
			t.Fatalf("no reset link in %q", h.mail.last(t, u.Email).Text)
		}
		token := link[1]

		v := h.request("GET", "/auth/verify-reset-token/"+token, "", nil).expect(200).Map()
		if v["valid"] != true || v["email"] != "a***@example.com" {
			t.Fatalf("verify-reset-token = %v", v)
		}
		h.request("GET", "/auth/verify-reset-token/not-a-token", "", nil).errorEnvelope(400)

		// A weak password is refused and leaves the link usable.
		m := h.request("POST", "/auth/reset-password", "", map[string]any{"token": token, "newPassword": "weak"}).errorEnvelope(400)
		if _, ok := m["errors"].(map[string]any)["newPassword"]; !ok {
			t.Fatalf("weak password = %v", m)
		}
		h.request("POST", "/auth/reset-password", "", map[string]any{"token": "bogus", "newPassword": strongPassword}).errorEnvelope(400)
		h.request("GET", "/auth/me", other, nil).expect(200)

		h.request("POST", "/auth/reset-password", "", map[string]any{"token": token, "newPassword": strongPassword}).expect(200)
		// Every session ended; only the new password signs in.
		h.request("GET", "/auth/me", other, nil).errorEnvelope(401)
		h.request("GET", "/auth/me", u.Token, nil).errorEnvelope(401)
		h.login(u.Email, "Password1234").errorEnvelope(401)
		signIn(h.login(u.Email, strongPassword))

		// The link works once.
		h.request("GET", "/auth/verify-reset-token/"+token, "", nil).errorEnvelope(400)
		h.request("POST", "/auth/reset-password", "", map[string]any{"token": token, "newPassword": "Another-pass-77"}).errorEnvelope(400)
		signIn(h.login(u.Email, strongPassword))

		// And for one hour.
		forgot(u.Email)
		late := resetRE.FindStringSubmatch(h.mail.last(t, u.Email).Text)[1]
		h.clock.Advance(time.Hour)
		h.request("GET", "/auth/verify-reset-token/"+late, "", nil).errorEnvelope(400)
		h.request("POST", "/auth/reset-password", "", map[string]any{"token": late, "newPassword": "Another-pass-77"}).errorEnvelope(400)
		signIn(h.login(u.Email, strongPassword))
	})
}

func TestChangePassword(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, h *harness) {
		u := h.newUser("ann@example.com")
		current, _ := signIn(h.login(u.Email, "Password1234"))
		change := func(cur, next string) *response {
			return h.request("POST", "/auth/change-password", current, map[string]any{"currentPassword": cur, "newPassword": next})
		}
		cases := map[string]struct {
			cur, next, field string
		}{
			"wrong current": {"Wrong-password-1", strongPassword, "currentPassword"},
			"weak new":      {"Password1234", "weakweakweak", "newPassword"},
			"same as old":   {"Password1234", "Password1234", "newPassword"},
			"missing":       {"", strongPassword, "currentPassword"},
		}
		for name, tc := range cases {
			t.Run(name, func(t *testing.T) {
				m := change(tc.cur, tc.next).errorEnvelope(400)
				if _, ok := m["errors"].(map[string]any)[tc.field]; !ok {
					t.Fatalf("errors = %v, want %q", m, tc.field)
				}
			})
		}
		// None of that changed anything.
		h.request("GET", "/auth/me", u.Token, nil).expect(200)

		change("Password1234", strongPassword).expect(200)
		h.request("GET", "/auth/me", current, nil).expect(200)
		h.request("GET", "/auth/me", u.Token, nil).errorEnvelope(401)
		h.login(u.Email, "Password1234").errorEnvelope(401)
		signIn(h.login(u.Email, strongPassword))
	})
}

func TestPatchMe(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, h *harness) {
		u := h.newUser("ann@example.com")
		patch := func(body any) *response { return h.request("PATCH", "/auth/me", u.Token, body) }

		got := patch(map[string]any{"fullName": " Ann B. Lee ", "phone": "+44 20 7946 0958",
			"timezone": "Europe/London", "avatarUrl": "https://cdn.example.com/a.png"}).expect(200).Map()
		if got["fullName"] != "Ann B. Lee" || got["phone"] != "+44 20 7946 0958" || got["timezone"] != "Europe/London" ||
			got["avatarUrl"] != "https://cdn.example.com/a.png" || got["email"] != u.Email {
			t.Fatalf("patched = %v", got)
		}
		before := h.request("GET", "/auth/me", u.Token, nil).expect(200).Map()

		bad := map[string]struct {
			body  string
			field string
		}{
			"unknown zone":      {`{"timezone":"Mars/Olympus"}`, "timezone"},
			"null zone":         {`{"timezone":null}`, "timezone"},
			"null name":         {`{"fullName":null}`, "fullName"},
			"blank name":        {`{"fullName":"  "}`, "fullName"},
			"long name":         {`{"fullName":"` + strings.Repeat("x", 101) + `"}`, "fullName"},
			"name as number":    {`{"fullName":5}`, "fullName"},
			"phone as bool":     {`{"phone":true}`, "phone"},
			"bad phone":         {`{"phone":"ring ring"}`, "phone"},
			"avatar not a URL":  {`{"avatarUrl":"javascript:alert(1)"}`, "avatarUrl"},
			"unknown field":     {`{"email":"evil@example.com"}`, "email"},
			"one bad, one good": {`{"fullName":"Fine","timezone":"Nowhere/Land"}`, "timezone"},
		}
		for name, tc := range bad {
			t.Run(name, func(t *testing.T) {
				m := patch(tc.body).errorEnvelope(400)
				if _, ok := m["errors"].(map[string]any)[tc.field]; !ok {
					t.Fatalf("errors = %v, want %q", m, tc.field)
				}
			})
		}
		patch(`[]`).errorEnvelope(400)
		patch(nil).errorEnvelope(400)
		after := h.request("GET", "/auth/me", u.Token, nil).expect(200).Map()
		for _, k := range []string{"fullName", "phone", "timezone", "avatarUrl", "updatedAt"} {
			if after[k] != before[k] {
				t.Fatalf("refused patches changed %s: %v → %v", k, before[k], after[k])
			}
		}

		// Explicit nulls clear the optional fields; absent ones stay.
		got = patch(`{"phone":null,"avatarUrl":null}`).expect(200).Map()
		if got["phone"] != nil || got["avatarUrl"] != nil || got["fullName"] != "Ann B. Lee" || got["timezone"] != "Europe/London" {
			t.Fatalf("cleared = %v", got)
		}
	})
}

func TestMeListsFamilies(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, h *harness) {
		u := h.newUser("ann@example.com")
		f, _, err := h.store.CreateFamily(context.Background(), "The Lees", u.ID, nil)
		if err != nil {
			t.Fatal(err)
		}
		me := h.request("GET", "/auth/me", u.Token, nil).expect(200).Map()
		fams := me["families"].([]any)
		if len(fams) != 1 {
			t.Fatalf("families = %v", fams)
		}
		fam := fams[0].(map[string]any)
		if fam["id"] != f.ID || fam["name"] != "The Lees" || fam["role"] != "ADMIN" {
			t.Fatalf("family = %v", fam)
		}
		if crs, ok := fam["careRecipients"].([]any); !ok || len(crs) != 0 {
			t.Fatalf("careRecipients = %v, want []", fam["careRecipients"])
		}
	})
}

func TestCompleteOnboarding(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, h *harness) {
		u := h.newUser("ann@example.com")
		if h.request("GET", "/auth/me", u.Token, nil).expect(200).Map()["onboardingCompleted"] != false {
			t.Fatal("new user already onboarded")
		}
		h.request("POST", "/auth/complete-onboarding", u.Token, `{"done":true}`).errorEnvelope(400)
		got := h.request("POST", "/auth/complete-onboarding", u.Token, nil).expect(200).Map()
		if got["message"] == nil || got["user"].(map[string]any)["onboardingCompleted"] != true || got["user"].(map[string]any)["id"] != u.ID {
			t.Fatalf("complete-onboarding = %v", got)
		}
		if h.request("GET", "/auth/me", u.Token, nil).expect(200).Map()["onboardingCompleted"] != true {
			t.Fatal("onboarding not recorded")
		}
		h.request("POST", "/auth/complete-onboarding", "", nil).errorEnvelope(401)
	})
}

func TestAuthAccountLimits(t *testing.T) {
	t.Parallel()
	h := sqliteHarness(t, harnessOptions{rateLimit: true})
	u := h.newUser("ann@example.com")
	// Each request from a new address and a second apart, so that only the
	// per-account limits apply.
	from := func(i int) []string { return []string{"X-Forwarded-For", "198.51.100." + strconv.Itoa(i)} }
	for i := 1; i <= 10; i++ {
		h.clock.Advance(time.Second)
		r := h.request("POST", "/auth/login", "", map[string]any{"email": u.Email, "password": "Wrong-password-1"}, from(i)...)
		if r.Status != 401 && r.Status != 403 {
			t.Fatalf("login %d = %d: %s", i, r.Status, r.Body)
		}
	}
	h.clock.Advance(time.Second)
	r := h.request("POST", "/auth/login", "", map[string]any{"email": u.Email, "password": "Password1234"}, from(11)...)
	expectMessage(t, r.errorEnvelope(429), "Too many requests. Please try again later.")
	if r.Header.Get("Retry-After") == "" {
		t.Fatal("429 without Retry-After")
	}
	// Another account is not affected.
	h.request("POST", "/auth/login", "", map[string]any{"email": "bo@example.com", "password": "x"}, from(12)...).errorEnvelope(401)

	for i := 1; i <= 3; i++ {
		h.clock.Advance(time.Second)
		h.request("POST", "/auth/forgot-password", "", map[string]any{"email": u.Email}, from(20+i)...).expect(200)
	}
	h.clock.Advance(time.Second)
	h.request("POST", "/auth/forgot-password", "", map[string]any{"email": u.Email}, from(30)...).errorEnvelope(429)
	if n := h.mail.count(u.Email); n != 3 {
		t.Fatalf("reset mails = %d, want 3", n)
	}
}

func TestDummyPasswordHashIsReal(t *testing.T) {
	t.Parallel()
	// Were it malformed, CheckPassword would return at once and an unknown
	// email would answer measurably faster than a wrong password.
	if !auth.CheckPassword(dummyPasswordHash, "not-a-real-password-dummy") {
		t.Fatal("dummyPasswordHash is not a working argon2id hash")
	}
}

func TestDeviceLabel(t *testing.T) {
	t.Parallel()
	cases := map[string]string{
		"Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15":            "Safari on macOS",
		"Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Mobile Safari/537.36":         "Chrome on Android",
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36 Edg/126.0.0.0": "Edge on Windows",
		"Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/126.0 Mobile/15E148":     "Chrome on iOS",
		"curl/8.5.0": "curl",
		"":           "",
	}
	for ua, want := range cases {
		if got := deviceLabel(ua); got != want {
			t.Errorf("deviceLabel(%q) = %q, want %q", ua, got, want)
		}
	}
}
