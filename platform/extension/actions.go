package extension

import (
	"context"
	"fmt"
	"sort"

	"github.com/crmgen/crmgen/metamodel"
)

// Actions of the app's own code, run by the model's automations and transitions with `run: name` among
// their `do` actions, in order with the others and in the same transaction.

// Run is one run of an action: the record the automation or transition is about.
type Run struct {
	Entity string
	ID     int
	// Record is the record as the model's expressions see it (after earlier `set` actions): field and
	// relation names to plain values, a belongsTo relation as a map of the related record, nil when unset.
	Record map[string]any
}

// ActionFunc is an action of the app's own code. ctx is the system's (model-defined work runs as the
// system) and carries the transaction: writes made with the app's ent client from ctx (ent.FromContext)
// are part of it, and an error rolls back the write that triggered the action. Refuse words an error
// for users.
type ActionFunc func(ctx context.Context, r *Run) error

// Action registers f as the action the model's `run: name` runs.
func Action(name string, f ActionFunc) {
	reg.mu.Lock()
	defer reg.mu.Unlock()
	if reg.actions == nil {
		reg.actions = map[string]ActionFunc{}
	}
	reg.actions[name] = f
}

// RunAction runs the registered action name; platform/process calls it for `run` actions.
func RunAction(ctx context.Context, name string, r *Run) error {
	reg.mu.RLock()
	f := reg.actions[name]
	reg.mu.RUnlock()
	if f == nil {
		return fmt.Errorf("extend: no action %q is registered", name)
	}
	return f(ctx, r)
}

// checkActions names the model's `run` actions that no code registered.
func checkActions(m *metamodel.Model) []string {
	used := map[string]string{} // action → where
	add := func(where string, as []*metamodel.Action) {
		for _, a := range as {
			if a.Run != "" && used[a.Run] == "" {
				used[a.Run] = where
			}
		}
	}
	for _, a := range m.Automations {
		add("automation "+a.Name, a.Do)
	}
	for _, w := range m.Workflows {
		for _, t := range w.Transitions {
			add("transition "+w.Name+"."+t.Name, t.Do)
		}
	}
	var problems []string
	for name, where := range used {
		if reg.actions[name] == nil {
			problems = append(problems, fmt.Sprintf("%s runs action %s, which the extend package does not register (extension.Action(%q, …))", where, name, name))
		}
	}
	sort.Strings(problems)
	return problems
}
