package database

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// Rows runs a query on one of the pool's Postgres connections through pgx's own interface and hands
// its rows to read, which must not keep them. database/sql converts every value of every row into a Go
// value of its own (a string, a time.Time) before the caller sees it; a caller that writes the values
// out as they come (a compiled list, platform/gqlwrite) reads pgx's raw values instead, in Postgres's
// binary form. The statement is counted as any other (Statements); the connection's cancellation is
// the pool's (cancel.go), and a connection
// broken under the statement is not given back (cancelSafeConn.IsValid).
func (d *DB) Rows(ctx context.Context, query string, args []any, read func(pgx.Rows) error) error {
	if d.Dialect != "postgres" {
		return errors.New("database: raw rows are read on Postgres only")
	}
	conn, err := d.SQL.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	Statements.Add(1)
	return conn.Raw(func(dc any) error {
		pc, ok := pgxConn(dc)
		if !ok {
			return errors.New("database: the pool's connection is not pgx's")
		}
		rows, err := pc.Query(ctx, query, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		if err := read(rows); err != nil {
			return err
		}
		rows.Close()
		return rows.Err()
	})
}

// pgxConn is pgx's connection under a connection of the pool.
func pgxConn(dc any) (*pgx.Conn, bool) {
	switch c := dc.(type) {
	case cancelSafeConn:
		return c.Conn.Conn(), true
	case *stdlib.Conn:
		return c.Conn(), true
	}
	return nil, false
}
