package store

import (
	"context"
	"sync"
)

// accountWatchers are told which users' accounts or sessions a committed
// write changed.
type accountWatchers struct {
	mu  sync.Mutex
	fns map[any]func(ctx context.Context, userIDs []string)
}

// OnAccountsChanged registers fn to be told, once a write has committed
// (see OnCommit; never when it rolls back), the users whose row or
// sessions it changed: every store method that updates or deletes a users
// or sessions row tells it, whatever the caller, so a cache of sessions
// and their users (auth.Sessions) can drop what went stale. Inserting a
// session or a user tells nothing: nothing can have cached a row that did
// not exist. A write whose outcome is unknown (it failed part way outside
// a transaction) tells too. fn runs in the committing goroutine and must
// be short (see OnCommit); its context carries no transaction.
//
// watcher identifies the registration and must be comparable: registering
// again with the same watcher replaces its fn, so that doors sharing one
// cache register it once.
func (s *Store) OnAccountsChanged(watcher any, fn func(ctx context.Context, userIDs []string)) {
	s.watchers.mu.Lock()
	defer s.watchers.mu.Unlock()
	if s.watchers.fns == nil {
		s.watchers.fns = map[any]func(context.Context, []string){}
	}
	s.watchers.fns[watcher] = fn
}

// accountsChanged tells the watchers, once the transaction ctx carries has
// committed (at once without one), that the users' accounts or sessions
// changed. Call it after the write, outside any transaction the method
// opened itself with inTx, so that it never runs before that commit.
func (s *Store) accountsChanged(ctx context.Context, userIDs ...string) {
	s.watchers.mu.Lock()
	fns := make([]func(context.Context, []string), 0, len(s.watchers.fns))
	for _, fn := range s.watchers.fns {
		fns = append(fns, fn)
	}
	s.watchers.mu.Unlock()
	if len(fns) == 0 || len(userIDs) == 0 {
		return
	}
	s.OnCommit(ctx, func() {
		// The transaction has ended: what fn reads is what committed.
		done := context.WithValue(ctx, txKey{}, &ambient{})
		for _, fn := range fns {
			fn(done, userIDs)
		}
	})
}
