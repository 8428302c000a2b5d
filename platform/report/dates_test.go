package report

import (
	"testing"
	"time"

	"github.com/crmgen/crmgen/metamodel"
)

// TestDateCells checks how a date field's value from either database becomes a report's day: SQLite returns
// the text of the date's midnight in the app's zone (east or west of UTC), Postgres that midnight as a time
// in the zone (platform/database's TestPostgresDatesInAppZone); both must read as the same calendar day.
func TestDateCells(t *testing.T) {
	f := &metamodel.Field{Name: "due", Type: metamodel.TypeDate}
	for _, zone := range []string{"Asia/Shanghai", "America/New_York", "UTC"} {
		loc, err := time.LoadLocation(zone)
		if err != nil {
			t.Fatal(err)
		}
		stored := time.Date(2026, 12, 7, 0, 0, 0, 0, loc) // SQLite: the instant
		if got := cell(f, stored.UTC().Format(time.RFC3339Nano), loc); got != "2026-12-07" {
			t.Errorf("%s: SQLite's %s reads as %v", zone, stored.UTC().Format(time.RFC3339), got)
		}
		if got := cell(f, stored, loc); got != "2026-12-07" {
			t.Errorf("%s: Postgres's %s reads as %v", zone, stored, got)
		}
	}
}
