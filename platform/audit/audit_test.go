package audit_test

import (
	"context"
	"testing"
	"time"

	"github.com/crmgen/crmgen/internal/dbtest"
	"github.com/crmgen/crmgen/internal/pgtest"
	"github.com/crmgen/crmgen/platform/audit"
	"github.com/crmgen/crmgen/platform/database"
)

func TestMain(m *testing.M) {
	defer pgtest.Stop()
	m.Run()
}

func TestWriteAndReadHistory(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB, _ string) {
		ctx := context.Background()
		for _, ddl := range []string{audit.DDL(db.Dialect), audit.IndexDDL} {
			if _, err := db.SQL.ExecContext(ctx, ddl); err != nil {
				t.Fatal(err)
			}
		}
		uid := 7
		at := time.Date(2026, 3, 15, 9, 30, 0, 0, time.UTC)
		entries := []audit.Entry{
			{Entity: "Patient", RecordID: 42, Op: audit.OpCreate, UserID: &uid, Username: "doctor1", At: at,
				Changes: []audit.Change{{Field: "name", New: "张三"}, {Field: "grade", New: "A"}}},
			{Entity: "Patient", RecordID: 42, Op: audit.OpUpdate, UserID: &uid, Username: "doctor1", At: at.Add(time.Hour),
				Changes: []audit.Change{{Field: "grade", Old: "A", New: "B"}}},
			{Entity: "Patient", RecordID: 43, Op: audit.OpDelete, At: at}, // another record, by the system
		}
		for _, e := range entries {
			if err := audit.Write(ctx, db.SQL, db.Dialect, e); err != nil {
				t.Fatal(err)
			}
		}
		got, err := audit.History(ctx, db.SQL, db.Dialect, "Patient", 42)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 {
			t.Fatalf("history of 42 has %d entries, want 2: %+v", len(got), got)
		}
		if got[0].Op != audit.OpCreate || got[1].Op != audit.OpUpdate || *got[1].UserID != 7 || got[1].Username != "doctor1" {
			t.Errorf("entries: %+v", got)
		}
		if c := got[1].Changes; len(c) != 1 || c[0].Field != "grade" || c[0].Old != "A" || c[0].New != "B" {
			t.Errorf("changes: %+v", c)
		}
		if !got[1].At.Equal(at.Add(time.Hour)) {
			t.Errorf("time = %v, want %v", got[1].At, at.Add(time.Hour))
		}
		other, err := audit.History(ctx, db.SQL, db.Dialect, "Patient", 43)
		if err != nil {
			t.Fatal(err)
		}
		if len(other) != 1 || other[0].UserID != nil {
			t.Errorf("system entry: %+v", other)
		}
	})
}
