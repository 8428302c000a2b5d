package database

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/crmgen/crmgen/internal/pgtest"
)

// TestRows reads a statement's rows through pgx's own interface on a connection of the pool: the values
// come in Postgres's binary form (raw bytes a caller writes out without converting them), the statement
// is counted at /metrics like any other, the connection goes back to the pool (one connection serves
// every call), a cancelled statement leaves it serving, and SQLite refuses.
func TestRows(t *testing.T) {
	db, err := Open(pgtest.DSN(t), Config{Pool: Pool{MaxOpen: 1}})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	read := func(ctx context.Context) (int64, string, []byte, error) {
		var (
			pid  int64
			name string
			raw  []byte
		)
		err := db.Rows(ctx, "SELECT pg_backend_pid()::int8, $1::text, 42::int8", []any{"王伟"}, func(r pgx.Rows) error {
			for r.Next() {
				vals := r.RawValues()
				raw = append([]byte(nil), vals[2]...)
				if err := r.Scan(&pid, &name, nil); err != nil {
					return err
				}
			}
			return nil
		})
		return pid, name, raw, err
	}
	before := Statements.Load()
	pid, name, raw, err := read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := Statements.Load() - before; got != 1 {
		t.Errorf("statements counted: %d, want 1", got)
	}
	if name != "王伟" || string(raw) != "\x00\x00\x00\x00\x00\x00\x00\x2a" {
		t.Errorf("read %q and % x; want 王伟 and 42 as 8 bytes, big-endian", name, raw)
	}
	// Cancelled while it runs: an error, and the same connection serves the next call.
	cctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	err = db.Rows(cctx, "SELECT pg_sleep(5)", nil, func(r pgx.Rows) error {
		for r.Next() {
		}
		return r.Err()
	})
	cancel()
	if err == nil {
		t.Error("a cancelled statement answered without an error")
	}
	again, _, _, err := read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if again != pid {
		t.Errorf("the connection was replaced (backend %d, then %d)", pid, again)
	}

	lite, err := Open(filepath.Join(t.TempDir(), "x.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer lite.Close()
	if err := lite.Rows(ctx, "SELECT 1", nil, func(pgx.Rows) error { return nil }); err == nil {
		t.Error("SQLite read raw rows")
	}
}
