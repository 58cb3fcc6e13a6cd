package config

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Retention says how long the daily retention job keeps each kind of record;
// zero keeps it for ever.
type Retention struct {
	// Notifications: read notifications (unread ones are kept).
	Notifications time.Duration
	// Outbox: domain events every consumer has taken.
	Outbox time.Duration
	// Ledger: finished reminder ledger entries and periodic job runs.
	Ledger time.Duration
	// EmailLog: the email attempt log.
	EmailLog time.Duration
	// Audit: audit entries, kept longest.
	Audit time.Duration
}

const day = 24 * time.Hour

func retentionVars() []Var {
	return []Var{
		{Name: "NOTIFICATION_RETENTION", Default: "90d", Help: "how long read notifications are kept (unread ones stay); 0 keeps them for ever"},
		{Name: "OUTBOX_RETENTION", Default: "3d", Help: "how long domain events are kept once every consumer has taken them"},
		{Name: "LEDGER_RETENTION", Default: "30d", Help: "how long finished reminder ledger entries and periodic job runs are kept (at least 2d); 0 keeps them"},
		{Name: "EMAIL_LOG_RETENTION", Default: "90d", Help: "how long the email attempt log is kept; 0 keeps it"},
		{Name: "AUDIT_RETENTION", Default: "730d", Help: "how long audit entries are kept, at least as long as every other retention; 0 keeps them for ever"},
	}
}

func loadRetention(get func(string) string, bad func(name, value, why string)) (Retention, []error) {
	var r Retention
	var errs []error
	for _, f := range []struct {
		name string
		dst  *time.Duration
		min  time.Duration
	}{
		{"NOTIFICATION_RETENTION", &r.Notifications, day},
		{"OUTBOX_RETENTION", &r.Outbox, time.Hour},
		{"LEDGER_RETENTION", &r.Ledger, 2 * day},
		{"EMAIL_LOG_RETENTION", &r.EmailLog, day},
		{"AUDIT_RETENTION", &r.Audit, day},
	} {
		v, err := parseRetention(get(f.name))
		if err != nil || (v != 0 && v < f.min) {
			bad(f.name, get(f.name), fmt.Sprintf("is not 0 or a duration of at least %s (e.g. 90d, 36h)", formatDays(f.min)))
			continue
		}
		*f.dst = v
	}
	if r.Audit != 0 {
		for _, other := range []struct {
			name string
			v    time.Duration
		}{{"NOTIFICATION_RETENTION", r.Notifications}, {"OUTBOX_RETENTION", r.Outbox}, {"LEDGER_RETENTION", r.Ledger}, {"EMAIL_LOG_RETENTION", r.EmailLog}} {
			if other.v > r.Audit {
				errs = append(errs, fmt.Errorf("AUDIT_RETENTION: %s is shorter than %s (%s); the audit log is kept longest",
					formatDays(r.Audit), other.name, formatDays(other.v)))
			}
		}
	}
	return r, errs
}

// parseRetention reads "90d", a Go duration ("36h") or "0" (keep for ever).
func parseRetention(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "0" {
		return 0, nil
	}
	if n, ok := strings.CutSuffix(s, "d"); ok {
		d, err := strconv.Atoi(n)
		if err != nil || d < 0 || d > 36500 {
			return 0, errors.New("not a number of days")
		}
		return time.Duration(d) * day, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, errors.New("not a duration")
	}
	return d, nil
}

// formatDays writes whole days as "30d" and anything else as a Go duration.
func formatDays(d time.Duration) string {
	if d%day == 0 && d != 0 {
		return strconv.Itoa(int(d/day)) + "d"
	}
	return d.String()
}

// retentionSummary is the effective retention for the start-up line.
func (r Retention) retentionSummary() string {
	f := func(d time.Duration) string {
		if d == 0 {
			return "forever"
		}
		return formatDays(d)
	}
	return fmt.Sprintf("notifications=%s outbox=%s ledger=%s emailLog=%s audit=%s",
		f(r.Notifications), f(r.Outbox), f(r.Ledger), f(r.EmailLog), f(r.Audit))
}
