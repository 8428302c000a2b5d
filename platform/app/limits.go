package app

import (
	"context"
	"fmt"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/parser"
)

// What one GraphQL request may cost. The body's size is bounded before it is read (body.go); then, in
// the order the executor meets them: the number of fields, counted on the parsed document before
// validation (whose check of overlapping fields is quadratic in them); nesting and complexity, once the
// operation is known; and at most one credential operation.

// Limits on a single GraphQL operation. Complexity counts every field once and multiplies list fields by
// their page size (entgql's connections declare it), so a deep or wide query is refused before it runs.
// Introspection (__schema, __type) is bounded apart: its nesting follows the schema's type references,
// which clients such as graphql-js walk nine levels deep, and its size is bounded by the schema (and by
// gqlparser's MaxIntrospectionDepth rule, which stops type lists nesting into each other).
const (
	maxComplexity         = 2000000
	maxDepth              = 12
	maxIntrospectionDepth = 32
	unboundedPage         = 100
	// plainList is the size counted for a list that takes no page arguments (a record's history, a
	// change's fields, the transitions of a record): a few entries each, which the request cannot ask
	// to grow. Counting them as a page of 100 refused ordinary queries such as every customer with its
	// history.
	plainList = 10
)

// The limits refuse a request as a whole, before anything runs: like a validation failure, it is
// answered 422, not 200.
func init() {
	for _, code := range []string{"QUERY_TOO_LARGE", "QUERY_TOO_COMPLEX", "TOO_MANY_CREDENTIAL_OPERATIONS"} {
		errcode.RegisterErrorType(code, errcode.KindProtocol)
	}
}

// defaultMaxFields is the default of --max-graphql-fields: far above what a screen or report asks for
// (the admin's largest, a bulk action on a page of rows, selects a few hundred), far below what makes
// validation slow.
const defaultMaxFields = 2000

// fieldLimit refuses a request whose document selects more than max fields, counting aliases and every
// field of a fragment as often as the fragment is spread. It parses the query itself, before the
// executor parses and validates it, because validation's cost grows with the square of the fields: a
// count after validation would come too late. Parsing is linear; a document that does not parse is left
// to the executor, which says why.
type fieldLimit struct{ max int }

var _ interface {
	graphql.HandlerExtension
	graphql.OperationParameterMutator
} = fieldLimit{}

func (fieldLimit) ExtensionName() string                   { return "FieldLimit" }
func (fieldLimit) Validate(graphql.ExecutableSchema) error { return nil }

func (l fieldLimit) MutateOperationParameters(_ context.Context, p *graphql.RawParams) *gqlerror.Error {
	doc, err := parser.ParseQuery(&ast.Source{Input: p.Query})
	if err != nil {
		return nil
	}
	if n := countFields(doc); n > l.max {
		return &gqlerror.Error{
			Message:    fmt.Sprintf("the request selects %d fields (aliases and fragment spreads counted); the limit is %d: split it into smaller requests", n, l.max),
			Extensions: map[string]any{"code": "QUERY_TOO_LARGE", "fields": n, "limit": l.max},
		}
	}
	return nil
}

// countFields counts the fields of every operation and fragment definition of doc, as validation walks
// them: each fragment as often as it is spread. A fragment's count is computed once and reused, so the
// count is linear in the document even when spreads multiply; a spread that closes a cycle counts
// nothing (validation refuses the cycle). The count saturates rather than overflow.
func countFields(doc *ast.QueryDocument) int {
	c := fieldCounter{frags: map[string]*ast.FragmentDefinition{}, counts: map[string]int{}, open: map[string]bool{}}
	for _, f := range doc.Fragments {
		c.frags[f.Name] = f
	}
	n := 0
	for _, op := range doc.Operations {
		n = addSat(n, c.set(op.SelectionSet))
	}
	for _, f := range doc.Fragments {
		n = addSat(n, c.fragment(f.Name))
	}
	return n
}

type fieldCounter struct {
	frags  map[string]*ast.FragmentDefinition
	counts map[string]int  // fragment name → fields, once known
	open   map[string]bool // fragments being counted, to stop at a cycle
}

func (c *fieldCounter) set(set ast.SelectionSet) int {
	n := 0
	for _, s := range set {
		switch s := s.(type) {
		case *ast.Field:
			n = addSat(n, addSat(1, c.set(s.SelectionSet)))
		case *ast.InlineFragment:
			n = addSat(n, c.set(s.SelectionSet))
		case *ast.FragmentSpread:
			n = addSat(n, c.fragment(s.Name))
		}
	}
	return n
}

func (c *fieldCounter) fragment(name string) int {
	if n, ok := c.counts[name]; ok {
		return n
	}
	f := c.frags[name]
	if f == nil || c.open[name] {
		return 0
	}
	c.open[name] = true
	n := c.set(f.SelectionSet)
	delete(c.open, name)
	c.counts[name] = n
	return n
}

// saturated bounds costs and counts so that adding and multiplying them cannot overflow.
const saturated = 1 << 40

func addSat(a, b int) int { return min(a+b, saturated) }

// operationLimits refuses operations nested deeper than maxDepth selection levels or costing more than
// maxComplexity (fragments included), and introspection nested deeper than maxIntrospectionDepth.
type operationLimits struct{ maxDepth, maxComplexity, maxIntrospectionDepth int }

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = operationLimits{}

func (operationLimits) ExtensionName() string                   { return "OperationLimits" }
func (operationLimits) Validate(graphql.ExecutableSchema) error { return nil }

func (l operationLimits) MutateOperationContext(_ context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	if oc.Operation == nil {
		return nil
	}
	w := &walker{frags: oc.Doc.Fragments, vars: oc.Variables}
	depth, cost := w.walk(oc.Operation.SelectionSet, 0)
	tooComplex := func(format string, args ...any) *gqlerror.Error {
		return &gqlerror.Error{Message: fmt.Sprintf(format, args...), Extensions: map[string]any{"code": "QUERY_TOO_COMPLEX"}}
	}
	if depth > l.maxDepth {
		return tooComplex("operation is nested %d levels deep; the limit is %d", depth, l.maxDepth)
	}
	if w.introspection > l.maxIntrospectionDepth {
		return tooComplex("introspection is nested %d levels deep; the limit is %d", w.introspection, l.maxIntrospectionDepth)
	}
	if cost > l.maxComplexity {
		return tooComplex("operation complexity %d exceeds the limit %d: request smaller pages (first/last) or fewer nested lists", cost, l.maxComplexity)
	}
	return nil
}

// walker measures an operation's depth and cost. Introspection fields are measured apart: their depth
// goes to introspection, and they cost nothing here.
type walker struct {
	frags         ast.FragmentDefinitionList
	vars          map[string]any
	introspection int // the depth of the deepest __schema or __type selection
}

// walk returns the depth and cost of a selection set.
func (w *walker) walk(set ast.SelectionSet, level int) (depth, cost int) {
	if level > 64 {
		return level, saturated // fragment cycles are rejected by validation; this only bounds the walk
	}
	for _, s := range set {
		var d, c int
		switch s := s.(type) {
		case *ast.Field:
			if s.Name == "__schema" || s.Name == "__type" {
				id, _ := w.walk(s.SelectionSet, level+1)
				w.introspection = max(w.introspection, 1+id)
				continue
			}
			d, c = 1, 1
			if len(s.SelectionSet) > 0 {
				cd, cc := w.walk(s.SelectionSet, level+1)
				d += cd
				c += min(w.multiplier(s)*cc, saturated)
			}
		case *ast.InlineFragment:
			d, c = w.walk(s.SelectionSet, level+1)
		case *ast.FragmentSpread:
			if f := w.frags.ForName(s.Name); f != nil {
				d, c = w.walk(f.SelectionSet, level+1)
			}
		}
		depth = max(depth, d)
		cost = addSat(cost, c)
	}
	return depth, cost
}

// multiplier is how many times a field's selection may repeat: the page size of a list or connection
// (first/last, or unboundedPage when neither is given), plainList for a list without page arguments,
// else 1.
func (w *walker) multiplier(f *ast.Field) int {
	if f.Definition == nil || f.Definition.Type == nil {
		return 1
	}
	if f.Definition.Type.Elem == nil && !strings.HasSuffix(f.Definition.Type.Name(), "Connection") {
		return 1
	}
	if strings.HasSuffix(f.Definition.Type.Name(), "Edge") {
		return 1 // a connection's edges: its page size was counted on the connection
	}
	if f.Definition.Type.Elem != nil && f.Definition.Arguments.ForName("first") == nil && f.Definition.Arguments.ForName("last") == nil {
		return plainList
	}
	n := 0
	for _, name := range []string{"first", "last"} {
		if a := f.Arguments.ForName(name); a != nil {
			if v, err := a.Value.Value(w.vars); err == nil {
				switch x := v.(type) {
				case int64:
					n = max(n, int(x))
				case int:
					n = max(n, x)
				case float64:
					n = max(n, int(x))
				}
			}
		}
	}
	if n <= 0 {
		n = unboundedPage
	}
	return n
}

// credentialFields are the mutations that check a password or mint a credential. One request may hold
// one of them: in a batch, twenty guesses at a password would count as one request against nothing,
// and any number of aliases or fragment spreads could hide them.
var credentialFields = map[string]bool{"login": true, "changePassword": true, "setUserPassword": true, "createAPIToken": true}

// credentialLimit refuses a mutation holding more than one credential field (see credentialFields),
// however spelt: aliases, fragments and inline fragments are followed, and fields skipped by a directive
// count all the same. It also refuses one that mixes a credential field with changes to records: those
// run in the operation's transaction and the credentials in the auth service's own, so a failure of
// one could not undo the other.
type credentialLimit struct{}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = credentialLimit{}

func (credentialLimit) ExtensionName() string                   { return "CredentialLimit" }
func (credentialLimit) Validate(graphql.ExecutableSchema) error { return nil }

func (credentialLimit) MutateOperationContext(_ context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	if oc.Operation == nil || oc.Operation.Operation != ast.Mutation {
		return nil
	}
	var credentials []string
	others := false
	for _, name := range rootFields(oc.Operation.SelectionSet, oc.Doc.Fragments, 0) {
		switch {
		case credentialFields[name]:
			credentials = append(credentials, name)
		case !sessionFields[name] && name != "__typename":
			others = true
		}
	}
	refuse := func(msg string) *gqlerror.Error {
		return &gqlerror.Error{Message: msg, Extensions: map[string]any{"code": "TOO_MANY_CREDENTIAL_OPERATIONS"}}
	}
	switch {
	case len(credentials) > 1:
		return refuse(fmt.Sprintf("the request holds %d sign-in or password operations (%s); send one per request",
			len(credentials), strings.Join(credentials, ", ")))
	case len(credentials) == 1 && others:
		return refuse(fmt.Sprintf("%s cannot be combined with changes to records in one request; send it on its own", credentials[0]))
	}
	return nil
}

// rootFields returns the names of a mutation's root fields, following fragments (mutation fields are
// root fields only).
func rootFields(set ast.SelectionSet, frags ast.FragmentDefinitionList, level int) []string {
	if level > 64 {
		return nil // fragment cycles are rejected by validation; this only bounds the walk
	}
	var names []string
	for _, s := range set {
		switch s := s.(type) {
		case *ast.Field:
			names = append(names, s.Name)
		case *ast.InlineFragment:
			names = append(names, rootFields(s.SelectionSet, frags, level+1)...)
		case *ast.FragmentSpread:
			if f := frags.ForName(s.Name); f != nil {
				names = append(names, rootFields(f.SelectionSet, frags, level+1)...)
			}
		}
	}
	return names
}
