package metamodel

import (
	"fmt"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"
)

// CEL type names: each entity is a struct type "crm.<Entity>" whose belongsTo relations are typed
// "crm.ref.<Target>" (the related record one level deep: its id and fields); the signed-in user is
// "crm.CurrentUser".
const (
	celPrefix    = "crm."
	celRefPrefix = "crm.ref."
	celUserType  = "crm.CurrentUser"
)

// envCache keeps one CEL environment per entity of a built model.
type envCache struct {
	mu   sync.Mutex
	envs map[*Entity]*cel.Env
}

func newEnvCache() *envCache { return &envCache{envs: map[*Entity]*cel.Env{}} }

// CELEnv returns the CEL environment for expressions about records of e: variables `record` and `old`
// (typed as the entity, belongsTo relations as the related record one level deep), `user` (id, username,
// roles, team) and `now` (a timestamp), and the functions years(duration) and days(duration). At run time
// `record` and `old` are map[string]any values keyed by field and relation name (id under "id"), with a
// related record as a nested map[string]any or nil; `user` is a map with keys id, username, roles and team.
func (m *Model) CELEnv(e *Entity) (*cel.Env, error) {
	if e == nil {
		return nil, fmt.Errorf("cel environment: no entity")
	}
	c := m.envs
	if c != nil {
		c.mu.Lock()
		defer c.mu.Unlock()
		if env, ok := c.envs[e]; ok {
			return env, nil
		}
	}
	env, err := m.newCELEnv(e)
	if err != nil {
		return nil, fmt.Errorf("cel environment of %s: %w", e.Name, err)
	}
	if c != nil {
		c.envs[e] = env
	}
	return env, nil
}

// celTypes is a type provider that adds the model's entities as struct types to cel-go's registry.
type celTypes struct {
	*types.Registry
	structs map[string]map[string]*types.FieldType
	order   map[string][]string
}

func (p *celTypes) FindStructType(name string) (*types.Type, bool) {
	if _, ok := p.structs[name]; ok {
		return types.NewTypeTypeWithParam(types.NewObjectType(name)), true
	}
	return p.Registry.FindStructType(name)
}

func (p *celTypes) FindStructFieldNames(name string) ([]string, bool) {
	if _, ok := p.structs[name]; ok {
		return p.order[name], true
	}
	return p.Registry.FindStructFieldNames(name)
}

func (p *celTypes) FindStructFieldType(name, field string) (*types.FieldType, bool) {
	if fs, ok := p.structs[name]; ok {
		ft, ok := fs[field]
		return ft, ok
	}
	return p.Registry.FindStructFieldType(name, field)
}

func (p *celTypes) add(structName, field string, t *types.Type) {
	if p.structs[structName] == nil {
		p.structs[structName] = map[string]*types.FieldType{}
	}
	p.structs[structName][field] = &types.FieldType{Type: t, IsSet: isSet(field), GetFrom: getFrom(field)}
	p.order[structName] = append(p.order[structName], field)
}

// recordGetter is implemented by run-time record values that are not maps.
type recordGetter interface {
	Get(name string) (any, bool)
}

func getFrom(name string) ref.FieldGetter {
	return func(target any) (any, error) {
		switch t := target.(type) {
		case map[string]any:
			return t[name], nil
		case recordGetter:
			v, _ := t.Get(name)
			return v, nil
		case nil, types.Null:
			return nil, fmt.Errorf("no such field %q: the record is null", name)
		}
		return nil, fmt.Errorf("no such field %q on %T", name, target)
	}
}

func isSet(name string) ref.FieldTester {
	return func(target any) bool {
		switch t := target.(type) {
		case map[string]any:
			return t[name] != nil
		case recordGetter:
			v, ok := t.Get(name)
			return ok && v != nil
		}
		return false
	}
}

// CELType returns the CEL type of values of a field type.
func CELType(t FieldType) *cel.Type {
	switch {
	case t.stringy(), t == TypeEnum:
		return cel.StringType
	case t == TypeInt:
		return cel.IntType
	case t == TypeFloat, t == TypeDecimal:
		return cel.DoubleType
	case t == TypeBool:
		return cel.BoolType
	case t == TypeDate, t == TypeDateTime:
		return cel.TimestampType
	}
	return cel.DynType
}

func (m *Model) newCELEnv(e *Entity) (*cel.Env, error) {
	reg, err := types.NewRegistry()
	if err != nil {
		return nil, err
	}
	p := &celTypes{Registry: reg, structs: map[string]map[string]*types.FieldType{}, order: map[string][]string{}}
	for _, x := range m.Entities {
		for _, name := range []string{celPrefix + x.Name, celRefPrefix + x.Name} {
			p.add(name, "id", cel.IntType)
			for _, f := range x.Fields {
				if !f.Secret && f.Type.known() {
					p.add(name, f.Name, CELType(f.Type))
				}
			}
		}
		for _, r := range x.Relations {
			if r.Kind == BelongsTo && r.To != "" {
				p.add(celPrefix+x.Name, r.Name, cel.ObjectType(celRefPrefix+r.To))
			}
		}
	}
	p.add(celUserType, "id", cel.IntType)
	p.add(celUserType, "username", cel.StringType)
	p.add(celUserType, "roles", cel.ListType(cel.StringType))
	p.add(celUserType, "team", cel.IntType)
	opts := []cel.EnvOption{
		cel.CustomTypeProvider(p),
		// record.amount > 100 must work for decimal (double) fields, as the format's examples write it.
		cel.CrossTypeNumericComparisons(true),
		cel.Variable("record", cel.ObjectType(celPrefix+e.Name)),
		cel.Variable("old", cel.ObjectType(celPrefix+e.Name)),
		cel.Variable("user", cel.ObjectType(celUserType)),
		cel.Variable("now", cel.TimestampType),
		cel.Function("years", cel.Overload("years_duration", []*cel.Type{cel.DurationType}, cel.IntType,
			cel.UnaryBinding(func(v ref.Val) ref.Val { return durationDays(v, 365) }))),
		cel.Function("days", cel.Overload("days_duration", []*cel.Type{cel.DurationType}, cel.IntType,
			cel.UnaryBinding(func(v ref.Val) ref.Val { return durationDays(v, 1) }))),
	}
	return cel.NewEnv(append(opts, m.functionOptions()...)...)
}

// durationDays returns whole days of a duration divided by per (365 for years).
func durationDays(v ref.Val, per int64) ref.Val {
	d, ok := v.(types.Duration)
	if !ok {
		return types.NewErr("want a duration, got %s", v.Type())
	}
	days := int64(d.Duration / (24 * time.Hour))
	return types.Int(days / per)
}

var (
	undefinedFieldRE = regexp.MustCompile(`undefined field '([^']*)'`)
	undeclaredRE     = regexp.MustCompile(`undeclared reference to '([^']*)' \(in container '[^']*'\)`)
)

// CompileExpr parses and type-checks an expression about records of e. When want is not nil the result
// must have that type (dyn is accepted). Errors are an ErrorList positioned in the model file.
func (m *Model) CompileExpr(e *Entity, x Expr, want *cel.Type) (*cel.Ast, error) {
	env, err := m.CELEnv(e)
	if err != nil {
		return nil, ErrorList{{Pos: x.Pos, Msg: err.Error()}}
	}
	ast, iss := env.Compile(x.Src)
	if iss != nil && iss.Err() != nil {
		var list ErrorList
		for _, ce := range iss.Errors() {
			list = append(list, &Error{Pos: exprPos(x, ce.Location.Line(), ce.Location.Column()),
				Msg: "expression: " + m.celMessage(e, ce.Message)})
		}
		return nil, list
	}
	if want != nil {
		got := ast.OutputType()
		if got.Kind() != types.DynKind && !want.IsAssignableType(got) {
			return nil, ErrorList{{Pos: x.Pos, Msg: fmt.Sprintf("expression has type %s, want %s", celTypeName(got),
				celTypeName(want))}}
		}
	}
	return ast, nil
}

// exprPos maps a CEL location (1-based line, 0-based column) into the model file.
func exprPos(x Expr, line, col int) Pos {
	p := x.Pos
	if line > 1 {
		p.Line += line - 1
	}
	p.Col += col
	return p
}

// celMessage rewrites a cel-go message with a suggestion where the model knows better names.
func (m *Model) celMessage(e *Entity, msg string) string {
	if mt := undefinedFieldRE.FindStringSubmatch(msg); mt != nil {
		cands := append([]string{"id"}, memberNames(e)...)
		c := closest(mt[1], cands)
		if c == "" {
			var others []string
			for _, x := range m.Entities {
				others = append(others, fieldNames(x)...)
			}
			others = append(others, "username", "roles", "team")
			c = closest(mt[1], others)
		}
		if c != "" {
			return msg + " (did you mean '" + c + "'?)"
		}
		return msg
	}
	if mt := undeclaredRE.FindStringSubmatch(msg); mt != nil {
		msg = "undeclared reference to '" + mt[1] + "' (want record, old, user or now"
		cands := []string{"record", "old", "user", "now"}
		for _, f := range m.Functions {
			cands = append(cands, f.Name)
		}
		if c := closest(mt[1], cands); c != "" {
			msg += "; did you mean '" + c + "'?"
		} else {
			msg += "; a function of the app's own code is declared under functions:"
		}
		return msg + ")"
	}
	return msg
}

// celTypeName names a CEL type for messages: entity types by their entity name.
func celTypeName(t *cel.Type) string {
	s := t.String()
	switch {
	case strings.HasPrefix(s, celRefPrefix):
		return s[len(celRefPrefix):]
	case s == celUserType:
		return "user"
	case strings.HasPrefix(s, celPrefix):
		return s[len(celPrefix):]
	case s == "google.protobuf.Timestamp":
		return "timestamp"
	case s == "google.protobuf.Duration":
		return "duration"
	}
	return s
}
