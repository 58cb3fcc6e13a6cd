package store

import (
	"context"
	"fmt"
)

// QueueDepth counts a queue's jobs in one state.
type QueueDepth struct {
	Queue string `json:"queue"`
	State string `json:"state"`
	Count int    `json:"count"`
}

// QueueDepths counts the job queue's jobs by queue and state, leaving out
// completed ones. It needs the job queue's tables (jobs.Migrate).
func (s *Store) QueueDepths(ctx context.Context) ([]QueueDepth, error) {
	rows, err := s.rq(ctx).QueryContext(ctx, `SELECT queue, state, COUNT(*) FROM river_job
		WHERE state <> 'completed' GROUP BY queue, state ORDER BY queue, state`)
	if err != nil {
		return nil, fmt.Errorf("store: queue depths: %w", err)
	}
	return collect(rows, func(row interface{ Scan(...any) error }) (*QueueDepth, error) {
		var d QueueDepth
		if err := row.Scan(&d.Queue, &d.State, &d.Count); err != nil {
			return nil, mapErr(err)
		}
		return &d, nil
	})
}
