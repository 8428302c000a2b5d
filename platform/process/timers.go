package process

import (
	"context"
	"fmt"
	"time"

	"github.com/crmgen/crmgen/metamodel"
	"github.com/crmgen/crmgen/platform/enforce"
	"github.com/crmgen/crmgen/platform/workflow"
)

// StaleClaim is how long a claimed timer may stay unfired before another instance takes it over (its
// instance stopped or crashed while firing it). Firing takes milliseconds; this leaves a wide margin.
const StaleClaim = 5 * time.Minute

// claimBatch is how many due timers one claim takes.
const claimBatch = 50

// RunTimers fires due timers now and then every interval until ctx is done. owner names this instance
// (several instances may share one database: each timer fires in exactly one of them).
func (e *Engine) RunTimers(ctx context.Context, owner string, interval time.Duration) {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		if n, err := e.FireDue(ctx, owner); err != nil && ctx.Err() == nil {
			e.Log.Error("timers", "err", err)
		} else if n > 0 {
			e.Log.Info("timers fired", "count", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// FireDue claims the timers due now and fires each in its own transaction; it returns how many fired. A
// timer whose firing fails is marked failed and logged, and the others still fire.
func (e *Engine) FireDue(ctx context.Context, owner string) (int, error) {
	if e.DB == nil {
		return 0, fmt.Errorf("timers: no database")
	}
	now := e.now()
	if _, err := workflow.ReleaseStale(ctx, e.DB, e.Dialect, now.Add(-StaleClaim)); err != nil {
		return 0, err
	}
	fired := 0
	for {
		due, err := workflow.ClaimDue(ctx, e.DB, e.Dialect, now, claimBatch, owner)
		if err != nil {
			return fired, err
		}
		for _, t := range due {
			if err := e.fire(ctx, t, owner); err != nil {
				e.Log.Error("timer failed", "timer", t.ID, "workflow", t.Workflow, "entity", t.Entity, "record", t.RecordID,
					"state", t.State, "err", err)
				if err := workflow.MarkFailed(ctx, e.DB, e.Dialect, t.ID, owner); err != nil {
					return fired, err
				}
				continue
			}
			fired++
		}
		if len(due) < claimBatch {
			return fired, nil
		}
	}
}

// fire carries out one claimed timer as the system, in one transaction with marking it fired: its
// notification and its transition (when the transition's checks pass; the transition is a step of the
// record's history, a notification is not). A record that is gone or has left the state (a cancel that
// raced the claim) only marks the timer fired.
func (e *Engine) fire(ctx context.Context, tm workflow.Timer, owner string) (err error) {
	txCtx, tx, err := e.Backend.OpenTx(enforce.System(ctx))
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tx.Rollback()
		}
	}()
	if err := e.fireIn(txCtx, tm); err != nil {
		return err
	}
	if err := workflow.MarkFiredBy(txCtx, e.Backend.Conn(txCtx), e.Dialect, tm.ID, owner); err != nil {
		return err
	}
	return tx.Commit()
}

func (e *Engine) fireIn(ctx context.Context, tm workflow.Timer) error {
	spec := tm.Spec(e.Model)
	w := e.Model.Workflow(tm.Workflow)
	if spec == nil || w == nil {
		return nil // the model no longer has this timer
	}
	rec, err := e.load(ctx, tm.Entity, tm.RecordID)
	if err != nil || rec == nil || rec[w.Field] != tm.State {
		return err
	}
	source := fmt.Sprintf("timer %s of state %s", describe(spec), tm.State)
	if spec.Notify != nil {
		if err := e.notify(ctx, spec.Notify, w.EntityRef, tm.RecordID, rec, fmt.Sprintf("timer:%d", tm.ID)); err != nil {
			return &ActionError{Source: source, Action: "notify", Err: err}
		}
	}
	if spec.Transition == "" {
		return nil // a notification is no step of the workflow: the record stays where it was
	}
	t := workflow.Find(w, spec.Transition)
	if t == nil {
		return fmt.Errorf("%s: workflow %s has no transition %q", source, w.Name, spec.Transition)
	}
	if err := workflow.Check(e.Model, w, t, rec, nil, true, source); err != nil {
		// The transition does not apply now (its guard or requires fail): the timer has done what it can.
		// Nothing happened to the record, so its history has no step; the log tells why.
		e.Log.Info("timer transition refused", "timer", tm.ID, "transition", t.Name, "entity", tm.Entity,
			"record", tm.RecordID, "reason", err)
		return nil
	}
	// The step has no comment: users read the timeline, and a timer's description is the model's text (its
	// expression); the step's user, the system, says who ran it.
	return e.run(ctx, w, t, tm.RecordID, rec, nil, "")
}

// describe names a timer as the model writes it.
func describe(t *metamodel.Timer) string {
	if t.At.Src != "" {
		return "at " + t.At.Src
	}
	return "after " + t.After
}
