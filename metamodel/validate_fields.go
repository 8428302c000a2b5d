package metamodel

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
)

var patternCache sync.Map // pattern → *regexp.Regexp (nil when invalid)

// compilePattern compiles an RE2 pattern, or returns nil when there is none or it does not compile.
func compilePattern(p string) *regexp.Regexp {
	if p == "" {
		return nil
	}
	if re, ok := patternCache.Load(p); ok {
		return re.(*regexp.Regexp)
	}
	re, err := regexp.Compile(p)
	if err != nil {
		re = nil
	}
	patternCache.Store(p, re)
	return re
}

var enumKeyRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// names checks the spelling of every declared name: case conventions and reserved words.
func (b *builder) names() {
	typeName := func(kind, name string, p Pos) {
		if !isPascal(name) {
			b.errorf(p, "%s name %q must be PascalCase (rename to %q)", kind, name, pascal(name))
			return
		}
		if prob, s := typeNameProblem(name); prob != "" {
			b.errorf(p, "%s name %q %s (rename to %q)", kind, name, prob, s)
		}
	}
	member := func(kind, name, owner string, p Pos, isMember, column bool) {
		if !isLowerCamel(name) {
			b.errorf(p, "%s name %q must be lowerCamelCase (rename to %q)", kind, name, lowerCamel(name))
			return
		}
		if prob, s := memberNameProblem(name, owner, isMember, column); prob != "" {
			b.errorf(p, "%s name %q %s (rename to %q)", kind, name, prob, s)
			return
		}
		if isMember && !NameRoundTrips(name) {
			b.errorf(p, "%s name %q does not survive the mapping to snake_case and back (%s → %s; rename to %q)",
				kind, name, Snake(name), Camel(Snake(name)), Camel(Snake(name)))
		}
	}
	for _, e := range b.m.Entities {
		if e.Name != "User" && e.Name != "Team" {
			typeName("entity", e.Name, e.Pos)
		}
		for _, f := range e.Fields {
			member("field", f.Name, e.Name, f.Pos, true, true)
		}
		for _, r := range e.Relations {
			member("relation", r.Name, e.Name, r.Pos, true, false)
		}
	}
	for _, e := range b.m.Enums {
		typeName("enum", e.Name, e.Pos)
	}
	for _, w := range b.m.Workflows {
		typeName("workflow", w.Name, w.Pos)
		for _, s := range w.States {
			member("state", s.Name, "", s.Pos, false, false)
		}
		for _, t := range w.Transitions {
			member("transition", t.Name, "", t.Pos, false, false)
		}
	}
	for _, r := range b.m.Roles {
		member("role", r.Name, "", r.Pos, false, false)
	}
	for _, r := range b.m.Reports {
		member("report", r.Name, "", r.Pos, false, false)
	}
	for _, a := range b.m.Automations {
		member("automation", a.Name, "", a.Pos, false, false)
	}
	for _, d := range b.m.Dashboards {
		member("dashboard", d.Name, "", d.Pos, false, false)
	}
}

// enums checks enum values.
func (b *builder) enums() {
	for _, e := range b.m.Enums {
		if len(e.Values) == 0 {
			b.missingf(e, "values", e.Pos, "enum %q has no values", e.Name)
		}
		for _, v := range e.Values {
			switch {
			case !enumKeyRE.MatchString(v.Key):
				b.errorf(v.Pos, "enum key %q of %q is not a valid GraphQL enum value (use letters, digits and _, not starting with a digit)",
					v.Key, e.Name)
			case v.Key == "true" || v.Key == "false" || v.Key == "null":
				b.errorf(v.Pos, "enum key %q of %q is reserved in GraphQL (rename it)", v.Key, e.Name)
			}
		}
	}
}

var autoNumberTokenRE = regexp.MustCompile(`\{[^{}]*\}`)

// checkAutoNumber validates an autoNumber pattern such as 'P{yyyy}{mm}-{seq:5}'.
func checkAutoNumber(p string) string {
	seq := 0
	for _, t := range autoNumberTokenRE.FindAllString(p, -1) {
		switch inner := t[1 : len(t)-1]; {
		case inner == "yyyy" || inner == "yy" || inner == "mm" || inner == "dd":
		case inner == "seq":
			seq++
		case strings.HasPrefix(inner, "seq:"):
			n, err := strconv.Atoi(inner[4:])
			if err != nil || n < 1 || n > 18 {
				return fmt.Sprintf("invalid token %q in autoNumber pattern %q (want {seq:N} with N from 1 to 18)", t, p)
			}
			seq++
		default:
			return fmt.Sprintf("unknown token %q in autoNumber pattern %q (want {yyyy}, {yy}, {mm}, {dd}, {seq} or {seq:N})", t, p)
		}
	}
	rest := autoNumberTokenRE.ReplaceAllString(p, "")
	if strings.ContainsAny(rest, "{}") {
		return fmt.Sprintf("unbalanced braces in autoNumber pattern %q", p)
	}
	if seq != 1 {
		if seq == 0 {
			return fmt.Sprintf("autoNumber pattern %q has no {seq} (e.g. 'P{yyyy}{mm}-{seq:5}')", p)
		}
		return fmt.Sprintf("autoNumber pattern %q has more than one {seq}", p)
	}
	return ""
}

// fields checks each field's type and options, and resolves defaults.
func (b *builder) fields() {
	for _, e := range b.m.Entities {
		for _, f := range e.Fields {
			b.field(e, f)
		}
		b.renames(e)
	}
}

// renames checks renamedFrom on e and its fields: a previous name is a valid name that nothing in the
// model still uses (else the rename would take another's table or column), and no two take the same one.
func (b *builder) renames(e *Entity) {
	if old := e.RenamedFrom; old != "" {
		at := b.m.posOf(e, "renamedFrom", e.Pos)
		switch {
		case !isPascal(old):
			b.errorf(at, "renamedFrom %q of entity %q is not an entity name (PascalCase, like %q)", old, e.Name, pascal(old))
		case b.m.Entity(old) != nil:
			b.errorf(at, "entity %q is renamedFrom %q, but %q is still an entity of the model; remove one of them", e.Name, old, old)
		}
		for _, x := range b.m.Entities {
			if x != e && x.RenamedFrom == old {
				b.errorf(at, "entities %q and %q are both renamedFrom %q", x.Name, e.Name, old)
			}
		}
	}
	seen := map[string]string{}
	for _, f := range e.Fields {
		old := f.RenamedFrom
		if old == "" {
			continue
		}
		at := b.m.posOf(f, "renamedFrom", f.Pos)
		switch {
		case !isLowerCamel(old):
			b.errorf(at, "renamedFrom %q of field %q is not a field name (lowerCamelCase, like %q)", old, e.Name+"."+f.Name, lowerCamel(old))
		case e.Field(old) != nil || e.Relation(old) != nil:
			b.errorf(at, "field %q is renamedFrom %q, but %q is still a member of %q; remove one of them", f.Name, old, old, e.Name)
		case seen[old] != "":
			b.errorf(at, "fields %q and %q of %q are both renamedFrom %q", seen[old], f.Name, e.Name, old)
		}
		seen[old] = f.Name
	}
}

func (b *builder) field(e *Entity, f *Field) {
	q := e.Name + "." + f.Name
	at := func(key string) Pos { return b.m.posOf(f, key, f.Pos) }
	if !f.Type.known() {
		if f.Type != "" {
			b.errorf(at("type"), "unknown field type %q (want one of %s)", f.Type, typeList())
		}
		return
	}
	only := func(key string, ok bool, what string) {
		if b.m.hasKey(f, key) && !ok {
			b.errorf(at(key), "%s is only allowed on %s fields; field %q has type %s", key, what, q, f.Type)
		}
	}
	only("min", f.Type.numeric(), "numeric (int, float, decimal)")
	only("max", f.Type.numeric(), "numeric (int, float, decimal)")
	only("minLen", f.Type.stringy(), "string-like (string, text, email, phone, url)")
	only("maxLen", f.Type.stringy(), "string-like (string, text, email, phone, url)")
	only("pattern", f.Type.stringy(), "string-like (string, text, email, phone, url)")
	only("precision", f.Type == TypeDecimal, "decimal")
	only("scale", f.Type == TypeDecimal, "decimal")
	only("autoNumber", f.Type == TypeString, "string")
	only("maxSize", f.Type.Attachment(), "file and image")
	only("accept", f.Type.Attachment(), "file and image")
	only("multiple", f.Type.Attachment(), "file and image")
	if f.Type.Attachment() {
		b.attachment(f, q, at)
	}
	only("search", f.Type.stringy() || f.Type == TypeEnum, "string-like or enum")
	if f.Min != nil && f.Max != nil && *f.Min > *f.Max {
		b.errorf(at("min"), "min %v of field %q is greater than its max %v", *f.Min, q, *f.Max)
	}
	if f.MinLen != nil && f.MaxLen != nil && *f.MinLen > *f.MaxLen {
		b.errorf(at("minLen"), "minLen %d of field %q is greater than its maxLen %d", *f.MinLen, q, *f.MaxLen)
	}
	if f.Pattern != "" {
		if _, err := regexp.Compile(f.Pattern); err != nil {
			b.errorf(at("pattern"), "invalid pattern of field %q: %v", q, err)
		}
	}
	if f.Type == TypeDecimal {
		if f.Precision == 0 && !b.m.hasKey(f, "precision") {
			f.Precision = 18
		}
		if f.Scale == 0 && !b.m.hasKey(f, "scale") {
			f.Scale = 2
		}
		if f.Precision < 1 || f.Precision > 38 {
			b.errorf(at("precision"), "precision %d of field %q is out of range (want 1 to 38)", f.Precision, q)
		} else if f.Scale > f.Precision {
			b.errorf(at("scale"), "scale %d of field %q is greater than its precision %d", f.Scale, q, f.Precision)
		}
	}
	if f.Type == TypeEnum {
		switch {
		case f.Enum == "":
			b.missingf(f, "enum", f.Pos, "field %q has type enum but no enum (add enum: <EnumName>)", q)
		case b.enum(f.Enum) == nil:
			var names []string
			for _, en := range b.m.Enums {
				names = append(names, en.Name)
			}
			b.errorf(at("enum"), "unknown enum %q for field %q%s", f.Enum, q, didYouMean(f.Enum, names))
		default:
			f.EnumRef = b.enum(f.Enum)
		}
	} else if b.m.hasKey(f, "enum") {
		b.errorf(at("enum"), "enum is only allowed on fields of type enum; field %q has type %s", q, f.Type)
	}
	if f.Unique && (f.Type == TypeText || f.Type == TypeJSON) {
		b.errorf(at("unique"), "field %q of type %s cannot be unique (use string for a unique value)", q, f.Type)
	}
	if f.AutoNumber != "" && f.Type == TypeString {
		if p := checkAutoNumber(f.AutoNumber); p != "" {
			b.errorf(at("autoNumber"), "%s", p)
		}
	}
	if !f.Computed.IsZero() {
		for _, k := range []string{"default", "autoNumber", "unique", "required"} {
			if b.m.hasKey(f, k) {
				b.errorf(at(k), "field %q is computed, so it cannot have %s", q, k)
			}
		}
	} else if f.Stored {
		b.errorf(at("stored"), "stored is only for computed fields; field %q is not computed", q)
	}
	if f.AutoNumber != "" && f.Default != nil {
		b.errorf(at("default"), "field %q has an autoNumber, so it cannot have a default", q)
	}
	if f.Readonly && f.Required && !f.System && f.Default == nil && f.AutoNumber == "" && f.Computed.IsZero() &&
		f.StateOf == "" {
		b.warnf(f.Pos, "field %q is readonly and required but has no default, autoNumber or computed value, so records cannot be created through forms",
			q)
	}
	if f.Default != nil && b.m.hasKey(f, "default") {
		v, problem := coerce(f, f.Default)
		if problem == "" {
			problem = constraints(f, v)
		}
		if problem != "" {
			b.errorf(at("default"), "default of field %q: %s", q, problem)
			f.Default = nil
		} else {
			f.Default = v
		}
	}
}

// durationRE is a model duration: a number and a unit m, h, d or w.
var durationRE = regexp.MustCompile(`^(\d+)(m|h|d|w)$`)

// ParseDuration parses a model duration such as 30m, 72h, 90d or 2w.
func ParseDuration(s string) (time.Duration, error) {
	m := durationRE.FindStringSubmatch(s)
	if m == nil {
		return 0, fmt.Errorf("invalid duration %q (want a number and m, h, d or w, such as 30m, 72h, 90d or 2w)", s)
	}
	n, err := strconv.ParseInt(m[1], 10, 64)
	if err != nil || n > 1<<20 {
		return 0, fmt.Errorf("duration %q is too long", s)
	}
	unit := map[string]time.Duration{"m": time.Minute, "h": time.Hour, "d": 24 * time.Hour, "w": 7 * 24 * time.Hour}[m[2]]
	return time.Duration(n) * unit, nil
}
