// Package mail sends CareCircle's email. With no provider configured every
// message is written as an RFC 5322 .eml file into an outbox directory.
package mail

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	gomail "github.com/wneessen/go-mail"
)

// Message is one outgoing email.
type Message struct {
	To       string
	Subject  string
	Text     string
	HTML     string
	Template string // the template it was rendered from, for logs and records
}

// Sender delivers messages.
type Sender interface {
	Send(ctx context.Context, m Message) error
}

// Build renders m as a go-mail message from the given sender address.
func Build(from string, m Message, now time.Time) (*gomail.Msg, error) {
	msg := gomail.NewMsg()
	if err := msg.From(from); err != nil {
		return nil, fmt.Errorf("mail: from %q: %w", from, err)
	}
	if err := msg.To(m.To); err != nil {
		return nil, fmt.Errorf("mail: to %q: %w", m.To, err)
	}
	msg.Subject(m.Subject)
	msg.SetDateWithValue(now)
	msg.SetMessageID()
	msg.SetBodyString(gomail.TypeTextPlain, m.Text)
	if m.HTML != "" {
		msg.AddAlternativeString(gomail.TypeTextHTML, m.HTML)
	}
	return msg, nil
}

// Outbox writes each message as a .eml file under Dir.
type Outbox struct {
	Dir    string
	From   string
	Logger *slog.Logger
	Now    func() time.Time
}

// NewOutbox returns an outbox sender, creating dir if needed.
func NewOutbox(dir, from string, logger *slog.Logger, now func() time.Time) (*Outbox, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("mail: create outbox %s: %w", dir, err)
	}
	return &Outbox{Dir: dir, From: from, Logger: logger, Now: now}, nil
}

// Send writes m to a new file named by time and a random suffix, so files
// list in the order they were sent.
func (o *Outbox) Send(ctx context.Context, m Message) error {
	now := o.Now()
	msg, err := Build(o.From, m, now)
	if err != nil {
		return err
	}
	suffix := make([]byte, 4)
	_, _ = rand.Read(suffix)
	name := fmt.Sprintf("%s-%s.eml", now.UTC().Format("20060102T150405.000000000Z"), hex.EncodeToString(suffix))
	tmp := filepath.Join(o.Dir, "."+name+".tmp")
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_WRONLY|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("mail: outbox: %w", err)
	}
	if _, err := msg.WriteTo(f); err != nil {
		f.Close()
		os.Remove(tmp)
		return fmt.Errorf("mail: outbox write: %w", err)
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("mail: outbox close: %w", err)
	}
	// Rename makes the file appear whole, never half-written.
	if err := os.Rename(tmp, filepath.Join(o.Dir, name)); err != nil {
		return fmt.Errorf("mail: outbox rename: %w", err)
	}
	o.Logger.InfoContext(ctx, "email written to outbox", slog.String("to", m.To),
		slog.String("subject", m.Subject), slog.String("template", m.Template), slog.String("file", name))
	return nil
}
