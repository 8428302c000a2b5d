package metamodel

import "gopkg.in/yaml.v3"

var appKeys = objectKeys("app")

func (l *loader) app(k, v *yaml.Node) {
	if p, ok := l.first["section app"]; ok {
		l.errorf(l.at(k), "section \"app\" is declared twice (first at %s)", p)
		return
	}
	l.first["section app"] = l.at(k)
	a := &l.m.App
	a.Pos = l.at(k)
	l.mapping(v, "app", appKeys, func(key string, k, v *yaml.Node) {
		l.mark(a, key, v)
		switch key {
		case "name":
			a.Name = l.str(v, "app.name")
		case "title":
			a.Title = l.text(v, "app.title")
		case "locales":
			a.Locales = l.strList(v, "app.locales", a, "locales", false)
		case "defaultLocale":
			a.DefaultLocale = l.str(v, "app.defaultLocale")
		case "timezone":
			a.Timezone = l.str(v, "app.timezone")
		}
	})
}

var enumKeys = objectKeys("enum")
var enumValueKeys = objectKeys("enumValue")

func (l *loader) enums(n *yaml.Node) {
	l.named(n, "enum", "enums", func(s string) string { return s }, func(name string, k, v *yaml.Node) {
		e := &Enum{Name: name, Pos: l.at(k)}
		l.m.Enums = append(l.m.Enums, e)
		what := "enum " + quote(name)
		l.mapping(v, what, enumKeys, func(key string, k, v *yaml.Node) {
			l.mark(e, key, v)
			switch key {
			case "label":
				e.Label = l.text(v, what+" label")
			case "values":
				seen := map[string]Pos{}
				l.list(v, what+" values", func(i int, it *yaml.Node) {
					ev := &EnumValue{Pos: l.at(it)}
					if it.Kind == yaml.ScalarNode && !isNull(it) {
						ev.Key = it.Value
					} else {
						l.mapping(it, what+" value", enumValueKeys, func(key string, k, v *yaml.Node) {
							l.mark(ev, key, v)
							switch key {
							case "key":
								ev.Key = l.str(v, what+" value key")
								ev.Pos = l.at(v)
							case "label":
								ev.Label = l.text(v, what+" value label")
							case "color":
								ev.Color = l.str(v, what+" value color")
							}
						})
						if !l.m.hasKey(ev, "key") && it.Kind == yaml.MappingNode {
							l.errorf(l.at(it), "%s: value has no key", what)
							return
						}
					}
					if ev.Key == "" {
						return
					}
					if p, ok := seen[ev.Key]; ok {
						l.errorf(ev.Pos, "value %q of enum %q is declared twice (first at %s)", ev.Key, name, p)
						return
					}
					seen[ev.Key] = ev.Pos
					e.Values = append(e.Values, ev)
				})
			}
		})
	})
}

func quote(s string) string { return "\"" + s + "\"" }
