package notify

import (
	"context"
	"fmt"

	"github.com/carecircle/carecircle/internal/care"
	"github.com/carecircle/carecircle/internal/notify/sms"
	"github.com/carecircle/carecircle/internal/store"
)

// ChannelSMS is SMS's name in delivery records.
const ChannelSMS = "sms"

// SMSSender sends a text message to an E.164 number.
type SMSSender interface {
	SendSMS(ctx context.Context, to, body string) error
}

// SMSChannel texts notifications to users' verified phone numbers.
type SMSChannel struct {
	Store     *store.Store
	Sender    SMSSender
	PublicURL string
}

// Name implements Channel.
func (*SMSChannel) Name() string { return ChannelSMS }

// On implements Channel: the SMS switch.
func (*SMSChannel) On(prefs care.NotificationPreferences) bool { return prefs.SMS }

// Send implements Channel: it texts the notification to the user's
// verified phone, if they have one.
func (c *SMSChannel) Send(ctx context.Context, p *Delivery) (bool, error) {
	u := p.User
	if u.Phone == nil || *u.Phone == "" || !u.PhoneVerified {
		return false, nil
	}
	to := *u.Phone
	done, err := p.done(ctx, c.Store, ChannelSMS, to)
	if err != nil || done {
		return false, err
	}
	n := p.Notification
	body := n.Title
	if n.Body != "" {
		body += ": " + n.Body
	}
	if link := NotificationURL(n, c.PublicURL); link != "" {
		body += " " + link
	}
	if err := c.Sender.SendSMS(ctx, to, truncate(body, 480)); err != nil {
		if !sms.Temporary(err) {
			// A refused number or message: trying again will not help.
			return false, c.Store.RecordDelivery(ctx, n.ID, ChannelSMS, to, store.DeliveryRejected, "twilio", err.Error())
		}
		_ = c.Store.RecordDelivery(ctx, n.ID, ChannelSMS, to, store.DeliveryFailed, "twilio", err.Error())
		return false, fmt.Errorf("%w: sms: %v", ErrTemporary, err)
	}
	return true, c.Store.RecordDelivery(ctx, n.ID, ChannelSMS, to, store.DeliverySent, "twilio", "")
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
