package metamodel

import (
	"go/token"
	"go/types"
	"sort"
	"strings"
	"unicode"
)

// Naming rules: entity, enum and workflow names are PascalCase; fields, relations, roles, states,
// transitions, reports, automations and dashboards are lowerCamelCase. Names become Go identifiers, GraphQL
// names, SQL tables and columns and URL segments mechanically, so reserved words of all of them are rejected.

func isPascal(s string) bool {
	if s == "" || !unicode.IsUpper(rune(s[0])) || s[0] > unicode.MaxASCII {
		return false
	}
	return isAlnum(s)
}

func isLowerCamel(s string) bool {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	return isAlnum(s)
}

func isAlnum(s string) bool {
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

// words splits a name into words at separators and case changes.
func words(s string) []string {
	var out []string
	var cur []rune
	flush := func() {
		if len(cur) > 0 {
			out = append(out, string(cur))
			cur = nil
		}
	}
	rs := []rune(s)
	for i, r := range rs {
		switch {
		case !(unicode.IsLetter(r) || unicode.IsDigit(r)) || r > unicode.MaxASCII:
			flush()
		case unicode.IsUpper(r) && len(cur) > 0 && (unicode.IsLower(cur[len(cur)-1]) ||
			i+1 < len(rs) && unicode.IsLower(rs[i+1]) && unicode.IsUpper(cur[len(cur)-1])):
			flush()
			cur = append(cur, r)
		default:
			cur = append(cur, r)
		}
	}
	flush()
	return out
}

// pascal converts a name to PascalCase ("follow_up" → "FollowUp").
func pascal(s string) string {
	var b strings.Builder
	for _, w := range words(s) {
		b.WriteString(strings.ToUpper(w[:1]) + w[1:])
	}
	return b.String()
}

// lowerCamel converts a name to lowerCamelCase ("Birth_Date" → "birthDate").
func lowerCamel(s string) string {
	ws := words(s)
	var b strings.Builder
	for i, w := range ws {
		if i == 0 {
			if strings.ToUpper(w) == w {
				b.WriteString(strings.ToLower(w))
			} else {
				b.WriteString(strings.ToLower(w[:1]) + w[1:])
			}
			continue
		}
		b.WriteString(strings.ToUpper(w[:1]) + w[1:])
	}
	out := b.String()
	if out != "" && out[0] >= '0' && out[0] <= '9' {
		out = "n" + out
	}
	return out
}

// plural returns a simple English plural of a lowerCamel name ("opportunity" → "opportunities").
func plural(s string) string {
	switch {
	case s == "":
		return s
	case strings.HasSuffix(s, "y") && len(s) > 1 && !strings.ContainsRune("aeiou", rune(s[len(s)-2])):
		return s[:len(s)-1] + "ies"
	case strings.HasSuffix(s, "s") || strings.HasSuffix(s, "x") || strings.HasSuffix(s, "z") ||
		strings.HasSuffix(s, "ch") || strings.HasSuffix(s, "sh"):
		return s + "es"
	}
	return s + "s"
}

// sqlReserved are words reserved by both SQL standards and the supported databases (SQLite, Postgres).
var sqlReserved = setOf("all", "alter", "and", "any", "as", "asc", "between", "both", "by", "case", "cast",
	"check", "collate", "column", "constraint", "create", "cross", "current_date", "current_time",
	"current_timestamp", "current_user", "delete", "desc", "distinct", "do", "drop", "else", "end", "except",
	"exists", "false", "fetch", "for", "foreign", "from", "grant", "group", "having", "in", "index", "inner",
	"insert", "intersect", "into", "is", "join", "leading", "left", "like", "limit", "natural", "not", "null",
	"offset", "on", "only", "or", "order", "outer", "primary", "references", "returning", "right", "select",
	"session_user", "set", "some", "table", "then", "to", "trailing", "true", "union", "unique", "update",
	"user", "using", "values", "when", "where", "window", "with")

// graphqlReserved are GraphQL keywords and the names of built-in and generated schema types.
var graphqlReserved = setOf("query", "mutation", "subscription", "fragment", "schema", "scalar",
	"interface", "union", "enum", "input", "extend", "directive", "implements", "true", "false", "null")

// reservedTypeNames collide with types that ent, entgql and gqlgen generate or predeclare.
var reservedTypeNames = setOf("Query", "Mutation", "Subscription", "Node", "Noder", "PageInfo", "Cursor",
	"Time", "Map", "Client", "Tx", "Value", "Entity", "Int", "Float", "String", "Boolean", "ID", "Upload",
	"Any", "Schema", "Config", "Hook", "Interceptor", "Policy", "Mutator", "MutateFunc", "Op", "Option",
	"Driver", "Debug", "Log", "Count", "Sum", "Min", "Max", "Mean", "As", "Asc", "Desc", "AggregateFunc",
	"OrderFunc", "OrderDirection", "Edge", "Edges", "Connection", "Error", "Predicate", "Runtime",
	"Migrate", "Enttest", "Privacy", "Intercept", "Hooks")

// reservedFieldNames collide with what ent and GraphQL put on every type.
var reservedFieldNames = setOf("id", "edges", "node", "cursor", "typename", "config", "selectValues",
	"update", "unwrap", "string", "value")

// reservedWord reports whether a lowerCamel name is a Go or GraphQL keyword or, when it becomes a column
// (sql), a reserved SQL word.
func reservedWord(name string, sql bool) (string, bool) {
	l := strings.ToLower(name)
	switch {
	case token.Lookup(name).IsKeyword():
		return "Go", true
	case sql && sqlReserved[l]:
		return "SQL", true
	case graphqlReserved[name]:
		return "GraphQL", true
	}
	return "", false
}

// replacements offers a better name for common reserved words.
var replacements = map[string]string{
	"type": "kind", "order": "sequence", "group": "category", "default": "isDefault", "user": "assignee",
	"select": "selection", "from": "source", "to": "target", "desc": "description", "index": "position",
	"end": "endAt", "limit": "maxValue", "offset": "shift", "range": "span", "values": "items",
	"table": "board", "check": "checked", "case": "caseNo", "go": "goTo", "func": "function",
	"map": "mapping", "chan": "channel", "interface": "iface", "package": "pkg", "var": "variable",
	"id": "code", "node": "item", "edges": "links", "unique": "isUnique", "primary": "isPrimary",
	"order_": "sequence", "column": "col", "enum": "option", "input": "entry", "query": "search",
	"schema": "layout", "true": "yes", "false": "no", "null": "none", "set": "setting", "all": "everything",
	"in": "inside", "is": "flag", "like": "similar", "as": "alias", "on": "enabled", "by": "author",
	"update": "lastUpdate", "unwrap": "unwrapped", "string": "text", "value": "amount",
}

// suggestMember proposes a lowerCamel replacement for a reserved name owned by owner (e.g. an entity).
func suggestMember(name, owner string) string {
	if r, ok := replacements[strings.ToLower(name)]; ok {
		return r
	}
	if owner != "" {
		return lowerCamel(owner) + pascal(name)
	}
	return name + "Value"
}

// entityNameProblem explains why name cannot be an entity, enum or workflow name, and what to use instead.
func typeNameProblem(name string) (problem, suggestion string) {
	low := strings.ToLower(name)
	switch {
	case reservedTypeNames[name]:
		return "collides with a generated or predeclared name", name + "Record"
	case token.Lookup(low).IsKeyword():
		return "is a Go keyword in lower case", name + "Record"
	case types.Universe.Lookup(low) != nil:
		return "is a predeclared Go identifier in lower case", name + "Record"
	case graphqlReserved[low]:
		return "is a GraphQL keyword", name + "Record"
	}
	return "", ""
}

// memberNameProblem explains why name cannot be a field or relation (member true; column true when it becomes
// a column) or another lowerCamel name such as a role or state.
func memberNameProblem(name, owner string, member, column bool) (problem, suggestion string) {
	switch {
	case strings.HasPrefix(name, "__"):
		return "starts with \"__\", which GraphQL reserves", strings.TrimLeft(name, "_")
	case member && reservedFieldNames[name]:
		return "is reserved: generated code defines it on every record", suggestMember(name, owner)
	}
	if lang, ok := reservedWord(name, column); ok {
		return "is a reserved " + lang + " word", suggestMember(name, owner)
	}
	return "", ""
}

// levenshtein returns the edit distance between a and b (by runes), counting a swap of two adjacent
// characters as one edit (optimal string alignment), since that is the commonest typo.
func levenshtein(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	d := make([][]int, len(ra)+1)
	for i := range d {
		d[i] = make([]int, len(rb)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(ra); i++ {
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(ra)][len(rb)]
}

// closest returns the candidate nearest to s, or "" when none is close enough to be a likely typo.
func closest(s string, candidates []string) string {
	best, bestD := "", 0
	for _, c := range candidates {
		if c == s {
			continue
		}
		d := levenshtein(strings.ToLower(s), strings.ToLower(c))
		if best == "" || d < bestD || d == bestD && c < best {
			best, bestD = c, d
		}
	}
	n := len([]rune(s))
	limit := max(1, min(3, n/3))
	if best == "" || bestD > limit || bestD >= n {
		return closestByWords(s, candidates)
	}
	return best
}

// closestByWords returns the candidate whose words begin or end the words of s, or the other way round
// ("CustomerGrade" → "Grade", "Region" → "SalesRegion"): a name written with a prefix or suffix too many
// or too few is far in edit distance but plainly meant. The longest such candidate wins; "" when none.
func closestByWords(s string, candidates []string) string {
	best := ""
	for _, c := range candidates {
		if c == s || !wordAffix(s, c) && !wordAffix(c, s) {
			continue
		}
		if len(c) > len(best) || len(c) == len(best) && c < best {
			best = c
		}
	}
	return best
}

// wordAffix reports whether the words of short begin or end the words of long, compared without case,
// and short is at least three letters (so "to" is not found in every name that starts with it).
func wordAffix(long, short string) bool {
	lw, sw := words(long), words(short)
	if len(sw) == 0 || len(sw) >= len(lw) || len([]rune(short)) < 3 {
		return false
	}
	same := func(off int) bool {
		for i, w := range sw {
			if !strings.EqualFold(w, lw[off+i]) {
				return false
			}
		}
		return true
	}
	return same(0) || same(len(lw)-len(sw))
}

// hint returns " (did you mean "x"?)" when a candidate is close, else " (want one of a, b, c)" for short
// candidate lists, else "".
func hint(s string, candidates []string) string {
	if c := closest(s, candidates); c != "" {
		return " (did you mean \"" + c + "\"?)"
	}
	return wantOneOf(candidates)
}

// didYouMean returns " (did you mean "x"?)" when a candidate is close, else "".
func didYouMean(s string, candidates []string) string {
	if c := closest(s, candidates); c != "" {
		return " (did you mean \"" + c + "\"?)"
	}
	return ""
}

// wantOneOf lists the candidates when there are few enough to read.
func wantOneOf(candidates []string) string {
	if len(candidates) == 0 {
		return ""
	}
	if len(candidates) > 16 {
		return ""
	}
	return " (want one of " + strings.Join(candidates, ", ") + ")"
}

func setOf(ss ...string) map[string]bool {
	m := make(map[string]bool, len(ss))
	for _, s := range ss {
		m[s] = true
	}
	return m
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
