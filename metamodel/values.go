package metamodel

import (
	"fmt"
	"strings"
	"time"
)

// Date and datetime layouts accepted in defaults and data.
const (
	DateLayout = "2006-01-02"
)

// DateTimeLayouts are the accepted datetime forms: RFC 3339, and a local "2006-01-02 15:04[:05]".
var DateTimeLayouts = []string{time.RFC3339, "2006-01-02 15:04:05", "2006-01-02 15:04"}

// ParseDateTime parses a datetime written in a model (default or data value).
func ParseDateTime(s string) (time.Time, error) {
	var err error
	for _, l := range DateTimeLayouts {
		var t time.Time
		if t, err = time.Parse(l, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, err
}

// goDescribe names the kind of a decoded YAML value for messages.
func goDescribe(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case string:
		return fmt.Sprintf("string %q", x)
	case int64:
		return fmt.Sprintf("integer %d", x)
	case float64:
		return fmt.Sprintf("number %v", x)
	case bool:
		return fmt.Sprintf("boolean %v", x)
	case []any:
		return "a list"
	case map[string]any:
		return "a mapping"
	}
	return fmt.Sprintf("%T", v)
}

// coerce checks a value decoded from YAML against a field's type and returns it normalized (float and
// decimal as float64). The problem, when not "", is a message fragment.
func coerce(f *Field, v any) (any, string) {
	switch {
	case f.Type.stringy():
		if s, ok := v.(string); ok {
			return s, ""
		}
		switch v.(type) {
		case int64, float64, bool:
			return nil, fmt.Sprintf("want a string, got %s (quote it)", goDescribe(v))
		}
		return nil, "want a string, got " + goDescribe(v)
	case f.Type == TypeInt:
		if i, ok := v.(int64); ok {
			return i, ""
		}
		return nil, "want an integer, got " + goDescribe(v)
	case f.Type == TypeFloat || f.Type == TypeDecimal:
		switch x := v.(type) {
		case int64:
			return float64(x), ""
		case float64:
			return x, ""
		}
		return nil, "want a number, got " + goDescribe(v)
	case f.Type == TypeBool:
		if x, ok := v.(bool); ok {
			return x, ""
		}
		return nil, "want true or false, got " + goDescribe(v)
	case f.Type == TypeEnum:
		s, ok := v.(string)
		if !ok {
			return nil, "want an enum key, got " + goDescribe(v)
		}
		if f.EnumRef == nil {
			return s, ""
		}
		var keys []string
		for _, ev := range f.EnumRef.Values {
			if ev.Key == s {
				return s, ""
			}
			keys = append(keys, ev.Key)
		}
		return nil, fmt.Sprintf("%q is not a value of enum %q%s", s, f.EnumRef.Name, hint(s, keys))
	case f.Type == TypeDate:
		s, ok := v.(string)
		if !ok {
			return nil, "want a date such as 2024-01-02, got " + goDescribe(v)
		}
		if _, err := time.Parse(DateLayout, s); err != nil {
			return nil, fmt.Sprintf("want a date such as 2024-01-02, got %q", s)
		}
		return s, ""
	case f.Type == TypeDateTime:
		s, ok := v.(string)
		if !ok {
			return nil, "want a datetime such as 2024-01-02T15:04:05+08:00, got " + goDescribe(v)
		}
		if _, err := ParseDateTime(s); err != nil {
			return nil, fmt.Sprintf("want a datetime such as 2024-01-02T15:04:05+08:00 or 2024-01-02 15:04, got %q", s)
		}
		return s, ""
	case f.Type == TypeJSON:
		return v, ""
	}
	return v, ""
}

// constraints checks a coerced value against min, max, minLen, maxLen and pattern.
func constraints(f *Field, v any) string {
	switch x := v.(type) {
	case int64:
		return numConstraints(f, float64(x))
	case float64:
		return numConstraints(f, x)
	case string:
		if !f.Type.stringy() {
			return ""
		}
		n := len([]rune(x))
		if f.MinLen != nil && n < *f.MinLen {
			return fmt.Sprintf("%q is shorter than minLen %d", x, *f.MinLen)
		}
		if f.MaxLen != nil && n > *f.MaxLen {
			return fmt.Sprintf("%q is longer than maxLen %d", x, *f.MaxLen)
		}
		if re := compilePattern(f.Pattern); re != nil && !re.MatchString(x) {
			return fmt.Sprintf("%q does not match pattern %s", x, f.Pattern)
		}
	}
	return ""
}

func numConstraints(f *Field, x float64) string {
	if f.Min != nil && x < *f.Min {
		return fmt.Sprintf("%v is less than min %v", x, *f.Min)
	}
	if f.Max != nil && x > *f.Max {
		return fmt.Sprintf("%v is greater than max %v", x, *f.Max)
	}
	return ""
}

// refString returns the reference a data value names, for belongsTo values.
func refString(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, strings.TrimSpace(x) != ""
	case int64:
		return fmt.Sprint(x), true
	}
	return "", false
}
