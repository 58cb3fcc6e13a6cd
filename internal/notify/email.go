package notify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/carecircle/carecircle/internal/care"
	"github.com/carecircle/carecircle/internal/clock"
	"github.com/carecircle/carecircle/internal/mail"
	"github.com/carecircle/carecircle/internal/store"
)

// ChannelEmail is email's name in delivery records.
const ChannelEmail = "email"

// EmailChannel sends notifications by email through the provider chain,
// within the daily quota.
type EmailChannel struct {
	Store     *store.Store
	Chain     *mail.Chain
	Clock     clock.Clock
	Logger    *slog.Logger
	PublicURL string
}

// Name implements Channel.
func (*EmailChannel) Name() string { return ChannelEmail }

// On implements Channel: the email switch.
func (*EmailChannel) On(prefs care.NotificationPreferences) bool { return prefs.Email }

// Send implements Channel: it sends the notification's email, if its kind
// has one, within the quota. Routine email that does not fit is downgraded
// when it is time-bound (push and in-app carry it), deferred to the next
// UTC day otherwise.
func (c *EmailChannel) Send(ctx context.Context, p *Delivery) (bool, error) {
	if p.User.Email == "" {
		return false, nil
	}
	m, timeBound, ok := c.EmailFor(ctx, p.Notification, p.User)
	if !ok {
		return false, nil
	}
	// A crash between sending and recording below sends it again after the
	// restart: as the same message, which the recipient gets once.
	m.ID = "notification/" + p.Notification.ID + "/email/" + p.User.Email
	done, err := p.done(ctx, c.Store, ChannelEmail, p.User.Email)
	if err != nil || done {
		return false, err
	}
	prio := mail.PriorityRoutine
	if p.Emergency {
		prio = mail.PriorityEmergency
	}
	provider, err := c.Chain.Deliver(ctx, m, prio)
	switch {
	case err == nil:
		return true, c.Store.RecordDelivery(ctx, p.Notification.ID, ChannelEmail, p.User.Email, store.DeliverySent, provider, "")
	case errors.Is(err, mail.ErrQuotaExceeded) && timeBound:
		// A reminder is worthless tomorrow: push and in-app carry it today.
		reason := "daily email quota spent; delivered in-app"
		if p.Reached(ChannelPush) {
			reason = "daily email quota spent; delivered by push and in-app"
		}
		c.Chain.RecordOutcome(ctx, m, prio, mail.StatusDowngraded, errors.New(reason))
		return false, c.Store.RecordDelivery(ctx, p.Notification.ID, ChannelEmail, p.User.Email, store.DeliveryDowngraded, "", reason)
	case errors.Is(err, mail.ErrQuotaExceeded):
		due := mail.NextDay(c.Clock.Now())
		if err := c.Store.DeferEmail(ctx, store.DeferredEmail{To: m.To, Subject: m.Subject, Text: m.Text, HTML: m.HTML, Template: m.Template, DueAt: due}); err != nil {
			return false, err
		}
		c.Chain.RecordOutcome(ctx, m, prio, mail.StatusDeferred, fmt.Errorf("daily email quota spent; deferred to %s", due.Format(time.RFC3339)))
		return false, c.Store.RecordDelivery(ctx, p.Notification.ID, ChannelEmail, p.User.Email, store.DeliveryDeferred, "", "deferred to "+due.Format(time.RFC3339))
	case mail.Temporary(err):
		_ = c.Store.RecordDelivery(ctx, p.Notification.ID, ChannelEmail, p.User.Email, store.DeliveryFailed, "", err.Error())
		return false, fmt.Errorf("%w: email: %v", ErrTemporary, err)
	default:
		return false, c.Store.RecordDelivery(ctx, p.Notification.ID, ChannelEmail, p.User.Email, store.DeliveryRejected, "", err.Error())
	}
}
