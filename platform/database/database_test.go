package database

import (
	"context"
	"path/filepath"
	"sort"
	"testing"
	"time"
)

// TestSQLiteTimesCompareAsTimes stores the same instants written in different zones and with and
// without fractions, and checks that SQLite orders and compares them as the clock does: ORDER BY, a
// keyset condition with a bound time in another zone, and equality with the instant read back.
func TestSQLiteTimesCompareAsTimes(t *testing.T) {
	db, err := Open(filepath.Join(t.TempDir(), "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	if _, err := db.SQL.ExecContext(ctx, `CREATE TABLE t (id INTEGER PRIMARY KEY, at datetime NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	shanghai := time.FixedZone("CST", 8*3600)
	base := time.Date(2024, 5, 5, 0, 0, 0, 0, shanghai) // 2024-05-04 16:00 UTC
	values := []time.Time{
		base,                                   // midnight in Shanghai
		base.Add(-time.Hour).UTC(),             // 15:00 UTC, earlier, written in UTC
		base.Add(time.Hour).In(time.UTC),       // 17:00 UTC
		base.Add(500 * time.Millisecond).UTC(), // same second, later fraction
		base.Add(-500 * time.Millisecond),      // same second before, in Shanghai
		base.Add(7 * time.Hour).In(time.FixedZone("EST", -5*3600)),
	}
	for i, v := range values {
		if _, err := db.SQL.ExecContext(ctx, `INSERT INTO t (id, at) VALUES (?, ?)`, i+1, v); err != nil {
			t.Fatal(err)
		}
	}
	want := make([]int, len(values))
	for i := range want {
		want[i] = i + 1
	}
	sort.Slice(want, func(i, j int) bool { return values[want[i]-1].Before(values[want[j]-1]) })
	if got := ids(t, db, `SELECT id FROM t ORDER BY at, id`); !equal(got, want) {
		t.Errorf("ORDER BY at: got %v, want %v", got, want)
	}
	// A cursor bound in UTC after the Shanghai midnight: the rows strictly after it, not the row itself.
	var after []int
	for _, id := range want {
		if values[id-1].After(base) {
			after = append(after, id)
		}
	}
	if got := ids(t, db, `SELECT id FROM t WHERE at > ? ORDER BY at, id`, base.UTC()); !equal(got, after) {
		t.Errorf("at > midnight (bound in UTC): got %v, want %v", got, after)
	}
	if got := ids(t, db, `SELECT id FROM t WHERE at = ?`, base.In(time.FixedZone("X", -3*3600))); !equal(got, []int{1}) {
		t.Errorf("at = midnight (bound in another zone): got %v, want [1]", got)
	}
	var back time.Time
	if err := db.SQL.QueryRowContext(ctx, `SELECT at FROM t WHERE id = 4`).Scan(&back); err != nil {
		t.Fatal(err)
	}
	if !back.Equal(values[3]) {
		t.Errorf("read back %v, want %v", back, values[3])
	}
	// Values written by earlier versions (RFC 3339 with an offset and nanoseconds) still read.
	if _, err := db.SQL.ExecContext(ctx, `INSERT INTO t (id, at) VALUES (99, '2024-05-05T00:00:00.123456789+08:00')`); err != nil {
		t.Fatal(err)
	}
	if err := db.SQL.QueryRowContext(ctx, `SELECT at FROM t WHERE id = 99`).Scan(&back); err != nil {
		t.Fatal(err)
	}
	if !back.Equal(base.Add(123456789)) {
		t.Errorf("older RFC 3339 value read as %v, want %v", back, base.Add(123456789))
	}
}

func ids(t *testing.T, db *DB, q string, args ...any) []int {
	t.Helper()
	rows, err := db.SQL.Query(q, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []int
	for rows.Next() {
		var id int
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		out = append(out, id)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func equal(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
