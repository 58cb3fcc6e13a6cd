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
// arguments, which may name people and medications, start hidden. Start
// runs its count caches until the context ends.
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
