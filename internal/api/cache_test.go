package api

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/carecircle/carecircle/internal/auth"
	"github.com/carecircle/carecircle/internal/care"
	"github.com/carecircle/carecircle/internal/clock"
	"github.com/carecircle/carecircle/internal/feature"
	"github.com/carecircle/carecircle/internal/kv"
	"github.com/carecircle/carecircle/internal/kv/dbkv"
	"github.com/carecircle/carecircle/internal/store"
	"github.com/carecircle/carecircle/internal/store/storetest"
)

// testRedisURL returns the test Redis, skipping the test (or failing it when
// services are required) when none is configured.
func testRedisURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv("CARECIRCLE_TEST_REDIS_URL")
	if u == "" {
		if os.Getenv("CARECIRCLE_TEST_REQUIRE_SERVICES") == "1" {
			t.Fatal("CARECIRCLE_TEST_REDIS_URL is not set but CARECIRCLE_TEST_REQUIRE_SERVICES=1")
		}
		t.Skip("Redis tests skipped: set CARECIRCLE_TEST_REDIS_URL to run them")
	}
	return u
}

// testRedisPrefix returns a key prefix of the test's own, whose keys are
// deleted at cleanup.
func testRedisPrefix(t testing.TB) string {
	t.Helper()
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	prefix := "apitest:" + hex.EncodeToString(b) + ":"
	t.Cleanup(func() {
		rdb := newTestRedisClient(t)
		ctx := context.Background()
		iter := rdb.Scan(ctx, 0, prefix+"*", 500).Iterator()
		var keys []string
		for iter.Next(ctx) {
			keys = append(keys, iter.Val())
		}
		if len(keys) > 0 {
			_ = rdb.Del(ctx, keys...).Err()
		}
	})
	return prefix
}

// newTestRedisClient connects to the test Redis, closed at cleanup.
func newTestRedisClient(t testing.TB, hooks ...redis.Hook) *redis.Client {
	t.Helper()
	opt, err := kv.RedisOptions(testRedisURL(t), "", "", "", false)
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(opt)
	for _, h := range hooks {
		rdb.AddHook(h)
	}
	t.Cleanup(func() { _ = rdb.Close() })
	return rdb
}

// newTestShared is one node's connection to the shared state under prefix,
// falling back to the database for codes and lockouts as the app does.
func newTestShared(t testing.TB, rdb redis.UniversalClient, prefix string, st *store.Store, clk clock.Clock) *kv.Resilient {
	t.Helper()
	r, err := kv.NewResilient(context.Background(), kv.ResilientConfig{
		Client: rdb, Prefix: prefix, Clock: clk, Logger: testLogger(t),
		Codes: dbkv.Codes(st), Lockout: dbkv.Lockout(st),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Close)
	return r
}

// node is what one API server gets from the shared state.
type node struct {
	cache   kv.Cache
	limiter kv.RateLimiter
	codes   kv.Codes
	lockout kv.Lockout
}

// newNodes starts one API server per node on one database, one clock and
// one mailbox, as a deployment of several nodes would run; tokens issued by
// one are accepted by all.
func newNodes(t *testing.T, open func(testing.TB, clock.Clock) *store.Store, nodes func(st *store.Store, clk *clock.Fake) []node) []*harness {
	t.Helper()
	clk := clock.NewFake(testStart)
	st := open(t, clk)
	box := &mailbox{}
	tokens := auth.NewTokens([]byte("test-secret-test-secret-test-sec"), 15*time.Minute, clk.Now)
	var out []*harness
	for _, n := range nodes(st, clk) {
		if n.limiter == nil {
			n.limiter = kv.NewMemoryLimiter(clk)
		}
		a := New(Config{Prefix: testPrefix, PublicURL: "http://carecircle.test", TrustProxy: true}, Deps{
			Store: st, Tokens: tokens, Mail: box, Clock: clk, Logger: testLogger(t),
			Limiter: n.limiter, Cache: n.cache, Codes: n.codes, Lockout: n.lockout,
		})
		srv := httptest.NewServer(a.Handler())
		t.Cleanup(srv.Close)
		out = append(out, &harness{t: t, srv: srv, api: a, store: st, clock: clk, mail: box})
	}
	return out
}

// forEachCache runs fn with two API servers on every database, first sharing
// one in-memory cache (one node's view), then each with its own connection
// to one Redis, as two nodes.
func forEachCache(t *testing.T, fn func(t *testing.T, a, b *harness)) {
	t.Helper()
	storetest.ForEach(t, func(t *testing.T, open func(testing.TB, clock.Clock) *store.Store) {
		t.Run("memory", func(t *testing.T) {
			t.Parallel()
			hs := newNodes(t, open, func(_ *store.Store, clk *clock.Fake) []node {
				c := kv.NewMemoryCache(clk, 0)
				return []node{{cache: c}, {cache: c}}
			})
			fn(t, hs[0], hs[1])
		})
		t.Run("redis", func(t *testing.T) {
			t.Parallel()
			prefix := testRedisPrefix(t)
			hs := newNodes(t, open, func(st *store.Store, clk *clock.Fake) []node {
				var ns []node
				for range 2 {
					r := newTestShared(t, newTestRedisClient(t), prefix, st, clk)
					ns = append(ns, node{cache: r.Cache(), limiter: r.Limiter(), codes: r.Codes(), lockout: r.Lockout()})
				}
				return ns
			})
			fn(t, hs[0], hs[1])
		})
	})
}

// meFamilies returns GET /auth/me's families by name, each with its role
// and care recipients' names.
func meFamilies(h *harness, token string) map[string][2]any {
	h.t.Helper()
	var me struct {
		Families []struct {
			Name           string `json:"name"`
			Role           string `json:"role"`
			CareRecipients []struct {
				FullName string `json:"fullName"`
			} `json:"careRecipients"`
		} `json:"families"`
	}
	h.request("GET", "/auth/me", token, nil).expect(200).JSON(&me)
	out := map[string][2]any{}
	for _, f := range me.Families {
		var names []string
		for _, cr := range f.CareRecipients {
			names = append(names, cr.FullName)
		}
		out[f.Name] = [2]any{f.Role, names}
	}
	return out
}

// recipientNames lists a family's care recipients' names, as read by h.
func recipientNames(h *harness, token, familyID string) []string {
	h.t.Helper()
	var names []string
	for _, cr := range h.request("GET", "/families/"+familyID+"/care-recipients", token, nil).expect(200).List() {
		names = append(names, cr["fullName"].(string))
	}
	return names
}

func expectNames(t *testing.T, what string, got []string, want ...string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s = %v, want %v", what, got, want)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("%s = %v, want %v", what, got, want)
		}
	}
}

func expectFamilies(t *testing.T, what string, got map[string][2]any, want map[string][2]any) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s = %v, want %v", what, got, want)
	}
	for name, w := range want {
		g, ok := got[name]
		if !ok || g[0] != w[0] {
			t.Fatalf("%s = %v, want %v", what, got, want)
		}
		gn, _ := g[1].([]string)
		wn, _ := w[1].([]string)
		expectNames(t, what+" "+name, gn, wn...)
	}
}

// TestCachedReadsSeeEveryWrite: whichever server takes a write, the very
// next read on any server sees it, although every read before it was
// served (and cached) by the other.
func TestCachedReadsSeeEveryWrite(t *testing.T) {
	t.Parallel()
	forEachCache(t, func(t *testing.T, a, b *harness) {
		ann := a.newUser("ann@example.com")
		bo := a.newUser("bo@example.com")
		none := map[string][2]any{}

		// Reads fill the cache on b; the write goes through a.
		expectFamilies(t, "ann's families before any", meFamilies(b, ann.Token), none)
		fam := a.createFamilyAs(ann, "The Lees")
		expectFamilies(t, "ann's families after creating one", meFamilies(b, ann.Token),
			map[string][2]any{"The Lees": {"ADMIN", nil}})

		expectNames(t, "care recipients before any", recipientNames(b, ann.Token, fam))
		cr := a.request("POST", "/families/"+fam+"/care-recipients", ann.Token,
			map[string]any{"fullName": "Grandma Lee"}).expect(201).Map()
		expectNames(t, "care recipients after creating one", recipientNames(b, ann.Token, fam), "Grandma Lee")
		expectFamilies(t, "ann's families after creating a care recipient", meFamilies(b, ann.Token),
			map[string][2]any{"The Lees": {"ADMIN", []string{"Grandma Lee"}}})

		b.request("PATCH", "/care-recipients/"+cr["id"].(string), ann.Token,
			map[string]any{"fullName": "Granny Lee"}).expect(200)
		expectNames(t, "care recipients after renaming one", recipientNames(a, ann.Token, fam), "Granny Lee")
		expectFamilies(t, "ann's families after renaming a care recipient", meFamilies(a, ann.Token),
			map[string][2]any{"The Lees": {"ADMIN", []string{"Granny Lee"}}})

		// Membership: joining, a new role, a renamed family, removal.
		expectFamilies(t, "bo's families before joining", meFamilies(b, bo.Token), none)
		memberID := a.joinFamily(ann, fam, bo, "VIEWER")
		expectFamilies(t, "bo's families after joining", meFamilies(b, bo.Token),
			map[string][2]any{"The Lees": {"VIEWER", []string{"Granny Lee"}}})
		expectNames(t, "care recipients as bo sees them", recipientNames(b, bo.Token, fam), "Granny Lee")
		a.request("PATCH", "/families/"+fam+"/members/"+memberID+"/role", ann.Token,
			map[string]any{"role": "CAREGIVER"}).expect(200)
		expectFamilies(t, "bo's families after a new role", meFamilies(b, bo.Token),
			map[string][2]any{"The Lees": {"CAREGIVER", []string{"Granny Lee"}}})
		b.request("PATCH", "/families/"+fam, ann.Token, map[string]any{"name": "The Lee-Parks"}).expect(200)
		expectFamilies(t, "bo's families after a rename", meFamilies(a, bo.Token),
			map[string][2]any{"The Lee-Parks": {"CAREGIVER", []string{"Granny Lee"}}})
		b.request("DELETE", "/families/"+fam+"/members/"+memberID, ann.Token, nil).expect(200)
		expectFamilies(t, "bo's families after removal", meFamilies(a, bo.Token), none)
		b.request("GET", "/families/"+fam+"/care-recipients", bo.Token, nil).errorEnvelope(403)

		// Deletions.
		a.request("DELETE", "/care-recipients/"+cr["id"].(string), ann.Token, nil).expect(200)
		expectNames(t, "care recipients after deleting the only one", recipientNames(b, ann.Token, fam))
		expectFamilies(t, "ann's families after deleting the care recipient", meFamilies(b, ann.Token),
			map[string][2]any{"The Lee-Parks": {"ADMIN", nil}})
		b.request("DELETE", "/families/"+fam, ann.Token, nil).expect(200)
		expectFamilies(t, "ann's families after deleting the family", meFamilies(a, ann.Token), none)
	})
}

// TestMeShowsProfileChangesAtOnce: the account in GET /auth/me is never
// stale, on whichever server it changed.
func TestMeShowsProfileChangesAtOnce(t *testing.T) {
	t.Parallel()
	forEachCache(t, func(t *testing.T, a, b *harness) {
		ann := a.newUser("ann@example.com")
		a.createFamilyAs(ann, "The Lees")
		b.request("GET", "/auth/me", ann.Token, nil).expect(200)
		a.request("PATCH", "/auth/me", ann.Token, map[string]any{"fullName": "Ann Lee-Park"}).expect(200)
		a.request("POST", "/auth/complete-onboarding", ann.Token, nil).expect(200)
		me := b.request("GET", "/auth/me", ann.Token, nil).expect(200).Map()
		if me["fullName"] != "Ann Lee-Park" || me["onboardingCompleted"] != true {
			t.Fatalf("me after profile changes on the other server: %v", me)
		}
	})
}

// TestCachedReadsSkipTheDatabase: a second read of the same data is served
// from the cache, and a family-scoped read lives for its TTL.
func TestCachedReadsSkipTheDatabase(t *testing.T) {
	t.Parallel()
	h := sqliteHarness(t, harnessOptions{})
	ctx := context.Background()
	loads := 0
	read := func() string {
		t.Helper()
		v, err := feature.FamilyRead(ctx, h.api.base, "f1", "schedule:c1", feature.FamilyViewTTL, func() (string, error) {
			loads++
			return "info", nil
		})
		if err != nil || v != "info" {
			t.Fatalf("read = %q, %v", v, err)
		}
		return v
	}
	read()
	read()
	if loads != 1 {
		t.Fatalf("two reads loaded %d times, want once", loads)
	}
	h.api.base.FamilyChanged(ctx, "f2")
	read()
	if loads != 1 {
		t.Fatal("another family's change dropped the entry")
	}
	h.api.base.FamilyChanged(ctx, "f1")
	read()
	if loads != 2 {
		t.Fatal("the family's change did not drop the entry")
	}
	h.clock.Advance(feature.FamilyViewTTL - time.Second)
	read()
	if loads != 2 {
		t.Fatal("the entry expired before its TTL")
	}
	h.clock.Advance(time.Second)
	read()
	if loads != 3 {
		t.Fatal("the entry outlived its TTL")
	}
}

// TestSharedStateOutageKeepsTheAPIRight: with Redis unreachable from the
// start, the cache is bypassed and codes and lockouts fall back to the
// database, so reads stay fresh and the account rules still hold.
func TestSharedStateOutageKeepsTheAPIRight(t *testing.T) {
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, open func(testing.TB, clock.Clock) *store.Store) {
		hs := newNodes(t, open, func(st *store.Store, clk *clock.Fake) []node {
			// Nothing listens on port 1: every call fails at once.
			rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1})
			t.Cleanup(func() { _ = rdb.Close() })
			r := newTestShared(t, rdb, "down:", st, clk)
			if state, _ := r.Status(); state != kv.StateDegraded {
				t.Fatalf("redis state %q with nothing listening", state)
			}
			return []node{{cache: r.Cache(), limiter: r.Limiter(), codes: r.Codes(), lockout: r.Lockout()}}
		})
		h := hs[0]
		ann := h.newUser("ann@example.com")
		fam := h.createFamilyAs(ann, "The Lees")
		expectNames(t, "care recipients", recipientNames(h, ann.Token, fam))
		h.request("POST", "/families/"+fam+"/care-recipients", ann.Token, map[string]any{"fullName": "Grandma Lee"}).expect(201)
		expectNames(t, "care recipients after creating one", recipientNames(h, ann.Token, fam), "Grandma Lee")

		// Sign-up codes and the login lockout work from the database.
		h.request("POST", "/auth/register", "", map[string]any{
			"fullName": "Cy", "email": "cy@example.com", "password": "Password1234"}).expect(201)
		code := codeRE.FindStringSubmatch(h.mail.last(t, "cy@example.com").Text)[1]
		h.request("POST", "/auth/resend-verification", "", map[string]any{"email": "cy@example.com"}).errorEnvelope(429)
		h.request("POST", "/auth/verify-email", "", map[string]any{"email": "cy@example.com", "otp": code}).expect(200)
		for range maxLoginFailures {
			h.request("POST", "/auth/login", "", map[string]any{"email": ann.Email, "password": "Wrong-password-1"}).errorEnvelope(401)
		}
		h.request("POST", "/auth/login", "", map[string]any{"email": ann.Email, "password": "Password1234"}).errorEnvelope(403)
	})
}

// TestCacheDropsAfterCommitOnly: a change registered in a transaction drops
// its cache entries once the transaction has committed, never before, and
// never when it rolls back. A family read inside a transaction skips the
// cache (it may see writes that never commit) and stores nothing.
func TestCacheDropsAfterCommitOnly(t *testing.T) {
	t.Parallel()
	h := sqliteHarness(t, harnessOptions{})
	ctx := context.Background()
	familyLoads, memberLoads := 0, 0
	read := func(ctx context.Context) {
		t.Helper()
		if _, err := feature.FamilyRead(ctx, h.api.base, "f1", "view", feature.FamilyViewTTL, func() (string, error) {
			familyLoads++
			return "family", nil
		}); err != nil {
			t.Fatal(err)
		}
		if _, err := kv.GetOrLoad(ctx, h.api.cache, feature.MembershipsKey("u1"), feature.MembershipsTTL, func() ([]feature.Membership, error) {
			memberLoads++
			return nil, nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	expect := func(when string, family, members int) {
		t.Helper()
		if familyLoads != family || memberLoads != members {
			t.Fatalf("%s: family loaded %d times, memberships %d; want %d and %d", when, familyLoads, memberLoads, family, members)
		}
	}
	read(ctx)
	expect("first read", 1, 1)

	rollback := errors.New("roll back")
	err := h.store.Atomically(ctx, func(ctx context.Context) error {
		h.api.base.FamilyChanged(ctx, "f1")
		h.api.base.MembershipsChanged(ctx, "u1")
		read(ctx)
		expect("in the transaction", 2, 1)
		return rollback
	})
	if !errors.Is(err, rollback) {
		t.Fatalf("Atomically = %v", err)
	}
	read(ctx)
	expect("after a rollback", 2, 1)

	err = h.store.Atomically(ctx, func(ctx context.Context) error {
		h.api.base.FamilyChanged(ctx, "f1")
		h.api.base.MembershipsChanged(ctx, "u1")
		read(ctx)
		expect("before the commit", 3, 1)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	read(ctx)
	expect("after the commit", 4, 2)
	read(ctx)
	expect("read again", 4, 2)
}

// TestAccessChecksSeeMembershipChanges: the access checks answer from the
// cached memberships and care recipients, yet a member removed or demoted
// on one server is refused or limited on the very next request to the
// other, and a care recipient or family deleted is gone there at once.
func TestAccessChecksSeeMembershipChanges(t *testing.T) {
	t.Parallel()
	forEachCache(t, func(t *testing.T, a, b *harness) {
		ann := a.newUser("ann@example.com")
		bo := a.newUser("bo@example.com")
		fam := a.createFamilyAs(ann, "The Lees")
		cr := a.request("POST", "/families/"+fam+"/care-recipients", ann.Token,
			map[string]any{"fullName": "Grandma Lee"}).expect(201).Map()["id"].(string)
		memberID := a.joinFamily(ann, fam, bo, "CAREGIVER")
		reads := []string{"/families/" + fam + "/care-recipients", "/care-recipients/" + cr,
			medicationsPath(cr), medicationsPath(cr) + "/schedule/today"}

		// b caches bo's memberships and the care recipient on these reads.
		for _, p := range reads {
			b.request("GET", p, bo.Token, nil).expect(200)
		}
		b.createMedicationAs(bo, cr, dailyMedication())

		a.request("PATCH", "/families/"+fam+"/members/"+memberID+"/role", ann.Token,
			map[string]any{"role": "VIEWER"}).expect(200)
		b.request("POST", medicationsPath(cr), bo.Token, dailyMedication()).errorEnvelope(403)
		b.request("PATCH", "/care-recipients/"+cr, bo.Token, map[string]any{"fullName": "Granny"}).errorEnvelope(403)
		for _, p := range reads {
			b.request("GET", p, bo.Token, nil).expect(200)
		}

		a.request("DELETE", "/families/"+fam+"/members/"+memberID, ann.Token, nil).expect(200)
		for _, p := range reads {
			b.request("GET", p, bo.Token, nil).errorEnvelope(403)
		}

		// A renamed care recipient reads as renamed, a deleted one is gone.
		b.request("GET", "/care-recipients/"+cr, ann.Token, nil).expect(200)
		a.request("PATCH", "/care-recipients/"+cr, ann.Token, map[string]any{"fullName": "Granny Lee"}).expect(200)
		if got := b.request("GET", "/care-recipients/"+cr, ann.Token, nil).expect(200).Map()["fullName"]; got != "Granny Lee" {
			t.Fatalf("care recipient after a rename on the other server: fullName %v", got)
		}
		a.request("DELETE", "/care-recipients/"+cr, ann.Token, nil).expect(200)
		for _, p := range reads[1:] {
			b.request("GET", p, ann.Token, nil).errorEnvelope(404)
		}

		b.request("GET", "/families/"+fam+"/care-recipients", ann.Token, nil).expect(200)
		a.request("DELETE", "/families/"+fam, ann.Token, nil).expect(200)
		b.request("GET", "/families/"+fam+"/care-recipients", ann.Token, nil).errorEnvelope(404)
	})
}

// TestAccessChecksConfirmRefusals: a membership made or raised where no
// invalidation reaches the cache (straight in the database) is honoured on
// the next request, although the cache still holds the old memberships.
func TestAccessChecksConfirmRefusals(t *testing.T) {
	t.Parallel()
	forEachCache(t, func(t *testing.T, a, b *harness) {
		ctx := context.Background()
		ann := a.newUser("ann@example.com")
		bo := a.newUser("bo@example.com")
		fam := a.createFamilyAs(ann, "The Lees")
		cr := a.request("POST", "/families/"+fam+"/care-recipients", ann.Token,
			map[string]any{"fullName": "Grandma Lee"}).expect(201).Map()["id"].(string)
		mine := a.createFamilyAs(bo, "The Parks")
		b.request("GET", "/families/"+mine+"/care-recipients", bo.Token, nil).expect(200)
		b.request("GET", medicationsPath(cr), bo.Token, nil).errorEnvelope(403)

		inv, err := a.store.CreateInvitation(ctx, store.NewInvitation{FamilyID: fam, Email: bo.Email, Role: care.RoleViewer,
			TokenHash: auth.HashToken("straight-in"), InvitedByID: ann.ID, TTL: time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := a.store.AcceptInvitation(ctx, auth.HashToken("straight-in"), bo.ID, bo.Email); err != nil {
			t.Fatal(err)
		}
		b.request("GET", medicationsPath(cr), bo.Token, nil).expect(200)
		b.request("POST", medicationsPath(cr), bo.Token, dailyMedication()).errorEnvelope(403)

		m, err := a.store.MemberOf(ctx, inv.FamilyID, bo.ID)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := a.store.ChangeMemberRole(ctx, fam, m.ID, care.RoleCaregiver); err != nil {
			t.Fatal(err)
		}
		b.createMedicationAs(bo, cr, dailyMedication())
	})
}

// TestFamilyListSeesEveryWrite: GET /families takes its care recipients
// from the cached family views, yet shows each family's own members and
// care recipients as the last write left them, on either server.
func TestFamilyListSeesEveryWrite(t *testing.T) {
	t.Parallel()
	forEachCache(t, func(t *testing.T, a, b *harness) {
		ann := a.newUser("ann@example.com")
		bo := a.newUser("bo@example.com")
		lees := a.createFamilyAs(ann, "The Lees")
		parks := a.createFamilyAs(bo, "The Parks")
		a.joinFamily(bo, parks, ann, "VIEWER")
		a.request("POST", "/families/"+lees+"/care-recipients", ann.Token, map[string]any{"fullName": "Grandma Lee"}).expect(201)
		list := func() map[string][3]any {
			out := map[string][3]any{}
			for _, f := range b.request("GET", "/families", ann.Token, nil).expect(200).List() {
				var names []string
				for _, cr := range f["careRecipients"].([]any) {
					names = append(names, cr.(map[string]any)["fullName"].(string))
				}
				out[f["name"].(string)] = [3]any{f["role"], f["memberCount"], strings.Join(names, ",")}
			}
			return out
		}
		want := func(what string, w map[string][3]any) {
			t.Helper()
			got := list()
			if len(got) != len(w) {
				t.Fatalf("%s: families %v, want %v", what, got, w)
			}
			for k, v := range w {
				if got[k] != v {
					t.Fatalf("%s: families %v, want %v", what, got, w)
				}
			}
		}
		want("at first", map[string][3]any{"The Lees": {"ADMIN", 1.0, "Grandma Lee"}, "The Parks": {"VIEWER", 2.0, ""}})
		a.request("POST", "/families/"+parks+"/care-recipients", bo.Token, map[string]any{"fullName": "Grandpa Park"}).expect(201)
		want("after a care recipient joins the Parks", map[string][3]any{"The Lees": {"ADMIN", 1.0, "Grandma Lee"},
			"The Parks": {"VIEWER", 2.0, "Grandpa Park"}})
		a.request("DELETE", "/families/"+lees, ann.Token, nil).expect(200)
		want("after the Lees are deleted", map[string][3]any{"The Parks": {"VIEWER", 2.0, "Grandpa Park"}})
	})
}
