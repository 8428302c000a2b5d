package metamodel

import (
	"fmt"
	"slices"
	"strings"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"
	"gopkg.in/yaml.v3"
)

// The model's functions section declares CEL functions whose bodies are the app's own Go code. Validation
// happens before that code compiles (crmgen validate needs no Go toolchain), so the model carries the
// signatures and the expressions are checked against them; at run time the app binds each name to the
// implementation its extend/ package registered (SetFunctions), and refuses to start on a mismatch.

var functionKeys = objectKeys("function")

func (l *loader) functions(n *yaml.Node) {
	l.named(n, "function", "functions", func(s string) string { return s }, func(name string, k, v *yaml.Node) {
		f := &Function{Name: name, Pos: l.at(k)}
		l.m.Functions = append(l.m.Functions, f)
		what := "function " + quote(name)
		l.mapping(v, what, functionKeys, func(key string, k, v *yaml.Node) {
			l.mark(f, key, v)
			switch key {
			case "params":
				f.Params = l.strList(v, what+" params", f, "params", false)
			case "returns":
				f.Returns = l.str(v, what+" returns")
			case "help":
				f.Help = l.text(v, what+" help")
			}
		})
	})
}

// celBuiltins are function names an expression already has: a declaration may not take them.
var celBuiltins = []string{"years", "days", "duration", "timestamp", "size", "matches", "contains", "startsWith",
	"endsWith", "int", "uint", "double", "string", "bytes", "bool", "dyn", "type", "has", "all", "exists",
	"exists_one", "map", "filter", "getFullYear", "getMonth", "getDate", "getDayOfMonth", "getDayOfWeek",
	"getDayOfYear", "getHours", "getMinutes", "getSeconds", "getMilliseconds"}

// functions validates the declared functions.
func (b *builder) functions() {
	seen := map[string]Pos{}
	for _, f := range b.m.Functions {
		if p, ok := seen[f.Name]; ok {
			b.errorf(f.Pos, "function %q is declared twice (first at %s)", f.Name, p)
			continue
		}
		seen[f.Name] = f.Pos
		switch {
		case !isLowerCamel(f.Name):
			b.errorf(f.Pos, "function name %q: want lowerCamelCase (%s)", f.Name, lowerCamel(f.Name))
		case slices.Contains(celBuiltins, f.Name):
			b.errorf(f.Pos, "function %q: expressions already have a function of that name; choose another", f.Name)
		}
		for i, t := range f.Params {
			if !slices.Contains(FunctionTypes, t) {
				b.errorf(b.m.posOf(f, "params."+itoa(i), f.Pos), "function %q: parameter type %q: want one of %s", f.Name, t, strings.Join(FunctionTypes, ", "))
			}
		}
		if f.Returns == "" {
			b.missingf(f, "returns", f.Pos, "function %q has no returns: name the type of its result (%s)", f.Name, strings.Join(FunctionTypes, ", "))
		} else if !slices.Contains(FunctionTypes, f.Returns) {
			b.errorf(b.m.posOf(f, "returns", f.Pos), "function %q: result type %q: want one of %s", f.Name, f.Returns, strings.Join(FunctionTypes, ", "))
		}
	}
}

// Function returns the declared function named name, or nil.
func (m *Model) Function(name string) *Function {
	for _, f := range m.Functions {
		if f.Name == name {
			return f
		}
	}
	return nil
}

// SetFunctions binds the declared functions to their implementations: call runs the function named name
// on CEL values and returns its CEL result (or a CEL error). The app calls it once, before it evaluates
// any expression; until then a call of a declared function evaluates to an error.
func (m *Model) SetFunctions(call func(name string, args []ref.Val) ref.Val) { m.call = call }

// functionType is the CEL type of a declared type name; ok is false for a name validation refuses.
func functionType(name string) (*cel.Type, bool) {
	switch name {
	case "string":
		return cel.StringType, true
	case "int":
		return cel.IntType, true
	case "double":
		return cel.DoubleType, true
	case "bool":
		return cel.BoolType, true
	case "timestamp":
		return cel.TimestampType, true
	case "duration":
		return cel.DurationType, true
	case "dyn":
		return cel.DynType, true
	}
	return nil, false
}

// functionOptions declares the model's functions in a CEL environment, each bound late to SetFunctions'
// implementation. A declaration with an invalid type is left out: validation reports it at the declaration.
func (m *Model) functionOptions() []cel.EnvOption {
	var out []cel.EnvOption
	for _, f := range m.Functions {
		args := make([]*cel.Type, 0, len(f.Params))
		ok := true
		for _, p := range f.Params {
			t, valid := functionType(p)
			args, ok = append(args, t), ok && valid
		}
		ret, valid := functionType(f.Returns)
		if !ok || !valid || slices.Contains(celBuiltins, f.Name) {
			continue
		}
		name := f.Name
		out = append(out, cel.Function(name, cel.Overload("crm_fn_"+name, args, ret,
			cel.FunctionBinding(func(vals ...ref.Val) ref.Val {
				if m.call == nil {
					return types.NewErr("function %s has no implementation: the app's extend package registers none", name)
				}
				return m.call(name, vals)
			}))))
	}
	return out
}

// String describes the function's signature, as expressions see it.
func (f *Function) String() string {
	return fmt.Sprintf("%s(%s) %s", f.Name, strings.Join(f.Params, ", "), f.Returns)
}
