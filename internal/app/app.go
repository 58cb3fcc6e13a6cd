// Package app wires CareCircle's parts together for each process role. It is
// the only place that knows the whole object graph; nothing is global.
package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"time"

	"github.com/carecircle/carecircle/internal/api"
	"github.com/carecircle/carecircle/internal/auth"
	"github.com/carecircle/carecircle/internal/clock"
	"github.com/carecircle/carecircle/internal/config"
	"github.com/carecircle/carecircle/internal/kv"
	"github.com/carecircle/carecircle/internal/mail"
	"github.com/carecircle/carecircle/internal/store"
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

// Server is a running CareCircle HTTP server with everything it owns.
type Server struct {
	cfg    config.Config
	logger *slog.Logger
	store  *store.Store
	http   *http.Server
}

// NewServer builds the API server: it opens and migrates the database and
// loads (or generates) the secrets.
func NewServer(ctx context.Context, cfg config.Config, logger *slog.Logger) (*Server, error) {
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
	if n > 0 {
		logger.Info("database migrated", slog.Int("applied", n), slog.String("dialect", string(st.Dialect())))
	}
	secret, err := jwtSecret(cfg)
	if err != nil {
		return nil, err
	}
	mailer, err := mail.NewOutbox(filepath.Join(cfg.DataDir, "outbox"), cfg.MailFrom, logger, clk.Now)
	if err != nil {
		return nil, err
	}
	a := api.New(api.Config{
		Prefix:     cfg.APIPrefix,
		PublicURL:  cfg.PublicURL,
		Production: cfg.Production(),
		RateLimit:  cfg.RateLimit,
		TrustProxy: cfg.TrustProxy,
	}, api.Deps{
		Store:   st,
		Tokens:  auth.NewTokens(secret, cfg.JWTExpiresIn, clk.Now),
		Mail:    mailer,
		Limiter: kv.NewMemoryLimiter(clk),
		Clock:   clk,
		Logger:  logger,
	})
	ok = true
	return &Server{
		cfg:    cfg,
		logger: logger,
		store:  st,
		http: &http.Server{
			Addr:              fmt.Sprintf(":%d", cfg.Port),
			Handler:           a.Handler(),
			ReadHeaderTimeout: 10 * time.Second,
			ReadTimeout:       2 * time.Minute,
			IdleTimeout:       2 * time.Minute,
			MaxHeaderBytes:    64 << 10,
			ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
		},
	}, nil
}

// Run serves until ctx is cancelled, then lets in-flight requests finish
// (up to SHUTDOWN_TIMEOUT) and closes the database.
func (s *Server) Run(ctx context.Context) error {
	defer s.store.Close()
	ln, err := net.Listen("tcp", s.http.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", s.http.Addr, err)
	}
	s.logger.Info("carecircle serving", slog.String("addr", ln.Addr().String()),
		slog.String("dialect", string(s.store.Dialect())), slog.Any("config", s.cfg))
	errc := make(chan error, 1)
	go func() { errc <- s.http.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	s.logger.Info("shutting down", slog.Duration("grace", s.cfg.ShutdownGrace))
	shutdownCtx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownGrace)
	defer cancel()
	if err := s.http.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	s.logger.Info("stopped")
	return nil
}
