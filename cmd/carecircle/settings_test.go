package main

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/carecircle/carecircle/internal/care"
	"github.com/carecircle/carecircle/internal/config"
	"github.com/carecircle/carecircle/internal/notify/sms/smstest"
	"github.com/carecircle/carecircle/internal/notify/webpush"
	"github.com/carecircle/carecircle/internal/notify/webpush/pushtest"
	"github.com/carecircle/carecircle/internal/realtime/rtclient"
	"github.com/carecircle/carecircle/internal/store/storetest"
)

// settingsRow starts the real binary with some environment variables set
// and checks, from outside the process, what each of them changes.
type settingsRow struct {
	name string
	// observe says, for each variable the row sets, what is observed.
	observe map[string]string
	run     func(t *testing.T)
}

// settingsRows is every documented setting with what it visibly does. A
// variable added to the README's configuration table or to config.Vars
// without a row here fails TestSettings.
func settingsRows() []settingsRow {
	return []settingsRow{
		{
			name: "http",
			observe: map[string]string{
				"PORT":                              "the process serves /health on that port",
				"API_PREFIX":                        "the REST routes answer under it and no longer under /api/v1",
				"DATA_DIR":                          "the SQLite database and the mail outbox are written there",
				"LOG_FORMAT":                        "json: every log line is a JSON object",
				"METRICS_TOKEN":                     "GET /metrics answers 401 without the bearer token, 200 with it",
				"JWT_SECRET":                        "access tokens are HS256-signed with it (and no jwt_secret file is generated)",
				"JWT_EXPIRES_IN":                    "access tokens' exp is iat plus it",
				"MAIL_FROM":                         "the From header of the outbox .eml",
				"PUBLIC_URL":                        "the verification email links to it; its origin may open the realtime endpoint, others get 403",
				"ALLOWED_ORIGINS":                   "a listed origin may open the realtime endpoint",
				"APP_ENV":                           "production: the auth cookies are Secure with SameSite=None",
				"RATE_LIMIT_ENABLED":                "false: a burst of 20 requests from one client gets no 429",
				"REALTIME_MAX_CONNECTIONS_PER_USER": "1: a user's second realtime connection is refused",
			},
			run: settingsHTTP,
		},
		{
			name: "rate-limit",
			observe: map[string]string{
				"TRUST_PROXY":      "true: X-Forwarded-For addresses get rate-limit buckets of their own; without it one address's burst is limited whatever the header says",
				"SHUTDOWN_TIMEOUT": "on SIGTERM the process waits that long for a request in flight, then exits",
			},
			run: settingsRateLimit,
		},
		{
			name: "vapid",
			observe: map[string]string{
				"VAPID_PUBLIC_KEY":   "GET /notifications/vapid-public-key returns it, and it is the k of pushes",
				"VAPID_PRIVATE_KEY":  "a test push reaching a push service is signed with it (verifies against the public key)",
				"VAPID_SUBJECT":      "the sub claim of the push's VAPID JWT",
				"PUSH_ALLOWED_HOSTS": "127.0.0.1:port: a test push reaches that self-hosted push service (self-signed, trusted through SSL_CERT_FILE), which decrypts it; a subscription to one on another loopback port is refused (400) and that service never contacted",
			},
			run: settingsVAPID,
		},
		{
			name: "smtp",
			observe: map[string]string{
				"SMTP_HOST":         "the verification email reaches the SMTP server there",
				"SMTP_PORT":         "… on that port",
				"SMTP_USER":         "the server saw AUTH PLAIN as that user",
				"SMTP_PASSWORD":     "… with that password (the server refuses others)",
				"SMTP_SECURE":       "true: the session runs over implicit TLS (the server speaks nothing else)",
				"SMTP_FROM":         "the From header of the message (MAIL_FROM being different)",
				"EMAIL_DAILY_LIMIT": "/health emailQuota shows the SMTP provider metered with that limit",
			},
			run: settingsSMTP,
		},
		{
			name: "brevo",
			observe: map[string]string{
				"BREVO_API_KEY": "the verification email is POSTed to api.brevo.com/v3/smtp/email with it as api-key; /health emailQuota lists brevo",
			},
			run: settingsBrevo,
		},
		{
			name: "twilio",
			observe: map[string]string{
				"TWILIO_ACCOUNT_SID": "the phone verification code is sent through the Twilio API with this account (without TWILIO_* the route answers 409)",
				"TWILIO_AUTH_TOKEN":  "… authenticated with it (the fake Twilio checks it)",
				"TWILIO_FROM":        "… from that number",
				"TWILIO_BASE_URL":    "… to that address",
			},
			run: settingsTwilio,
		},
		{
			name: "s3",
			observe: map[string]string{
				"S3_BUCKET":     "start-up checks that bucket at the service; a missing one stops start-up with a message naming it",
				"S3_ENDPOINT":   "the check reaches that service, path-style",
				"S3_ACCESS_KEY": "the check's SigV4 credential names it",
				"S3_SECRET_KEY": "the check's SigV4 signature is made with it",
				"S3_REGION":     "the check's SigV4 scope names it",
			},
			run: settingsS3,
		},
		{
			name: "worker",
			observe: map[string]string{
				"HEALTH_PORT": "carecircle worker serves /health and /ready on it",
			},
			run: settingsWorker,
		},
		{
			name: "reminders",
			observe: map[string]string{
				"REMINDER_GRACE":    "4m: a dose reminder 6 minutes late (inside the default 10m) is recorded SKIPPED",
				"MISSED_DOSE_AFTER": "5m: a dose with no log 5 minutes after its time is reported MISSED to the family",
				"QUEUE_ENABLED":     "false: the reminders are delivered with no job in the medication-reminders queue",
				"LOG_LEVEL":         "debug: DEBUG lines are logged (warn, in the cron row: no INFO line)",
			},
			run: settingsReminders,
		},
		{
			name: "cron",
			observe: map[string]string{
				"ENABLE_CRON_JOBS":  "false: no planner run and no reminder planned, where a node with it plans at once",
				"QUEUE_CONCURRENCY": "medication-reminders=0: the due reminders wait in that queue, unworked",
			},
			run: settingsCron,
		},
		{
			name: "postgres",
			observe: map[string]string{
				"DATABASE_URL": "/health reports the postgres dialect and a user signed up through the API is a row of that schema",
			},
			run: settingsPostgres,
		},
		{
			name: "redis-url",
			observe: map[string]string{
				"REDIS_URL":             "/health reports redis up and CareCircle's keys appear in that Redis",
				"REDIS_KEY_PREFIX":      "every key CareCircle writes starts with it",
				"REALTIME_HISTORY_SIZE": "2: a family channel's history stream in Redis keeps 2 of 3 events",
				"REALTIME_HISTORY_TTL":  "90s: that stream expires within 90 s",
			},
			run: settingsRedisURL,
		},
		{
			name: "redis-parts",
			observe: map[string]string{
				"REDIS_HOST":     "with REDIS_PORT, /health reports redis up and a sign-in attempt's rate-limit key appears in a private redis-server there",
				"REDIS_PORT":     "… on that port",
				"REDIS_PASSWORD": "… which requires that password",
				"REDIS_TLS":      "… which speaks only TLS",
			},
			run: settingsRedisParts,
		},
		{
			name: "rabbitmq",
			observe: map[string]string{
				"RABBITMQ_ENABLED": "true: the contract's exchanges and queues are declared in the vhost and /health reports rabbitmq up",
				"RABBITMQ_URL":     "… in the vhost it names",
				"AMQP_URL":         "… in the vhost it names, when RABBITMQ_URL is unset",
			},
			run: settingsRabbitMQ,
		},
		{
			name: "retention",
			observe: map[string]string{
				"NOTIFICATION_RETENTION": "2d: of read notifications 1, 3 and 5 days old, the daily job (due at once) keeps the 1-day-old one",
				"OUTBOX_RETENTION":       "48h: of dispatched events that old, only the 1-day-old one is kept",
				"LEDGER_RETENTION":       "2d: likewise finished reminder ledger entries and job runs",
				"EMAIL_LOG_RETENTION":    "2d: likewise email attempts",
				"AUDIT_RETENTION":        "4d: the 1- and 3-day-old audit entries stay, the 5-day-old one goes",
			},
			run: settingsRetention,
		},
	}
}

func TestSettings(t *testing.T) {
	rows := settingsRows()
	t.Run("every variable has a row", func(t *testing.T) {
		readme, err := os.ReadFile("../../README.md")
		if err != nil {
			t.Fatal(err)
		}
		documented := readmeVariables(t, string(readme))
		listed := map[string]bool{}
		for _, v := range config.Vars() {
			listed[v.Name] = true
		}
		covered := map[string]string{}
		for _, r := range rows {
			for name := range r.observe {
				if prev, ok := covered[name]; ok {
					t.Errorf("%s has rows %s and %s", name, prev, r.name)
				}
				covered[name] = r.name
				if !documented[name] && !listed[name] {
					t.Errorf("row %s names %s, which neither the README nor config.Vars lists", r.name, name)
				}
			}
		}
		for _, set := range []struct {
			where string
			names map[string]bool
		}{{"the README's configuration table", documented}, {"config.Vars (carecircle --help)", listed}} {
			for _, name := range sortedKeys(set.names) {
				if _, ok := covered[name]; !ok {
					t.Errorf("%s lists %s but no settings row shows what it does", set.where, name)
				}
			}
		}
		for _, name := range sortedKeys(listed) {
			if !documented[name] {
				t.Logf("note: %s is in config.Vars but not in the README's configuration table", name)
			}
		}
	})
	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			t.Parallel()
			r.run(t)
		})
	}
}

var readmeVarRE = regexp.MustCompile("`([A-Z][A-Z0-9_]*)`")

// readmeVariables reads the first column of the README's configuration
// table: names in backticks, several per row.
func readmeVariables(t *testing.T, readme string) map[string]bool {
	t.Helper()
	_, section, ok := strings.Cut(readme, "\n## Configuration\n")
	if !ok {
		t.Fatal("README has no Configuration section")
	}
	if end := strings.Index(section, "\n## "); end >= 0 {
		section = section[:end]
	}
	out := map[string]bool{}
	sc := bufio.NewScanner(strings.NewReader(section))
	for sc.Scan() {
		cells := strings.Split(sc.Text(), "|")
		if len(cells) < 3 || !strings.HasPrefix(strings.TrimSpace(sc.Text()), "|") {
			continue
		}
		for _, m := range readmeVarRE.FindAllStringSubmatch(cells[1], -1) {
			out[m[1]] = true
		}
	}
	if len(out) < 10 {
		t.Fatalf("read only %d variables from the README's configuration table", len(out))
	}
	return out
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// requireServiceURL returns the test service address in the variable
// name, skipping (or failing, when services are required) without it.
func requireServiceURL(t *testing.T, name string) string {
	t.Helper()
	u := os.Getenv(name)
	if u == "" {
		if os.Getenv("CARECIRCLE_TEST_REQUIRE_SERVICES") == "1" {
			t.Fatalf("%s is not set but CARECIRCLE_TEST_REQUIRE_SERVICES=1", name)
		}
		t.Skipf("needs a service: set %s to run it", name)
	}
	return u
}

func settingsHTTP(t *testing.T) {
	const (
		secret   = "settings-test-secret-0123456789abcdef"
		mailFrom = "Care Desk <desk@care.example.test>"
		public   = "https://care.example.test"
		allowed  = "https://app.example.test"
	)
	env := map[string]string{
		"API_PREFIX": "/care/v2", "LOG_FORMAT": "json", "METRICS_TOKEN": "metrics-secret", "JWT_SECRET": secret,
		"JWT_EXPIRES_IN": "2h", "MAIL_FROM": mailFrom, "PUBLIC_URL": public, "ALLOWED_ORIGINS": allowed,
		"APP_ENV": "production", "RATE_LIMIT_ENABLED": "false", "REALTIME_MAX_CONNECTIONS_PER_USER": "1",
	}
	a := startApp(t, env)

	// PORT: startApp reached /health/ready there; the start-up line says so.
	if code, _, _ := a.request("GET", a.base+"/health", "", nil, nil); code != 200 {
		t.Fatalf("/health on PORT = %d", code)
	}

	// API_PREFIX.
	if code, _, b := a.request("GET", a.base+"/care/v2/auth/me", "", nil, nil); code != 401 {
		t.Errorf("GET /care/v2/auth/me = %d, want 401: %s", code, b)
	}
	if code, _, _ := a.request("GET", a.base+"/api/v1/auth/me", "", nil, nil); code != 404 {
		t.Errorf("GET /api/v1/auth/me = %d with API_PREFIX=/care/v2, want 404", code)
	}
	token := a.signUp("ann@example.com", a.outboxCode)

	// DATA_DIR: the database and the outbox are there; JWT_SECRET: no
	// secret is generated there, and tokens are signed with it.
	if _, err := os.Stat(filepath.Join(a.dataDir, "carecircle.db")); err != nil {
		t.Errorf("DATA_DIR: %v", err)
	}
	if _, err := os.Stat(filepath.Join(a.dataDir, "jwt_secret")); err == nil {
		t.Error("a jwt_secret was generated although JWT_SECRET is set")
	}
	if !jwtSignedWith(token, secret) {
		t.Error("the access token is not signed with JWT_SECRET")
	}
	// JWT_EXPIRES_IN.
	claims := jwtClaims(t, token)
	if exp, iat := claims["exp"].(float64), claims["iat"].(float64); exp-iat != 7200 {
		t.Errorf("token lifetime %v s, want 7200 (JWT_EXPIRES_IN=2h)", exp-iat)
	}
	// MAIL_FROM and PUBLIC_URL in the outbox's message.
	raw, err := os.ReadFile(a.outboxMail("ann@example.com").File)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(raw), "From: \"Care Desk\" <desk@care.example.test>") && !strings.Contains(string(raw), "From: Care Desk <desk@care.example.test>") {
		t.Errorf("outbox message is not from MAIL_FROM:\n%.600s", raw)
	}
	if !strings.Contains(a.outboxMail("ann@example.com").Text, public+"/verify-email") {
		t.Errorf("verification mail does not link to PUBLIC_URL: %s", a.outboxMail("ann@example.com").Text)
	}

	// APP_ENV=production: secure cross-site cookies.
	code, hdr, b := a.request("POST", a.base+"/care/v2/auth/login", "", map[string]any{"email": "ann@example.com", "password": "Correct-horse-42"}, nil)
	if code != 200 {
		t.Fatalf("login = %d: %s", code, b)
	}
	cookies := strings.Join(hdr.Values("Set-Cookie"), "\n")
	if !strings.Contains(cookies, "access_token=") || !strings.Contains(cookies, "Secure") || !strings.Contains(cookies, "SameSite=None") {
		t.Errorf("APP_ENV=production cookies: %s", cookies)
	}

	// METRICS_TOKEN.
	if code, _, _ := a.request("GET", a.base+"/metrics", "", nil, nil); code != 401 {
		t.Errorf("/metrics without the token = %d, want 401", code)
	}
	if code, _, b := a.request("GET", a.base+"/metrics", "metrics-secret", nil, nil); code != 200 || !strings.Contains(string(b), "# TYPE") {
		t.Errorf("/metrics with the token = %d: %.200s", code, b)
	}

	// RATE_LIMIT_ENABLED=false: a burst far over 5/s is served.
	for i := 0; i < 20; i++ {
		if code, _, _ := a.request("GET", a.base+"/care/v2/nope", "", nil, nil); code == http.StatusTooManyRequests {
			t.Fatalf("request %d of a burst got 429 with RATE_LIMIT_ENABLED=false", i+1)
		}
	}

	// PUBLIC_URL and ALLOWED_ORIGINS on the realtime endpoint.
	for origin, want := range map[string]bool{public: true, allowed: true, "https://evil.example.test": false} {
		code, _, _ := a.request("GET", a.base+"/connection/websocket", "", nil, http.Header{"Origin": {origin}})
		if (code != http.StatusForbidden) != want {
			t.Errorf("realtime endpoint with Origin %s = %d (allowed: %v)", origin, code, want)
		}
	}

	// REALTIME_MAX_CONNECTIONS_PER_USER=1.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	first := rtclient.New(rtclient.URL(a.base), rtclient.Options{Token: token})
	defer first.Close()
	if err := first.Connect(ctx); err != nil {
		t.Fatalf("first realtime connection: %v", err)
	}
	second := rtclient.New(rtclient.URL(a.base), rtclient.Options{Token: token})
	defer second.Close()
	if err := second.Connect(ctx); err == nil || ctx.Err() != nil {
		t.Errorf("a second realtime connection with REALTIME_MAX_CONNECTIONS_PER_USER=1: %v", err)
	}

	// TWILIO_* unset: no SMS, so phone verification is refused.
	a.api("POST", "/user/phone/verification", token, map[string]any{"phone": "+44 7700 900123"}, 409)

	// LOG_FORMAT=json: every line is an object; PORT is in the start-up line.
	serving := false
	for _, line := range strings.Split(strings.TrimSpace(a.logText()), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Errorf("LOG_FORMAT=json, but a log line is not JSON: %q", line)
			continue
		}
		if rec["msg"] == "carecircle serving" {
			serving = strings.HasSuffix(fmt.Sprint(rec["addr"]), ":"+env["PORT"])
		}
	}
	if !serving {
		t.Error("no JSON start-up line with the PORT")
	}
}

func settingsRateLimit(t *testing.T) {
	burst := func(a *settingsApp, forwarded func(i int) string) (limited int) {
		for i := 0; i < 8; i++ {
			code, _, _ := a.request("GET", a.base+a.prefix+"/nope", "", nil, http.Header{"X-Forwarded-For": {forwarded(i)}})
			if code == http.StatusTooManyRequests {
				limited++
			}
		}
		return limited
	}
	distinct := func(i int) string { return "203.0.113." + strconv.Itoa(i+1) }
	same := func(int) string { return "198.51.100.7" }

	trusting := startApp(t, map[string]string{"TRUST_PROXY": "true"})
	if n := burst(trusting, distinct); n != 0 {
		t.Errorf("TRUST_PROXY=true: 8 requests from 8 forwarded addresses, %d limited", n)
	}
	if n := burst(trusting, same); n == 0 {
		t.Error("TRUST_PROXY=true: 8 requests from one forwarded address, none limited")
	}

	plain := startApp(t, map[string]string{})
	if n := burst(plain, distinct); n == 0 {
		t.Error("TRUST_PROXY unset: the forwarded addresses gave one client buckets of its own")
	}

	// SHUTDOWN_TIMEOUT: a request stuck sending its body holds shutdown
	// for the grace period, no longer. Without rate limits, so that the
	// request is surely in its handler, not refused at the door.
	plain = startApp(t, map[string]string{"SHUTDOWN_TIMEOUT": "2s", "RATE_LIMIT_ENABLED": "false"})
	conn, err := net.Dial("tcp", strings.TrimPrefix(plain.base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := fmt.Fprintf(conn, "POST %s/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"email\":", plain.prefix); err != nil {
		t.Fatal(err)
	}
	if code, _, _ := plain.request("GET", plain.base+"/health", "", nil, nil); code != 200 {
		t.Fatalf("/health = %d", code)
	}
	start := time.Now()
	if err := plain.p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- plain.p.cmd.Wait() }()
	select {
	case <-exited:
	case <-time.After(20 * time.Second):
		t.Fatal("the process did not exit within 20 s of SIGTERM with SHUTDOWN_TIMEOUT=2s")
	}
	took := time.Since(start)
	if took < 2*time.Second || took > 8*time.Second {
		t.Errorf("exited %v after SIGTERM with a request in flight and SHUTDOWN_TIMEOUT=2s", took)
	}
	if log := plain.logText(); !strings.Contains(log, "grace=2s") {
		t.Errorf("no shutdown line with grace=2s:\n%s", log)
	}
}

func settingsVAPID(t *testing.T) {
	keys, err := webpush.GenerateKeys()
	if err != nil {
		t.Fatal(err)
	}
	const subject = "mailto:push-ops@care.example.test"
	// Two self-hosted push services on loopback with self-signed
	// certificates; only the first is allowed.
	allowed := pushtest.NewService(t, keys.Public, subject, nil)
	other := pushtest.NewService(t, keys.Public, subject, nil)
	allowedSub, _ := allowed.Subscribe()
	otherSub, _ := other.Subscribe()
	certFile := filepath.Join(t.TempDir(), "push-service.pem")
	if err := os.WriteFile(certFile, append(allowed.CertificatePEM(), other.CertificatePEM()...), 0o600); err != nil {
		t.Fatal(err)
	}
	a := startApp(t, map[string]string{"VAPID_PUBLIC_KEY": keys.Public, "VAPID_PRIVATE_KEY": keys.Private,
		"VAPID_SUBJECT": subject, "PUSH_ALLOWED_HOSTS": hostOf(t, allowedSub.Endpoint), "SSL_CERT_FILE": certFile,
		"RATE_LIMIT_ENABLED": "false"})
	token := a.signUp("ann@example.com", a.outboxCode)
	if got := a.api("GET", "/notifications/vapid-public-key", token, nil, 200)["publicKey"]; got != keys.Public {
		t.Errorf("vapid-public-key = %v, want VAPID_PUBLIC_KEY", got)
	}
	for sub, want := range map[pushtest.Subscription]int{allowedSub: 201, otherSub: 400} {
		a.api("POST", "/notifications/push-subscription", token, map[string]any{
			"endpoint": sub.Endpoint, "keys": map[string]string{"p256dh": sub.P256dh, "auth": sub.Auth}}, want)
	}
	if res := a.api("POST", "/notifications/test-push", token, nil, 200); res["sent"] != float64(1) || res["failed"] != float64(0) {
		t.Fatalf("test push to the allowed loopback service: %v", res)
	}
	// The service verified the VAPID JWT against VAPID_PUBLIC_KEY with
	// VAPID_SUBJECT as sub, and decrypted the message with the browser's key.
	d := allowed.Next()
	if d.Claims.Sub != subject {
		t.Errorf("VAPID sub = %q, want %q", d.Claims.Sub, subject)
	}
	var payload map[string]any
	if err := json.Unmarshal(d.Payload, &payload); err != nil || payload["title"] != "CareCircle test notification" {
		t.Errorf("decrypted payload %s (%v)", d.Payload, err)
	}
	if n := other.RequestCount(); n != 0 {
		t.Errorf("a loopback push service not in PUSH_ALLOWED_HOSTS was contacted %d times", n)
	}
}

// hostOf is the host:port of a URL.
func hostOf(t *testing.T, raw string) string {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u.Host
}

func settingsSMTP(t *testing.T) {
	ca := newTestCA(t)
	port, got := startSMTPS(t, ca, "mailer", "smtp-secret")
	a := startApp(t, map[string]string{
		"SMTP_HOST": "127.0.0.1", "SMTP_PORT": strconv.Itoa(port), "SMTP_USER": "mailer", "SMTP_PASSWORD": "smtp-secret",
		"SMTP_SECURE": "true", "SMTP_FROM": "Care SMTP <smtp@care.example.test>", "MAIL_FROM": "Other <other@care.example.test>",
		"EMAIL_DAILY_LIMIT": "7", "SSL_CERT_FILE": ca.file, "RATE_LIMIT_ENABLED": "false",
	})
	var msg smtpReceived
	a.signUp("ann@example.com", func(string) string {
		msg = receive(t, got, 20*time.Second, "verification email over SMTP")
		m := otpRE.FindStringSubmatch(msg.Text)
		if m == nil {
			t.Fatalf("no code in %q", msg.Text)
		}
		return m[1]
	})
	if msg.User != "mailer" || !msg.TLS {
		t.Errorf("SMTP session: user %q, TLS %v", msg.User, msg.TLS)
	}
	if !strings.Contains(msg.From, "smtp@care.example.test") {
		t.Errorf("From = %q, want SMTP_FROM", msg.From)
	}
	quota, _ := jpath(a.health(), "components", "emailQuota").([]any)
	if len(quota) != 1 || jpath(quota[0], "provider") != "smtp" || jpath(quota[0], "limit") != float64(7) || jpath(quota[0], "used") != float64(1) {
		t.Errorf("emailQuota = %v, want smtp with limit 7, 1 used", quota)
	}
}

func settingsBrevo(t *testing.T) {
	ca := newTestCA(t)
	proxy, got := startInterceptingProxy(t, ca, http.StatusCreated, `{"messageId":"<settings@smtp-relay.brevo.com>"}`)
	a := startApp(t, map[string]string{"BREVO_API_KEY": "xkeysib-settings-test", "MAIL_FROM": "Care Desk <desk@care.example.test>",
		"HTTPS_PROXY": proxy, "SSL_CERT_FILE": ca.file, "RATE_LIMIT_ENABLED": "false"})
	a.api("POST", "/auth/register", "", map[string]any{"fullName": "Ann Lee", "email": "ann@example.com", "password": "Correct-horse-42"}, 201)
	req := receive(t, got, 20*time.Second, "a request to Brevo")
	var body struct {
		Sender struct{ Email string }
		To     []struct{ Email string }
	}
	_ = json.Unmarshal(req.Body, &body)
	if req.Host != "api.brevo.com:443" || req.Method != "POST" || req.Path != "/v3/smtp/email" || req.Header.Get("Api-Key") != "xkeysib-settings-test" ||
		body.Sender.Email != "desk@care.example.test" || len(body.To) != 1 || body.To[0].Email != "ann@example.com" {
		t.Errorf("request to Brevo: %s %s %s api-key %q body %s", req.Host, req.Method, req.Path, req.Header.Get("Api-Key"), req.Body)
	}
	quota, _ := jpath(a.health(), "components", "emailQuota").([]any)
	if len(quota) != 1 || jpath(quota[0], "provider") != "brevo" || jpath(quota[0], "metered") != true {
		t.Errorf("emailQuota = %v, want brevo alone, metered", quota)
	}
}

func settingsTwilio(t *testing.T) {
	texts := smstest.NewServer(t)
	a := startApp(t, map[string]string{"TWILIO_ACCOUNT_SID": texts.AccountSID, "TWILIO_AUTH_TOKEN": texts.AuthToken,
		"TWILIO_FROM": texts.From, "TWILIO_BASE_URL": texts.URL, "RATE_LIMIT_ENABLED": "false"})
	token := a.signUp("ann@example.com", a.outboxCode)
	a.api("POST", "/user/phone/verification", token, map[string]any{"phone": "+44 7700 900123"}, 200)
	msg, ok := texts.Next(10 * time.Second)
	if !ok || msg.To != "+447700900123" || msg.From != texts.From {
		t.Fatalf("text = %+v, %v", msg, ok)
	}
}

func settingsS3(t *testing.T) {
	endpoint, requests := startFakeS3(t, "care-docs", "s3-secret-key")
	env := func(bucket string) map[string]string {
		return map[string]string{"S3_BUCKET": bucket, "S3_ENDPOINT": endpoint, "S3_ACCESS_KEY": "AKSETTINGS",
			"S3_SECRET_KEY": "s3-secret-key", "S3_REGION": "eu-test-1"}
	}
	startApp(t, env("care-docs"))
	var checked bool
	for _, r := range requests() {
		if strings.Trim(r.Path, "/") == "care-docs" {
			checked = true
			if !r.SignatureOK || !strings.Contains(r.Authorization, "Credential=AKSETTINGS/") || !strings.Contains(r.Authorization, "/eu-test-1/s3/aws4_request") {
				t.Errorf("bucket check %s %s signed %v: %s", r.Method, r.Path, r.SignatureOK, r.Authorization)
			}
		}
	}
	if !checked {
		t.Errorf("start-up did not check the bucket at S3_ENDPOINT: %+v", requests())
	}

	// A bucket the service does not have stops start-up, naming it.
	missing := env("no-such-bucket")
	missing["DATA_DIR"], missing["PORT"] = t.TempDir(), strconv.Itoa(freePort(t))
	p := startProcess(t, missing)
	exited := make(chan error, 1)
	go func() { exited <- p.cmd.Wait() }()
	select {
	case err := <-exited:
		if err == nil {
			t.Error("the process exited cleanly with a missing bucket")
		}
	case <-time.After(30 * time.Second):
		_ = p.cmd.Process.Kill()
		<-exited
		t.Fatal("the process started with a missing S3 bucket")
	}
	b, _ := os.ReadFile(p.log.Name())
	if !strings.Contains(string(b), "no-such-bucket") {
		t.Errorf("start-up error does not name the bucket: %s", b)
	}
}

func settingsWorker(t *testing.T) {
	port := freePort(t)
	startProcess(t, map[string]string{"DATA_DIR": t.TempDir(), "HEALTH_PORT": strconv.Itoa(port), "LOG_LEVEL": "warn"}, "worker")
	base := "http://127.0.0.1:" + strconv.Itoa(port)
	waitHealthy(t, base, "/ready")
	res, err := http.Get(base + "/health")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var h map[string]any
	if err := json.NewDecoder(res.Body).Decode(&h); err != nil || h["database"] != "up" || h["queue"] == nil {
		t.Errorf("worker /health on HEALTH_PORT = %v, %v", h, err)
	}
}

// ledger reads a medication's reminder ledger: status by kind and offset.
func ledger(t *testing.T, db *sql.DB, medID string) map[string]string {
	t.Helper()
	rows, err := db.Query(`SELECT kind, offset_minutes, status FROM reminder_ledger WHERE entity_id = $1`, medID)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var kind, status string
		var off int
		if err := rows.Scan(&kind, &off, &status); err != nil {
			t.Fatal(err)
		}
		out[kind+":"+strconv.Itoa(off)] = status
	}
	return out
}

func settingsReminders(t *testing.T) {
	env, st := processData(t, "sqlite", freePort(t))
	now := time.Now().UTC()
	dose := now.Truncate(time.Minute).Add(-6 * time.Minute)
	userID, medID := seedDose(t, st, dose)
	// The planner last ran half an hour ago: it catches up from there.
	if _, err := st.RecordPlan(context.Background(), "reminders", now.Add(-30*time.Minute), nil, now.Add(-30*time.Minute)); err != nil {
		t.Fatal(err)
	}
	env["REMINDER_GRACE"], env["MISSED_DOSE_AFTER"], env["QUEUE_ENABLED"], env["LOG_LEVEL"] = "4m", "5m", "false", "debug"
	a := startApp(t, env)
	eventually(t, 60*time.Second, "missed dose reported", func() bool { return ledger(t, st.DB(), medID)["MISSED_DOSE:-5"] == "SENT" })
	l := ledger(t, st.DB(), medID)
	if l["MEDICATION:0"] != "SKIPPED" || l["MEDICATION:5"] != "SKIPPED" {
		t.Errorf("reminders 6 minutes late with REMINDER_GRACE=4m: %v, want SKIPPED", l)
	}
	if n := countRows(t, st.DB(), `SELECT COUNT(*) FROM notifications WHERE user_id = $1 AND type = $2`, userID, string(care.NotifyMedicationMissed)); n != 1 {
		t.Errorf("%d missed-dose notifications, want 1", n)
	}
	if n := countRows(t, st.DB(), `SELECT COUNT(*) FROM river_job WHERE queue = 'medication-reminders'`); n != 0 {
		t.Errorf("QUEUE_ENABLED=false, but %d jobs went through the medication-reminders queue", n)
	}
	if !strings.Contains(a.logText(), "level=DEBUG") {
		t.Error("LOG_LEVEL=debug, but no DEBUG line was logged")
	}
}

func settingsCron(t *testing.T) {
	// Two nodes with a dose due a minute ago: one without the planners,
	// then one with them whose reminder queue has no workers.
	offEnv, offStore := processData(t, "sqlite", freePort(t))
	_, offMed := seedDose(t, offStore, time.Now().UTC().Truncate(time.Minute).Add(-time.Minute))
	offEnv["ENABLE_CRON_JOBS"] = "false"
	off := startApp(t, offEnv)

	onEnv, onStore := processData(t, "sqlite", freePort(t))
	_, onMed := seedDose(t, onStore, time.Now().UTC().Truncate(time.Minute).Add(-time.Minute))
	onEnv["QUEUE_CONCURRENCY"] = "medication-reminders=0"
	on := startApp(t, onEnv)
	waiting := func() int {
		for _, q := range jpath(on.health(), "components", "queue").([]any) {
			if jpath(q, "queue") == "medication-reminders" && jpath(q, "state") == "available" {
				return int(jpath(q, "count").(float64))
			}
		}
		return 0
	}
	eventually(t, 60*time.Second, "reminders waiting in the medication-reminders queue", func() bool { return waiting() > 0 })
	if l := ledger(t, onStore.DB(), onMed); l["MEDICATION:0"] != "ENQUEUED" {
		t.Errorf("ledger with no medication-reminders workers: %v, want the on-time reminder ENQUEUED", l)
	}
	if n := countRows(t, onStore.DB(), `SELECT COUNT(*) FROM notifications`); n != 0 {
		t.Errorf("%d notifications delivered with QUEUE_CONCURRENCY=medication-reminders=0", n)
	}

	// The node without planners, up longer than the other took to plan,
	// has planned nothing.
	if runs := jpath(off.health(), "components", "scheduler", "lastRuns"); strings.Contains(fmt.Sprint(runs), "reminder-planner") {
		t.Errorf("ENABLE_CRON_JOBS=false, but the planner ran: %v", runs)
	}
	if l := ledger(t, offStore.DB(), offMed); len(l) != 0 {
		t.Errorf("ENABLE_CRON_JOBS=false, but reminders were planned: %v", l)
	}
	// LOG_LEVEL=warn (processData's): no INFO line, not even the start-up one.
	if strings.Contains(on.logText(), "level=INFO") {
		t.Error("LOG_LEVEL=warn, but INFO lines were logged")
	}
}

func settingsPostgres(t *testing.T) {
	dsn := storetest.NewPostgresSchema(t)
	a := startApp(t, map[string]string{"DATABASE_URL": dsn, "RATE_LIMIT_ENABLED": "false"})
	if d := jpath(a.health(), "components", "database", "dialect"); d != "postgres" {
		t.Errorf("database dialect %v", d)
	}
	a.signUp("pg@example.com", a.outboxCode)
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if n := countRows(t, db, `SELECT COUNT(*) FROM users WHERE email = 'pg@example.com'`); n != 1 {
		t.Errorf("%d users in DATABASE_URL's schema", n)
	}
}

// redisKeys lists the keys under prefix.
func redisKeys(t *testing.T, rdb *redis.Client, prefix string) []string {
	t.Helper()
	keys, err := rdb.Keys(context.Background(), prefix+"*").Result()
	if err != nil {
		t.Fatal(err)
	}
	return keys
}

func settingsRedisURL(t *testing.T) {
	url := requireServiceURL(t, "CARECIRCLE_TEST_REDIS_URL")
	prefix := "ccset-" + strconv.FormatInt(time.Now().UnixNano(), 36) + ":"
	opts, err := redis.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(opts)
	t.Cleanup(func() {
		if keys, err := rdb.Keys(context.Background(), prefix+"*").Result(); err == nil && len(keys) > 0 {
			rdb.Del(context.Background(), keys...)
		}
		rdb.Close()
	})
	a := startApp(t, map[string]string{"REDIS_URL": url, "REDIS_KEY_PREFIX": prefix, "RATE_LIMIT_ENABLED": "false",
		"REALTIME_HISTORY_SIZE": "2", "REALTIME_HISTORY_TTL": "90s"})
	if s := jpath(a.health(), "components", "redis", "status"); s != "up" {
		t.Errorf("redis status %v", s)
	}
	token := a.signUp("ann@example.com", a.outboxCode)
	fam := a.api("POST", "/families", token, map[string]any{"name": "The Lees"}, 201)["id"].(string)
	cr := a.api("POST", "/families/"+fam+"/care-recipients", token, map[string]any{"fullName": "Grandma Lee", "timezone": "UTC"}, 201)["id"].(string)
	med := a.api("POST", "/care-recipients/"+cr+"/medications", token, map[string]any{
		"name": "Metformin", "dosage": "500 mg", "form": "TABLET", "frequency": "AS_NEEDED"}, 201)["id"].(string)
	for i := 0; i < 3; i++ {
		a.api("POST", "/medications/"+med+"/log", token, map[string]any{"status": "GIVEN",
			"scheduledTime": time.Now().UTC().Add(-time.Duration(i) * time.Hour).Format(time.RFC3339)}, 201)
	}
	// The family channel's history, once every event is dispatched:
	// capped at 2, expiring within 90 s.
	ctx := context.Background()
	var stream string
	eventually(t, 30*time.Second, "the family channel's history in Redis, all events dispatched", func() bool {
		if jpath(a.health(), "components", "outbox", "pending") != float64(0) {
			return false
		}
		for _, k := range redisKeys(t, rdb, prefix) {
			if strings.Contains(k, "family:"+fam) && rdb.Type(ctx, k).Val() == "stream" {
				stream = k
				return true
			}
		}
		return false
	})
	if n := rdb.XLen(ctx, stream).Val(); n != 2 {
		t.Errorf("history stream %s holds %d entries, want 2 (REALTIME_HISTORY_SIZE)", stream, n)
	}
	if ttl := rdb.TTL(ctx, stream).Val(); ttl <= 0 || ttl > 90*time.Second {
		t.Errorf("history stream expires in %v, want within 90 s (REALTIME_HISTORY_TTL)", ttl)
	}
	for _, k := range redisKeys(t, rdb, prefix) {
		if !strings.HasPrefix(k, prefix) {
			t.Errorf("key %s outside REDIS_KEY_PREFIX", k)
		}
	}
}

func settingsRedisParts(t *testing.T) {
	requireRedisServer(t)
	ca := newTestCA(t)
	certFile, keyFile := writePEM(t, ca.leaf(t, "127.0.0.1"))
	caFile := ca.file
	port := freePort(t)
	cmd := newRedisTLS(port, certFile, keyFile, caFile, "redis-secret")
	if err := cmd.Start(); err != nil {
		t.Fatalf("start redis-server: %v", err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _, _ = cmd.Process.Wait() })
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:" + strconv.Itoa(port), Password: "redis-secret",
		TLSConfig: ca.tlsClient("127.0.0.1")})
	defer rdb.Close()
	eventually(t, 10*time.Second, "the private redis-server answers", func() bool { return rdb.Ping(context.Background()).Err() == nil })

	a := startApp(t, map[string]string{"REDIS_HOST": "127.0.0.1", "REDIS_PORT": strconv.Itoa(port), "REDIS_PASSWORD": "redis-secret",
		"REDIS_TLS": "true", "REDIS_KEY_PREFIX": "ccparts:", "SSL_CERT_FILE": caFile})
	if s := jpath(a.health(), "components", "redis", "status"); s != "up" {
		t.Errorf("redis status %v", s)
	}
	// A sign-in attempt is limited in Redis on every try (other routes are
	// counted in the node's memory until a client nears its limit).
	a.request("POST", a.base+a.prefix+"/auth/login", "", map[string]string{"email": "nobody@example.com", "password": "not-the-password"}, nil)
	if keys := redisKeys(t, rdb, "ccparts:"); len(keys) == 0 {
		t.Error("no keys under REDIS_KEY_PREFIX in the redis-server at REDIS_HOST:REDIS_PORT")
	}
}

func settingsRabbitMQ(t *testing.T) {
	for _, variable := range []string{"RABBITMQ_URL", "AMQP_URL"} {
		t.Run(variable, func(t *testing.T) {
			t.Parallel()
			url, vhost := rabbitVhost(t)
			a := startApp(t, map[string]string{"RABBITMQ_ENABLED": "true", variable: url, "LOG_LEVEL": "warn"})
			eventually(t, 30*time.Second, "/health reports rabbitmq up", func() bool {
				return jpath(a.health(), "components", "rabbitmq", "status") == "up"
			})
			exchanges := rabbitmqctl(t, "list_exchanges", "-p", vhost, "name", "type")
			for name, kind := range map[string]string{"carecircle.domain.events": "topic", "carecircle.notifications": "direct",
				"carecircle.audit": "fanout", "carecircle.dlx": "direct"} {
				if !regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(name) + `\s+` + kind + `\s*$`).MatchString(exchanges) {
					t.Errorf("exchange %s (%s) not declared in %s:\n%s", name, kind, vhost, exchanges)
				}
			}
			queues := rabbitmqctl(t, "list_queues", "-p", vhost, "name")
			for _, q := range []string{"carecircle.channels", "carecircle.channels.dlq", "carecircle.realtime", "carecircle.realtime.dlq"} {
				if !regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(q) + `\s*$`).MatchString(queues) {
					t.Errorf("queue %s not declared in %s:\n%s", q, vhost, queues)
				}
			}
		})
	}
}
