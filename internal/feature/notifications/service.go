// Package notifications is the application layer of a user's
// notifications: the inbox, the notification preferences, the browser push
// subscriptions and native push tokens the notifications reach, and the
// test push. Every command and query here concerns the actor's own
// notifications, so none checks a family membership.
package notifications

import (
	"context"

	"github.com/carecircle/carecircle/internal/care"
	"github.com/carecircle/carecircle/internal/feature"
	"github.com/carecircle/carecircle/internal/notify/webpush"
	"github.com/carecircle/carecircle/internal/store"
)

// Service runs the commands and queries of a user's notifications.
type Service struct {
	b *feature.Base
	// push sends the test push and judges subscription endpoints; nil
	// when web push is not set up.
	push *webpush.Sender
}

// New builds the service on the shared base; push is the web push sender,
// or nil where web push is not set up (the test push is then refused, and
// any https endpoint may subscribe).
func New(b *feature.Base, push *webpush.Sender) *Service { return &Service{b: b, push: push} }

// Query chooses a page of the inbox: only the unread notifications or all,
// newest first, Limit of them after skipping Offset.
type Query = store.NotificationQuery

// List lists a page of the actor's notifications, newest first.
func (s *Service) List(ctx context.Context, a feature.Actor, q Query) ([]care.Notification, error) {
	return s.b.Store.UserNotifications(ctx, a.ID(), q)
}

// UnreadCount counts the actor's unread notifications.
func (s *Service) UnreadCount(ctx context.Context, a feature.Actor) (int, error) {
	return s.b.Store.UnreadNotificationCount(ctx, a.ID())
}

// Unread returns the actor's newest unread notifications, at most limit of
// them (none for a limit below 1), and how many are unread in all, as the
// dashboard shows them.
func (s *Service) Unread(ctx context.Context, a feature.Actor, limit int) ([]care.Notification, int, error) {
	ns := []care.Notification{}
	if limit > 0 {
		var err error
		if ns, err = s.List(ctx, a, Query{UnreadOnly: true, Limit: limit}); err != nil {
			return nil, 0, err
		}
	}
	n, err := s.UnreadCount(ctx, a)
	if err != nil {
		return nil, 0, err
	}
	return ns, n, nil
}

// MarkRead marks the actor's notifications ids read and returns how many
// were unread; ids of other users' notifications change nothing.
func (s *Service) MarkRead(ctx context.Context, a feature.Actor, ids []string) (int, error) {
	if ids == nil {
		ids = []string{}
	}
	return s.b.Store.MarkNotificationsRead(ctx, a.ID(), ids)
}

// MarkAllRead marks all the actor's notifications read and returns how
// many were unread.
func (s *Service) MarkAllRead(ctx context.Context, a feature.Actor) (int, error) {
	return s.b.Store.MarkNotificationsRead(ctx, a.ID(), nil)
}

// MarkOneRead marks the actor's notification id read and returns it
// (KindNotFound when the actor has no such notification).
func (s *Service) MarkOneRead(ctx context.Context, a feature.Actor, id string) (*care.Notification, error) {
	if _, err := s.b.Store.MarkNotificationsRead(ctx, a.ID(), []string{id}); err != nil {
		return nil, err
	}
	n, err := s.b.Store.Notification(ctx, a.ID(), id)
	if feature.IsNotFound(err) {
		return nil, feature.NotFound("Notification")
	}
	return n, err
}

// Preferences are the actor's notification preferences, as their account
// was read when the request was authenticated.
func (s *Service) Preferences(a feature.Actor) care.NotificationPreferences {
	return care.ReadNotificationPreferences(a.User.Preferences)
}

// UpdatePreferences changes the actor's notification preferences as edit
// does, keeping the rest of their preferences, and returns the preferences
// as saved.
func (s *Service) UpdatePreferences(ctx context.Context, a feature.Actor, edit feature.Edit[care.NotificationPreferences]) (care.NotificationPreferences, error) {
	np := s.Preferences(a)
	if err := edit(&np); err != nil {
		return care.NotificationPreferences{}, err
	}
	doc, err := care.WithNotificationPreferences(a.User.Preferences, np)
	if err != nil {
		return care.NotificationPreferences{}, err
	}
	u, err := s.b.Store.UpdateUser(ctx, a.ID(), store.UserPatch{Preferences: doc})
	if err != nil {
		return care.NotificationPreferences{}, err
	}
	return care.ReadNotificationPreferences(u.Preferences), nil
}
