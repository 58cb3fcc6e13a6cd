// Package loadmix drives a realistic mix of CareCircle requests across
// several API nodes, the way families use it (after the original system's
// own load script): sign in, read /auth/me and the families, the care
// recipients, the medications and today's schedule, log a dose, read the
// timeline, the notifications, the appointments and the emergency page, and
// now and then write a journal entry or raise and resolve an emergency.
//
// Every request is recorded with its node, start, latency and status, so a
// caller can tell what happened at any moment of a run (such as while a
// part of the deployment was away).
package loadmix

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// User is a member the mix acts as: signed in with Email and Password, in
// the family FamilyID, caring for CareRecipientID. Doses are logged against
// MedicationID, which must be an as-needed medication (any time within a day
// is one of its dose times).
type User struct {
	Email, Password string
	FamilyID        string
	CareRecipientID string
	MedicationID    string
}

// Options configure a run.
type Options struct {
	// Targets are the API nodes' base URLs (http://host:port); each worker
	// sends its requests to them in turn.
	Targets []string
	// Prefix is the API prefix; default /api/v1.
	Prefix string
	// Users are shared out among the workers (worker i acts as user i mod
	// len(Users)).
	Users []User
	// Workers is how many users act at once; default 8.
	Workers int
	// Duration bounds the run; zero runs until ctx ends.
	Duration time.Duration
	// Session is how many visits a worker makes before signing in again;
	// default 10.
	Session int
	// Think is the mean pause after each visit (drawn evenly from half to
	// one and a half times it, as people do not click in step); default
	// none.
	Think time.Duration
	// Failover tries a request that reached no node (connection refused)
	// on the next target, as a load balancer in front of the nodes would.
	// The refused attempt is recorded too.
	Failover bool
	// Timeout bounds each request; default 15 s.
	Timeout time.Duration
	// Now is the clock; default time.Now.
	Now func() time.Time
}

// Record is one request as the mix saw it.
type Record struct {
	Op      string // such as "GET /auth/me" with ids replaced by {id}
	Target  int    // index in Options.Targets
	Start   time.Time
	Latency time.Duration
	// Status is the HTTP status; 0 when no answer came (Err says why).
	Status int
	Err    string
	// Refused is set when the node refused the connection: the request
	// reached no server.
	Refused bool
}

// End is when the request was answered (or failed).
func (r Record) End() time.Time { return r.Start.Add(r.Latency) }

// Result is every request of a run, in the order they ended.
type Result struct {
	Records       []Record
	Started, Done time.Time
}

// Run drives the mix until ctx ends or opts.Duration passes, and returns
// what every request got. It fails only on bad options.
func Run(ctx context.Context, opts Options) (*Result, error) {
	if len(opts.Targets) == 0 {
		return nil, errors.New("loadmix: no target")
	}
	if len(opts.Users) == 0 {
		return nil, errors.New("loadmix: no user")
	}
	for i, u := range opts.Users {
		if u.Email == "" || u.Password == "" || u.FamilyID == "" || u.CareRecipientID == "" || u.MedicationID == "" {
			return nil, fmt.Errorf("loadmix: user %d lacks email, password, family, care recipient or medication", i)
		}
	}
	if opts.Prefix == "" {
		opts.Prefix = "/api/v1"
	}
	if opts.Workers <= 0 {
		opts.Workers = 8
	}
	if opts.Session <= 0 {
		opts.Session = 10
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 15 * time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, opts.Duration)
		defer cancel()
	}
	transport := &http.Transport{MaxIdleConnsPerHost: opts.Workers, IdleConnTimeout: 30 * time.Second}
	defer transport.CloseIdleConnections()
	res := &Result{Started: opts.Now()}
	r := &runner{opts: opts, http: &http.Client{Transport: transport, Timeout: opts.Timeout}, began: res.Started.UTC().Truncate(time.Second)}
	var wg sync.WaitGroup
	for i := range opts.Workers {
		w := &worker{r: r, user: opts.Users[i%len(opts.Users)], next: i % len(opts.Targets), id: i}
		wg.Go(func() { w.run(ctx) })
	}
	wg.Wait()
	res.Done = opts.Now()
	r.mu.Lock()
	res.Records = r.records
	r.mu.Unlock()
	return res, nil
}

type runner struct {
	opts Options
	http *http.Client
	// doses makes every logged dose time distinct: an as-needed dose at a
	// time already logged would be refused (409).
	doses   atomic.Int64
	began   time.Time
	mu      sync.Mutex
	records []Record
}

func (r *runner) record(rec Record) {
	r.mu.Lock()
	r.records = append(r.records, rec)
	r.mu.Unlock()
}

type worker struct {
	r      *runner
	user   User
	id     int
	next   int // the target of the next request
	token  string
	visits int
}

func (w *worker) run(ctx context.Context) {
	for ctx.Err() == nil {
		if w.token == "" || w.visits%w.r.opts.Session == 0 {
			w.signIn(ctx)
		}
		if w.token != "" {
			w.visit(ctx)
		}
		w.visits++
		if w.r.opts.Think > 0 || w.token == "" {
			var pause time.Duration
			if w.r.opts.Think > 0 {
				pause = w.r.opts.Think/2 + rand.N(w.r.opts.Think)
			}
			if w.token == "" {
				pause = max(pause, 200*time.Millisecond) // sign-in failed: do not spin
			}
			select {
			case <-ctx.Done():
			case <-time.After(pause):
			}
		}
	}
}

func (w *worker) signIn(ctx context.Context) {
	var v struct {
		AccessToken string `json:"accessToken"`
	}
	if w.do(ctx, "POST", "/auth/login", "/auth/login", map[string]any{"email": w.user.Email, "password": w.user.Password}, &v) == http.StatusOK {
		w.token = v.AccessToken
	}
}

// visit is one look at the app: the dashboard, the medications with a dose
// logged, the timeline, notifications, appointments and emergency page.
func (w *worker) visit(ctx context.Context) {
	u := w.user
	cr := "/care-recipients/" + u.CareRecipientID
	steps := []struct {
		method, path, op string
		body             func() any
	}{
		{"GET", "/auth/me", "/auth/me", nil},
		{"GET", "/families", "/families", nil},
		{"GET", "/families/" + u.FamilyID + "/care-recipients", "/families/{id}/care-recipients", nil},
		{"GET", cr + "/medications", "/care-recipients/{id}/medications", nil},
		{"GET", cr + "/medications/schedule/today", "/care-recipients/{id}/medications/schedule/today", nil},
		{"POST", "/medications/" + u.MedicationID + "/log", "/medications/{id}/log", func() any {
			// Distinct instants, one second apart before the run began, within
			// the as-needed window (a day) for hours of load.
			at := w.r.began.Add(-time.Duration(w.r.doses.Add(1)) * time.Second)
			return map[string]any{"status": "GIVEN", "scheduledTime": at.Format(time.RFC3339)}
		}},
		{"GET", cr + "/timeline", "/care-recipients/{id}/timeline", nil},
		{"GET", "/notifications", "/notifications", nil},
		{"GET", "/notifications/unread/count", "/notifications/unread/count", nil},
		{"GET", cr + "/appointments/upcoming", "/care-recipients/{id}/appointments/upcoming", nil},
		{"GET", cr + "/emergency/info", "/care-recipients/{id}/emergency/info", nil},
		{"GET", cr + "/emergency/alerts", "/care-recipients/{id}/emergency/alerts", nil},
	}
	for _, s := range steps {
		if ctx.Err() != nil {
			return
		}
		var body any
		if s.body != nil {
			body = s.body()
		}
		if w.do(ctx, s.method, s.path, s.op, body, nil) == http.StatusUnauthorized {
			w.token = ""
			return
		}
	}
	// Every fifth visit writes a journal entry; every twentieth raises an
	// emergency and resolves it (every member is told on every channel).
	switch {
	case w.visits%20 == 19:
		var a struct{ ID string }
		if w.do(ctx, "POST", cr+"/emergency/alerts", "/care-recipients/{id}/emergency/alerts", map[string]any{
			"type": "FALL", "title": "Fell in the kitchen", "description": "Load test alert",
		}, &a) == http.StatusCreated && a.ID != "" {
			w.do(ctx, "POST", cr+"/emergency/alerts/"+a.ID+"/resolve", "/care-recipients/{id}/emergency/alerts/{id}/resolve",
				map[string]any{"resolutionNotes": "All fine"}, nil)
		}
	case w.visits%5 == 4:
		w.do(ctx, "POST", cr+"/timeline", "/care-recipients/{id}/timeline", map[string]any{
			"type": "NOTE", "title": fmt.Sprintf("Visit note %d", w.visits),
		}, nil)
	}
}

// do sends one request to the worker's next target (the one after on a
// refused connection, with Failover) and records it; it returns the status
// (0 without an answer) and decodes a 2xx body into into.
func (w *worker) do(ctx context.Context, method, path, op string, body, into any) int {
	var payload []byte
	if body != nil {
		payload, _ = json.Marshal(body)
	}
	targets := w.r.opts.Targets
	for try := 0; try < len(targets); try++ {
		target := w.next
		w.next = (w.next + 1) % len(targets)
		rec, b := w.send(ctx, targets[target], method, path, payload)
		rec.Op, rec.Target = method+" "+op, target
		if ctx.Err() != nil && rec.Status == 0 {
			return 0 // the run ended mid-request: not a failure of the node
		}
		w.r.record(rec)
		if rec.Refused && w.r.opts.Failover {
			continue
		}
		if into != nil && rec.Status >= 200 && rec.Status < 300 {
			_ = json.Unmarshal(b, into)
		}
		return rec.Status
	}
	return 0
}

func (w *worker) send(ctx context.Context, base, method, path string, payload []byte) (Record, []byte) {
	var rd io.Reader
	if payload != nil {
		rd = bytes.NewReader(payload)
	}
	start := w.r.opts.Now()
	rec := Record{Start: start}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(base, "/")+w.r.opts.Prefix+path, rd)
	if err != nil {
		rec.Err = err.Error()
		return rec, nil
	}
	req.Header.Set("Content-Type", "application/json")
	if w.token != "" && path != "/auth/login" {
		req.Header.Set("Authorization", "Bearer "+w.token)
	}
	res, err := w.r.http.Do(req)
	if err != nil {
		rec.Latency = w.r.opts.Now().Sub(start)
		rec.Err = err.Error()
		rec.Refused = errors.Is(err, syscall.ECONNREFUSED)
		return rec, nil
	}
	b, err := io.ReadAll(res.Body)
	res.Body.Close()
	rec.Latency = w.r.opts.Now().Sub(start)
	rec.Status = res.StatusCode
	if err != nil {
		rec.Err = err.Error()
	}
	return rec, b
}

// Summary counts a set of records.
type Summary struct {
	Requests int
	// ServerErrors answered 5xx; NoAnswer got none (Refused of them never
	// reached a node).
	ServerErrors, NoAnswer, Refused int
	// Statuses counts each status (0: no answer).
	Statuses map[int]int
	// P50, P99 and Max are latencies of answered requests.
	P50, P99, Max time.Duration
}

// Summarize counts the records for which keep returns true (all when keep
// is nil).
func (r *Result) Summarize(keep func(Record) bool) Summary {
	s := Summary{Statuses: map[int]int{}}
	var lat []time.Duration
	for _, rec := range r.Records {
		if keep != nil && !keep(rec) {
			continue
		}
		s.Requests++
		s.Statuses[rec.Status]++
		switch {
		case rec.Status >= 500:
			s.ServerErrors++
		case rec.Status == 0:
			s.NoAnswer++
			if rec.Refused {
				s.Refused++
			}
		}
		if rec.Status != 0 {
			lat = append(lat, rec.Latency)
		}
	}
	if len(lat) > 0 {
		slices.Sort(lat)
		s.P50 = lat[len(lat)/2]
		s.P99 = lat[min(len(lat)-1, len(lat)*99/100)]
		s.Max = lat[len(lat)-1]
	}
	return s
}

// ServerErrors are the records answered 5xx, in the order they ended.
func (r *Result) ServerErrors() []Record {
	var out []Record
	for _, rec := range r.Records {
		if rec.Status >= 500 {
			out = append(out, rec)
		}
	}
	return out
}

// String is one line: requests, throughput, latency and failures.
func (s Summary) String() string {
	return fmt.Sprintf("requests=%d 5xx=%d no-answer=%d (refused %d) p50=%s p99=%s max=%s statuses=%v",
		s.Requests, s.ServerErrors, s.NoAnswer, s.Refused, s.P50.Round(time.Microsecond*10), s.P99.Round(time.Microsecond*10),
		s.Max.Round(time.Microsecond*10), s.Statuses)
}
