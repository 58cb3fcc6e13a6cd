package jobs

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"github.com/riverqueue/river"

	"github.com/carecircle/carecircle/internal/care"
	"github.com/carecircle/carecircle/internal/events"
	"github.com/carecircle/carecircle/internal/notify"
	"github.com/carecircle/carecircle/internal/outbox"
)

// Channels is the outbox's "channels" consumer: it hands the notifications
// an event announces to their channels (push, email, SMS) through the
// notifications queue. Taking an event costs one job in a batch insert, so
// the outbox pass that also publishes events to the family's sockets never
// waits on push services or mail providers, and a morning peak's channel
// work is spread over the queue's workers (QUEUE_CONCURRENCY
// notifications). An emergency alert is delivered at once, in the pass: it
// does not wait behind routine reminders. Without a queue (QUEUE_ENABLED
// false) everything is delivered in the pass.
//
// The job is unique by its event, so an event offered again after a crash
// does not queue its notifications twice; and the Deliverer records what
// each channel did with each target, so a retried job sends nothing twice.
type Channels struct {
	deliverer *notify.Deliverer
	river     *river.Client[*sql.Tx]
}

// NewChannels returns the channels consumer over d; SetRiver gives it the
// queue.
func NewChannels(d *notify.Deliverer) *Channels { return &Channels{deliverer: d} }

// SetRiver attaches the River client that jobs are queued with; the client
// is built after the consumer because the queue's worker belongs to it.
func (c *Channels) SetRiver(rc *river.Client[*sql.Tx]) { c.river = rc }

// Name implements outbox.Consumer.
func (c *Channels) Name() string { return notify.ConsumerName }

// Handle implements outbox.Consumer.
func (c *Channels) Handle(ctx context.Context, e events.Event) error {
	return c.HandleBatch(ctx, []events.Event{e})[0]
}

// HandleBatch implements outbox.BatchConsumer: it queues one delivery job
// per event that announces notifications, in one insert, and delivers
// emergency alerts at once.
func (c *Channels) HandleBatch(ctx context.Context, es []events.Event) []error {
	errs := make([]error, len(es))
	var params []river.InsertManyParams
	var queued []int
	for i, e := range es {
		if !events.Notifies(e.Type) {
			continue
		}
		var data struct {
			events.Notified
			Type care.NotificationType `json:"type"`
		}
		if err := json.Unmarshal(e.Data, &data); err != nil {
			errs[i] = fmt.Errorf("%w: %s data: %v", outbox.ErrPermanent, e.ID, err)
			continue
		}
		if len(data.NotificationIDs) == 0 {
			continue
		}
		if c.river == nil || data.Type == care.NotifyEmergencyAlert {
			errs[i] = c.deliverer.DeliverAll(ctx, data.NotificationIDs)
			continue
		}
		params = append(params, river.InsertManyParams{Args: DeliverNotificationsArgs{EventID: e.ID, NotificationIDs: data.NotificationIDs}})
		queued = append(queued, i)
	}
	if len(params) == 0 {
		return errs
	}
	if _, err := c.river.InsertMany(ctx, params); err != nil {
		for _, i := range queued {
			errs[i] = fmt.Errorf("queue deliveries: %w", err)
		}
	}
	return errs
}

// DeliverNotificationsArgs is a delivery job: the notifications one event
// announced, to send on their channels.
type DeliverNotificationsArgs struct {
	EventID         string   `json:"eventId"`
	NotificationIDs []string `json:"notificationIds"`
}

// Kind names the job for River.
func (DeliverNotificationsArgs) Kind() string { return "deliver_notifications" }

// InsertOpts puts the job in the notifications queue, once per event.
func (DeliverNotificationsArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueNotifications, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// DeliverNotificationsWorker sends a delivery job's notifications on their
// channels; a temporary failure of any is retried with backoff.
type DeliverNotificationsWorker struct {
	river.WorkerDefaults[DeliverNotificationsArgs]
	channels *Channels
}

// Work implements river.Worker.
func (w *DeliverNotificationsWorker) Work(ctx context.Context, job *river.Job[DeliverNotificationsArgs]) error {
	return w.channels.deliverer.DeliverAll(ctx, job.Args.NotificationIDs)
}
