package app

import (
	"context"
	"reflect"
	"sort"
	"strings"
	"sync"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/crmgen/crmgen/metamodel"
	"github.com/crmgen/crmgen/platform/auth"
	"github.com/crmgen/crmgen/platform/enforce"
	"github.com/crmgen/crmgen/platform/process"
)

// The GraphQL side of the enforcement point. Rows are filtered by the ent interceptor; what GraphQL adds
// is what ent cannot see: the fields of a response, and the filters and sort keys of a request.

// publicFields are the root fields answered without a principal.
var publicFields = map[string]bool{"login": true, "__typename": true}

// hideFields answers null for a field the principal's roles hide. The generator made every field some role
// can hide nullable, so null is a valid answer that tells nothing about the value.
func hideFields(rt *enforce.Runtime) graphql.FieldMiddleware {
	return func(ctx context.Context, next graphql.Resolver) (any, error) {
		fc := graphql.GetFieldContext(ctx)
		if fc == nil || fc.Object == "" || fc.Field.Field == nil {
			return next(ctx)
		}
		if err := deniedField(ctx, fc); err != nil {
			return nil, err
		}
		member, ok := rt.Member(fc.Object, fc.Field.Name)
		if !ok {
			return next(ctx)
		}
		if rt.Hidden(ctx, fc.Object, member) || (rt.Masked(ctx, fc.Object, member) && inList(fc)) {
			return nil, nil
		}
		if rt.PerRow(ctx, fc.Object, member) {
			id, ok := rowID(fc)
			if !ok {
				return nil, nil
			}
			if visible, err := rt.VisibleOn(ctx, fc.Object, member, id); err != nil || !visible {
				return nil, err
			}
		}
		v, err := next(ctx)
		if err != nil {
			// A required relation whose row the reader may not read: absent, not an error.
			if rel := rt.Model.Entity(fc.Object).Relation(member); rel != nil && rel.Kind == metamodel.BelongsTo && enforce.IsNotFound(err) {
				return nil, nil
			}
			return v, err
		}
		if v == nil {
			return v, nil
		}
		// A foreign key names a row: it is shown only if that row may be read.
		if rel := rt.Model.Entity(fc.Object).Relation(member); rel != nil && rel.Kind == metamodel.BelongsTo && fc.Field.Name == rel.GraphQLFKName() {
			id, ok := intValue(v)
			if !ok {
				return v, nil
			}
			if readable, err := rt.Readable(ctx, rel.To, id); err != nil || !readable {
				return nil, err
			}
		}
		return v, nil
	}
}

// rowID is the id of the record whose field is being resolved.
func rowID(fc *graphql.FieldContext) (int, bool) {
	if fc.Parent == nil || fc.Parent.Result == nil {
		return 0, false
	}
	rv := reflect.ValueOf(fc.Parent.Result)
	for rv.Kind() == reflect.Pointer || rv.Kind() == reflect.Interface {
		if rv.IsNil() {
			return 0, false
		}
		rv = rv.Elem()
	}
	if rv.Kind() != reflect.Struct {
		return 0, false
	}
	f := rv.FieldByName("ID")
	if !f.IsValid() || !f.CanInt() {
		return 0, false
	}
	return int(f.Int()), true
}

func intValue(v any) (int, bool) {
	switch x := v.(type) {
	case int:
		return x, true
	case *int:
		if x != nil {
			return *x, true
		}
	}
	return 0, false
}

// inList reports whether a field is resolved for a row of a list (a connection's edges or a list field),
// where sensitive fields are left out.
func inList(fc *graphql.FieldContext) bool {
	for p := fc.Parent; p != nil; p = p.Parent {
		if p.Index != nil || (p.Field.Field != nil && p.Field.Name == "edges") {
			return true
		}
	}
	return false
}

// requestGuard refuses, before anything runs, operations without a principal (except signing in) and
// filters or sort keys on fields the principal may not see — a hidden field must not leak through which
// rows match it or how they are ordered.
type requestGuard struct{ rt *enforce.Runtime }

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = requestGuard{}

func (requestGuard) ExtensionName() string                   { return "RequestGuard" }
func (requestGuard) Validate(graphql.ExecutableSchema) error { return nil }

func (g requestGuard) MutateOperationContext(ctx context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	if oc.Operation == nil {
		return nil
	}
	coerceLists(oc.Operation.SelectionSet, oc.Doc.Fragments, 0)
	if auth.FromContext(ctx) == nil && !enforce.IsSystem(ctx) {
		for _, s := range oc.Operation.SelectionSet {
			f, ok := s.(*ast.Field)
			if !ok || !publicFields[f.Name] {
				return &gqlerror.Error{Message: "sign in required: use the login mutation, or send Authorization: Bearer <token>",
					Extensions: map[string]any{"code": "UNAUTHENTICATED"}}
			}
		}
		return nil
	}
	w := argWalker{ctx: ctx, rt: g.rt, vars: oc.Variables, frags: oc.Doc.Fragments, oc: oc, denied: map[*ast.Field]string{}}
	w.selections(oc.Operation.SelectionSet, 0)
	if len(w.denied) > 0 {
		denials.Store(oc, w.denied)
	}
	return nil
}

// denials holds, per operation, the fields whose filters or sort keys the reader may not use: each of
// those fields answers an error of its own (the rest of the operation still runs).
var denials sync.Map // *graphql.OperationContext → map[*ast.Field]string

// deniedField returns the refusal recorded for the field being resolved, if any.
func deniedField(ctx context.Context, fc *graphql.FieldContext) error {
	if !graphql.HasOperationContext(ctx) {
		return nil
	}
	m, ok := denials.Load(graphql.GetOperationContext(ctx))
	if !ok {
		return nil
	}
	if msg := m.(map[*ast.Field]string)[fc.Field.Field]; msg != "" {
		return &gqlerror.Error{Message: msg, Path: fc.Path(), Extensions: map[string]any{"code": "FORBIDDEN_FIELD"}}
	}
	return nil
}

// forgetDenials gives an operation its caches — readability answers, and for a query the records the
// process engine loads — and drops its refusals once its response is written.
func forgetDenials(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	oc := graphql.GetOperationContext(ctx)
	ctx = enforce.WithRowCache(ctx)
	if oc.Operation != nil && oc.Operation.Operation == ast.Query {
		ctx = process.WithLoadCache(ctx) // a query writes nothing: records loaded for one row serve the next
	}
	rh := next(ctx)
	return func(ctx context.Context) *graphql.Response {
		r := rh(ctx)
		if r == nil {
			denials.Delete(oc)
		}
		return r
	}
}

// coerceLists applies GraphQL's input coercion of a single value to a one-element list to literal
// arguments (orderBy: {field: NAME} means orderBy: [{field: NAME}]). gqlgen does it for variables, but
// entgql's field collection reads nested connections' literal arguments itself and would ignore a single
// object.
func coerceLists(set ast.SelectionSet, frags ast.FragmentDefinitionList, level int) {
	if level > 64 {
		return
	}
	for _, s := range set {
		switch s := s.(type) {
		case *ast.Field:
			for _, arg := range s.Arguments {
				if s.Definition == nil || arg.Value == nil || arg.Value.Kind != ast.ObjectValue {
					continue
				}
				if def := s.Definition.Arguments.ForName(arg.Name); def != nil && def.Type != nil && def.Type.Elem != nil {
					arg.Value = &ast.Value{Kind: ast.ListValue, Position: arg.Value.Position, Definition: arg.Value.Definition,
						ExpectedType: def.Type, Children: ast.ChildValueList{{Value: arg.Value, Position: arg.Value.Position}}}
				}
			}
			coerceLists(s.SelectionSet, frags, level+1)
		case *ast.InlineFragment:
			coerceLists(s.SelectionSet, frags, level+1)
		case *ast.FragmentSpread:
			if f := frags.ForName(s.Name); f != nil {
				coerceLists(f.SelectionSet, frags, level+1)
			}
		}
	}
}

type argWalker struct {
	ctx    context.Context
	rt     *enforce.Runtime
	vars   map[string]any
	frags  ast.FragmentDefinitionList
	oc     *graphql.OperationContext
	denied map[*ast.Field]string
}

func (w argWalker) selections(set ast.SelectionSet, level int) {
	if level > 64 {
		return
	}
	for _, s := range set {
		switch s := s.(type) {
		case *ast.Field:
			if _, seen := w.denied[s]; seen {
				continue
			}
			if msg := w.field(s); msg != "" {
				w.denied[s] = msg
				continue
			}
			w.selections(s.SelectionSet, level+1)
		case *ast.InlineFragment:
			w.selections(s.SelectionSet, level+1)
		case *ast.FragmentSpread:
			if f := w.frags.ForName(s.Name); f != nil {
				w.selections(f.SelectionSet, level+1)
			}
		}
	}
}

// field checks the where and orderBy arguments of one field and, when they are allowed, narrows its
// relation filters to readable rows. Every argument is checked before any is rewritten.
func (w argWalker) field(f *ast.Field) string {
	if f.Definition == nil {
		return ""
	}
	if msg := w.check(f); msg != "" {
		return msg
	}
	for _, arg := range f.Arguments {
		def := f.Definition.Arguments.ForName(arg.Name)
		if def == nil || def.Type == nil || !strings.HasSuffix(def.Type.Name(), "WhereInput") || arg.Value.Kind == ast.Variable && strings.HasPrefix(arg.Value.Raw, "__crmScoped") {
			continue
		}
		v, err := arg.Value.Value(w.vars)
		if err != nil || v == nil {
			continue
		}
		if nv, changed := w.scoped(strings.TrimSuffix(def.Type.Name(), "WhereInput"), v); changed {
			w.bindScoped(arg, def, nv)
		}
	}
	return ""
}

// check refuses where and orderBy arguments that name fields the reader may not filter or sort on.
func (w argWalker) check(f *ast.Field) string {
	for _, arg := range f.Arguments {
		def := f.Definition.Arguments.ForName(arg.Name)
		if def == nil || def.Type == nil {
			continue
		}
		v, err := arg.Value.Value(w.vars)
		if err != nil || v == nil {
			continue
		}
		typeName := def.Type.Name()
		switch {
		case strings.HasSuffix(typeName, "WhereInput"):
			if msg := w.where(strings.TrimSuffix(typeName, "WhereInput"), v); msg != "" {
				return msg
			}
		case strings.HasSuffix(typeName, "Order"):
			if msg := w.order(strings.TrimSuffix(typeName, "Order"), v); msg != "" {
				return msg
			}
		}
	}
	return ""
}

// whereSuffixes are the predicate suffixes entgql appends to a field's name in a where input, longest
// first so the longest matching field name wins.
var whereSuffixes = func() []string {
	s := []string{"", "NEQ", "In", "NotIn", "GT", "GTE", "LT", "LTE", "Contains", "HasPrefix", "HasSuffix",
		"EqualFold", "ContainsFold", "IsNil", "NotNil"}
	sort.Slice(s, func(i, j int) bool { return len(s[i]) > len(s[j]) })
	return s
}()

func (w argWalker) where(entity string, v any) string {
	e := w.rt.Model.Entity(entity)
	if e == nil {
		return ""
	}
	switch x := v.(type) {
	case []any:
		for _, item := range x {
			if msg := w.where(entity, item); msg != "" {
				return msg
			}
		}
	case map[string]any:
		for key, val := range x {
			switch key {
			case "and", "or", "not":
				if msg := w.where(entity, val); msg != "" {
					return msg
				}
				continue
			}
			member := memberOfKey(w, e, key)
			if member == "" {
				continue
			}
			// A field shown on some rows only is filtered on those rows only (see scoped).
			if w.rt.Hidden(w.ctx, entity, member) || w.rt.Masked(w.ctx, entity, member) {
				return denied(entity, member)
			}
			if rel, kind := relationFilter(e, key); kind == "with" {
				if msg := w.where(rel.To, val); msg != "" {
					return msg
				}
			}
		}
	}
	return ""
}

func (w argWalker) order(entity string, v any) string {
	switch x := v.(type) {
	case []any:
		for _, item := range x {
			if msg := w.order(entity, item); msg != "" {
				return msg
			}
		}
	case map[string]any:
		if field, ok := x["field"].(string); ok {
			if member, ok := w.rt.MemberByColumn(entity, strings.ToLower(field)); ok && (w.rt.Hidden(w.ctx, entity, member) || w.rt.Masked(w.ctx, entity, member) || w.rt.PerRow(w.ctx, entity, member)) {
				return denied(entity, member)
			}
		}
	}
	return ""
}

func denied(entity, member string) string {
	return "cannot filter or sort " + entity + " by " + member + ": the field is not available to your roles"
}
