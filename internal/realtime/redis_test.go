package realtime_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/carecircle/carecircle/internal/care"
	"github.com/carecircle/carecircle/internal/clock"
	"github.com/carecircle/carecircle/internal/realtime/rtclient"
	"github.com/carecircle/carecircle/internal/store"
)

// Two nodes share a Redis broker: a member connected to one sees events
// that the other publishes, recovers what it missed through it, and is cut
// off there when the other handles their removal.
func TestTwoNodesShareRedis(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, open func(testing.TB, clock.Clock) *store.Store) {
		opts := redisOptions(t)
		prefix := "rttest:" + strconv.FormatInt(time.Now().UnixNano(), 36) + ":"
		t.Cleanup(func() { deleteKeys(t, opts, prefix) })
		clk := clock.NewFake(testStart)
		st := open(t, clk)
		a := newEnv(t, open, envOptions{redis: opts, prefix: prefix, store: st, clock: clk})
		b := newEnv(t, open, envOptions{redis: opts, prefix: prefix, store: st, clock: clk, dispatcher: true})
		f := a.newFamily("seo")
		c := a.connect(f.caregiver)
		subscribe(t, c, f.familyChannel)
		subscribe(t, c, f.careRecipientChannel)

		id := b.emit("emergency.alert.created", f.ID, f.CareRecipientID, map[string]any{"title": "fell"})
		if r := next(t, c, f.familyChannel); r.ID != id || r.Event != "emergency_alert" {
			t.Fatalf("node A got %+v", r)
		}
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		defer cancel()
		if err := c.Drop(ctx); err != nil {
			t.Fatal(err)
		}
		missed := b.emit("timeline.entry.created", f.ID, "", map[string]any{"title": "while away"})
		waitDispatched(t, b)
		if err := c.Connect(ctx); err != nil {
			t.Fatal(err)
		}
		if r := next(t, c, f.familyChannel); r.ID != missed {
			t.Fatalf("recovered %+v, want %s", r, missed)
		}

		if err := st.RemoveMember(ctx, f.ID, f.caregiverMemberID); err != nil {
			t.Fatal(err)
		}
		b.emit("family.member.removed", f.ID, "", map[string]any{"userId": f.caregiver.ID, "role": care.RoleCaregiver})
		if r := next(t, c, "user:"+f.caregiver.ID); r.Event != "you_were_removed" {
			t.Fatalf("node A got %+v", r)
		}
		for _, ch := range []string{f.familyChannel, f.careRecipientChannel} {
			select {
			case <-c.Unsubscribed(ch):
			case <-ctx.Done():
				t.Fatalf("the removed member still has %s on the other node", ch)
			}
		}
	})
}

// Who of the family is online counts the members connected to every node,
// asked on demand: each node keeps its own connections in memory.
func TestPresenceAcrossNodes(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, open func(testing.TB, clock.Clock) *store.Store) {
		opts := redisOptions(t)
		prefix := "rtpresence:" + strconv.FormatInt(time.Now().UnixNano(), 36) + ":"
		t.Cleanup(func() { deleteKeys(t, opts, prefix) })
		clk := clock.NewFake(testStart)
		st := open(t, clk)
		a := newEnv(t, open, envOptions{redis: opts, prefix: prefix, store: st, clock: clk})
		b := newEnv(t, open, envOptions{redis: opts, prefix: prefix, store: st, clock: clk})
		f := a.newFamily("pres")
		ca := a.connect(f.caregiver)
		subscribe(t, ca, f.familyChannel)
		cb := b.connect(f.viewer)
		subscribe(t, cb, f.familyChannel)
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		defer cancel()
		for _, c := range []*rtclient.Client{ca, cb} {
			clients, users, err := c.PresenceStats(ctx, f.familyChannel)
			if err != nil || clients != 2 || users != 2 {
				t.Fatalf("presence: %d clients, %d users, %v; want 2 and 2", clients, users, err)
			}
		}
	})
}

func deleteKeys(t *testing.T, opts *redis.Options, prefix string) {
	rdb := redis.NewClient(opts)
	defer rdb.Close()
	ctx := context.Background()
	keys, err := rdb.Keys(ctx, prefix+"*").Result()
	if err != nil {
		t.Logf("clean up %s: %v", prefix, err)
		return
	}
	if len(keys) > 0 {
		rdb.Del(ctx, keys...)
	}
}
