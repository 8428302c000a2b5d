// Package gqlwrite writes the JSON of a list of records straight from what ent loaded, instead of
// gqlgen's field-by-field execution. gqlgen resolves every field of every row through a field context,
// the middleware chain and a marshaler of its own: a page of 50 customers with their owners and 5
// opportunities each is some 2,000 fields, and their execution cost four fifths of the request's CPU
// (see BENCHMARKS.md, peers). The rows are loaded by then — entgql collects what the query selects into
// its ent query, whose predicates and interceptors platform/enforce guards — so writing them takes only
// the field rules of the response, which this package asks of gqlenforce (Shown, KeyShown), as gqlgen's
// path does.
//
// It writes a connection only when it knows every field selected below it: stored fields, ids, foreign
// keys, to-one relations, nested connections with first/orderBy/where, edges and nodes, totalCount and
// pageInfo of the outer list. Anything else — a computed value, a record's history or transitions, a
// nested cursor — leaves the whole list to gqlgen, before a byte is written.
package gqlwrite

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"reflect"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/crmgen/crmgen/metamodel"
	"github.com/crmgen/crmgen/platform/enforce"
	"github.com/crmgen/crmgen/platform/enforce/gqlenforce"
	"github.com/crmgen/crmgen/platform/gqltype"
)

// Record is what a generated entity answers (ent/crm_fields.go).
type Record interface {
	// CrmValue returns a stored field's value, a foreign key or the id, by GraphQL field name.
	CrmValue(field string) (any, bool)
	// CrmEdge returns the related record(s) of a relation loaded with the record, by GraphQL field name
	// (and alias, for a connection), and false when they were not loaded.
	CrmEdge(field, alias string) (any, bool)
}

// Written counts the lists written directly, and Declined those left to gqlgen (exported at /metrics).
var Written, Declined atomic.Int64

type offCtxKey struct{}

// Off returns ctx in which lists are left to gqlgen: the app's --graphql-direct=false, which tests use to
// compare the two paths.
func Off(ctx context.Context) context.Context { return context.WithValue(ctx, offCtxKey{}, true) }

// Connection writes conn, a connection (*ent.<Entity>Connection) of entity selected by sel, and reports
// whether it did; when it did not, the caller marshals it as usual.
func Connection(ctx context.Context, oc *graphql.OperationContext, sel ast.SelectionSet, entity string, conn any) (graphql.Marshaler, bool) {
	if raw, ok := take(ctx, conn); ok { // compiled by its resolver (List)
		return graphql.WriterFunc(func(dst io.Writer) { dst.Write(raw) }), true
	}
	if off, _ := ctx.Value(offCtxKey{}).(bool); off {
		return nil, false
	}
	rt := enforce.FromContext(ctx)
	if rt == nil || rt.Model.Entity(entity) == nil {
		return nil, false
	}
	w := &writer{ctx: ctx, oc: oc, rt: rt, access: accesses{}, plans: map[planKey][]field{}}
	if !w.connection(sel, entity, reflect.ValueOf(conn), true) {
		Declined.Add(1)
		return nil, false
	}
	Written.Add(1)
	out := w.buf.Bytes()
	return graphql.WriterFunc(func(dst io.Writer) { dst.Write(out) }), true
}

// writer writes one connection; ok turns false at the first field it does not know.
type writer struct {
	ctx    context.Context
	oc     *graphql.OperationContext
	rt     *enforce.Runtime
	buf    bytes.Buffer
	access accesses
	plans  map[planKey][]field
}

// field is a selected field of an object type, with what writing it needs worked out once per list
// rather than once per row: a page of 50 customers with 5 opportunities each writes the same few
// selections 300 times.
type field struct {
	graphql.CollectedField
	key      []byte              // "alias":
	member   string              // the model's member of the field (record fields only)
	isMember bool                // the field is a member of the entity
	rel      *metamodel.Relation // the member's relation, if it is one
}

// planKey names a selection set (by its first selection: the parsed document does not move) under the
// object type it is collected for.
type planKey struct {
	first *ast.Selection
	n     int
	typ   string
}

// fields returns the fields of sel collected for the object type typ (and the interfaces it
// implements), with their keys and, for a record of entity, their model members.
func (w *writer) fields(sel ast.SelectionSet, entity, typ string, implements ...string) []field {
	if len(sel) == 0 {
		return nil
	}
	k := planKey{&sel[0], len(sel), typ}
	if fs, ok := w.plans[k]; ok {
		return fs
	}
	var e *metamodel.Entity
	if entity != "" {
		e = w.rt.Model.Entity(entity)
	}
	collected := graphql.CollectFields(w.oc, sel, append([]string{typ}, implements...))
	fs := make([]field, len(collected))
	for i, f := range collected {
		fs[i] = field{CollectedField: f, key: append(strconv.AppendQuote(nil, f.Alias), ':')}
		if e != nil && f.Name != "__typename" {
			fs[i].member, fs[i].isMember = w.rt.Member(entity, f.Name)
			if fs[i].isMember {
				fs[i].rel = e.Relation(fs[i].member)
			}
		}
	}
	w.plans[k] = fs
	return fs
}

// accesses remembers, for one list, what the reader may do with each entity it reads.
type accesses map[string]*enforce.Access

func (m accesses) of(ctx context.Context, rt *enforce.Runtime, entity string) *enforce.Access {
	a, ok := m[entity]
	if !ok {
		a = rt.AccessOf(ctx, entity)
		m[entity] = a
	}
	return a
}

// key writes a field's "alias": after a comma when it is not the first of its object.
func (w *writer) key(i int, f *field) {
	if i > 0 {
		w.buf.WriteByte(',')
	}
	w.buf.Write(f.key)
}

func (w *writer) marshal(m graphql.Marshaler) { m.MarshalGQL(&w.buf) }

// connection writes a connection of entity: conn is a *<Entity>Connection; outer tells a list of the
// query (whose pageInfo and cursors entgql computed) from a nested one (which the collection loaded
// per parent, so only its rows are there).
func (w *writer) connection(sel ast.SelectionSet, entity string, conn reflect.Value, outer bool) bool {
	for conn.Kind() == reflect.Pointer {
		if conn.IsNil() {
			w.buf.WriteString("null")
			return true
		}
		conn = conn.Elem()
	}
	edges := conn.FieldByName("Edges")
	w.buf.WriteByte('{')
	for i, f := range w.fields(sel, "", entity+"Connection") {
		w.key(i, &f)
		switch f.Name {
		case "__typename":
			w.marshal(graphql.MarshalString(entity + "Connection"))
		case "totalCount":
			if !outer {
				return false
			}
			w.marshal(graphql.MarshalInt(int(conn.FieldByName("TotalCount").Int())))
		case "pageInfo":
			if !outer || !w.pageInfo(f.Selections, conn.FieldByName("PageInfo")) {
				return false
			}
		case "edges":
			w.buf.WriteByte('[')
			for j := range edges.Len() {
				if j > 0 {
					w.buf.WriteByte(',')
				}
				edge := edges.Index(j).Elem()
				if !w.edge(f.Selections, entity, edge.FieldByName("Node").Interface(), edge.FieldByName("Cursor"), outer) {
					return false
				}
			}
			w.buf.WriteByte(']')
		default:
			return false
		}
	}
	w.buf.WriteByte('}')
	return true
}

func (w *writer) edge(sel ast.SelectionSet, entity string, node any, cursor reflect.Value, outer bool) bool {
	w.buf.WriteByte('{')
	for i, f := range w.fields(sel, "", entity+"Edge") {
		w.key(i, &f)
		switch f.Name {
		case "__typename":
			w.marshal(graphql.MarshalString(entity + "Edge"))
		case "cursor":
			m, ok := cursor.Interface().(graphql.Marshaler)
			if !outer || !ok {
				return false
			}
			w.marshal(m)
		case "node":
			r, ok := node.(Record)
			if !ok || !w.record(f.Selections, entity, r) {
				return false
			}
		default:
			return false
		}
	}
	w.buf.WriteByte('}')
	return true
}

func (w *writer) pageInfo(sel ast.SelectionSet, info reflect.Value) bool {
	w.buf.WriteByte('{')
	for i, f := range w.fields(sel, "", "PageInfo") {
		w.key(i, &f)
		switch f.Name {
		case "__typename":
			w.marshal(graphql.MarshalString("PageInfo"))
		case "hasNextPage", "hasPreviousPage":
			w.marshal(graphql.MarshalBoolean(info.FieldByName(pascal(f.Name)).Bool()))
		case "startCursor", "endCursor":
			c := info.FieldByName(pascal(f.Name))
			if c.IsNil() {
				w.buf.WriteString("null")
				continue
			}
			m, ok := c.Interface().(graphql.Marshaler)
			if !ok {
				return false
			}
			w.marshal(m)
		default:
			return false
		}
	}
	w.buf.WriteByte('}')
	return true
}

func pascal(s string) string { return string(s[0]-'a'+'A') + s[1:] }

// record writes one record of entity, a row of a list: masked sensitive fields are left out, as in
// every list.
func (w *writer) record(sel ast.SelectionSet, entity string, r Record) bool {
	a := w.access.of(w.ctx, w.rt, entity)
	id := func() (int, bool) {
		v, _ := r.CrmValue("id")
		n, ok := v.(int)
		return n, ok
	}
	w.buf.WriteByte('{')
	for i, f := range w.fields(sel, entity, entity, "Node") {
		w.key(i, &f)
		if f.Name == "__typename" {
			w.marshal(graphql.MarshalString(entity))
			continue
		}
		member, isMember, rel := f.member, f.isMember, f.rel
		if isMember {
			shown, err := gqlenforce.Shown(w.ctx, w.rt, a, entity, member, true, id)
			if err != nil {
				return false
			}
			if !shown {
				w.buf.WriteString("null")
				continue
			}
		}
		if v, ok := r.CrmValue(f.Name); ok {
			if rel != nil && rel.Kind == metamodel.BelongsTo {
				if key, ok := intOf(v); ok {
					shown, err := gqlenforce.KeyShown(w.ctx, w.rt, rel, key)
					if err != nil {
						return false
					}
					if !shown {
						w.buf.WriteString("null")
						continue
					}
				}
			}
			if !w.value(f.CollectedField, v) {
				return false
			}
			continue
		}
		if !isMember || rel == nil {
			return false // a resolver: computed values, history, transitions
		}
		if rel.Kind == metamodel.BelongsTo || rel.Kind == metamodel.HasOne {
			if len(f.Arguments) > 0 {
				return false
			}
			v, loaded := r.CrmEdge(f.Name, f.Alias)
			if !loaded {
				return false
			}
			target, ok := v.(Record)
			if !ok || reflect.ValueOf(v).IsNil() {
				w.buf.WriteString("null")
				continue
			}
			if !w.record(f.Selections, rel.To, target) {
				return false
			}
			continue
		}
		if !w.nested(f.CollectedField, rel, r) {
			return false
		}
	}
	w.buf.WriteByte('}')
	return true
}

// nested writes a connection of a record's to-many relation from the rows the collection loaded for it
// under the field's alias, already filtered, ordered and limited to first (plus one, to tell whether
// there is a next page).
func (w *writer) nested(f graphql.CollectedField, rel *metamodel.Relation, r Record) bool {
	first := -1
	for _, arg := range f.Arguments {
		switch arg.Name {
		case "where": // the collection applied it in SQL, through enforce.Filter
		case "orderBy":
			// The collection ordered the rows without asking whether the reader may sort by the keys
			// (gqlgen's path asks when it decodes the argument): ask here, and leave refusals to it.
			v, err := arg.Value.Value(w.oc.Variables)
			if err != nil || !w.sortable(rel.To, v) {
				return false
			}
		case "first":
			v, err := arg.Value.Value(w.oc.Variables)
			if err != nil {
				return false
			}
			if v != nil {
				n, ok := intOf(v)
				if !ok || n < 0 {
					return false
				}
				first = n
			}
		default:
			return false // after, before, last: cursors the collection did not compute
		}
	}
	v, loaded := r.CrmEdge(f.Name, f.Alias)
	if !loaded {
		return false
	}
	rows := reflect.ValueOf(v)
	if rows.Kind() != reflect.Slice {
		return false
	}
	if first >= 0 && rows.Len() > first {
		rows = rows.Slice(0, first)
	}
	w.buf.WriteByte('{')
	for i, cf := range w.fields(f.Selections, "", rel.To+"Connection") {
		w.key(i, &cf)
		switch cf.Name {
		case "__typename":
			w.marshal(graphql.MarshalString(rel.To + "Connection"))
		case "edges":
			w.buf.WriteByte('[')
			for j := range rows.Len() {
				if j > 0 {
					w.buf.WriteByte(',')
				}
				if !w.edge(cf.Selections, rel.To, rows.Index(j).Interface(), reflect.Value{}, false) {
					return false
				}
			}
			w.buf.WriteByte(']')
		default:
			return false // totalCount, pageInfo: what entgql's pager computes
		}
	}
	w.buf.WriteByte('}')
	return true
}

// sortable reports whether the reader may sort entity by every key of an orderBy value (one order or a
// list of them).
func (w *writer) sortable(entity string, v any) bool {
	keys, ok := orderKeys(v)
	if !ok {
		return false
	}
	for _, k := range keys {
		if w.rt.Sort(w.ctx, entity, strings.ToLower(k.Field)) != nil {
			return false
		}
	}
	return true
}

// value writes a stored value as gqlgen's marshalers write its GraphQL type.
func (w *writer) value(f graphql.CollectedField, v any) bool {
	rv := reflect.ValueOf(v)
	for rv.Kind() == reflect.Pointer {
		if rv.IsNil() {
			w.buf.WriteString("null")
			return true
		}
		rv = rv.Elem()
	}
	if !rv.IsValid() {
		w.buf.WriteString("null")
		return true
	}
	x := rv.Interface()
	switch y := x.(type) {
	case graphql.Marshaler: // enums
		w.marshal(y)
	case json.RawMessage:
		w.marshal(gqltype.MarshalJSON(y))
	case time.Time:
		w.marshal(graphql.MarshalTime(y))
	case string:
		w.marshal(graphql.MarshalString(y))
	case bool:
		w.marshal(graphql.MarshalBoolean(y))
	case float64:
		w.marshal(gqltype.MarshalFloat(y))
	case int:
		if f.Definition != nil && f.Definition.Type.Name() == "ID" {
			w.marshal(graphql.MarshalIntID(y))
		} else {
			w.marshal(graphql.MarshalInt(y))
		}
	default:
		return false
	}
	return true
}

func intOf(v any) (int, bool) {
	switch x := v.(type) {
	case int:
		return x, true
	case *int:
		if x != nil {
			return *x, true
		}
	case int64:
		return int(x), true
	case float64:
		return int(x), true
	}
	return 0, false
}
