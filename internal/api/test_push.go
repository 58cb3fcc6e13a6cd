package api

import (
	"context"
	"net/http"
	"time"

	"github.com/carecircle/carecircle/internal/feature/notifications"
	"github.com/carecircle/carecircle/internal/kv"
)

// testPushResponse is the answer to POST /notifications/test-push.
type testPushResponse = notifications.TestPushResult

func (s *Server) testPushRoutes() {
	s.authed("POST", "/notifications/test-push", s.testPush)
}

// testPush sends a test message to each of the caller's subscriptions at
// once, and removes those the push service says are gone (see
// notifications.TestPush). A user sends at most 5 a minute.
func (s *Server) testPush(w http.ResponseWriter, r *http.Request, p *Principal) error {
	if err := decodeOptional(w, r, &struct{}{}); err != nil {
		return err
	}
	out, err := s.svc.Notifications.TestPush(r.Context(), *p, func(ctx context.Context) error {
		return s.limit(ctx, "push:test:"+p.User.ID, kv.Limit{Count: 5, Period: time.Minute})
	})
	return writeOK(w, out, err)
}
