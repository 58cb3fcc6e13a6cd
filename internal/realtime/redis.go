package realtime

import (
	"context"
	"errors"
	"fmt"

	"github.com/centrifugal/centrifuge"
)

// useRedis shares the node's broker, control commands and presence queries
// with every node using the same Redis server and RedisPrefix, through one
// PUB/SUB channel (see redisBroker), and keeps presence in memory on each
// node (see clusterPresence). Keys and the channel are named under
// RedisPrefix+"rt".
func (n *Node) useRedis() error {
	b := newRedisBroker(n.node, n.opts.Redis, n.opts.RedisPrefix+"rt", n.logger)
	local, err := centrifuge.NewMemoryPresenceManager(n.node, centrifuge.MemoryPresenceManagerConfig{})
	if err != nil {
		_ = b.Close(context.Background())
		return fmt.Errorf("realtime: presence: %w", err)
	}
	b.localPresence = local
	// The controller is set before the broker: Centrifuge would otherwise
	// take the broker as controller too, which it is, but explicitly.
	n.node.SetController(b)
	n.node.SetBroker(b)
	n.node.SetPresenceManager(&clusterPresence{local: local, b: b})
	n.redis = b
	return nil
}

// BusListener hears what other nodes broadcast on the bus (Node.Broadcast),
// and when the node may have missed some: a broadcast is PUB/SUB, so what
// is sent while a node does not receive the bus never reaches it.
type BusListener interface {
	// BusMessage is another node's broadcast.
	BusMessage(body string)
	// BusLost: the node no longer receives the bus (Redis restarted or went
	// away, the connection broke); broadcasts are missed until BusBack.
	BusLost()
	// BusBack: the node receives the bus, at start and after every loss;
	// broadcasts from now on arrive.
	BusBack()
}

// ErrNoBus is returned by Broadcast on a node without Redis.
var ErrNoBus = errors.New("realtime: no bus without redis")

// HasBus reports whether the node shares a bus with other nodes (Redis).
func (n *Node) HasBus() bool { return n.redis != nil }

// Listen sets who hears the bus's broadcasts and state; call it before
// Run, on a node with a bus.
func (n *Node) Listen(l BusListener) {
	if n.redis == nil {
		return
	}
	n.redis.mu.Lock()
	n.redis.listener = l
	n.redis.mu.Unlock()
}

// Broadcast sends body to every other node's BusListener, as one PUBLISH on
// the bus the nodes already share: nothing is subscribed for it, and the
// cost does not grow with the number of nodes.
func (n *Node) Broadcast(ctx context.Context, body string) error {
	if n.redis == nil {
		return ErrNoBus
	}
	return n.redis.broadcast(ctx, body)
}
