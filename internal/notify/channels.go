package notify

import (
	"context"

	"github.com/carecircle/carecircle/internal/care"
	"github.com/carecircle/carecircle/internal/store"
)

// Channel carries notifications beyond the app. Each channel is one file
// (push.go, email.go, sms.go); adding one is a file with a type that
// implements Channel, registered in the Channels the Deliverer is given.
type Channel interface {
	// Name names the channel in delivery records.
	Name() string
	// On reports whether a user's switches turn the channel on for routine
	// notifications; an emergency goes on every channel.
	On(prefs care.NotificationPreferences) bool
	// Send delivers the notification to its user on this channel: to each
	// of the user's targets an earlier try has not reached
	// (store.DeliveryDone), recording what happened to each
	// (store.RecordDelivery). It reports whether the user has it on this
	// channel; an error wrapping ErrTemporary is worth another try.
	Send(ctx context.Context, d *Delivery) (reached bool, err error)
}

// Channels is the registry of channels the Deliverer sends on. The app
// builds one from its configuration; it is not changed once in use.
type Channels struct {
	list []Channel
}

// Register adds a channel.
func (c *Channels) Register(ch Channel) { c.list = append(c.list, ch) }

// Delivery is one notification on its way to its user, as every channel
// sees it.
type Delivery struct {
	Notification *care.Notification
	User         *care.User
	// Emergency notifications ignore the switches and take from the email
	// reserve.
	Emergency bool
	sending   map[string]*sending
	// batch, when set, holds what was read for the deliveries this one
	// was sent with.
	batch *batch
}

// done reports whether an earlier try finished this delivery on channel
// for target (store.DeliveryDone), from what was read for its batch.
func (d *Delivery) done(ctx context.Context, st *store.Store, channel, target string) (bool, error) {
	if d.batch != nil {
		return d.batch.done[[3]string{d.Notification.ID, channel, target}], nil
	}
	return st.DeliveryDone(ctx, d.Notification.ID, channel, target)
}

// pushSubscriptions lists the user's push subscriptions, newest first,
// from what was read for its batch.
func (d *Delivery) pushSubscriptions(ctx context.Context, st *store.Store) ([]store.PushSubscription, error) {
	if d.batch != nil {
		return d.batch.subscriptions[d.User.ID], nil
	}
	return st.PushSubscriptions(ctx, d.User.ID)
}

// sending is one channel's work on a Delivery.
type sending struct {
	done    chan struct{}
	reached bool
}

// Reached waits until the named channel has tried this delivery and reports
// whether it reached the user; false when that channel is not used for it.
// A channel must not wait for one that waits for it.
func (d *Delivery) Reached(channel string) bool {
	s, ok := d.sending[channel]
	if !ok {
		return false
	}
	<-s.done
	return s.reached
}
