package realtime

import (
	"context"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
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

// busEvents records what a BusListener hears.
type busEvents struct {
	events chan string
}

func (l busEvents) BusMessage(body string) { l.events <- "message " + body }
func (l busEvents) BusLost()               { l.events <- "lost" }
func (l busEvents) BusBack()               { l.events <- "back" }

func (l busEvents) want(t *testing.T, want string) {
	t.Helper()
	select {
	case got := <-l.events:
		if got != want {
			t.Fatalf("the listener heard %q, want %q", got, want)
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("the listener heard nothing, want %q", want)
	}
}

// listeningBroker starts a broker on opts whose listener records what it
// hears.
func listeningBroker(t *testing.T, opts *redis.Options, prefix string) (*redisBroker, busEvents) {
	t.Helper()
	node, err := centrifuge.New(centrifuge.Config{})
	if err != nil {
		t.Fatal(err)
	}
	b := newRedisBroker(node, opts, prefix, slog.New(slog.NewTextHandler(io.Discard, nil)))
	t.Cleanup(func() { _ = b.Close(context.Background()) })
	l := busEvents{events: make(chan string, 16)}
	b.listener = l
	if err := b.RegisterBrokerEventHandler(&recorder{got: make(chan struct{}, 1)}); err != nil {
		t.Fatal(err)
	}
	return b, l
}

// startRedisServer runs a redis-server of the test's own on port (a free
// one when 0), stopped at cleanup or by the returned function.
func startRedisServer(t *testing.T, port int) (*redis.Options, int, func()) {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv("CARECIRCLE_TEST_REQUIRE_SERVICES") == "1" {
			t.Fatal("redis-server is not installed but CARECIRCLE_TEST_REQUIRE_SERVICES=1")
		}
		t.Skip("redis-server is not installed")
	}
	if port == 0 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port = ln.Addr().(*net.TCPAddr).Port
		ln.Close()
	}
	cmd := exec.Command(bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	stop := func() {
		once.Do(func() {
			_ = cmd.Process.Kill()
			_, _ = cmd.Process.Wait()
		})
	}
	t.Cleanup(stop)
	opts := &redis.Options{Addr: "127.0.0.1:" + strconv.Itoa(port), DialTimeout: time.Second}
	rdb := redis.NewClient(opts)
	defer rdb.Close()
	deadline := time.Now().Add(10 * time.Second)
	for rdb.Ping(context.Background()).Err() != nil {
		if time.Now().After(deadline) {
			t.Fatal("redis-server did not start")
		}
		time.Sleep(20 * time.Millisecond)
	}
	return opts, port, stop
}

// A broadcast reaches every other node's listener, not the sender's, with
// one PUBLISH; a listener hears when its node starts receiving the bus,
// loses it (Redis restarts) and receives it again.
func TestBusBroadcastsAndReportsItsState(t *testing.T) {
	t.Parallel()
	opts, port, stop := startRedisServer(t, 0)
	a, aHears := listeningBroker(t, opts, "rt")
	b, bHears := listeningBroker(t, opts, "rt")
	aHears.want(t, "back")
	bHears.want(t, "back")

	if err := a.broadcast(context.Background(), "k1"); err != nil {
		t.Fatal(err)
	}
	bHears.want(t, "message k1")
	if err := b.broadcast(context.Background(), "k2"); err != nil {
		t.Fatal(err)
	}
	aHears.want(t, "message k2")
	select {
	case got := <-bHears.events:
		t.Fatalf("the sender heard its own broadcast: %q", got)
	default:
	}

	stop()
	aHears.want(t, "lost")
	bHears.want(t, "lost")
	if err := a.broadcast(context.Background(), "k3"); err == nil {
		t.Fatal("a broadcast without Redis succeeded")
	}
	startRedisServer(t, port)
	aHears.want(t, "back")
	bHears.want(t, "back")
	if err := a.broadcast(context.Background(), "k4"); err != nil {
		t.Fatal(err)
	}
	bHears.want(t, "message k4")
}
