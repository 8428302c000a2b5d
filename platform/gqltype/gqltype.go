// Package gqltype holds the GraphQL scalars generated apps bind (JSON) and the conversions of computed
// values to the Go types gqlgen expects.
package gqltype

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"time"

	"github.com/99designs/gqlgen/graphql"
)

// MarshalJSON writes a JSON field as a GraphQL JSON scalar.
func MarshalJSON(v json.RawMessage) graphql.Marshaler {
	return graphql.WriterFunc(func(w io.Writer) {
		if len(v) == 0 {
			io.WriteString(w, "null")
			return
		}
		w.Write(v)
	})
}

// UnmarshalJSON reads a GraphQL JSON scalar (any JSON value) into a JSON field.
func UnmarshalJSON(v any) (json.RawMessage, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("JSON: %w", err)
	}
	return b, nil
}

// Int converts a computed value to *int (nil stays nil).
func Int(v any) *int {
	switch x := v.(type) {
	case int64:
		n := int(x)
		return &n
	case int:
		return &x
	case uint64:
		n := int(x)
		return &n
	case float64:
		n := int(x)
		return &n
	}
	return nil
}

// Float converts a computed value to *float64.
func Float(v any) *float64 {
	switch x := v.(type) {
	case float64:
		return &x
	case int64:
		f := float64(x)
		return &f
	case int:
		f := float64(x)
		return &f
	}
	return nil
}

// Bool converts a computed value to *bool.
func Bool(v any) *bool {
	if b, ok := v.(bool); ok {
		return &b
	}
	return nil
}

// String converts a computed value to *string.
func String(v any) *string {
	switch x := v.(type) {
	case nil:
		return nil
	case string:
		return &x
	default:
		s := fmt.Sprint(x)
		return &s
	}
}

// Time converts a computed value to *time.Time.
func Time(v any) *time.Time {
	if t, ok := v.(time.Time); ok {
		return &t
	}
	return nil
}

// JSON converts a computed value to a JSON document.
func JSON(v any) json.RawMessage {
	if v == nil {
		return nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	return b
}

// MarshalFloat writes a Float without exponent notation (2670000, not 2.67e+06), the form people and
// spreadsheets expect of money and quantities.
func MarshalFloat(f float64) graphql.Marshaler {
	return graphql.WriterFunc(func(w io.Writer) {
		if math.IsNaN(f) || math.IsInf(f, 0) {
			io.WriteString(w, "null")
			return
		}
		io.WriteString(w, strconv.FormatFloat(f, 'f', -1, 64))
	})
}

// UnmarshalFloat reads a Float as gqlgen does.
func UnmarshalFloat(v any) (float64, error) { return graphql.UnmarshalFloat(v) }

// MaxCountUpTo bounds the upTo argument of the API's count fields (patientsCount(upTo:)).
const MaxCountUpTo = 100000

// CountLimit is how many rows a count field with upTo reads: upTo + 1, so that "more than upTo" shows,
// with upTo within [0, MaxCountUpTo]. A count of a million rows costs a scan of all of them; a list that
// shows "more than 10,000" needs to read 10,001 ids.
func CountLimit(upTo int) int { return min(max(upTo, 0), MaxCountUpTo) + 1 }
