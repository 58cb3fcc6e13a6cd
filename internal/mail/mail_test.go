package mail

import (
	"context"
	"io"
	"log/slog"
	netmail "net/mail"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestOutboxWritesParseableEML(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "outbox")
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	o, err := NewOutbox(dir, "CareCircle <no-reply@carecircle.local>", slog.New(slog.NewTextHandler(io.Discard, nil)), func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	err = o.Send(context.Background(), Message{To: "ann@example.com", Subject: "Your code", Text: "Code: 123456", HTML: "<p>Code: <b>123456</b></p>"})
	if err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.eml"))
	if len(files) != 1 {
		t.Fatalf("want one .eml, got %v", files)
	}
	f, _ := os.Open(files[0])
	defer f.Close()
	msg, err := netmail.ReadMessage(f)
	if err != nil {
		t.Fatalf("not RFC 5322: %v", err)
	}
	if got := msg.Header.Get("Subject"); got != "Your code" {
		t.Fatalf("Subject = %q", got)
	}
	if got := msg.Header.Get("To"); !strings.Contains(got, "ann@example.com") {
		t.Fatalf("To = %q", got)
	}
	body, _ := io.ReadAll(msg.Body)
	if !strings.Contains(string(body), "123456") {
		t.Fatalf("body lacks the code: %s", body)
	}
}

func TestReadOutboxDecodesLongLines(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	o, err := NewOutbox(dir, "CareCircle <no-reply@carecircle.local>", slog.New(slog.NewTextHandler(io.Discard, nil)), time.Now)
	if err != nil {
		t.Fatal(err)
	}
	link := "http://localhost:4000/accept-invite/" + strings.Repeat("AbC-_9", 12)
	if err := o.Send(context.Background(), Message{To: "Bo@Example.com", Subject: "Join the Lee family – CareCircle", Text: "Open " + link + " to join.", HTML: "<a href=\"" + link + "\">join</a>"}); err != nil {
		t.Fatal(err)
	}
	msgs, err := ReadOutbox(dir)
	if err != nil || len(msgs) != 1 {
		t.Fatalf("ReadOutbox = %v, %v", msgs, err)
	}
	m := msgs[0]
	if !strings.Contains(m.Text, link) || m.Subject != "Join the Lee family – CareCircle" || !strings.EqualFold(m.To, "bo@example.com") {
		t.Fatalf("read back %+v", m)
	}
}
