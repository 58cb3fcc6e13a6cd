package realtime

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/centrifugal/centrifuge"

	"github.com/carecircle/carecircle/internal/events"
)

// ConsumerName is the realtime consumer's name in the outbox.
const ConsumerName = "realtime"

// Consumer publishes domain events from the outbox to the channels of the
// family, the care recipient and the users they concern. Publishing the same
// event again is harmless: each (event, channel) pair carries an idempotency
// key, so the broker keeps and delivers it once.
type Consumer struct{ n *Node }

// Consumer returns the node's outbox consumer.
func (n *Node) Consumer() *Consumer { return &Consumer{n: n} }

// Name identifies the consumer in the outbox.
func (*Consumer) Name() string { return ConsumerName }

// Handle publishes e to everyone it concerns.
func (c *Consumer) Handle(ctx context.Context, e events.Event) error {
	r, ok := route(e.Type)
	if !ok {
		c.n.logger.Warn("realtime: event type not in the catalog", slog.String("type", e.Type), slog.String("id", e.ID))
		return nil
	}
	if r.Name == "" {
		return nil
	}
	var extra map[string]string
	if r.Action != "" {
		extra = map[string]string{"action": r.Action}
	}
	msg, err := encode(r.Name, e, extra)
	if err != nil {
		return err
	}
	switch r.To {
	case events.ToUsers:
		users, err := addressedTo(e)
		if err != nil {
			return err
		}
		for _, uid := range users {
			if err := c.publish(userChannel(uid), msg, e.ID); err != nil {
				return err
			}
		}
		return nil
	case events.ToRooms:
		return c.publishRooms(e, msg)
	}
	// Member and family events: the family room hears first, then the
	// member concerned, then they lose the channels.
	if err := c.publishRooms(e, msg); err != nil {
		return err
	}
	switch r.To {
	case events.ToRemovedMember, events.ToLeavingMember, events.ToRoleChangedMember:
		uid := memberUserID(e)
		if uid == "" {
			c.n.logger.Warn("realtime: member event names no user", slog.String("type", e.Type), slog.String("id", e.ID))
			return nil
		}
		if r.To == events.ToRemovedMember || r.To == events.ToRoleChangedMember {
			name := youWereRemoved
			if r.To == events.ToRoleChangedMember {
				name = yourRoleChanged
			}
			own, err := encode(name, withFamily(e), nil)
			if err != nil {
				return err
			}
			if err := c.publish(userChannel(uid), own, e.ID); err != nil {
				return err
			}
		}
		if r.To != events.ToRoleChangedMember {
			return c.cutOff(ctx, uid, e)
		}
	case events.ToDeletedFamily:
		return c.cutOff(ctx, "", e)
	}
	return nil
}

// publishRooms publishes to the family's and the care recipient's channels,
// whichever the event names.
func (c *Consumer) publishRooms(e events.Event, msg []byte) error {
	if e.FamilyID != "" {
		if err := c.publish(familyChannel(e.FamilyID), msg, e.ID); err != nil {
			return err
		}
	}
	if e.CareRecipientID != "" {
		if err := c.publish(careRecipientChannel(e.CareRecipientID), msg, e.ID); err != nil {
			return err
		}
	}
	return nil
}

// publish sends one message to one channel, keeping it in the channel's
// history for clients that reconnect.
func (c *Consumer) publish(channel string, msg []byte, eventID string) error {
	o := c.n.opts
	_, err := c.n.node.Publish(channel, msg,
		centrifuge.WithHistory(o.HistorySize, o.HistoryTTL),
		centrifuge.WithIdempotencyKey(eventID+"/"+channel),
		centrifuge.WithIdempotentResultTTL(max(o.HistoryTTL, 5*time.Minute)),
	)
	if err != nil {
		return fmt.Errorf("realtime: publish to %s: %w", channel, err)
	}
	return nil
}

// cutOff unsubscribes a user (every user when userID is empty) from the
// family's channel and its care recipients' channels, on every node.
func (c *Consumer) cutOff(ctx context.Context, userID string, e events.Event) error {
	if e.FamilyID == "" {
		return nil
	}
	channels := []string{familyChannel(e.FamilyID)}
	for _, id := range careRecipientIDs(e) {
		channels = append(channels, careRecipientChannel(id))
	}
	crs, err := c.n.store.CareRecipients(ctx, e.FamilyID)
	if err != nil {
		return fmt.Errorf("realtime: care recipients of %s: %w", e.FamilyID, err)
	}
	for _, cr := range crs {
		channels = append(channels, careRecipientChannel(cr.ID))
	}
	var opts []centrifuge.UnsubscribeOption
	if userID == "" {
		opts = append(opts, centrifuge.WithUnsubscribeAllUsers(true))
	}
	for _, ch := range channels {
		if err := c.n.node.Unsubscribe(userID, ch, opts...); err != nil {
			return fmt.Errorf("realtime: unsubscribe from %s: %w", ch, err)
		}
	}
	return nil
}

// withFamily returns e with the family id in its data, so a member told of
// their removal or new role knows which family it was.
func withFamily(e events.Event) events.Event {
	var obj map[string]json.RawMessage
	if json.Unmarshal(e.Data, &obj) != nil || obj == nil {
		obj = map[string]json.RawMessage{}
	}
	if _, ok := obj["familyId"]; !ok && e.FamilyID != "" {
		b, _ := json.Marshal(e.FamilyID)
		obj["familyId"] = b
		e.Data, _ = json.Marshal(obj)
	}
	return e
}

// careRecipientIDs reads a deleted family's careRecipientIds
// (events.FamilyDeletedData), when its data lists them (the rows are gone by
// the time the event is dispatched).
func careRecipientIDs(e events.Event) []string {
	v, err := events.DecodeData(e)
	if d, ok := v.(*events.FamilyDeletedData); ok && err == nil {
		return d.CareRecipientIDs
	}
	return nil
}
