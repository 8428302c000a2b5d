package database

import (
	"context"
	stdsql "database/sql"
	"errors"
	"testing"
	"time"

	"github.com/crmgen/crmgen/internal/pgtest"
)

// TestCancelKeepsConnection cancels statements on Postgres, as a request whose client went away does,
// and checks that the pool's one connection goes on serving (the same server process answers before and
// after) instead of being closed and opened again, in and out of a transaction; that a statement
// cancelled and then finished within the grace answers normally; and that no late cancel request reaches
// the statements after.
func TestCancelKeepsConnection(t *testing.T) {
	db, err := Open(pgtest.DSN(t), Config{Pool: Pool{MaxOpen: 1}})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	backend := func() int {
		t.Helper()
		var pid int
		if err := db.SQL.QueryRowContext(ctx, "SELECT pg_backend_pid()").Scan(&pid); err != nil {
			t.Fatal(err)
		}
		return pid
	}
	first := backend()

	// A long statement, cancelled: the server stops it.
	cctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	start := time.Now()
	_, err = db.SQL.ExecContext(cctx, "SELECT pg_sleep(5)")
	cancel()
	if err == nil {
		t.Fatal("a cancelled pg_sleep(5) succeeded")
	}
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("the cancelled statement ran %s; want it stopped", took)
	}

	// In a transaction, as the GraphQL operations run.
	cctx, cancel = context.WithCancel(ctx)
	tx, err := db.SQL.BeginTx(cctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	time.AfterFunc(30*time.Millisecond, cancel)
	if _, err := tx.ExecContext(cctx, "SELECT pg_sleep(5)"); err == nil {
		t.Fatal("a cancelled pg_sleep(5) in a transaction succeeded")
	}
	if err := tx.Rollback(); err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, stdsql.ErrTxDone) {
		t.Logf("rollback after cancel: %v", err)
	}

	// A statement that ends within the grace is not cancelled at all.
	cctx, cancel = context.WithCancel(ctx)
	time.AfterFunc(10*time.Millisecond, cancel)
	var one int
	err = db.SQL.QueryRowContext(cctx, "SELECT 1 FROM pg_sleep(0.05)").Scan(&one)
	cancel()
	if err != nil && !errors.Is(err, context.Canceled) {
		t.Errorf("a statement that ended within the grace: %v", err)
	}

	for i := range 20 {
		if pid := backend(); pid != first {
			t.Fatalf("statement %d after the cancellations ran on server process %d, before them on %d: the connection was replaced", i, pid, first)
		}
	}
	if s := db.SQL.Stats(); s.OpenConnections != 1 {
		t.Errorf("%d open connections; want the one", s.OpenConnections)
	}
}
