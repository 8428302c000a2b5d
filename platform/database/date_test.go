package database

import (
	"context"
	"testing"
	"time"

	"github.com/crmgen/crmgen/internal/pgtest"
)

func TestMain(m *testing.M) {
	defer pgtest.Stop()
	m.Run()
}

// TestPostgresDatesInAppZone writes one day to a Postgres date column as instants in several locations
// (its midnight in the app's zone, that instant in UTC, noon and 23:30 in the zone, a pointer) and checks,
// for zones east and west of UTC and UTC itself, that Postgres stores that day (its own to_char is the
// truth), that each reads back as the day's midnight in the app's zone (the instant SQLite stores, and the
// one guards, timers and reports compare with now), and that a bound instant finds the row.
func TestPostgresDatesInAppZone(t *testing.T) {
	dsn := pgtest.DSN(t)
	for _, name := range []string{"Asia/Shanghai", "America/New_York", "UTC"} {
		t.Run(name, func(t *testing.T) {
			zone, err := time.LoadLocation(name)
			if err != nil {
				t.Fatal(err)
			}
			db, err := Open(dsn, Config{Zone: zone})
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			ctx := context.Background()
			if _, err := db.SQL.ExecContext(ctx, `DROP TABLE IF EXISTS d; CREATE TABLE d (id int, day date)`); err != nil {
				t.Fatal(err)
			}
			midnight := time.Date(2026, 3, 8, 0, 0, 0, 0, zone) // New York moves its clocks that day
			late := time.Date(2026, 3, 8, 23, 30, 0, 0, zone).UTC()
			values := []any{midnight, midnight.UTC(), time.Date(2026, 3, 8, 12, 0, 0, 0, zone).UTC(), late, &late}
			for i, v := range values {
				if _, err := db.SQL.ExecContext(ctx, `INSERT INTO d VALUES ($1, $2)`, i, v); err != nil {
					t.Fatalf("insert %v: %v", v, err)
				}
			}
			rows, err := db.SQL.QueryContext(ctx, `SELECT id, to_char(day, 'YYYY-MM-DD'), day FROM d ORDER BY id`)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			n := 0
			for rows.Next() {
				var id int
				var stored string
				var back time.Time
				if err := rows.Scan(&id, &stored, &back); err != nil {
					t.Fatal(err)
				}
				n++
				if stored != "2026-03-08" {
					t.Errorf("%v is stored as %s, want 2026-03-08", values[id], stored)
				}
				if !back.Equal(midnight) {
					t.Errorf("%v reads back as %v, want %v", values[id], back, midnight)
				}
			}
			if err := rows.Err(); err != nil {
				t.Fatal(err)
			}
			if n != len(values) {
				t.Fatalf("read %d rows, want %d", n, len(values))
			}
			var found int
			if err := db.SQL.QueryRowContext(ctx, `SELECT count(*) FROM d WHERE day = $1`, midnight.UTC()).Scan(&found); err != nil {
				t.Fatal(err)
			}
			if found != len(values) {
				t.Errorf("day = the zone's midnight (bound in UTC) finds %d rows, want %d", found, len(values))
			}
			var inf any
			if err := db.SQL.QueryRowContext(ctx, `SELECT 'infinity'::date`).Scan(&inf); err != nil || inf != "infinity" {
				t.Errorf("infinity reads as %v (%v)", inf, err)
			}
			var null *time.Time
			if err := db.SQL.QueryRowContext(ctx, `SELECT NULL::date`).Scan(&null); err != nil || null != nil {
				t.Errorf("NULL reads as %v (%v)", null, err)
			}
		})
	}
}

// TestDay checks which day a date field's value names: the day written for a midnight of any offset, the
// day in the app's zone for any other instant.
func TestDay(t *testing.T) {
	shanghai, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	newYork, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		in   string
		loc  *time.Location
		want string // the day, in loc
	}{
		{"1985-09-09T00:00:00Z", shanghai, "1985-09-09"},
		{"1985-09-09T00:00:00Z", newYork, "1985-09-09"},
		{"1985-09-09T00:00:00+08:00", newYork, "1985-09-09"},
		{"1985-09-09T00:00:00-05:00", shanghai, "1985-09-09"},
		{"1985-09-08T20:00:00Z", shanghai, "1985-09-09"}, // 04:00 in Shanghai
		{"1985-09-09T03:00:00Z", newYork, "1985-09-08"},  // 23:00 the day before in New York
		{"1985-09-09T23:59:59+08:00", shanghai, "1985-09-09"},
		{"1985-09-09T00:00:00.5Z", shanghai, "1985-09-09"}, // not a midnight: 08:00:00.5 in Shanghai
	} {
		in, err := time.Parse(time.RFC3339Nano, c.in)
		if err != nil {
			t.Fatal(err)
		}
		got := Day(in, c.loc)
		if got.Format("2006-01-02") != c.want || got.Location() != c.loc || got.Hour() != 0 || got.Minute() != 0 {
			t.Errorf("Day(%s, %s) = %v, want %s at midnight there", c.in, c.loc, got, c.want)
		}
	}
}
