package api

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/carecircle/carecircle/internal/kv"
	"github.com/carecircle/carecircle/internal/notify/webpush"
	"github.com/carecircle/carecircle/internal/store"
)

// testPushTimeout bounds each push service's answer to a test push.
const testPushTimeout = 10 * time.Second

func (s *Server) testPushRoutes() {
	s.authed("POST", "/notifications/test-push", s.testPush)
}

// testPushOutcome is what one subscription's push service did with the
// test message: delivered, gone (the subscription was removed), retry
// (the push service is busy or failing), rejected, or error (no answer).
type testPushOutcome struct {
	SubscriptionID string  `json:"subscriptionId"`
	DeviceName     *string `json:"deviceName"`
	Outcome        string  `json:"outcome"`
	StatusCode     int     `json:"statusCode,omitempty"`
}

// testPushResponse counts the outcomes: sent (delivered), removed (gone),
// failed (everything else).
type testPushResponse struct {
	Sent    int               `json:"sent"`
	Removed int               `json:"removed"`
	Failed  int               `json:"failed"`
	Results []testPushOutcome `json:"results"`
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

// testPush sends a test message to each of the caller's subscriptions at
// once, and removes those the push service says are gone.
func (s *Server) testPush(w http.ResponseWriter, r *http.Request, p *Principal) error {
	if err := decodeOptional(w, r, &struct{}{}); err != nil {
		return err
	}
	if s.push == nil {
		return conflict("Web push is not set up on this server")
	}
	ctx := r.Context()
	if err := s.limit(ctx, "push:test:"+p.User.ID, kv.Limit{Count: 5, Period: time.Minute}); err != nil {
		return err
	}
	subs, err := s.store.PushSubscriptions(ctx, p.User.ID)
	if err != nil {
		return err
	}
	out := testPushResponse{Results: make([]testPushOutcome, len(subs))}
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
	writeJSON(w, http.StatusOK, out)
	return nil
}

// sendTestPush sends the test message to one subscription and deletes the
// subscription when the push service says it is gone, or when it points
// somewhere no push service lives.
func (s *Server) sendTestPush(ctx context.Context, sub store.PushSubscription) testPushOutcome {
	out := testPushOutcome{SubscriptionID: sub.ID, DeviceName: sub.DeviceName}
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
		s.logger.WarnContext(ctx, "test push not sent", slog.String("subscription", sub.ID), slog.Any("error", err))
	default:
		out.Outcome = res.Outcome.String()
	}
	out.StatusCode = res.StatusCode
	if gone {
		if err := s.store.DeletePushSubscription(ctx, sub.UserID, sub.Endpoint); err != nil && !errors.Is(err, store.ErrNotFound) {
			s.logger.WarnContext(ctx, "gone push subscription not removed", slog.String("subscription", sub.ID), slog.Any("error", err))
			out.Outcome = "error"
		}
	}
	return out
}
