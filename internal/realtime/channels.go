package realtime

import (
	"context"
	"errors"
	"log/slog"
	"strings"

	"github.com/centrifugal/centrifuge"
	"github.com/google/uuid"

	"github.com/carecircle/carecircle/internal/store"
)

// kind is the part of a channel name before the colon.
type kind string

// Channel kinds.
const (
	kindUser          kind = "user"
	kindFamily        kind = "family"
	kindCareRecipient kind = "care-recipient"
	kindAdmin         kind = "admin"
)

// monitoringChannel is the system administrators' channel.
const monitoringChannel = "admin:monitoring"

func userChannel(id string) string          { return string(kindUser) + ":" + id }
func familyChannel(id string) string        { return string(kindFamily) + ":" + id }
func careRecipientChannel(id string) string { return string(kindCareRecipient) + ":" + id }

// parseChannel splits a channel name into its kind and id; ok is false for
// a name CareCircle does not use.
func parseChannel(ch string) (k kind, id string, ok bool) {
	if ch == monitoringChannel {
		return kindAdmin, "monitoring", true
	}
	prefix, id, found := strings.Cut(ch, ":")
	switch k := kind(prefix); k {
	case kindUser, kindFamily, kindCareRecipient:
		if _, err := uuid.Parse(id); found && err == nil && len(id) == 36 {
			return k, id, true
		}
	}
	return "", "", false
}

// subscribe decides a client's subscription: family:{id} and
// care-recipient:{id} need active membership of the family now,
// admin:monitoring a system administrator, user:{id} to be that user.
// Family and care recipient channels keep their place in the stream, so a
// client that reconnects recovers what it missed.
func (n *Node) subscribe(c *centrifuge.Client, e centrifuge.SubscribeEvent) (centrifuge.SubscribeReply, error) {
	k, id, ok := parseChannel(e.Channel)
	if !ok {
		return centrifuge.SubscribeReply{}, centrifuge.ErrorUnknownChannel
	}
	ctx := c.Context()
	var err error
	switch k {
	case kindUser:
		if id != c.UserID() {
			err = errDenied
		}
	case kindFamily:
		err = n.member(ctx, id, c.UserID())
	case kindCareRecipient:
		var familyID string
		if familyID, err = n.familyOfCareRecipient(ctx, id); err == nil {
			err = n.member(ctx, familyID, c.UserID())
		}
	case kindAdmin:
		err = n.systemAdmin(ctx, c.UserID())
	}
	switch {
	case errors.Is(err, errDenied):
		return centrifuge.SubscribeReply{}, centrifuge.ErrorPermissionDenied
	case err != nil:
		n.logger.Warn("realtime: subscribe", slog.String("channel", e.Channel), slog.Any("error", err))
		return centrifuge.SubscribeReply{}, centrifuge.ErrorInternal
	}
	return centrifuge.SubscribeReply{Options: centrifuge.SubscribeOptions{
		EnableRecovery:    true,
		EnablePositioning: true,
		// Who of the family is online now.
		EmitPresence: k == kindFamily,
	}}, nil
}

// errDenied refuses a subscription.
var errDenied = errors.New("realtime: not allowed on this channel")

func (n *Node) member(ctx context.Context, familyID, userID string) error {
	_, err := n.store.MemberOf(ctx, familyID, userID)
	if errors.Is(err, store.ErrNotFound) {
		return errDenied
	}
	return err
}

func (n *Node) familyOfCareRecipient(ctx context.Context, id string) (string, error) {
	cr, err := n.store.CareRecipient(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return "", errDenied
	}
	if err != nil {
		return "", err
	}
	return cr.FamilyID, nil
}

func (n *Node) systemAdmin(ctx context.Context, userID string) error {
	u, err := n.store.UserByID(ctx, userID)
	if errors.Is(err, store.ErrNotFound) {
		return errDenied
	}
	if err != nil {
		return err
	}
	if !u.SystemRole.IsAdmin() {
		return errDenied
	}
	return nil
}
