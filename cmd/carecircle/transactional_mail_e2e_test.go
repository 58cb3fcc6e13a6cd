package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/carecircle/carecircle/internal/mail"
)

// TestTransactionalMailEndToEnd runs the real binary on each database with
// EMAIL_DAILY_LIMIT=10 over a real SMTP relay (routine mail stops at 8,
// transactional mail at 9). While the relay refuses, sign-up and resend
// answer 503 with a short Retry-After and leave no code and no cooldown; a
// resend once it accepts again brings a code that verifies. With routine
// mail's share of the day spent, a verification code still arrives; once
// the transactional share is spent too, sign-up and resend answer 503 with
// Retry-After to midnight UTC, and nothing reaches the relay.
func TestTransactionalMailEndToEnd(t *testing.T) {
	t.Parallel()
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			mx := startMailSink(t)
			port := freePort(t)
			env, st := processData(t, backend, port)
			env["SMTP_HOST"], env["SMTP_PORT"], env["EMAIL_DAILY_LIMIT"] = "127.0.0.1", strconv.Itoa(mx.port), "10"
			// Routine mail (reminders, digests) has already sent 5 today:
			// the day's count, as the channels consumer keeps it.
			day := time.Now().UTC().Format(time.DateOnly)
			for range 5 {
				if _, err := st.IncrCounter(context.Background(), "mail:quota:smtp:"+day, 48*time.Hour); err != nil {
					t.Fatal(err)
				}
			}
			startProcess(t, env)
			base := "http://127.0.0.1:" + strconv.Itoa(port)
			waitHealthy(t, base, "/health/ready")
			c := &mailClient{t: t, base: base, mx: mx}

			// The relay refuses: a short wait, no code, no cooldown.
			mx.refuse.Store(true)
			r := c.post("/auth/register", map[string]any{"fullName": "Ann Lee", "email": "ann@example.com", "password": "Correct-horse-42"})
			r.expect503(t, 60*time.Second, 0)
			c.post("/auth/verify-email", map[string]any{"email": "ann@example.com", "otp": "123456"}).expect(t, 400)
			c.post("/auth/resend-verification", map[string]any{"email": "ann@example.com"}).expect503(t, 60*time.Second, 0)
			if n := len(mx.all()); n != 0 {
				t.Fatalf("%d messages reached the relay while it refused", n)
			}
			// Accepting again: the next resend brings a code that works.
			mx.refuse.Store(false)
			c.post("/auth/resend-verification", map[string]any{"email": "ann@example.com"}).expect(t, 200)
			c.verify("ann@example.com", c.code("ann@example.com"))

			// Three tries so far and five routine mails: routine mail's
			// share (8 of 10) is spent.
			quota := c.quota()
			if quota.Used != 8 || quota.Classes["routine"].Left != 0 || quota.Classes["transactional"].Left != 1 || quota.Classes["critical"].Left != 2 {
				t.Fatalf("/health emailQuota = %+v; want 8 used, routine 0, transactional 1, critical 2 left", quota)
			}
			c.post("/auth/register", map[string]any{"fullName": "Bo Lee", "email": "bo@example.com", "password": "Correct-horse-42"}).expect(t, 201)
			c.verify("bo@example.com", c.code("bo@example.com"))

			// Nothing but emergencies may send today: 503 until midnight UTC.
			mark := len(mx.all())
			now := time.Now()
			untilMidnight := mail.NextDay(now).Sub(now)
			c.post("/auth/register", map[string]any{"fullName": "Cy Lee", "email": "cy@example.com", "password": "Correct-horse-42"}).
				expect503(t, untilMidnight, 5*time.Second)
			for range 2 { // no cooldown started: 503 again, not 429
				c.post("/auth/resend-verification", map[string]any{"email": "cy@example.com"}).expect503(t, untilMidnight, 5*time.Second)
			}
			c.post("/auth/register", map[string]any{"fullName": "Cy Lee", "email": "not-an-email", "password": "Correct-horse-42"}).expect(t, 400)
			if got := mx.all()[mark:]; len(got) != 0 {
				t.Fatalf("mail reached the relay with the transactional share spent: %+v", got)
			}
			if q := c.quota(); q.Used != 9 || q.Classes["transactional"].Left != 0 {
				t.Fatalf("/health emailQuota after the 503s = %+v; want 9 used, transactional 0 left", q)
			}
		})
	}
}

// mailClient calls the binary's API and reads its mail at the relay.
type mailClient struct {
	t    *testing.T
	base string
	mx   *mailSink
}

// mailResponse is one answer of the binary.
type mailResponse struct {
	status int
	header http.Header
	body   map[string]any
}

func (c *mailClient) post(path string, body any) mailResponse {
	c.t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		c.t.Fatal(err)
	}
	res, err := http.Post(c.base+"/api/v1"+path, "application/json", bytes.NewReader(b))
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	r := mailResponse{status: res.StatusCode, header: res.Header}
	_ = json.Unmarshal(raw, &r.body)
	return r
}

func (r mailResponse) expect(t *testing.T, status int) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d: %v", r.status, status, r.body)
	}
}

// expect503 asserts the contract's error envelope for mail that cannot be
// sent now, with Retry-After within slack of want.
func (r mailResponse) expect503(t *testing.T, want, slack time.Duration) {
	t.Helper()
	r.expect(t, 503)
	for _, k := range []string{"statusCode", "message", "error", "timestamp", "path", "requestId"} {
		if _, ok := r.body[k]; !ok {
			t.Fatalf("503 lacks %q: %v", k, r.body)
		}
	}
	if msg, _ := r.body["message"].(string); !strings.Contains(msg, "could not be emailed right now") {
		t.Fatalf("503 message = %q", msg)
	}
	secs, err := strconv.Atoi(r.header.Get("Retry-After"))
	got := time.Duration(secs) * time.Second
	if err != nil || got < want-slack || got > want+slack+time.Second {
		t.Fatalf("Retry-After = %q, want %v (±%v)", r.header.Get("Retry-After"), want.Round(time.Second), slack)
	}
}

// code waits for the newest verification code mailed to addr.
func (c *mailClient) code(addr string) string {
	c.t.Helper()
	msgs, ok := c.mx.await(0, 1, func(m sinkMail) bool { return m.to(addr) && codeRE.MatchString(m.Mail.Text) }, 10*time.Second)
	if !ok {
		c.t.Fatalf("no verification code reached the relay for %s", addr)
	}
	return codeRE.FindStringSubmatch(msgs[len(msgs)-1].Mail.Text)[1]
}

func (c *mailClient) verify(addr, code string) {
	c.t.Helper()
	r := c.post("/auth/verify-email", map[string]any{"email": addr, "otp": code})
	if r.expect(c.t, 200); r.body["accessToken"] == "" {
		c.t.Fatalf("verify-email = %v", r.body)
	}
}

// smtpQuota is the SMTP provider's line of /health emailQuota.
type smtpQuota struct {
	Provider string `json:"provider"`
	Used     int64  `json:"used"`
	Limit    int64  `json:"limit"`
	Classes  map[string]struct {
		Ceiling int64 `json:"ceiling"`
		Left    int64 `json:"left"`
	} `json:"classes"`
}

func (c *mailClient) quota() smtpQuota {
	c.t.Helper()
	res, err := http.Get(c.base + "/health")
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	var h struct {
		Components struct {
			EmailQuota []smtpQuota `json:"emailQuota"`
		} `json:"components"`
	}
	raw, _ := io.ReadAll(res.Body)
	if err := json.Unmarshal(raw, &h); err != nil {
		c.t.Fatalf("/health: %v: %s", err, raw)
	}
	qs := h.Components.EmailQuota
	for _, q := range qs {
		if q.Provider == "smtp" {
			return q
		}
	}
	c.t.Fatalf("no smtp line in /health emailQuota: %s", raw)
	return smtpQuota{}
}
