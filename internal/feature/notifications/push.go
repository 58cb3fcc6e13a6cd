package notifications

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/carecircle/carecircle/internal/feature"
	"github.com/carecircle/carecircle/internal/notify/webpush"
	"github.com/carecircle/carecircle/internal/store"
)

// PushSubscription is a browser's web push subscription.
type PushSubscription = store.PushSubscription

// PushToken is a native app's push token.
type PushToken = store.PushToken

// Subscribe saves the actor's browser push subscription (sub's user is the
// actor). Its endpoint must be a public push service, or a host the
// operator listed in PUSH_ALLOWED_HOSTS: anything else could only make the
// server reach internal hosts.
func (s *Service) Subscribe(ctx context.Context, a feature.Actor, sub PushSubscription) (*PushSubscription, error) {
	if s.push != nil && s.push.CheckEndpoint(sub.Endpoint) != nil {
		return nil, feature.FieldError("endpoint", "must be a public push service or a host in PUSH_ALLOWED_HOSTS")
	}
	sub.UserID = a.ID()
	return s.b.Store.SavePushSubscription(ctx, sub)
}

// Unsubscribe removes the actor's push subscription of the endpoint
// (KindNotFound when they have none).
func (s *Service) Unsubscribe(ctx context.Context, a feature.Actor, endpoint string) error {
	return feature.Missing(s.b.Store.DeletePushSubscription(ctx, a.ID(), endpoint), "Push subscription")
}

// RegisterPushToken saves the actor's native push token; registering it
// again is harmless, and a token registered by another account moves to
// the actor.
func (s *Service) RegisterPushToken(ctx context.Context, a feature.Actor, token, platform string) (*PushToken, error) {
	return s.b.Store.SavePushToken(ctx, a.ID(), token, platform)
}

// UnregisterPushToken removes the actor's native push token (KindNotFound
// when they have no such token).
func (s *Service) UnregisterPushToken(ctx context.Context, a feature.Actor, token string) error {
	return feature.Missing(s.b.Store.DeletePushToken(ctx, a.ID(), token), "Push token")
}

// testPushTimeout bounds each push service's answer to a test push.
const testPushTimeout = 10 * time.Second

// TestPushOutcome is what one subscription's push service did with the
// test message: delivered, gone (the subscription was removed), retry
// (the push service is busy or failing), rejected, or error (no answer).
type TestPushOutcome struct {
	SubscriptionID string  `json:"subscriptionId"`
	DeviceName     *string `json:"deviceName"`
	Outcome        string  `json:"outcome"`
	StatusCode     int     `json:"statusCode,omitempty"`
}

// TestPushResult counts the outcomes of a test push: sent (delivered),
// removed (gone), failed (everything else), with each subscription's.
type TestPushResult struct {
	Sent    int               `json:"sent"`
	Removed int               `json:"removed"`
	Failed  int               `json:"failed"`
	Results []TestPushOutcome `json:"results"`
}

// testPushMessage is what the service worker shows.
var testPushMessage = webpush.Message{
	Title: "CareCircle test notification",
	Body:  "Push notifications work on this device.",
	Icon:  "/static/icons/icon-192.png",
	Tag:   "test-push",
	URL:   "/settings",
	Data:  map[string]any{"type": "TEST"},
}

// TestPush sends a test message to each of the actor's push subscriptions
// at once, and removes those the push service says are gone. Without web
// push it is a conflict. throttle, when not nil, is called once web push is
// known to be set up and before anything is sent: its error (too many test
// pushes) is returned as it is.
func (s *Service) TestPush(ctx context.Context, a feature.Actor, throttle func(context.Context) error) (*TestPushResult, error) {
	if s.push == nil {
		return nil, feature.Conflict("Web push is not set up on this server")
	}
	if throttle != nil {
		if err := throttle(ctx); err != nil {
			return nil, err
		}
	}
	subs, err := s.b.Store.PushSubscriptions(ctx, a.ID())
	if err != nil {
		return nil, err
	}
	out := TestPushResult{Results: make([]TestPushOutcome, len(subs))}
	var wg sync.WaitGroup
	for i, sub := range subs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out.Results[i] = s.sendTestPush(ctx, sub)
		}()
	}
	wg.Wait()
	for _, res := range out.Results {
		switch res.Outcome {
		case webpush.Delivered.String():
			out.Sent++
		case webpush.Gone.String():
			out.Removed++
		default:
			out.Failed++
		}
	}
	return &out, nil
}

// sendTestPush sends the test message to one subscription and deletes the
// subscription when the push service says it is gone, or when it points
// somewhere no push service lives.
func (s *Service) sendTestPush(ctx context.Context, sub PushSubscription) TestPushOutcome {
	out := TestPushOutcome{SubscriptionID: sub.ID, DeviceName: sub.DeviceName}
	sctx, cancel := context.WithTimeout(ctx, testPushTimeout)
	defer cancel()
	res, err := s.push.Send(sctx, webpush.Subscription{Endpoint: sub.Endpoint, P256dh: sub.P256dh, Auth: sub.Auth}, testPushMessage, webpush.High)
	gone := res.Outcome == webpush.Gone ||
		errors.Is(err, webpush.ErrPrivateEndpoint) || errors.Is(err, webpush.ErrInvalidSubscription)
	switch {
	case gone:
		out.Outcome = webpush.Gone.String()
	case err != nil:
		out.Outcome = "error"
		s.b.Logger.WarnContext(ctx, "test push not sent", slog.String("subscription", sub.ID), slog.Any("error", err))
	default:
		out.Outcome = res.Outcome.String()
	}
	out.StatusCode = res.StatusCode
	if gone {
		if err := s.b.Store.DeletePushSubscription(ctx, sub.UserID, sub.Endpoint); err != nil && !feature.IsNotFound(err) {
			s.b.Logger.WarnContext(ctx, "gone push subscription not removed", slog.String("subscription", sub.ID), slog.Any("error", err))
			out.Outcome = "error"
		}
	}
	return out
}
