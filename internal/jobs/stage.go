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

// SendStagedDue sends every staged reminder whose instant has come. One
// goroutine lists the due entries, a page at a time; Senders goroutines
// each decide a page again from the world as it is now, reading outside any
// transaction, then claim the page and send it (send). So the reads and
// rendering of one page overlap the writes of another — on SQLite too,
// whose readers do not wait for its one writer — and nothing waits on a
// lock while a page is being decided. It returns how many entries it
// handled.
func (e *Engine) SendStagedDue(ctx context.Context, now time.Time) (int, error) {
	senders := e.cfg.Senders
	if senders <= 0 {
		senders = 2
		if e.store.Dialect() == store.Postgres {
			senders = 3
		}
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	pages := make(chan []store.StagedEntry, senders)
	var listErr error
	listed := make(chan struct{})
	go func() {
		defer close(listed)
		defer close(pages)
		var after *store.StagedEntry
		for {
			due, err := e.store.StagedDue(ctx, now, after, claimBatch)
			if err != nil || len(due) == 0 {
				listErr = err
				return
			}
			select {
			case pages <- due:
			case <-ctx.Done():
				return
			}
			if len(due) < claimBatch {
				return
			}
			after = &due[len(due)-1]
		}
	}()
	var total atomic.Int64
	errs := make([]error, senders)
	var wg sync.WaitGroup
	for i := range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for page := range pages {
				n, err := e.sendPage(ctx, now, page)
				total.Add(int64(n))
				if err != nil {
					errs[i] = err
					cancel() // the rest stay STAGED for the next pass
					return
				}
			}
		}()
	}
	wg.Wait()
	cancel()
	<-listed
	return int(total.Load()), errors.Join(append(errs, listErr)...)
}

// sendPage decides a page of due staged entries as of now, outside any
// transaction, then claims those still staged and sends them.
func (e *Engine) sendPage(ctx context.Context, now time.Time, page []store.StagedEntry) (int, error) {
	entries := make([]store.LedgerEntry, len(page))
	keys := make([]string, len(page))
	for i, en := range page {
		entries[i], keys[i] = en.LedgerEntry, en.Key
	}
	outs, err := e.prepare(ctx, entries)
	if err != nil {
		return 0, err
	}
	decided := make(map[string]outcome, len(page))
	for i, en := range page {
		decided[en.Key] = outs[i]
	}
	return e.store.ClaimStaged(ctx, keys, func(ctx context.Context, claimed []store.StagedEntry) error {
		return e.send(ctx, now, claimed, decided)
	})
}

// send sends claimed staged entries inside the claim's transaction, which
// ctx carries: each as staged when its outcome, decided just now, is the
// one it was staged with, or as decided now when not.
func (e *Engine) send(ctx context.Context, now time.Time, claimed []store.StagedEntry, decided map[string]outcome) error {
	var late []store.LedgerUpdate
	var dropped []string
	var asStaged []store.LedgerUpdate
	var changed []store.LedgerEntry
	var changedOuts []outcome
	for _, en := range claimed {
		if skip, ok := e.tooLate(en.LedgerEntry, now); ok {
			late = append(late, skip)
			dropped = append(dropped, en.Key)
			continue
		}
		o := decided[en.Key]
		fp, err := o.fingerprint()
		if err != nil {
			return fmt.Errorf("send %s: %w", en.Key, err)
		}
		if fp != en.Fingerprint {
			changed = append(changed, en.LedgerEntry)
			changedOuts = append(changedOuts, o)
			dropped = append(dropped, en.Key)
			continue
		}
		u := store.LedgerUpdate{Key: en.Key, Status: o.status, Recipients: o.addressed.Recipients()}
		if o.reason != "" {
			reason := o.reason
			u.Reason = &reason
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
	_, err := e.apply(ctx, changed, changedOuts, store.LedgerStaged)
	return err
}
