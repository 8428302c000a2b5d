package enforce

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/mail"
	"net/url"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"entgo.io/ent"

	"github.com/crmgen/crmgen/metamodel"
	"github.com/crmgen/crmgen/platform/attach"
	"github.com/crmgen/crmgen/platform/auth"
	"github.com/crmgen/crmgen/platform/database"
)

var (
	phonePattern = regexp.MustCompile(`^\+?[0-9][0-9 ()\-]{4,22}[0-9]$`)
	patterns     sync.Map // pattern source → *regexp.Regexp
)

func compiled(p string) *regexp.Regexp {
	if re, ok := patterns.Load(p); ok {
		return re.(*regexp.Regexp)
	}
	re := regexp.MustCompile(p) // validated when the model was built
	patterns.Store(p, re)
	return re
}

// applyDefaults fills what ent's static defaults cannot: date, datetime and JSON defaults and autoNumber
// fields. It returns the names of the fields it set, which validation then treats as the system's.
func (rt *Runtime) applyDefaults(ctx context.Context, info *entityInfo, m ent.Mutation) (map[string]bool, error) {
	set := map[string]bool{}
	for _, f := range info.e.Fields {
		if _, ok := m.Field(f.EntName()); ok {
			continue
		}
		set[f.Name] = true
		switch {
		case f.AutoNumber != "":
			v, err := rt.nextNumber(ctx, m, info.e, f, time.Now().In(rt.Model.App.Location())) // {yyyy}{mm}{dd} of the app's calendar
			if err != nil {
				return nil, err
			}
			if err := m.SetField(f.EntName(), v); err != nil {
				return nil, err
			}
		case f.Default != nil && (f.Type == metamodel.TypeDate || f.Type == metamodel.TypeDateTime):
			s, _ := f.Default.(string)
			t, err := ParseTime(s, rt.Model.App.Location())
			if err != nil {
				return nil, fmt.Errorf("%s.%s: default: %w", info.e.Name, f.Name, err)
			}
			if err := m.SetField(f.EntName(), t); err != nil {
				return nil, err
			}
		case f.Default != nil && f.Type == metamodel.TypeJSON:
			b, err := json.Marshal(f.Default)
			if err != nil {
				return nil, err
			}
			if err := m.SetField(f.EntName(), json.RawMessage(b)); err != nil {
				return nil, err
			}
		default:
			delete(set, f.Name)
		}
	}
	return set, nil
}

// days sets each date field the mutation sets to its database.Day in the app's zone.
func (rt *Runtime) days(info *entityInfo, m ent.Mutation) error {
	for _, f := range info.e.Fields {
		if f.Type != metamodel.TypeDate {
			continue
		}
		if v, ok := m.Field(f.EntName()); ok {
			if t, ok := v.(time.Time); ok {
				if err := m.SetField(f.EntName(), database.Day(t, rt.Model.App.Location())); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// ParseTime reads a date ("2006-01-02"), a datetime in RFC 3339, or "2006-01-02 15:04[:05]". A value
// without an offset is a time of loc, the app's zone (metamodel.App.Location): a date is its midnight
// there, whatever zone the server runs in.
func ParseTime(s string, loc *time.Location) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02 15:04", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a date (2006-01-02) or datetime (2006-01-02T15:04:05Z07:00)", s)
}

// validate checks every value the mutation sets against the model's rules and collects all violations.
// Dates it sets become their database.Day first, so SQLite keeps the instant Postgres reads back.
func (rt *Runtime) validate(ctx context.Context, info *entityInfo, m ent.Mutation, create bool, bySystem map[string]bool) error {
	if err := rt.days(info, m); err != nil {
		return err
	}
	var errs []*FieldError
	add := func(field, rule, format string, args ...any) {
		errs = append(errs, &FieldError{Entity: info.e.Name, Field: field, Rule: rule, Msg: fmt.Sprintf(format, args...)})
	}
	system := IsSystem(ctx)
	for _, f := range info.e.Fields {
		if f.Computed.Src != "" && !f.Stored {
			continue
		}
		v, set := m.Field(f.EntName())
		if !set {
			if create && f.Required && f.Default == nil && f.AutoNumber == "" && f.Computed.Src == "" && !f.System {
				add(f.Name, RuleRequired, "is required")
			}
			continue
		}
		if !system && !f.System && !bySystem[f.Name] && (f.Readonly || f.AutoNumber != "" || f.Computed.Src != "") &&
			!(create && f.Default != nil && equalDefault(f, v)) {
			add(f.Name, RuleReadonly, "is set by the system and cannot be written")
			continue
		}
		if msg, rule := checkValue(f, v); rule != "" {
			add(f.Name, rule, "%s", msg)
		} else if f.Type.Attachment() {
			fe, err := rt.verifyAttachment(ctx, info, m, f, v)
			if err != nil {
				return err
			}
			if fe != nil {
				errs = append(errs, fe)
			}
		}
	}
	for _, name := range m.ClearedFields() {
		if f := info.fields[name]; f != nil && f.Required {
			add(f.Name, RuleRequired, "is required and cannot be cleared")
		}
		if r := info.fks[name]; r != nil && r.Required {
			add(r.Name, RuleRequired, "is required and cannot be cleared")
		}
	}
	for _, r := range info.e.Relations {
		switch r.Kind {
		case metamodel.BelongsTo:
			v, set := m.Field(r.FKColumn())
			if !set {
				if create && r.Required && !r.System {
					add(r.Name, RuleRequired, "is required")
				}
				continue
			}
			id, _ := v.(int)
			if p := auth.FromContext(ctx); p != nil && r.To == "User" && id == p.ID {
				continue // one may always name oneself (the platform stamps the creator as owner)
			}
			if ok, err := rt.Backend.Exists(ctx, r.To, id); err != nil {
				return err
			} else if !ok {
				add(r.Name, RuleExists, "no %s with id %d", r.To, id)
			} else if r.To == info.e.Name && !create {
				if self, ok := m.(interface{ ID() (int, bool) }).ID(); ok {
					cycle, err := rt.ancestorOf(ctx, m, r, id, self)
					if err != nil {
						return err
					}
					if cycle {
						add(r.Name, RuleCycle, "would make this %s its own ancestor", info.e.Name)
					}
				}
			}
		case metamodel.ManyToMany:
			for _, idv := range m.AddedIDs(r.EntName()) {
				id, _ := idv.(int)
				if ok, err := rt.Backend.Exists(ctx, r.To, id); err != nil {
					return err
				} else if !ok {
					add(r.Name, RuleExists, "no %s with id %d", r.To, id)
				}
			}
		}
	}
	if len(errs) > 0 {
		return &ValidationError{Fields: errs}
	}
	return nil
}

// ancestorOf reports whether self is start or one of start's ancestors through the tree relation r (so
// making start self's parent would close a cycle). It walks up in the mutation's own transaction.
func (rt *Runtime) ancestorOf(ctx context.Context, m ent.Mutation, r *metamodel.Relation, start, self int) (bool, error) {
	q, ok := m.(querier)
	if !ok {
		return false, nil
	}
	stmt := database.Rebind(rt.Dialect, "SELECT "+r.FKColumn()+" FROM "+r.Entity.Table()+" WHERE id = ?")
	cur := start
	for range 10000 { // deeper than any real tree; bounds a cycle already in the data
		if cur == self {
			return true, nil
		}
		rows, err := q.QueryContext(ctx, stmt, cur)
		if err != nil {
			return false, err
		}
		var parent *int64
		if rows.Next() {
			if err := rows.Scan(&parent); err != nil {
				rows.Close()
				return false, err
			}
		}
		rows.Close()
		if parent == nil {
			return false, nil
		}
		cur = int(*parent)
	}
	return true, nil
}

// equalDefault reports whether v is the field's static default (which ent sets before hooks run).
func equalDefault(f *metamodel.Field, v ent.Value) bool {
	return fmt.Sprint(plain(v)) == fmt.Sprint(f.Default)
}

// plain returns a named string type's value as a string (ent enums are named string types).
func plain(v ent.Value) any {
	rv := reflect.ValueOf(v)
	if rv.Kind() == reflect.String {
		return rv.String()
	}
	return v
}

// checkValue checks one value against its field's rules; it returns the message and rule of the first
// violation, or "" rule.
func checkValue(f *metamodel.Field, v ent.Value) (string, string) {
	switch f.Type {
	case metamodel.TypeFile, metamodel.TypeImage:
		s, ok := plain(v).(string)
		if !ok {
			return fmt.Sprintf("want a file reference, got %T", v), RuleType
		}
		// The reference's content, size and type are checked against the store by verifyAttachment.
		refs, err := attach.ParseField(f, s)
		switch {
		case err != nil:
			return err.Error(), RuleType
		case len(refs) == 0 && f.Required:
			return "is required", RuleRequired
		}
	case metamodel.TypeString, metamodel.TypeText, metamodel.TypeEmail, metamodel.TypePhone, metamodel.TypeURL:
		s, ok := plain(v).(string)
		if !ok {
			return fmt.Sprintf("want text, got %T", v), RuleType
		}
		n := utf8.RuneCountInString(s)
		if f.Required && strings.TrimSpace(s) == "" {
			return "is required", RuleRequired
		}
		if s == "" {
			return "", "" // an empty optional value has no format to check
		}
		if f.MinLen != nil && n < *f.MinLen {
			return fmt.Sprintf("must be at least %d characters, got %d", *f.MinLen, n), RuleMinLen
		}
		if f.MaxLen != nil && n > *f.MaxLen {
			return fmt.Sprintf("must be at most %d characters, got %d", *f.MaxLen, n), RuleMaxLen
		}
		switch f.Type {
		case metamodel.TypeEmail:
			if a, err := mail.ParseAddress(s); err != nil || a.Address != s {
				return fmt.Sprintf("%q is not an e-mail address (name@example.com)", s), RuleEmail
			}
		case metamodel.TypePhone:
			if !phonePattern.MatchString(s) {
				return fmt.Sprintf("%q is not a phone number (digits, optionally +, spaces, dashes)", s), RulePhone
			}
		case metamodel.TypeURL:
			u, err := url.Parse(s)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				return fmt.Sprintf("%q is not an http(s) URL", s), RuleURL
			}
		}
		if f.Pattern != "" && !compiled(f.Pattern).MatchString(s) {
			return fmt.Sprintf("%q does not match the pattern %s", s, f.Pattern), RulePattern
		}
	case metamodel.TypeEnum:
		s, _ := plain(v).(string)
		if f.EnumRef != nil {
			for _, ev := range f.EnumRef.Values {
				if ev.Key == s {
					return "", ""
				}
			}
			return fmt.Sprintf("%q is not one of %s", s, enumKeys(f.EnumRef)), RuleEnum
		}
	case metamodel.TypeInt:
		n, ok := v.(int)
		if !ok {
			return fmt.Sprintf("want an integer, got %T", v), RuleType
		}
		return checkRange(f, float64(n))
	case metamodel.TypeFloat, metamodel.TypeDecimal:
		x, ok := v.(float64)
		if !ok {
			return fmt.Sprintf("want a number, got %T", v), RuleType
		}
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return "must be a finite number", RuleType
		}
		if msg, rule := checkRange(f, x); rule != "" {
			return msg, rule
		}
		if f.Type == metamodel.TypeDecimal {
			scaled := x * math.Pow10(f.Scale)
			if math.Abs(scaled-math.Round(scaled)) > 1e-6*math.Max(1, math.Abs(scaled)) {
				return fmt.Sprintf("%v has more than %d decimal places", x, f.Scale), RuleScale
			}
			if f.Precision > 0 && math.Abs(x) >= math.Pow10(f.Precision-f.Scale) {
				return fmt.Sprintf("%v has more than %d digits before the decimal point", x, f.Precision-f.Scale), RulePrecision
			}
		}
	}
	return "", ""
}

func checkRange(f *metamodel.Field, x float64) (string, string) {
	if f.Min != nil && x < *f.Min {
		return fmt.Sprintf("must be at least %v, got %v", *f.Min, x), RuleMin
	}
	if f.Max != nil && x > *f.Max {
		return fmt.Sprintf("must be at most %v, got %v", *f.Max, x), RuleMax
	}
	return "", ""
}

func enumKeys(e *metamodel.Enum) string {
	keys := make([]string, len(e.Values))
	for i, v := range e.Values {
		keys[i] = v.Key
	}
	return strings.Join(keys, ", ")
}
