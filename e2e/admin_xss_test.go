package e2e

import (
	"fmt"
	"strings"
	"testing"

	"github.com/crmgen/crmgen/internal/apptest"
	"github.com/crmgen/crmgen/metamodel"
)

// Stored script payloads render inert on every screen: every free-text field of one record of each
// entity is set (through the API) to markup that would run script if it reached the page unescaped;
// the list, detail and edit screens must show it as text, and nothing may run.

// xssPayload returns markup that would set window.__xss if it were rendered as HTML, fitting maxLen
// characters (0: no limit), or "" when nothing that short could.
func xssPayload(maxLen int, tag string) string {
	for _, p := range []string{
		`"><img src=x onerror=window.__xss=1>` + tag + `<script>window.__xss=2</script>`,
		`"><img src=x onerror=window.__xss=1>` + tag,
		`<svg onload=window.__xss=1>` + tag,
		`<svg onload=__xss=1>`,
	} {
		if maxLen == 0 || len([]rune(p)) <= maxLen {
			return p
		}
	}
	return ""
}

func TestAdminXSS(t *testing.T) {
	for _, name := range []string{"hospital", "b2b-sales"} {
		t.Run(name, func(t *testing.T) {
			a := adminApp(t, name)
			s := a.Start(t, apptest.SQLitePath(t))
			admin := s.As(t, "admin", "admin123")
			p := openBrowser(t, s)
			p.signIn("admin", "admin123")
			for _, e := range a.Model.Entities {
				id, set := plantPayloads(t, admin, e)
				if len(set) == 0 {
					continue
				}
				for _, path := range []string{"/e/" + e.Name, "/e/" + e.Name + "/" + id, "/e/" + e.Name + "/" + id + "/edit"} {
					p.open(path)
					if ran := eval[bool](p, `window.__xss !== undefined`); ran {
						t.Errorf("%s: a stored payload ran", path)
					}
					if n := p.count(`main img[src="x"], main svg, main script`); n != 0 {
						t.Errorf("%s: %d injected elements in the page", path, n)
					}
				}
				p.open("/e/" + e.Name + "/" + id)
				for _, f := range set {
					if got := p.fieldValue(f); !strings.Contains(got, "<") {
						t.Errorf("%s.%s shows %q, want the payload as text", e.Name, f, got)
					}
				}
			}
			p.noErrors()
		})
	}
}

// plantPayloads sets every free-text field of the first record of e that the API lets the admin write
// to a script payload, one field per update (a field the API refuses is left alone). It returns the
// record's id and the fields set.
func plantPayloads(t *testing.T, s *apptest.Server, e *metamodel.Entity) (string, []string) {
	t.Helper()
	var out map[string]struct {
		Edges []struct{ Node struct{ ID string } }
	}
	if r := s.GraphQL(t, "{ l: "+e.QueryField()+"(first: 1) { edges { node { id } } } }", nil); len(r.Errors) > 0 {
		return "", nil
	} else {
		r.Decode(t, &out)
	}
	if len(out["l"].Edges) == 0 {
		return "", nil
	}
	id := out["l"].Edges[0].Node.ID
	var set []string
	for _, f := range e.Fields {
		if (f.Type != metamodel.TypeString && f.Type != metamodel.TypeText) || f.Pattern != "" || f.System ||
			f.Readonly || f.AutoNumber != "" || !f.Computed.IsZero() || f.Secret || f.Name == "username" {
			continue
		}
		maxLen := 0
		if f.MaxLen != nil {
			maxLen = *f.MaxLen
		}
		payload := xssPayload(maxLen, fmt.Sprintf("%.4s", id[len(id)-min(4, len(id)):]))
		if payload == "" {
			continue
		}
		r := s.GraphQL(t, fmt.Sprintf("mutation($id: ID!, $v: String) { update%s(id: $id, input: {%s: $v}) { id } }", e.Name, f.GraphQLName()),
			map[string]any{"id": id, "v": payload})
		if len(r.Errors) == 0 {
			set = append(set, f.Name)
		}
	}
	return id, set
}
