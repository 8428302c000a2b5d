// Package database opens the application's database: embedded SQLite (the default, a file next to the
// app) or Postgres (a postgres:// DSN), configured the way ent and the platform need.
package database

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/ncruces/go-sqlite3"
	"github.com/ncruces/go-sqlite3/driver"
)

// DB is an open database.
type DB struct {
	Driver  dialect.Driver // counts statements (see Statements)
	Dialect string
	SQL     *sql.DB
}

// Close closes the database.
func (d *DB) Close() error { return d.SQL.Close() }

// IsPostgres reports whether dsn names a Postgres server.
func IsPostgres(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

// Config is how Open sets up a database beyond its DSN.
type Config struct {
	Pool Pool
	// Zone is the app's time zone (app.timezone): a Postgres date column reads as its day's midnight in
	// it and a time written to one is stored as the day it falls on there (see zonedDate). Nil is UTC.
	// SQLite stores a date as that instant already.
	Zone *time.Location
}

// Open opens dsn: a postgres:// URL, or a SQLite file path (optionally "file:" prefixed, with query
// parameters). SQLite gets foreign keys, WAL, a busy timeout, immediate write transactions (so two writers
// queue instead of failing on upgrade), and double-quoted string literals in DML, which ent's migration of
// global id ranges uses.
func Open(dsn string, config ...Config) (*DB, error) {
	var c Config
	if len(config) > 0 {
		c = config[0]
	}
	p := c.Pool
	if IsPostgres(dsn) {
		cfg, err := pgx.ParseConfig(dsn)
		if err != nil {
			return nil, fmt.Errorf("open postgres: %w", err)
		}
		zone := c.Zone
		if zone == nil {
			zone = time.UTC
		}
		keepOnCancel(&cfg.Config)
		db := sql.OpenDB(cancelSafe{stdlib.GetConnector(*cfg, stdlib.OptionAfterConnect(func(_ context.Context, conn *pgx.Conn) error {
			conn.TypeMap().RegisterType(&pgtype.Type{Name: "date", OID: pgtype.DateOID, Codec: zonedDate{loc: zone}})
			return nil
		}))})
		// Keep every connection the pool opens: a new Postgres connection costs a process fork and ~30 ms
		// of server CPU, which database/sql would otherwise pay again whenever more than 2 requests overlap.
		// Ten at most, as PostGraphile's and pgx's pools: more statements at once than the server has cores
		// only queue inside it, where they wait longer and less fairly than in the pool (bench/peers,
		// 16 clients on 2 cores: p99 45 ms with 20 connections, 29 ms with 10, the same throughput).
		p = p.withDefaults(10)
		db.SetMaxOpenConns(p.MaxOpen)
		db.SetMaxIdleConns(p.MaxIdle)
		db.SetConnMaxIdleTime(p.MaxIdleTime)
		return &DB{Driver: countingDriver{entsql.OpenDB(dialect.Postgres, db)}, Dialect: dialect.Postgres, SQL: db}, nil
	}
	db, err := driver.Open(sqliteDSN(dsn), func(c *sqlite3.Conn) error {
		_, err := c.Config(sqlite3.DBCONFIG_DQS_DML, true)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("open sqlite %s: %w", dsn, err)
	}
	// Each connection is a WebAssembly instance; a handful serves an app's concurrency, since SQLite
	// allows one writer at a time anyway.
	p = p.withDefaults(8)
	db.SetMaxOpenConns(p.MaxOpen)
	db.SetMaxIdleConns(p.MaxIdle)
	db.SetConnMaxIdleTime(p.MaxIdleTime)
	return &DB{Driver: countingDriver{entsql.OpenDB(dialect.SQLite, db)}, Dialect: dialect.SQLite, SQL: db}, nil
}

// Pool sizes the connection pool. Zero values take the defaults: 10 open connections on Postgres (8 on
// SQLite, where each is a WebAssembly instance and one writer works at a time), all of them kept idle,
// for 10 minutes.
type Pool struct {
	MaxOpen, MaxIdle int
	MaxIdleTime      time.Duration
}

func (p Pool) withDefaults(open int) Pool {
	if p.MaxOpen <= 0 {
		p.MaxOpen = open
	}
	if p.MaxIdle <= 0 || p.MaxIdle > p.MaxOpen {
		p.MaxIdle = p.MaxOpen
	}
	if p.MaxIdleTime <= 0 {
		p.MaxIdleTime = 10 * time.Minute
	}
	return p
}

// TimeFormat is how SQLite stores a time: UTC, fixed width, to the millisecond. SQLite compares times as
// text, so every stored and bound time must be written in one zone and one width for "<", ORDER BY and
// keyset cursors to follow the clock: the driver's default (RFC 3339 with the value's own offset and a
// trimmed fraction) puts 00:00+08:00 after 23:00Z the day before, and 10:00:00Z after 10:00:00.5Z. The
// driver converts to UTC for this named format; it reads older RFC 3339 values too. SQLite's date
// functions read it as UTC.
const TimeFormat = sqlite3.TimeFormat7

func sqliteDSN(dsn string) string {
	path, query, _ := strings.Cut(strings.TrimPrefix(dsn, "file:"), "?")
	q, _ := url.ParseQuery(query)
	pragmas := q["_pragma"]
	has := func(name string) bool {
		for _, p := range pragmas {
			if strings.HasPrefix(p, name) {
				return true
			}
		}
		return false
	}
	for _, p := range []string{"foreign_keys(1)", "journal_mode(wal)", "busy_timeout(10000)", "synchronous(normal)"} {
		if !has(p[:strings.IndexByte(p, '(')]) {
			q.Add("_pragma", p)
		}
	}
	if q.Get("_txlock") == "" {
		q.Set("_txlock", "immediate")
	}
	if q.Get("_timefmt") == "" {
		q.Set("_timefmt", string(TimeFormat))
	}
	return "file:" + path + "?" + q.Encode()
}

// Rebind turns the ? placeholders of a query into the dialect's: $1, $2, … for Postgres. The platform
// writes its few raw statements once, with ?, and rebinds them here.
func Rebind(d, query string) string {
	if d != dialect.Postgres {
		return query
	}
	var b strings.Builder
	n := 0
	for _, r := range query {
		if r == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}
