package notify

import (
	"context"
	"errors"
	"fmt"

	"github.com/carecircle/carecircle/internal/care"
	"github.com/carecircle/carecircle/internal/notify/webpush"
	"github.com/carecircle/carecircle/internal/store"
)

// ChannelPush is web push's name in delivery records.
const ChannelPush = "push"

// Pusher sends one web push message.
type Pusher interface {
	Send(ctx context.Context, sub webpush.Subscription, msg webpush.Message, p webpush.Priority) (webpush.Result, error)
}

// PushChannel sends notifications by web push to each of a user's
// browsers.
type PushChannel struct {
	Store     *store.Store
	Sender    Pusher
	PublicURL string
}

// Name implements Channel.
func (*PushChannel) Name() string { return ChannelPush }

// On implements Channel: the push switch.
func (*PushChannel) On(prefs care.NotificationPreferences) bool { return prefs.Push }

// Send implements Channel: it sends to each of the user's subscriptions and
// reports whether at least one browser has it. A subscription the push
// service says is gone, or that is not at a push service, is removed.
func (c *PushChannel) Send(ctx context.Context, p *Delivery) (bool, error) {
	subs, err := p.pushSubscriptions(ctx, c.Store)
	if err != nil {
		return false, err
	}
	msg := PushMessage(p.Notification, c.PublicURL)
	prio := webpush.Normal
	if p.Emergency {
		prio = webpush.Emergency
	}
	var errs []error
	reached := false
	for _, sub := range subs {
		done, err := p.done(ctx, c.Store, ChannelPush, sub.Endpoint)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if done {
			reached = true
			continue
		}
		res, err := c.Sender.Send(ctx, webpush.Subscription{Endpoint: sub.Endpoint, P256dh: sub.P256dh, Auth: sub.Auth}, msg, prio)
		status, detail := store.DeliverySent, ""
		switch {
		case errors.Is(err, webpush.ErrPrivateEndpoint):
			// Not a push service: never send there, and forget it.
			status, detail = store.DeliveryRejected, err.Error()
			if err := c.Store.DeletePushSubscriptionByEndpoint(ctx, sub.Endpoint); err != nil {
				errs = append(errs, err)
			}
		case err != nil:
			status, detail = store.DeliveryFailed, err.Error()
		case res.Outcome == webpush.Delivered:
			reached = true
		case res.Outcome == webpush.Gone:
			status, detail = store.DeliveryGone, res.Detail
			if err := c.Store.DeletePushSubscriptionByEndpoint(ctx, sub.Endpoint); err != nil {
				errs = append(errs, err)
			}
		case res.Outcome == webpush.Retry:
			status, detail = store.DeliveryFailed, fmt.Sprintf("push service answered %d %s", res.StatusCode, res.Detail)
		default:
			status, detail = store.DeliveryRejected, fmt.Sprintf("push service answered %d %s", res.StatusCode, res.Detail)
		}
		if err := c.Store.RecordDelivery(ctx, p.Notification.ID, ChannelPush, sub.Endpoint, status, "webpush", detail); err != nil {
			errs = append(errs, err)
		}
		if status == store.DeliveryFailed {
			errs = append(errs, fmt.Errorf("%w: push: %s", ErrTemporary, detail))
		}
	}
	return reached, errors.Join(errs...)
}
