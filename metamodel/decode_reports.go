package metamodel

import (
	"regexp"

	"gopkg.in/yaml.v3"
)

var (
	reportKeys    = objectKeys("report")
	dashboardKeys = objectKeys("dashboard")
)

var measureRE = regexp.MustCompile(`^\s*([A-Za-z]+)\s*(?:\(\s*([A-Za-z_][A-Za-z0-9_]*)?\s*\))?\s*$`)

func (l *loader) reports(n *yaml.Node) {
	l.named(n, "report", "reports", func(s string) string { return s }, func(name string, k, v *yaml.Node) {
		r := &Report{Name: name, Pos: l.at(k)}
		l.m.Reports = append(l.m.Reports, r)
		what := "report " + quote(name)
		l.mapping(v, what, reportKeys, func(key string, k, v *yaml.Node) {
			l.mark(r, key, v)
			w := what + " " + key
			switch key {
			case "label":
				r.Label = l.text(v, w)
			case "kind":
				r.Kind = l.str(v, w)
			case "entity":
				r.Entity = l.str(v, w)
			case "groupBy":
				l.list(v, w, func(i int, it *yaml.Node) {
					g := &GroupBy{Pos: l.at(it)}
					if it.Kind == yaml.ScalarNode {
						g.Field = l.str(it, w)
					} else {
						l.mapping(it, w, objectKeys("groupBy"), func(key string, k, v *yaml.Node) {
							l.mark(g, key, v)
							switch key {
							case "field":
								g.Field = l.str(v, w+" field")
								g.Pos = l.at(v)
							case "bucket":
								g.Bucket = l.str(v, w+" bucket")
							case "bands":
								l.list(v, w+" bands", func(_ int, b *yaml.Node) { g.Bands = append(g.Bands, l.str(b, w+" bands")) })
							}
						})
						if it.Kind == yaml.MappingNode && !l.m.hasKey(g, "field") {
							l.errorf(g.Pos, "%s: item has no field", w)
							return
						}
					}
					if g.Field != "" {
						r.GroupBy = append(r.GroupBy, g)
					}
				})
			case "measures":
				l.list(v, w, func(i int, it *yaml.Node) {
					s := l.str(it, w)
					if s == "" {
						return
					}
					mt := measureRE.FindStringSubmatch(s)
					if mt == nil {
						l.errorf(l.at(it), "invalid measure %q (want count, count(f), sum(f), avg(f), min(f) or max(f))", s)
						return
					}
					r.Measures = append(r.Measures, &Measure{Func: mt[1], Field: mt[2], Pos: l.at(it)})
				})
			case "where":
				r.Where = l.expr(v, w)
			case "chart":
				r.Chart = l.str(v, w)
			case "events":
				ev := &Events{Pos: l.at(k)}
				r.Events = ev
				l.mapping(v, w, objectKeys("events"), func(key string, k, v *yaml.Node) {
					l.mark(ev, key, v)
					switch key {
					case "entity":
						ev.Entity = l.str(v, w+" entity")
					case "by":
						ev.By = l.str(v, w+" by")
					case "date":
						ev.Date = l.str(v, w+" date")
					case "amount":
						ev.Amount = l.str(v, w+" amount")
					}
				})
			case "buckets":
				r.Buckets = map[string]string{}
				l.mapping(v, w, nil, func(b string, k, v *yaml.Node) {
					l.mark(r, "buckets."+b, v)
					r.Buckets[b] = l.str(v, w+"."+b)
				})
			case "transactions":
				tx := &Transactions{Pos: l.at(k)}
				r.Transactions = tx
				l.mapping(v, w, objectKeys("transactions"), func(key string, k, v *yaml.Node) {
					l.mark(tx, key, v)
					switch key {
					case "entity":
						tx.Entity = l.str(v, w+" entity")
					case "basket":
						tx.Basket = l.str(v, w+" basket")
					case "item":
						tx.Item = l.str(v, w+" item")
					}
				})
			case "minSupport":
				r.MinSupport, _ = l.number(v, w)
			case "minConfidence":
				r.MinConfidence, _ = l.number(v, w)
			case "workflow":
				r.Workflow = l.str(v, w)
			case "states":
				r.States = l.strList(v, w, r, key, false)
			case "target":
				if v.Kind == yaml.MappingNode {
					l.mapping(v, w, objectKeys("targetReport"), func(key string, k, v *yaml.Node) {
						r.TargetReport = l.str(v, w+" report")
					})
				} else {
					r.Target = l.str(v, w)
				}
			case "features":
				r.Features = l.strList(v, w, r, key, false)
			case "maxDepth":
				r.MaxDepth, _ = l.integer(v, w)
			case "params":
				l.named(v, "parameter", w, func(s string) string { return name + "." + s }, func(name string, k, v *yaml.Node) {
					p := &Param{Name: name, Pos: l.at(k)}
					r.Params = append(r.Params, p)
					pw := w + " " + name
					l.mapping(v, pw, objectKeys("param"), func(key string, k, v *yaml.Node) {
						l.mark(p, key, v)
						switch key {
						case "type":
							p.Type = FieldType(l.str(v, pw+" type"))
						case "enum":
							p.Enum = l.str(v, pw+" enum")
						case "label":
							p.Label = l.text(v, pw+" label")
						}
					})
				})
			}
		})
	})
}

func (l *loader) dashboards(n *yaml.Node) {
	l.named(n, "dashboard", "dashboards", func(s string) string { return s }, func(name string, k, v *yaml.Node) {
		d := &Dashboard{Name: name, Pos: l.at(k)}
		l.m.Dashboards = append(l.m.Dashboards, d)
		what := "dashboard " + quote(name)
		l.mapping(v, what, dashboardKeys, func(key string, k, v *yaml.Node) {
			l.mark(d, key, v)
			switch key {
			case "label":
				d.Label = l.text(v, what+" label")
			case "roles":
				d.Roles = l.strList(v, what+" roles", d, key, true)
			case "reports":
				d.Reports = l.strList(v, what+" reports", d, key, true)
			}
		})
	})
}
