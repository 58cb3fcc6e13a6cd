// Command redisbench counts the Redis commands CareCircle sends for each
// typical action, multiplies them into a user-day, and measures the API
// cache's hit ratio over simulated sessions.
//
//	redisbench actions -target http://127.0.0.1:4392 -outbox DIR -redis redis://127.0.0.1:6391/0
//	redisbench day     -target http://127.0.0.1:4392 -outbox DIR -redis redis://127.0.0.1:6391/0 -users 30 -rounds 3
//
// The server must use that Redis (REDIS_URL) with the default key prefix
// cc:, and TRUST_PROXY=true: each simulated user sends its own
// X-Forwarded-For, so the per-address rate limits (which stay on, as in
// production) apply per user. Use a Redis server nothing else talks to: the
// commands are read from its MONITOR feed and told apart by connection (the
// realtime broker names its connections carecircle-realtime) and by key.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "redisbench:", err)
		os.Exit(1)
	}
}

type options struct {
	target, prefix, outbox, redis, keyPrefix string
	settle, think                            time.Duration
	users, rounds                            int
	nodes                                    int
}

func run(ctx context.Context, args []string, out io.Writer) error {
	if len(args) == 0 {
		return errors.New("usage: redisbench actions|day [flags]")
	}
	var o options
	fs := flag.NewFlagSet(args[0], flag.ContinueOnError)
	fs.StringVar(&o.target, "target", "http://127.0.0.1:4000", "the server's base URL")
	fs.StringVar(&o.prefix, "prefix", "/api/v1", "API prefix")
	fs.StringVar(&o.outbox, "outbox", "./data/outbox", "the server's mail outbox, to read codes")
	fs.StringVar(&o.redis, "redis", "redis://127.0.0.1:6379/0", "the Redis the server uses (nothing else should)")
	fs.StringVar(&o.keyPrefix, "key-prefix", "cc:", "the server's REDIS_KEY_PREFIX")
	fs.DurationVar(&o.settle, "settle", 500*time.Millisecond, "wait after each action for the events it dispatches")
	fs.DurationVar(&o.think, "think", 250*time.Millisecond, "day: pause between a session's requests (the per-user limit is 5 a second)")
	fs.IntVar(&o.users, "users", 30, "day: simulated users (one family each)")
	fs.IntVar(&o.rounds, "rounds", 3, "day: sessions per user, each after the cache has expired")
	fs.IntVar(&o.nodes, "nodes", 2, "day: nodes whose idle traffic is added to the user-day figure")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	switch args[0] {
	case "actions":
		_, err := actions(ctx, o, out, true)
		return err
	case "day":
		return day(ctx, o, out)
	}
	return fmt.Errorf("unknown mode %q", args[0])
}

// cost is what one action sent to Redis.
type cost struct {
	api       map[string]int // wire commands from the API's kv layer, by name
	lua       int            // commands the API's scripts ran inside Redis
	realtime  map[string]int // wire commands from the realtime broker for events
	rtLua     int
	reads     int // cache reads
	fills     int // cache fills (a read that missed)
	inval     int // cache invalidations
	otherKeys map[string]int
}

func newCost() cost {
	return cost{api: map[string]int{}, realtime: map[string]int{}, otherKeys: map[string]int{}}
}

func (c cost) wire() int { return sum(c.api) + sum(c.realtime) }

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

func (c *cost) add(d cost, times float64) {
	for k, v := range d.api {
		c.api[k] += int(float64(v) * times)
	}
	for k, v := range d.realtime {
		c.realtime[k] += int(float64(v) * times)
	}
	c.lua += int(float64(d.lua) * times)
	c.rtLua += int(float64(d.rtLua) * times)
}

// tally sorts commands into a cost, classifying the API's by the key they
// touch.
func tally(cmds []command, keyPrefix string) cost {
	c := newCost()
	for _, cmd := range cmds {
		switch {
		case cmd.src == srcBackground:
			continue
		case cmd.src == srcRealtime && cmd.lua:
			c.rtLua++
		case cmd.src == srcRealtime:
			c.realtime[cmd.name]++
			// A cache invalidation broadcast on the realtime bus.
			if cmd.name == "PUBLISH" && len(cmd.args) >= 2 && strings.HasPrefix(cmd.args[1], "x") {
				c.inval++
			}
		case cmd.lua:
			c.lua++
		default:
			c.api[cmd.name]++
			kind := cacheKind(cmd, keyPrefix+"cache:")
			switch kind {
			case "read":
				c.reads++
			case "fill":
				c.fills++
			case "invalidate":
				c.inval++
			}
			c.otherKeys[area(cmd, keyPrefix)]++
		}
	}
	return c
}

// keyOf returns the first key a command names.
func keyOf(cmd command) string {
	switch cmd.name {
	case "EVALSHA", "EVAL":
		if len(cmd.args) >= 3 {
			return cmd.args[2]
		}
	default:
		if len(cmd.args) >= 1 {
			return cmd.args[0]
		}
	}
	return ""
}

// area names what a command is for, from its key: cache, rate, code,
// cooldown, lockout, lock.
func area(cmd command, keyPrefix string) string {
	k, ok := strings.CutPrefix(keyOf(cmd), keyPrefix)
	if !ok {
		return "other"
	}
	a, _, _ := strings.Cut(k, ":")
	return a
}

// cacheKind classifies a cache command by its shape (see
// internal/kv/cache_redis.go): a plain GET or the namespaced read script
// (one key, two arguments) reads; the compare-and-set scripts (one key,
// three or six arguments) fill after a miss; SET of a generation key bumps
// a namespace and the delete script (n keys, 2+2n arguments) drops keys.
func cacheKind(cmd command, cachePrefix string) string {
	key := keyOf(cmd)
	if !strings.HasPrefix(key, cachePrefix) {
		return ""
	}
	switch cmd.name {
	case "GET":
		return "read"
	case "SET":
		if strings.HasSuffix(key, ":gen") {
			return "invalidate"
		}
		return "set"
	case "EVALSHA", "EVAL":
		keys, err := strconv.Atoi(cmd.args[1])
		if err != nil {
			return ""
		}
		argc := len(cmd.args) - 2 - keys
		switch {
		case keys == 1 && argc == 2 && strings.HasSuffix(key, ":gen"):
			return "read"
		case keys == 1 && (argc == 3 || argc == 6):
			return "fill"
		case argc == 2+2*keys:
			return "invalidate"
		}
	}
	return ""
}

// format prints a command count as "2 EVALSHA + 1 GET".
func format(m map[string]int) string {
	if len(m) == 0 {
		return "0"
	}
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%d %s", m[k], k))
	}
	return strings.Join(parts, " + ")
}

func formatAreas(m map[string]int) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
	}
	return strings.Join(parts, ", ")
}
