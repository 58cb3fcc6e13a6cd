package care

import (
	"errors"
	"fmt"
	"testing"
	"time"
)

func TestNextAlertStatus(t *testing.T) {
	t.Parallel()
	statuses := []AlertStatus{AlertActive, AlertAcknowledged, AlertResolved}
	actions := []AlertAction{AlertAcknowledge, AlertResolve}
	// allowed lists every permitted move; everything else must be refused.
	allowed := map[AlertStatus]map[AlertAction]AlertStatus{
		AlertActive:       {AlertAcknowledge: AlertAcknowledged, AlertResolve: AlertResolved},
		AlertAcknowledged: {AlertResolve: AlertResolved},
	}
	for _, from := range statuses {
		for _, a := range actions {
			want, wantOK := allowed[from][a]
			got, ok := NextAlertStatus(from, a)
			if ok != wantOK || (ok && got != want) {
				t.Errorf("%s --%s--> %s, %v; want %s, %v", from, a, got, ok, want, wantOK)
			}
			if !ok && got != from {
				t.Errorf("refused %s --%s-- changed the status to %s", from, a, got)
			}
			// AlertSources is the same machine read backwards, as the store's
			// conditional update uses it.
			inSources := false
			for _, s := range AlertSources(a) {
				inSources = inSources || s == from
			}
			if inSources != wantOK {
				t.Errorf("AlertSources(%s) contains %s: %v, want %v", a, from, inSources, wantOK)
			}
		}
	}
	if _, ok := NextAlertStatus(AlertActive, "escalate"); ok {
		t.Error("an unknown action was allowed")
	}
}

func TestAlertTransitionErrorIsErrAlertTransition(t *testing.T) {
	t.Parallel()
	err := fmt.Errorf("store: %w", &AlertTransitionError{Action: AlertAcknowledge, From: AlertResolved})
	if !errors.Is(err, ErrAlertTransition) {
		t.Fatal("not an ErrAlertTransition")
	}
	var te *AlertTransitionError
	if !errors.As(err, &te) || te.From != AlertResolved {
		t.Fatalf("errors.As: %+v", te)
	}
	if want := "emergency alert: cannot acknowledge an alert that is RESOLVED"; te.Error() != want {
		t.Errorf("message %q, want %q", te.Error(), want)
	}
}

func TestAgeOn(t *testing.T) {
	t.Parallel()
	day := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	cases := []struct {
		born string
		age  int
		ok   bool
	}{
		{"1940-03-02", 86, true}, // birthday today
		{"1940-03-03", 85, true}, // tomorrow
		{"1940-12-31", 85, true},
		{"2026-03-02", 0, true},
		{"2026-03-03", 0, false}, // not born yet
		{"1940-02-30", 0, false},
		{"02/03/1940", 0, false},
	}
	for _, tc := range cases {
		age, ok := AgeOn(tc.born, day)
		if age != tc.age || ok != tc.ok {
			t.Errorf("AgeOn(%s) = %d, %v; want %d, %v", tc.born, age, ok, tc.age, tc.ok)
		}
	}
}

func TestMayChangeTimelineEntry(t *testing.T) {
	t.Parallel()
	author := "author"
	e := &TimelineEntry{CreatedByID: &author}
	orphan := &TimelineEntry{} // its author's account is gone
	cases := []struct {
		role  Role
		user  string
		entry *TimelineEntry
		want  bool
	}{
		{RoleCaregiver, "author", e, true},
		{RoleCaregiver, "someone", e, false},
		{RoleAdmin, "someone", e, true},
		{RoleAdmin, "someone", orphan, true},
		{RoleCaregiver, "someone", orphan, false},
		// A viewer never changes entries, not even their own (written
		// before they became a viewer).
		{RoleViewer, "author", e, false},
	}
	for _, tc := range cases {
		if got := MayChangeTimelineEntry(tc.role, tc.user, tc.entry); got != tc.want {
			t.Errorf("%s %s: %v, want %v", tc.role, tc.user, got, tc.want)
		}
	}
}
