package jobs

import (
	"database/sql"
	"fmt"
	"log/slog"

	"github.com/riverqueue/river"
	"riverqueue.com/riverui"
)

// DashboardPrefix is where River UI, River's own job dashboard, is served.
const DashboardPrefix = "/admin/jobs"

// NewDashboard builds River UI over the queue's client, on SQLite as on
// PostgreSQL. It serves every path under DashboardPrefix and must be put
// behind the caller's own sign-in and role check: it has none. Job
// arguments, which may name people and medications, start hidden. Left
// unstarted, it runs no periodic queries: the sidebar's counts are taken
// when asked (exact up to 10,000 jobs per state, an estimate or a lower
// bound beyond), so an idle node does no work for it.
func NewDashboard(c *river.Client[*sql.Tx], logger *slog.Logger) (*riverui.Handler, error) {
	h, err := riverui.NewHandler(&riverui.HandlerOpts{
		Endpoints:                riverui.NewEndpoints(c, nil),
		Logger:                   logger,
		Prefix:                   DashboardPrefix,
		JobListHideArgsByDefault: true,
	})
	if err != nil {
		return nil, fmt.Errorf("jobs: river ui: %w", err)
	}
	return h, nil
}
