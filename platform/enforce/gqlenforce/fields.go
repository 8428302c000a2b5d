// Package gqlenforce applies platform/enforce's read decisions to the fields of a GraphQL response. Rows
// are narrowed by the ent interceptor, and filters and sort keys are checked where they reach the
// database (enforce.Filter, enforce.Sort); what only the GraphQL layer knows is which field of which row
// a response is about to show, and whether that row is one of a list.
package gqlenforce

import (
	"context"
	"reflect"

	"github.com/99designs/gqlgen/graphql"

	"github.com/crmgen/crmgen/metamodel"
	"github.com/crmgen/crmgen/platform/enforce"
)

// Fields answers null for a field the reader may not see: hidden by their roles; sensitive without a role
// that makes it visible, in a list; shown on some rows only, on the other rows; a foreign key or a
// required relation to a row they may not read. The generator made every such field nullable
// (metamodel.Restrictable), so null tells nothing about the value.
func Fields(rt *enforce.Runtime) graphql.FieldMiddleware {
	return func(ctx context.Context, next graphql.Resolver) (any, error) {
		fc := graphql.GetFieldContext(ctx)
		if fc == nil || fc.Object == "" || fc.Field.Field == nil {
			return next(ctx)
		}
		member, ok := rt.Member(fc.Object, fc.Field.Name)
		if !ok {
			return next(ctx)
		}
		a := rt.AccessOf(ctx, fc.Object) // once per field: each lookup walks the field's context chain
		shown, err := Shown(ctx, rt, a, fc.Object, member, inList(fc), func() (int, bool) { return rowID(fc) })
		if err != nil || !shown {
			return nil, err
		}
		v, err := next(ctx)
		rel := rt.Model.Entity(fc.Object).Relation(member)
		if err != nil {
			// A required relation whose row the reader may not read: absent, not an error.
			if rel != nil && rel.Kind == metamodel.BelongsTo && enforce.IsNotFound(err) {
				return nil, nil
			}
			return v, err
		}
		if v == nil {
			return v, nil
		}
		if rel != nil && rel.Kind == metamodel.BelongsTo && fc.Field.Name == rel.GraphQLFKName() {
			id, ok := intValue(v)
			if !ok {
				return v, nil
			}
			if shown, err := KeyShown(ctx, rt, rel, id); err != nil || !shown {
				return nil, err
			}
		}
		return v, nil
	}
}

// Shown decides whether member (a field or relation) of a record of object is shown to the reader whose
// access is a: not hidden; in a list (listed), not a masked sensitive field; and, when their roles show it
// on some rows only, on this record (id returns its id). Every path that writes record data into a
// response asks it: gqlgen's field-by-field execution (Fields) and the direct writer (platform/gqlwrite).
func Shown(ctx context.Context, rt *enforce.Runtime, a *enforce.Access, object, member string, listed bool, id func() (int, bool)) (bool, error) {
	if !a.Shows(member) || (listed && !a.Lists(member)) {
		return false, nil
	}
	if a.All || a.PerRow[member] == nil {
		return true, nil
	}
	rowID, ok := id()
	if !ok {
		return false, nil
	}
	return rt.VisibleOn(ctx, object, member, rowID)
}

// KeyShown decides whether the foreign key id of relation rel is shown: a key names a row, and is shown
// only if that row may be read.
func KeyShown(ctx context.Context, rt *enforce.Runtime, rel *metamodel.Relation, id int) (bool, error) {
	return rt.Readable(ctx, rel.To, id)
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

// InList reports whether the field being resolved in ctx belongs to a row of a list: a resolver that
// shows record data (a record's history) leaves out there what lists leave out.
func InList(ctx context.Context) bool {
	fc := graphql.GetFieldContext(ctx)
	return fc != nil && inList(fc)
}
