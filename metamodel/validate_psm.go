package metamodel

import "sort"

// generatedNames checks the names the generated application derives from the model — SQL tables, Go
// files and packages, GraphQL types — for collisions the model's own names do not show: an entity
// "AccountTag" and a many-to-many relation Account.tags both want the table account_tags; "FollowUp" and
// "Followup" both want the Go package followup; an entity "AccountOrder" collides with the GraphQL order
// type of "Account".
func (b *builder) generatedNames() {
	type owner struct {
		what string
		pos  Pos
	}
	tables := map[string]owner{}
	claimTable := func(table, what string, pos Pos) {
		if prev, ok := tables[table]; ok {
			b.errorf(pos, "%s needs the table %q, which %s already uses (at %s); rename one of them", what, table, prev.what, prev.pos)
			return
		}
		tables[table] = owner{what, pos}
	}
	packages := map[string]owner{}
	types := map[string]owner{}
	for _, e := range b.m.Entities {
		claimTable(e.Table(), "entity "+q(e.Name), e.Pos)
		if prev, ok := packages[e.Package()]; ok {
			b.errorf(e.Pos, "entity %q differs from entity %s only in letter case; generated Go packages and files would collide (rename one)", e.Name, prev.what)
		} else {
			packages[e.Package()] = owner{q(e.Name), e.Pos}
		}
	}
	for _, e := range b.m.Entities {
		for _, r := range e.Relations {
			if r.Kind == ManyToMany && !r.Derived && r.Target != nil {
				claimTable(r.JoinTable(), "the many-to-many relation "+q(e.Name+"."+r.Name), r.Pos)
			}
		}
	}
	// GraphQL type names entgql and crmgen derive from each entity.
	for _, e := range b.m.Entities {
		derived := []string{e.Name + "Connection", e.Name + "Edge", e.Name + "Order", e.Name + "OrderField",
			e.Name + "WhereInput", "Create" + e.Name + "Input", "Update" + e.Name + "Input"}
		for _, f := range e.Fields {
			if f.Type == TypeEnum {
				derived = append(derived, e.Name+Pascal(f.Name))
			}
		}
		for _, t := range derived {
			if _, ok := types[t]; !ok {
				types[t] = owner{"entity " + q(e.Name), e.Pos}
			}
		}
	}
	names := make([]string, 0, len(b.m.Entities))
	for _, e := range b.m.Entities {
		names = append(names, e.Name)
	}
	sort.Strings(names)
	for _, n := range names {
		if prev, ok := types[n]; ok {
			e := b.m.entityByName[n]
			b.errorf(e.Pos, "entity name %q collides with a GraphQL type generated for %s; rename the entity", n, prev.what)
		}
	}
}

func q(s string) string { return `"` + s + `"` }
