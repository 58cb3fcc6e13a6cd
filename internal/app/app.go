// Package app wires CareCircle's parts together for each process role. It is
// the only place that knows the whole object graph; nothing is global.
package app

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/redis/go-redis/v9"
	"github.com/riverqueue/river"

	"github.com/carecircle/carecircle/internal/api"
	"github.com/carecircle/carecircle/internal/auth"
	"github.com/carecircle/carecircle/internal/clock"
	"github.com/carecircle/carecircle/internal/config"
	"github.com/carecircle/carecircle/internal/jobs"
	"github.com/carecircle/carecircle/internal/kv"
	"github.com/carecircle/carecircle/internal/kv/dbkv"
	"github.com/carecircle/carecircle/internal/notify"
	"github.com/carecircle/carecircle/internal/operator"
	"github.com/carecircle/carecircle/internal/outbox"
	"github.com/carecircle/carecircle/internal/realtime"
	"github.com/carecircle/carecircle/internal/retention"
	"github.com/carecircle/carecircle/internal/store"
	"github.com/carecircle/carecircle/internal/web"
)

// NewLogger builds the process logger from the configuration.
func NewLogger(cfg config.Config, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.LogLevel}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// OpenStore connects to the configured database.
func OpenStore(ctx context.Context, cfg config.Config, clk clock.Clock) (*store.Store, error) {
	return store.Open(ctx, store.Options{
		DatabaseURL: cfg.DatabaseURL,
		SQLitePath:  filepath.Join(cfg.DataDir, "carecircle.db"),
		Clock:       clk,
	})
}

// Role selects what a process runs.
type Role string

// Process roles.
const (
	// RoleAll runs the API, the web app and the background work in one process.
	RoleAll Role = "all"
	// RoleAPI serves HTTP only; a worker process does the background work.
	RoleAPI Role = "api"
	// RoleWorker runs the background work, with health probes on HEALTH_PORT.
	RoleWorker Role = "worker"
)

// Server is a running CareCircle process with everything it owns.
type Server struct {
	cfg    config.Config
	role   Role
	logger *slog.Logger
	store  *store.Store
	http   *http.Server // the API, or the worker's health probes
	engine *jobs.Engine
	river  *river.Client[*sql.Tx]
	redis  *redis.Client
	shared *kv.Resilient
	cache  *kv.NodeCache // the API's read cache, with Redis
	rt     *realtime.Node
	bus    eventBus
	// background runs beside the HTTP server until shutdown: the outbox
	// dispatcher and the deferred-mail sender on dispatching roles.
	background []func(ctx context.Context)
}

// NewServer builds a process of the given role: it opens and migrates the
// database and loads (or generates) the secrets.
func NewServer(ctx context.Context, cfg config.Config, logger *slog.Logger, role Role) (*Server, error) {
	clk := clock.Real{}
	st, err := OpenStore(ctx, cfg, clk)
	if err != nil {
		return nil, err
	}
	ok := false
	defer func() {
		if !ok {
			st.Close()
		}
	}()
	n, err := st.Migrate(ctx)
	if err != nil {
		return nil, err
	}
	if err := jobs.Migrate(ctx, st); err != nil {
		return nil, err
	}
	if n > 0 {
		logger.Info("database migrated", slog.Int("applied", n), slog.String("dialect", string(st.Dialect())))
	}
	srv := &Server{cfg: cfg, role: role, logger: logger, store: st}
	if cfg.Redis() {
		if srv.redis, srv.shared, err = openShared(ctx, cfg, st, clk, logger); err != nil {
			return nil, err
		}
		defer func() {
			if !ok {
				srv.shared.Close()
				_ = srv.redis.Close()
			}
		}()
	}
	vapid, err := loadVAPID(ctx, cfg, st)
	if err != nil {
		return nil, err
	}
	chain, err := buildMailChain(cfg, st, clk, logger)
	if err != nil {
		return nil, err
	}
	mailer := &notify.Mailer{Chain: chain, Store: st, Clock: clk}
	texts, err := newSMS(cfg)
	if err != nil {
		return nil, err
	}
	// Documents are kept under DATA_DIR/documents or in an S3 bucket, and
	// checked by the document-upload job.
	files, err := newFileStorage(ctx, cfg)
	if err != nil {
		return nil, err
	}
	docs := jobs.NewDocuments(jobs.DocumentsConfig{Store: st, Files: files, Clock: clk, Logger: logger,
		ExpiryReminders: cfg.CronEnabled})
	// consumers take every committed domain event from the outbox.
	var consumers []outbox.Consumer
	var channels *jobs.Channels
	if role != RoleAPI {
		deliverer, err := newDeliverer(cfg, st, chain, vapid, texts, clk, logger)
		if err != nil {
			return nil, err
		}
		// Push, email and SMS go through the notifications queue, so the
		// dispatcher's pass (which also feeds the sockets) never waits on
		// them; emergencies are sent in the pass.
		channels = jobs.NewChannels(deliverer)
		consumers = append(consumers, channels)
	}
	if role != RoleAPI {
		ecfg := jobs.DefaultEngineConfig()
		ecfg.QueueEnabled = cfg.QueueEnabled
		ecfg.Grace = cfg.ReminderGrace
		ecfg.Rules.MissedAfter = cfg.MissedAfter
		srv.engine = jobs.NewEngine(st, nil, clk, logger, ecfg)
		srv.river, err = jobs.NewClient(st, srv.engine.Workers(), jobs.ClientConfig{Work: true, Concurrency: cfg.QueueConcurrency, Logger: logger,
			Documents: docs, Channels: channels})
		if err != nil {
			return nil, err
		}
		srv.engine.SetRiver(srv.river)
		if cfg.QueueEnabled {
			channels.SetRiver(srv.river)
		}
		if srv.shared != nil {
			srv.engine.SetLocker(srv.shared.Locker())
		}
	}
	var retrier api.JobRetrier
	var docJobs api.JobInserter
	var jobLister operator.JobLister
	jobClient := srv.river
	if jobClient == nil && role == RoleAPI {
		// An API node only enqueues uploads and acts on jobs for operators
		// (lists, retries, discards); a worker processes them.
		if jobClient, err = jobs.NewClient(st, river.NewWorkers(), jobs.ClientConfig{Logger: logger, Documents: docs}); err != nil {
			return nil, err
		}
	}
	if jobClient != nil {
		retrier, docJobs, jobLister = jobClient, jobClient, jobClient
	}
	var tokens *auth.Tokens
	var secret []byte
	if role != RoleWorker {
		if secret, err = jwtSecret(cfg); err != nil {
			return nil, err
		}
		tokens = auth.NewTokens(secret, cfg.JWTExpiresIn, clk.Now)
	}
	if srv.rt, err = newRealtime(cfg, role, st, tokens, clk, logger); err != nil {
		return nil, err
	}
	if role != RoleAPI {
		consumers = append(consumers, srv.rt.Consumer())
	}
	// With RabbitMQ, the dispatcher's one consumer publishes to the broker
	// and the consumers above read their queues; every role declares the
	// topology and reports the broker on /health.
	if srv.bus, err = eventConsumers(BusConfig{RabbitEnabled: cfg.RabbitEnabled, RabbitURL: cfg.RabbitURL}, st, logger, consumers); err != nil {
		return nil, err
	}
	defer func() {
		if !ok {
			srv.bus.close()
		}
	}()
	var workerHealth []jobs.HealthReporter
	apiHealth := []api.HealthReporter{notify.QuotaHealth{Chain: chain}, outbox.Health{Store: st}, srv.rt}
	if srv.bus.health != nil {
		workerHealth = append(workerHealth, srv.bus.health)
		apiHealth = append(apiHealth, srv.bus.health)
	}
	if role == RoleWorker {
		srv.http = newHTTPServer(cfg.HealthPort, jobs.HealthHandler(st, clk, workerHealth...), logger)
	} else {
		// Without Redis: limits in memory, codes and lockouts in the database
		// (the API's default), and a memory cache only on SQLite, where there
		// is one node by construction and so no other node to go stale.
		limiter := kv.RateLimiter(kv.NewMemoryLimiter(clk))
		var (
			sharedStatus api.SharedState
			cache        kv.Cache
			codes        kv.Codes
			lockout      kv.Lockout
		)
		if st.Dialect() == store.SQLite {
			cache = kv.NewMemoryCache(clk, 0)
		}
		if srv.shared != nil {
			// The per-client tiers are counted in memory first and in Redis
			// only near a limit (see kv.LocalFirstLimiter for the precision).
			limiter = kv.NewLocalFirstLimiter(clk, srv.shared.Limiter(), api.CountedLocallyFirst)
			cache, codes, lockout = srv.readCache(clk, logger), srv.shared.Codes(), srv.shared.Lockout()
			sharedStatus = srv.shared
		}
		push, err := newPushSender(cfg, vapid, clk)
		if err != nil {
			return nil, err
		}
		// The operator's figures, read alike by the admin API and /admin.
		ops := operator.New(operator.Deps{Store: st, Clock: clk, Shared: sharedStatus, Health: apiHealth, Jobs: jobLister, Mail: chain})
		a := api.New(api.Config{
			Prefix:       cfg.APIPrefix,
			PublicURL:    cfg.PublicURL,
			Production:   cfg.Production(),
			RateLimit:    cfg.RateLimit,
			TrustProxy:   cfg.TrustProxy,
			MetricsToken: cfg.MetricsToken,
			// The same origins the realtime endpoint admits.
			AllowedOrigins: cfg.AllowedOrigins,
		}, api.Deps{
			Store:          st,
			Tokens:         tokens,
			Mail:           mailer,
			Limiter:        limiter,
			Cache:          cache,
			Codes:          codes,
			Lockout:        lockout,
			Clock:          clk,
			Logger:         logger,
			Jobs:           retrier,
			Shared:         sharedStatus,
			VAPIDPublicKey: vapid.Keys.Public,
			Push:           push,
			SMS:            texts,
			Health:         apiHealth,
			Files:          files,
			DocumentJobs:   docJobs,
			LinkSecret:     secret,
			Realtime:       srv.rt,
			Operator:       ops,
		})
		webDeps := web.Deps{Store: st, Cache: cache, Tokens: tokens, Clock: clk, Logger: logger, Operator: ops}
		if jobClient != nil {
			dash, err := jobs.NewDashboard(jobClient, logger)
			if err != nil {
				return nil, err
			}
			// Not started: an idle node runs none of River UI's periodic
			// count queries; it counts when someone looks.
			webDeps.JobsUI = dash
		}
		pages, err := web.New(web.Config{APIPrefix: cfg.APIPrefix}, webDeps)
		if err != nil {
			return nil, err
		}
		srv.http = newHTTPServer(cfg.Port, a.TransportSecurity(withRealtime(web.Split(cfg.APIPrefix, a.Handler(), pages.Handler()), srv.rt)), logger)
	}
	if role != RoleAPI {
		// Events committed by any node (API nodes have no dispatcher of their
		// own) are dispatched by one process at a time, which holds the lease.
		dispatch := srv.bus.dispatch
		dispatch.Retention = cfg.Retention.Outbox
		if dispatch.Retention == 0 {
			dispatch.Retention = keepForever
		}
		d := outbox.New(st, clk, logger, dispatch, srv.bus.dispatched...)
		srv.background = append(srv.background,
			func(ctx context.Context) { _ = d.Run(ctx) },
			func(ctx context.Context) {
				if err := srv.bus.run(ctx); err != nil {
					logger.Error("rabbitmq consumers", slog.Any("error", err))
				}
			},
			func(ctx context.Context) { runDeferredMail(ctx, st, mailer, logger) })
		if cfg.CronEnabled {
			pruner := &retention.Pruner{Store: st, Clock: clk, Logger: logger, Policy: cfg.Retention, Holder: uuid.NewString()}
			srv.background = append(srv.background, pruner.Run)
		}
	}
	ok = true
	return srv, nil
}

// keepForever is the outbox dispatcher's retention when OUTBOX_RETENTION=0.
const keepForever = 100 * 365 * 24 * time.Hour

// openShared connects to Redis, which then keeps the cache, rate limits,
// codes, lockouts and locks for every node. While Redis is away, codes and
// lockouts fall back to the database (shared by every node, so a code sent
// during an outage is accepted by any of them), rate limits to memory, and
// the cache is bypassed.
func openShared(ctx context.Context, cfg config.Config, st *store.Store, clk clock.Clock, logger *slog.Logger) (*redis.Client, *kv.Resilient, error) {
	opts, err := kv.RedisOptions(cfg.RedisURL, cfg.RedisHost, cfg.RedisPort, cfg.RedisPassword, cfg.RedisTLS)
	if err != nil {
		return nil, nil, fmt.Errorf("redis: %w", err)
	}
	rdb := redis.NewClient(opts)
	shared, err := kv.NewResilient(ctx, kv.ResilientConfig{Client: rdb, Prefix: cfg.RedisKeyPrefix, Clock: clk, Logger: logger,
		Codes: dbkv.Codes(st), Lockout: dbkv.Lockout(st)})
	if err != nil {
		_ = rdb.Close()
		return nil, nil, fmt.Errorf("redis: %w", err)
	}
	return rdb, shared, nil
}

func newHTTPServer(port int, h http.Handler, logger *slog.Logger) *http.Server {
	return &http.Server{
		Addr:              fmt.Sprintf(":%d", port),
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       2 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
}

// Run serves until ctx is cancelled, then lets in-flight requests and jobs
// finish (up to SHUTDOWN_TIMEOUT) and closes the database.
func (s *Server) Run(ctx context.Context) error {
	defer s.store.Close()
	ln, err := net.Listen("tcp", s.http.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", s.http.Addr, err)
	}
	// The job queue and the engine get contexts of their own so that shutdown
	// can stop them in order: planning first, then the queue, gracefully.
	riverCtx, stopRiver := context.WithCancel(context.WithoutCancel(ctx))
	defer stopRiver()
	engineCtx, stopEngine := context.WithCancel(context.WithoutCancel(ctx))
	defer stopEngine()
	if err := s.rt.Run(); err != nil {
		return err
	}
	engineDone := make(chan error, 1)
	if s.engine != nil {
		if err := s.river.Start(riverCtx); err != nil {
			return fmt.Errorf("start job queue: %w", err)
		}
		go func() { engineDone <- s.engine.Run(engineCtx, s.cfg.CronEnabled) }()
	} else {
		engineDone <- nil
	}
	bgCtx, stopBackground := context.WithCancel(context.WithoutCancel(ctx))
	var bg sync.WaitGroup
	for _, run := range s.background {
		bg.Go(func() { run(bgCtx) })
	}
	defer func() { stopBackground(); bg.Wait(); s.bus.close() }()
	s.logger.Info("carecircle serving", slog.String("role", string(s.role)), slog.String("addr", ln.Addr().String()),
		slog.String("dialect", string(s.store.Dialect())), slog.Any("config", s.cfg))
	errc := make(chan error, 1)
	go func() { errc <- s.http.Serve(ln) }()
	var serveErr error
	select {
	case serveErr = <-errc:
	case <-ctx.Done():
	}
	s.logger.Info("shutting down", slog.Duration("grace", s.cfg.ShutdownGrace))
	shutdownCtx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownGrace)
	defer cancel()
	var errs []error
	if err := s.http.Shutdown(shutdownCtx); err != nil {
		errs = append(errs, fmt.Errorf("shutdown: %w", err))
	}
	if err := shutdownRealtime(shutdownCtx, s.rt); err != nil {
		errs = append(errs, err)
	}
	stopEngine()
	if err := <-engineDone; err != nil {
		errs = append(errs, err)
	}
	if s.river != nil {
		if err := s.river.Stop(shutdownCtx); err != nil {
			errs = append(errs, fmt.Errorf("stop job queue: %w", err))
		}
	}
	if serveErr == nil {
		serveErr = <-errc
	}
	if serveErr != nil && !errors.Is(serveErr, http.ErrServerClosed) {
		errs = append(errs, fmt.Errorf("serve: %w", serveErr))
	}
	if s.cache != nil {
		s.cache.Close()
	}
	if s.shared != nil {
		s.shared.Close()
	}
	if s.redis != nil {
		if err := s.redis.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close redis: %w", err))
		}
	}
	s.logger.Info("stopped")
	return errors.Join(errs...)
}
