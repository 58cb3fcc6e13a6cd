package jobs

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/carecircle/carecircle/internal/notify"
	"github.com/carecircle/carecircle/internal/store"
)

// Staging moves a reminder's work out of its instant. StageAhead before it
// fires, the dispatcher decides the reminder as of its instant, writes its
// notifications (hidden while the entry is STAGED), builds the event that
// will announce them and records a fingerprint of the outcome
// (Engine.stage). At the instant it decides again from the world as it is
// then, in the same batched reads as any delivery (Engine.send): where the
// fingerprint still matches, sending is the entry's move to SENT and its
// held event's copy into the outbox, a few set-based statements per
// batch; where anything changed — a dose logged, a member gone, a
// preference turned off, the medication renamed — the staged notifications
// are deleted and the reminder is delivered as decided then. So a reminder
// says at its instant exactly what delivering it then would have said,
// exactly once.

// stageBatch is how many entries one staging transaction takes: each
// writes its reminders' notifications, so smaller than a dispatch claim.
const stageBatch = 200

// StageDue stages every planned reminder that fires after now and within
// StageAhead of it, earliest first. It returns how many entries it staged;
// it stops early when the first of them comes due meanwhile (a large peak
// being staged), so that the dispatcher sends what is due before staging
// the rest.
func (e *Engine) StageDue(ctx context.Context, now time.Time) (int, error) {
	if e.cfg.StageAhead <= 0 {
		return 0, nil
	}
	total := 0
	var first time.Time
	for {
		n, err := e.store.ClaimToStage(ctx, now, now.Add(e.cfg.StageAhead), stageBatch, func(ctx context.Context, entries []store.LedgerEntry) error {
			if first.IsZero() {
				first = entries[0].FireAt
			}
			return e.stage(ctx, entries)
		})
		total += n
		if err != nil || n < stageBatch || !e.clock.Now().Before(first) {
			return total, err
		}
	}
}

// stage decides entries as of their fire times and writes the outcomes
// ahead, inside the claim's transaction, which ctx carries.
func (e *Engine) stage(ctx context.Context, entries []store.LedgerEntry) error {
	outs, err := e.prepare(ctx, entries)
	if err != nil {
		return err
	}
	staged := make([]store.Staging, len(entries))
	var held []notify.Addressed
	var owner []int
	for i, en := range entries {
		fp, err := outs[i].fingerprint()
		if err != nil {
			return fmt.Errorf("stage %s: %w", en.Key, err)
		}
		staged[i] = store.Staging{Key: en.Key, Fingerprint: fp, Recipients: outs[i].addressed.Recipients()}
		if outs[i].status == store.LedgerSent && outs[i].notice != nil {
			held = append(held, outs[i].addressed)
			owner = append(owner, i)
		}
	}
	evs, err := e.notifier().WriteHeld(ctx, held...)
	if err != nil {
		return fmt.Errorf("stage: %w", err)
	}
	for j, i := range owner {
		if evs[j].ID != "" {
			staged[i].Event = &evs[j]
		}
	}
	return e.store.StageMany(ctx, staged)
}

// SendStagedDue sends every staged reminder whose instant has come, with
// several transactions at once on PostgreSQL (they skip each other's rows),
// so that the database and the engine work on a peak side by side. It
// returns how many entries it handled.
func (e *Engine) SendStagedDue(ctx context.Context, now time.Time) (int, error) {
	senders := e.cfg.Senders
	if senders <= 0 {
		senders = 1
		if e.store.Dialect() == store.Postgres {
			senders = 3
		}
	}
	var total atomic.Int64
	errs := make([]error, senders)
	var wg sync.WaitGroup
	for i := range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				n, err := e.store.ClaimStaged(ctx, now, claimBatch, func(ctx context.Context, due []store.StagedEntry) error {
					return e.send(ctx, now, due)
				})
				total.Add(int64(n))
				if err != nil || n < claimBatch {
					errs[i] = err
					return
				}
			}
		}()
	}
	wg.Wait()
	return int(total.Load()), errors.Join(errs...)
}

// send decides staged entries again as of now and sends each as staged
// when its outcome is unchanged, or as decided now when not, inside the
// claim's transaction, which ctx carries.
func (e *Engine) send(ctx context.Context, now time.Time, due []store.StagedEntry) error {
	var late []store.LedgerUpdate
	var dropped []string
	var ready []store.LedgerEntry
	var staged []string
	for _, en := range due {
		if en.FireAt.Before(now.Add(-e.cfg.Grace)) {
			reason := "due during downtime, older than the grace period"
			late = append(late, store.LedgerUpdate{Key: en.Key, Status: store.LedgerSkipped, Reason: &reason})
			dropped = append(dropped, en.Key)
			continue
		}
		ready = append(ready, en.LedgerEntry)
		staged = append(staged, en.Fingerprint)
	}
	outs, err := e.prepare(ctx, ready)
	if err != nil {
		return err
	}
	var asStaged []store.LedgerUpdate
	var changed []store.LedgerEntry
	var changedOuts []outcome
	for i, en := range ready {
		o := outs[i]
		fp, err := o.fingerprint()
		if err != nil {
			return fmt.Errorf("send %s: %w", en.Key, err)
		}
		if fp != staged[i] {
			changed = append(changed, en)
			changedOuts = append(changedOuts, o)
			dropped = append(dropped, en.Key)
			continue
		}
		u := store.LedgerUpdate{Key: en.Key, Status: o.status, Recipients: o.addressed.Recipients()}
		if o.reason != "" {
			u.Reason = &outs[i].reason
		}
		asStaged = append(asStaged, u)
		if o.missedDose != nil {
			if _, err := e.store.RecordMissedDose(ctx, en.EntityID, *o.missedDose); err != nil {
				return err
			}
		}
	}
	if err := e.store.DropStagedNotifications(ctx, dropped); err != nil {
		return err
	}
	if _, err := e.store.MarkLedgerMany(ctx, late, store.LedgerStaged); err != nil {
		return err
	}
	if err := e.store.SendStaged(ctx, asStaged); err != nil {
		return err
	}
	_, err = e.apply(ctx, changed, changedOuts, store.LedgerStaged)
	return err
}
