package main

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/carecircle/carecircle/internal/demo"
	"github.com/carecircle/carecircle/internal/store/storetest"
)

// TestSeedDemo seeds the demo family on each database, signs in as its
// admin with the printed password and finds the week of data through the
// API; a second seed refuses and changes nothing.
func TestSeedDemo(t *testing.T) {
	t.Parallel()
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			dataDir := t.TempDir()
			env := map[string]string{"DATA_DIR": dataDir, "RATE_LIMIT_ENABLED": "false"}
			if backend == "postgres" {
				env["DATABASE_URL"] = storetest.NewPostgresSchema(t)
			}
			var out bytes.Buffer
			if err := run(context.Background(), []string{"seed", "--demo"}, envOf(env), &out, &bytes.Buffer{}); err != nil {
				t.Fatal(err)
			}
			for _, want := range []string{demo.Password, demo.Users[0].Email, demo.Users[1].Email, "/login"} {
				if !strings.Contains(out.String(), want) {
					t.Errorf("the seed output does not show %q:\n%s", want, out.String())
				}
			}
			err := run(context.Background(), []string{"seed", "--demo"}, envOf(env), &bytes.Buffer{}, &bytes.Buffer{})
			if !errors.Is(err, demo.ErrAlreadySeeded) {
				t.Errorf("a second seed = %v, want ErrAlreadySeeded", err)
			}

			base, _ := startServer(t, env)
			c := &e2eClient{t: t, base: base, outbox: filepath.Join(dataDir, "outbox")}
			login := c.call("POST", "/auth/login", "", map[string]any{"email": demo.Users[1].Email, "password": demo.Password}, 200)
			token := login["accessToken"].(string)
			me := c.call("GET", "/auth/me", token, nil, 200)
			fams := me["families"].([]any)
			if len(fams) != 1 {
				t.Fatalf("families = %v", fams)
			}
			crs := fams[0].(map[string]any)["careRecipients"].([]any)
			crID := crs[0].(map[string]any)["id"].(string)
			sched := c.callList("GET", "/care-recipients/"+crID+"/medications/schedule/today", token)
			if len(sched) != 3 {
				t.Errorf("today's schedule has %d medications, want 3", len(sched))
			}
			meds := c.callList("GET", "/care-recipients/"+crID+"/medications", token)
			logs := c.callList("GET", "/care-recipients/"+crID+"/medications/"+meds[0].(map[string]any)["id"].(string)+"/logs?limit=100", token)
			if len(logs) < 7 {
				t.Errorf("the first medication has %d logs, want a week's", len(logs))
			}
			if appts := c.callList("GET", "/care-recipients/"+crID+"/appointments/upcoming", token); len(appts) == 0 {
				t.Error("no upcoming appointments")
			}
			if onDuty := c.call("GET", "/care-recipients/"+crID+"/shifts/on-duty", token, nil, 200); onDuty["caregiver"] == nil || onDuty["shift"] == nil {
				t.Errorf("on duty = %v, want a caregiver and their shift", onDuty)
			}
		})
	}
}
