package pgtest

import (
	"context"
	"os"
	"testing"
)

// TestPrivateCluster starts and stops a second private cluster, so the path
// that developers take without CRMGEN_TEST_POSTGRES is tested in CI too.
func TestPrivateCluster(t *testing.T) {
	bin, err := findBinaries()
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	var c cluster
	dsn, err := c.start(bin, t.Logf)
	if err != nil {
		c.stop()
		t.Fatal(err)
	}
	dir := c.dir
	if err := execSQL(context.Background(), dsn, "SELECT 1"); err != nil {
		t.Errorf("query the private cluster: %v", err)
	}
	c.stop()
	c.stop() // idempotent
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("cluster directory %s still exists after stop (stat: %v)", dir, err)
	}
	if err := execSQL(context.Background(), dsn, "SELECT 1"); err == nil {
		t.Errorf("the private cluster still answers after stop")
	}
	if _, err := c.start(bin, t.Logf); err == nil {
		t.Errorf("start after stop succeeded, want an error")
	}
}

func TestWithDatabase(t *testing.T) {
	for _, tc := range []struct{ dsn, want string }{
		{"postgres://u@127.0.0.1:5432/postgres?sslmode=disable", "postgres://u@127.0.0.1:5432/crmgen_test_x?sslmode=disable"},
		{"postgresql://u:p@h/", "postgresql://u:p@h/crmgen_test_x"},
		{"host=127.0.0.1 port=5432 user=u dbname=postgres", "host=127.0.0.1 port=5432 user=u dbname=postgres dbname=crmgen_test_x"},
	} {
		got, err := withDatabase(tc.dsn, "crmgen_test_x")
		if err != nil || got != tc.want {
			t.Errorf("withDatabase(%q) = %q, %v; want %q", tc.dsn, got, err, tc.want)
		}
	}
}
