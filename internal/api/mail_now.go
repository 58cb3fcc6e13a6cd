package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
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

// retryAfterer is a send failure that knows when a new try may pass.
type retryAfterer interface{ RetryAfter() time.Duration }

// defaultMailRetry is the wait asked for when a failure does not say.
const defaultMailRetry = time.Minute

// sendNow sends transactional mail m through the configured sender's
// SendNow (Send for a sender without one). When nothing could send it, it
// returns the 503 that tells the person to try again after Retry-After;
// what names the mail in that answer ("The verification code could not be
// emailed right now"). The caller keeps nothing as sent in that case.
func (s *Server) sendNow(ctx context.Context, m mail.Message, what string) error {
	var err error
	if n, ok := s.mail.(NowSender); ok {
		err = n.SendNow(ctx, m)
	} else {
		err = s.mail.Send(ctx, m)
	}
	if err == nil {
		return nil
	}
	if ctx.Err() != nil {
		// The client went away; nobody reads the answer.
		return err
	}
	wait := defaultMailRetry
	var ra retryAfterer
	if errors.As(err, &ra) && ra.RetryAfter() > 0 {
		wait = ra.RetryAfter()
	}
	// Logged with its cause by writeError, as every 5xx.
	return fmt.Errorf("%w (%s: %w)", cannotSendNow(what, wait), m.Template, err)
}

// cannotSendNow is the 503 of a route whose email could not be sent:
// Retry-After in whole seconds (rounded up), and the wait in words.
func cannotSendNow(what string, wait time.Duration) *Error {
	secs := int64((wait + time.Second - 1) / time.Second)
	secs = max(secs, 1)
	e := errorf(http.StatusServiceUnavailable, "%s could not be emailed right now. Please try again %s.",
		what, waitText(time.Duration(secs)*time.Second))
	e.Header = http.Header{"Retry-After": {strconv.FormatInt(secs, 10)}}
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
