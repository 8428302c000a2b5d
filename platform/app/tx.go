package app

import (
	"context"
	"database/sql/driver"
	"errors"

	"github.com/crmgen/crmgen/platform/database"
)

// The API's transactions: one per mutation operation, opened by entgql.Transactioner through txOpener,
// so a refused row of a batch undoes the operation's every write. A caller in the process may also hold
// one transaction across many operations (HoldTx): each operation then runs in a savepoint of it, undone
// alone when the operation fails, and nothing is committed until the holder commits or is rolled back as
// a whole. An all-or-nothing import of more rows than one operation takes is such a caller.

// txOpener opens the transaction of a mutation (entgql.Transactioner). entgql quotes an error of
// opening or committing it in the response as it is, so such an error is logged here and replaced by
// the plain message with the request's id.
type txOpener struct{ b Backend }

func (o txOpener) OpenTx(ctx context.Context) (context.Context, driver.Tx, error) {
	if h, ok := ctx.Value(heldKey{}).(*heldTx); ok {
		if err := h.exec(ctx, "SAVEPOINT crm_operation"); err != nil {
			return nil, nil, hidden(ctx, "open savepoint", err)
		}
		return ctx, savepoint{h: h, ctx: ctx}, nil
	}
	txCtx, tx, err := o.b.OpenTx(ctx)
	if err != nil {
		return nil, nil, hidden(ctx, "open transaction", err)
	}
	txCtx, wb := database.WithWriteBehind(txCtx)
	return txCtx, loggedTx{Tx: tx, ctx: ctx, wb: wb}, nil
}

// loggedTx is a transaction whose commit error is logged and told plainly. The rows its operation wrote
// behind (audit entries, workflow steps, notifications: database.WriteBehind) are sent just before
// COMMIT, so an operation's writes cost one statement more than its record's, not one a row.
type loggedTx struct {
	driver.Tx
	ctx context.Context
	wb  *database.WriteBehind
}

func (t loggedTx) Commit() error {
	if err := t.wb.Commit(t.ctx); err != nil {
		// entgql does not roll back a transaction whose commit failed.
		t.Tx.Rollback()
		return hidden(t.ctx, "commit transaction", err)
	}
	if err := t.Tx.Commit(); err != nil {
		return hidden(t.ctx, "commit transaction", err)
	}
	return nil
}

func (t loggedTx) Rollback() error {
	t.wb.Discard()
	return t.Tx.Rollback()
}

// heldKey marks a context whose operations join a held transaction.
type heldKey struct{}

// heldTx is a transaction held across operations (see HoldTx): ent's generated Tx runs statements of its
// own (execer, migrate.go) through its driver.
type heldTx struct{ tx execer }

func (h *heldTx) exec(ctx context.Context, stmt string) error {
	_, err := h.tx.ExecContext(ctx, stmt)
	return err
}

// savepoint is one operation's part of a held transaction: its commit keeps the operation's writes for
// the holder to commit; its rollback undoes them and leaves the transaction usable for the next
// operation (on Postgres, a failed statement would otherwise abort it).
type savepoint struct {
	h   *heldTx
	ctx context.Context
}

func (s savepoint) Commit() error {
	if err := s.h.exec(s.ctx, "RELEASE SAVEPOINT crm_operation"); err != nil {
		return hidden(s.ctx, "release savepoint", err)
	}
	return nil
}

func (s savepoint) Rollback() error {
	if err := s.h.exec(s.ctx, "ROLLBACK TO SAVEPOINT crm_operation"); err != nil {
		return err
	}
	return s.h.exec(s.ctx, "RELEASE SAVEPOINT crm_operation")
}

// HoldTx opens a transaction that the API operations run with the returned context join, each in a
// savepoint, until the caller commits or rolls back the returned transaction. The context must be used
// by one goroutine at a time, one operation after the other, and the transaction ended by its caller.
func HoldTx(b Backend) func(ctx context.Context) (context.Context, driver.Tx, error) {
	return func(ctx context.Context) (context.Context, driver.Tx, error) {
		if _, ok := ctx.Value(heldKey{}).(*heldTx); ok {
			return nil, nil, errors.New("a transaction is held already")
		}
		txCtx, tx, err := b.OpenTx(ctx)
		if err != nil {
			return nil, nil, err
		}
		ex, ok := tx.(execer)
		if !ok {
			tx.Rollback()
			return nil, nil, errors.New("the backend's transaction runs no statements of its own")
		}
		return context.WithValue(txCtx, heldKey{}, &heldTx{tx: ex}), tx, nil
	}
}
