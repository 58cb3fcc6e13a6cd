package main

import (
	"context"
	"fmt"
	"io"

	"github.com/carecircle/carecircle/internal/app"
	"github.com/carecircle/carecircle/internal/clock"
	"github.com/carecircle/carecircle/internal/demo"
	"github.com/carecircle/carecircle/internal/jobs"
)

// seed creates the demo family in the configured database (migrating it
// first) and prints the demo users and their password.
func seed(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	if len(args) != 1 || args[0] != "--demo" {
		return usageError{"seed takes --demo"}
	}
	cfg, err := loadConfig(getenv)
	if err != nil {
		return err
	}
	clk := clock.Real{}
	st, err := app.OpenStore(ctx, cfg, clk)
	if err != nil {
		return err
	}
	defer st.Close()
	if _, err := st.Migrate(ctx); err != nil {
		return err
	}
	if err := jobs.Migrate(ctx, st); err != nil {
		return err
	}
	res, err := demo.Seed(ctx, st, clk.Now())
	if err != nil {
		return err
	}
	_, err = fmt.Fprint(stdout, res.Summary(cfg.PublicURL))
	return err
}
