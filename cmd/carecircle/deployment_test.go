package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/carecircle/carecircle/internal/bus"
	"github.com/carecircle/carecircle/internal/clock"
	"github.com/carecircle/carecircle/internal/loadmix"
	"github.com/carecircle/carecircle/internal/mail"
	"github.com/carecircle/carecircle/internal/notify"
	"github.com/carecircle/carecircle/internal/outbox"
	"github.com/carecircle/carecircle/internal/realtime"
	"github.com/carecircle/carecircle/internal/realtime/rtclient"
	"github.com/carecircle/carecircle/internal/store"
)

// Deployment goals, per fault (issue 13).
const (
	// recoveryGoal bounds the time from a part's return until a fresh write
	// through one API node reaches a family socket on the other and every
	// consumer.
	recoveryGoal = 10 * time.Second
	// outage is how long each part stays away.
	outage = 3 * time.Second
	// settle is how long the load runs on after recovery, before the next
	// fault: late failures are still the fault's.
	settle = 2 * time.Second
	// familyMembers is how many members each family of the test has.
	familyMembers = 2
)

// TestDeployment runs CareCircle as it is deployed: two `serve --role=api`
// nodes and two workers on a PostgreSQL, a Redis and a RabbitMQ virtual host
// of the test's own, while a realistic mix of requests (internal/loadmix)
// runs across both API nodes. It takes each part away in turn — a worker and
// an API node killed with SIGKILL and restarted, every RabbitMQ connection
// cut, Redis stopped and started, PostgreSQL stopped (immediate) and
// started — and reports per fault: requests answered 5xx, events lost or
// duplicated per consumer, reminders lost or repeated, and the time until
// the deployment works fully again. It fails when a goal is missed: nothing
// lost or duplicated, no 5xx but while PostgreSQL itself is down, and
// recovery within 10 s of the part's return. With CARECIRCLE_DEPLOYMENT_TABLE
// set it also writes the per-fault table (markdown) to that file.
//
// It does not run in parallel with the package's other tests: it times
// recoveries on a machine of two cores.
func TestDeployment(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a whole deployment for about three minutes")
	}
	requireRedisServer(t)
	pgBin := requirePostgresServer(t)
	brokerURL, vhost := rabbitVhost(t)
	binary.get(t) // built before anything is timed
	began := time.Now()

	d := startDeployment(t, pgBin, brokerURL, vhost)
	d.setUp()
	t.Logf("deployment up and families set up in %s; consumers %v", time.Since(began).Round(time.Millisecond), d.consumers)

	loadCtx, stopLoad := context.WithCancel(context.Background())
	defer stopLoad()
	loadDone := make(chan *loadmix.Result, 1)
	go func() {
		res, err := loadmix.Run(loadCtx, loadmix.Options{Targets: []string{d.apis[0].base, d.apis[1].base}, Users: d.loadUsers,
			Workers: 8, Think: 600 * time.Millisecond, Failover: true})
		if err != nil {
			t.Error(err)
		}
		loadDone <- res
	}()

	phases := d.runFaults()
	stopLoad()
	load := <-loadDone
	t.Logf("load: %s", load.Summarize(nil))

	converged := d.converge(2 * time.Minute)
	rows, misses := d.report(phases, load)
	table := renderFaultTable(rows)
	t.Logf("per fault (converged: %v, whole test %s):\n%s", converged, time.Since(began).Round(time.Second), table)
	if out := os.Getenv("CARECIRCLE_DEPLOYMENT_TABLE"); out != "" {
		_ = os.WriteFile(out, []byte(table), 0o644)
	}
	for _, m := range misses {
		t.Error(m)
	}
}

// deployNode is one carecircle process of the deployment.
type deployNode struct {
	name  string
	args  []string
	env   map[string]string
	base  string // http://127.0.0.1:port
	ready string // answers 200 once the process serves
	proc  *process
}

func (n *deployNode) start(t *testing.T) { n.proc = startProcess(t, n.env, n.args...) }

// deployment is the running system and what the test knows about it.
type deployment struct {
	t         *testing.T
	pg        *privatePostgres
	redis     *redisServer
	redisPort int
	vhost     string
	dataDir   string
	apis      []*deployNode
	workers   []*deployNode
	st        *store.Store
	rabbit    bool     // the binary wires RABBITMQ_ENABLED
	consumers []string // every event must be delivered to each

	firstHolder string // the dispatcher lease's holder when only the first worker ran

	families  []*deployFamily
	loadUsers []loadmix.User
	sockets   []*familySocket // the first family's, one per API node
	watchFrom time.Time       // sockets subscribed

	probeToken, probeMed string
	probeSeq             atomic.Int64
	probeHTTP            *http.Client
	mu                   sync.Mutex
	probes               []loadmix.Record
}

// deployFamily is a family the load acts in: two members, one care
// recipient, an as-needed medication for logged doses and daily ones due
// during the run for reminders.
type deployFamily struct {
	id, careRecipient, asNeeded string
	members                     []string // emails
	reminderMeds                int
}

func startDeployment(t *testing.T, pgBin, brokerURL, vhost string) *deployment {
	d := &deployment{t: t, vhost: vhost, dataDir: t.TempDir(), probeHTTP: &http.Client{Timeout: 5 * time.Second}}
	d.pg = startPrivatePostgres(t, pgBin, freePort(t))
	d.redisPort = freePort(t)
	d.redis = startRedis(t, d.redisPort)
	common := map[string]string{
		"DATABASE_URL": d.pg.url(), "REDIS_URL": "redis://127.0.0.1:" + strconv.Itoa(d.redisPort) + "/0",
		"RABBITMQ_ENABLED": "true", "RABBITMQ_URL": brokerURL,
		"JWT_SECRET": "deployment-test-secret-deployment-test-secret",
		// One data directory: the mail outbox is one folder, as one mail
		// provider would be, and it keeps each message once.
		"DATA_DIR": d.dataDir, "RATE_LIMIT_ENABLED": "false", "LOG_LEVEL": "warn",
	}
	node := func(name string, role string) *deployNode {
		port := freePort(t)
		env := map[string]string{}
		for k, v := range common {
			env[k] = v
		}
		n := &deployNode{name: name, env: env, base: "http://127.0.0.1:" + strconv.Itoa(port)}
		if role == "api" {
			env["PORT"] = strconv.Itoa(port)
			n.args, n.ready = []string{"serve", "--role=api"}, "/health/ready"
		} else {
			env["HEALTH_PORT"] = strconv.Itoa(port)
			n.args, n.ready = []string{"worker"}, "/ready"
		}
		return n
	}
	d.apis = []*deployNode{node("api-1", "api"), node("api-2", "api")}
	d.workers = []*deployNode{node("worker-1", "worker"), node("worker-2", "worker")}

	// The first API node migrates; the first worker takes the dispatcher
	// lease alone, so the test knows which process holds it.
	d.apis[0].start(t)
	waitHealthy(t, d.apis[0].base, d.apis[0].ready)
	var err error
	d.st, err = store.Open(context.Background(), store.Options{DatabaseURL: d.pg.url(), Clock: clock.Real{}, MaxConns: 4})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.st.Close() })
	d.apis[1].start(t)
	d.workers[0].start(t)
	waitHealthy(t, d.workers[0].base, d.workers[0].ready)
	waitFor(t, time.Now().Add(30*time.Second), "the first worker takes the dispatcher lease", func() bool {
		d.firstHolder = d.leaseHolder()
		return d.firstHolder != ""
	})
	d.workers[1].start(t)
	for _, n := range []*deployNode{d.apis[1], d.workers[1]} {
		waitHealthy(t, n.base, n.ready)
	}

	d.consumers = []string{notify.ConsumerName, realtime.ConsumerName}
	if status := componentStatus(d.apis[0].base, "rabbitmq"); status != "" {
		d.rabbit = true
		d.consumers = append(d.consumers, bus.ForwarderName)
		waitFor(t, time.Now().Add(30*time.Second), "the API nodes report RabbitMQ up", func() bool {
			return componentStatus(d.apis[0].base, "rabbitmq") == "up" && componentStatus(d.apis[1].base, "rabbitmq") == "up"
		})
	} else {
		t.Log("the binary does not report RabbitMQ: events go to the workers' consumers in process")
	}
	return d
}

// leaseHolder is the outbox dispatcher lease's holder ("" without one).
func (d *deployment) leaseHolder() string {
	var h string
	_ = d.st.DB().QueryRow(`SELECT holder FROM leases WHERE name = $1 AND expires_at > now()`, outbox.LeaseName).Scan(&h)
	return h
}

// componentStatus reads components.<name>.status from base's /health ("" when
// absent or unanswered).
func componentStatus(base, name string) string {
	res, err := http.Get(base + "/health")
	if err != nil {
		return ""
	}
	defer res.Body.Close()
	var h struct {
		Components map[string]json.RawMessage `json:"components"`
	}
	if json.NewDecoder(res.Body).Decode(&h) != nil {
		return ""
	}
	var c struct {
		Status string `json:"status"`
	}
	_ = json.Unmarshal(h.Components[name], &c)
	return c.Status
}

// setUp signs up two families of two members through the first API node,
// with medications whose reminders fall due during the run, and connects
// a socket of the first family to each API node.
func (d *deployment) setUp() {
	t := d.t
	api := &e2eClient{t: t, base: d.apis[0].base, outbox: filepath.Join(d.dataDir, "outbox")}
	// Reminders at every whole minute the run will span.
	var times []string
	for at := time.Now().UTC().Truncate(time.Minute).Add(time.Minute); at.Before(time.Now().Add(150 * time.Second)); at = at.Add(time.Minute) {
		if at.After(time.Now().Add(30 * time.Second)) {
			times = append(times, at.Format("15:04"))
		}
	}
	var firstToken string
	for i, names := range [][2]string{{"Ann", "Bo"}, {"Cy", "Di"}} {
		email := func(n string) string { return strings.ToLower(n) + "@example.com" }
		admin, _ := api.signUp(names[0]+" Lee", email(names[0]))
		f := &deployFamily{members: []string{email(names[0]), email(names[1])}}
		f.id = api.call("POST", "/families", admin, map[string]any{"name": fmt.Sprintf("Family %d", i+1)}, 201)["id"].(string)
		api.call("POST", "/families/"+f.id+"/invite", admin, map[string]any{"email": email(names[1]), "role": "CAREGIVER"}, 201)
		link := inviteRE.FindStringSubmatch(api.lastMail(email(names[1])))
		if link == nil {
			t.Fatal("no accept-invite link in the invitation mail")
		}
		caregiver, _ := api.signUp(names[1]+" Lee", email(names[1]))
		api.call("POST", "/families/invitations/"+link[1]+"/accept", caregiver, nil, 200)
		f.careRecipient = api.call("POST", "/families/"+f.id+"/care-recipients", admin,
			map[string]any{"fullName": "Grandma " + names[0], "timezone": "UTC"}, 201)["id"].(string)
		meds := "/care-recipients/" + f.careRecipient + "/medications"
		asNeeded := func(name string) string {
			return api.call("POST", meds, admin, map[string]any{"name": name, "dosage": "500 mg", "form": "TABLET", "frequency": "AS_NEEDED"}, 201)["id"].(string)
		}
		f.asNeeded = asNeeded("Paracetamol")
		for _, at := range times {
			for j := range 2 {
				api.call("POST", meds, admin, map[string]any{"name": fmt.Sprintf("Daily %s #%d", at, j+1), "dosage": "1 tablet",
					"form": "TABLET", "frequency": "DAILY", "scheduledTimes": []string{at}}, 201)
				f.reminderMeds++
			}
		}
		for _, m := range f.members {
			d.loadUsers = append(d.loadUsers, loadmix.User{Email: m, Password: "Correct-horse-42", FamilyID: f.id,
				CareRecipientID: f.careRecipient, MedicationID: f.asNeeded})
		}
		if i == 0 {
			firstToken = admin
			d.probeToken, d.probeMed = admin, asNeeded("Probe")
		}
		d.families = append(d.families, f)
	}
	t.Logf("reminder medications due at %v UTC", times)

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for i, n := range d.apis {
		s := &familySocket{node: i, channel: "family:" + d.families[0].id, copies: map[string]int{}, logEvent: map[string]string{}}
		s.c = rtclient.New(rtclient.URL(n.base), rtclient.Options{Token: firstToken, Buffer: 1 << 14, Timeout: 5 * time.Second})
		t.Cleanup(s.c.Close)
		if err := s.c.Connect(ctx); err != nil {
			t.Fatalf("connect to %s: %v", n.name, err)
		}
		if err := s.c.Subscribe(ctx, s.channel); err != nil {
			t.Fatalf("subscribe on %s: %v", n.name, err)
		}
		collectCtx, stop := context.WithCancel(context.Background())
		t.Cleanup(stop)
		go s.collect(collectCtx)
		d.sockets = append(d.sockets, s)
	}
	d.watchFrom = time.Now()
}

// familySocket is a member's realtime connection to one API node, counting
// what arrives on the family's channel.
type familySocket struct {
	node     int
	c        *rtclient.Client
	mu       sync.Mutex
	copies   map[string]int    // event id → messages received
	logEvent map[string]string // dose log id → its medication_logged event id
	channel  string            // the family's
	offset   uint64            // of the last message on it
	gaps     []string          // where its offsets jumped
}

func (s *familySocket) collect(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case r := <-s.c.Messages():
			if r.Channel != s.channel {
				continue // the member's own channel
			}
			var data struct {
				ID string `json:"id"`
			}
			_ = json.Unmarshal(r.Data, &data)
			s.mu.Lock()
			if s.offset != 0 && r.Offset != s.offset+1 {
				s.gaps = append(s.gaps, fmt.Sprintf("%s: offset %d after %d (%s)", r.At.Format("15:04:05.000"), r.Offset, s.offset, r.Event))
			}
			s.offset = r.Offset
			s.copies[r.ID]++
			if r.Event == "medication_logged" && data.ID != "" {
				s.logEvent[data.ID] = r.ID
			}
			s.mu.Unlock()
		}
	}
}

func (s *familySocket) eventOfLog(logID string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.logEvent[logID]
}

// told reports whether the client, having missed what was published at or
// after at, was told so (a resubscription that could not recover).
func (s *familySocket) told(at time.Time) bool {
	for _, u := range s.c.Unrecovered(s.channel) {
		if u.After(at) {
			return true
		}
	}
	return false
}

func (s *familySocket) count(eventID string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.copies[eventID]
}

// faultPhase is one fault and the time it is accounted for: every request
// started, event committed and reminder due in [start, end).
type faultPhase struct {
	name       string
	start, end time.Time
	returnedAt time.Time
	recovery   time.Duration
	recoverErr error
	pgDown     [2]time.Time // while PostgreSQL itself was down, if it was
	measured   bool         // recovery is measured (and held to the goal)
}

// runFaults takes each part away in turn while the load runs and returns
// the phases, from a baseline before the first fault to the drain after the
// last.
func (d *deployment) runFaults() []*faultPhase {
	t := d.t
	var phases []*faultPhase
	begin := func(name string) *faultPhase {
		p := &faultPhase{name: name, start: time.Now()}
		t.Logf("%s: %s", p.start.Format("15:04:05.000"), name)
		if len(phases) == 0 {
			p.start = time.Time{} // what happened before the load (setup) is the baseline's
		} else {
			phases[len(phases)-1].end = p.start
		}
		phases = append(phases, p)
		return p
	}
	// recover measures, from the part's return, until a fresh write through
	// node via reaches every socket and every consumer.
	recoverFrom := func(p *faultPhase, via int) {
		p.returnedAt, p.measured = time.Now(), true
		p.recovery, p.recoverErr = d.probe(via, p.returnedAt, time.Minute)
		t.Logf("%s: recovered in %s %v", p.name, p.recovery.Round(time.Millisecond), errOrEmpty(p.recoverErr))
		time.Sleep(settle) // the load runs on; what fails now is still this fault's
	}

	p := begin("none (baseline)")
	time.Sleep(2 * time.Second) // the load runs undisturbed for a while
	recoverFrom(p, 0)

	p = begin("`kill -9` a worker (the dispatcher)")
	w := d.workers[1]
	if d.leaseHolder() == d.firstHolder {
		w = d.workers[0]
	}
	w.proc.kill(t)
	time.Sleep(outage)
	w.start(t)
	recoverFrom(p, 1)

	p = begin("`kill -9` an API node")
	d.apis[0].proc.kill(t)
	time.Sleep(outage)
	d.apis[0].start(t)
	recoverFrom(p, 0)

	p = begin("RabbitMQ: every connection of the vhost cut")
	closeVhostConnections(t, d.vhost)
	recoverFrom(p, 1)

	p = begin("Redis stopped and started")
	d.redis.kill()
	stopped := time.Now()
	waitForRedisState(t, d.apis[0].base, "degraded", 30*time.Second)
	time.Sleep(time.Until(stopped.Add(outage)))
	d.redis = startRedis(t, d.redisPort)
	recoverFrom(p, 0)

	p = begin("PostgreSQL stopped (immediate) and started")
	p.pgDown[0] = time.Now()
	if err := d.pg.stopImmediately(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(outage)
	if err := d.pg.start(); err != nil {
		t.Fatal(err)
	}
	p.pgDown[1] = time.Now()
	recoverFrom(p, 1)

	p = begin("none (drain)")
	p.end = time.Now().Add(time.Hour)
	return phases
}

func errOrEmpty(err error) string {
	if err == nil {
		return ""
	}
	return "(" + err.Error() + ")"
}

// probe writes a dose through API node via until one is accepted, then
// waits until its event has reached the family's socket on every API node
// and been delivered to every consumer; it returns the time from since. A
// dose not through within 3 s is followed by a fresh one (a socket may have
// missed the first, being told so, while a node resubscribed), and the
// first dose through ends the wait.
func (d *deployment) probe(via int, since time.Time, limit time.Duration) (time.Duration, error) {
	deadline := since.Add(limit)
	var doses []string
	var lastWrite time.Time
	for {
		if len(doses) == 0 || time.Since(lastWrite) > 3*time.Second {
			if id := d.probeWrite(via); id != "" {
				doses, lastWrite = append(doses, id), time.Now()
			}
		}
		var status []string
		for _, logID := range doses {
			eventID, onSockets := "", 0
			for _, s := range d.sockets {
				if e := s.eventOfLog(logID); e != "" {
					eventID = e
					onSockets++
				}
			}
			if onSockets == len(d.sockets) && d.deliveredToAll(eventID) {
				return time.Since(since), nil
			}
			status = append(status, fmt.Sprintf("dose %s on %d of %d sockets, event %q", logID, onSockets, len(d.sockets), eventID))
		}
		if time.Now().After(deadline) {
			if len(doses) == 0 {
				return time.Since(since), fmt.Errorf("no dose was accepted through %s", d.apis[via].name)
			}
			return time.Since(since), fmt.Errorf("%s; not every consumer had them (%s)", strings.Join(status, ", "), d.backlog())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// probeWrite logs one dose of the probe medication through API node via,
// recording the request; it returns the log's id ("" when refused).
func (d *deployment) probeWrite(via int) string {
	at := time.Now().UTC().Truncate(time.Second).Add(-12*time.Hour + time.Duration(d.probeSeq.Add(1))*time.Second)
	body, _ := json.Marshal(map[string]any{"status": "GIVEN", "scheduledTime": at.Format(time.RFC3339)})
	req, _ := http.NewRequest("POST", d.apis[via].base+"/api/v1/medications/"+d.probeMed+"/log", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+d.probeToken)
	rec := loadmix.Record{Op: "POST /medications/{id}/log (probe)", Target: via, Start: time.Now()}
	res, err := d.probeHTTP.Do(req)
	var log struct {
		ID string `json:"id"`
	}
	if err != nil {
		rec.Err = err.Error()
	} else {
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		rec.Status = res.StatusCode
		if res.StatusCode == http.StatusCreated {
			_ = json.Unmarshal(b, &log)
		}
	}
	rec.Latency = time.Since(rec.Start)
	d.mu.Lock()
	d.probes = append(d.probes, rec)
	d.mu.Unlock()
	return log.ID
}

// backlog describes, per consumer, the events not yet delivered and the
// oldest one's record, and the broker's queues: what a stall looks like.
func (d *deployment) backlog() string {
	var b strings.Builder
	for _, c := range d.consumers {
		var n int
		var oldest, detail string
		_ = d.st.DB().QueryRow(`SELECT COUNT(*) FROM outbox_events e WHERE NOT EXISTS (SELECT 1 FROM outbox_deliveries d
			WHERE d.event_id = e.id AND d.consumer = $1 AND d.done_at IS NOT NULL)`, c).Scan(&n)
		_ = d.st.DB().QueryRow(`SELECT e.id::text || ' ' || e.type || ' created ' || to_char(e.created_at, 'HH24:MI:SS.MS') ||
			COALESCE(' dispatched ' || to_char(e.dispatched_at, 'HH24:MI:SS.MS'), ' undispatched') FROM outbox_events e
			WHERE NOT EXISTS (SELECT 1 FROM outbox_deliveries d WHERE d.event_id = e.id AND d.consumer = $1 AND d.done_at IS NOT NULL)
			ORDER BY e.seq LIMIT 1`, c).Scan(&oldest)
		_ = d.st.DB().QueryRow(`SELECT 'attempts ' || attempts || COALESCE(' last error ' || last_error, '') FROM outbox_deliveries
			WHERE consumer = $1 AND event_id::text = split_part($2, ' ', 1)`, c, oldest).Scan(&detail)
		fmt.Fprintf(&b, "%s: %d undelivered, oldest %s %s; ", c, n, oldest, detail)
	}
	if d.rabbit {
		if out, err := exec.Command("rabbitmqctl", "-q", "list_queues", "-p", d.vhost, "name", "messages_ready", "messages_unacknowledged", "consumers").CombinedOutput(); err == nil {
			b.WriteString("queues: " + strings.Join(strings.Fields(string(out)), " "))
		}
	}
	return b.String()
}

// deliveredToAll reports whether every consumer has taken the event.
func (d *deployment) deliveredToAll(eventID string) bool {
	if eventID == "" {
		return false
	}
	rows, err := d.st.DB().Query(`SELECT consumer FROM outbox_deliveries WHERE event_id = $1 AND done_at IS NOT NULL AND NOT gave_up`, eventID)
	if err != nil {
		return false
	}
	defer rows.Close()
	done := map[string]bool{}
	for rows.Next() {
		var c string
		if rows.Scan(&c) != nil {
			return false
		}
		done[c] = true
	}
	for _, c := range d.consumers {
		if !done[c] {
			return false
		}
	}
	return rows.Err() == nil
}

// converge waits (at most limit, or 75 s without progress) until every
// event is delivered to every consumer and every reminder planned for the
// run is done, then (at most 10 s more) until the sockets have what the
// family's channel carried.
func (d *deployment) converge(limit time.Duration) bool {
	deadline := time.Now().Add(limit)
	var progress string
	progressed := time.Now()
	for stage, done := range []func(*snapshot) bool{d.delivered, d.onSockets} {
		for {
			snap, err := d.snapshot()
			if err == nil && done(snap) {
				break
			}
			if err == nil {
				if p := snap.progress(); p != progress {
					progress, progressed = p, time.Now()
				}
			}
			if time.Now().After(deadline) || time.Since(progressed) > 75*time.Second {
				d.t.Logf("did not converge (stage %d): %v %s", stage+1, err, d.backlog())
				return false
			}
			time.Sleep(200 * time.Millisecond)
		}
		deadline = time.Now().Add(10 * time.Second)
	}
	return true
}

// progress sums up what has been delivered and done so far.
func (s *snapshot) progress() string {
	n := 0
	for _, c := range s.delivered {
		n += len(c)
	}
	done := 0
	for _, e := range s.ledger {
		if e.status != "PLANNED" && e.status != "ENQUEUED" && e.status != "STAGED" {
			done++
		}
	}
	return fmt.Sprintf("%d/%d/%d/%d", len(s.events), n, len(s.ledger), done)
}

// snapshot is what the database holds about events and reminders.
type snapshot struct {
	events    []outboxEvent
	delivered map[string]map[string]bool // event id → consumers done (not given up)
	gaveUp    map[string][]string        // event id → consumers that gave up
	ledger    []ledgerEntry
	reminders map[string]map[string]int // ledger key → user id → notifications
	lastFire  time.Time
}

type outboxEvent struct {
	id, typ, family string
	created         time.Time
}

type ledgerEntry struct {
	key, status     string
	fire, due, done time.Time
}

func (d *deployment) snapshot() (*snapshot, error) {
	// One consistent view: read apart, a reminder sent between the read of
	// the events and that of the ledger would show as sent with no event.
	db, err := d.st.DB().BeginTx(context.Background(), &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true})
	if err != nil {
		return nil, err
	}
	defer db.Rollback()
	s := &snapshot{delivered: map[string]map[string]bool{}, gaveUp: map[string][]string{}, reminders: map[string]map[string]int{}}
	rows, err := db.Query(`SELECT id::text, type, COALESCE(family_id::text, ''), created_at FROM outbox_events`)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var e outboxEvent
		if err := rows.Scan(&e.id, &e.typ, &e.family, &e.created); err != nil {
			rows.Close()
			return nil, err
		}
		s.events = append(s.events, e)
	}
	rows.Close()
	if rows, err = db.Query(`SELECT consumer, event_id::text, done_at IS NOT NULL, gave_up FROM outbox_deliveries`); err != nil {
		return nil, err
	}
	for rows.Next() {
		var consumer, id string
		var done, gaveUp bool
		if err := rows.Scan(&consumer, &id, &done, &gaveUp); err != nil {
			rows.Close()
			return nil, err
		}
		switch {
		case gaveUp:
			s.gaveUp[id] = append(s.gaveUp[id], consumer)
		case done:
			if s.delivered[id] == nil {
				s.delivered[id] = map[string]bool{}
			}
			s.delivered[id][consumer] = true
		}
	}
	rows.Close()
	var crs []string
	for _, f := range d.families {
		crs = append(crs, f.careRecipient)
	}
	// A reminder is due at its instant, or when it was planned if that was
	// later (the 5-minute reminder of a medication created 3 minutes before
	// its dose).
	if rows, err = db.Query(`SELECT key, status, fire_at, GREATEST(fire_at, planned_at), COALESCE(done_at, fire_at) FROM reminder_ledger
		WHERE kind = 'MEDICATION' AND care_recipient_id::text = ANY($1)`, crs); err != nil {
		return nil, err
	}
	for rows.Next() {
		var e ledgerEntry
		if err := rows.Scan(&e.key, &e.status, &e.fire, &e.due, &e.done); err != nil {
			rows.Close()
			return nil, err
		}
		s.ledger = append(s.ledger, e)
		s.lastFire = maxTime(s.lastFire, e.fire)
	}
	rows.Close()
	if rows, err = db.Query(`SELECT dedupe_key, user_id::text FROM notifications WHERE type = 'MEDICATION_REMINDER' AND dedupe_key IS NOT NULL`); err != nil {
		return nil, err
	}
	for rows.Next() {
		var key, user string
		if err := rows.Scan(&key, &user); err != nil {
			rows.Close()
			return nil, err
		}
		if s.reminders[key] == nil {
			s.reminders[key] = map[string]int{}
		}
		s.reminders[key][user]++
	}
	rows.Close()
	return s, rows.Err()
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// delivered: every event delivered (or given up) and every reminder
// planned for the run done.
func (d *deployment) delivered(s *snapshot) bool {
	for _, e := range s.events {
		if len(s.gaveUp[e.id]) == 0 && len(s.delivered[e.id]) < len(d.consumers) {
			return false
		}
	}
	expected := 0
	for _, f := range d.families {
		expected += f.reminderMeds * 2 // the 5-minute reminder and the on-time one
	}
	if len(s.ledger) < expected {
		return false
	}
	for _, e := range s.ledger {
		if e.status == "PLANNED" || e.status == "ENQUEUED" || e.status == "STAGED" {
			return false
		}
	}
	return true
}

// onSockets: every family event on every socket.
func (d *deployment) onSockets(s *snapshot) bool {
	for _, e := range d.socketEvents(s) {
		for _, sock := range d.sockets {
			if sock.count(e.id) == 0 && !sock.told(e.created) {
				return false
			}
		}
	}
	return true
}

// socketTypes are the events of the mix that the family's channel carries.
var socketTypes = []string{"medication.logged", "timeline.entry.created", "emergency.alert.created", "emergency.alert.resolved"}

// socketEvents are the events the first family's sockets should have had.
func (d *deployment) socketEvents(s *snapshot) []outboxEvent {
	var out []outboxEvent
	for _, e := range s.events {
		if e.family == d.families[0].id && !e.created.Before(d.watchFrom) && slices.Contains(socketTypes, e.typ) {
			out = append(out, e)
		}
	}
	return out
}

// faultRow is one line of the per-fault table.
type faultRow struct {
	name                         string
	requests                     int
	serverErrPG, serverErr       int
	noAnswer, refused            int
	events, lost                 int
	dupChannels, dupSocket       int
	socketMissed, socketTold     int // socketTold of them: the client was told it had missed them
	reminders, remLost, remDup   int
	remLate                      time.Duration
	recovery                     string
	recoveryOK, recoveryMeasured bool
}

// report computes each phase's row and lists the goals missed.
func (d *deployment) report(phases []*faultPhase, load *loadmix.Result) ([]faultRow, []string) {
	t := d.t
	snap, err := d.snapshot()
	if err != nil {
		t.Fatalf("read the outcome: %v", err)
	}
	d.mu.Lock()
	all := &loadmix.Result{Records: append(slices.Clone(load.Records), d.probes...)}
	d.mu.Unlock()
	emails := outboxEmails(t, filepath.Join(d.dataDir, "outbox"))
	socketEvents := map[string]bool{}
	for _, e := range d.socketEvents(snap) {
		socketEvents[e.id] = true
	}
	var rows []faultRow
	var misses []string
	total := faultRow{name: "**all**", recovery: "", recoveryOK: true}
	for _, p := range phases {
		in := func(at time.Time) bool { return !at.Before(p.start) && at.Before(p.end) }
		r := faultRow{name: p.name, recoveryMeasured: p.measured}
		pgDown := func(rec loadmix.Record) bool {
			for _, q := range phases {
				if !q.pgDown[0].IsZero() && rec.Start.Before(q.pgDown[1]) && rec.End().After(q.pgDown[0]) {
					return true
				}
			}
			return false
		}
		for _, rec := range all.Records {
			if !in(rec.Start) {
				continue
			}
			r.requests++
			switch {
			case rec.Status >= 500 && pgDown(rec):
				r.serverErrPG++
			case rec.Status >= 500:
				r.serverErr++
				if r.serverErr <= 3 {
					t.Logf("%s: %s on %s at %s answered %d", p.name, rec.Op, d.apis[rec.Target].name, rec.Start.Format("15:04:05.000"), rec.Status)
				}
			case rec.Status == 0:
				r.noAnswer++
				if rec.Refused {
					r.refused++
				}
			}
		}
		for _, e := range snap.events {
			if !in(e.created) {
				continue
			}
			r.events++
			if len(snap.gaveUp[e.id]) > 0 || len(snap.delivered[e.id]) < len(d.consumers) {
				r.lost++
				if r.lost <= 3 {
					t.Logf("%s: event %s (%s) delivered to %v, given up by %v", p.name, e.id, e.typ, snap.delivered[e.id], snap.gaveUp[e.id])
				}
			}
			if socketEvents[e.id] {
				for _, s := range d.sockets {
					switch n := s.count(e.id); {
					case n == 0 && s.told(e.created):
						r.socketTold++
					case n == 0:
						r.socketMissed++
						t.Logf("%s: socket on %s missed %s (%s) created %s", p.name, d.apis[s.node].name, e.id, e.typ, e.created.Format("15:04:05.000"))
					case n > 1:
						r.dupSocket += n - 1
					}
				}
			}
		}
		for _, m := range emails {
			if in(m.at) && m.copy > 0 {
				r.dupChannels++
			}
		}
		for _, e := range snap.ledger {
			if !in(e.fire) {
				continue
			}
			r.reminders++
			got := snap.reminders[e.key]
			switch {
			case e.status != "SENT" || len(got) < familyMembers:
				r.remLost++
				t.Logf("%s: reminder %s is %s with %d recipients", p.name, e.key, e.status, len(got))
			default:
				for _, n := range got {
					if n > 1 {
						r.remDup++
					}
				}
				r.remLate = max(r.remLate, e.done.Sub(e.due))
			}
		}
		for _, m := range emails {
			if in(m.at) && m.reminderCopy > 0 {
				r.remDup++
			}
		}
		switch {
		case !p.measured:
			r.recovery, r.recoveryOK = "–", true
		case p.recoverErr != nil:
			r.recovery = fmt.Sprintf("not within %s", p.recovery.Round(time.Second))
		default:
			r.recovery = fmt.Sprintf("%.2f s", p.recovery.Seconds())
			r.recoveryOK = p.recovery < recoveryGoal
		}
		if r.lost+r.dupChannels+r.dupSocket+r.socketMissed > 0 {
			misses = append(misses, fmt.Sprintf("%s: %d events lost, %d duplicated (channels %d, sockets %d), %d missed by a socket that was not told",
				p.name, r.lost, r.dupChannels+r.dupSocket, r.dupChannels, r.dupSocket, r.socketMissed))
		}
		if r.serverErr > 0 {
			misses = append(misses, fmt.Sprintf("%s: %d requests answered 5xx while PostgreSQL was up", p.name, r.serverErr))
		}
		if r.remLost+r.remDup > 0 {
			misses = append(misses, fmt.Sprintf("%s: %d reminders lost, %d repeated", p.name, r.remLost, r.remDup))
		}
		if p.measured && !r.recoveryOK {
			misses = append(misses, fmt.Sprintf("%s: recovery %s, goal < %s %s", p.name, r.recovery, recoveryGoal, errOrEmpty(p.recoverErr)))
		}
		rows = append(rows, r)
		total.requests += r.requests
		total.serverErrPG += r.serverErrPG
		total.serverErr += r.serverErr
		total.noAnswer += r.noAnswer
		total.refused += r.refused
		total.events += r.events
		total.lost += r.lost
		total.dupChannels += r.dupChannels
		total.dupSocket += r.dupSocket
		total.socketMissed += r.socketMissed
		total.socketTold += r.socketTold
		total.reminders += r.reminders
		total.remLost += r.remLost
		total.remDup += r.remDup
		total.remLate = max(total.remLate, r.remLate)
	}
	total.recovery = "–"
	for _, s := range d.sockets {
		s.mu.Lock()
		t.Logf("socket on %s: offsets jumped %v", d.apis[s.node].name, s.gaps)
		s.mu.Unlock()
	}
	return append(rows, total), misses
}

// outboxEmail is one message in the mail outbox; copy counts earlier files
// of the same message (sent again), reminderCopy the same for reminders.
type outboxEmail struct {
	at                 time.Time
	copy, reminderCopy int
}

func outboxEmails(t *testing.T, dir string) []outboxEmail {
	msgs, err := mail.ReadOutbox(dir)
	if err != nil {
		t.Fatal(err)
	}
	// In the order the files were written: the first of a message is the
	// original, the rest copies.
	sort.Slice(msgs, func(i, j int) bool { return filepath.Base(msgs[i].File) < filepath.Base(msgs[j].File) })
	var out []outboxEmail
	tags := map[string]int{}
	for _, m := range msgs {
		name := filepath.Base(m.File)
		stamp, tag, _ := strings.Cut(strings.TrimSuffix(name, ".eml"), "-")
		at, err := time.Parse("20060102T150405.000000000Z", stamp)
		if err != nil {
			t.Fatalf("outbox file %s: %v", name, err)
		}
		e := outboxEmail{at: at}
		if len(tag) == 16 { // a message with an ID (its digest), kept once
			e.copy = tags[tag]
			tags[tag]++
		}
		if strings.HasPrefix(m.Subject, "Reminder: ") {
			e.reminderCopy = e.copy
		}
		out = append(out, e)
	}
	return out
}

// renderFaultTable is the markdown table of the rows.
func renderFaultTable(rows []faultRow) string {
	var b strings.Builder
	b.WriteString("| fault | requests | 5xx while PostgreSQL down | other 5xx | no answer (refused, failed over) | events | lost | duplicated: channels / sockets | missed by a socket: silently / told to reload | reminders due | lost / repeated | latest reminder | recovery after the part returns |\n")
	b.WriteString("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, r := range rows {
		fmt.Fprintf(&b, "| %s | %d | %d | %d | %d (%d) | %d | %d | %d / %d | %d / %d | %d | %d / %d | %.1f s | %s |\n",
			r.name, r.requests, r.serverErrPG, r.serverErr, r.noAnswer, r.refused, r.events, r.lost, r.dupChannels, r.dupSocket,
			r.socketMissed, r.socketTold, r.reminders, r.remLost, r.remDup, r.remLate.Seconds(), r.recovery)
	}
	return b.String()
}
