package metamodel

import (
	celast "github.com/google/cel-go/common/ast"
)

// Read is one member of a record that an expression reads: a field or relation of the record's entity,
// or, through a belongsTo relation, a field of the related record's entity.
type Read struct {
	Entity string // the entity the member belongs to
	Member string // the field or relation name
}

// ExprReads lists the members an expression about records of e reads: record.x and old.x (a member of
// e), and record.rel.y (the relation rel of e, and the member y of rel's target). Reading a relation's
// id reads the relation. The list is in order of first appearance, without repeats. An expression that
// does not compile reads nothing (validation reports it).
func (m *Model) ExprReads(e *Entity, x Expr) []Read {
	if e == nil || x.IsZero() {
		return nil
	}
	checked, err := m.CompileExpr(e, x, nil)
	if err != nil {
		return nil
	}
	var out []Read
	seen := map[Read]bool{}
	add := func(r Read) {
		if !seen[r] {
			seen[r] = true
			out = append(out, r)
		}
	}
	root := celast.NavigateAST(checked.NativeRep())
	for _, sel := range celast.MatchDescendants(root, celast.KindMatcher(celast.SelectKind)) {
		s := sel.AsSelect()
		op := s.Operand()
		switch {
		case op.Kind() == celast.IdentKind && (op.AsIdent() == "record" || op.AsIdent() == "old"):
			if s.FieldName() != "id" && (e.Field(s.FieldName()) != nil || e.Relation(s.FieldName()) != nil) {
				add(Read{Entity: e.Name, Member: s.FieldName()})
			}
		case op.Kind() == celast.SelectKind:
			inner := op.AsSelect()
			base := inner.Operand()
			if base.Kind() != celast.IdentKind || (base.AsIdent() != "record" && base.AsIdent() != "old") {
				continue
			}
			r := e.Relation(inner.FieldName())
			if r == nil || r.Target == nil {
				continue
			}
			add(Read{Entity: e.Name, Member: r.Name})
			if s.FieldName() != "id" && r.Target.Field(s.FieldName()) != nil {
				add(Read{Entity: r.Target.Name, Member: s.FieldName()})
			}
		}
	}
	return out
}
