package feature

import (
	"context"
	"fmt"
	"slices"

	"github.com/carecircle/carecircle/internal/care"
	"github.com/carecircle/carecircle/internal/notify"
)

// NotifyUsers notifies each user through the notification pipeline
// (notify.Notifier), in the caller's transaction when called inside
// Atomically. The announcing event is scoped to the family named in the
// draft's data (familyId), or to its care recipient's.
func (b *Base) NotifyUsers(ctx context.Context, userIDs []string, d care.NotificationDraft) error {
	familyID, _ := d.Data["familyId"].(string)
	return b.notify(ctx, familyID, userIDs, d)
}

// NotifyFamily notifies the family's active members, optionally only those
// with one of roles, never the user who caused it (except).
func (b *Base) NotifyFamily(ctx context.Context, familyID, except string, roles []care.Role, d care.NotificationDraft) error {
	members, err := b.Store.Members(ctx, familyID)
	if err != nil {
		return fmt.Errorf("notify family: %w", err)
	}
	var ids []string
	for _, m := range members {
		if !m.IsActive || m.UserID == except || (len(roles) > 0 && !slices.Contains(roles, m.Role)) {
			continue
		}
		ids = append(ids, m.UserID)
	}
	return b.notify(ctx, familyID, ids, d)
}

func (b *Base) notify(ctx context.Context, familyID string, userIDs []string, d care.NotificationDraft) error {
	if len(userIDs) == 0 {
		return nil
	}
	crID, _ := d.Data["careRecipientId"].(string)
	n := notify.Notifier{Store: b.Store, Clock: b.Clock}
	_, err := n.Send(ctx, notify.Notice{To: userIDs, Type: d.Type, Text: care.Text{Title: d.Title, Body: d.Body},
		Data: d.Data, DedupeKey: d.DedupeKey, FamilyID: familyID, CareRecipientID: crID, CorrelationID: Correlation(ctx)})
	return err
}
