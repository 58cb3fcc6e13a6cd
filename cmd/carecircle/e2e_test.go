package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/carecircle/carecircle/internal/mail"
	"github.com/carecircle/carecircle/internal/store/storetest"
)

// e2eClient talks to a running binary the way curl would.
type e2eClient struct {
	t      testing.TB
	base   string
	outbox string
}

// status answers the status of a request without a body (0 when it got
// no answer), for waiting until it changes.
func (c *e2eClient) status(method, path, token string) int {
	req, _ := http.NewRequest(method, c.base+"/api/v1"+path, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0
	}
	_ = res.Body.Close()
	return res.StatusCode
}

func (c *e2eClient) call(method, path, token string, body any, want int) map[string]any {
	c.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, c.base+"/api/v1"+path, rd)
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != want {
		c.t.Fatalf("%s %s = %d, want %d: %s", method, path, res.StatusCode, want, b)
	}
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	return m
}

// lastMail returns the text of the newest outbox message to addr.
func (c *e2eClient) lastMail(addr string) string {
	c.t.Helper()
	msgs, err := mail.ReadOutbox(c.outbox)
	if err != nil {
		c.t.Fatal(err)
	}
	for i := len(msgs) - 1; i >= 0; i-- {
		if strings.EqualFold(msgs[i].To, addr) {
			return msgs[i].Text
		}
	}
	c.t.Fatalf("no mail to %s in the outbox", addr)
	return ""
}

var (
	codeRE   = regexp.MustCompile(`\b(\d{6})\b`)
	inviteRE = regexp.MustCompile(`/accept-invite/([A-Za-z0-9_-]+)`)
)

// signUp registers, reads the code from the outbox and verifies.
func (c *e2eClient) signUp(name, email string) (access, refresh string) {
	c.t.Helper()
	c.call("POST", "/auth/register", "", map[string]any{"fullName": name, "email": email, "password": "Correct-horse-42"}, 201)
	m := codeRE.FindStringSubmatch(c.lastMail(email))
	if m == nil {
		c.t.Fatalf("no code in the verification mail to %s", email)
	}
	v := c.call("POST", "/auth/verify-email", "", map[string]any{"email": email, "otp": m[1]}, 200)
	tokens := v["tokens"].(map[string]any)
	return v["accessToken"].(string), tokens["refreshToken"].(string)
}

// TestNewFamilyEndToEnd walks the foundation's user journey against the real
// binary on each database, then restarts it and checks the sessions survive.
func TestNewFamilyEndToEnd(t *testing.T) {
	t.Parallel()
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			dataDir := t.TempDir()
			env := map[string]string{"DATA_DIR": dataDir, "RATE_LIMIT_ENABLED": "false"}
			if backend == "postgres" {
				env["DATABASE_URL"] = storetest.NewPostgresSchema(t)
			}
			base, stop := startServer(t, env)
			c := &e2eClient{t: t, base: base, outbox: filepath.Join(dataDir, "outbox")}

			annToken, annRefresh := c.signUp("Ann Lee", "ann@example.com")
			fam := c.call("POST", "/families", annToken, map[string]any{"name": "The Lees"}, 201)
			familyID := fam["id"].(string)
			c.call("POST", "/families/"+familyID+"/invite", annToken, map[string]any{"email": "bo@example.com", "role": "CAREGIVER"}, 201)
			link := inviteRE.FindStringSubmatch(c.lastMail("bo@example.com"))
			if link == nil {
				t.Fatal("no accept-invite link in the invitation mail")
			}
			boToken, _ := c.signUp("Bo Lee", "bo@example.com")
			details := c.call("GET", "/families/invitations/"+link[1]+"/details", "", nil, 200)
			if details["familyName"] != "The Lees" {
				t.Fatalf("details = %v", details)
			}
			c.call("POST", "/families/invitations/"+link[1]+"/accept", boToken, nil, 200)
			cr := c.call("POST", "/families/"+familyID+"/care-recipients", annToken,
				map[string]any{"fullName": "Grandma Lee", "timezone": "Asia/Tokyo"}, 201)

			me := c.call("GET", "/auth/me", boToken, nil, 200)
			fams := me["families"].([]any)
			if len(fams) != 1 {
				t.Fatalf("bo's families = %v", fams)
			}
			f := fams[0].(map[string]any)
			crs := f["careRecipients"].([]any)
			if f["role"] != "CAREGIVER" || len(crs) != 1 || crs[0].(map[string]any)["timezone"] != "Asia/Tokyo" || crs[0].(map[string]any)["id"] != cr["id"] {
				t.Fatalf("bo's family = %v", f)
			}

			key := c.call("GET", "/notifications/vapid-public-key", annToken, nil, 200)["publicKey"]

			stop()
			base, _ = startServer(t, env)
			c.base = base
			// The web push key generated on the first start is kept.
			if again := c.call("GET", "/notifications/vapid-public-key", annToken, nil, 200)["publicKey"]; again != key || len(key.(string)) != 87 {
				t.Fatalf("VAPID key %v, after restart %v", key, again)
			}
			c.call("GET", "/auth/me", annToken, nil, 200)
			c.call("GET", "/auth/me", boToken, nil, 200)
			refreshed := c.call("POST", "/auth/refresh", "", map[string]any{"refreshToken": annRefresh}, 200)
			if refreshed["accessToken"] == "" {
				t.Fatalf("refresh = %v", refreshed)
			}
		})
	}
}
