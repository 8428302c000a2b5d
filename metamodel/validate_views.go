package metamodel

import "strings"

// indexesAndViews checks that indexes and views name existing members of their entity.
func (b *builder) indexesAndViews() {
	for _, e := range b.m.Entities {
		for _, x := range e.Indexes {
			for i, n := range x.Fields {
				p := b.m.posOf(x, "fields."+itoa(i), x.Pos)
				if e.Field(n) != nil {
					if f := e.Field(n); f.Type == TypeText || f.Type == TypeJSON || f.Type.Attachment() {
						b.errorf(p, "field %q of type %s cannot be indexed", e.Name+"."+n, f.Type)
					}
					continue
				}
				if r := e.Relation(n); r != nil {
					if r.Kind != BelongsTo {
						b.errorf(p, "index of entity %q names relation %q, which is not belongsTo (only fields and belongsTo relations can be indexed)",
							e.Name, n)
					}
					continue
				}
				b.errorf(p, "unknown field %q in index of entity %q%s", n, e.Name, didYouMean(n, memberNames(e)))
			}
		}
		if e.Views != nil {
			b.views(e, e.Views)
		}
	}
}

func (b *builder) views(e *Entity, v *Views) {
	member := func(x any, key string, def Pos, name, where string) {
		if name == "" {
			return
		}
		if e.Field(name) == nil && e.Relation(name) == nil {
			b.errorf(b.m.posOf(x, key, def), "unknown field %q in %s of entity %q%s", name, where, e.Name,
				didYouMean(name, memberNames(e)))
		}
	}
	list := func(x any, key string, def Pos, names []string, where string) {
		for i, n := range names {
			member(x, key+"."+itoa(i), def, n, where)
		}
	}
	if l := v.List; l != nil {
		list(l, "columns", l.Pos, l.Columns, "list columns")
		list(l, "filters", l.Pos, l.Filters, "list filters")
		for i, n := range l.Filters {
			if f := e.Field(n); f != nil && f.Type.Attachment() {
				b.errorf(b.m.posOf(l, "filters."+itoa(i), l.Pos), "list of entity %q cannot filter by %s field %q (filter by a field with values to compare)", e.Name, f.Type, n)
			}
		}
		if l.Sort != "" {
			name := strings.TrimPrefix(l.Sort, "-")
			if f := e.Field(name); f != nil && f.Type.Attachment() {
				b.errorf(b.m.posOf(l, "sort", l.Pos), "list of entity %q cannot sort by %s field %q (sort by a field with values to compare)", e.Name, f.Type, name)
			}
			if r := e.Relation(name); r != nil && r.Kind != BelongsTo {
				b.errorf(b.m.posOf(l, "sort", l.Pos), "list of entity %q cannot sort by relation %q (sort by a field)", e.Name, name)
			} else {
				member(l, "sort", l.Pos, name, "list sort")
			}
		}
		if b.m.hasKey(l, "pageSize") && (l.PageSize < 1 || l.PageSize > 500) {
			b.errorf(b.m.posOf(l, "pageSize", l.Pos), "pageSize %d of the list of entity %q is out of range (want 1 to 500)", l.PageSize, e.Name)
		}
	}
	if f := v.Form; f != nil {
		for _, s := range f.Sections {
			list(s, "fields", s.Pos, s.Fields, "form")
		}
	}
	if k := v.Kanban; k != nil {
		if f := e.Field(k.GroupBy); f != nil {
			if f.Type != TypeEnum {
				b.errorf(b.m.posOf(k, "groupBy", k.Pos), "kanban of entity %q groups by %q, which is not an enum field", e.Name, k.GroupBy)
			}
		} else if k.GroupBy != "" {
			b.errorf(b.m.posOf(k, "groupBy", k.Pos), "unknown field %q in kanban groupBy of entity %q%s", k.GroupBy, e.Name,
				didYouMean(k.GroupBy, fieldNames(e)))
		}
		list(k, "card", k.Pos, k.Card, "kanban card")
	}
	if c := v.Calendar; c != nil {
		if f := e.Field(c.Date); f != nil {
			if f.Type != TypeDate && f.Type != TypeDateTime {
				b.errorf(b.m.posOf(c, "date", c.Pos), "calendar of entity %q uses %q, which is not a date or datetime field", e.Name, c.Date)
			}
		} else if c.Date != "" {
			b.errorf(b.m.posOf(c, "date", c.Pos), "unknown field %q in calendar date of entity %q%s", c.Date, e.Name,
				didYouMean(c.Date, fieldNames(e)))
		}
		member(c, "title", c.Pos, c.Title, "calendar title")
	}
}
