package store

import (
	"context"
	"database/sql"
)

// Tx returns the write transaction that Atomically opened, when ctx carries
// one of this store's, or nil. Components that write through their own
// driver, such as the job queue's transactional insert, use it to commit
// together with the store's writes.
func (s *Store) Tx(ctx context.Context) *sql.Tx { return s.txFrom(ctx) }
