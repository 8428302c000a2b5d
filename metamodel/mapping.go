package metamodel

import (
	"strings"
	"unicode"
)

// How model names map onto ent, SQL and GraphQL. The mapping is mechanical and lives here, in one place,
// so that the generator (which emits ent schemas) and the platform (which reads rows, builds filters and
// SQL for reports at run time) always agree.

// Snake turns lowerCamel or Pascal into snake_case: "birthDate" → "birth_date", "FollowUp" → "follow_up",
// "HTTPServer" → "http_server".
func Snake(s string) string {
	var b strings.Builder
	rs := []rune(s)
	for i, r := range rs {
		if unicode.IsUpper(r) {
			if i > 0 && (unicode.IsLower(rs[i-1]) || unicode.IsDigit(rs[i-1]) ||
				(i+1 < len(rs) && unicode.IsLower(rs[i+1]) && unicode.IsUpper(rs[i-1]))) {
				b.WriteByte('_')
			}
			b.WriteRune(unicode.ToLower(r))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// Camel turns snake_case into lowerCamel the way entgql names GraphQL fields: "birth_date" → "birthDate".
func Camel(s string) string {
	parts := strings.Split(s, "_")
	for i := 1; i < len(parts); i++ {
		parts[i] = Pascal(parts[i])
	}
	return strings.Join(parts, "")
}

// Pascal upper-cases the first letter: "birthDate" → "BirthDate".
func Pascal(s string) string {
	if s == "" {
		return s
	}
	rs := []rune(s)
	rs[0] = unicode.ToUpper(rs[0])
	return string(rs)
}

// LowerFirst lower-cases the first letter: "FollowUp" → "followUp".
func LowerFirst(s string) string {
	if s == "" {
		return s
	}
	rs := []rune(s)
	rs[0] = unicode.ToLower(rs[0])
	return string(rs)
}

// Plural is a small English pluralizer for identifiers: "Category" → "Categories", "Address" →
// "Addresses", "FollowUp" → "FollowUps". It only needs to be deterministic and readable.
func Plural(s string) string {
	lower := strings.ToLower(s)
	switch {
	case strings.HasSuffix(lower, "y") && len(s) > 1 && !strings.ContainsRune("aeiou", rune(lower[len(lower)-2])):
		return s[:len(s)-1] + "ies"
	case strings.HasSuffix(lower, "s"), strings.HasSuffix(lower, "x"), strings.HasSuffix(lower, "z"),
		strings.HasSuffix(lower, "ch"), strings.HasSuffix(lower, "sh"):
		return s + "es"
	}
	return s + "s"
}

// NameRoundTrips reports whether a lowerCamel name survives Snake then Camel unchanged. Names that do not
// ("isVIP" → "is_vip" → "isVip") would get a different GraphQL name than the model's, so validation
// rejects them.
func NameRoundTrips(name string) bool { return Camel(Snake(name)) == name }

// EntName is the ent field or edge name of a field or relation: snake_case.
func (f *Field) EntName() string { return Snake(f.Name) }

// Column is the SQL column of a field.
func (f *Field) Column() string { return Snake(f.Name) }

// EntName is the ent edge name of a relation end.
func (r *Relation) EntName() string { return Snake(r.Name) }

// FKField is the model-level name of the foreign-key edge field of a belongsTo relation ("department" →
// "departmentID", GraphQL field "departmentID", ent field "department_id", column "department_id").
func (r *Relation) FKField() string { return r.Name + "ID" }

// FKColumn is the SQL column (and ent field name) holding a belongsTo relation's foreign key.
func (r *Relation) FKColumn() string { return Snake(r.Name) + "_id" }

// JoinTable is the SQL table of a many-to-many relation, named from its declaring side.
func (r *Relation) JoinTable() string {
	owner := r
	if r.Derived {
		owner = r.InverseRel
	}
	return Snake(owner.Entity.Name) + "_" + Snake(owner.Name)
}

// JoinColumns are the columns of JoinTable: the declaring side's id, then the target's id.
func (r *Relation) JoinColumns() (string, string) {
	owner := r
	if r.Derived {
		owner = r.InverseRel
	}
	from, to := Snake(owner.Entity.Name)+"_id", Snake(owner.Target.Name)+"_id"
	if from == to { // self-reference
		to = Snake(owner.Name) + "_id"
	}
	return from, to
}

// Table is the SQL table of an entity: ent's default, the plural of the snake name ("follow_ups").
func (e *Entity) Table() string { return Snake(Plural(e.Name)) }

// GoName is the Go type name of the entity in the generated ent package.
func (e *Entity) GoName() string { return e.Name }

// Package is the generated ent sub-package of the entity ("FollowUp" → "followup").
func (e *Entity) Package() string { return strings.ToLower(e.Name) }

// QueryField is the GraphQL connection field on Query listing the entity: "followUps".
func (e *Entity) QueryField() string { return LowerFirst(Plural(e.Name)) }

