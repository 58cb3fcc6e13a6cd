package main

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"strings"
	"sync"

	"github.com/redis/go-redis/v9"
)

// source tells who sent a command: the API's kv layer (cache, rate limits,
// codes, lockouts, locks) or the realtime broker (Centrifuge, which names
// its connections), and whether it is the broker's periodic node
// announcement rather than an event.
type source string

const (
	srcAPI        source = "api"
	srcRealtime   source = "realtime"
	srcBackground source = "realtime-background"
)

// command is one line of MONITOR: a command a client sent, or one a Lua
// script it ran called (lua).
type command struct {
	src  source
	name string   // upper case
	args []string // after the name
	lua  bool
}

// monitor reads a Redis server's MONITOR feed and keeps every command sent
// by CareCircle; the benchmark's own connections are left out.
type monitor struct {
	rdb   *redis.Client
	conn  net.Conn
	mu    sync.Mutex
	names map[string]string // client address → client name
	own   map[string]bool   // the benchmark's own connections
	cmds  []command
	last  source // who sent the last wire command, for its script's calls
	done  chan struct{}
}

func startMonitor(ctx context.Context, redisURL string) (*monitor, error) {
	opts, err := redis.ParseURL(redisURL)
	if err != nil {
		return nil, err
	}
	opts.PoolSize = 1
	m := &monitor{rdb: redis.NewClient(opts), names: map[string]string{}, own: map[string]bool{}, done: make(chan struct{})}
	var d net.Dialer
	m.conn, err = d.DialContext(ctx, "tcp", opts.Addr)
	if err != nil {
		return nil, err
	}
	if _, err := m.conn.Write([]byte("MONITOR\r\n")); err != nil {
		return nil, err
	}
	r := bufio.NewReaderSize(m.conn, 1<<20)
	if line, err := r.ReadString('\n'); err != nil || !strings.HasPrefix(line, "+OK") {
		return nil, fmt.Errorf("MONITOR: %q %v", line, err)
	}
	m.own[m.conn.LocalAddr().String()] = true
	if err := m.refresh(ctx); err != nil {
		return nil, err
	}
	go m.read(r)
	return m, nil
}

// refresh reads CLIENT LIST, to name the connections seen in the feed. The
// benchmark's own client runs it, so its address is known afterwards.
func (m *monitor) refresh(ctx context.Context) error {
	id, err := m.rdb.ClientID(ctx).Result()
	if err != nil {
		return err
	}
	list, err := m.rdb.ClientList(ctx).Result()
	if err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for line := range strings.Lines(list) {
		f := map[string]string{}
		for kv := range strings.FieldsSeq(line) {
			k, v, _ := strings.Cut(kv, "=")
			f[k] = v
		}
		m.names[f["addr"]] = f["name"]
		if f["id"] == fmt.Sprint(id) {
			m.own[f["addr"]] = true
		}
	}
	return nil
}

func (m *monitor) read(r *bufio.Reader) {
	defer close(m.done)
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		m.add(strings.TrimRight(line, "\r\n"))
	}
}

// add parses one feed line: +<time> [<db> <addr>|lua] "cmd" "arg"...
func (m *monitor) add(line string) {
	open := strings.IndexByte(line, '[')
	end := strings.IndexByte(line, ']')
	if !strings.HasPrefix(line, "+") || open < 0 || end < open {
		return
	}
	_, who, _ := strings.Cut(line[open+1:end], " ")
	words := splitQuoted(line[end+1:])
	if len(words) == 0 {
		return
	}
	c := command{name: strings.ToUpper(words[0]), args: words[1:], lua: who == "lua"}
	m.mu.Lock()
	defer m.mu.Unlock()
	if c.lua {
		if m.last == "" {
			return // a script run by the benchmark itself
		}
		c.src = m.last
	} else {
		if m.own[who] {
			m.last = ""
			return
		}
		name, known := m.names[who]
		if !known {
			// A connection opened after the last refresh: look it up later.
			m.mu.Unlock()
			_ = m.refresh(context.Background())
			m.mu.Lock()
			name = m.names[who]
		}
		c.src = srcAPI
		if name == "carecircle-realtime" {
			c.src = srcRealtime
			if isBackground(c) {
				c.src = srcBackground
			}
		}
		m.last = c.src
	}
	m.cmds = append(m.cmds, c)
}

// isBackground reports the broker's own periodic traffic: its node
// announcement every few seconds on the control channel, and keep-alive
// pings.
func isBackground(c command) bool {
	switch c.name {
	case "PING":
		return true
	case "PUBLISH", "SPUBLISH":
		return len(c.args) > 0 && strings.HasSuffix(c.args[0], ".control")
	}
	return false
}

// take returns the commands seen since the last take.
func (m *monitor) take() []command {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := m.cmds
	m.cmds = nil
	return out
}

func (m *monitor) close() {
	_ = m.conn.Close()
	<-m.done
	_ = m.rdb.Close()
}

// splitQuoted splits MONITOR's arguments: each in double quotes, with
// backslash escapes (\" \\ \n \xNN ...), which are kept as they are except
// for the quote and the backslash.
func splitQuoted(s string) []string {
	var out []string
	for i := 0; i < len(s); i++ {
		if s[i] != '"' {
			continue
		}
		var b strings.Builder
		for i++; i < len(s) && s[i] != '"'; i++ {
			if s[i] == '\\' && i+1 < len(s) {
				i++
				if s[i] != '"' && s[i] != '\\' {
					b.WriteByte('\\')
				}
			}
			b.WriteByte(s[i])
		}
		out = append(out, b.String())
	}
	return out
}
