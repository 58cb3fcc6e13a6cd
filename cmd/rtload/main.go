// Command rtload measures CareCircle's realtime fan-out.
//
//	rtload conns  -url http://127.0.0.1:4000 -data-dir ./data -jwt-secret S -n 20000 -pid PID
//	rtload fanout -families 100 -rate 1000 -duration 20s [-redis redis://… -nodes 2]
//	rtload idle   -redis redis://… -conns 1000 -duration 60s
//
// conns seeds families of ten members into a running server's database,
// holds one connection per member (each subscribed to its family channel)
// and reports the server's resident memory. fanout runs one or two nodes in
// this process, connects every member over WebSocket and publishes events
// through the realtime consumer at a fixed rate, reporting the delivery
// latency percentiles. idle counts the Redis commands per minute of a node
// that holds connections and publishes nothing.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"runtime/trace"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/carecircle/carecircle/internal/auth"
	"github.com/carecircle/carecircle/internal/care"
	"github.com/carecircle/carecircle/internal/clock"
	"github.com/carecircle/carecircle/internal/events"
	"github.com/carecircle/carecircle/internal/kv"
	"github.com/carecircle/carecircle/internal/realtime"
	"github.com/carecircle/carecircle/internal/realtime/rtclient"
	"github.com/carecircle/carecircle/internal/store"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "rtload:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, out io.Writer) error {
	if len(args) == 0 {
		return errors.New("usage: rtload conns|fanout|idle [flags]")
	}
	switch args[0] {
	case "conns":
		return conns(ctx, args[1:], out)
	case "fanout":
		return fanout(ctx, args[1:], out)
	case "idle":
		return idle(ctx, args[1:], out)
	}
	return fmt.Errorf("unknown mode %q", args[0])
}

// member is a seeded user who may connect.
type member struct {
	userID, familyID, token string
}

// seed creates families of size members, each with a session, and signs
// their access tokens.
func seed(ctx context.Context, st *store.Store, tokens *auth.Tokens, n, size int) ([]member, error) {
	run := strconv.FormatInt(time.Now().UnixNano(), 36)
	out := make([]member, 0, n)
	for f := 0; len(out) < n; f++ {
		// Store.CreateUser writes on its own, outside any transaction (on
		// SQLite, inside one it would wait for the single writer forever), so
		// a family's accounts are created first and the rest in one
		// transaction.
		var users []*care.User
		for i := 0; i < size && len(out)+i < n; i++ {
			email := fmt.Sprintf("rt-%s-%d-%d@load.test", run, f, i)
			u, err := st.CreateUser(ctx, store.NewUser{Email: email, PasswordHash: "x", FullName: "Load " + strconv.Itoa(i), Timezone: "UTC", Status: care.UserPending})
			if err != nil {
				return nil, fmt.Errorf("seed: %w", err)
			}
			users = append(users, u)
		}
		err := st.Atomically(ctx, func(ctx context.Context) error {
			var famID, adminID string
			for i, u := range users {
				email := u.Email
				if _, err := st.ActivateUser(ctx, u.ID); err != nil {
					return err
				}
				if i == 0 {
					fam, _, err := st.CreateFamily(ctx, "Load "+strconv.Itoa(f), u.ID, nil)
					if err != nil {
						return err
					}
					famID, adminID = fam.ID, u.ID
				} else {
					tok := auth.HashToken(auth.NewOpaqueToken())
					if _, err := st.CreateInvitation(ctx, store.NewInvitation{FamilyID: famID, Email: email, Role: care.RoleCaregiver, InvitedByID: adminID, TokenHash: tok, TTL: care.InvitationTTL}); err != nil {
						return err
					}
					if _, err := st.AcceptInvitation(ctx, tok, u.ID, email); err != nil {
						return err
					}
				}
				sess, err := st.CreateSession(ctx, store.NewSession{UserID: u.ID, TTL: 24 * time.Hour, RefreshHash: auth.HashToken(auth.NewOpaqueToken())})
				if err != nil {
					return err
				}
				tok, err := tokens.Issue(u.ID, email, sess.ID)
				if err != nil {
					return err
				}
				out = append(out, member{userID: u.ID, familyID: famID, token: tok})
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("seed: %w", err)
		}
	}
	return out, nil
}

// dialAll connects every member to endpoint and subscribes it to its
// family channel, with at most par handshakes in flight. Each client can
// hold buffer received messages unread; the buffer is allocated up front
// (about 100 bytes a message), so a client that only holds its connection
// gets a small one.
func dialAll(ctx context.Context, endpoint string, ms []member, par, buffer int) ([]*rtclient.Client, error) {
	clients := make([]*rtclient.Client, len(ms))
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
		sem   = make(chan struct{}, par)
	)
	for i, m := range ms {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			c := rtclient.New(endpoint, rtclient.Options{Token: m.token, Buffer: buffer, Timeout: 20 * time.Second})
			cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
			defer cancel()
			err := c.Connect(cctx)
			if err == nil {
				err = c.Subscribe(cctx, "family:"+m.familyID)
			}
			if err != nil {
				mu.Lock()
				if first == nil {
					first = fmt.Errorf("member %d: %w", i, err)
				}
				mu.Unlock()
				return
			}
			clients[i] = c
		})
	}
	wg.Wait()
	return clients, first
}

// rss reads a process's resident set size in bytes.
func rss(pid int) (int64, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, err
	}
	for line := range strings.Lines(string(b)) {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb << 10, err
		}
	}
	return 0, errors.New("no VmRSS")
}

func conns(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("conns", flag.ContinueOnError)
	base := fs.String("url", "http://127.0.0.1:4000", "the server's base URL")
	dataDir := fs.String("data-dir", "./data", "the server's DATA_DIR (SQLite)")
	dbURL := fs.String("database-url", "", "the server's DATABASE_URL (PostgreSQL), instead of -data-dir")
	secret := fs.String("jwt-secret", "", "the server's JWT_SECRET")
	n := fs.Int("n", 1000, "connections to hold")
	pid := fs.Int("pid", 0, "the server's process id, to read its memory")
	hold := fs.Duration("hold", 10*time.Second, "how long to hold the connections before measuring")
	par := fs.Int("par", 200, "handshakes in flight")
	redisURL := fs.String("redis", "", "the server's Redis (nothing else may use it): count the commands it receives while the connections are held")
	if err := fs.Parse(args); err != nil {
		return err
	}
	st, err := store.Open(ctx, store.Options{DatabaseURL: *dbURL, SQLitePath: filepath.Join(*dataDir, "carecircle.db"), Clock: clock.Real{}})
	if err != nil {
		return err
	}
	defer st.Close()
	tokens := auth.NewTokens([]byte(*secret), time.Hour, time.Now)
	start := time.Now()
	ms, err := seed(ctx, st, tokens, *n, 10)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "seeded %d members in %v\n", len(ms), time.Since(start).Round(time.Millisecond))
	before, _ := rss(*pid)
	start = time.Now()
	clients, err := dialAll(ctx, rtclient.URL(*base), ms, *par, 16)
	defer closeAll(clients)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "connected and subscribed %d clients in %v\n", len(clients), time.Since(start).Round(time.Millisecond))
	var counter *commandCounter
	if *redisURL != "" {
		// Let connection-time traffic settle first.
		time.Sleep(2 * time.Second)
		if counter, err = newCommandCounter(ctx, *redisURL); err != nil {
			return err
		}
		defer counter.close()
	}
	select {
	case <-time.After(*hold):
	case <-ctx.Done():
		return ctx.Err()
	}
	if counter != nil {
		byName, total, err := counter.since(ctx)
		if err != nil {
			return err
		}
		perMin := float64(total) / hold.Minutes()
		fmt.Fprintf(out, "Redis over %v with %d idle connections: %d commands (%s), %.2f per minute", *hold, len(clients), total, byName, perMin)
		if len(clients) > 0 {
			fmt.Fprintf(out, ", %.3f per connection-minute", perMin/float64(len(clients)))
		}
		fmt.Fprintln(out)
	}
	if *pid == 0 {
		return nil
	}
	after, err := rss(*pid)
	if err != nil {
		return fmt.Errorf("server memory: %w", err)
	}
	fmt.Fprintf(out, "server RSS: %.1f MiB before, %.1f MiB with %d connections (%.1f KiB per connection)\n",
		mib(before), mib(after), len(clients), float64(after-before)/1024/float64(len(clients)))
	return nil
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }

func closeAll(cs []*rtclient.Client) {
	for _, c := range cs {
		if c != nil {
			c.Close()
		}
	}
}

// cluster is one or two nodes on a temporary SQLite store, in this process.
type cluster struct {
	st        *store.Store
	tokens    *auth.Tokens
	nodes     []*realtime.Node
	endpoints []string
	close     func()
}

func newCluster(ctx context.Context, redisURL, prefix string, nodes int) (*cluster, error) {
	dir, err := os.MkdirTemp("", "rtload-")
	if err != nil {
		return nil, err
	}
	st, err := store.Open(ctx, store.Options{SQLitePath: filepath.Join(dir, "carecircle.db"), Clock: clock.Real{}})
	if err != nil {
		return nil, err
	}
	if _, err := st.Migrate(ctx); err != nil {
		return nil, err
	}
	c := &cluster{st: st, tokens: auth.NewTokens([]byte("rtload-secret-rtload-secret-rtload"), time.Hour, time.Now)}
	var closers []func()
	c.close = func() {
		for _, f := range slices.Backward(closers) {
			f()
		}
		st.Close()
		os.RemoveAll(dir)
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	var ropts *redis.Options
	if redisURL != "" {
		if ropts, err = kv.RedisOptions(redisURL, "", "", "", false); err != nil {
			return nil, err
		}
	}
	for i := range nodes {
		n, err := realtime.New(realtime.Options{Name: "rtload-" + strconv.Itoa(i), Redis: ropts, RedisPrefix: prefix, MaxConnectionsPerUser: 10},
			realtime.Deps{Store: st, Tokens: c.tokens, Clock: clock.Real{}, Logger: logger})
		if err != nil {
			c.close()
			return nil, err
		}
		if err := n.Run(); err != nil {
			c.close()
			return nil, err
		}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			c.close()
			return nil, err
		}
		srv := &http.Server{Handler: n.Handler(), ReadHeaderTimeout: 10 * time.Second}
		go func() { _ = srv.Serve(ln) }()
		closers = append(closers, func() {
			sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_ = n.Shutdown(sctx)
			_ = srv.Close()
		})
		c.nodes = append(c.nodes, n)
		c.endpoints = append(c.endpoints, rtclient.URL("http://"+ln.Addr().String()))
	}
	return c, nil
}

func fanout(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("fanout", flag.ContinueOnError)
	families := fs.Int("families", 100, "families of ten members, all connected")
	rate := fs.Int("rate", 1000, "events per second, spread over the families")
	duration := fs.Duration("duration", 20*time.Second, "how long to publish")
	redisURL := fs.String("redis", "", "Redis URL: nodes share a Redis broker (else one in-memory node)")
	nodes := fs.Int("nodes", 1, "nodes; with 2, clients connect to the first and events are published on the second")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the publishing phase to this file")
	traceFile := fs.String("trace", "", "write an execution trace of the publishing phase to this file")
	memProfile := fs.String("memprofile", "", "write a heap profile taken when publishing ends to this file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *nodes > 1 && *redisURL == "" {
		return errors.New("-nodes 2 needs -redis")
	}
	prefix := "rtload-" + strconv.FormatInt(time.Now().UnixNano(), 36) + ":"
	c, err := newCluster(ctx, *redisURL, prefix, *nodes)
	if err != nil {
		return err
	}
	defer c.close()
	defer cleanRedis(*redisURL, prefix)
	ms, err := seed(ctx, c.st, c.tokens, *families*10, 10)
	if err != nil {
		return err
	}
	// A member hears rate/families events a second and its reader below
	// drains them as they come, so a small buffer absorbs any pause. The
	// buffers are allocated up front and hold pointers: at 1,024 messages
	// each they made 120 MiB of this process's 170 MiB live heap, which
	// every garbage collection marks on the cores the node delivers on.
	clients, err := dialAll(ctx, c.endpoints[0], ms, 100, fanoutBuffer(*rate, *families))
	defer closeAll(clients)
	if err != nil {
		return err
	}
	// Each client records the latency of every message it receives.
	var (
		mu        sync.Mutex
		latencies []time.Duration // from publishing
		lags      []time.Duration // from the event's place in the schedule
		received  atomic.Int64
		rwg       sync.WaitGroup
	)
	rctx, stopReaders := context.WithCancel(ctx)
	defer stopReaders()
	for _, cl := range clients {
		rwg.Go(func() {
			var local, localLags []time.Duration
			defer func() {
				mu.Lock()
				latencies, lags = append(latencies, local...), append(lags, localLags...)
				mu.Unlock()
			}()
			for {
				select {
				case r := <-cl.Messages():
					sent, err1 := time.Parse(time.RFC3339Nano, field(r.Data, "sentAt"))
					due, err2 := time.Parse(time.RFC3339Nano, field(r.Data, "dueAt"))
					if err1 == nil && err2 == nil && r.Channel != "" {
						local = append(local, r.At.Sub(sent))
						localLags = append(localLags, r.At.Sub(due))
						received.Add(1)
					}
				case <-rctx.Done():
					return
				}
			}
		})
	}
	famIDs := make([]string, 0, *families)
	for i := 0; i < len(ms); i += 10 {
		famIDs = append(famIDs, ms[i].familyID)
	}
	pub := c.nodes[len(c.nodes)-1].Consumer()
	// Every millisecond, publish the events due by then: a ticker alone
	// drops ticks when the publisher is late, and the rate would fall short.
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	stopProfiles, err := startProfiles(*cpuProfile, *traceFile)
	if err != nil {
		return err
	}
	defer stopProfiles()
	ran0, waited0, schedOK := schedStat()
	start := time.Now()
	deadline := start.Add(*duration)
	sent := 0
	for now := start; now.Before(deadline); now = time.Now() {
		select {
		case <-tick.C:
		case <-ctx.Done():
			return ctx.Err()
		}
		due := int(time.Since(start).Seconds() * float64(*rate))
		for ; sent < due; sent++ {
			// Latency runs from the moment of publishing (sentAt) and,
			// apart, from the event's place in the schedule (dueAt): a
			// process that stalls while the publisher waits (for Redis,
			// say) publishes late, and only the second figure shows that.
			dueAt := start.Add(time.Duration(sent) * time.Second / time.Duration(*rate))
			e, err := events.NewEvent(clock.Real{}, events.TimelineEntryCreated, map[string]string{
				"sentAt": time.Now().UTC().Format(time.RFC3339Nano),
				"dueAt":  dueAt.UTC().Format(time.RFC3339Nano),
			})
			if err != nil {
				return err
			}
			e.FamilyID = famIDs[sent%len(famIDs)]
			if err := pub.Handle(ctx, e); err != nil {
				return err
			}
		}
	}
	ran1, waited1, _ := schedStat()
	stopProfiles()
	if *memProfile != "" {
		if err := writeHeapProfile(*memProfile); err != nil {
			return err
		}
	}
	want := int64(sent * 10)
	for end := time.Now().Add(5 * time.Second); received.Load() < want && time.Now().Before(end); {
		time.Sleep(50 * time.Millisecond)
	}
	stopReaders()
	rwg.Wait()
	slices.Sort(latencies)
	slices.Sort(lags)
	pct := func(p float64) time.Duration { return percentile(latencies, p) }
	mode := "one node, in-memory broker"
	if *redisURL != "" {
		mode = fmt.Sprintf("%d node(s), Redis broker", *nodes)
	}
	fmt.Fprintf(out, "%s: %d events in %v (%.0f/s) to %d families of 10; %d of %d deliveries; latency p50 %v p99 %v max %v; from schedule p50 %v p99 %v max %v\n",
		mode, sent, duration.Round(time.Second), float64(sent)/duration.Seconds(), len(famIDs), len(latencies), want, pct(0.50), pct(0.99), pct(1),
		percentile(lags, 0.50), percentile(lags, 0.99), percentile(lags, 1))
	if schedOK {
		// Nodes and clients share this machine's cores with whatever else
		// runs on it: time spent waiting for a core shows up as latency.
		fmt.Fprintf(out, "while publishing, this process ran %v on a CPU and its threads waited %v for one\n",
			(ran1 - ran0).Round(10*time.Millisecond), (waited1 - waited0).Round(10*time.Millisecond))
	}
	return nil
}

// schedStat sums, over this process's threads, the time they ran on a CPU
// and the time they were ready to run but waited for one (Linux
// /proc/self/task/*/schedstat); ok is false where that is not available.
func schedStat() (ran, waited time.Duration, ok bool) {
	paths, _ := filepath.Glob("/proc/self/task/*/schedstat")
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			continue // the thread has exited
		}
		f := strings.Fields(string(b))
		if len(f) < 2 {
			continue
		}
		r, err1 := strconv.ParseInt(f[0], 10, 64)
		w, err2 := strconv.ParseInt(f[1], 10, 64)
		if err1 != nil || err2 != nil {
			continue
		}
		ran, waited, ok = ran+time.Duration(r), waited+time.Duration(w), true
	}
	return ran, waited, ok
}

// fanoutBuffer is how many messages each fanout client may hold unread:
// two seconds of what its family hears, at least 64.
func fanoutBuffer(rate, families int) int {
	return max(64, 2*rate/max(families, 1))
}

// percentile reads the p-th percentile (0–1) of sorted durations.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[min(len(sorted)-1, int(p*float64(len(sorted))))].Round(10 * time.Microsecond)
}

// startProfiles starts a CPU profile and an execution trace into the files
// named (either may be empty); the returned func stops them and may be
// called more than once.
func startProfiles(cpu, trc string) (func(), error) {
	var closers []func()
	stop := func() {
		for _, f := range slices.Backward(closers) {
			f()
		}
		closers = nil
	}
	if cpu != "" {
		f, err := os.Create(cpu)
		if err != nil {
			return nil, err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			f.Close()
			return nil, err
		}
		closers = append(closers, func() { pprof.StopCPUProfile(); f.Close() })
	}
	if trc != "" {
		f, err := os.Create(trc)
		if err != nil {
			stop()
			return nil, err
		}
		if err := trace.Start(f); err != nil {
			f.Close()
			stop()
			return nil, err
		}
		closers = append(closers, func() { trace.Stop(); f.Close() })
	}
	return stop, nil
}

// writeHeapProfile writes a profile of the heap live now.
func writeHeapProfile(name string) error {
	f, err := os.Create(name)
	if err != nil {
		return err
	}
	runtime.GC()
	if err := pprof.WriteHeapProfile(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// field reads one of the times the load events carry (sentAt, dueAt).
func field(data []byte, name string) string {
	_, rest, ok := strings.Cut(string(data), `"`+name+`":"`)
	if !ok {
		return ""
	}
	v, _, _ := strings.Cut(rest, `"`)
	return v
}

func idle(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("idle", flag.ContinueOnError)
	redisURL := fs.String("redis", "redis://127.0.0.1:6379/0", "Redis URL (use a server nothing else talks to)")
	n := fs.Int("conns", 0, "idle connections the node holds, each subscribed to its family channel")
	duration := fs.Duration("duration", time.Minute, "how long to count")
	if err := fs.Parse(args); err != nil {
		return err
	}
	prefix := "rtload-" + strconv.FormatInt(time.Now().UnixNano(), 36) + ":"
	c, err := newCluster(ctx, *redisURL, prefix, 1)
	if err != nil {
		return err
	}
	defer c.close()
	defer cleanRedis(*redisURL, prefix)
	if *n > 0 {
		ms, err := seed(ctx, c.st, c.tokens, *n, 10)
		if err != nil {
			return err
		}
		clients, err := dialAll(ctx, c.endpoints[0], ms, 100, 16)
		defer closeAll(clients)
		if err != nil {
			return err
		}
	}
	opts, err := redis.ParseURL(*redisURL)
	if err != nil {
		return err
	}
	rdb := redis.NewClient(opts)
	defer rdb.Close()
	count := func() (int64, error) {
		info, err := rdb.Info(ctx, "stats").Result()
		if err != nil {
			return 0, err
		}
		for line := range strings.Lines(info) {
			if v, ok := strings.CutPrefix(strings.TrimSpace(line), "total_commands_processed:"); ok {
				return strconv.ParseInt(v, 10, 64)
			}
		}
		return 0, errors.New("no total_commands_processed")
	}
	// Let connection-time traffic settle first.
	time.Sleep(2 * time.Second)
	before, err := count()
	if err != nil {
		return err
	}
	select {
	case <-time.After(*duration):
	case <-ctx.Done():
		return ctx.Err()
	}
	after, err := count()
	if err != nil {
		return err
	}
	// The INFO call itself counts once.
	perMin := float64(after-before-1) / duration.Minutes()
	fmt.Fprintf(out, "idle node with %d connections: %.0f Redis commands per minute\n", *n, perMin)
	return nil
}

func cleanRedis(url, prefix string) {
	if url == "" {
		return
	}
	opts, err := redis.ParseURL(url)
	if err != nil {
		return
	}
	rdb := redis.NewClient(opts)
	defer rdb.Close()
	ctx := context.Background()
	if keys, err := rdb.Keys(ctx, prefix+"*").Result(); err == nil && len(keys) > 0 {
		rdb.Del(ctx, keys...)
	}
}

// commandCounter counts what a Redis server executes from its INFO
// commandstats (commands scripts call included), leaving out its own INFO.
type commandCounter struct {
	rdb   *redis.Client
	start map[string]int64
}

func newCommandCounter(ctx context.Context, url string) (*commandCounter, error) {
	opts, err := redis.ParseURL(url)
	if err != nil {
		return nil, err
	}
	c := &commandCounter{rdb: redis.NewClient(opts)}
	if c.start, err = kv.CommandStats(ctx, c.rdb); err != nil {
		c.rdb.Close()
		return nil, err
	}
	return c, nil
}

// since returns the commands executed since the counter started, by name
// ("2 evalsha, 1 publish") and in all.
func (c *commandCounter) since(ctx context.Context) (string, int64, error) {
	now, err := kv.CommandStats(ctx, c.rdb)
	if err != nil {
		return "", 0, err
	}
	now["info"]-- // the call that read these
	var total int64
	var parts []string
	for _, name := range slices.Sorted(maps.Keys(now)) {
		if d := now[name] - c.start[name]; d > 0 {
			total += d
			parts = append(parts, fmt.Sprintf("%d %s", d, name))
		}
	}
	return strings.Join(parts, ", "), total, nil
}

func (c *commandCounter) close() { c.rdb.Close() }
