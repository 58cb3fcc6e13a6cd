// Package mail sends CareCircle's email. With no provider configured every
// message is written as an RFC 5322 .eml file into an outbox directory.
package mail

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
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
	// ID, when set, names the message for good (such as one notification
	// to one address): sending it again after a crash or a retry gives the
	// same Message-ID header, the same Brevo idempotency key and the same
	// outbox file, so the recipient has it once.
	ID string
}

// idDigest is the hex SHA-256 of a message's ID.
func idDigest(id string) string {
	sum := sha256.Sum256([]byte(id))
	return hex.EncodeToString(sum[:])
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
	if m.ID != "" {
		msg.SetMessageIDWithValue(idDigest(m.ID)[:32] + "@carecircle")
	} else {
		msg.SetMessageID()
	}
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
// list in the order they were sent. A message with an ID is suffixed with
// the ID's digest instead and written only if no file has that suffix yet.
func (o *Outbox) Send(ctx context.Context, m Message) error {
	now := o.Now()
	msg, err := Build(o.From, m, now)
	if err != nil {
		return err
	}
	suffix := make([]byte, 4)
	_, _ = rand.Read(suffix)
	tag := hex.EncodeToString(suffix)
	if m.ID != "" {
		tag = idDigest(m.ID)[:16]
		if found, _ := filepath.Glob(filepath.Join(o.Dir, "*-"+tag+".eml")); len(found) > 0 {
			o.Logger.InfoContext(ctx, "email already in the outbox", slog.String("to", m.To),
				slog.String("template", m.Template), slog.String("file", filepath.Base(found[0])))
			return nil
		}
	}
	name := fmt.Sprintf("%s-%s.eml", now.UTC().Format("20060102T150405.000000000Z"), tag)
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
