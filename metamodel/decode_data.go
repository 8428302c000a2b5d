package metamodel

import (
	"strconv"

	"gopkg.in/yaml.v3"
)

// data reads the data section: `users` and per-entity record lists. Sections from several files merge:
// records of the same entity are appended in file order.
func (l *loader) data(k, n *yaml.Node) {
	if l.m.Data == nil {
		l.m.Data = &Data{Pos: l.at(k)}
	}
	d := l.m.Data
	l.mapping(n, "data", nil, func(ent string, k, v *yaml.Node) {
		if ent == "users" {
			l.list(v, "data.users", func(i int, it *yaml.Node) {
				if r := l.record("data.users["+strconv.Itoa(i)+"]", it); r != nil {
					d.Users = append(d.Users, r)
				}
			})
			return
		}
		var set *DataSet
		for _, s := range d.Sets {
			if s.Entity == ent {
				set = s
			}
		}
		if set == nil {
			set = &DataSet{Entity: ent, Pos: l.at(k)}
			d.Sets = append(d.Sets, set)
		}
		l.list(v, "data."+ent, func(i int, it *yaml.Node) {
			if r := l.record("data."+ent+"["+strconv.Itoa(i)+"]", it); r != nil {
				set.Records = append(set.Records, r)
			}
		})
	})
}

// record reads one data record; `_key` becomes the record's key, other keys its values in source order.
func (l *loader) record(what string, n *yaml.Node) *Record {
	if n.Kind != yaml.MappingNode {
		l.errorf(l.at(n), "%s: want a mapping of field to value, got %s", what, describe(n))
		return nil
	}
	r := &Record{Pos: l.at(n), Values: []*FieldValue{}}
	l.mapping(n, what, nil, func(name string, k, v *yaml.Node) {
		if name == "_key" {
			r.Key = l.str(v, what+" _key")
			l.mark(r, "_key", v)
			return
		}
		fv := &FieldValue{Name: name, Value: l.value(v), Pos: l.at(k)}
		l.mark(fv, "value", v)
		l.markItems(fv, "value", v)
		r.Values = append(r.Values, fv)
	})
	return r
}

// markItems records the positions of the items of a list value.
func (l *loader) markItems(x any, key string, n *yaml.Node) {
	n = deref(n)
	if n.Kind != yaml.SequenceNode {
		return
	}
	for i, it := range n.Content {
		l.mark(x, key+"."+strconv.Itoa(i), deref(it))
	}
}
