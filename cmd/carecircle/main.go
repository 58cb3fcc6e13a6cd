// Command carecircle runs the CareCircle service: the API, web app, realtime
// endpoint and background work in one binary.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
	"text/tabwriter"

	"github.com/redis/go-redis/v9"

	"github.com/carecircle/carecircle/internal/app"
	"github.com/carecircle/carecircle/internal/config"
	"github.com/carecircle/carecircle/internal/jobs"
	"github.com/carecircle/carecircle/internal/kv"
)

func main() {
	// go-redis logs every failed dial through a process-wide logger; an
	// outage is reported once, by the resilient wrapper, so these are dropped.
	redis.SetLogger(kv.ClientLogger{})
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		var usage usageError
		fmt.Fprintln(os.Stderr, "carecircle:", err)
		if errors.As(err, &usage) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

// usageError is a mistake in the command line.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg + " (see carecircle --help)" }

// run executes one subcommand; it is main without the process exits.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cmd := "serve"
	if len(args) > 0 {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "-h", "--help", "help":
		printHelp(stdout)
		return nil
	case "version", "--version":
		fmt.Fprintln(stdout, "carecircle", version())
		return nil
	case "serve":
		return serve(ctx, args, getenv, stderr)
	case "worker":
		if len(args) > 0 {
			return usageError{fmt.Sprintf("worker takes no arguments (got %q)", args[0])}
		}
		return runRole(ctx, app.RoleWorker, getenv, stderr)
	case "migrate":
		return migrate(ctx, args, getenv, stdout, stderr)
	case "seed":
		return seed(ctx, args, getenv, stdout)
	case "backup":
		return backupCmd(ctx, args, getenv, stdout)
	case "restore":
		return restoreCmd(ctx, args, getenv, stdout)
	case "user":
		return userCmd(ctx, args, getenv, stdout)
	case "healthcheck":
		return healthcheck(ctx, args, getenv, stdout)
	default:
		return usageError{fmt.Sprintf("unknown command %q", cmd)}
	}
}

func loadConfig(getenv func(string) string) (config.Config, error) {
	cfg, err := config.Load(getenv)
	if err != nil {
		return cfg, fmt.Errorf("configuration:\n%w", err)
	}
	return cfg, nil
}

func serve(ctx context.Context, args []string, getenv func(string) string, logOut io.Writer) error {
	role := app.RoleAll
	for _, a := range args {
		switch a {
		case "--role=all":
			role = app.RoleAll
		case "--role=api":
			role = app.RoleAPI
		default:
			return usageError{fmt.Sprintf("serve: unexpected argument %q (want --role=all or --role=api)", a)}
		}
	}
	return runRole(ctx, role, getenv, logOut)
}

func runRole(ctx context.Context, role app.Role, getenv func(string) string, logOut io.Writer) error {
	cfg, err := loadConfig(getenv)
	if err != nil {
		return err
	}
	logger := app.NewLogger(cfg, logOut)
	srv, err := app.NewServer(ctx, cfg, logger, role)
	if err != nil {
		return err
	}
	return srv.Run(ctx)
}

func migrate(ctx context.Context, args []string, getenv func(string) string, stdout, logOut io.Writer) error {
	sub := "up"
	if len(args) > 0 {
		sub = args[0]
	}
	if len(args) > 1 || (sub != "up" && sub != "status") {
		return usageError{"migrate takes one of: up, status"}
	}
	cfg, err := loadConfig(getenv)
	if err != nil {
		return err
	}
	st, err := app.OpenStore(ctx, cfg, nil)
	if err != nil {
		return err
	}
	defer st.Close()
	if sub == "up" {
		n, err := st.Migrate(ctx)
		if err != nil {
			return err
		}
		if err := jobs.Migrate(ctx, st); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "applied %d migration(s) on %s\n", n, st.Dialect())
		return nil
	}
	ms, err := st.Migrations(ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "VERSION\tNAME\tAPPLIED\n")
	for _, m := range ms {
		applied := "pending"
		if m.AppliedAt != nil {
			applied = m.AppliedAt.Format("2006-01-02 15:04:05Z07:00")
		}
		fmt.Fprintf(tw, "%04d\t%s\t%s\n", m.Version, m.Name, applied)
	}
	return tw.Flush()
}

func printHelp(w io.Writer) {
	fmt.Fprint(w, `CareCircle: families caring for someone together.

Usage:
  carecircle [command]

Commands:
  serve            run the API, web app and background work (default)
  serve --role=api run the API and web app only (background work runs in a worker)
  worker           run the background work only, with health probes on HEALTH_PORT
  migrate up       apply pending database migrations
  migrate status   list migrations and when each was applied
  seed --demo      create a demo family with a week of data and print how to sign in
  backup FILE      write the SQLite database (copied live), secrets and documents to FILE (tar.gz)
  restore FILE     unpack a backup into an empty DATA_DIR
  healthcheck [URL] exit 0 when URL (default http://127.0.0.1:$PORT/health/ready) answers 200
  user set-role EMAIL ADMIN|SUPER_ADMIN|USER
                   give an existing account a role across the installation
  version          print the version
  help             print this help

Environment:
`)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, v := range config.Vars() {
		def := v.Default
		if def == "" {
			def = "(empty)"
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", v.Name, def, v.Help)
	}
	tw.Flush()
}

// buildVersion is set at link time (-ldflags "-X main.buildVersion=v1.2.3")
// by builds outside a module download, such as the container image's.
var buildVersion string

func version() string {
	if buildVersion != "" {
		return buildVersion
	}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "(unknown)"
	}
	v := info.Main.Version
	for _, s := range info.Settings {
		if s.Key == "vcs.revision" && len(s.Value) >= 12 {
			v += " " + s.Value[:12]
		}
	}
	return v
}
