package admin

import (
	"net/http"

	"github.com/crmgen/crmgen/metamodel"
	"github.com/crmgen/crmgen/metamodel/diagram"
	"github.com/crmgen/crmgen/platform/auth"
)

// diagramsBody is the diagrams page: the model's Mermaid diagrams in the page's language.
type diagramsBody struct {
	Diagrams []diagram.Diagram
}

// diagramsCSP is the content security policy of the diagrams page. It is the admin's policy with one
// addition: Mermaid draws into SVG with a <style> element and style attributes of its own, which
// style-src 'self' would block, so this page (and only this one) allows inline styles. Scripts stay
// 'self' only: Mermaid is the vendored file, started by diagrams.js, with no inline script or eval.
const diagramsCSP = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
	"object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// diagrams shows the model as diagrams (the same ones `crmgen graph` writes): its entities and
// relations, and each workflow. The model describes every entity, field and rule, including those a
// user may not see, so only superusers (or, in a model without roles, every signed-in user, who may do
// everything) see it; others get 403 and no link to it.
func (s *server) diagrams(w http.ResponseWriter, r *http.Request) {
	if !mayDesign(s.cfg.Model, auth.FromContext(r.Context())) {
		s.fail(w, r, http.StatusForbidden, nil)
		return
	}
	f := s.newFrame(r, "")
	f.Title = f.T("diagrams")
	f.Active = "/diagrams"
	f.Body = diagramsBody{Diagrams: diagram.All(s.cfg.Model, f.Lang)}
	w.Header().Set("Content-Security-Policy", diagramsCSP)
	s.render(w, r, http.StatusOK, "diagrams", f)
}

// mayDesign reports whether p may see the model's design: p holds a superuser role, or the model has no
// roles at all.
func mayDesign(m *metamodel.Model, p *auth.Principal) bool {
	return p != nil && (len(m.Roles) == 0 || isSuperuser(m, p))
}

// isSuperuser reports whether p holds one of the model's superuser roles.
func isSuperuser(m *metamodel.Model, p *auth.Principal) bool {
	for _, name := range p.Roles {
		if r := m.Role(name); r != nil && r.Superuser {
			return true
		}
	}
	return false
}
