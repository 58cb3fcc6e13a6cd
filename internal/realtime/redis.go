package realtime

import (
	"context"
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
