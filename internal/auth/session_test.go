package auth

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/carecircle/carecircle/internal/care"
	"github.com/carecircle/carecircle/internal/clock"
	"github.com/carecircle/carecircle/internal/kv"
	"github.com/carecircle/carecircle/internal/store"
	"github.com/carecircle/carecircle/internal/store/storetest"
)

var t0 = time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)

type openFunc = func(t testing.TB, clk clock.Clock) *store.Store

// newUser creates an account in status, with one session of ttl.
func newUser(t *testing.T, st *store.Store, email string, status care.UserStatus, ttl time.Duration) (*care.User, *care.Session) {
	t.Helper()
	ctx := context.Background()
	u, err := st.CreateUser(ctx, store.NewUser{Email: email, PasswordHash: "hash", FullName: "Ann",
		Timezone: "UTC", Status: care.UserPending})
	if err != nil {
		t.Fatal(err)
	}
	if status == care.UserActive {
		if u, err = st.ActivateUser(ctx, u.ID); err != nil {
			t.Fatal(err)
		}
	}
	sess, err := st.CreateSession(ctx, store.NewSession{UserID: u.ID, TTL: ttl, RefreshHash: HashToken(NewOpaqueToken())})
	if err != nil {
		t.Fatal(err)
	}
	return u, sess
}

// renameBehindTheCache changes the account's name without the store telling
// anyone, as SQL by hand would: a check that still shows the old name
// answered from the node's memory.
func renameBehindTheCache(t *testing.T, st *store.Store, userID, name string) {
	t.Helper()
	if _, err := st.DB().Exec(`UPDATE users SET full_name = $2 WHERE id = $1`, userID, name); err != nil {
		t.Fatal(err)
	}
}

// checkedName checks the session and answers its user's name.
func checkedName(t *testing.T, s *Sessions, sess *care.Session) string {
	t.Helper()
	_, u, err := s.Check(context.Background(), sess.ID, sess.UserID)
	if err != nil {
		t.Fatalf("check: %v", err)
	}
	return u.FullName
}

// A checked session is answered from the node's memory, as the caller's
// own copy, until SessionCacheTTL ends; without a cache in memory every
// check reads the database.
func TestSessionsKeepACheckedSession(t *testing.T) {
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, open openFunc) {
		clk := clock.NewFake(t0)
		st := open(t, clk)
		s := NewSessions(st, kv.NewMemoryCache(clk, 0), clk)
		u, sess := newUser(t, st, "ann@example.com", care.UserActive, 24*time.Hour)
		_, first, err := s.Check(context.Background(), sess.ID, u.ID)
		if err != nil || first.FullName != "Ann" {
			t.Fatalf("check = %+v, %v", first, err)
		}
		first.FullName = "Changed by a caller"
		renameBehindTheCache(t, st, u.ID, "Ann Lee")
		if got := checkedName(t, s, sess); got != "Ann" {
			t.Fatalf("the second check read %q; it did not come from the cache, or a caller changed the cached user", got)
		}
		clk.Advance(SessionCacheTTL - time.Second)
		if got := checkedName(t, s, sess); got != "Ann" {
			t.Fatalf("before the TTL ended the check read %q", got)
		}
		clk.Advance(time.Second)
		if got := checkedName(t, s, sess); got != "Ann Lee" {
			t.Fatalf("once the TTL ended the check read %q", got)
		}

		uncached := NewSessions(st, nil, clk)
		renameBehindTheCache(t, st, u.ID, "Ann Lee-Park")
		if got := checkedName(t, uncached, sess); got != "Ann Lee-Park" {
			t.Fatalf("without a cache the check read %q", got)
		}
		// Another user's token never reads this entry.
		if _, _, err := s.Check(context.Background(), sess.ID, "00000000-0000-0000-0000-000000000001"); !errors.Is(err, ErrSessionEnded) {
			t.Fatalf("another user's check of the session: %v", err)
		}
	})
}

// A system administrator's session is never kept, so that a demotion made
// outside the server (SQL by hand, the command line) takes effect at once.
func TestAdminSessionsAreNeverKept(t *testing.T) {
	t.Parallel()
	clk := clock.NewFake(t0)
	st := storetest.OpenSQLite(t, clk)
	s := NewSessions(st, kv.NewMemoryCache(clk, 0), clk)
	u, sess := newUser(t, st, "root@example.com", care.UserActive, 24*time.Hour)
	if _, err := st.SetSystemRole(context.Background(), u.Email, care.SystemAdmin); err != nil {
		t.Fatal(err)
	}
	if _, got, err := s.Check(context.Background(), sess.ID, u.ID); err != nil || got.SystemRole != care.SystemAdmin {
		t.Fatalf("check = %+v, %v", got, err)
	}
	if _, err := st.DB().Exec(`UPDATE users SET system_role = 'USER' WHERE id = $1`, u.ID); err != nil {
		t.Fatal(err)
	}
	if _, got, err := s.Check(context.Background(), sess.ID, u.ID); err != nil || got.SystemRole != care.SystemUser {
		t.Fatalf("after a demotion by hand the check read %+v, %v", got, err)
	}
}

// A session is never kept past its own expiry.
func TestSessionsExpireWithTheSession(t *testing.T) {
	t.Parallel()
	clk := clock.NewFake(t0)
	st := storetest.OpenSQLite(t, clk)
	s := NewSessions(st, kv.NewMemoryCache(clk, 0), clk)
	u, sess := newUser(t, st, "bo@example.com", care.UserActive, 20*time.Second)
	if _, _, err := s.Check(context.Background(), sess.ID, u.ID); err != nil {
		t.Fatal(err)
	}
	clk.Advance(19 * time.Second)
	if _, _, err := s.Check(context.Background(), sess.ID, u.ID); err != nil {
		t.Fatalf("a second before it expires: %v", err)
	}
	clk.Advance(time.Second)
	if _, _, err := s.Check(context.Background(), sess.ID, u.ID); !errors.Is(err, ErrSessionEnded) {
		t.Fatalf("once the session expired: %v", err)
	}
}

// Every write that ends or changes a session or its user drops what the
// cache kept, so the next check sees it.
func TestEveryAccountChangeDropsTheKeptSession(t *testing.T) {
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, open openFunc) {
		clk := clock.NewFake(t0)
		st := open(t, clk)
		s := NewSessions(st, kv.NewMemoryCache(clk, 0), clk)
		ctx := context.Background()
		ended := func(_ *care.Session, _ *care.User, err error) error {
			if !errors.Is(err, ErrSessionEnded) {
				return errors.New("the session was not ended")
			}
			return nil
		}
		cases := []struct {
			name   string
			status care.UserStatus // of the account before the change
			change func(u *care.User, sess *care.Session) error
			// after judges the check after the change.
			after func(sess *care.Session, u *care.User, err error) error
		}{
			{"sign-out", care.UserActive, func(u *care.User, sess *care.Session) error {
				return st.RevokeSession(ctx, u.ID, sess.ID, "logout")
			}, ended},
			{"sign-out everywhere", care.UserActive, func(u *care.User, _ *care.Session) error {
				_, err := st.RevokeUserSessions(ctx, u.ID, "", "logout all")
				return err
			}, ended},
			{"password changed on another session", care.UserActive, func(u *care.User, _ *care.Session) error {
				other, err := st.CreateSession(ctx, store.NewSession{UserID: u.ID, TTL: time.Hour, RefreshHash: "other"})
				if err != nil {
					return err
				}
				return st.ChangePassword(ctx, u.ID, "new hash", other.ID)
			}, ended},
			{"password changed on this session", care.UserActive, func(u *care.User, sess *care.Session) error {
				return st.ChangePassword(ctx, u.ID, "new hash", sess.ID)
			}, func(_ *care.Session, u *care.User, err error) error {
				if err != nil || u.PasswordHash != "new hash" {
					return errors.New("the kept session does not have the new password")
				}
				return nil
			}},
			{"password reset", care.UserActive, func(u *care.User, _ *care.Session) error {
				if err := st.CreatePasswordReset(ctx, u.ID, "reset", time.Hour); err != nil {
					return err
				}
				_, err := st.ResetPassword(ctx, "reset", "new hash")
				return err
			}, ended},
			{"refresh token reused", care.UserActive, func(u *care.User, sess *care.Session) error {
				s2, err := st.CreateSession(ctx, store.NewSession{UserID: u.ID, TTL: time.Hour, RefreshHash: "r1"})
				if err != nil {
					return err
				}
				*sess = *s2
				if _, _, err := s.Check(ctx, sess.ID, u.ID); err != nil {
					return err
				}
				if _, err := st.RotateRefreshToken(ctx, "r1", "r2", time.Hour); err != nil {
					return err
				}
				if _, err := st.RotateRefreshToken(ctx, "r1", "r3", time.Hour); !errors.Is(err, store.ErrTokenReused) {
					return errors.New("reuse not detected")
				}
				return nil
			}, ended},
			{"suspended", care.UserActive, func(u *care.User, _ *care.Session) error {
				_, _, err := st.SuspendUser(ctx, u.ID)
				return err
			}, ended},
			{"account deleted", care.UserActive, func(u *care.User, _ *care.Session) error {
				_, err := st.DeleteAccount(ctx, u.ID)
				return err
			}, ended},
			{"email verified", care.UserPending, func(u *care.User, _ *care.Session) error {
				_, err := st.ActivateUser(ctx, u.ID)
				return err
			}, func(_ *care.Session, u *care.User, err error) error {
				if err != nil || !u.EmailVerified {
					return errors.New("the account is still pending")
				}
				return nil
			}},
			{"role changed", care.UserActive, func(u *care.User, _ *care.Session) error {
				_, err := st.SetSystemRole(ctx, u.Email, care.SystemAdmin)
				return err
			}, func(_ *care.Session, u *care.User, err error) error {
				if err != nil || u.SystemRole != care.SystemAdmin {
					return errors.New("the role did not change")
				}
				return nil
			}},
			{"profile changed", care.UserActive, func(u *care.User, _ *care.Session) error {
				name := "Ann Lee"
				_, err := st.UpdateUser(ctx, u.ID, store.UserPatch{FullName: &name})
				return err
			}, func(_ *care.Session, u *care.User, err error) error {
				if err != nil || u.FullName != "Ann Lee" {
					return errors.New("the name did not change")
				}
				return nil
			}},
			{"signed in elsewhere", care.UserActive, func(u *care.User, _ *care.Session) error {
				return st.RecordLoginSuccess(ctx, u.ID)
			}, func(_ *care.Session, u *care.User, err error) error {
				if err != nil || u.LastLoginAt == nil {
					return errors.New("the last sign-in did not change")
				}
				return nil
			}},
		}
		for i, c := range cases {
			u, sess := newUser(t, st, "user"+string(rune('a'+i))+"@example.com", c.status, 24*time.Hour)
			_, _, err := s.Check(ctx, sess.ID, u.ID)
			if (c.status == care.UserActive && err != nil) || (c.status != care.UserActive && !errors.Is(err, ErrInactive)) {
				t.Fatalf("%s: the first check: %v", c.name, err)
			}
			if err := c.change(u, sess); err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
			cs, cu, err := s.Check(ctx, sess.ID, u.ID)
			if wrong := c.after(cs, cu, err); wrong != nil {
				t.Fatalf("%s: %v (check: %v)", c.name, wrong, err)
			}
		}
	})
}

// testBus carries invalidations between NodeCaches as the realtime bus
// does, holding them on the way while holding is set.
type testBus struct {
	mu      sync.Mutex
	nodes   []*kv.NodeCache
	holding bool
	held    []func()
}

type busEnd struct {
	bus  *testBus
	self int
}

func (e busEnd) Broadcast(_ context.Context, body string) error {
	b := e.bus
	b.mu.Lock()
	var deliver []func()
	for i, n := range b.nodes {
		if i != e.self {
			deliver = append(deliver, func() { n.BusMessage(body) })
		}
	}
	if b.holding {
		b.held, deliver = append(b.held, deliver...), nil
	}
	b.mu.Unlock()
	for _, d := range deliver {
		d()
	}
	return nil
}

func (b *testBus) hold() {
	b.mu.Lock()
	b.holding = true
	b.mu.Unlock()
}

func (b *testBus) release() {
	b.mu.Lock()
	held := b.held
	b.held, b.holding = nil, false
	b.mu.Unlock()
	for _, d := range held {
		d()
	}
}

// newNodes returns n node caches on one bus, receiving it.
func newNodes(t *testing.T, clk clock.Clock, n int) ([]*kv.NodeCache, *testBus) {
	t.Helper()
	bus := &testBus{}
	for i := range n {
		c := kv.NewNodeCache(kv.NodeCacheConfig{Bus: busEnd{bus: bus, self: i}, Clock: clk})
		t.Cleanup(c.Close)
		c.BusBack()
		bus.nodes = append(bus.nodes, c)
	}
	return bus.nodes, bus
}

// While the node does not receive the bus, every check reads the database.
func TestSessionsReadTheDatabaseWithoutTheBus(t *testing.T) {
	t.Parallel()
	clk := clock.NewFake(t0)
	st := storetest.OpenSQLite(t, clk)
	nodes, _ := newNodes(t, clk, 1)
	s := NewSessions(st, nodes[0], clk)
	_, sess := newUser(t, st, "cy@example.com", care.UserActive, 24*time.Hour)
	checkedName(t, s, sess)
	renameBehindTheCache(t, st, sess.UserID, "Cy")
	if got := checkedName(t, s, sess); got != "Ann" {
		t.Fatalf("with the bus the check read %q, not the cache", got)
	}
	nodes[0].BusLost()
	if got := checkedName(t, s, sess); got != "Cy" {
		t.Fatalf("without the bus the check read %q, not the database", got)
	}
	renameBehindTheCache(t, st, sess.UserID, "Cy Lee")
	if got := checkedName(t, s, sess); got != "Cy Lee" {
		t.Fatalf("without the bus the second check read %q, not the database", got)
	}
	if err := st.RecordLoginSuccess(context.Background(), sess.UserID); err != nil { // an invalidation while away
		t.Fatal(err)
	}
	nodes[0].BusBack()
	renameBehindTheCache(t, st, sess.UserID, "Cy Lee-Park")
	if got := checkedName(t, s, sess); got != "Cy Lee-Park" {
		t.Fatalf("once the bus was back the check read %q; the node kept what it read without it", got)
	}
}

// Two nodes on one PostgreSQL: a session ended through node A is refused
// there at once and on node B once A's invalidation has arrived.
func TestSessionEndedOnAnotherNode(t *testing.T) {
	t.Parallel()
	clk := clock.NewFake(t0)
	dsn := storetest.NewPostgresSchema(t)
	var stores []*store.Store
	for range 2 {
		st, err := store.Open(context.Background(), store.Options{DatabaseURL: dsn, Clock: clk, MaxConns: 2})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		if _, err := st.Migrate(context.Background()); err != nil {
			t.Fatal(err)
		}
		stores = append(stores, st)
	}
	nodes, bus := newNodes(t, clk, 2)
	a, b := NewSessions(stores[0], nodes[0], clk), NewSessions(stores[1], nodes[1], clk)
	ctx := context.Background()
	u, sess := newUser(t, stores[0], "di@example.com", care.UserActive, 24*time.Hour)
	for _, s := range []*Sessions{a, b} {
		if _, _, err := s.Check(ctx, sess.ID, u.ID); err != nil {
			t.Fatal(err)
		}
	}
	bus.hold()
	if _, _, err := stores[0].SuspendUser(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	if _, _, err := a.Check(ctx, sess.ID, u.ID); !errors.Is(err, ErrSessionEnded) {
		t.Fatalf("node A, which suspended the account: %v", err)
	}
	if _, _, err := b.Check(ctx, sess.ID, u.ID); err != nil {
		t.Fatalf("node B before the invalidation arrived: %v; the test bus did not hold it", err)
	}
	bus.release()
	if _, _, err := b.Check(ctx, sess.ID, u.ID); !errors.Is(err, ErrSessionEnded) {
		t.Fatalf("node B once the invalidation arrived: %v", err)
	}
}
