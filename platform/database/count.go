package database

import (
	"context"
	stdsql "database/sql"
	"sync/atomic"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
)

// Statements counts the SQL statements an application has sent, inside and outside transactions. It is
// exported at /metrics (crm_sql_statements_total) and is how tests prove that nested GraphQL queries do not
// issue a statement per row.
var Statements atomic.Int64

// countingDriver counts statements and otherwise behaves exactly like the ent SQL driver, including the
// ExecContext/QueryContext methods the platform uses for raw statements.
type countingDriver struct{ *entsql.Driver }

func (d countingDriver) Exec(ctx context.Context, query string, args, v any) error {
	Statements.Add(1)
	return d.Driver.Exec(ctx, query, args, v)
}

func (d countingDriver) Query(ctx context.Context, query string, args, v any) error {
	Statements.Add(1)
	return d.Driver.Query(ctx, query, args, v)
}

func (d countingDriver) ExecContext(ctx context.Context, query string, args ...any) (stdsql.Result, error) {
	Statements.Add(1)
	return d.Driver.ExecContext(ctx, query, args...)
}

func (d countingDriver) QueryContext(ctx context.Context, query string, args ...any) (*stdsql.Rows, error) {
	Statements.Add(1)
	return d.Driver.QueryContext(ctx, query, args...)
}

func (d countingDriver) Tx(ctx context.Context) (dialect.Tx, error) { return d.BeginTx(ctx, nil) }

func (d countingDriver) BeginTx(ctx context.Context, opts *stdsql.TxOptions) (dialect.Tx, error) {
	tx, err := d.Driver.BeginTx(ctx, opts)
	if err != nil {
		return nil, err
	}
	return countingTx{tx}, nil
}

type countingTx struct{ dialect.Tx }

func (t countingTx) Exec(ctx context.Context, query string, args, v any) error {
	Statements.Add(1)
	return t.Tx.Exec(ctx, query, args, v)
}

func (t countingTx) Query(ctx context.Context, query string, args, v any) error {
	Statements.Add(1)
	return t.Tx.Query(ctx, query, args, v)
}

func (t countingTx) ExecContext(ctx context.Context, query string, args ...any) (stdsql.Result, error) {
	Statements.Add(1)
	return t.Tx.(interface {
		ExecContext(context.Context, string, ...any) (stdsql.Result, error)
	}).ExecContext(ctx, query, args...)
}

func (t countingTx) QueryContext(ctx context.Context, query string, args ...any) (*stdsql.Rows, error) {
	Statements.Add(1)
	return t.Tx.(interface {
		QueryContext(context.Context, string, ...any) (*stdsql.Rows, error)
	}).QueryContext(ctx, query, args...)
}
