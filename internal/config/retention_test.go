package config

import (
	"strings"
	"testing"
	"time"
)

func TestRetention(t *testing.T) {
	t.Parallel()
	c, err := Load(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	want := Retention{Notifications: 90 * day, Outbox: 3 * day, Ledger: 30 * day, EmailLog: 90 * day, Audit: 730 * day}
	if c.Retention != want {
		t.Fatalf("defaults %+v, want %+v", c.Retention, want)
	}
	if s := c.LogValue().String(); !strings.Contains(s, "notifications=90d outbox=3d ledger=30d emailLog=90d audit=730d") {
		t.Errorf("log lacks the retention: %s", s)
	}
	c, err = Load(env(map[string]string{"NOTIFICATION_RETENTION": "0", "OUTBOX_RETENTION": "36h", "LEDGER_RETENTION": "2d", "EMAIL_LOG_RETENTION": "400d", "AUDIT_RETENTION": "0"}))
	if err != nil {
		t.Fatal(err)
	}
	if want := (Retention{Outbox: 36 * time.Hour, Ledger: 2 * day, EmailLog: 400 * day}); c.Retention != want {
		t.Fatalf("loaded %+v, want %+v", c.Retention, want)
	}

	for _, tc := range []struct{ name, value, msg string }{
		{"NOTIFICATION_RETENTION", "soon", "NOTIFICATION_RETENTION: \"soon\" is not 0 or a duration of at least 1d"},
		{"OUTBOX_RETENTION", "10m", "OUTBOX_RETENTION: \"10m\" is not 0 or a duration of at least 1h0m0s"},
		{"LEDGER_RETENTION", "1d", "LEDGER_RETENTION: \"1d\" is not 0 or a duration of at least 2d"},
		{"EMAIL_LOG_RETENTION", "-5d", "EMAIL_LOG_RETENTION"},
		{"AUDIT_RETENTION", "60d", "AUDIT_RETENTION: 60d is shorter than NOTIFICATION_RETENTION (90d)"},
	} {
		_, err := Load(env(map[string]string{tc.name: tc.value}))
		if err == nil || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%s=%s: %v, want %q", tc.name, tc.value, err, tc.msg)
		}
	}
}
