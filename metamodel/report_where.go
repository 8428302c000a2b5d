package metamodel

import (
	"fmt"

	"github.com/google/cel-go/cel"
	celast "github.com/google/cel-go/common/ast"
	"github.com/google/cel-go/parser"
)

// A report's `where` runs in the database, so a report over a million rows reads only the rows it counts.
// Validation turns the CEL condition into a Cond: comparisons of the entity's own members with values that
// do not depend on the record (literals, now, durations, params, user), joined by &&, || and !. Those
// values are CEL too, evaluated once per run before the query. A condition outside that shape (a member of
// a related record, arithmetic on a field) is a model error at its position, not a slow or wrong report.

// Cond operators.
const (
	CondAnd   = "and"
	CondOr    = "or"
	CondNot   = "not"
	CondCmp   = "cmp"   // Member Cmp Value
	CondIn    = "in"    // Member in Value (a list)
	CondLike  = "like"  // Member starts with, ends with or contains Value (Cmp: prefix, suffix, contains)
	CondConst = "const" // Value (a bool not about the record)
)

// Cond is a report's where condition in the form the database evaluates (see above).
type Cond struct {
	Op     string   `json:"op"`
	Args   []*Cond  `json:"args,omitempty"`   // and, or, not
	Member string   `json:"member,omitempty"` // cmp, in, like: a field, or a belongsTo relation (compared by its key)
	Cmp    string   `json:"cmp,omitempty"`    // cmp: == != < <= > >=; like: prefix, suffix, contains
	Value  string   `json:"value,omitempty"`  // CEL source of the value, which reads at most now, params and user
	Params []string `json:"params,omitempty"`
}

// ReportEnv is the CEL environment of a report's where: the entity's, plus params, the reader's inputs.
func (m *Model) ReportEnv(e *Entity) (*cel.Env, error) {
	env, err := m.CELEnv(e)
	if err != nil {
		return nil, err
	}
	return env.Extend(cel.Variable("params", cel.MapType(cel.StringType, cel.DynType)))
}

var condCmps = map[string]string{
	"_==_": "==", "_!=_": "!=", "_<_": "<", "_<=_": "<=", "_>_": ">", "_>=_": ">=",
}

// flipped is the comparison with its sides swapped: 5 < record.x is record.x > 5.
var flipped = map[string]string{"==": "==", "!=": "!=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}

// reportWhere type-checks r's where against e and builds its Cond, reporting what cannot run in the
// database at its position.
func (b *builder) reportWhere(r *Report, e *Entity) {
	if e == nil || r.Where.IsZero() {
		return
	}
	env, err := b.m.ReportEnv(e)
	if err != nil {
		b.errorf(r.Where.Pos, "expression: %v", err)
		return
	}
	ast, iss := env.Compile(r.Where.Src)
	if iss != nil && iss.Err() != nil {
		for _, ce := range iss.Errors() {
			b.errorf(exprPos(r.Where, ce.Location.Line(), ce.Location.Column()), "expression: %s", b.m.celMessage(e, ce.Message))
		}
		return
	}
	if got := ast.OutputType(); got != cel.BoolType && got != cel.DynType {
		b.errorf(r.Where.Pos, "expression has type %s, want bool", celTypeName(got))
		return
	}
	native := ast.NativeRep()
	w := &whereWalker{b: b, r: r, e: e, info: native.SourceInfo()}
	if c := w.cond(native.Expr()); c != nil && !w.failed {
		r.Filter = c
	}
}

type whereWalker struct {
	b      *builder
	r      *Report
	e      *Entity
	info   *celast.SourceInfo
	failed bool
}

func (w *whereWalker) fail(x celast.Expr, format string, args ...any) *Cond {
	w.failed = true
	loc := w.info.GetStartLocation(x.ID())
	pos := w.r.Where.Pos
	if loc.Line() > 0 {
		pos = exprPos(w.r.Where, loc.Line(), loc.Column())
	}
	w.b.errorf(pos, "report %q where: %s", w.r.Name, fmt.Sprintf(format, args...))
	return nil
}

func (w *whereWalker) cond(x celast.Expr) *Cond {
	if w.constant(x) {
		v, ps := w.source(x)
		return &Cond{Op: CondConst, Value: v, Params: ps}
	}
	if m := w.member(x); m != "" {
		return &Cond{Op: CondCmp, Member: m, Cmp: "==", Value: "true"}
	}
	if x.Kind() != celast.CallKind {
		return w.fail(x, "only comparisons of the record's fields with values are computed in the database")
	}
	c := x.AsCall()
	args := c.Args()
	switch fn := c.FunctionName(); {
	case fn == "_&&_" || fn == "_||_":
		op := CondAnd
		if fn == "_||_" {
			op = CondOr
		}
		out := &Cond{Op: op}
		for _, a := range args {
			if sub := w.cond(a); sub != nil {
				out.Args = append(out.Args, sub)
			}
		}
		return out
	case fn == "!_":
		if sub := w.cond(args[0]); sub != nil {
			return &Cond{Op: CondNot, Args: []*Cond{sub}}
		}
		return nil
	case condCmps[fn] != "":
		cmp := condCmps[fn]
		l, r := args[0], args[1]
		if m := w.member(l); m != "" && w.constant(r) {
			v, ps := w.source(r)
			return &Cond{Op: CondCmp, Member: m, Cmp: cmp, Value: v, Params: ps}
		}
		if m := w.member(r); m != "" && w.constant(l) {
			v, ps := w.source(l)
			return &Cond{Op: CondCmp, Member: m, Cmp: flipped[cmp], Value: v, Params: ps}
		}
		return w.fail(x, "compare a field of the record with a value (a constant, now, a duration, params or user)")
	case fn == "@in":
		if m := w.member(args[0]); m != "" && w.constant(args[1]) {
			v, ps := w.source(args[1])
			return &Cond{Op: CondIn, Member: m, Value: v, Params: ps}
		}
		return w.fail(x, "in needs a field of the record on the left and a list of values on the right")
	case c.IsMemberFunction() && (fn == "startsWith" || fn == "endsWith" || fn == "contains") && len(args) == 1:
		kind := map[string]string{"startsWith": "prefix", "endsWith": "suffix", "contains": "contains"}[fn]
		if m := w.member(c.Target()); m != "" && w.constant(args[0]) {
			v, ps := w.source(args[0])
			return &Cond{Op: CondLike, Member: m, Cmp: kind, Value: v, Params: ps}
		}
		return w.fail(x, "%s needs a field of the record and a value", fn)
	}
	return w.fail(x, "only comparisons of the record's fields with values are computed in the database")
}

// member returns the field or belongsTo relation x names (record.f, record.rel or record.rel.id), or "".
func (w *whereWalker) member(x celast.Expr) string {
	if x.Kind() != celast.SelectKind {
		return ""
	}
	s := x.AsSelect()
	op := s.Operand()
	if op.Kind() == celast.IdentKind && op.AsIdent() == "record" {
		if s.FieldName() == "id" {
			return "id"
		}
		if f := w.e.Field(s.FieldName()); f != nil && !(f.Computed.Src != "" && !f.Stored) {
			return f.Name
		}
		if r := w.e.Relation(s.FieldName()); r != nil && r.Kind == BelongsTo {
			return r.Name
		}
		return ""
	}
	if op.Kind() == celast.SelectKind && s.FieldName() == "id" {
		inner := op.AsSelect()
		if base := inner.Operand(); base.Kind() == celast.IdentKind && base.AsIdent() == "record" {
			if r := w.e.Relation(inner.FieldName()); r != nil && r.Kind == BelongsTo {
				return r.Name
			}
		}
	}
	return ""
}

// constant reports whether x reads nothing of the record.
func (w *whereWalker) constant(x celast.Expr) bool {
	for _, id := range celast.MatchDescendants(celast.NavigateExpr(celast.NewAST(x, nil), x), celast.KindMatcher(celast.IdentKind)) {
		if n := id.AsIdent(); n == "record" || n == "old" {
			return false
		}
	}
	return true
}

// source returns x as CEL source and the params it reads, each checked to be declared.
func (w *whereWalker) source(x celast.Expr) (string, []string) {
	src, err := parser.Unparse(x, w.info)
	if err != nil {
		w.fail(x, "cannot be computed: %v", err)
		return "", nil
	}
	var params []string
	for _, sel := range celast.MatchDescendants(celast.NavigateExpr(celast.NewAST(x, nil), x), celast.KindMatcher(celast.SelectKind)) {
		s := sel.AsSelect()
		if op := s.Operand(); op.Kind() == celast.IdentKind && op.AsIdent() == "params" {
			if w.r.Param(s.FieldName()) == nil {
				var names []string
				for _, p := range w.r.Params {
					names = append(names, p.Name)
				}
				w.fail(sel, "unknown parameter %q%s", s.FieldName(), didYouMean(s.FieldName(), names))
				continue
			}
			params = append(params, s.FieldName())
		}
	}
	return src, params
}
