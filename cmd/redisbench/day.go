package main

import (
	"context"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// A typical family member's day: six app opens, each a session measured by
// hitRatio (the access token, 15 minutes, is refreshed; the dashboard —
// GET /auth/me and the family's care recipients — loads, then today's
// medication schedule, then the dashboard and care recipients again; one
// open in three logs a dose, so two doses a day), six realtime reconnects,
// a new sign-in every fifth day and a mistyped password every twentieth.
const opensPerDay = 6

// day measures the cost of each action and of cold sessions, multiplies
// them into a user-day and 10,000 users, and reports the cache's hit ratio.
func day(ctx context.Context, o options, out io.Writer) error {
	costs, err := actions(ctx, o, io.Discard, false)
	if err != nil {
		return err
	}
	session, err := hitRatio(ctx, o, out)
	if err != nil {
		return err
	}
	idle, err := idlePerMinute(ctx, o)
	if err != nil {
		return err
	}
	rows := []struct {
		what   string
		perDay float64
		each   float64
	}{
		{"app open (session, measured)", opensPerDay, session},
		{"realtime connect + subscribe", opensPerDay, float64(costs["realtime connect + subscribe"].wire())},
		{"login", 0.2, float64(costs["login"].wire())},
		{"failed login", 0.05, float64(costs["failed login"].wire())},
	}
	fmt.Fprintln(out, "\n| part of the day | times | wire commands each | per user-day |")
	fmt.Fprintln(out, "|---|---|---|---|")
	perUser := 0.0
	for _, r := range rows {
		perUser += r.perDay * r.each
		fmt.Fprintf(out, "| %s | %g | %.1f | %.1f |\n", r.what, r.perDay, r.each, r.perDay*r.each)
	}
	nodesDay := idle * 60 * 24 * float64(o.nodes)
	fmt.Fprintf(out, "\nper user-day: %.0f wire commands; 10,000 users: %.0f per day (%.1f per second on average)\n", perUser, perUser*10000, perUser*10000/86400)
	fmt.Fprintf(out, "idle node: %.0f commands per minute; %d nodes: %.0f per day; total with 10,000 users: %.0f per day, %.1f million per 30-day month\n",
		idle, o.nodes, nodesDay, perUser*10000+nodesDay, (perUser*10000+nodesDay)*30/1e6)
	return nil
}

// idlePerMinute counts the commands the server's nodes send in 20 seconds
// while nobody does anything.
func idlePerMinute(ctx context.Context, o options) (float64, error) {
	mon, err := startMonitor(ctx, o.redis)
	if err != nil {
		return 0, err
	}
	defer mon.close()
	const window = 20 * time.Second
	time.Sleep(window)
	n := 0
	for _, c := range mon.take() {
		if !c.lua {
			n++
		}
	}
	return float64(n) * float64(time.Minute) / float64(window), nil
}

// hitRatio runs o.rounds sessions for each of o.users users. Before each
// round every cache entry in Redis is dropped, as if hours had passed since
// the last open (entries live 5 minutes), so each session starts cold;
// within a session the reads share the entries they fill. A server whose
// cache is in its nodes' memory (kv.NodeCache) sends Redis no read, cold
// or warm, so there is nothing to drop.
// It returns the wire commands per session.
func hitRatio(ctx context.Context, o options, out io.Writer) (float64, error) {
	users := make([]*user, o.users)
	for i := range users {
		u := newUser(o)
		for _, f := range []func(context.Context) error{u.register, u.verify, u.createFamily, u.createCareRecipient, u.createMedication} {
			if err := f(ctx); err != nil {
				return 0, fmt.Errorf("set up user %d: %w", i, err)
			}
		}
		users[i] = u
	}
	opts, err := redis.ParseURL(o.redis)
	if err != nil {
		return 0, err
	}
	rdb := redis.NewClient(opts)
	defer rdb.Close()
	mon, err := startMonitor(ctx, o.redis)
	if err != nil {
		return 0, err
	}
	defer mon.close()
	total := newCost()
	var hitLatency, missLatency []time.Duration
	for r := range o.rounds {
		if err := dropCache(ctx, rdb, o.keyPrefix+"cache:"); err != nil {
			return 0, err
		}
		time.Sleep(o.settle)
		mon.take()
		for _, u := range users {
			session := []func(context.Context) error{u.refreshTokens, u.me, u.listCareRecipients, u.schedule, u.me, u.listCareRecipients}
			if r%3 == 0 {
				session = append(session, func(ctx context.Context) error { return u.logDose(ctx, r/3) })
			}
			for i, f := range session {
				time.Sleep(o.think)
				start := time.Now()
				if err := f(ctx); err != nil {
					return 0, err
				}
				took := time.Since(start)
				switch i {
				case 1:
					missLatency = append(missLatency, took)
				case 4:
					hitLatency = append(hitLatency, took)
				}
			}
		}
		time.Sleep(o.settle)
		c := tally(mon.take(), o.keyPrefix)
		total.reads += c.reads
		total.fills += c.fills
		total.inval += c.inval
		total.add(c, 1)
	}
	if total.reads == 0 {
		// The cache is in each node's memory: no read reaches Redis, cold
		// or warm.
		fmt.Fprintf(out, "\nsessions: %d users x %d sessions; no cache read reached Redis\n", o.users, o.rounds)
	} else {
		fmt.Fprintf(out, "\nsessions: %d users x %d cold sessions; cache reads %d, fills after a miss %d, hit ratio %.1f%%\n",
			o.users, o.rounds, total.reads, total.fills, 100*float64(total.reads-total.fills)/float64(max(total.reads, 1)))
	}
	fmt.Fprintf(out, "GET /auth/me p50: first of a session (cache miss) %v, again in the session (hit) %v\n",
		median(missLatency).Round(10*time.Microsecond), median(hitLatency).Round(10*time.Microsecond))
	sessions := float64(o.users * o.rounds)
	fmt.Fprintf(out, "per session: %s wire commands from the API (+%.1f script calls), %s from the realtime broker\n",
		perSession(total.api, sessions), float64(total.lua)/sessions, perSession(total.realtime, sessions))
	return float64(total.wire()) / sessions, nil
}

func perSession(m map[string]int, n float64) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%.2f %s", float64(m[k])/n, k))
	}
	if len(parts) == 0 {
		return "0"
	}
	return strings.Join(parts, " + ")
}

func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

// dropCache deletes every cache entry and generation under prefix, as their
// TTLs would after a while.
func dropCache(ctx context.Context, rdb *redis.Client, prefix string) error {
	iter := rdb.Scan(ctx, 0, prefix+"*", 1000).Iterator()
	var keys []string
	for iter.Next(ctx) {
		keys = append(keys, iter.Val())
	}
	if err := iter.Err(); err != nil {
		return err
	}
	if len(keys) == 0 {
		return nil
	}
	if !strings.HasPrefix(keys[0], prefix) {
		return fmt.Errorf("unexpected key %q", keys[0])
	}
	return rdb.Del(ctx, keys...).Err()
}
