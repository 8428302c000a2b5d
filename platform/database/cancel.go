package database

import (
	"context"
	"database/sql/driver"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgconn/ctxwatch"
	"github.com/jackc/pgx/v5/stdlib"
)

// A request whose client goes away cancels its statements. pgx's default answers a cancelled context by
// breaking the connection under the statement, and the pool then opens a new one: a Postgres process
// fork and about 30 ms of server CPU, a dozen at once whenever a load balancer or a benchmark drops its
// connections. Here the connection survives: a statement that ends within cancelGrace of the
// cancellation costs nothing more, a longer one is cancelled by the server (a cancel request), and the
// connection goes on serving.
const (
	// cancelGrace is how long a cancelled statement may go on before the server is asked to stop it.
	cancelGrace = 100 * time.Millisecond
	// cancelDeadline is how long a connection waits for the server to answer a cancelled statement
	// before it is closed after all.
	cancelDeadline = 5 * time.Second
)

// keepOnCancel makes connections of cfg answer a cancelled context with a cancel request.
func keepOnCancel(cfg *pgconn.Config) {
	cfg.BuildContextWatcherHandler = func(conn *pgconn.PgConn) ctxwatch.Handler {
		return &pgconn.CancelRequestContextWatcherHandler{Conn: conn, CancelRequestDelay: cancelGrace,
			DeadlineDelay: cancelDeadline}
	}
}

// cancelSafe is pgx's connector whose transactions can be rolled back once their context is cancelled.
// database/sql rolls a transaction back when its context is done, but pgx's transaction rolls back with
// that same context, refuses at once, and leaves the connection inside the failed transaction, which the
// pool then discards. The transaction is begun here without the cancellation; database/sql still
// watches the caller's context (it rolls back on cancel, and refuses to commit after it).
type cancelSafe struct{ driver.Connector }

func (c cancelSafe) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	if sc, ok := conn.(*stdlib.Conn); ok {
		return cancelSafeConn{sc}, nil
	}
	return conn, nil
}

// cancelSafeConn is pgx's connection (every interface database/sql asks of it, through the embedded
// pointer) with BeginTx detached from the caller's cancellation, and a validator: without one
// database/sql discards the connection of every transaction it rolls back because its context ended.
type cancelSafeConn struct{ *stdlib.Conn }

// IsValid reports whether the connection may go back to the pool; ResetSession, before its next use,
// still discards one left inside a transaction.
func (c cancelSafeConn) IsValid() bool { return !c.Conn.Conn().IsClosed() }

func (c cancelSafeConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	return c.Conn.BeginTx(context.WithoutCancel(ctx), opts)
}
