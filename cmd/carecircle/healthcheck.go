package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// healthcheck probes a health endpoint and fails unless it answers 200: the
// container image's HEALTHCHECK, which has no curl or shell to run.
func healthcheck(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	if len(args) > 1 {
		return usageError{"healthcheck takes at most one argument: the URL to probe"}
	}
	target := ""
	if len(args) == 1 {
		target = args[0]
	} else {
		port := strings.TrimSpace(getenv("PORT"))
		if port == "" {
			port = "4000"
		}
		target = "http://127.0.0.1:" + port + "/health/ready"
	}
	if u, err := url.Parse(target); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return usageError{fmt.Sprintf("healthcheck: %q is not an http(s) URL", target)}
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	defer res.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10))
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("healthcheck: %s answered %d", target, res.StatusCode)
	}
	fmt.Fprintf(stdout, "%s: ok\n", target)
	return nil
}
