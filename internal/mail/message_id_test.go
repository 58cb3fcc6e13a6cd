package mail

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// A message with an ID is the same message however often it is sent: one
// Message-ID, one outbox file. Without an ID every send is a new message.
func TestMessageWithIDIsSentOnce(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	now := time.Date(2026, 3, 9, 8, 0, 0, 0, time.UTC)
	ob, err := NewOutbox(dir, "no-reply@carecircle.test", slog.New(slog.NewTextHandler(io.Discard, nil)), func() time.Time {
		now = now.Add(time.Second)
		return now
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	m := Message{To: "bo@example.com", Subject: "Reminder", Text: "Metformin at 8", ID: "notification/n1/email/bo@example.com"}
	for range 3 {
		if err := ob.Send(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	other := m
	other.ID = "notification/n2/email/bo@example.com"
	if err := ob.Send(ctx, other); err != nil {
		t.Fatal(err)
	}
	anonymous := m
	anonymous.ID = ""
	for range 2 {
		if err := ob.Send(ctx, anonymous); err != nil {
			t.Fatal(err)
		}
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.eml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 4 {
		t.Fatalf("%d files in the outbox, want 4 (n1 once, n2 once, two without an ID)", len(files))
	}
	ids := map[string]int{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for line := range strings.Lines(string(b)) {
			if v, ok := strings.CutPrefix(line, "Message-ID: "); ok {
				ids[strings.TrimSpace(v)]++
			}
		}
	}
	if len(ids) != 4 {
		t.Fatalf("Message-IDs %v, want 4 distinct", ids)
	}
	// The Message-ID of an ID does not depend on when it is built.
	a, _ := Build("no-reply@carecircle.test", m, now)
	b, _ := Build("no-reply@carecircle.test", m, now.Add(time.Hour))
	if a.GetMessageID() == "" || a.GetMessageID() != b.GetMessageID() {
		t.Fatalf("Message-IDs %q and %q for one ID", a.GetMessageID(), b.GetMessageID())
	}
	if _, seen := ids["<"+a.GetMessageID()+">"]; !seen && ids[a.GetMessageID()] == 0 {
		t.Fatalf("Message-ID %q not among the files' %v", a.GetMessageID(), ids)
	}
}

// Brevo gets the same idempotency key (a UUID, as it requires) for each send
// of a message with an ID, and none without.
func TestBrevoIdempotencyKey(t *testing.T) {
	t.Parallel()
	var keys []string
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			Headers map[string]string `json:"headers"`
		}
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			t.Error(err)
		}
		keys = append(keys, body.Headers["idempotencyKey"])
		w.WriteHeader(http.StatusCreated)
		_, _ = io.WriteString(w, `{"messageId":"<x@brevo>"}`)
	}))
	defer api.Close()
	b, err := NewBrevo("xkeysib-test", "no-reply@carecircle.test", nil, api.URL)
	if err != nil {
		t.Fatal(err)
	}
	m := Message{To: "bo@example.com", Subject: "Reminder", Text: "Metformin at 8", ID: "notification/n1/email/bo@example.com"}
	other := m
	other.ID = "notification/n2/email/bo@example.com"
	anonymous := m
	anonymous.ID = ""
	for _, msg := range []Message{m, m, other, anonymous} {
		if err := b.Send(context.Background(), msg); err != nil {
			t.Fatal(err)
		}
	}
	if len(keys) != 4 || keys[0] == "" || keys[0] != keys[1] || keys[2] == "" || keys[2] == keys[0] || keys[3] != "" {
		t.Fatalf("idempotency keys %q", keys)
	}
	if len(keys[0]) != 36 || strings.Count(keys[0], "-") != 4 {
		t.Fatalf("idempotency key %q is not a UUID", keys[0])
	}
}
