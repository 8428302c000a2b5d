package metamodel

import (
	"regexp"
	"sort"
	"strings"
	"time"
)

// builder resolves and validates a loaded model.
type builder struct {
	diags
	m *Model
}

// Build resolves a loaded model and validates it: it adds the built-in entities User and Team, applies
// traits and defaults, derives the inverse side of every relation, creates workflow state fields, flattens
// role inheritance, type-checks every expression and checks every reference. It reports all errors as an
// ErrorList; warnings go to m.Warnings. On success the model is linked and must not be modified afterwards.
//
// A model that Load reported errors for is validated too, and its list starts from Load's errors, so
// callers get every problem of a model in one run by calling Build whenever Load returned a model. Build
// leaves out what follows from a problem Load reported (a value at the same position, or a key whose value
// did not decode reported as missing). When a file was not valid YAML, or declarations were not a mapping,
// Build reports Load's errors alone: what they declare is missing, and every use of it would be reported.
func Build(m *Model) (*Model, error) {
	if m == nil {
		return nil, ErrorList{{Msg: "no model to build"}}
	}
	if m.built {
		return m, nil
	}
	if m.incomplete {
		return m, m.loadErrs
	}
	if m.src == nil {
		m.src = map[any]srcPos{}
	}
	if m.Sections == nil {
		m.Sections = map[string]Pos{}
	}
	m.envs = newEnvCache()
	b := &builder{m: m}
	b.app()
	b.names()
	b.builtins()
	sort.SliceStable(m.Entities, func(i, j int) bool { return m.Entities[i].Name < m.Entities[j].Name })
	b.traits()
	b.stateFields()
	sort.SliceStable(m.Enums, func(i, j int) bool { return m.Enums[i].Name < m.Enums[j].Name })
	b.reindex()
	b.enums()
	b.fields()
	b.relations()
	b.reindex()
	b.members()
	b.generatedNames()
	b.entityDefaults()
	b.indexesAndViews()
	b.roles()
	b.functions()
	b.computedFields()
	b.computedReads()
	b.workflows()
	b.automations()
	b.reports()
	b.dashboards()
	b.data()
	b.locales()
	sort.SliceStable(m.Roles, func(i, j int) bool { return m.Roles[i].Name < m.Roles[j].Name })
	sort.SliceStable(m.Workflows, func(i, j int) bool { return m.Workflows[i].Name < m.Workflows[j].Name })
	sort.SliceStable(m.Automations, func(i, j int) bool { return m.Automations[i].Name < m.Automations[j].Name })
	sort.SliceStable(m.Reports, func(i, j int) bool { return m.Reports[i].Name < m.Reports[j].Name })
	sort.SliceStable(m.Dashboards, func(i, j int) bool { return m.Dashboards[i].Name < m.Dashboards[j].Name })
	errs := b.afterLoad(b.sorted())
	m.Warnings = b.warns
	if len(m.loadErrs) > 0 {
		m.Warnings = nil // the model is not usable; its errors come first
	}
	if len(errs) > 0 {
		return m, errs
	}
	if err := m.link(); err != nil {
		return m, ErrorList{{Msg: err.Error()}}
	}
	m.built = true
	return m, nil
}

// missingf reports that element x has nothing under key, unless Load already reported a problem in the
// value written there.
func (b *builder) missingf(x any, key string, pos Pos, format string, args ...any) {
	if !b.m.failed(x, key) {
		b.errorf(pos, format, args...)
	}
}

// afterLoad returns Load's errors with Build's errors, leaving out those at a position Load already
// reported: they are about a value that did not decode (its zero value, or a half-decoded list item).
func (b *builder) afterLoad(errs ErrorList) ErrorList {
	if len(b.m.loadErrs) == 0 {
		return errs
	}
	at := map[Pos]bool{}
	for _, e := range b.m.loadErrs {
		at[e.Pos] = true
	}
	all := append(ErrorList{}, b.m.loadErrs...)
	for _, e := range errs {
		if !at[e.Pos] {
			all = append(all, e)
		}
	}
	all.Sort()
	return all
}

// reindex builds the lookup maps without failing on dangling names (Build reports those with positions).
func (b *builder) reindex() {
	m := b.m
	m.enumByName = map[string]*Enum{}
	for _, e := range m.Enums {
		if _, ok := m.enumByName[e.Name]; !ok {
			m.enumByName[e.Name] = e
		}
	}
	m.entityByName = map[string]*Entity{}
	for _, e := range m.Entities {
		if _, ok := m.entityByName[e.Name]; !ok {
			m.entityByName[e.Name] = e
		}
		e.fieldByName = map[string]*Field{}
		for _, f := range e.Fields {
			f.Entity = e
			if _, ok := e.fieldByName[f.Name]; !ok {
				e.fieldByName[f.Name] = f
			}
		}
		e.relationByName = map[string]*Relation{}
		for _, r := range e.Relations {
			r.Entity = e
			if _, ok := e.relationByName[r.Name]; !ok {
				e.relationByName[r.Name] = r
			}
		}
	}
	for _, e := range m.Entities {
		for _, f := range e.Fields {
			if f.Type == TypeEnum {
				f.EnumRef = m.enumByName[f.Enum]
			}
		}
		for _, r := range e.Relations {
			r.Target = m.entityByName[r.To]
		}
	}
	for _, e := range m.Entities {
		for _, r := range e.Relations {
			if r.Target != nil {
				r.InverseRel = r.Target.relationByName[r.Inverse]
			}
		}
	}
	m.roleByName = map[string]*Role{}
	for _, r := range m.Roles {
		m.roleByName[r.Name] = r
	}
	m.workflowByName = map[string]*Workflow{}
	for _, w := range m.Workflows {
		m.workflowByName[w.Name] = w
		w.EntityRef = m.entityByName[w.Entity]
	}
	m.reportByName = map[string]*Report{}
	for _, r := range m.Reports {
		m.reportByName[r.Name] = r
	}
}

var (
	appNameRE = regexp.MustCompile(`^(?:[a-z][a-zA-Z0-9]*|[a-z][a-z0-9]*(?:-[a-z0-9]+)+)$`)
	localeRE  = regexp.MustCompile(`^[a-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})*$`)
)

// app checks the app section and fills its defaults.
func (b *builder) app() {
	a := &b.m.App
	if _, ok := b.m.Sections["app"]; !ok {
		b.errorf(b.firstPos(), "the model has no app section (add app: {name: ...})")
	} else if a.Name == "" {
		b.missingf(a, "name", a.Pos, "app has no name (add name: a lowerCamel or kebab-case name)")
	} else if !appNameRE.MatchString(a.Name) {
		b.errorf(b.m.posOf(a, "name", a.Pos), "app name %q must be lowerCamel or kebab-case (rename to %q)",
			a.Name, kebab(a.Name))
	}
	for i, l := range a.Locales {
		if !localeRE.MatchString(l) {
			b.errorf(b.m.posOf(a, "locales."+itoa(i), a.Pos), "invalid locale %q (want a language code such as zh, en or pt-BR)", l)
		}
		for _, o := range a.Locales[:i] {
			if o == l {
				b.errorf(b.m.posOf(a, "locales."+itoa(i), a.Pos), "locale %q is listed twice", l)
			}
		}
	}
	if a.DefaultLocale != "" && !localeRE.MatchString(a.DefaultLocale) {
		b.errorf(b.m.posOf(a, "defaultLocale", a.Pos), "invalid locale %q (want a language code such as zh, en or pt-BR)", a.DefaultLocale)
	}
	switch {
	case len(a.Locales) == 0 && a.DefaultLocale != "":
		a.Locales = []string{a.DefaultLocale}
	case len(a.Locales) == 0:
		a.Locales = []string{"en"}
	}
	if a.Timezone != "" {
		if _, err := time.LoadLocation(a.Timezone); err != nil || a.Timezone == "Local" {
			b.errorf(b.m.posOf(a, "timezone", a.Pos), "unknown time zone %q (want an IANA name such as Asia/Shanghai, Europe/Berlin or UTC)", a.Timezone)
		}
	}
	if a.DefaultLocale == "" {
		a.DefaultLocale = a.Locales[0]
	} else if !contains(a.Locales, a.DefaultLocale) {
		b.errorf(b.m.posOf(a, "defaultLocale", a.Pos), "defaultLocale %q is not in app.locales (%s)",
			a.DefaultLocale, strings.Join(a.Locales, ", "))
	}
}

// firstPos is the start of the first model file, for problems that belong to no element.
func (b *builder) firstPos() Pos {
	var best Pos
	for _, p := range b.m.Sections {
		if best.File == "" || p.File < best.File {
			best = Pos{File: p.File, Line: 1, Col: 1}
		}
	}
	return best
}

func kebab(s string) string {
	ws := words(s)
	for i := range ws {
		ws[i] = strings.ToLower(ws[i])
	}
	out := strings.Join(ws, "-")
	if out == "" || out[0] < 'a' || out[0] > 'z' {
		out = "app" + out
	}
	return out
}

// locales warns about labels keyed by a locale the app does not list.
func (b *builder) locales() {
	for _, t := range b.m.texts {
		for _, l := range sortedKeys(t.keys) {
			if !contains(b.m.App.Locales, l) {
				b.warnf(t.keys[l], "locale %q is not in app.locales (%s)", l, strings.Join(b.m.App.Locales, ", "))
			}
		}
	}
}

func itoa(i int) string {
	const digits = "0123456789"
	if i < 10 {
		return digits[i : i+1]
	}
	return itoa(i/10) + digits[i%10:i%10+1]
}

// systemLabels label the fields and relations traits add.
var systemLabels = map[string]Text{
	"createdAt": {"zh": "创建时间", "en": "Created at"},
	"updatedAt": {"zh": "更新时间", "en": "Updated at"},
	"deletedAt": {"zh": "删除时间", "en": "Deleted at"},
	"version":   {"zh": "版本", "en": "Version"},
	"owner":     {"zh": "负责人", "en": "Owner"},
}

// traits checks trait names, applies the default traits and adds the fields and relations traits imply.
func (b *builder) traits() {
	for _, e := range b.m.Entities {
		if !e.Builtin && !b.m.hasKey(e, "traits") {
			e.Traits = append([]string(nil), DefaultTraits...)
		}
		if e.Traits == nil {
			e.Traits = []string{}
		}
		var ok []string
		for i, t := range e.Traits {
			p := b.m.posOf(e, "traits."+itoa(i), e.Pos)
			switch {
			case !contains(Traits, t):
				b.errorf(p, "unknown trait %q%s", t, hint(t, Traits))
			case contains(ok, t):
				b.errorf(p, "trait %q is listed twice", t)
			default:
				ok = append(ok, t)
			}
		}
		e.Traits = ok
		if ok == nil {
			e.Traits = []string{}
		}
		add := func(trait string, f *Field) {
			if old := fieldIn(e.Fields, f.Name); old != nil {
				b.errorf(old.Pos, "field %q collides with the field the %q trait adds (rename it or drop the trait)",
					e.Name+"."+f.Name, trait)
				return
			}
			if old := relIn(e.Relations, f.Name); old != nil {
				b.errorf(old.Pos, "relation %q collides with the field the %q trait adds (rename it or drop the trait)",
					e.Name+"."+f.Name, trait)
				return
			}
			f.Entity, f.System, f.Label = e, true, systemLabels[f.Name]
			e.Fields = append(e.Fields, f)
		}
		if e.Has(TraitTimestamps) {
			add(TraitTimestamps, &Field{Name: "createdAt", Type: TypeDateTime, Readonly: true})
			add(TraitTimestamps, &Field{Name: "updatedAt", Type: TypeDateTime, Readonly: true})
		}
		if e.Has(TraitSoftDelete) {
			add(TraitSoftDelete, &Field{Name: "deletedAt", Type: TypeDateTime})
		}
		if e.Has(TraitVersioned) {
			add(TraitVersioned, &Field{Name: "version", Type: TypeInt, Default: int64(1)})
		}
		if e.Has(TraitOwner) {
			if f := fieldIn(e.Fields, "owner"); f != nil {
				b.errorf(f.Pos, "field %q collides with the relation the \"owner\" trait adds (rename it or drop the trait)",
					e.Name+".owner")
			} else if relIn(e.Relations, "owner") == nil {
				e.Relations = append(e.Relations, &Relation{Name: "owner", To: "User", Kind: BelongsTo,
					OnDelete: OnDeleteSetNull, System: true, Entity: e, Label: systemLabels["owner"]})
			}
		}
	}
}

// stateFields resolves each workflow's entity and creates (or checks) its state field and enum.
func (b *builder) stateFields() {
	byField := map[string]*Workflow{}
	for _, w := range b.m.Workflows {
		e := b.entity(w.Entity)
		if w.Entity == "" {
			b.missingf(w, "entity", w.Pos, "workflow %q has no entity", w.Name)
			continue
		}
		if e == nil {
			b.errorf(b.m.posOf(w, "entity", w.Pos), "unknown entity %q for workflow %q%s", w.Entity, w.Name,
				didYouMean(w.Entity, b.entityNames()))
			continue
		}
		w.EntityRef = e
		if w.Field == "" {
			w.Field = "status"
		}
		fp := b.m.posOf(w, "field", w.Pos)
		if !isLowerCamel(w.Field) || !NameRoundTrips(w.Field) {
			b.errorf(fp, "state field name %q of workflow %q must be lowerCamelCase (rename to %q)", w.Field, w.Name,
				Camel(Snake(lowerCamel(w.Field))))
			continue
		}
		if p, s := memberNameProblem(w.Field, w.Entity, true, true); p != "" {
			b.errorf(fp, "state field name %q of workflow %q %s (rename to %q)", w.Field, w.Name, p, s)
			continue
		}
		if o, ok := byField[w.Entity+"."+w.Field]; ok {
			b.errorf(fp, "workflows %q and %q both use field %q (set field: to another name)", o.Name, w.Name,
				w.Entity+"."+w.Field)
			continue
		}
		byField[w.Entity+"."+w.Field] = w
		if len(w.States) == 0 {
			b.missingf(w, "states", w.Pos, "workflow %q has no states", w.Name)
			continue
		}
		var keys []string
		for _, s := range w.States {
			keys = append(keys, s.Name)
		}
		if w.Initial == "" {
			b.missingf(w, "initial", w.Pos, "workflow %q has no initial state (want one of %s)", w.Name, strings.Join(keys, ", "))
		} else if !contains(keys, w.Initial) {
			b.errorf(b.m.posOf(w, "initial", w.Pos), "unknown initial state %q of workflow %q%s", w.Initial, w.Name,
				hint(w.Initial, keys))
		}
		if f := fieldIn(e.Fields, w.Field); f != nil {
			f.StateOf = w.Name
			if f.Type != TypeEnum {
				b.errorf(f.Pos, "field %q holds the states of workflow %q, so it must have type enum (or leave it out to have it created)",
					e.Name+"."+f.Name, w.Name)
				continue
			}
			en := b.enum(f.Enum)
			if en == nil {
				continue // reported with the field
			}
			var have []string
			for _, v := range en.Values {
				have = append(have, v.Key)
			}
			missing, extra := diff(keys, have), diff(have, keys)
			if len(missing)+len(extra) > 0 {
				msg := ""
				if len(missing) > 0 {
					msg += "; missing " + strings.Join(missing, ", ")
				}
				if len(extra) > 0 {
					msg += "; not states: " + strings.Join(extra, ", ")
				}
				b.errorf(b.m.posOf(f, "enum", f.Pos), "enum %q of state field %q must have exactly the states of workflow %q%s",
					en.Name, e.Name+"."+f.Name, w.Name, msg)
			}
			continue
		}
		if r := relIn(e.Relations, w.Field); r != nil {
			b.errorf(fp, "state field %q of workflow %q collides with relation %q (set field: to another name)",
				w.Field, w.Name, e.Name+"."+r.Name)
			continue
		}
		enumName := w.Name + "State"
		if old := b.enum(enumName); old != nil {
			b.errorf(w.Pos, "workflow %q needs enum %q for its states, but an enum of that name is declared at %s (rename one)",
				w.Name, enumName, old.Pos)
			continue
		}
		en := &Enum{Name: enumName, Label: w.Label, Pos: w.Pos}
		for _, s := range w.States {
			en.Values = append(en.Values, &EnumValue{Key: s.Name, Label: s.Label, Color: s.Color, Pos: s.Pos})
		}
		b.m.Enums = append(b.m.Enums, en)
		label := w.Label
		if len(label) == 0 {
			label = Text{"zh": "状态", "en": "Status"}
		}
		var def any
		if contains(keys, w.Initial) {
			def = w.Initial
		}
		f := &Field{Name: w.Field, Label: label, Type: TypeEnum, Enum: enumName, EnumRef: en, Required: true,
			Default: def, System: true, StateOf: w.Name, Entity: e, Pos: fp}
		// Keep the state field before the trait fields (timestamps and the like).
		at := len(e.Fields)
		for at > 0 && e.Fields[at-1].System && e.Fields[at-1].StateOf == "" && systemLabels[e.Fields[at-1].Name] != nil {
			at--
		}
		e.Fields = append(e.Fields[:at], append([]*Field{f}, e.Fields[at:]...)...)
	}
}

// diff returns the items of a not in b.
func diff(a, b []string) []string {
	var out []string
	for _, x := range a {
		if !contains(b, x) {
			out = append(out, x)
		}
	}
	return out
}

func (b *builder) entity(name string) *Entity {
	for _, e := range b.m.Entities {
		if e.Name == name {
			return e
		}
	}
	return nil
}

func (b *builder) enum(name string) *Enum {
	for _, e := range b.m.Enums {
		if e.Name == name {
			return e
		}
	}
	return nil
}

func (b *builder) entityNames() []string {
	var out []string
	for _, e := range b.m.Entities {
		out = append(out, e.Name)
	}
	return out
}

func (b *builder) roleNames() []string {
	var out []string
	for _, r := range b.m.Roles {
		out = append(out, r.Name)
	}
	return out
}

// entityDefaults resolves ownerField and display.
func (b *builder) entityDefaults() {
	for _, e := range b.m.Entities {
		if e.OwnerField != "" {
			r := e.Relation(e.OwnerField)
			switch {
			case r == nil:
				b.errorf(b.m.posOf(e, "ownerField", e.Pos), "unknown ownerField %q of entity %q (want a belongsTo relation to User%s)",
					e.OwnerField, e.Name, orMeant(e.OwnerField, userRelations(e)))
			case r.Kind != BelongsTo || r.To != "User":
				b.errorf(b.m.posOf(e, "ownerField", e.Pos), "ownerField %q of entity %q must be a belongsTo relation to User",
					e.OwnerField, e.Name)
			}
		} else if e.Has(TraitOwner) {
			if r := e.Relation("owner"); r != nil && r.Kind == BelongsTo && r.To == "User" {
				e.OwnerField = "owner"
			} else if r != nil {
				b.errorf(r.Pos, "relation %q must be a belongsTo relation to User, because the \"owner\" trait uses it", e.Name+".owner")
			}
		}
		if e.Display != "" {
			if e.Field(e.Display) == nil {
				b.errorf(b.m.posOf(e, "display", e.Pos), "unknown display field %q of entity %q%s", e.Display, e.Name,
					didYouMean(e.Display, fieldNames(e)))
			}
			continue
		}
		for _, f := range e.Fields {
			if f.AutoNumber != "" {
				e.Display = f.Name
				break
			}
		}
		if e.Display == "" {
			for _, f := range e.Fields {
				if f.Type.stringy() && !f.Secret && f.Type != TypeText {
					e.Display = f.Name
					break
				}
			}
		}
	}
}

func orMeant(s string, cands []string) string {
	if c := closest(s, cands); c != "" {
		return "; did you mean \"" + c + "\"?"
	}
	return ""
}

func userRelations(e *Entity) []string {
	var out []string
	for _, r := range e.Relations {
		if r.Kind == BelongsTo && r.To == "User" {
			out = append(out, r.Name)
		}
	}
	return out
}

func fieldNames(e *Entity) []string {
	var out []string
	for _, f := range e.Fields {
		out = append(out, f.Name)
	}
	return out
}

func memberNames(e *Entity) []string {
	out := fieldNames(e)
	for _, r := range e.Relations {
		out = append(out, r.Name)
	}
	return out
}

// Stringy reports whether values of the type are strings in the database (string, email, phone, url, text).
func (t FieldType) Stringy() bool { return t.stringy() }

// stringy reports whether values of the type are strings in the database (string, email, phone, url, text).
func (t FieldType) stringy() bool {
	switch t {
	case TypeString, TypeText, TypeEmail, TypePhone, TypeURL:
		return true
	}
	return false
}

// numeric reports whether the type is int, float or decimal.
func (t FieldType) numeric() bool {
	return t == TypeInt || t == TypeFloat || t == TypeDecimal
}

// known reports whether the type is one of FieldTypes.
func (t FieldType) known() bool {
	for _, x := range FieldTypes {
		if x == t {
			return true
		}
	}
	return false
}
