// Package pgtest gives each test a fresh, empty PostgreSQL database.
//
// [DSN] creates a database named crmgen_test_<random> and drops it (WITH FORCE)
// when the test ends. The server comes from one of three places, in order:
//
//  1. The environment variable CRMGEN_TEST_POSTGRES, a DSN (URL or key=value
//     form) of a server where its user may create databases. .ci/run starts a
//     throwaway server and sets it, so CI always takes this path.
//  2. Otherwise, when PostgreSQL's server binaries are installed (Debian's
//     postgresql package puts them in /usr/lib/postgresql/<major>/bin), a
//     private cluster that this test process starts on its first call of DSN:
//     initdb into a temporary directory, trust authentication, listening only on
//     127.0.0.1 on a free port, with fsync off. initdb and postgres refuse to run
//     as root, so when the process is root they run as the OS user postgres.
//  3. Otherwise the test is skipped, except under CI=true, where a missing
//     PostgreSQL fails the test: CI never skips.
//
// A private cluster lives as long as the test process. Call [Stop] when the
// tests are done to shut it down and remove its directory:
//
//	func TestMain(m *testing.M) {
//		defer pgtest.Stop()
//		m.Run()
//	}
//
// Without Stop the server still never outlives the process: on Linux it gets the
// parent-death signal SIGQUIT (immediate shutdown) when the test process exits,
// and the next private cluster removes the directories that clusters of dead
// processes left behind.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// EnvDSN names the environment variable with the DSN of the server to use.
const EnvDSN = "CRMGEN_TEST_POSTGRES"

// opTimeout bounds creating and dropping one database.
const opTimeout = 30 * time.Second

// DSN returns the DSN of a new, empty database for the test, and drops the
// database when the test and its subtests have finished. Each call returns a
// different database, so parallel tests do not share state.
func DSN(t testing.TB) string {
	t.Helper()
	server := serverDSN(t)

	name := "crmgen_test_" + randomHex(6)
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	if err := execSQL(ctx, server, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		t.Fatalf("pgtest: create database %q: %v", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
		defer cancel()
		if err := execSQL(ctx, server, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
			t.Errorf("pgtest: drop database %q: %v", name, err)
		}
	})

	dsn, err := withDatabase(server, name)
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	return dsn
}

// serverDSN returns the DSN of the server to create databases on, starting
// the private cluster if needed, or ends the test.
func serverDSN(t testing.TB) string {
	t.Helper()
	if dsn := os.Getenv(EnvDSN); dsn != "" {
		return dsn
	}
	bin, err := findBinaries()
	if err != nil {
		msg := fmt.Sprintf("pgtest: no PostgreSQL: %s is unset and %v (install Debian's postgresql package, or run .ci/run)", EnvDSN, err)
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	dsn, err := private.start(bin, t.Logf)
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	return dsn
}

// Stop stops the private cluster, if this process started one, and removes
// its directory. It is safe to call more than once, and without a cluster.
// After Stop, DSN fails when it would need the private cluster.
func Stop() {
	private.stop()
}

// execSQL runs one statement on a new connection to dsn.
func execSQL(ctx context.Context, dsn, sql string) error {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	_, err = conn.Exec(ctx, sql)
	return err
}

// withDatabase returns dsn with its database replaced by name. dsn is a URL
// (postgres://…) or a list of key=value settings, as pgx accepts both.
func withDatabase(dsn, name string) (string, error) {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			return "", fmt.Errorf("parse %s: %w", EnvDSN, err)
		}
		u.Path = "/" + name
		u.RawPath = ""
		return u.String(), nil
	}
	// In the key=value form the last setting of a key wins.
	return strings.TrimSpace(dsn) + " dbname=" + name, nil
}

// randomHex returns 2n random hexadecimal digits.
func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b) // never fails; see crypto/rand.Read
	return hex.EncodeToString(b)
}
