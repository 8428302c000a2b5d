package e2e

import (
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/crmgen/crmgen/internal/apptest"
	"github.com/crmgen/crmgen/metamodel"
)

// ---------------------------------------------------------------------------------------------------
// The rules, as METAMODEL.md defines them. A user's rights are the union of their roles (each with its
// inherited permissions, as the built model holds them): a row is readable when one of the roles reads
// it, and a field of that row is shown when one of the roles that read the row shows it.

// pmGranted reports whether a verb's scope grants anything.
func pmGranted(s *metamodel.Scope) bool {
	return s != nil && s.Kind != "" && s.Kind != metamodel.ScopeNone
}

// matches reports whether scope s of a role of u covers row r.
func (w *pmWorld) matches(u *pmUser, r *pmRow, s *metamodel.Scope) bool {
	if !pmGranted(s) {
		return false
	}
	switch s.Kind {
	case metamodel.ScopeAll:
		return true
	case metamodel.ScopeOwn:
		return r.e.OwnerField != "" && r.refs[r.e.OwnerField] != nil && r.refs[r.e.OwnerField] == u.row
	case metamodel.ScopeTeam:
		if r.e.OwnerField == "" || u.team == nil {
			return false
		}
		owner := r.refs[r.e.OwnerField]
		return owner != nil && owner.refs["team"] != nil && u.teams[owner.refs["team"]]
	case metamodel.ScopeField:
		v := r.refs[s.Field]
		switch {
		case v == nil:
			return false
		case s.Equals == "user.id":
			return v == u.row
		case u.team == nil:
			return false
		case s.Subteams:
			return u.teams[v]
		default:
			return v == u.team
		}
	}
	return false
}

// perms returns the permissions of u's roles on entity (nil entries left out), plus an empty permission
// that reads everything when no role mentions the entity and it is User or Team.
func (w *pmWorld) perms(u *pmUser, entity string) []*metamodel.Permission {
	var out []*metamodel.Permission
	for _, role := range u.roles {
		if p := role.Permissions[entity]; p != nil {
			out = append(out, p)
		}
	}
	if w.implicit[entity] {
		out = append(out, &metamodel.Permission{Read: &metamodel.Scope{Kind: metamodel.ScopeAll}})
	}
	return out
}

// readers returns the permissions of u that read row r.
func (w *pmWorld) readers(u *pmUser, r *pmRow) []*metamodel.Permission {
	var out []*metamodel.Permission
	for _, p := range w.perms(u, r.e.Name) {
		if w.matches(u, r, p.Read) {
			out = append(out, p)
		}
	}
	return out
}

func (w *pmWorld) readable(u *pmUser, r *pmRow) bool {
	return r != nil && (u.all || len(w.readers(u, r)) > 0)
}

// shows reports whether permission p, of a role that reads a row, shows member of entity e on it: not
// hidden, and in a list (a connection) a sensitive field only with `visible` (METAMODEL.md: sensitive
// fields are left out of lists, search and exports unless a role's field rule shows them).
func pmShows(p *metamodel.Permission, e *metamodel.Entity, member string, inList bool) bool {
	rule := p.Fields[member]
	if rule == metamodel.AccessHidden {
		return false
	}
	if inList && e.Field(member) != nil && e.Field(member).Sensitive && rule != metamodel.AccessVisible {
		return false
	}
	return true
}

// shown reports whether member (a field or relation) of row r is visible to u: some role that reads r
// shows it.
func (w *pmWorld) shown(u *pmUser, r *pmRow, member string, inList bool) bool {
	if u.all {
		return true
	}
	for _, p := range w.readers(u, r) {
		if pmShows(p, r.e, member, inList) {
			return true
		}
	}
	return false
}

// hiddenEverywhere reports whether member of entity is hidden from u as such: some role of u reads the
// entity and every one that does hides the member. Writing it is then refused.
func (w *pmWorld) hiddenEverywhere(u *pmUser, entity, member string) bool {
	if u.all {
		return false
	}
	readers := 0
	for _, p := range w.perms(u, entity) {
		if !pmGranted(p.Read) {
			continue
		}
		readers++
		if p.Fields[member] != metamodel.AccessHidden {
			return false
		}
	}
	return readers > 0
}

// unsearchable reports whether filtering or sorting entity by member is refused for u: some role of u
// reads the entity and none of them shows the member in a list (hidden, or sensitive without visible).
func (w *pmWorld) unsearchable(u *pmUser, entity, member string) bool {
	if u.all {
		return false
	}
	e := w.m.Entity(entity)
	readers := 0
	for _, p := range w.perms(u, entity) {
		if !pmGranted(p.Read) {
			continue
		}
		readers++
		if pmShows(p, e, member, true) {
			return false
		}
	}
	return readers > 0
}

func (w *pmWorld) updatable(u *pmUser, r *pmRow) bool {
	if u.all {
		return true
	}
	for _, p := range w.perms(u, r.e.Name) {
		if w.matches(u, r, p.Update) {
			return true
		}
	}
	return false
}

func (w *pmWorld) deletable(u *pmUser, r *pmRow) bool {
	if u.all {
		return true
	}
	for _, p := range w.perms(u, r.e.Name) {
		if w.matches(u, r, p.Delete) {
			return true
		}
	}
	return false
}

// writable reports whether u may write member on row r in an update: it is shown to u, and some role
// that may update r neither hides it nor makes it readonly.
func (w *pmWorld) writable(u *pmUser, r *pmRow, member string) bool {
	if u.all {
		return true
	}
	if !w.shown(u, r, member, false) {
		return false
	}
	for _, p := range w.perms(u, r.e.Name) {
		if !w.matches(u, r, p.Update) {
			continue
		}
		if rule := p.Fields[member]; rule != metamodel.AccessReadonly && rule != metamodel.AccessHidden {
			return true
		}
	}
	return false
}

func (w *pmWorld) canCreate(u *pmUser, entity string) bool {
	if u.all {
		return true
	}
	for _, p := range w.perms(u, entity) {
		if p.Create {
			return true
		}
	}
	return false
}

// outcome is what a write of row r by u must answer: "" (allowed), NOT_FOUND or FORBIDDEN.
func (w *pmWorld) outcome(u *pmUser, r *pmRow, allowed func(*pmUser, *pmRow) bool) string {
	switch {
	case !w.readable(u, r):
		return "NOT_FOUND"
	case !allowed(u, r):
		return "FORBIDDEN"
	case !u.all && w.locked(r):
		return "LOCKED"
	}
	return ""
}

// locked reports whether r is in a state that locks it (METAMODEL.md: a final state, unless lock: false):
// only a superuser may update or delete it.
func (w *pmWorld) locked(r *pmRow) bool {
	for _, wf := range w.m.Workflows {
		f := r.e.Field(wf.Field)
		if wf.Entity != r.e.Name || f == nil {
			continue
		}
		for _, st := range wf.States {
			if st.Locked() && r.vals[f.GraphQLName()] == st.Name {
				return true
			}
		}
	}
	return false
}

// ---------------------------------------------------------------------------------------------------
// The model's rule kinds, so a test can require that its model covers all of them, and that its data has
// rows on both sides of each row scope.

// pmRuleKinds lists the kinds of rule the model's roles use, each with one place that uses it.
func pmRuleKinds(w *pmWorld) map[string]string {
	m := w.m
	out := map[string]string{}
	add := func(kind, where string) {
		if _, ok := out[kind]; !ok {
			out[kind] = where
		}
	}
	scopeKind := func(s *metamodel.Scope) string {
		if s == nil {
			return ""
		}
		if s.Kind == metamodel.ScopeField {
			k := "scope {field, equals: " + s.Equals
			if s.Subteams {
				k += ", subteams: true"
			}
			return k + "}"
		}
		return "scope " + string(s.Kind)
	}
	rank := map[metamodel.ScopeKind]int{metamodel.ScopeNone: 0, metamodel.ScopeOwn: 1, metamodel.ScopeField: 1,
		metamodel.ScopeTeam: 2, metamodel.ScopeAll: 3}
	for _, role := range m.Roles {
		if role.Superuser {
			add("superuser", role.Name)
		}
		if len(role.Inherits) > 0 {
			add("inherits", role.Name)
		}
		for ent, p := range role.Permissions {
			where := role.Name + " on " + ent
			e := m.Entity(ent)
			for _, s := range []*metamodel.Scope{p.Read, p.Update, p.Delete} {
				if k := scopeKind(s); k != "" {
					add(k, where)
				}
			}
			if e != nil && e.OwnerField != "" && e.OwnerField != "owner" &&
				(p.Read != nil && (p.Read.Kind == metamodel.ScopeOwn || p.Read.Kind == metamodel.ScopeTeam) ||
					p.Update != nil && (p.Update.Kind == metamodel.ScopeOwn || p.Update.Kind == metamodel.ScopeTeam)) {
				add("custom ownerField", where+" (ownerField "+e.OwnerField+")")
			}
			if p.Create {
				add("create true", where)
			} else if pmGranted(p.Read) {
				add("create false", where)
			}
			if pmGranted(p.Read) && (p.Update == nil || rank[p.Update.Kind] < rank[p.Read.Kind]) {
				add("update narrower than read", where)
			}
			if pmGranted(p.Read) && (p.Delete == nil || rank[p.Delete.Kind] < rank[p.Read.Kind]) {
				add("delete narrower than read", where)
			}
			if pmGranted(p.Delete) {
				add("delete granted", where)
			}
			for member, rule := range p.Fields {
				if e == nil {
					continue
				}
				switch {
				case e.Relation(member) != nil && rule == metamodel.AccessHidden:
					add("relation hidden", where+"."+member)
				case rule == metamodel.AccessVisible && e.Field(member) != nil && e.Field(member).Sensitive:
					add("visible (sensitive field)", where+"."+member)
				case e.Field(member) != nil:
					add("field "+rule, where+"."+member)
				}
			}
			if ent == "User" || ent == "Team" {
				add("User/Team permission declared", where)
			}
			if e != nil && e.Has(metamodel.TraitSoftDelete) && pmGranted(p.Read) {
				add("softDelete entity", where)
			}
		}
	}
	for _, u := range w.users {
		if len(u.roles) > 1 {
			add("user with several roles", u.name)
		}
	}
	for _, name := range []string{"User", "Team"} {
		if w.implicit[name] && len(m.Roles) > 0 {
			add("User/Team read by all (no role mentions it)", name)
		}
	}
	return out
}

// pmAllRuleKinds is every rule kind METAMODEL.md's roles section has.
var pmAllRuleKinds = []string{"superuser", "inherits", "scope none", "scope own", "scope team", "scope all",
	"scope {field, equals: user.id}", "scope {field, equals: user.team}",
	"scope {field, equals: user.team, subteams: true}", "custom ownerField", "create true", "create false",
	"update narrower than read", "delete narrower than read", "delete granted", "field hidden", "field readonly",
	"visible (sensitive field)", "relation hidden", "softDelete entity", "User/Team permission declared",
	"User/Team read by all (no role mentions it)", "user with several roles"}

// pmOneSided lists the row scopes (role, entity, verb) that no user of the role sees on both sides in
// the data: every row in it, or none.
func pmOneSided(w *pmWorld) []string {
	var out []string
	for _, role := range w.m.Roles {
		var holders []*pmUser
		for _, u := range w.users {
			for _, r := range u.roles {
				if r == role {
					holders = append(holders, u)
				}
			}
		}
		for _, ent := range sortedPermKeys(role.Permissions) {
			p := role.Permissions[ent]
			for verb, s := range map[string]*metamodel.Scope{"read": p.Read, "update": p.Update, "delete": p.Delete} {
				if !pmGranted(s) || s.Kind == metamodel.ScopeAll {
					continue
				}
				in, outside := false, false
				for _, u := range holders {
					for _, r := range w.rows[ent] {
						if w.matches(u, r, s) {
							in = true
						} else {
							outside = true
						}
					}
				}
				if !in || !outside {
					out = append(out, fmt.Sprintf("%s %s %s (%s): rows inside %v, outside %v, users with the role %d",
						role.Name, verb, ent, s.Kind, in, outside, len(holders)))
				}
			}
		}
	}
	sort.Strings(out)
	return out
}

func sortedPermKeys(m map[string]*metamodel.Permission) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// ---------------------------------------------------------------------------------------------------
// The GraphQL schema, by introspection: which fields, arguments and input fields the generated API has.

type pmGQLField struct {
	typ  string // the innermost named type
	list bool
	args map[string]bool
}

type pmGQLType struct {
	fields map[string]*pmGQLField
	inputs map[string]bool
	enums  []string
}

func pmIntrospect(t *testing.T, s *apptest.Server) map[string]*pmGQLType {
	t.Helper()
	d := query(t, s, `{ __schema { types { name
		fields { name args { name } type { kind name ofType { kind name ofType { kind name ofType { kind name } } } } }
		inputFields { name } enumValues { name } } } }`, nil)
	out := map[string]*pmGQLType{}
	for _, ty := range list(t, d, "__schema.types") {
		gt := &pmGQLType{fields: map[string]*pmGQLField{}, inputs: map[string]bool{}}
		if fs, ok := at(t, ty, "fields").([]any); ok {
			for _, f := range fs {
				gf := &pmGQLField{args: map[string]bool{}}
				for cur, _ := at(t, f, "type").(map[string]any); cur != nil; cur, _ = cur["ofType"].(map[string]any) {
					if cur["kind"] == "LIST" {
						gf.list = true
					}
					if name, ok := cur["name"].(string); ok && name != "" {
						gf.typ = name
					}
				}
				for _, a := range list(t, f, "args") {
					gf.args[str(t, a, "name")] = true
				}
				gt.fields[str(t, f, "name")] = gf
			}
		}
		if fs, ok := at(t, ty, "inputFields").([]any); ok {
			for _, f := range fs {
				gt.inputs[str(t, f, "name")] = true
			}
		}
		if vs, ok := at(t, ty, "enumValues").([]any); ok {
			for _, v := range vs {
				gt.enums = append(gt.enums, str(t, v, "name"))
			}
		}
		out[str(t, ty, "name")] = gt
	}
	return out
}

// orderMember returns the field behind an order field value (its column, upper-cased).
func (p *pmPlan) orderMember(value string) string {
	for _, f := range p.e.Fields {
		if strings.ToUpper(f.Column()) == value {
			return f.Name
		}
	}
	return ""
}

// ---------------------------------------------------------------------------------------------------
// Reporting: a matrix finds the same problem on many rows; each problem is reported once, with its count
// and a few examples.

type pmReport struct {
	t      *testing.T
	prefix string
	keys   []string
	cases  map[string][]string
}

func newPMReport(t *testing.T, prefix string) *pmReport {
	return &pmReport{t: t, prefix: prefix, cases: map[string][]string{}}
}

func (r *pmReport) add(problem, example string, args ...any) {
	if _, ok := r.cases[problem]; !ok {
		r.keys = append(r.keys, problem)
	}
	r.cases[problem] = append(r.cases[problem], fmt.Sprintf(example, args...))
}

func (r *pmReport) flush() {
	r.t.Helper()
	for _, k := range r.keys {
		ex := r.cases[k]
		more := ""
		if len(ex) > 3 {
			more = fmt.Sprintf(" (and %d more)", len(ex)-3)
			ex = ex[:3]
		}
		r.t.Errorf("%s: %s — %d case(s): %s%s", r.prefix, k, len(r.cases[k]), strings.Join(ex, "; "), more)
	}
	r.keys, r.cases = nil, map[string][]string{}
}

// ---------------------------------------------------------------------------------------------------
// Small GraphQL helpers.

// pmErrors indexes a response's errors by the first element of their path (the alias of a root field);
// errors without a path are under "".
func pmErrors(r *apptest.Response) map[string]apptest.Error {
	out := map[string]apptest.Error{}
	for _, e := range r.Errors {
		key := ""
		if len(e.Path) > 0 {
			key = fmt.Sprint(e.Path[0])
		}
		if _, ok := out[key]; !ok {
			out[key] = e
		}
	}
	return out
}

// pmData decodes a response's data (which may be partial) into generic JSON.
func pmData(r *apptest.Response) map[string]any {
	var out map[string]any
	if len(r.Data) > 0 {
		_ = json.Unmarshal(r.Data, &out)
	}
	return out
}

// pmCode is an error's extensions.code.
func pmCode(e apptest.Error) string {
	c, _ := e.Extensions["code"].(string)
	return c
}

// pmNamesFieldRule reports whether a VALIDATION error names member with rule (in its fields list or its
// first field).
func pmNamesFieldRule(e apptest.Error, member, rule string) bool {
	if pmCode(e) != "VALIDATION" {
		return false
	}
	if e.Extensions["field"] == member && e.Extensions["rule"] == rule {
		return true
	}
	fs, _ := e.Extensions["fields"].([]any)
	for _, f := range fs {
		if fm, ok := f.(map[string]any); ok && fm["field"] == member && fm["rule"] == rule {
			return true
		}
	}
	return false
}

func pmDescribe(e apptest.Error) string {
	return fmt.Sprintf("%q %v", e.Message, e.Extensions)
}

// pmIDsOf returns the ids of rows, sorted as numbers.
func pmIDsOf(rows []*pmRow) []string {
	out := make([]string, 0, len(rows))
	for _, r := range rows {
		out = append(out, r.id)
	}
	pmSortIDs(out)
	return out
}

func pmSortIDs(ids []string) {
	sort.Slice(ids, func(i, j int) bool {
		a, _ := strconv.ParseInt(ids[i], 10, 64)
		b, _ := strconv.ParseInt(ids[j], 10, 64)
		if a != b {
			return a < b
		}
		return ids[i] < ids[j]
	})
}

// labels names ids by the rows they are (for messages).
func (mx *pmMatrix) labels(ids []string) string {
	out := make([]string, len(ids))
	for i, id := range ids {
		if r := mx.byID[id]; r != nil {
			out[i] = r.label
		} else {
			out[i] = "id " + id
		}
	}
	return "[" + strings.Join(out, " ") + "]"
}

// pmNodeIDs returns the ids of a connection's nodes.
func pmNodeIDs(conn any) ([]string, bool) {
	c, ok := conn.(map[string]any)
	if !ok {
		return nil, false
	}
	edges, _ := c["edges"].([]any)
	out := []string{}
	for _, e := range edges {
		if n, ok := e.(map[string]any)["node"].(map[string]any); ok {
			out = append(out, fmt.Sprint(n["id"]))
		}
	}
	return out, true
}

// pmCompare compares two values of a field for GTE filters: numbers as numbers, times as times.
func pmCompare(f *metamodel.Field, a, b any) (int, bool) {
	switch f.Type {
	case metamodel.TypeFloat, metamodel.TypeDecimal, metamodel.TypeInt:
		x, ok1 := a.(float64)
		y, ok2 := b.(float64)
		if !ok1 || !ok2 {
			return 0, false
		}
		switch {
		case math.Abs(x-y) < 1e-9:
			return 0, true
		case x < y:
			return -1, true
		}
		return 1, true
	case metamodel.TypeDate, metamodel.TypeDateTime:
		x, err1 := time.Parse(time.RFC3339Nano, fmt.Sprint(a))
		y, err2 := time.Parse(time.RFC3339Nano, fmt.Sprint(b))
		if err1 != nil || err2 != nil {
			return 0, false
		}
		return x.Compare(y), true
	}
	return 0, false
}

// pmIDCard makes, from a resident identity card number (GB 11643: 6-digit area, 8-digit date of birth,
// 3-digit sequence, ISO 7064 MOD 11-2 check character), the n-th distinct number that stays valid: the
// date of birth moves n/1000 days on, the sequence is n%1000 and the check character is recomputed. An
// example may check the number beyond the model's pattern (the hospital's extend/ hook does), so the
// matrix's inputs must be numbers a clerk could really type.
func pmIDCard(v string, n int) (string, bool) {
	if !pmIDCardShape.MatchString(v) {
		return "", false
	}
	birth, err := time.Parse("20060102", v[6:14])
	if err != nil {
		return "", false
	}
	birth = birth.AddDate(0, 0, n/1000)
	s := v[:6] + birth.Format("20060102") + fmt.Sprintf("%03d", n%1000)
	weights := [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}
	sum := 0
	for i := range 17 {
		sum += int(s[i]-'0') * weights[i]
	}
	return s + string("10X98765432"[sum%11]), true
}

var pmIDCardShape = regexp.MustCompile(`^\d{17}[\dXx]$`)

// pmUniqueValue derives from v a value for field f that no other record holds: a suffix with n for
// strings (keeping maxLen and pattern), an offset for numbers.
func pmUniqueValue(f *metamodel.Field, v any, n int) (any, bool) {
	switch x := v.(type) {
	case float64:
		return x + float64(1000000+n), true
	case string:
		if id, ok := pmIDCard(x, n); ok {
			return id, true
		}
		maxLen := 1 << 20
		if f.MaxLen != nil {
			maxLen = *f.MaxLen
		}
		var re *regexp.Regexp
		if f.Pattern != "" {
			re = regexp.MustCompile(f.Pattern)
		}
		ok := func(s string) bool { return len([]rune(s)) <= maxLen && (re == nil || re.MatchString(s)) }
		runes := []rune(x)
		digits := strconv.Itoa(100000 + n)
		var candidates []string
		switch f.Type {
		case metamodel.TypeEmail:
			candidates = append(candidates, fmt.Sprintf("pm%d.%s", n, x))
		case metamodel.TypeURL:
			candidates = append(candidates, fmt.Sprintf("%s?pm=%d", x, n))
		}
		for _, sfx := range []string{fmt.Sprintf("~%d", n), fmt.Sprintf("-%d", n), digits} {
			keep := len(runes)
			if keep+len(sfx) > maxLen {
				keep = maxLen - len(sfx)
			}
			if keep >= 0 {
				candidates = append(candidates, string(runes[:keep])+sfx)
			}
		}
		// Same length, the tail replaced by digits (identity numbers and other fixed formats).
		if len(runes) >= len(digits) {
			candidates = append(candidates, string(runes[:len(runes)-len(digits)])+digits)
		}
		for _, c := range candidates {
			if ok(c) {
				return c, true
			}
		}
	}
	return nil, false
}
