package app

import (
	"log/slog"

	"github.com/carecircle/carecircle/internal/clock"
	"github.com/carecircle/carecircle/internal/kv"
)

// readCache is the API's read cache on a node with Redis: in the node's
// memory, kept coherent across nodes by broadcasting each invalidation on
// the realtime bus every node already receives (kv.NodeCache). A read costs
// no Redis command, an invalidation one PUBLISH. Entries are not kept in
// Redis: a node's first read of an entry loads it from the database, which
// costs less than the Redis commands a shared tier would spend on every
// cold read (see docs/REDIS.md).
func (s *Server) readCache(clk clock.Clock, logger *slog.Logger) kv.Cache {
	if !s.rt.HasBus() {
		return s.shared.Cache()
	}
	s.cache = kv.NewNodeCache(kv.NodeCacheConfig{Bus: s.rt, Clock: clk, Logger: logger})
	s.rt.Listen(s.cache)
	return s.cache
}
