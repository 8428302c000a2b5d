package e2e

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/crmgen/crmgen/internal/apptest"
)

// The foundation, end to end, on the kitchen-sink model: every test runs on SQLite and on Postgres.

func TestIntrospection(t *testing.T) {
	onEachDB(t, kitchen(t), func(t *testing.T, s *apptest.Server) {
		d := query(t, s, `{ __schema { queryType { fields { name } } mutationType { fields { name } } types { name } } }`, nil)
		got := map[string]bool{}
		for _, f := range list(t, d, "__schema.queryType.fields") {
			got["Query."+at(t, f, "name").(string)] = true
		}
		for _, f := range list(t, d, "__schema.mutationType.fields") {
			got["Mutation."+at(t, f, "name").(string)] = true
		}
		for _, ty := range list(t, d, "__schema.types") {
			got[at(t, ty, "name").(string)] = true
		}
		for _, want := range []string{"Query.node", "Query.nodes", "Query.accounts", "Query.regions", "Query.users", "Query.teams",
			"Mutation.createAccount", "Mutation.updateAccount", "Mutation.deleteAccount", "Mutation.createTag",
			"Account", "AccountConnection", "AccountWhereInput", "AccountOrder", "CreateAccountInput", "UpdateAccountInput",
			"AccountLevel", "User", "Team"} {
			if !got[want] {
				t.Errorf("schema lacks %s", want)
			}
		}
	})
}

func TestCreateWithRelationsAndReadBack(t *testing.T) {
	onEachDB(t, kitchen(t), func(t *testing.T, s *apptest.Server) {
		region := str(t, query(t, s, `mutation { createRegion(input: {name: "North"}) { id } }`, nil), "createRegion.id")
		tag := str(t, query(t, s, `mutation { createTag(input: {name: "hot"}) { id } }`, nil), "createTag.id")
		d := query(t, s, `mutation($in: CreateAccountInput!) { createAccount(input: $in) { id code name level active credit founded extra doubled region { name } tags { totalCount edges { node { name } } } owner { id } } }`,
			map[string]any{"in": map[string]any{"name": "Delta", "employees": 7, "credit": 12.5, "founded": "2020-05-01T00:00:00Z",
				"regionID": region, "tagIDs": []string{tag}, "taxID": "123456", "extra": map[string]any{"a": []any{1, 2}}, "email": "x@y.cn",
				"phone": "+86 138-0000-0000", "website": "https://example.com"}})
		if !regexp.MustCompile(`^A\d{4}-\d{4}$`).MatchString(str(t, d, "createAccount.code")) {
			t.Errorf("autoNumber code = %q, want A<year>-<4 digits>", str(t, d, "createAccount.code"))
		}
		if str(t, d, "createAccount.level") != "low" || at(t, d, "createAccount.active") != true {
			t.Errorf("defaults not applied: %s", jsonString(d))
		}
		if num(t, d, "createAccount.doubled") != 14 {
			t.Errorf("computed doubled = %v, want 14", at(t, d, "createAccount.doubled"))
		}
		if str(t, d, "createAccount.region.name") != "North" || num(t, d, "createAccount.tags.totalCount") != 1 {
			t.Errorf("relations not set: %s", jsonString(d))
		}
		if jsonString(at(t, d, "createAccount.extra")) != `{"a":[1,2]}` {
			t.Errorf("json field = %s", jsonString(at(t, d, "createAccount.extra")))
		}
		id := str(t, d, "createAccount.id")
		n := query(t, s, `query($id: ID!) { node(id: $id) { __typename ... on Account { name credit taxID } } }`, map[string]any{"id": id})
		if str(t, n, "node.__typename") != "Account" || str(t, n, "node.name") != "Delta" || num(t, n, "node.credit") != 12.5 {
			t.Errorf("node(id) = %s", jsonString(n))
		}
		// Contacts require an account: creating one with it works and the inverse list shows it.
		query(t, s, `mutation($a: ID!) { createContact(input: {name: "Eve", accountID: $a}) { id } }`, map[string]any{"a": id})
		c := query(t, s, `query($id: ID!) { node(id: $id) { ... on Account { contacts { totalCount edges { node { name account { name } } } } } } }`, map[string]any{"id": id})
		if num(t, c, "node.contacts.totalCount") != 1 || str(t, c, "node.contacts.edges.0.node.account.name") != "Delta" {
			t.Errorf("inverse relation: %s", jsonString(c))
		}
	})
}

func TestListFilterOrderPaginate(t *testing.T) {
	onEachDB(t, kitchen(t), func(t *testing.T, s *apptest.Server) {
		for i := 0; i < 25; i++ {
			query(t, s, `mutation($in: CreateAccountInput!) { createAccount(input: $in) { id } }`,
				map[string]any{"in": map[string]any{"name": fmt.Sprintf("Bulk %02d", i), "employees": 100 + i*3, "level": []string{"low", "high"}[i%2]}})
		}
		// The full, unfiltered list is the reference the filtered and paged queries are checked against.
		all := query(t, s, `{ accounts(first: 100) { totalCount edges { node { name employees level } } } }`, nil)
		type row struct {
			name      string
			employees int
		}
		var want []row
		for _, e := range list(t, all, "accounts.edges") {
			if at(t, e, "node.level") == "high" && strings.Contains(at(t, e, "node.name").(string), "Bulk") && num(t, e, "node.employees") >= 110 {
				want = append(want, row{at(t, e, "node.name").(string), int(num(t, e, "node.employees"))})
			}
		}
		sort.Slice(want, func(i, j int) bool { return want[i].employees > want[j].employees })
		if len(want) < 8 {
			t.Fatalf("reference set too small: %d", len(want))
		}
		where := `{level: high, nameContains: "Bulk", employeesGTE: 110}`
		var got []row
		var after any
		pages := 0
		for {
			d := query(t, s, `query($after: Cursor) { accounts(first: 3, after: $after, where: `+where+`, orderBy: [{field: EMPLOYEES, direction: DESC}]) {
				totalCount pageInfo { hasNextPage endCursor } edges { node { name employees } } } }`, map[string]any{"after": after})
			if int(num(t, d, "accounts.totalCount")) != len(want) {
				t.Fatalf("totalCount = %v, want %d", at(t, d, "accounts.totalCount"), len(want))
			}
			for _, e := range list(t, d, "accounts.edges") {
				got = append(got, row{at(t, e, "node.name").(string), int(num(t, e, "node.employees"))})
			}
			pages++
			if at(t, d, "accounts.pageInfo.hasNextPage") != true {
				break
			}
			after = at(t, d, "accounts.pageInfo.endCursor")
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("paged, filtered, ordered list:\n got %v\nwant %v", got, want)
		}
		if pages != (len(want)+2)/3 {
			t.Errorf("pages = %d for %d rows of 3", pages, len(want))
		}
		// last/before pages backwards.
		d := query(t, s, `{ accounts(last: 2, where: `+where+`, orderBy: [{field: EMPLOYEES, direction: DESC}]) { edges { node { name } } } }`, nil)
		if fmt.Sprint(names(t, at(t, d, "accounts"), "name")) != fmt.Sprint([]string{want[len(want)-2].name, want[len(want)-1].name}) {
			t.Errorf("last 2 = %v", names(t, at(t, d, "accounts"), "name"))
		}
		// Filters through relations, isNil, in, not/or.
		if n := count(t, s, "accounts", `{hasRegionWith: {name: "East"}}`); n != 2 {
			t.Errorf("accounts in East = %d, want 2", n)
		}
		if n := count(t, s, "accounts", `{regionIDIsNil: true}`); n != 25 {
			t.Errorf("accounts without region = %d, want 25", n)
		}
		if n := count(t, s, "accounts", `{nameIn: ["Alpha", "Gamma"]}`); n != 2 {
			t.Errorf("nameIn = %d, want 2", n)
		}
		if n := count(t, s, "accounts", `{or: [{name: "Alpha"}, {name: "Beta"}], not: {name: "Beta"}}`); n != 1 {
			t.Errorf("or/not = %d, want 1", n)
		}
		if n := count(t, s, "regions", `{hasAccountsWith: {hasTagsWith: {name: "new"}}}`); n != 1 {
			t.Errorf("regions with an account tagged new = %d, want 1", n)
		}
	})
}

func TestNestedQueryDoesNotQueryPerRow(t *testing.T) {
	onEachDB(t, kitchen(t), func(t *testing.T, s *apptest.Server) {
		q := `{ regions(first: 50) { edges { node { name accounts(first: 50) { totalCount edges { node { name contacts(first: 50) { edges { node { name } } } tags(first: 10) { edges { node { name } } } } } } } } } }`
		measure := func() int64 {
			before := s.Statements(t)
			query(t, s, q, nil)
			return s.Statements(t) - before
		}
		small := measure()
		// Ten times the rows: more regions, accounts and contacts.
		for i := 0; i < 10; i++ {
			r := str(t, query(t, s, fmt.Sprintf(`mutation { createRegion(input: {name: "R%d"}) { id } }`, i), nil), "createRegion.id")
			for j := 0; j < 3; j++ {
				a := str(t, query(t, s, `mutation($r: ID!, $n: String!) { createAccount(input: {name: $n, regionID: $r}) { id } }`,
					map[string]any{"r": r, "n": fmt.Sprintf("N%d-%d", i, j)}), "createAccount.id")
				query(t, s, `mutation($a: ID!) { createContact(input: {name: "C", accountID: $a}) { id } }`, map[string]any{"a": a})
			}
		}
		large := measure()
		if large != small {
			t.Errorf("a 3-level query sent %d statements with few rows and %d with ten times more: it queries per row", small, large)
		}
		t.Logf("3-level nested query: %d SQL statements regardless of row count", large)
	})
}

func TestUpdateAndOptimisticLocking(t *testing.T) {
	onEachDB(t, kitchen(t), func(t *testing.T, s *apptest.Server) {
		id := accountID(t, s, "Alpha")
		d := query(t, s, `mutation($id: ID!) { updateAccount(id: $id, input: {name: "Alpha2", clearCredit: true, addTagIDs: []}) { name credit version updatedAt createdAt } }`, map[string]any{"id": id})
		if str(t, d, "updateAccount.name") != "Alpha2" || at(t, d, "updateAccount.credit") != nil {
			t.Errorf("update: %s", jsonString(d))
		}
		v := num(t, d, "updateAccount.version")
		if v != 2 {
			t.Errorf("version after one update = %v, want 2", v)
		}
		// An update made from the version read before the last one is rejected and changes nothing.
		e := mustFail(t, s, `mutation($id: ID!) { updateAccount(id: $id, input: {name: "Stale", version: 1}) { name } }`, map[string]any{"id": id})
		if e.Extensions["code"] != "CONFLICT" {
			t.Errorf("stale update error = %+v, want code CONFLICT", e)
		}
		d = query(t, s, `mutation($id: ID!) { updateAccount(id: $id, input: {name: "Fresh", version: 2}) { name version } }`, map[string]any{"id": id})
		if str(t, d, "updateAccount.name") != "Fresh" || num(t, d, "updateAccount.version") != 3 {
			t.Errorf("update from the current version: %s", jsonString(d))
		}
	})
}

func TestConcurrentVersionedUpdatesOneWins(t *testing.T) {
	onEachDB(t, kitchen(t), func(t *testing.T, s *apptest.Server) {
		id := accountID(t, s, "Beta")
		var wg sync.WaitGroup
		results := make([]*apptest.Response, 8)
		for i := range results {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				results[i] = s.GraphQL(t, `mutation($id: ID!, $n: String!) { updateAccount(id: $id, input: {name: $n, version: 1}) { version } }`,
					map[string]any{"id": id, "n": fmt.Sprintf("Beta-%d", i)})
			}(i)
		}
		wg.Wait()
		wins := 0
		for _, r := range results {
			if len(r.Errors) == 0 {
				wins++
			} else if r.Errors[0].Extensions["code"] != "CONFLICT" {
				t.Errorf("loser's error = %+v, want CONFLICT", r.Errors[0])
			}
		}
		if wins != 1 {
			t.Errorf("%d concurrent updates from version 1 succeeded, want exactly 1", wins)
		}
		d := query(t, s, `query($id: ID!) { node(id: $id) { ... on Account { version } } }`, map[string]any{"id": id})
		if num(t, d, "node.version") != 2 {
			t.Errorf("version after the race = %v, want 2", at(t, d, "node.version"))
		}
	})
}

func TestDeleteRestrictCascadeSetNullAndSoftDelete(t *testing.T) {
	onEachDB(t, kitchen(t), func(t *testing.T, s *apptest.Server) {
		east := regionID(t, s, "East")
		// Restrict: East still has accounts.
		e := mustFail(t, s, `mutation($id: ID!) { deleteRegion(id: $id) }`, map[string]any{"id": east})
		if e.Extensions["code"] != "RESTRICTED" || !strings.Contains(e.Message, "Account.region") {
			t.Errorf("restricted delete error = %+v", e)
		}
		if count(t, s, "regions", "") != 3 {
			t.Errorf("a refused delete removed rows")
		}
		// Cascade: deleting All removes its child regions once they hold no accounts; setNull clears the note.
		for _, name := range []string{"Alpha", "Beta", "Gamma"} {
			query(t, s, `mutation($id: ID!) { updateAccount(id: $id, input: {clearRegion: true}) { id } }`, map[string]any{"id": accountID(t, s, name)})
		}
		query(t, s, `mutation($id: ID!) { deleteRegion(id: $id) }`, map[string]any{"id": regionID(t, s, "All")})
		if n := count(t, s, "regions", ""); n != 0 {
			t.Errorf("regions after cascading delete of the root = %d, want 0", n)
		}
		d := query(t, s, `{ notes { edges { node { body region { name } regionID } } } }`, nil)
		if at(t, d, "notes.edges.0.node.regionID") != nil {
			t.Errorf("setNull: note still refers to a deleted region: %s", jsonString(d))
		}
		// Cascade from Account to Contact, and soft delete of Account.
		alpha := accountID(t, s, "Alpha")
		query(t, s, `mutation($id: ID!) { deleteAccount(id: $id) }`, map[string]any{"id": alpha})
		if n := count(t, s, "accounts", `{name: "Alpha"}`); n != 0 {
			t.Errorf("soft-deleted account still listed")
		}
		if e := mustFail(t, s, `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": alpha}); e.Extensions["code"] != "NOT_FOUND" {
			t.Errorf("soft-deleted account by node(id): %+v, want NOT_FOUND", e)
		}
		e = mustFail(t, s, `mutation($id: ID!) { updateAccount(id: $id, input: {name: "Zombie"}) { id } }`, map[string]any{"id": alpha})
		if e.Extensions["code"] != "NOT_FOUND" {
			t.Errorf("update of a soft-deleted account: %+v, want NOT_FOUND", e)
		}
		// A hard-deleted contact's account (Contact has no softDelete) takes its contacts with it.
		c := query(t, s, `mutation { createTag(input: {name: "tmp"}) { id } }`, nil)
		query(t, s, `mutation($id: ID!) { deleteTag(id: $id) }`, map[string]any{"id": str(t, c, "createTag.id")})
		if n := count(t, s, "tags", `{name: "tmp"}`); n != 0 {
			t.Errorf("deleted tag still listed")
		}
	})
}

func TestValidationErrorsNameFieldAndRuleAndWriteNothing(t *testing.T) {
	onEachDB(t, kitchen(t), func(t *testing.T, s *apptest.Server) {
		east := regionID(t, s, "East")
		cases := []struct {
			input       string
			field, rule string
		}{
			{`{name: "A"}`, "name", "minLen"},
			{`{name: "This name is far too long"}`, "name", "maxLen"},
			{`{name: "   "}`, "name", "required"},
			{`{name: "Ok", employees: -1}`, "employees", "min"},
			{`{name: "Ok", employees: 100001}`, "employees", "max"},
			{`{name: "Ok", score: 1.5}`, "score", "max"},
			{`{name: "Ok", credit: 1.234}`, "credit", "scale"},
			{`{name: "Ok", credit: 123456789.5}`, "credit", "precision"},
			{`{name: "Ok", credit: -5}`, "credit", "min"},
			{`{name: "Ok", email: "not-an-email"}`, "email", "email"},
			{`{name: "Ok", phone: "call me"}`, "phone", "phone"},
			{`{name: "Ok", website: "ftp://x"}`, "website", "url"},
			{`{name: "Ok", taxID: "12ab"}`, "taxId", "pattern"},
			{`{name: "Ok", taxID: "100001"}`, "taxId", "unique"},
			{`{name: "Ok", regionID: "999999"}`, "region", "exists"},
			{`{name: "Ok", tagIDs: ["424242"]}`, "tags", "exists"},
		}
		before := count(t, s, "accounts", "")
		for _, c := range cases {
			e := mustFail(t, s, `mutation { createAccount(input: `+c.input+`) { id } }`, nil)
			if e.Extensions["code"] != "VALIDATION" || e.Extensions["field"] != c.field || e.Extensions["rule"] != c.rule {
				t.Errorf("%s: error %q %v, want field %s rule %s", c.input, e.Message, e.Extensions, c.field, c.rule)
			}
			if !strings.Contains(e.Message, "Account."+c.field) {
				t.Errorf("%s: message %q does not name Account.%s", c.input, e.Message, c.field)
			}
		}
		// Required fields and relations, missing entirely.
		e := mustFail(t, s, `mutation { createContact(input: {name: "x", accountID: "1"}) { id } }`, nil)
		if e.Extensions["field"] != "account" || e.Extensions["rule"] != "exists" {
			t.Errorf("contact with a dangling account: %+v", e)
		}
		e = mustFail(t, s, `mutation { createRegion(input: {name: "East"}) { id } }`, nil)
		if e.Extensions["field"] != "name" || e.Extensions["rule"] != "unique" {
			t.Errorf("duplicate region: %+v", e)
		}
		// Updates are checked too, and several violations are all reported.
		r := s.GraphQL(t, `mutation($id: ID!) { updateAccount(id: $id, input: {name: "X", employees: -3}) { id } }`, map[string]any{"id": accountID(t, s, "Gamma")})
		if len(r.Errors) != 1 || len(r.Errors[0].Extensions["fields"].([]any)) != 2 {
			t.Errorf("update with two violations: %+v", r.Errors)
		}
		// A GraphQL operation is one transaction: the second mutation fails, so the first is undone.
		r = s.GraphQL(t, `mutation { a: createRegion(input: {name: "Tx1"}) { id } b: createRegion(input: {name: "East"}) { id } }`, nil)
		if len(r.Errors) == 0 {
			t.Fatal("second mutation should fail")
		}
		if n := count(t, s, "regions", `{name: "Tx1"}`); n != 0 {
			t.Errorf("the first mutation of a failed operation was kept")
		}
		if after := count(t, s, "accounts", ""); after != before {
			t.Errorf("failed creates changed the account count from %d to %d", before, after)
		}
		if n := count(t, s, "regions", `{id: "`+east+`", name: "East"}`); n != 1 {
			t.Errorf("East changed")
		}
	})
}

func TestManyToManyAddRemove(t *testing.T) {
	onEachDB(t, kitchen(t), func(t *testing.T, s *apptest.Server) {
		id := accountID(t, s, "Beta") // tagged vip and new
		vip, newTag := tagID(t, s, "vip"), tagID(t, s, "new")
		d := query(t, s, `mutation($id: ID!, $rm: [ID!]) { updateAccount(id: $id, input: {removeTagIDs: $rm}) { tags { edges { node { name } } } } }`,
			map[string]any{"id": id, "rm": []string{vip}})
		if got := names(t, at(t, d, "updateAccount.tags"), "name"); fmt.Sprint(got) != "[new]" {
			t.Errorf("after removing vip: %v", got)
		}
		d = query(t, s, `mutation($id: ID!, $add: [ID!]) { updateAccount(id: $id, input: {addTagIDs: $add}) { tags(orderBy: {field: NAME}) { edges { node { name } } } } }`,
			map[string]any{"id": id, "add": []string{vip}})
		if got := names(t, at(t, d, "updateAccount.tags"), "name"); fmt.Sprint(got) != "[new vip]" {
			t.Errorf("after adding vip back: %v", got)
		}
		// The inverse side sees the change.
		d = query(t, s, `query($id: ID!) { node(id: $id) { ... on Tag { accounts { totalCount } } } }`, map[string]any{"id": newTag})
		if num(t, d, "node.accounts.totalCount") != 1 {
			t.Errorf("tag new has %v accounts", at(t, d, "node.accounts.totalCount"))
		}
		d = query(t, s, `mutation($id: ID!) { updateAccount(id: $id, input: {clearTags: true}) { tags { totalCount } } }`, map[string]any{"id": id})
		if num(t, d, "updateAccount.tags.totalCount") != 0 {
			t.Errorf("clearTags left %v", at(t, d, "updateAccount.tags.totalCount"))
		}
		// A many-to-many relation of an entity with itself is directed: vip → new is not new → vip.
		query(t, s, `mutation($id: ID!, $r: [ID!]) { updateTag(id: $id, input: {addRelatedIDs: $r}) { id } }`, map[string]any{"id": vip, "r": []string{newTag}})
		d = query(t, s, `query($a: ID!, $b: ID!) { a: node(id: $a) { ... on Tag { related { totalCount } relatedBy { totalCount } } } b: node(id: $b) { ... on Tag { related { totalCount } relatedBy { edges { node { name } } } } } }`,
			map[string]any{"a": vip, "b": newTag})
		if num(t, d, "a.related.totalCount") != 1 || num(t, d, "a.relatedBy.totalCount") != 0 || num(t, d, "b.related.totalCount") != 0 || str(t, d, "b.relatedBy.edges.0.node.name") != "vip" {
			t.Errorf("self many-to-many: %s", jsonString(d))
		}
	})
}

func TestTreeQuery(t *testing.T) {
	onEachDB(t, kitchen(t), func(t *testing.T, s *apptest.Server) {
		d := query(t, s, `{ regions(where: {not: {hasParent: true}}) { edges { node { name children(orderBy: {field: NAME}) { edges { node { name parent { name } children { totalCount } } } } } } } }`, nil)
		if str(t, d, "regions.edges.0.node.name") != "All" {
			t.Fatalf("roots: %s", jsonString(d))
		}
		kids := names(t, at(t, d, "regions.edges.0.node.children"), "name")
		if fmt.Sprint(kids) != "[East West]" {
			t.Errorf("children of All = %v", kids)
		}
		if str(t, d, "regions.edges.0.node.children.edges.0.node.parent.name") != "All" {
			t.Errorf("parent of East: %s", jsonString(d))
		}
		// A node moves to another parent.
		east, west := regionID(t, s, "East"), regionID(t, s, "West")
		query(t, s, `mutation($id: ID!, $p: ID!) { updateRegion(id: $id, input: {parentID: $p}) { id } }`, map[string]any{"id": west, "p": east})
		d = query(t, s, `query($id: ID!) { node(id: $id) { ... on Region { children { edges { node { name } } } parent { name } } } }`, map[string]any{"id": east})
		if fmt.Sprint(names(t, at(t, d, "node.children"), "name")) != "[West]" || str(t, d, "node.parent.name") != "All" {
			t.Errorf("after moving West under East: %s", jsonString(d))
		}
	})
}

func TestLimitsAndHealth(t *testing.T) {
	a := kitchen(t)
	s := a.Start(t, apptest.SQLitePath(t)).As(t, "admin", "admin123")
	deep := "{ regions { edges { node { parent { parent { parent { parent { parent { parent { parent { parent { parent { parent { name } } } } } } } } } } } } } }"
	if e := mustFail(t, s, deep, nil); !strings.Contains(e.Message, "nested") {
		t.Errorf("deep query error = %q", e.Message)
	}
	wide := `{ regions(first: 1000) { edges { node { accounts(first: 1000) { edges { node { contacts(first: 1000) { edges { node { name } } } } } } } } } }`
	if e := mustFail(t, s, wide, nil); !strings.Contains(strings.ToLower(e.Message), "complexity") {
		t.Errorf("complex query error = %q", e.Message)
	}
}

func accountID(t *testing.T, s *apptest.Server, name string) string {
	t.Helper()
	return str(t, query(t, s, `query($n: String!) { accounts(where: {name: $n}) { edges { node { id } } } }`, map[string]any{"n": name}), "accounts.edges.0.node.id")
}

func regionID(t *testing.T, s *apptest.Server, name string) string {
	t.Helper()
	return str(t, query(t, s, `query($n: String!) { regions(where: {name: $n}) { edges { node { id } } } }`, map[string]any{"n": name}), "regions.edges.0.node.id")
}

func tagID(t *testing.T, s *apptest.Server, name string) string {
	t.Helper()
	return str(t, query(t, s, `query($n: String!) { tags(where: {name: $n}) { edges { node { id } } } }`, map[string]any{"n": name}), "tags.edges.0.node.id")
}
