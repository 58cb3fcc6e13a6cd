package operator

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/carecircle/carecircle/internal/clock"
	"github.com/carecircle/carecircle/internal/jobs"
	"github.com/carecircle/carecircle/internal/mail"
	"github.com/carecircle/carecircle/internal/store"
	"github.com/carecircle/carecircle/internal/store/storetest"
)

var t0 = time.Date(2026, 3, 8, 14, 30, 0, 0, time.UTC)

func TestSummariseOrdersComponentsAndLiftsTheirStatus(t *testing.T) {
	t.Parallel()
	sys := System{
		Database: Database{Status: "up", Dialect: "sqlite", LatencyMs: 1},
		Components: map[string]any{
			"zeta":      map[string]any{"status": "down", "why": "gone"},
			"redis":     map[string]any{"status": "disabled"},
			"rabbitmq":  map[string]any{"status": "up", "published": 3},
			"queue":     []store.QueueDepth{{Queue: "notifications", State: "available", Count: 2}},
			"scheduler": map[string]any{"lastRuns": []store.JobRun{{Job: "reminder-planner", Status: "ok", StartedAt: t0}}},
		},
	}
	got := Summarise(sys)
	var names []string
	for _, c := range got {
		names = append(names, c.Name)
	}
	if strings.Join(names, ",") != "database,redis,rabbitmq,queue,scheduler,zeta" {
		t.Fatalf("order = %v", names)
	}
	want := map[string]ComponentSummary{
		"database":  {Name: "database", Status: "up", Detail: `{"dialect":"sqlite","latencyMs":1}`},
		"redis":     {Name: "redis", Status: "disabled"},
		"rabbitmq":  {Name: "rabbitmq", Status: "up", Detail: `{"published":3}`},
		"queue":     {Name: "queue", Detail: `[{"queue":"notifications","state":"available","count":2}]`},
		"scheduler": {Name: "scheduler", Detail: "reminder-planner ok at 14:30:00Z"},
		"zeta":      {Name: "zeta", Status: "down", Detail: `{"why":"gone"}`},
	}
	for _, c := range got {
		if c != want[c.Name] {
			t.Errorf("%s = %+v, want %+v", c.Name, c, want[c.Name])
		}
	}
}

func TestListJobsRefusesUnknownFilters(t *testing.T) {
	t.Parallel()
	st := storetest.OpenSQLite(t, clock.NewFake(t0))
	if err := jobs.Migrate(context.Background(), st); err != nil {
		t.Fatal(err)
	}
	s := New(Deps{Store: st, Clock: clock.NewFake(t0)})
	for _, f := range []JobFilter{{State: "bogus"}, {Queue: "bogus"}} {
		if _, err := s.ListJobs(context.Background(), f); !errors.Is(err, ErrBadRequest) {
			t.Errorf("%+v: %v", f, err)
		}
	}
	// Without a job client only the counts are read.
	got, err := s.ListJobs(context.Background(), JobFilter{})
	if err != nil || got.State != "available" || len(got.Jobs) != 0 {
		t.Fatalf("list = %+v, %v", got, err)
	}
}

func TestEmailQuotaPerProviderAndClass(t *testing.T) {
	t.Parallel()
	clk := clock.NewFake(t0)
	st := storetest.OpenSQLite(t, clk)
	ctx := context.Background()
	quota := mail.NewQuota(mail.QuotaConfig{Limit: 100}, mail.NewMemoryCounter(clk), clk)
	chain := &mail.Chain{Providers: []mail.Provider{{Name: "brevo"}, {Name: "outbox", Unmetered: true}}, Quota: quota}
	for range 3 {
		if ok, err := quota.Reserve(ctx, "brevo", mail.PriorityRoutine); err != nil || !ok {
			t.Fatalf("reserve = %v, %v", ok, err)
		}
	}
	record := func(at time.Time, provider, priority, status string) {
		t.Helper()
		if err := st.RecordEmailAttempt(ctx, store.EmailAttempt{At: at, To: "a@example.com", Template: "t",
			Provider: provider, Priority: priority, Status: status}); err != nil {
			t.Fatal(err)
		}
	}
	record(t0.Add(-24*time.Hour), "brevo", "routine", "sent") // yesterday
	record(t0, "brevo", "routine", "sent")
	record(t0, "brevo", "routine", "sent")
	record(t0, "brevo", "emergency", "sent")
	record(t0, "brevo", "routine", "failed")
	record(t0, "outbox", "transactional", "sent")
	record(t0, "", "routine", "deferred")
	record(t0, "", "routine", "downgraded")

	got, err := New(Deps{Store: st, Clock: clk, Mail: chain}).EmailQuota(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got.Day != "2026-03-08" || len(got.Providers) != 2 || got.Deferred["routine"] != 1 || got.Downgraded["routine"] != 1 {
		t.Fatalf("quota = %+v", got)
	}
	brevo, outbox := got.Providers[0], got.Providers[1]
	if !brevo.Metered || brevo.Used != 3 || brevo.Limit != 100 || brevo.Status != "ok" {
		t.Fatalf("brevo = %+v", brevo)
	}
	sent := map[string]int{}
	for _, c := range brevo.Classes {
		sent[c.Class] = c.Sent
		if c.Ceiling == nil {
			t.Errorf("brevo %s has no ceiling", c.Class)
		}
	}
	if sent["routine"] != 2 || sent["critical"] != 1 || sent["transactional"] != 0 {
		t.Fatalf("brevo sent by class = %v", sent)
	}
	if outbox.Metered || outbox.Classes[1].Class != "transactional" || outbox.Classes[1].Sent != 1 || outbox.Classes[1].Ceiling != nil {
		t.Fatalf("outbox = %+v", outbox)
	}
}
