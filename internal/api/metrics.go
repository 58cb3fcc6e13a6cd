package api

import (
	"crypto/subtle"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics are the server's Prometheus collectors, in a registry of its own.
type metrics struct {
	registry *prometheus.Registry
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

func newMetrics() *metrics {
	m := &metrics{
		registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "carecircle_http_requests_total",
			Help: "HTTP requests by route pattern, method and status code.",
		}, []string{"route", "method", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "carecircle_http_request_duration_seconds",
			Help:    "HTTP request latency by route pattern.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"route"}),
	}
	m.registry.MustRegister(m.requests, m.duration,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// observe records one finished request. The route is the matched pattern,
// never the raw path, so ids do not explode the label set.
func (m *metrics) observe(r *http.Request, status int, took time.Duration) {
	route := r.Pattern
	if route == "" {
		route = "unmatched"
	}
	m.requests.WithLabelValues(route, r.Method, strconv.Itoa(status)).Inc()
	m.duration.WithLabelValues(route).Observe(took.Seconds())
}

// metricsTokenGiven reports whether the request carries METRICS_TOKEN as
// its bearer token (never true when no token is configured).
func (s *Server) metricsTokenGiven(r *http.Request) bool {
	if s.cfg.MetricsToken == "" {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(accessToken(r)), []byte(s.cfg.MetricsToken)) == 1
}

// Registry lets other components (the job engine) add their collectors.
func (s *Server) Registry() *prometheus.Registry { return s.metrics.registry }

// serveMetrics is GET /metrics, in Prometheus text format; with
// METRICS_TOKEN set it requires that bearer token. In production without
// METRICS_TOKEN there are no metrics to scrape: the route answers 404, so
// nothing about the process is public.
func (s *Server) serveMetrics(w http.ResponseWriter, r *http.Request) error {
	if s.cfg.MetricsToken == "" && s.cfg.Production {
		return errorf(http.StatusNotFound, "Cannot GET /metrics")
	}
	if s.cfg.MetricsToken != "" && !s.metricsTokenGiven(r) {
		return unauthorized("Metrics token required")
	}
	promhttp.HandlerFor(s.metrics.registry, promhttp.HandlerOpts{}).ServeHTTP(w, r)
	return nil
}
