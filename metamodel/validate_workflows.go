package metamodel

import (
	"strings"

	"github.com/google/cel-go/cel"
	celast "github.com/google/cel-go/common/ast"
	"github.com/google/cel-go/common/types"
)

// Notification channels; the in-app inbox always receives a notification.
var Channels = []string{"inbox", "email", "sms", "webhook"}

// expr type-checks an expression about records of e and reports its errors; want may be nil.
func (b *builder) expr(e *Entity, x Expr, want *cel.Type) *cel.Ast {
	if e == nil || x.IsZero() {
		return nil
	}
	ast, err := b.m.CompileExpr(e, x, want)
	if err != nil {
		if list, ok := err.(ErrorList); ok {
			for _, e := range list {
				b.add(e)
			}
		} else {
			b.errorf(x.Pos, "expression: %v", err)
		}
		return nil
	}
	return ast
}

// assign checks assignments (a `set` or create `values`) into members of tgt, whose expressions are about
// records of src.
func (b *builder) assign(src, tgt *Entity, as []*Assignment, what string) {
	for _, a := range as {
		q := tgt.Name + "." + a.Name
		f, r := tgt.Field(a.Name), tgt.Relation(a.Name)
		switch {
		case f == nil && r == nil:
			b.errorf(a.Pos, "unknown field %q of entity %q in %s%s", a.Name, tgt.Name, what, didYouMean(a.Name, memberNames(tgt)))
			continue
		case f != nil && f.StateOf != "":
			b.errorf(a.Pos, "field %q holds the state of workflow %q; it changes only through transitions", q, f.StateOf)
			continue
		case f != nil && f.System:
			b.errorf(a.Pos, "field %q is set by the system and cannot be assigned", q)
			continue
		case f != nil && !f.Computed.IsZero():
			b.errorf(a.Pos, "field %q is computed and cannot be assigned", q)
			continue
		case r != nil && (r.Derived || r.Kind == HasMany || r.Kind == HasOne):
			b.errorf(a.Pos, "relation %q is the derived side of %q; assign it from there", q, r.To+"."+r.Inverse)
			continue
		}
		ast := b.expr(src, a.Value, nil)
		if ast == nil {
			continue
		}
		got := ast.OutputType()
		if got.Kind() == types.DynKind {
			continue
		}
		if got.Kind() == types.NullTypeKind {
			if (f != nil && f.Required) || (r != nil && r.Required) {
				b.errorf(a.Value.Pos, "%q is required and cannot be set to null", q)
			}
			continue
		}
		var ok bool
		var want string
		if f != nil {
			want = celTypeName(CELType(f.Type))
			ok = f.Type == TypeJSON || CELType(f.Type).IsAssignableType(got) ||
				CELType(f.Type) == cel.DoubleType && got.Kind() == types.IntKind
			if f.Type == TypeDecimal || f.Type == TypeFloat {
				want = "double or int"
			}
			if ok && f.Type == TypeEnum && f.EnumRef != nil {
				if s, isLit := stringLiteral(ast); isLit && !enumHas(f.EnumRef, s) {
					b.errorf(a.Value.Pos, "%q is not a value of enum %q%s", s, f.EnumRef.Name, hint(s, enumKeyNames(f.EnumRef)))
				}
			}
		} else {
			one := func(t *cel.Type) bool {
				return t.Kind() == types.IntKind || t.Kind() == types.DynKind ||
					t.Kind() == types.StructKind && (t.TypeName() == celRefPrefix+r.To || t.TypeName() == celPrefix+r.To)
			}
			if r.Kind == BelongsTo {
				want = r.To + " or an id (int)"
				ok = one(got)
			} else {
				want = "a list of " + r.To + " or of ids"
				ok = got.Kind() == types.ListKind && len(got.Parameters()) == 1 && one(got.Parameters()[0])
			}
		}
		if !ok {
			b.errorf(a.Value.Pos, "value of %q has type %s, want %s", q, celTypeName(got), want)
		}
	}
}

func stringLiteral(ast *cel.Ast) (string, bool) {
	e := ast.NativeRep().Expr()
	if e.Kind() != celast.LiteralKind {
		return "", false
	}
	s, ok := e.AsLiteral().(types.String)
	return string(s), ok
}

func enumHas(en *Enum, key string) bool {
	for _, v := range en.Values {
		if v.Key == key {
			return true
		}
	}
	return false
}

func enumKeyNames(en *Enum) []string {
	var out []string
	for _, v := range en.Values {
		out = append(out, v.Key)
	}
	return out
}

// actions checks a list of actions run for records of e.
func (b *builder) actions(e *Entity, as []*Action, what string) {
	for _, a := range as {
		switch {
		case a.Create != nil:
			b.create(e, a.Create, what)
		case a.Notify != nil:
			b.notify(e, a.Notify)
		case a.Set != nil:
			b.assign(e, e, a.Set, what+" set")
		case a.Run != "" && !isLowerCamel(a.Run):
			b.errorf(b.m.posOf(a, "run", a.Pos), "%s run: action name %q: want lowerCamelCase (%s)", what, a.Run, lowerCamel(a.Run))
		}
	}
}

func (b *builder) create(e *Entity, c *CreateAction, what string) {
	t := b.m.Entity(c.Entity)
	if t == nil {
		if c.Entity != "" {
			b.errorf(b.m.posOf(c, "entity", c.Pos), "unknown entity %q to create in %s%s", c.Entity, what,
				didYouMean(c.Entity, b.entityNames()))
		}
		return
	}
	b.assign(e, t, c.Values, "create values of "+what)
	given := map[string]bool{}
	for _, v := range c.Values {
		given[v.Name] = true
	}
	for _, f := range t.Fields {
		if f.Required && !given[f.Name] && f.Default == nil && f.AutoNumber == "" && f.Computed.IsZero() && !f.System {
			b.errorf(c.Pos, "create of %q gives no value for required field %q", t.Name, f.Name)
		}
	}
	for _, r := range t.Relations {
		if r.Kind == BelongsTo && r.Required && !given[r.Name] {
			b.errorf(c.Pos, "create of %q gives no value for required relation %q", t.Name, r.Name)
		}
	}
}

// notify checks recipients and channels; e is the entity whose records trigger it.
func (b *builder) notify(e *Entity, n *Notify) {
	for i, r := range n.Roles {
		if b.m.Role(r) == nil {
			b.errorf(b.m.posOf(n, "roles."+itoa(i), n.Pos), "unknown role %q to notify%s", r, didYouMean(r, b.roleNames()))
		}
	}
	if len(n.Users) > 0 {
		var names []string
		if b.m.Data != nil {
			for _, u := range b.m.Data.Users {
				for _, fv := range u.Values {
					if s, ok := fv.Value.(string); ok && fv.Name == "username" {
						names = append(names, s)
					}
				}
			}
		}
		for i, u := range n.Users {
			if !contains(names, u) {
				b.warnf(b.m.posOf(n, "users."+itoa(i), n.Pos), "user %q to notify is not in data.users%s (it must exist when the notification is sent)",
					u, didYouMean(u, names))
			}
		}
	}
	if n.Field != "" && e != nil {
		r := e.Relation(n.Field)
		if r == nil || r.Kind != BelongsTo || r.To != "User" {
			b.errorf(b.m.posOf(n, "field", n.Pos), "notify field %q must be a belongsTo relation of %q to User%s", n.Field, e.Name,
				orMeant(n.Field, userRelations(e)))
		}
	}
	for i, c := range n.Channels {
		if !contains(Channels, c) {
			b.errorf(b.m.posOf(n, "channels."+itoa(i), n.Pos), "unknown channel %q%s", c, hint(c, Channels))
		}
	}
}

// workflows checks transitions, guards, actions and timers, and warns about dead ends and unreachable states.
func (b *builder) workflows() {
	for _, w := range b.m.Workflows {
		e := w.EntityRef
		states := map[string]*State{}
		var names []string
		for _, s := range w.States {
			states[s.Name] = s
			names = append(names, s.Name)
		}
		state := func(x any, key string, def Pos, s, what string) bool {
			if states[s] == nil {
				b.errorf(b.m.posOf(x, key, def), "unknown state %q in %s%s", s, what, hint(s, names))
				return false
			}
			return true
		}
		out := map[string][]string{}
		for _, t := range w.Transitions {
			what := "transition " + quote(w.Name+"."+t.Name)
			if len(t.From) == 0 {
				b.missingf(t, "from", t.Pos, "%s has no from state", what)
			}
			for i, f := range t.From {
				if state(t, "from."+itoa(i), t.Pos, f, "from of "+what) && states[t.To] != nil {
					out[f] = append(out[f], t.To)
				}
			}
			if t.To == "" {
				b.missingf(t, "to", t.Pos, "%s has no to state", what)
			} else {
				state(t, "to", t.Pos, t.To, "to of "+what)
			}
			for i, r := range t.Roles {
				if b.m.Role(r) == nil {
					b.errorf(b.m.posOf(t, "roles."+itoa(i), t.Pos), "unknown role %q in %s%s", r, what, didYouMean(r, b.roleNames()))
				}
			}
			if e == nil {
				continue
			}
			for i, r := range t.Requires {
				if e.Field(r) == nil && e.Relation(r) == nil {
					b.errorf(b.m.posOf(t, "requires."+itoa(i), t.Pos), "unknown field %q of entity %q in requires of %s%s", r, e.Name, what,
						didYouMean(r, memberNames(e)))
				}
			}
			b.expr(e, t.Guard, cel.BoolType)
			if len(t.GuardMessage) > 0 && t.Guard.Src == "" {
				b.errorf(b.m.posOf(t, "guardMessage", t.Pos), "%s has a guardMessage but no guard (add a guard, or remove the message)", what)
			}
			b.assign(e, e, t.Set, "set of "+what)
			b.actions(e, t.Do, what)
		}
		for _, tm := range w.Timers {
			b.timer(w, e, tm, state)
		}
		if len(states) == 0 || states[w.Initial] == nil {
			continue
		}
		reached := map[string]bool{w.Initial: true}
		queue := []string{w.Initial}
		for len(queue) > 0 {
			s := queue[0]
			queue = queue[1:]
			for _, n := range out[s] {
				if !reached[n] {
					reached[n] = true
					queue = append(queue, n)
				}
			}
		}
		for _, s := range w.States {
			if !reached[s.Name] {
				b.warnf(s.Pos, "state %q of workflow %q is unreachable from the initial state %q", s.Name, w.Name, w.Initial)
			} else if len(out[s.Name]) == 0 && !s.Final {
				b.warnf(s.Pos, "state %q of workflow %q has no outgoing transitions and is not final (add final: true)", s.Name, w.Name)
			}
		}
	}
}

func (b *builder) timer(w *Workflow, e *Entity, tm *Timer, state func(x any, key string, def Pos, s, what string) bool) {
	what := "timer of workflow " + quote(w.Name)
	if tm.State == "" {
		b.missingf(tm, "state", tm.Pos, "%s has no state", what)
	} else {
		state(tm, "state", tm.Pos, tm.State, what)
	}
	switch {
	case tm.After == "" && tm.At.IsZero():
		if b.m.failed(tm, "at") {
			break
		}
		b.missingf(tm, "after", tm.Pos, "%s needs after (a duration such as 72h) or at (a timestamp expression)", what)
	case tm.After != "" && !tm.At.IsZero():
		b.errorf(b.m.posOf(tm, "at", tm.Pos), "%s has both after and at (keep one)", what)
	case tm.After != "":
		d, err := ParseDuration(tm.After)
		if err != nil {
			b.errorf(b.m.posOf(tm, "after", tm.Pos), "%v", err)
		}
		tm.AfterNanos = int64(d)
	default:
		b.expr(e, tm.At, cel.TimestampType)
	}
	if tm.Notify == nil && tm.Transition == "" {
		b.errorf(tm.Pos, "%s does nothing (add notify and/or transition)", what)
	}
	if tm.Transition != "" {
		var t *Transition
		var names []string
		for _, x := range w.Transitions {
			names = append(names, x.Name)
			if x.Name == tm.Transition {
				t = x
			}
		}
		switch {
		case t == nil:
			b.errorf(b.m.posOf(tm, "transition", tm.Pos), "unknown transition %q in %s%s", tm.Transition, what, hint(tm.Transition, names))
		case tm.State != "" && !contains(t.From, tm.State):
			b.errorf(b.m.posOf(tm, "transition", tm.Pos), "transition %q does not start from state %q, so the timer cannot run it (from: %s)",
				tm.Transition, tm.State, strings.Join(t.From, ", "))
		}
	}
	if tm.Notify != nil {
		b.notify(e, tm.Notify)
	}
}

// automations checks triggers, conditions and actions.
func (b *builder) automations() {
	for _, a := range b.m.Automations {
		what := "automation " + quote(a.Name)
		e := b.m.Entity(a.Entity)
		if a.Entity == "" {
			b.missingf(a, "entity", a.Pos, "%s has no entity", what)
			continue
		}
		if e == nil {
			b.errorf(b.m.posOf(a, "entity", a.Pos), "unknown entity %q for %s%s", a.Entity, what, didYouMean(a.Entity, b.entityNames()))
			continue
		}
		if len(a.On) == 0 {
			b.missingf(a, "on", a.Pos, "%s has no trigger (add on: create, update, delete or transition:<name>)", what)
		}
		var transitions []string
		for _, w := range b.m.Workflows {
			if w.Entity == e.Name {
				for _, t := range w.Transitions {
					transitions = append(transitions, t.Name)
				}
			}
		}
		for i, on := range a.On {
			p := b.m.posOf(a, "on."+itoa(i), a.Pos)
			switch {
			case on == "create" || on == "update" || on == "delete":
			case strings.HasPrefix(on, "transition:"):
				t := strings.TrimPrefix(on, "transition:")
				if !contains(transitions, t) {
					if len(transitions) == 0 {
						b.errorf(p, "unknown transition %q in %s: no workflow of %q has transitions", t, what, e.Name)
					} else {
						b.errorf(p, "unknown transition %q in %s%s", t, what, hint(t, transitions))
					}
				}
			default:
				cands := []string{"create", "update", "delete"}
				for _, t := range transitions {
					cands = append(cands, "transition:"+t)
				}
				b.errorf(p, "unknown trigger %q in %s%s", on, what, hint(on, cands))
			}
		}
		b.expr(e, a.When, cel.BoolType)
		if len(a.Do) == 0 {
			b.missingf(a, "do", a.Pos, "%s has no actions (add do: [...])", what)
		}
		b.actions(e, a.Do, what)
	}
}
