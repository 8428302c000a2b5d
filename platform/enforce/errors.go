package enforce

import (
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/ncruces/go-sqlite3"

	"github.com/crmgen/crmgen/metamodel"
	"github.com/crmgen/crmgen/platform/attach"
)

// Rule names reported in errors (and in GraphQL error extensions), one per kind of check.
const (
	RuleRequired  = "required"
	RuleUnique    = "unique"
	RuleMin       = "min"
	RuleMax       = "max"
	RuleMinLen    = "minLen"
	RuleMaxLen    = "maxLen"
	RulePattern   = "pattern"
	RuleEmail     = "email"
	RulePhone     = "phone"
	RuleURL       = "url"
	RuleEnum      = "enum"
	RuleScale     = "scale"
	RulePrecision = "precision"
	RuleReadonly  = "readonly"
	RuleExists    = "exists"
	RuleType      = "type"
	RuleCycle     = "cycle"
	RuleWorkflow  = "workflow"         // a workflow state field written other than through a transition
	RuleOwner     = "owner"            // a record created for another user by someone who may not hand it over
	RuleMaxSize   = attach.RuleMaxSize // an attachment larger than its field's maxSize
	RuleAccept    = attach.RuleAccept  // an attachment of a type its field does not accept
	RuleFile      = attach.RuleFile    // an attachment reference to content that was never uploaded
)

// FieldError is one violated rule of one field or relation.
type FieldError struct {
	Entity string `json:"entity"`
	Field  string `json:"field"`
	Rule   string `json:"rule"`
	Msg    string `json:"message"`
	// Messages, when set, is the message in each of the users' locales: the app's own hooks
	// (platform/extension) word their refusals themselves, where the platform's rules have a catalogue.
	Messages metamodel.Text `json:"messages,omitempty"`
}

func (e *FieldError) Error() string {
	return fmt.Sprintf("%s.%s: %s (%s)", e.Entity, e.Field, e.Msg, e.Rule)
}

// ValidationError lists every violated rule of a mutation. Nothing was written.
type ValidationError struct {
	Fields []*FieldError
}

func (e *ValidationError) Error() string {
	parts := make([]string, len(e.Fields))
	for i, f := range e.Fields {
		parts[i] = f.Error()
	}
	return "invalid input: " + strings.Join(parts, "; ")
}

// ConflictError reports an update of a versioned record made from a stale version.
type ConflictError struct {
	Entity          string
	ID              any
	Expected, Found int
}

func (e *ConflictError) Error() string {
	return fmt.Sprintf("%s %v was changed by someone else (version %d, you edited version %d): reload and apply your change again",
		e.Entity, e.ID, e.Found, e.Expected)
}

// NotFoundError reports a record that does not exist or that the principal may not read: the two are
// indistinguishable on purpose, so an error never reveals a row.
type NotFoundError struct{ Entity string }

func (e *NotFoundError) Error() string { return e.Entity + " not found" }

// ForbiddenError reports an action the principal's roles do not grant on a record they may read (or on
// the entity, for create, export and import).
type ForbiddenError struct {
	Entity, Action string
}

func (e *ForbiddenError) Error() string {
	return "your roles do not allow you to " + e.Action + " " + e.Entity
}

// RestrictError reports a delete refused because other records still refer to the record.
type RestrictError struct {
	Entity    string
	Relations []string // "Contact.customer"
}

func (e *RestrictError) Error() string {
	return fmt.Sprintf("%s cannot be deleted while other records refer to it (%s has onDelete: restrict); delete or reassign those first",
		e.Entity, strings.Join(e.Relations, ", "))
}

var (
	sqliteColumns = regexp.MustCompile(`constraint failed: ([a-z0-9_]+\.[a-z0-9_]+(?:, [a-z0-9_]+\.[a-z0-9_]+)*)`)
	pgKeyColumns  = regexp.MustCompile(`Key \(([a-z0-9_, ]+)\)`)
)

// translate turns a database constraint error into an error naming the model's fields and rule. A unique
// violation names every field of the constraint (all of a composite index) and nothing else: not the
// other record, its id or its other values, which the user may not be allowed to read. Other errors are
// returned as they are.
func translate(err error, info *entityInfo, deleting bool) error {
	var (
		kind    string   // unique | notnull | fk
		columns []string // the constraint's columns, in its order
	)
	var se *sqlite3.Error
	var pe *pgconn.PgError
	switch {
	case errors.As(err, &pe):
		switch pe.Code {
		case "23505":
			kind = "unique"
		case "23502":
			kind = "notnull"
		case "23503":
			kind = "fk"
		}
		if pe.ColumnName != "" {
			columns = []string{pe.ColumnName}
		} else if mm := pgKeyColumns.FindStringSubmatch(pe.Detail); mm != nil {
			for _, c := range strings.Split(mm[1], ",") {
				columns = append(columns, strings.TrimSpace(c))
			}
		}
	case errors.As(err, &se):
		msg := se.Error()
		switch {
		case strings.Contains(msg, "UNIQUE constraint failed"):
			kind = "unique"
		case strings.Contains(msg, "NOT NULL constraint failed"):
			kind = "notnull"
		case strings.Contains(msg, "FOREIGN KEY constraint failed"):
			kind = "fk"
		}
		if mm := sqliteColumns.FindStringSubmatch(msg); mm != nil {
			for _, c := range strings.Split(mm[1], ", ") {
				_, col, _ := strings.Cut(c, ".")
				columns = append(columns, col)
			}
		}
	default:
		return err
	}
	first := ""
	if len(columns) > 0 {
		first = columns[0]
	}
	switch kind {
	case "unique":
		if len(columns) == 0 {
			columns = []string{""}
		}
		names := make([]string, len(columns))
		for i, c := range columns {
			names[i] = info.modelName(c)
		}
		msg := "another record already has this value"
		if len(names) > 1 {
			msg = "another record already has the same " + strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
		}
		ve := &ValidationError{}
		for _, name := range names {
			ve.Fields = append(ve.Fields, &FieldError{Entity: info.e.Name, Field: name, Rule: RuleUnique, Msg: msg})
		}
		return ve
	case "notnull":
		return &ValidationError{Fields: []*FieldError{{Entity: info.e.Name, Field: info.modelName(first),
			Rule: RuleRequired, Msg: "is required"}}}
	case "fk":
		if deleting {
			return &RestrictError{Entity: info.e.Name, Relations: restricting(info.e)}
		}
		return &ValidationError{Fields: []*FieldError{{Entity: info.e.Name, Field: info.modelName(first),
			Rule: RuleExists, Msg: "refers to a record that does not exist"}}}
	}
	return err
}

// modelName maps a column back to the model's field or relation name.
func (info *entityInfo) modelName(column string) string {
	if name, ok := info.cols[column]; ok {
		return name
	}
	if column == "" {
		return "?"
	}
	return metamodel.Camel(column)
}

// restricting lists the relations that refer to e with onDelete: restrict.
func restricting(e *metamodel.Entity) []string {
	var out []string
	for _, r := range referring(e, metamodel.OnDeleteRestrict) {
		out = append(out, r.Target.Name+"."+r.InverseRel.Name)
	}
	if len(out) == 0 {
		out = []string{"a reference"}
	}
	return out
}

// IsNotFound reports whether err is the generated ent package's NotFoundError, which enforce cannot
// import: it matches the type by name.
func IsNotFound(err error) bool {
	for e := err; e != nil; e = errors.Unwrap(e) {
		t := reflect.TypeOf(e)
		if t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		if t.Name() == "NotFoundError" {
			return true
		}
	}
	return false
}
