package feature

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/carecircle/carecircle/internal/mail"
)

// NowSender is a mail.Sender that also sends transactional mail (codes,
// reset links, invitations) now or not at all, as notify.Mailer does. Its
// failures may say when to try again with a RetryAfter() time.Duration
// method.
type NowSender interface {
	mail.Sender
	SendNow(ctx context.Context, m mail.Message) error
}

// DefaultMailRetry is the wait asked for when a mail failure does not say.
const DefaultMailRetry = time.Minute

// SendNow sends transactional mail m now (Send for a sender without
// SendNow). When nothing could send it, the failure is KindUnavailable
// with the wait before a new try (CannotSendNow); what names the mail in
// its message ("The verification code"). The caller keeps nothing as sent
// in that case.
func (b *Base) SendNow(ctx context.Context, m mail.Message, what string) error {
	if b.Mail == nil {
		return fmt.Errorf("%w (%s: no mail sender)", CannotSendNow(what, DefaultMailRetry), m.Template)
	}
	var err error
	if n, ok := b.Mail.(NowSender); ok {
		err = n.SendNow(ctx, m)
	} else {
		err = b.Mail.Send(ctx, m)
	}
	if err == nil {
		return nil
	}
	if ctx.Err() != nil {
		// The client went away; nobody reads the answer.
		return err
	}
	wait := DefaultMailRetry
	var ra interface{ RetryAfter() time.Duration }
	if errors.As(err, &ra) && ra.RetryAfter() > 0 {
		wait = ra.RetryAfter()
	}
	return fmt.Errorf("%w (%s: %w)", CannotSendNow(what, wait), m.Template, err)
}

// CannotSendNow is the failure of an email that could not be sent: the
// wait in whole seconds (rounded up, at least one), and in words.
func CannotSendNow(what string, wait time.Duration) *Error {
	wait = max((wait+time.Second-1)/time.Second, 1) * time.Second
	e := Errorf(KindUnavailable, "%s could not be emailed right now. Please try again %s.", what, waitText(wait))
	e.RetryAfter = wait
	return e
}

// waitText says a wait in words: "in a minute", "in 5 minutes", "in 4 hours".
func waitText(d time.Duration) string {
	switch {
	case d <= time.Minute:
		return "in a minute"
	case d < time.Hour:
		return fmt.Sprintf("in %d minutes", (d+time.Minute-1)/time.Minute)
	case d <= time.Hour:
		return "in an hour"
	default:
		return fmt.Sprintf("in %d hours", (d+time.Hour-1)/time.Hour)
	}
}
