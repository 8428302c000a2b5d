package admin

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"

	"github.com/crmgen/crmgen/metamodel"
)

// The admin reads and writes only through the application's GraphQL endpoint, called in process with
// the request's context (which carries the signed-in principal), so a screen can never show or change
// more than the API would for that user: hidden fields come back null, unreadable rows are absent, and
// every write passes the same validation, policies and workflow rules.

// gqlError is one error of a GraphQL response.
type gqlError struct {
	Message    string         `json:"message"`
	Path       []any          `json:"path"`
	Extensions map[string]any `json:"extensions"`
}

// code is the machine-readable code of the error (FORBIDDEN, VALIDATION, …), or "".
func (e gqlError) code() string { s, _ := e.Extensions["code"].(string); return s }

// fieldErrors are the per-field violations of a VALIDATION error: field name → rule and message.
func (e gqlError) fieldErrors() []fieldError {
	var out []fieldError
	if list, ok := e.Extensions["fields"].([]any); ok {
		for _, v := range list {
			m, _ := v.(map[string]any)
			f, _ := m["field"].(string)
			rule, _ := m["rule"].(string)
			msg, _ := m["message"].(string)
			if f != "" {
				fe := fieldError{Field: f, Rule: rule, Msg: msg}
				if ms, ok := m["messages"].(map[string]any); ok {
					fe.Msgs = map[string]string{}
					for l, t := range ms {
						fe.Msgs[l], _ = t.(string)
					}
				}
				out = append(out, fe)
			}
		}
	}
	if len(out) == 0 {
		if f, _ := e.Extensions["field"].(string); f != "" {
			rule, _ := e.Extensions["rule"].(string)
			out = append(out, fieldError{Field: f, Rule: rule, Msg: e.Message})
		}
	}
	return out
}

// fieldError is one violated rule of one field, as the API reported it. Msgs, when the API sent it, is the
// app's own message per locale (a refusal of its extend/ hooks), which the screens show as it is.
type fieldError struct {
	Field, Rule, Msg string
	Msgs             map[string]string
}

// text is the app's own message for the violation in lang (or its default locale), or "".
func (fe fieldError) text(m *metamodel.Model, lang string) string {
	if len(fe.Msgs) == 0 {
		return ""
	}
	return m.Localize(fe.Msgs, lang, "")
}

// gqlErrors is the error list of a response whose operation failed as a whole or in part.
type gqlErrors []gqlError

func (es gqlErrors) Error() string {
	msgs := make([]string, len(es))
	for i, e := range es {
		msgs[i] = e.Message
	}
	return strings.Join(msgs, "; ")
}

// hasCode reports whether any error carries code.
func (es gqlErrors) hasCode(code string) bool {
	for _, e := range es {
		if e.code() == code {
			return true
		}
	}
	return false
}

// gqlResponse is a decoded GraphQL response. Data keeps JSON numbers as json.Number so ids and decimals
// survive unchanged.
type gqlResponse struct {
	Data   map[string]any `json:"data"`
	Errors gqlErrors      `json:"errors"`
}

// recorder is the smallest http.ResponseWriter that keeps what the GraphQL handler writes.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header {
	if r.header == nil {
		r.header = http.Header{}
	}
	return r.header
}
func (r *recorder) Write(b []byte) (int, error) { return r.body.Write(b) }
func (r *recorder) WriteHeader(status int) {
	if r.status == 0 {
		r.status = status
	}
}

// errNoData is returned when the endpoint answered without a data object (a transport-level refusal).
var errNoData = errors.New("graphql: no data in response")

// gql runs one GraphQL operation as the user of ctx. It returns the response even when it carries
// errors (fields may have partial data); err is set only when nothing usable came back.
func (s *server) gql(ctx context.Context, query string, vars map[string]any) (*gqlResponse, error) {
	body, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "/graphql", bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	var rec recorder
	s.cfg.GraphQL.ServeHTTP(&rec, req)
	var out gqlResponse
	dec := json.NewDecoder(&rec.body)
	dec.UseNumber()
	if err := dec.Decode(&out); err != nil {
		return nil, fmt.Errorf("graphql: decode response (status %d): %w", rec.status, err)
	}
	if out.Data == nil {
		if len(out.Errors) > 0 {
			return &out, out.Errors
		}
		return &out, errNoData
	}
	// A root field that came back null with errors failed as a whole (an unknown or refused
	// argument, a refused mutation): report it, rather than show an empty screen.
	if len(out.Errors) > 0 {
		for _, e := range out.Errors {
			if len(e.Path) == 1 {
				if k, ok := e.Path[0].(string); ok && out.Data[k] == nil {
					return &out, out.Errors
				}
			}
		}
	}
	return &out, nil
}

// schemaInfo is what introspection says about the generated schema: which fields, input fields and
// enum values exist. The admin derives names from the model, and checks them here, so a screen only
// asks for what the API offers (history only on audited entities, transitions only on workflow ones).
type schemaInfo struct {
	fields map[string]map[string]bool // type → field or input field → true
	args   map[string]map[string]bool // "Type.field" → argument → true
	enums  map[string][]string        // enum type → values
}

// has reports whether type typ has the field or input field name.
func (si *schemaInfo) has(typ, name string) bool { return si != nil && si.fields[typ][name] }

// hasArg reports whether field name of type typ takes the argument arg.
func (si *schemaInfo) hasArg(typ, name, arg string) bool {
	return si != nil && si.args[typ+"."+name][arg]
}

const introspectionQuery = `{ __schema { types { name kind fields { name args { name } } inputFields { name } enumValues { name } } } }`

// schema introspects the endpoint once (as the first signed-in user to need it) and caches the answer.
func (s *server) schema(ctx context.Context) (*schemaInfo, error) {
	s.schemaMu.Lock()
	defer s.schemaMu.Unlock()
	if s.schemaCache != nil {
		return s.schemaCache, nil
	}
	resp, err := s.gql(ctx, introspectionQuery, nil)
	if err != nil {
		return nil, fmt.Errorf("introspect schema: %w", err)
	}
	raw, _ := json.Marshal(resp.Data)
	var in struct {
		Schema struct {
			Types []struct {
				Name   string
				Kind   string
				Fields []struct {
					Name string
					Args []struct{ Name string }
				}
				InputFields []struct{ Name string }
				EnumValues  []struct{ Name string }
			}
		} `json:"__schema"`
	}
	if err := json.Unmarshal(raw, &in); err != nil {
		return nil, fmt.Errorf("introspect schema: %w", err)
	}
	si := &schemaInfo{fields: map[string]map[string]bool{}, args: map[string]map[string]bool{}, enums: map[string][]string{}}
	for _, t := range in.Schema.Types {
		m := map[string]bool{}
		for _, f := range t.Fields {
			m[f.Name] = true
			if len(f.Args) > 0 {
				as := map[string]bool{}
				for _, a := range f.Args {
					as[a.Name] = true
				}
				si.args[t.Name+"."+f.Name] = as
			}
		}
		for _, f := range t.InputFields {
			m[f.Name] = true
		}
		si.fields[t.Name] = m
		for _, v := range t.EnumValues {
			si.enums[t.Name] = append(si.enums[t.Name], v.Name)
		}
	}
	s.schemaCache = si
	return si, nil
}

// schemaState is embedded in server: the cached introspection.
type schemaState struct {
	schemaMu    sync.Mutex
	schemaCache *schemaInfo
}

// dig walks a decoded response along keys ("patients", "edges"); a missing step yields nil.
func dig(v any, keys ...string) any {
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

// nodes returns the nodes of a connection value ({edges: [{node: …}]}).
func nodes(conn any) []map[string]any {
	edges, _ := dig(conn, "edges").([]any)
	out := make([]map[string]any, 0, len(edges))
	for _, e := range edges {
		if n, ok := dig(e, "node").(map[string]any); ok {
			out = append(out, n)
		}
	}
	return out
}

// str renders a scalar of a response as a string ("" for null).
func str(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	case json.Number:
		return v.String()
	case bool:
		if v {
			return "true"
		}
		return "false"
	default:
		b, _ := json.Marshal(v)
		return string(b)
	}
}

// intOf renders a count of a response as an int.
func intOf(v any) int {
	n, _ := v.(json.Number)
	i, _ := n.Int64()
	return int(i)
}
