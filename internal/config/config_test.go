package config

import (
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestLoadDefaults(t *testing.T) {
	t.Parallel()
	c, err := Load(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.Port != 4000 || c.APIPrefix != "/api/v1" || c.DataDir != "./data" || c.Postgres() {
		t.Fatalf("unexpected defaults: %+v", c)
	}
	if c.JWTExpiresIn != 15*time.Minute {
		t.Fatalf("JWTExpiresIn = %v", c.JWTExpiresIn)
	}
}

func TestLoadRejectsBadValuesNamingTheVariable(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		env  map[string]string
		want string
	}{
		"port":       {map[string]string{"PORT": "abc"}, `PORT: "abc" is not a port`},
		"port range": {map[string]string{"PORT": "70000"}, `PORT: "70000" is not a port`},
		"db":         {map[string]string{"DATABASE_URL": "mysql://x"}, "DATABASE_URL"},
		"jwt":        {map[string]string{"JWT_EXPIRES_IN": "soon"}, "JWT_EXPIRES_IN"},
		"env":        {map[string]string{"APP_ENV": "staging"}, "APP_ENV"},
		"level":      {map[string]string{"LOG_LEVEL": "loud"}, "LOG_LEVEL"},
		"prod":       {map[string]string{"APP_ENV": "production"}, "JWT_SECRET: required"},
		"url":        {map[string]string{"PUBLIC_URL": "ftp://x"}, "PUBLIC_URL"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := Load(env(tc.env))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestLogValueMasksSecrets(t *testing.T) {
	t.Parallel()
	c, err := Load(env(map[string]string{
		"DATABASE_URL": "postgres://app:hunter2@db:5432/care",
		"JWT_SECRET":   "supersecretsupersecretsupersecret",
	}))
	if err != nil {
		t.Fatal(err)
	}
	s := c.LogValue().String()
	if strings.Contains(s, "hunter2") || strings.Contains(s, "supersecret") {
		t.Fatalf("secret leaked: %s", s)
	}
	if !strings.Contains(s, "db:5432") {
		t.Fatalf("host missing: %s", s)
	}
}

func TestQueueConcurrency(t *testing.T) {
	t.Parallel()
	c, err := Load(env(map[string]string{"QUEUE_CONCURRENCY": "notifications=40, medication-reminders=0"}))
	if err != nil || c.QueueConcurrency["notifications"] != 40 || c.QueueConcurrency["medication-reminders"] != 0 {
		t.Fatalf("%v %v", c.QueueConcurrency, err)
	}
	for _, bad := range []string{"notifications", "x=-1", "=3", "a=1,b"} {
		if _, err := Load(env(map[string]string{"QUEUE_CONCURRENCY": bad})); err == nil || !strings.Contains(err.Error(), "QUEUE_CONCURRENCY") {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

func TestRealtimeSettings(t *testing.T) {
	t.Parallel()
	c, err := Load(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.RealtimeHistorySize != 100 || c.RealtimeHistoryTTL != 10*time.Minute || c.RealtimeMaxConnsPerUser != 10 || len(c.AllowedOrigins) != 0 {
		t.Fatalf("realtime defaults: %d %v %d %v", c.RealtimeHistorySize, c.RealtimeHistoryTTL, c.RealtimeMaxConnsPerUser, c.AllowedOrigins)
	}
	c, err = Load(env(map[string]string{"ALLOWED_ORIGINS": " https://app.example.org/, http://localhost:3000", "REALTIME_HISTORY_TTL": "90"}))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(c.AllowedOrigins, " ") != "https://app.example.org http://localhost:3000" || c.RealtimeHistoryTTL != 90*time.Second {
		t.Fatalf("origins %v ttl %v", c.AllowedOrigins, c.RealtimeHistoryTTL)
	}
	for name, bad := range map[string]string{
		"ALLOWED_ORIGINS":                   "https://app.example.org/path",
		"REALTIME_HISTORY_SIZE":             "0",
		"REALTIME_HISTORY_TTL":              "forever",
		"REALTIME_MAX_CONNECTIONS_PER_USER": "-1",
	} {
		if _, err := Load(env(map[string]string{name: bad})); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s=%s: err = %v", name, bad, err)
		}
	}
}

func TestPushAllowedHosts(t *testing.T) {
	t.Parallel()
	c, err := Load(env(map[string]string{"PUSH_ALLOWED_HOSTS": " push.corp.example , 127.0.0.1:8443,[::1]:9443,,::1", "SSL_CERT_FILE": "/etc/push-ca.pem"}))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(c.PushAllowedHosts, " "); got != "push.corp.example 127.0.0.1:8443 [::1]:9443 ::1" || c.SSLCertFile != "/etc/push-ca.pem" {
		t.Fatalf("PushAllowedHosts %q, SSLCertFile %q", got, c.SSLCertFile)
	}
	if !strings.Contains(c.LogValue().String(), "127.0.0.1:8443") {
		t.Errorf("start-up configuration does not show the allowed push hosts: %s", c.LogValue())
	}
	for _, bad := range []string{"https://push.corp", "push.corp:0", "push.corp:https", "push corp", "push.corp/wpush", "::1:"} {
		if _, err := Load(env(map[string]string{"PUSH_ALLOWED_HOSTS": bad})); err == nil || !strings.Contains(err.Error(), "PUSH_ALLOWED_HOSTS") {
			t.Errorf("PUSH_ALLOWED_HOSTS=%q: err = %v", bad, err)
		}
	}
}

func TestPublicURLFollowsPort(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct {
		env  map[string]string
		want string
	}{
		"default":        {nil, "http://localhost:4000"},
		"port":           {map[string]string{"PORT": "4100"}, "http://localhost:4100"},
		"set":            {map[string]string{"PORT": "4100", "PUBLIC_URL": "https://care.example.org/"}, "https://care.example.org"},
		"blank is unset": {map[string]string{"PORT": "4200", "PUBLIC_URL": "  "}, "http://localhost:4200"},
	} {
		c, err := Load(env(tc.env))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if c.PublicURL != tc.want {
			t.Errorf("%s: PublicURL = %q, want %q", name, c.PublicURL, tc.want)
		}
		if !strings.Contains(c.LogValue().String(), "publicURL="+tc.want) {
			t.Errorf("%s: the start-up configuration does not show publicURL %s: %s", name, tc.want, c.LogValue())
		}
	}
}
