package jobs

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/carecircle/carecircle/internal/clock"
	"github.com/carecircle/carecircle/internal/store"
)

// Status is what the health endpoints report about background work.
type Status struct {
	Queues      []store.QueueDepth `json:"queues"`
	LastRuns    []store.JobRun     `json:"lastRuns"`
	DeadLetters int                `json:"deadLetters"`
	Reminders   map[string]int     `json:"reminders"`
}

// ReadStatus gathers the queue, schedule and dead-letter figures.
func ReadStatus(ctx context.Context, st *store.Store, now time.Time) (Status, error) {
	var s Status
	var err error
	if s.Queues, err = st.QueueDepths(ctx); err != nil {
		return s, err
	}
	if s.LastRuns, err = st.LastJobRuns(ctx); err != nil {
		return s, err
	}
	if s.DeadLetters, _, err = st.CountDeadLetters(ctx, now); err != nil {
		return s, err
	}
	s.Reminders, err = st.LedgerCounts(ctx)
	return s, err
}

// HealthReporter describes one more component of the worker's /health,
// under its name.
type HealthReporter interface {
	Name() string
	Health(ctx context.Context) any
}

// HealthHandler serves the worker process's probes: /health and /healthz
// (database, queues and each extra component) and /ready (database answers).
func HealthHandler(st *store.Store, clk clock.Clock, extra ...HealthReporter) http.Handler {
	mux := http.NewServeMux()
	health := func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
		defer cancel()
		body := map[string]any{"status": "ok", "timestamp": clk.Now().Format(time.RFC3339)}
		code := http.StatusOK
		if err := st.Ping(ctx); err != nil {
			body["status"], body["database"] = "error", "down"
			code = http.StatusServiceUnavailable
		} else if s, err := ReadStatus(ctx, st, clk.Now()); err != nil {
			body["status"], body["queue"] = "error", "unreadable"
			code = http.StatusServiceUnavailable
		} else {
			body["database"] = "up"
			body["queue"] = s
		}
		for _, r := range extra {
			body[r.Name()] = r.Health(ctx)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		_ = json.NewEncoder(w).Encode(body)
	}
	mux.HandleFunc("GET /health", health)
	mux.HandleFunc("GET /healthz", health)
	mux.HandleFunc("GET /ready", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		w.Header().Set("Content-Type", "application/json")
		if err := st.Ping(ctx); err != nil {
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte(`{"status":"unavailable"}`))
			return
		}
		_, _ = w.Write([]byte(`{"status":"ready"}`))
	})
	return mux
}
