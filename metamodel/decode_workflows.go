package metamodel

import (
	"strconv"

	"gopkg.in/yaml.v3"
)

var (
	workflowKeys   = objectKeys("workflow")
	stateKeys      = objectKeys("state")
	transitionKeys = objectKeys("transition")
	timerKeys      = objectKeys("timer")
	notifyKeys     = objectKeys("notify")
	actionKeys     = objectKeys("action")
	createKeys     = objectKeys("create")
	automationKeys = objectKeys("automation")
)

func (l *loader) workflows(n *yaml.Node) {
	l.named(n, "workflow", "workflows", func(s string) string { return s }, func(name string, k, v *yaml.Node) {
		w := &Workflow{Name: name, Pos: l.at(k)}
		l.m.Workflows = append(l.m.Workflows, w)
		what := "workflow " + quote(name)
		l.mapping(v, what, workflowKeys, func(key string, k, v *yaml.Node) {
			l.mark(w, key, v)
			switch key {
			case "label":
				w.Label = l.text(v, what+" label")
			case "entity":
				w.Entity = l.str(v, what+" entity")
			case "field":
				w.Field = l.str(v, what+" field")
			case "initial":
				w.Initial = l.str(v, what+" initial")
			case "states":
				l.named(v, "state", what+" states", func(s string) string { return name + "." + s },
					func(sname string, k, v *yaml.Node) {
						s := &State{Name: sname, Pos: l.at(k)}
						w.States = append(w.States, s)
						sw := "state " + quote(name+"."+sname)
						l.mapping(v, sw, stateKeys, func(key string, k, v *yaml.Node) {
							l.mark(s, key, v)
							switch key {
							case "label":
								s.Label = l.text(v, sw+" label")
							case "final":
								s.Final = l.boolean(v, sw+" final")
							case "lock":
								lock := l.boolean(v, sw+" lock")
								s.Lock = &lock
							case "color":
								s.Color = l.str(v, sw+" color")
							}
						})
					})
			case "transitions":
				l.named(v, "transition", what+" transitions", func(s string) string { return name + "." + s },
					func(tname string, k, v *yaml.Node) {
						w.Transitions = append(w.Transitions, l.transition(name, tname, k, v))
					})
			case "timers":
				l.list(v, what+" timers", func(i int, it *yaml.Node) {
					if t := l.timer(what, it); t != nil {
						w.Timers = append(w.Timers, t)
					}
				})
			}
		})
	})
}

func (l *loader) transition(wf, name string, k, v *yaml.Node) *Transition {
	t := &Transition{Name: name, Pos: l.at(k)}
	what := "transition " + quote(wf+"."+name)
	var shorthand []*Action
	l.mapping(v, what, transitionKeys, func(key string, k, v *yaml.Node) {
		l.mark(t, key, v)
		w := what + " " + key
		switch key {
		case "label":
			t.Label = l.text(v, w)
		case "from":
			t.From = l.strList(v, w, t, key, true)
		case "to":
			t.To = l.str(v, w)
		case "roles":
			t.Roles = l.strList(v, w, t, key, true)
		case "requires":
			t.Requires = l.strList(v, w, t, key, true)
		case "guard":
			t.Guard = l.expr(v, w)
		case "guardMessage":
			t.GuardMessage = l.text(v, w)
		case "comment":
			t.Comment = l.str(v, w)
			if t.Comment != CommentRequired && t.Comment != CommentOptional && t.Comment != "" {
				l.errorf(l.at(v), "%s: unknown value %q (want required or optional)", w, t.Comment)
				t.Comment = ""
			}
		case "set":
			t.Set = l.assignments(v, w)
		case "do":
			t.Do = l.actions(v, w)
		case "notify":
			a := &Action{Pos: l.at(k), Notify: l.notify(v, w)}
			shorthand = append(shorthand, a)
		case "create":
			a := &Action{Pos: l.at(k), Create: l.create(v, w)}
			shorthand = append(shorthand, a)
		}
	})
	t.Do = append(t.Do, shorthand...)
	return t
}

func (l *loader) timer(wf string, n *yaml.Node) *Timer {
	t := &Timer{Pos: l.at(n)}
	what := "timer of " + wf
	if n.Kind != yaml.MappingNode {
		l.mapping(n, what, timerKeys, nil)
		return nil
	}
	l.mapping(n, what, timerKeys, func(key string, k, v *yaml.Node) {
		l.mark(t, key, v)
		w := what + " " + key
		switch key {
		case "state":
			t.State = l.str(v, w)
		case "after":
			t.After = l.str(v, w)
		case "at":
			t.At = l.expr(v, w)
		case "notify":
			t.Notify = l.notify(v, w)
		case "transition":
			t.Transition = l.str(v, w)
		}
	})
	return t
}

// assignments reads a `set` or `values` mapping of name: expression, in source order.
func (l *loader) assignments(n *yaml.Node, what string) []*Assignment {
	var out []*Assignment
	l.mapping(n, what, nil, func(name string, k, v *yaml.Node) {
		a := &Assignment{Name: name, Pos: l.at(k), Value: l.expr(v, what+"."+name)}
		out = append(out, a)
	})
	return out
}

// actions reads a `do` list of {create | notify | set} items.
func (l *loader) actions(n *yaml.Node, what string) []*Action {
	var out []*Action
	l.list(n, what, func(i int, it *yaml.Node) {
		a := &Action{Pos: l.at(it)}
		w := what + "[" + strconv.Itoa(i) + "]"
		if it.Kind == yaml.MappingNode && len(it.Content) != 2 {
			l.errorf(l.at(it), "%s: an action has exactly one of create, notify, set or run, got %d keys", w, len(it.Content)/2)
			return
		}
		if it.Kind != yaml.MappingNode {
			l.errorf(l.at(it), "%s: want {create: …}, {notify: …}, {set: …} or {run: …}, got %s", w, describe(it))
			return
		}
		ok := false
		l.mapping(it, w, actionKeys, func(key string, k, v *yaml.Node) {
			ok = true
			switch key {
			case "create":
				a.Create = l.create(v, w+" create")
			case "notify":
				a.Notify = l.notify(v, w+" notify")
			case "set":
				a.Set = l.assignments(v, w+" set")
			case "run":
				l.mark(a, key, v)
				a.Run = l.str(v, w+" run")
			}
		})
		if ok {
			out = append(out, a)
		}
	})
	return out
}

func (l *loader) create(n *yaml.Node, what string) *CreateAction {
	c := &CreateAction{Pos: l.at(n)}
	l.mapping(n, what, createKeys, func(key string, k, v *yaml.Node) {
		l.mark(c, key, v)
		switch key {
		case "entity":
			c.Entity = l.str(v, what+" entity")
		case "values":
			c.Values = l.assignments(v, what+" values")
		}
	})
	if !l.m.hasKey(c, "entity") {
		l.errorf(c.Pos, "%s has no entity", what)
	}
	return c
}

func (l *loader) notify(n *yaml.Node, what string) *Notify {
	nt := &Notify{Pos: l.at(n)}
	l.mapping(n, what, notifyKeys, func(key string, k, v *yaml.Node) {
		l.mark(nt, key, v)
		w := what + " " + key
		switch key {
		case "roles":
			nt.Roles = l.strList(v, w, nt, key, true)
		case "users":
			nt.Users = l.strList(v, w, nt, key, true)
		case "field":
			nt.Field = l.str(v, w)
		case "message":
			nt.Message = l.text(v, w)
		case "channels":
			nt.Channels = l.strList(v, w, nt, key, true)
		}
	})
	if !l.m.hasKey(nt, "message") {
		l.errorf(nt.Pos, "%s has no message", what)
	}
	if !l.m.hasKey(nt, "roles") && !l.m.hasKey(nt, "users") && !l.m.hasKey(nt, "field") {
		l.errorf(nt.Pos, "%s has no recipients (want roles, users and/or field)", what)
	}
	return nt
}

func (l *loader) automations(n *yaml.Node) {
	l.named(n, "automation", "automations", func(s string) string { return s }, func(name string, k, v *yaml.Node) {
		a := &Automation{Name: name, Pos: l.at(k)}
		l.m.Automations = append(l.m.Automations, a)
		what := "automation " + quote(name)
		l.mapping(v, what, automationKeys, func(key string, k, v *yaml.Node) {
			l.mark(a, key, v)
			switch key {
			case "label":
				a.Label = l.text(v, what+" label")
			case "entity":
				a.Entity = l.str(v, what+" entity")
			case "on":
				a.On = l.strList(v, what+" on", a, key, true)
			case "when":
				a.When = l.expr(v, what+" when")
			case "do":
				a.Do = l.actions(v, what+" do")
			}
		})
	})
}
