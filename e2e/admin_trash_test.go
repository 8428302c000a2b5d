package e2e

import (
	"testing"

	"github.com/crmgen/crmgen/internal/apptest"
)

// TestAdminTrash restores a soft-deleted record from the admin's trash: the list links to it, the
// deleted record is there with when it was deleted, Restore brings it back to the list and out of the
// trash; a user who may not delete sees no trash.
func TestAdminTrash(t *testing.T) {
	s := kitchen(t).Start(t, apptest.SQLitePath(t), noTimers)
	admin := s.As(t, "admin", "admin123")
	id := str(t, query(t, admin, `mutation { createAccount(input: {name: "Trash me"}) { id } }`, nil), "createAccount.id")
	query(t, admin, `mutation($id: ID!) { deleteAccount(id: $id) }`, map[string]any{"id": id})

	p := openBrowser(t, s)
	p.signIn("admin", "admin123")
	p.open("/e/Account")
	if p.count(`#to-trash`) != 1 {
		t.Fatal("the Account list has no link to its deleted records")
	}
	p.submit(`#to-trash`)
	row := `tr[data-id="` + id + `"]`
	if p.count(row) != 1 || p.text(row+` th`) != "Trash me" || p.text(row+` td[data-label="Deleted at"]`) == "" {
		t.Fatalf("the trash does not show the deleted account: %q", p.text("table.trash"))
	}
	p.submit(row + ` button.restore`)
	if p.count(row) != 0 || p.text(".flash") == "" {
		t.Errorf("after Restore the row is still there (%d) or nothing says it was restored (%q)", p.count(row), p.text(".flash"))
	}
	if n := count(t, admin, "accounts", `{name: "Trash me"}`); n != 1 {
		t.Errorf("the restored account is not back (%d)", n)
	}
	p.noErrors()
}
