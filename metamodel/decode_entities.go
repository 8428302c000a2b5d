package metamodel

import (
	"gopkg.in/yaml.v3"
)

var (
	entityKeys   = objectKeys("entity")
	fieldKeys    = objectKeys("field")
	relationKeys = objectKeys("relation")
	indexKeys    = objectKeys("index")
	viewKeys     = objectKeys("views")
)

func (l *loader) entities(n *yaml.Node) {
	l.named(n, "entity", "entities", func(s string) string { return s }, func(name string, k, v *yaml.Node) {
		e := &Entity{Name: name, Pos: l.at(k)}
		l.m.Entities = append(l.m.Entities, e)
		what := "entity " + quote(name)
		l.mapping(v, what, entityKeys, func(key string, k, v *yaml.Node) {
			l.mark(e, key, v)
			switch key {
			case "label":
				e.Label = l.text(v, what+" label")
			case "display":
				e.Display = l.str(v, what+" display")
			case "traits":
				e.Traits = l.strList(v, what+" traits", e, "traits", false)
			case "ownerField":
				e.OwnerField = l.str(v, what+" ownerField")
			case "renamedFrom":
				e.RenamedFrom = l.str(v, what+" renamedFrom")
			case "fields":
				l.named(v, "field", what+" fields", func(s string) string { return name + "." + s },
					func(fname string, k, v *yaml.Node) { e.Fields = append(e.Fields, l.field(e, fname, k, v)) })
			case "relations":
				l.named(v, "relation", what+" relations", func(s string) string { return name + "." + s },
					func(rname string, k, v *yaml.Node) {
						e.Relations = append(e.Relations, l.relation(e, rname, k, v))
					})
			case "indexes":
				l.list(v, what+" indexes", func(i int, it *yaml.Node) {
					if x := l.index(e, it); x != nil {
						e.Indexes = append(e.Indexes, x)
					}
				})
			case "views":
				e.Views = l.views(e, k, v)
			}
		})
	})
}

func (l *loader) field(e *Entity, name string, k, v *yaml.Node) *Field {
	f := &Field{Name: name, Pos: l.at(k), Entity: e}
	what := "field " + quote(e.Name+"."+name)
	if v.Kind == yaml.ScalarNode && !isNull(v) { // shorthand: `name: string`
		f.Type = FieldType(v.Value)
		l.mark(f, "type", v)
		return f
	}
	l.mapping(v, what, fieldKeys, func(key string, k, v *yaml.Node) {
		l.mark(f, key, v)
		w := what + " " + key
		switch key {
		case "label":
			f.Label = l.text(v, w)
		case "help":
			f.Help = l.text(v, w)
		case "type":
			f.Type = FieldType(l.str(v, w))
		case "renamedFrom":
			f.RenamedFrom = l.str(v, w)
		case "required":
			f.Required = l.boolean(v, w)
		case "unique":
			f.Unique = l.boolean(v, w)
		case "readonly":
			f.Readonly = l.boolean(v, w)
		case "immutable":
			f.Immutable = l.boolean(v, w)
		case "sensitive":
			f.Sensitive = l.boolean(v, w)
		case "search":
			f.Search = l.boolean(v, w)
		case "index":
			f.Index = l.boolean(v, w)
		case "stored":
			f.Stored = l.boolean(v, w)
		case "default":
			if isNull(v) {
				l.errorf(l.at(v), "%s: want a value, got null (leave the key out for no default)", w)
				return
			}
			f.Default = l.value(v)
		case "min", "max":
			if x, ok := l.number(v, w); ok {
				if key == "min" {
					f.Min = &x
				} else {
					f.Max = &x
				}
			}
		case "minLen", "maxLen", "precision", "scale":
			x, ok := l.integer(v, w)
			if !ok {
				return
			}
			if x < 0 {
				l.errorf(l.at(v), "%s must not be negative, got %d", w, x)
				return
			}
			switch key {
			case "minLen":
				f.MinLen = &x
			case "maxLen":
				f.MaxLen = &x
			case "precision":
				f.Precision = x
			case "scale":
				f.Scale = x
			}
		case "pattern":
			f.Pattern = l.str(v, w)
		case "maxSize":
			if s := l.str(v, w); s != "" {
				n, err := ParseSize(s)
				if err != nil {
					l.errorf(l.at(v), "%s: %v", w, err)
					return
				}
				f.MaxSize = n
			}
		case "multiple":
			f.Multiple = l.boolean(v, w)
		case "accept":
			for _, a := range l.strList(v, w, f, key, true) {
				f.Accept = append(f.Accept, normalizeAccept(a))
			}
		case "enum":
			f.Enum = l.str(v, w)
		case "autoNumber":
			f.AutoNumber = l.str(v, w)
		case "computed":
			f.Computed = l.expr(v, w)
		}
	})
	if !l.m.hasKey(f, "type") && (v.Kind == yaml.MappingNode || isNull(v)) {
		l.errorf(f.Pos, "%s has no type (want one of %s)", what, typeList())
	}
	return f
}

func (l *loader) relation(e *Entity, name string, k, v *yaml.Node) *Relation {
	r := &Relation{Name: name, Pos: l.at(k), Entity: e}
	what := "relation " + quote(e.Name+"."+name)
	l.mapping(v, what, relationKeys, func(key string, k, v *yaml.Node) {
		l.mark(r, key, v)
		w := what + " " + key
		switch key {
		case "label":
			r.Label = l.text(v, w)
		case "to":
			r.To = l.str(v, w)
		case "kind":
			r.Kind = RelationKind(l.str(v, w))
		case "inverse":
			r.Inverse = l.str(v, w)
		case "required":
			r.Required = l.boolean(v, w)
		case "unique":
			r.Unique = l.boolean(v, w)
		case "onDelete":
			r.OnDelete = l.str(v, w)
		}
	})
	if !l.m.hasKey(r, "to") {
		l.errorf(r.Pos, "%s has no target (add to: <Entity>)", what)
	}
	return r
}

func (l *loader) index(e *Entity, n *yaml.Node) *Index {
	x := &Index{Pos: l.at(n)}
	what := "index of entity " + quote(e.Name)
	l.mapping(n, what, indexKeys, func(key string, k, v *yaml.Node) {
		l.mark(x, key, v)
		switch key {
		case "fields":
			x.Fields = l.strList(v, what+" fields", x, "fields", false)
		case "unique":
			x.Unique = l.boolean(v, what+" unique")
		}
	})
	if n.Kind == yaml.MappingNode && len(x.Fields) == 0 && !l.m.failed(x, "fields") {
		l.errorf(x.Pos, "%s has no fields", what)
		return nil
	}
	if n.Kind != yaml.MappingNode {
		return nil
	}
	return x
}

func (l *loader) views(e *Entity, k, n *yaml.Node) *Views {
	vs := &Views{Pos: l.at(k)}
	what := "views of entity " + quote(e.Name)
	l.mapping(n, what, viewKeys, func(key string, k, v *yaml.Node) {
		w := key + " view of entity " + quote(e.Name)
		switch key {
		case "list":
			lv := &ListView{Pos: l.at(k)}
			vs.List = lv
			l.mapping(v, w, objectKeys("listView"), func(key string, k, v *yaml.Node) {
				l.mark(lv, key, v)
				switch key {
				case "columns":
					lv.Columns = l.strList(v, w+" columns", lv, key, false)
				case "filters":
					lv.Filters = l.strList(v, w+" filters", lv, key, false)
				case "sort":
					lv.Sort = l.str(v, w+" sort")
				case "pageSize":
					lv.PageSize, _ = l.integer(v, w+" pageSize")
				}
			})
		case "form":
			fv := &FormView{Pos: l.at(k)}
			vs.Form = fv
			l.mapping(v, w, objectKeys("formView"), func(key string, k, v *yaml.Node) {
				l.list(v, w+" sections", func(i int, it *yaml.Node) {
					s := &FormSection{Pos: l.at(it)}
					fv.Sections = append(fv.Sections, s)
					l.mapping(it, w+" section", objectKeys("formSection"), func(key string, k, v *yaml.Node) {
						l.mark(s, key, v)
						switch key {
						case "label":
							s.Label = l.text(v, w+" section label")
						case "fields":
							s.Fields = l.strList(v, w+" section fields", s, key, false)
						}
					})
				})
			})
		case "kanban":
			kv := &KanbanView{Pos: l.at(k)}
			vs.Kanban = kv
			l.mapping(v, w, objectKeys("kanbanView"), func(key string, k, v *yaml.Node) {
				l.mark(kv, key, v)
				switch key {
				case "groupBy":
					kv.GroupBy = l.str(v, w+" groupBy")
				case "card":
					kv.Card = l.strList(v, w+" card", kv, key, false)
				}
			})
			if !l.m.hasKey(kv, "groupBy") {
				l.errorf(kv.Pos, "%s has no groupBy (name an enum field)", w)
			}
		case "calendar":
			cv := &CalendarView{Pos: l.at(k)}
			vs.Calendar = cv
			l.mapping(v, w, objectKeys("calendarView"), func(key string, k, v *yaml.Node) {
				l.mark(cv, key, v)
				switch key {
				case "date":
					cv.Date = l.str(v, w+" date")
				case "title":
					cv.Title = l.str(v, w+" title")
				}
			})
			if !l.m.hasKey(cv, "date") {
				l.errorf(cv.Pos, "%s has no date (name a date or datetime field)", w)
			}
		}
	})
	return vs
}

func typeList() string {
	s := ""
	for i, t := range FieldTypes {
		if i > 0 {
			s += ", "
		}
		s += string(t)
	}
	return s
}
