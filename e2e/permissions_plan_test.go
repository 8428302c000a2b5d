package e2e

import (
	"fmt"
	"strings"
	"testing"

	"github.com/crmgen/crmgen/metamodel"
)

// pmPlan is what the matrix reads and writes of one entity through GraphQL.
type pmPlan struct {
	e       *metamodel.Entity
	qf      string             // the connection query field
	fields  []*metamodel.Field // fields the object type has
	fks     []*metamodel.Relation
	rels    []*metamodel.Relation // relations the object type has
	relKind map[string]string     // relation → "connection" | "list" | "object"
	history bool
	sel     string // every field, FK and relation (relations as ids)
	// flat is the part of sel a list compiled to one SQL statement answers (platform/gqlwrite.List on
	// Postgres): stored fields of the types it renders, foreign keys, to-one and to-many relations.
	flat     string
	where    map[string]bool
	orders   []string // values of <Entity>OrderField
	create   map[string]bool
	update   map[string]bool
	hasQuery bool
	search   bool
}

func pmPlanOf(t *testing.T, types map[string]*pmGQLType, e *metamodel.Entity, nested int) *pmPlan {
	t.Helper()
	p := &pmPlan{e: e, qf: e.QueryField(), relKind: map[string]string{}, where: map[string]bool{},
		create: map[string]bool{}, update: map[string]bool{}}
	obj := types[e.Name]
	if obj == nil {
		t.Fatalf("the schema has no type %s", e.Name)
	}
	var sel, flat []string
	for _, f := range e.Fields {
		if obj.fields[f.GraphQLName()] != nil {
			p.fields = append(p.fields, f)
			sel = append(sel, fieldSelection(f))
			switch f.Type {
			case metamodel.TypeDate, metamodel.TypeJSON, metamodel.TypeFile, metamodel.TypeImage:
			default:
				if f.Computed.Src == "" || f.Stored {
					flat = append(flat, fieldSelection(f))
				}
			}
		} else if !f.Secret {
			t.Errorf("type %s lacks field %s", e.Name, f.GraphQLName())
		}
	}
	for _, r := range e.Relations {
		if r.Kind == metamodel.BelongsTo && obj.fields[r.GraphQLFKName()] != nil {
			p.fks = append(p.fks, r)
			sel = append(sel, r.GraphQLFKName())
			flat = append(flat, r.GraphQLFKName())
		}
		gf := obj.fields[r.GraphQLName()]
		if gf == nil {
			t.Errorf("type %s lacks relation %s", e.Name, r.GraphQLName())
			continue
		}
		p.rels = append(p.rels, r)
		switch {
		case strings.HasSuffix(gf.typ, "Connection"):
			p.relKind[r.Name] = "connection"
			sel = append(sel, fmt.Sprintf("%s(first: %d) { totalCount edges { node { id } } }", r.GraphQLName(), nested))
			if r.Kind == metamodel.HasMany {
				flat = append(flat, sel[len(sel)-1])
			}
		case gf.list:
			p.relKind[r.Name] = "list"
			sel = append(sel, r.GraphQLName()+" { id }")
		default:
			p.relKind[r.Name] = "object"
			sel = append(sel, r.GraphQLName()+" { id }")
			if r.Kind == metamodel.BelongsTo {
				flat = append(flat, sel[len(sel)-1])
			}
		}
	}
	p.flat = strings.Join(flat, " ")
	if obj.fields["history"] != nil {
		p.history = true
		sel = append(sel, "history { changes { field } }")
	}
	p.sel = strings.Join(sel, " ")
	if q := types["Query"].fields[p.qf]; q != nil {
		p.hasQuery = true
		p.search = q.args["search"]
	} else {
		t.Errorf("the schema has no query field %s", p.qf)
	}
	if wt := types[e.Name+"WhereInput"]; wt != nil {
		p.where = wt.inputs
	}
	if ot := types[e.Name+"OrderField"]; ot != nil {
		p.orders = ot.enums
	}
	if ct := types["Create"+e.Name+"Input"]; ct != nil {
		p.create = ct.inputs
	}
	if ut := types["Update"+e.Name+"Input"]; ut != nil {
		p.update = ut.inputs
	}
	return p
}
