package realtime

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"net"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/centrifugal/centrifuge"
	"github.com/redis/go-redis/v9"
	"google.golang.org/protobuf/encoding/protowire"
)

// redisBroker carries a cluster of nodes through one Redis server while
// paying commands only for what families do. It is Centrifuge's broker
// (publications and their history), its controller (disconnects and
// unsubscribes across nodes) and the transport of on-demand presence
// queries, all over one Redis PUB/SUB channel, the bus, to which each node
// subscribes once:
//
//   - A publication is one EVALSHA: the script appends it to the channel's
//     stream, advances the channel's offset, and publishes it on the bus.
//     Every node receives every publication and hands it to its local
//     subscribers of the channel, if any. No node subscribes per channel, so
//     a connection or a subscription costs no SUBSCRIBE.
//   - Each node remembers, per channel with local subscribers, the last
//     offset it delivered. Positioning a new subscriber and recovering a
//     reconnecting one are answered from that memory when it is current, so
//     only the first subscriber of a channel on a node reads Redis. Delivery
//     is gap-free: a publication that arrives after a gap makes the node read
//     the missing ones from the stream first, and after a lost bus
//     connection it reads what every channel missed. So the broker declares
//     reliable delivery and Centrifuge skips its periodic position checks
//     (one read per subscription every 40 s).
//   - Node announcements (Centrifuge publishes one every 3 s) are not sent:
//     nothing in CareCircle reads the cluster's node list. Disconnects and
//     unsubscribes go on the bus, one PUBLISH each.
//   - Nothing is sent while nobody acts: no keep-alive PING (a dead server is
//     found by TCP keep-alives, which Redis does not count), no liveness
//     probes, no announcements.
type redisBroker struct {
	rdb    *redis.Client
	node   *centrifuge.Node
	logger *slog.Logger
	// prefix names the keys: prefix+".s."+channel is a channel's stream,
	// prefix+".m."+channel its meta hash (epoch and top offset),
	// prefix+".i."+key a publication's idempotency result.
	prefix  string
	bus     string
	metaTTL time.Duration

	publish *redis.Script
	history *redis.Script

	mu       sync.Mutex
	channels map[string]*channelState // channels with local subscribers

	handler  centrifuge.BrokerEventHandler
	control  centrifuge.ControlEventHandler
	listener BusListener

	localPresence *centrifuge.MemoryPresenceManager
	queries       sync.Map // presence question id → chan presenceReply
	// lanes hand publications to local subscribers, a channel always on
	// the same lane so that its order holds, several lanes so that one
	// busy channel or a descheduled goroutine does not hold up the rest.
	lanes     []chan laneItem
	connected atomic.Bool
	started   sync.Once
	ready     chan struct{}
	stop      context.CancelFunc
	ps        *redis.PubSub
	done      chan struct{}
	closed    sync.Once
	closeErr  error
}

// channelState is what a node knows of a channel it has subscribers for:
// the position of the last publication it handed them. known is false until
// the stream was read or a publication arrived.
type channelState struct {
	known bool
	pos   centrifuge.StreamPosition
	// anchored is true while pos comes from reading the stream rather than
	// from a delivery; a concurrent read may then lower it.
	anchored bool
}

// busReadySpan is how long starting a node waits for its bus subscription.
const busReadySpan = 5 * time.Second

// newRedisBroker connects to Redis with opts (a copy is changed: the
// connections are named carecircle-realtime, keep-alives are TCP's, and
// commands wait up to 3 s).
func newRedisBroker(node *centrifuge.Node, opts *redis.Options, prefix string, logger *slog.Logger) *redisBroker {
	o := *opts
	o.ClientName = "carecircle-realtime"
	o.DisableIdentity = true
	o.ReadTimeout = 3 * time.Second
	o.WriteTimeout = 3 * time.Second
	o.PoolTimeout = 3 * time.Second
	o.ContextTimeoutEnabled = true
	o.Dialer = keepAliveDialer(o.DialTimeout, o.TLSConfig)
	return &redisBroker{
		rdb:      redis.NewClient(&o),
		node:     node,
		logger:   logger,
		prefix:   prefix,
		bus:      prefix + ".bus",
		metaTTL:  30 * 24 * time.Hour,
		publish:  redis.NewScript(publishScript),
		history:  redis.NewScript(historyScript),
		channels: make(map[string]*channelState),
		ready:    make(chan struct{}),
		done:     make(chan struct{}),
	}
}

// keepAliveDialer dials with TCP keep-alives that find a vanished server
// within about 30 s of silence, instead of application PINGs that Redis
// would count as commands.
func keepAliveDialer(timeout time.Duration, tlsConfig *tls.Config) func(ctx context.Context, network, addr string) (net.Conn, error) {
	if timeout <= 0 {
		timeout = 5 * time.Second
	}
	d := &net.Dialer{
		Timeout:         timeout,
		KeepAliveConfig: net.KeepAliveConfig{Enable: true, Idle: 15 * time.Second, Interval: 5 * time.Second, Count: 3},
	}
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		if tlsConfig == nil {
			return d.DialContext(ctx, network, addr)
		}
		td := &tls.Dialer{NetDialer: d, Config: tlsConfig}
		return td.DialContext(ctx, network, addr)
	}
}

// publishScript appends a publication to its channel's stream and publishes
// it on the bus as "p{offset}:{epoch}:{body}". A channel without meta gets
// a new epoch and an empty stream, so offsets only grow within an epoch.
// With an idempotency key, a publication already made returns its result
// and is neither stored nor sent again.
//
// KEYS: stream, meta, idempotency key. ARGV: body, history size, history
// TTL (s), meta TTL (s), epoch for a new stream, bus, idempotency TTL (s,
// 0: no key).
const publishScript = `
local idem = tonumber(ARGV[7])
if idem > 0 then
  local done = redis.call('GET', KEYS[3])
  if done then return {1, done} end
end
local epoch = redis.call('HGET', KEYS[2], 'e')
if not epoch then
  epoch = ARGV[5]
  redis.call('DEL', KEYS[1])
  redis.call('HSET', KEYS[2], 'e', epoch)
end
local off = redis.call('HINCRBY', KEYS[2], 's', 1)
if tonumber(ARGV[4]) > 0 then redis.call('EXPIRE', KEYS[2], ARGV[4]) end
if tonumber(ARGV[2]) > 0 then
  redis.call('XADD', KEYS[1], 'MAXLEN', ARGV[2], off .. '-1', 'd', ARGV[1])
  redis.call('EXPIRE', KEYS[1], ARGV[3])
end
redis.call('PUBLISH', ARGV[6], 'p' .. off .. ':' .. epoch .. ':' .. ARGV[1])
local res = off .. ':' .. epoch
if idem > 0 then redis.call('SET', KEYS[3], res, 'EX', idem) end
return {0, res}
`

// historyScript returns a channel's top offset and epoch (creating the
// epoch when the channel has none, so that a subscriber can be positioned
// before anything is published) and, when asked, publications from the
// stream.
//
// KEYS: stream, meta. ARGV: meta TTL (s), epoch for a new stream, from
// (a stream ID, "-" or "+"), to, count (-1: all, 0: none), reverse (1/0).
const historyScript = `
local meta = redis.call('HMGET', KEYS[2], 'e', 's')
local epoch, top = meta[1], tonumber(meta[2]) or 0
if not epoch then
  epoch = ARGV[2]
  top = 0
  redis.call('DEL', KEYS[1])
  redis.call('HSET', KEYS[2], 'e', epoch)
end
if tonumber(ARGV[1]) > 0 then redis.call('EXPIRE', KEYS[2], ARGV[1]) end
local count = tonumber(ARGV[5])
if count == 0 then return {top, epoch} end
local entries
local cmd = 'XRANGE'
if ARGV[6] == '1' then cmd = 'XREVRANGE' end
if count > 0 then
  entries = redis.call(cmd, KEYS[1], ARGV[3], ARGV[4], 'COUNT', count)
else
  entries = redis.call(cmd, KEYS[1], ARGV[3], ARGV[4])
end
return {top, epoch, entries}
`

// envelope is a publication's body on the bus and in the stream.
type envelope struct {
	Channel string            `json:"c"`
	Data    []byte            `json:"d"`
	Time    int64             `json:"t,omitempty"`
	Tags    map[string]string `json:"g,omitempty"`
	Info    *clientInfo       `json:"i,omitempty"`
}

type clientInfo struct {
	Client   string `json:"c"`
	User     string `json:"u"`
	ConnInfo []byte `json:"ci,omitempty"`
	ChanInfo []byte `json:"hi,omitempty"`
}

// encodeEnvelope writes a publication's body: "{channel}\x00{time}\x00{data}",
// the data as it is, or JSON (starting with "{", which no channel name does)
// when it carries tags or client information, which CareCircle's own
// publications do not.
func encodeEnvelope(e envelope) ([]byte, error) {
	if e.Tags != nil || e.Info != nil {
		return json.Marshal(e)
	}
	out := make([]byte, 0, len(e.Channel)+len(e.Data)+16)
	out = append(out, e.Channel...)
	out = append(out, 0)
	out = strconv.AppendInt(out, e.Time, 10)
	out = append(out, 0)
	return append(out, e.Data...), nil
}

func decodeEnvelope(body string) (envelope, error) {
	if strings.HasPrefix(body, "{") {
		var e envelope
		err := json.Unmarshal([]byte(body), &e)
		return e, err
	}
	ch, rest, ok1 := strings.Cut(body, "\x00")
	ts, data, ok2 := strings.Cut(rest, "\x00")
	t, err := strconv.ParseInt(ts, 10, 64)
	if !ok1 || !ok2 || err != nil {
		return envelope{}, errors.New("realtime: malformed publication")
	}
	return envelope{Channel: ch, Time: t, Data: []byte(data)}, nil
}

func toInfo(i *centrifuge.ClientInfo) *clientInfo {
	if i == nil {
		return nil
	}
	return &clientInfo{Client: i.ClientID, User: i.UserID, ConnInfo: i.ConnInfo, ChanInfo: i.ChanInfo}
}

func (i *clientInfo) centrifuge() *centrifuge.ClientInfo {
	if i == nil {
		return nil
	}
	return &centrifuge.ClientInfo{ClientID: i.Client, UserID: i.User, ConnInfo: i.ConnInfo, ChanInfo: i.ChanInfo}
}

func (b *redisBroker) streamKey(ch string) string { return b.prefix + ".s." + ch }
func (b *redisBroker) metaKey(ch string) string   { return b.prefix + ".m." + ch }

func newEpoch() string {
	var p [4]byte
	_, _ = rand.Read(p[:])
	return hex.EncodeToString(p[:])
}

// ReliableDelivery tells Centrifuge that local subscribers get every
// publication without gaps, so it need not check their positions.
func (b *redisBroker) ReliableDelivery() bool { return true }

// RegisterControlEventHandler starts the bus for control commands.
func (b *redisBroker) RegisterControlEventHandler(h centrifuge.ControlEventHandler) error {
	b.mu.Lock()
	b.control = h
	b.mu.Unlock()
	b.start()
	return nil
}

// RegisterBrokerEventHandler starts the bus for publications.
func (b *redisBroker) RegisterBrokerEventHandler(h centrifuge.BrokerEventHandler) error {
	b.mu.Lock()
	b.handler = h
	b.mu.Unlock()
	b.start()
	return nil
}

// start subscribes to the bus once and waits a moment for the
// subscription, so that a node that has started receives what is published
// after. A Redis that is away does not stop the node: the bus connects when
// Redis comes back.
func (b *redisBroker) start() {
	b.started.Do(func() {
		ctx, cancel := context.WithCancel(context.Background())
		b.stop = cancel
		b.lanes = make([]chan laneItem, max(4, 2*runtime.GOMAXPROCS(0)))
		for i := range b.lanes {
			b.lanes[i] = make(chan laneItem, 1024)
			go b.runLane(ctx, i)
		}
		ps := b.rdb.Subscribe(ctx, b.bus)
		b.mu.Lock()
		b.ps = ps
		b.mu.Unlock()
		go b.read(ctx, ps)
		select {
		case <-b.ready:
		case <-time.After(busReadySpan):
			b.logger.Warn("realtime: redis bus not subscribed yet; events from other nodes arrive once it is")
		}
	})
}

// read receives the bus until the broker closes. After a lost connection
// go-redis subscribes again; the node then reads from the streams what its
// subscribers missed meanwhile.
func (b *redisBroker) read(ctx context.Context, ps *redis.PubSub) {
	defer close(b.done)
	var readyOnce sync.Once
	lost := false
	backoff := 100 * time.Millisecond
	for {
		msg, err := ps.Receive(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			if !lost {
				b.logger.Warn("realtime: redis bus lost", slog.Any("error", err))
				b.connected.Store(false)
				if l := b.busListener(); l != nil {
					l.BusLost()
				}
			}
			lost = true
			select {
			case <-ctx.Done():
				return
			case <-time.After(backoff):
			}
			backoff = min(backoff*2, 5*time.Second)
			continue
		}
		backoff = 100 * time.Millisecond
		switch m := msg.(type) {
		case *redis.Subscription:
			b.connected.Store(true)
			if l := b.busListener(); l != nil {
				// Whatever was broadcast before this subscription is lost
				// to the node; the listener hears of it before any message.
				l.BusBack()
			}
			readyOnce.Do(func() { close(b.ready) })
			if lost {
				lost = false
				b.logger.Info("realtime: redis bus back; recovering what local subscribers missed")
				for _, lane := range b.lanes {
					select {
					case lane <- laneItem{catchUp: true}:
					case <-ctx.Done():
						return
					}
				}
			}
		case *redis.Message:
			b.receive(ctx, m.Payload)
		}
	}
}

// receive dispatches one bus message by its first byte.
func (b *redisBroker) receive(ctx context.Context, payload string) {
	if payload == "" {
		return
	}
	body := payload[1:]
	switch payload[0] {
	case 'p':
		ch, ok := publicationChannel(body)
		if !ok {
			return
		}
		select {
		case b.lanes[b.laneOf(ch)] <- laneItem{body: body}:
		case <-ctx.Done():
		}
	case 'c':
		target, data, ok := strings.Cut(body, ":")
		if !ok || (target != "" && target != b.node.ID()) {
			return
		}
		b.mu.Lock()
		h := b.control
		b.mu.Unlock()
		if h != nil {
			if err := h.HandleControl([]byte(data)); err != nil {
				b.logger.Warn("realtime: control command", slog.Any("error", err))
			}
		}
	case 'j', 'l':
		var e envelope
		if json.Unmarshal([]byte(body), &e) != nil || !b.subscribed(e.Channel) {
			return
		}
		b.mu.Lock()
		h := b.handler
		b.mu.Unlock()
		if payload[0] == 'j' {
			_ = h.HandleJoin(e.Channel, e.Info.centrifuge())
		} else {
			_ = h.HandleLeave(e.Channel, e.Info.centrifuge())
		}
	case 'x':
		sender, msg, ok := strings.Cut(body, ":")
		if !ok || sender == b.node.ID() {
			return
		}
		if l := b.busListener(); l != nil {
			l.BusMessage(msg)
		}
	case 'q':
		b.answerPresence(body)
	case 'r':
		b.presenceAnswered(body)
	}
}

func (b *redisBroker) busListener() BusListener {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.listener
}

// broadcast sends a listener's message to every other node: one PUBLISH.
func (b *redisBroker) broadcast(ctx context.Context, body string) error {
	if err := b.rdb.Publish(ctx, b.bus, "x"+b.node.ID()+":"+body).Err(); err != nil {
		return fmt.Errorf("realtime: broadcast on the bus: %w", err)
	}
	return nil
}

func (b *redisBroker) subscribed(ch string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	_, ok := b.channels[ch]
	return ok
}

// laneItem is a publication's body for a lane, or the order to catch up
// with what the lane's channels missed while the bus was away.
type laneItem struct {
	body    string
	catchUp bool
}

func (b *redisBroker) laneOf(ch string) int {
	h := fnv.New32a()
	_, _ = h.Write([]byte(ch))
	return int(h.Sum32() % uint32(len(b.lanes)))
}

// runLane delivers the publications of its channels in the order they came.
func (b *redisBroker) runLane(ctx context.Context, i int) {
	for {
		select {
		case <-ctx.Done():
			return
		case it := <-b.lanes[i]:
			if it.catchUp {
				b.catchUp(ctx, i)
			} else {
				b.receivePublication(ctx, it.body)
			}
		}
	}
}

// publicationChannel reads the channel a publication's bus body names.
func publicationChannel(body string) (string, bool) {
	_, rest, ok1 := strings.Cut(body, ":")
	_, env, ok2 := strings.Cut(rest, ":")
	if !ok1 || !ok2 {
		return "", false
	}
	if strings.HasPrefix(env, "{") {
		e, err := decodeEnvelope(env)
		return e.Channel, err == nil
	}
	ch, _, ok := strings.Cut(env, "\x00")
	return ch, ok
}

// receivePublication hands a publication to the channel's local
// subscribers, after any it finds missing.
func (b *redisBroker) receivePublication(ctx context.Context, body string) {
	offS, rest, ok1 := strings.Cut(body, ":")
	epoch, env, ok2 := strings.Cut(rest, ":")
	off, err := strconv.ParseUint(offS, 10, 64)
	if !ok1 || !ok2 || err != nil {
		return
	}
	e, err := decodeEnvelope(env)
	if err != nil {
		return
	}
	b.mu.Lock()
	st, ok := b.channels[e.Channel]
	var (
		gap   bool
		since centrifuge.StreamPosition
	)
	switch {
	case !ok:
		b.mu.Unlock()
		return
	case st.known && st.pos.Epoch == epoch && off <= st.pos.Offset:
		b.mu.Unlock()
		return // delivered already, or before the subscribers' position
	case st.known && st.pos.Epoch == epoch && off > st.pos.Offset+1:
		gap, since = true, st.pos
	}
	b.mu.Unlock()
	if gap {
		b.fillGap(ctx, e.Channel, since, off)
	}
	b.deliver(e.Channel, publicationOf(e, off, epoch))
}

// fillGap delivers the publications of ch after since and before upTo,
// read from the stream.
func (b *redisBroker) fillGap(ctx context.Context, ch string, since centrifuge.StreamPosition, upTo uint64) {
	pubs, top, err := b.readStream(ctx, ch, since.Offset+1, upTo-1, -1, false)
	if err != nil {
		b.logger.Warn("realtime: read missed publications", slog.String("channel", ch), slog.Any("error", err))
		return
	}
	if top.Epoch != since.Epoch {
		return
	}
	for _, p := range pubs {
		b.deliver(ch, p)
	}
}

// deliver hands p to the node if it comes after what its subscribers of ch
// have, and records it as delivered.
func (b *redisBroker) deliver(ch string, p *centrifuge.Publication) {
	b.mu.Lock()
	st, ok := b.channels[ch]
	if !ok || (st.known && st.pos.Epoch == p.Epoch && p.Offset <= st.pos.Offset) {
		b.mu.Unlock()
		return
	}
	st.known, st.anchored = true, false
	st.pos = centrifuge.StreamPosition{Offset: p.Offset, Epoch: p.Epoch}
	h := b.handler
	b.mu.Unlock()
	if h != nil {
		_ = h.HandlePublication(ch, p, st.pos, false, nil)
	}
}

// catchUp delivers, after the bus came back, what every channel of a lane
// with local subscribers missed while it was away: one read per channel.
func (b *redisBroker) catchUp(ctx context.Context, lane int) {
	b.mu.Lock()
	known := make(map[string]centrifuge.StreamPosition)
	for ch, st := range b.channels {
		if st.known && b.laneOf(ch) == lane {
			known[ch] = st.pos
		}
	}
	b.mu.Unlock()
	for ch, pos := range known {
		pubs, top, err := b.readStream(ctx, ch, pos.Offset+1, 0, -1, false)
		if err != nil {
			b.logger.Warn("realtime: recover after the bus came back", slog.String("channel", ch), slog.Any("error", err))
			continue
		}
		if top.Epoch != pos.Epoch {
			// The stream started again (Redis lost its data): subscribers see
			// the next publication's offset out of sequence and resubscribe,
			// learning that their history is gone.
			continue
		}
		for _, p := range pubs {
			b.deliver(ch, p)
		}
	}
}

func publicationOf(e envelope, off uint64, epoch string) *centrifuge.Publication {
	return &centrifuge.Publication{
		Offset:  off,
		Epoch:   epoch,
		Data:    e.Data,
		Info:    e.Info.centrifuge(),
		Tags:    e.Tags,
		Time:    e.Time,
		Channel: e.Channel,
	}
}

// Subscribe notes that the node has subscribers for the channels. It sends
// nothing: every node receives the whole bus.
func (b *redisBroker) Subscribe(channels ...string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, ch := range channels {
		if _, ok := b.channels[ch]; !ok {
			b.channels[ch] = &channelState{}
		}
	}
	return nil
}

// Unsubscribe forgets channels the node no longer has subscribers for.
func (b *redisBroker) Unsubscribe(channels ...string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, ch := range channels {
		delete(b.channels, ch)
	}
	return nil
}

// Publish stores and sends a publication in one EVALSHA.
func (b *redisBroker) Publish(ch string, data []byte, opts centrifuge.PublishOptions) (centrifuge.PublishResult, error) {
	body, err := encodeEnvelope(envelope{Channel: ch, Data: data, Time: time.Now().UnixMilli(), Tags: opts.Tags, Info: toInfo(opts.ClientInfo)})
	if err != nil {
		return centrifuge.PublishResult{}, err
	}
	size, ttl := opts.HistorySize, opts.HistoryTTL
	if size <= 0 || ttl <= 0 {
		size, ttl = 0, 0
	}
	metaTTL := opts.HistoryMetaTTL
	if metaTTL <= 0 {
		metaTTL = b.metaTTL
	}
	idemKey, idemTTL := b.prefix+".i.", time.Duration(0)
	if opts.IdempotencyKey != "" {
		idemKey += opts.IdempotencyKey
		idemTTL = opts.IdempotentResultTTL
		if idemTTL <= 0 {
			idemTTL = 5 * time.Minute
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	res, err := b.publish.Run(ctx, b.rdb, []string{b.streamKey(ch), b.metaKey(ch), idemKey},
		string(body), size, seconds(ttl), seconds(metaTTL), newEpoch(), b.bus, seconds(idemTTL)).Slice()
	if err != nil {
		return centrifuge.PublishResult{}, fmt.Errorf("realtime: publish: %w", err)
	}
	if len(res) != 2 {
		return centrifuge.PublishResult{}, errors.New("realtime: publish: unexpected reply")
	}
	suppressed, _ := res[0].(int64)
	pos, err := parsePosition(fmt.Sprint(res[1]))
	if err != nil {
		return centrifuge.PublishResult{}, err
	}
	out := centrifuge.PublishResult{StreamPosition: pos}
	if suppressed == 1 {
		out.Suppressed, out.SuppressReason = true, centrifuge.SuppressReasonIdempotency
	}
	return out, nil
}

func seconds(d time.Duration) int64 {
	if d <= 0 {
		return 0
	}
	return int64((d + time.Second - 1) / time.Second)
}

func parsePosition(s string) (centrifuge.StreamPosition, error) {
	offS, epoch, ok := strings.Cut(s, ":")
	off, err := strconv.ParseUint(offS, 10, 64)
	if !ok || err != nil {
		return centrifuge.StreamPosition{}, fmt.Errorf("realtime: bad stream position %q", s)
	}
	return centrifuge.StreamPosition{Offset: off, Epoch: epoch}, nil
}

// PublishJoin sends a join on the bus.
func (b *redisBroker) PublishJoin(ch string, info *centrifuge.ClientInfo) error {
	return b.sendJoinLeave('j', ch, info)
}

// PublishLeave sends a leave on the bus.
func (b *redisBroker) PublishLeave(ch string, info *centrifuge.ClientInfo) error {
	return b.sendJoinLeave('l', ch, info)
}

func (b *redisBroker) sendJoinLeave(kind byte, ch string, info *centrifuge.ClientInfo) error {
	body, err := json.Marshal(envelope{Channel: ch, Info: toInfo(info)})
	if err != nil {
		return err
	}
	return b.send(string(kind) + string(body))
}

func (b *redisBroker) send(msg string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := b.rdb.Publish(ctx, b.bus, msg).Err(); err != nil {
		return fmt.Errorf("realtime: publish on the bus: %w", err)
	}
	return nil
}

// History answers from memory when the node delivers the channel and the
// question is where its stream stands (positioning a subscriber) or what
// came after the position the node is at (a reconnecting client that
// missed nothing); otherwise it reads Redis, once.
func (b *redisBroker) History(ch string, opts centrifuge.HistoryOptions) ([]*centrifuge.Publication, centrifuge.StreamPosition, error) {
	f := opts.Filter
	b.mu.Lock()
	if st, ok := b.channels[ch]; ok && st.known && b.connected.Load() {
		switch {
		case f.Since == nil && f.Limit == 0:
			pos := st.pos
			b.mu.Unlock()
			return nil, pos, nil
		case f.Since != nil && !f.Reverse && *f.Since == st.pos:
			pos := st.pos
			b.mu.Unlock()
			return nil, pos, nil
		}
	}
	b.mu.Unlock()

	metaTTL := opts.MetaTTL
	if metaTTL <= 0 {
		metaTTL = b.metaTTL
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var (
		pubs []*centrifuge.Publication
		top  centrifuge.StreamPosition
		err  error
	)
	switch {
	case f.Limit == 0 && f.Since == nil:
		pubs, top, err = b.runHistory(ctx, ch, metaTTL, "-", "+", 0, false)
	case f.Since == nil:
		from, to := "-", "+"
		if f.Reverse {
			from, to = "+", "-"
		}
		pubs, top, err = b.runHistory(ctx, ch, metaTTL, from, to, f.Limit, f.Reverse)
	case f.Reverse:
		if f.Since.Offset <= 1 {
			pubs, top, err = b.runHistory(ctx, ch, metaTTL, "-", "+", 0, false)
			break
		}
		pubs, top, err = b.runHistory(ctx, ch, metaTTL, strconv.FormatUint(f.Since.Offset-1, 10)+"-1", "-", f.Limit, true)
	default:
		pubs, top, err = b.runHistory(ctx, ch, metaTTL, strconv.FormatUint(f.Since.Offset+1, 10)+"-0", "+", f.Limit, false)
	}
	if err != nil {
		return nil, centrifuge.StreamPosition{}, err
	}
	b.anchor(ch, top)
	return pubs, top, nil
}

// anchor records the stream's top read from Redis for a channel the node
// has not delivered yet, so that the next subscribers are positioned from
// memory and publications up to it (still on their way) are not handed to
// subscribers positioned after them.
func (b *redisBroker) anchor(ch string, top centrifuge.StreamPosition) {
	b.mu.Lock()
	defer b.mu.Unlock()
	st, ok := b.channels[ch]
	switch {
	case !ok:
	case !st.known:
		st.known, st.anchored, st.pos = true, true, top
	case st.anchored && st.pos.Epoch == top.Epoch && top.Offset < st.pos.Offset:
		// Two first subscribers read the stream concurrently: the earlier
		// position wins, so the one positioned there gets what follows.
		st.pos = top
	case st.pos.Epoch != top.Epoch:
		st.known, st.anchored, st.pos = true, true, top
	}
}

// readStream reads publications of ch with offsets from..to (to 0: up to
// the top), at most limit (-1: all).
func (b *redisBroker) readStream(ctx context.Context, ch string, from, to uint64, limit int, reverse bool) ([]*centrifuge.Publication, centrifuge.StreamPosition, error) {
	end := "+"
	if to > 0 {
		end = strconv.FormatUint(to, 10) + "-1"
	}
	return b.runHistory(ctx, ch, b.metaTTL, strconv.FormatUint(from, 10)+"-0", end, limit, reverse)
}

func (b *redisBroker) runHistory(ctx context.Context, ch string, metaTTL time.Duration, from, to string, limit int, reverse bool) ([]*centrifuge.Publication, centrifuge.StreamPosition, error) {
	rev := "0"
	if reverse {
		rev = "1"
	}
	if limit < 0 {
		limit = -1
	}
	res, err := b.history.Run(ctx, b.rdb, []string{b.streamKey(ch), b.metaKey(ch)},
		seconds(metaTTL), newEpoch(), from, to, limit, rev).Slice()
	if err != nil {
		return nil, centrifuge.StreamPosition{}, fmt.Errorf("realtime: history: %w", err)
	}
	if len(res) < 2 {
		return nil, centrifuge.StreamPosition{}, errors.New("realtime: history: unexpected reply")
	}
	topN, _ := res[0].(int64)
	top := centrifuge.StreamPosition{Offset: uint64(topN), Epoch: fmt.Sprint(res[1])}
	if len(res) < 3 {
		return nil, top, nil
	}
	entries, _ := res[2].([]any)
	pubs := make([]*centrifuge.Publication, 0, len(entries))
	for _, raw := range entries {
		entry, _ := raw.([]any)
		if len(entry) != 2 {
			continue
		}
		id, _ := entry[0].(string)
		fields, _ := entry[1].([]any)
		offS, _, _ := strings.Cut(id, "-")
		off, err := strconv.ParseUint(offS, 10, 64)
		if err != nil || len(fields) != 2 {
			continue
		}
		e, err := decodeEnvelope(fmt.Sprint(fields[1]))
		if err != nil {
			continue
		}
		pubs = append(pubs, publicationOf(e, off, top.Epoch))
	}
	return pubs, top, nil
}

// RemoveHistory deletes a channel's stream.
func (b *redisBroker) RemoveHistory(ch string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return b.rdb.Del(ctx, b.streamKey(ch)).Err()
}

// PublishControl sends a control command on the bus, addressed to one node
// or (nodeID empty) to all. Node announcements are dropped: they would cost
// a PUBLISH every 3 s per node for a node list nothing reads.
func (b *redisBroker) PublishControl(data []byte, nodeID, _ string) error {
	if isNodeAnnouncement(data) {
		return nil
	}
	return b.send("c" + nodeID + ":" + string(data))
}

// isNodeAnnouncement reports whether a Centrifuge control command is a
// node announcement: its field 4 (Node) is set.
func isNodeAnnouncement(data []byte) bool {
	for len(data) > 0 {
		num, typ, n := protowire.ConsumeTag(data)
		if n < 0 {
			return false
		}
		if num == 4 {
			return true
		}
		data = data[n:]
		m := protowire.ConsumeFieldValue(num, typ, data)
		if m < 0 {
			return false
		}
		data = data[m:]
	}
	return false
}

// Connected reports whether the node receives the bus.
func (b *redisBroker) Connected() bool { return b.connected.Load() }

// Close stops receiving and closes the connections. Centrifuge closes the
// broker when the node shuts down, and so does Node.Shutdown: the second
// call does nothing.
func (b *redisBroker) Close(context.Context) error {
	b.closed.Do(func() {
		b.mu.Lock()
		ps := b.ps
		b.mu.Unlock()
		if b.stop != nil {
			b.stop()
		}
		if ps != nil {
			// A blocked read does not watch the context; closing the
			// connection ends it.
			_ = ps.Close()
			<-b.done
		}
		b.closeErr = b.rdb.Close()
	})
	return b.closeErr
}
