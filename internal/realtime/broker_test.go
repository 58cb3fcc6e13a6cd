package realtime

import (
	"context"
	"io"
	"log/slog"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/centrifugal/centrifuge"
	"github.com/redis/go-redis/v9"
)

// recorder is a node's side of the broker: the publications it was handed,
// in order.
type recorder struct {
	mu   sync.Mutex
	pubs []uint64
	got  chan struct{}
}

func (r *recorder) HandlePublication(_ string, p *centrifuge.Publication, _ centrifuge.StreamPosition, _ bool, _ *centrifuge.Publication) error {
	r.mu.Lock()
	r.pubs = append(r.pubs, p.Offset)
	r.mu.Unlock()
	select {
	case r.got <- struct{}{}:
	default:
	}
	return nil
}
func (r *recorder) HandleJoin(string, *centrifuge.ClientInfo) error  { return nil }
func (r *recorder) HandleLeave(string, *centrifuge.ClientInfo) error { return nil }

// waitFor waits until the recorder holds want, in that order.
func (r *recorder) waitFor(t *testing.T, want ...uint64) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		r.mu.Lock()
		got := append([]uint64(nil), r.pubs...)
		r.mu.Unlock()
		if len(got) >= len(want) {
			for i := range want {
				if got[i] != want[i] {
					t.Fatalf("delivered offsets %v, want %v", got, want)
				}
			}
			if len(got) > len(want) {
				t.Fatalf("delivered offsets %v, want %v", got, want)
			}
			return
		}
		select {
		case <-r.got:
		case <-deadline:
			t.Fatalf("delivered offsets %v, want %v", got, want)
		}
	}
}

func testBroker(t *testing.T, prefix string) (*redisBroker, *recorder) {
	t.Helper()
	u := os.Getenv("CARECIRCLE_TEST_REDIS_URL")
	if u == "" {
		if os.Getenv("CARECIRCLE_TEST_REQUIRE_SERVICES") == "1" {
			t.Fatal("CARECIRCLE_TEST_REDIS_URL is not set but CARECIRCLE_TEST_REQUIRE_SERVICES=1")
		}
		t.Skip("Redis tests skipped: set CARECIRCLE_TEST_REDIS_URL to run them")
	}
	opts, err := redis.ParseURL(u)
	if err != nil {
		t.Fatal(err)
	}
	node, err := centrifuge.New(centrifuge.Config{})
	if err != nil {
		t.Fatal(err)
	}
	b := newRedisBroker(node, opts, prefix, slog.New(slog.NewTextHandler(io.Discard, nil)))
	t.Cleanup(func() { _ = b.Close(context.Background()) })
	r := &recorder{got: make(chan struct{}, 1)}
	if err := b.RegisterBrokerEventHandler(r); err != nil {
		t.Fatal(err)
	}
	return b, r
}

// A node hands its subscribers every publication, in order, even those the
// bus lost: a publication after a gap brings the missing ones from the
// stream first, and catching up after the bus was away brings what was
// published meanwhile. Publications made by a broker on another bus stand
// for those the node never received.
func TestBrokerDeliversWhatTheBusLost(t *testing.T) {
	t.Parallel()
	prefix := "rtbroker:" + strconv.FormatInt(time.Now().UnixNano(), 36)
	node, rec := testBroker(t, prefix)
	peer, _ := testBroker(t, prefix)
	lost, _ := testBroker(t, prefix)
	lost.bus = prefix + ".elsewhere"
	t.Cleanup(func() {
		rdb := redis.NewClient(node.rdb.Options())
		defer rdb.Close()
		if keys, _ := rdb.Keys(context.Background(), prefix+"*").Result(); len(keys) > 0 {
			rdb.Del(context.Background(), keys...)
		}
	})
	const ch = "family:00000000-0000-0000-0000-000000000001"
	publish := func(b *redisBroker) {
		t.Helper()
		if _, err := b.Publish(ch, []byte(`{"event":"x"}`), centrifuge.PublishOptions{HistorySize: 10, HistoryTTL: time.Minute}); err != nil {
			t.Fatal(err)
		}
	}
	if err := node.Subscribe(ch); err != nil {
		t.Fatal(err)
	}
	// Positioning the first subscriber reads the stream once; the next is
	// answered from memory.
	_, top, err := node.History(ch, centrifuge.HistoryOptions{})
	if err != nil || top.Offset != 0 || top.Epoch == "" {
		t.Fatalf("position %+v, %v", top, err)
	}
	publish(peer)
	rec.waitFor(t, 1)
	if _, pos, _ := node.History(ch, centrifuge.HistoryOptions{}); pos.Offset != 1 || pos.Epoch != top.Epoch {
		t.Fatalf("position from memory %+v, want offset 1 in epoch %s", pos, top.Epoch)
	}

	publish(lost)
	publish(lost)
	publish(peer)
	rec.waitFor(t, 1, 2, 3, 4)

	publish(lost)
	publish(lost)
	node.catchUp(context.Background(), node.laneOf(ch))
	rec.waitFor(t, 1, 2, 3, 4, 5, 6)

	// A reconnecting client at the node's position missed nothing; one
	// behind gets the publication from the stream.
	pubs, pos, err := node.History(ch, centrifuge.HistoryOptions{Filter: centrifuge.HistoryFilter{Since: &centrifuge.StreamPosition{Offset: 6, Epoch: top.Epoch}, Limit: -1}})
	if err != nil || len(pubs) != 0 || pos.Offset != 6 {
		t.Fatalf("recovery at the top: %d publications, %+v, %v", len(pubs), pos, err)
	}
	pubs, _, err = node.History(ch, centrifuge.HistoryOptions{Filter: centrifuge.HistoryFilter{Since: &centrifuge.StreamPosition{Offset: 4, Epoch: top.Epoch}, Limit: -1}})
	if err != nil || len(pubs) != 2 || pubs[0].Offset != 5 || string(pubs[1].Data) != `{"event":"x"}` {
		t.Fatalf("recovery from 4: %+v, %v", pubs, err)
	}
}

// Only Centrifuge's node announcements are dropped from the control
// channel; disconnects and the rest go out.
func TestNodeAnnouncementsAreNotSent(t *testing.T) {
	t.Parallel()
	// Field 4 (Node) with an empty message, after field 1 (uid "a").
	announcement := []byte{0x0a, 0x01, 'a', 0x22, 0x00}
	// Field 6 (Disconnect) with an empty message.
	disconnect := []byte{0x0a, 0x01, 'a', 0x32, 0x00}
	if !isNodeAnnouncement(announcement) {
		t.Error("a node announcement was not recognised")
	}
	if isNodeAnnouncement(disconnect) {
		t.Error("a disconnect was taken for a node announcement")
	}
}
