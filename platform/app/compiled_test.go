package app_test

import (
	"bytes"
	"encoding/json"
	"reflect"
	"slices"
	"testing"

	"github.com/crmgen/crmgen/internal/fixture"
	"github.com/crmgen/crmgen/internal/pgtest"
	"github.com/crmgen/crmgen/platform/app"
	"github.com/crmgen/crmgen/platform/gqlwrite"
)

// Lists compiled to one SQL statement (platform/gqlwrite.List, Postgres) answer what gqlgen's
// field-by-field execution answers, for every user of the fixture: hidden and sensitive fields, a
// related record the user may not read, nested connections in their order, where and search filters,
// aliases, fragments and variables, and the refusals of filters and sorts on fields the user may not
// use. Those the compiler leaves alone (cursors, totalCount, a foreign key) are answered as before.
func TestCompiledLists(t *testing.T) {
	env := fixture.Open(t, pgtest.DSN(t))
	compiled := app.GraphQLHandler(env.Runtime, env.Backend, env.DB, 5000, true)
	gqlgen := app.GraphQLHandler(env.Runtime, env.Backend, env.DB, 5000, false)
	// Values the compiled list writes itself, from Postgres's binary form: a string with every character
	// JSON escapes, and others it keeps; an empty one (not null).
	for _, v := range []map[string]any{
		{"n": "Q\"uote \\ back\nline\ttab\r\u0001\u001f ctl 王伟 😀 </script> \u2028", "t": "T-ESC"},
		{"n": "Empty tax number", "t": ""},
	} {
		got := postGraphQL(env.As(t, "admin"), gqlgen, `mutation($n: String!, $t: String) { createAccount(input: {name: $n, taxNo: $t, creditLimit: 12.5}) { id } }`, v)
		if !json.Valid(got) || bytes.Contains(got, []byte(`"errors"`)) {
			t.Fatalf("create %v: %s", v, got)
		}
	}
	cases := []struct {
		query string
		vars  map[string]any
		// compiles: the administrator's list is compiled (others' may be left alone: a field shown on
		// some rows only); never: no one's is.
		compiles, never bool
		refused         []string // the users whose answer is an error
	}{
		{query: `{ accounts(first: 10, orderBy: [{field: NAME}]) { edges { node { id name taxNo creditLimit tier reserve createdAt
			updatedAt deletedAt owner { id username displayName email } region { id name parent { name } }
			deals(first: 2, orderBy: [{field: AMOUNT, direction: DESC}]) { edges { node { id title amount margin stage createdAt } } } } } } }`,
			compiles: true},
		{query: `query($n: Int!, $w: DealWhereInput) { deals(first: $n, where: $w) { __typename edges { __typename n: node { __typename ...D
			account { name tier } } } } } fragment D on Deal { i: id title amount margin stage }`,
			vars: map[string]any{"n": 3, "w": map[string]any{"amountGT": 10}}, compiles: true},
		{query: `{ accounts(first: 5, search: "a", orderBy: [{field: CREATED_AT, direction: DESC}, {field: TIER}]) { edges { node { name
			deals { edges { node { title } } } } } } }`, compiles: true},
		{query: `{ deals(first: 0) { edges { node { id } } } }`, compiles: true},
		// Counts, foreign keys (null where the related row may not be read), and fields shown on some
		// rows only (mix: creditLimit, as viewer hides it and manager shows it on East's rows).
		{query: `{ accounts(first: 2) { totalCount edges { node { name ownerID regionID deals { totalCount } } } } }`, compiles: true},
		{query: `{ deals(first: 0) { totalCount edges { node { id } } } }`, compiles: true},
		{query: `{ deals(first: 10, where: {titleHasPrefix: "none"}) { t: totalCount edges { node { id } } } }`, compiles: true},
		{query: `{ deals(first: 10) { edges { node { title accountID ownerID account { creditLimit taxNo region { name } } } } } }`,
			compiles: true},
		{query: `{ accounts(first: 10) { edges { node { name creditLimit reserve deals(first: 1) { totalCount edges { node { margin } } } } } } }`,
			compiles: true},
		{query: `{ accounts(first: 10, where: {hasDealsWith: [{amountGT: 100}]}) { edges { node { name } } } }`, compiles: true},
		// Filters and sorts on fields hidden from some users: refused alike.
		{query: `{ accounts(first: 10, where: {creditLimitGT: 1}) { edges { node { name } } } }`, compiles: true,
			refused: []string{"rep1", "rep2", "view"}},
		{query: `{ deals(first: 10, where: {hasAccountWith: [{creditLimitGT: 1}]}) { edges { node { title } } } }`, compiles: true,
			refused: []string{"rep1", "rep2", "view"}},
		{query: `{ accounts(first: 10, orderBy: [{field: CREDIT_LIMIT}]) { edges { node { name } } } }`, compiles: true,
			refused: []string{"rep1", "rep2", "view", "mix"}}, // mix sees it on some rows only
		{query: `{ accounts(first: 10) { edges { node { name deals(first: 5, orderBy: [{field: MARGIN}]) { edges { node { title } } } } } } }`,
			compiles: true, refused: []string{"rep1", "rep2"}},
		// The rows of a nested connection spread over the statement's (one per list: the first met), the
		// others written as JSON text by the statement: under a related record, beside another, empty,
		// and first: 0.
		{query: `{ deals(first: 10) { edges { node { title account { name deals(first: 1) { totalCount edges { node { title } } } } } } } }`,
			compiles: true},
		{query: `{ accounts(first: 10, orderBy: [{field: NAME}]) { totalCount edges { node { name region { name accounts(first: 2, orderBy: [{field: NAME, direction: DESC}]) {
			totalCount edges { node { name deals { totalCount } } } } } deals(first: 1) { edges { node { title amount } } } } } } }`, compiles: true},
		{query: `{ accounts(first: 10) { edges { node { name deals(first: 0) { totalCount edges { node { id } } } } } } }`, compiles: true},
		{query: `{ teams(first: 10) { totalCount edges { node { id name parentID parent { id name } accounts(first: 3) { totalCount edges { node { id name } } }
			children(first: 3) { totalCount edges { node { id name parent { name } } } } members(first: 3) { totalCount edges { node { id username } } } } } } }`,
			compiles: true},
		{query: `{ accounts(first: 10) { edges { node { name deals(first: 5) { __typename edges { __typename node { __typename id } } } } } } }`,
			compiles: true},
		// Left to Paginate.
		{query: `{ accounts(first: 2) { pageInfo { hasNextPage endCursor } edges { node { name } } } }`, never: true},
		{query: `{ accounts(first: 2) { edges { cursor node { name } } } }`, never: true},
		{query: `{ deals(last: 2) { edges { node { title } } } }`, never: true},
		{query: `{ deals { edges { node { title } } } }`, never: true},
	}
	users := []string{"admin", "mgr", "rep1", "rep2", "view", "mix"}
	for _, c := range cases {
		for _, u := range users {
			ctx := env.As(t, u)
			before := gqlwrite.Compiled.Load()
			got := postGraphQL(ctx, compiled, c.query, c.vars)
			ran := gqlwrite.Compiled.Load() > before
			want := postGraphQL(ctx, gqlgen, c.query, c.vars)
			if !sameJSON(t, got, want) {
				t.Errorf("as %s: %s\ncompiled: %s\ngqlgen:   %s", u, c.query, got, want)
			}
			var answer struct{ Errors []any }
			if err := json.Unmarshal(got, &answer); err != nil {
				t.Fatal(err)
			}
			if slices.Contains(c.refused, u) != (len(answer.Errors) > 0) {
				t.Errorf("as %s: %s answered %s; want refused %t", u, c.query, got, slices.Contains(c.refused, u))
			}
			if c.compiles && u == "admin" && !ran {
				t.Errorf("as %s: %s was not compiled", u, c.query)
			}
			if c.never && ran {
				t.Errorf("as %s: %s was compiled, which it cannot be", u, c.query)
			}
		}
	}
}

// sameJSON reports whether two answers hold the same JSON values, keys in the same order.
func sameJSON(t *testing.T, a, b []byte) bool {
	t.Helper()
	var x, y any
	if err := json.Unmarshal(a, &x); err != nil {
		t.Fatalf("%v: %s", err, a)
	}
	if err := json.Unmarshal(b, &y); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
	return reflect.DeepEqual(x, y) && string(a) == string(b)
}
