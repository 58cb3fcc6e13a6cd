package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// TestShortRun simulates five days for two families: without retention
// every event stays; with it, those dispatched more than three days before
// the end are gone.
func TestShortRun(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	if err := run(context.Background(), []string{"-families", "2", "-days", "5", "-dir", t.TempDir()}, &out); err != nil {
		t.Fatal(err)
	}
	s := out.String()
	// 24 events a family-day (18 reminders, 4 doses, 2 journal entries):
	// 240 kept; with retention, the last three days' 144.
	if !strings.Contains(s, "| `outbox_events` rows | 240 | 144 |") || !strings.Contains(s, "| rows pruned | 0 | 96 |") {
		t.Fatalf("report:\n%s", s)
	}
}
