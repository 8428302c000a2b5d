package extension

import (
	"fmt"
	"reflect"
	"sort"
	"strings"
	"time"

	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"

	"github.com/crmgen/crmgen/metamodel"
)

// Functions of the app's own code, callable from the model's expressions (guards, when, computed, set,
// values). The model declares each one under functions: with its CEL signature, so that expressions are
// type-checked when the model is validated; the extend package implements it with Function. The app
// refuses to start when a declared function has no implementation, an implementation is declared nowhere,
// or the Go signature does not match the declaration.

// fn is a registered implementation.
type fn struct {
	impl reflect.Value
	err  error // a registration that is no usable function, reported by Check
}

var (
	errorType = reflect.TypeFor[error]()
	timeType  = reflect.TypeFor[time.Time]()
	durType   = reflect.TypeFor[time.Duration]()
)

// Function registers impl as the implementation of the model's declared function name. impl is a Go func
// whose parameters and result match the declaration: string, int (any Go int; CEL int), float64 (double),
// bool, time.Time (timestamp), time.Duration (duration) or any (dyn); it may return an error as a second
// result, which makes the expression fail. Expressions are evaluated concurrently: impl must be safe for
// that, and should be quick and free of side effects (it may run more than once per write).
func Function(name string, impl any) {
	reg.mu.Lock()
	defer reg.mu.Unlock()
	f := &fn{impl: reflect.ValueOf(impl)}
	t := f.impl.Type()
	switch {
	case impl == nil || t.Kind() != reflect.Func:
		f.err = fmt.Errorf("extend: function %s: want a Go func, got %T", name, impl)
	case t.IsVariadic():
		f.err = fmt.Errorf("extend: function %s: a variadic func cannot match a declared signature", name)
	case t.NumOut() == 0 || t.NumOut() > 2 || (t.NumOut() == 2 && t.Out(1) != errorType):
		f.err = fmt.Errorf("extend: function %s: want one result, or a result and an error", name)
	}
	if _, dup := reg.funcs[name]; dup {
		f.err = fmt.Errorf("extend: function %s is registered twice", name)
	}
	reg.funcs[name] = f
}

// Call runs the registered function name on CEL values; the app binds the model's functions to it
// (metamodel.Model.SetFunctions). Errors are CEL errors, which fail the expression.
func Call(name string, args []ref.Val) ref.Val {
	reg.mu.RLock()
	f := reg.funcs[name]
	reg.mu.RUnlock()
	if f == nil || f.err != nil {
		return types.NewErr("function %s has no implementation", name)
	}
	t := f.impl.Type()
	if len(args) != t.NumIn() {
		return types.NewErr("function %s: want %d arguments, got %d", name, t.NumIn(), len(args))
	}
	in := make([]reflect.Value, len(args))
	for i, a := range args {
		v, err := a.ConvertToNative(t.In(i))
		if err != nil {
			return types.NewErr("function %s: argument %d: %v", name, i+1, err)
		}
		in[i] = reflect.ValueOf(v).Convert(t.In(i))
	}
	out := f.impl.Call(in)
	if len(out) == 2 && !out[1].IsNil() {
		return types.NewErr("function %s: %v", name, out[1].Interface())
	}
	return types.DefaultTypeAdapter.NativeToValue(out[0].Interface())
}

// checkFunctions reports each mismatch between the model's declared functions and the registered ones.
func checkFunctions(m *metamodel.Model) []string {
	var problems []string
	for _, d := range m.Functions {
		f := reg.funcs[d.Name]
		switch {
		case f == nil:
			problems = append(problems, fmt.Sprintf("the model declares function %s, which the extend package does not implement (extension.Function(%q, …))", d, d.Name))
		case f.err != nil:
			problems = append(problems, f.err.Error())
		default:
			if p := signatureProblem(d, f.impl.Type()); p != "" {
				problems = append(problems, fmt.Sprintf("function %s: the Go func %s %s", d, f.impl.Type(), p))
			}
		}
	}
	var names []string
	for name := range reg.funcs {
		if m.Function(name) == nil {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	for _, name := range names {
		problems = append(problems, fmt.Sprintf("the extend package implements function %s, which the model does not declare (add it under functions:)", name))
	}
	return problems
}

// signatureProblem says how a Go func type fails a declaration, or "".
func signatureProblem(d *metamodel.Function, t reflect.Type) string {
	if t.NumIn() != len(d.Params) {
		return fmt.Sprintf("takes %d parameters, want %d", t.NumIn(), len(d.Params))
	}
	for i, p := range d.Params {
		if !fits(p, t.In(i)) {
			return fmt.Sprintf("takes %s as parameter %d, which is no CEL %s", t.In(i), i+1, p)
		}
	}
	if !fits(d.Returns, t.Out(0)) {
		return fmt.Sprintf("returns %s, which is no CEL %s", t.Out(0), d.Returns)
	}
	return ""
}

// fits reports whether Go type t carries values of the declared CEL type.
func fits(cel string, t reflect.Type) bool {
	switch cel {
	case "string":
		return t.Kind() == reflect.String
	case "int":
		return t != durType && strings.HasPrefix(t.Kind().String(), "int")
	case "double":
		return t.Kind() == reflect.Float64 || t.Kind() == reflect.Float32
	case "bool":
		return t.Kind() == reflect.Bool
	case "timestamp":
		return t == timeType
	case "duration":
		return t == durType
	case "dyn":
		return t.Kind() == reflect.Interface && t.NumMethod() == 0
	}
	return false
}
