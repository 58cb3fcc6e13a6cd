package realtime

import (
	"fmt"

	"github.com/centrifugal/centrifuge"
)

// useRedis replaces the in-memory broker and presence with Redis ones on
// one shard built from the same address, credentials and TLS settings as
// the rest of CareCircle's Redis use. Keys and PUB/SUB channels are named
// under RedisPrefix.
func (n *Node) useRedis() error {
	o := n.opts.Redis
	shard, err := centrifuge.NewRedisShard(n.node, centrifuge.RedisShardConfig{
		Address:        o.Addr,
		DB:             o.DB,
		User:           o.Username,
		Password:       o.Password,
		TLSConfig:      o.TLSConfig,
		ClientName:     "carecircle-realtime",
		ConnectTimeout: o.DialTimeout,
	})
	if err != nil {
		return fmt.Errorf("realtime: redis: %w", err)
	}
	prefix := n.opts.RedisPrefix + "rt"
	broker, err := centrifuge.NewRedisBroker(n.node, centrifuge.RedisBrokerConfig{
		Prefix: prefix,
		Shards: []*centrifuge.RedisShard{shard},
	})
	if err != nil {
		shard.Close()
		return fmt.Errorf("realtime: redis broker: %w", err)
	}
	presence, err := centrifuge.NewRedisPresenceManager(n.node, centrifuge.RedisPresenceManagerConfig{
		Prefix: prefix,
		Shards: []*centrifuge.RedisShard{shard},
	})
	if err != nil {
		shard.Close()
		return fmt.Errorf("realtime: redis presence: %w", err)
	}
	n.node.SetBroker(broker)
	n.node.SetPresenceManager(presence)
	n.redis = shard
	return nil
}
