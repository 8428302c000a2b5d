package admin

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/crmgen/crmgen/metamodel"
	"github.com/crmgen/crmgen/platform/attach"
	"github.com/crmgen/crmgen/platform/enforce"
)

// The create and edit screens. A form shows views.form's sections with one widget per type; what it
// sends is parsed per type, checked for required values, and written through the create/update
// mutation. The API's validation errors come back per field and are shown there, with the user's input
// kept; nothing is saved on error (one mutation, one transaction). An edit sends only what changed, so
// fields the user did not touch (or may not write) are never part of the write.

type formField struct {
	Name, Label, Help, ID  string
	Widget                 string // text, textarea, number, checkbox, date, datetime, select, email, tel, url, json, rel, multi, static
	Value, Display         string
	Selected               map[string]bool
	Options                []enumChoice
	Required, Disabled     bool
	MaxLen                 int
	Min, Max, Step         string
	Error                  string
	PickerURL, Placeholder string
	Static                 cell // the value shown for a member the user may not write here
	// A file input's accepted types (its accept attribute) and the file the record has (Static).
	Accept, RemoveLabel, KeepHint string
	// A file uploaded with a post the form was shown again for: stored already, and sent again as
	// keptKey unless the user chooses another, so an error elsewhere on the form does not lose it.
	Kept, KeptText string
	// The files of a multiple file or image field (widget "files"), each with a box to remove it; Kept is
	// then the list the form was shown with, sent back with the post.
	Files []fileChoice
}

// fileChoice is one file of a multiple field on its form.
type fileChoice struct {
	Cell cell
	SHA  string
}

type formSectionView struct {
	Label  string
	Fields []formField
}

type formBody struct {
	Entity, Label, Title, Action, CancelURL string
	IsNew                                   bool
	Sections                                []formSectionView
	Error                                   string
	Version                                 string
	Multipart                               bool // a file input: the form is sent as multipart/form-data
}

// formMode is what a member can be on a form for this user.
type formMode int

const (
	modeSkip   formMode = iota // not shown
	modeEdit                   // an input
	modeStatic                 // shown, not writable here
)

// inputType is the GraphQL input of a create or update.
func inputType(e *metamodel.Entity, isNew bool) string {
	if isNew {
		return "Create" + e.Name + "Input"
	}
	return "Update" + e.Name + "Input"
}

// inputKey is the input field that sets member m ("name", "departmentID", "tagIDs"); "" if none.
func inputKey(si *schemaInfo, e *metamodel.Entity, m member, isNew bool) string {
	it := inputType(e, isNew)
	if m.Field != nil {
		if si.has(it, m.Field.GraphQLName()) {
			return m.Field.GraphQLName()
		}
		return ""
	}
	switch m.Rel.Kind {
	case metamodel.BelongsTo:
		if si.has(it, m.Rel.GraphQLFKName()) {
			return m.Rel.GraphQLFKName()
		}
	case metamodel.ManyToMany:
		for _, sing := range singulars(m.Rel.GraphQLName()) {
			k := sing + "IDs"
			if !isNew {
				k = "add" + metamodel.Pascal(sing) + "IDs"
			}
			if si.has(it, k) {
				return k
			}
		}
	}
	return ""
}

// singulars are the candidate singular forms of a to-many edge name, as entgql names its id inputs.
func singulars(name string) []string {
	out := []string{strings.TrimSuffix(name, "s"), strings.TrimSuffix(name, "es"), name}
	if strings.HasSuffix(name, "ies") {
		out = append([]string{strings.TrimSuffix(name, "ies") + "y"}, out...)
	}
	return out
}

// clearKey is the update input field that unsets member m, or "".
func clearKey(si *schemaInfo, e *metamodel.Entity, m member) string {
	k := "clear" + metamodel.Pascal(m.gqlName())
	if si.has(inputType(e, false), k) {
		return k
	}
	return ""
}

// mode decides how member m appears on the form for access a.
func mode(si *schemaInfo, e *metamodel.Entity, a *enforce.Access, m member, isNew bool) formMode {
	if !a.Shows(m.Name) {
		return modeSkip
	}
	if inputKey(si, e, m, isNew) == "" || (!isNew && !a.Writable(m.Name)) {
		if isNew {
			return modeSkip
		}
		return modeStatic
	}
	return modeEdit
}

// maxLinked bounds the records a many-to-many input shows and edits.
const maxLinked = 1000

// formSelection selects what an edit form shows of a record.
func formSelection(e *metamodel.Entity, members []member) string {
	sel := []string{displaySelection(e)}
	for _, m := range members {
		if m.Rel != nil && m.Rel.Kind == metamodel.ManyToMany {
			// Every linked record, not a page of them: an edit removes what the form no longer selects.
			sel = append(sel, m.Rel.GraphQLName()+"(first: "+strconv.Itoa(maxLinked)+") { edges { node { "+displaySelection(m.Rel.Target)+" } } }")
			continue
		}
		sel = append(sel, selection(m))
		if m.Rel != nil && m.Rel.Kind == metamodel.BelongsTo {
			sel = append(sel, m.Rel.GraphQLFKName())
		}
	}
	if f := e.Field("version"); f != nil && f.System {
		sel = append(sel, "version")
	}
	return nodeQuery(e, strings.Join(sel, " "))
}

func allMembers(e *metamodel.Entity) []member {
	var out []member
	for _, sec := range formSections(e) {
		out = append(out, sec.Members...)
	}
	return out
}

// buildForm lays out the form for record n (nil when new), with posted values and errors if given.
func (s *server) buildForm(ctx context.Context, e *metamodel.Entity, si *schemaInfo, n map[string]any, posted url.Values,
	errs map[string]string, lang string) []formSectionView {
	a := access(ctx, e.Name)
	isNew := n == nil
	var out []formSectionView
	for _, sec := range formSections(e) {
		sv := formSectionView{Label: s.cfg.Model.Localize(sec.Label, lang, "")}
		for _, m := range sec.Members {
			md := mode(si, e, a, m, isNew)
			if md == modeSkip {
				continue
			}
			ff := formField{Name: m.Name, ID: "f-" + m.Name, Label: s.memberLabel(m, lang), Error: errs[m.Name]}
			if m.Field != nil {
				ff.Help = s.cfg.Model.Localize(m.Field.Help, lang, "")
			}
			if md == modeStatic {
				ff.Widget = "static"
				if n != nil {
					ff.Static = s.cellOf(m, n, lang, s.zones(ctx))
				}
				sv.Fields = append(sv.Fields, ff)
				continue
			}
			s.widget(&ff, m, n, posted, lang, s.zones(ctx))
			sv.Fields = append(sv.Fields, ff)
		}
		if len(sv.Fields) > 0 {
			out = append(out, sv)
		}
	}
	// Many-to-many choices: the first 200 related records the user may read, in one aliased query.
	var q strings.Builder
	q.WriteString("{")
	var rels []*metamodel.Relation
	for _, sec := range out {
		for _, ff := range sec.Fields {
			if ff.Widget == "multi" {
				m, _ := memberOf(e, ff.Name)
				rels = append(rels, m.Rel)
				q.WriteString(" r" + strconv.Itoa(len(rels)-1) + ": " + m.Rel.Target.QueryField() + "(first: 200) { edges { node { " + displaySelection(m.Rel.Target) + " } } }")
			}
		}
	}
	q.WriteString(" }")
	if len(rels) > 0 {
		resp, _ := s.gql(ctx, q.String(), nil)
		idx := 0
		for i := range out {
			for j := range out[i].Fields {
				ff := &out[i].Fields[j]
				if ff.Widget != "multi" {
					continue
				}
				listed := map[string]bool{}
				if resp != nil {
					for _, nd := range nodes(resp.Data["r"+strconv.Itoa(idx)]) {
						listed[str(nd["id"])] = true
						ff.Options = append(ff.Options, enumChoice{Key: str(nd["id"]), Label: s.displayOf(rels[idx].Target, nd, lang)})
					}
				}
				// Linked records beyond the first choices stay choices (and selected), so saving keeps them.
				if n != nil {
					for _, nd := range nodes(n[rels[idx].GraphQLName()]) {
						if id := str(nd["id"]); !listed[id] {
							ff.Options = append(ff.Options, enumChoice{Key: id, Label: s.displayOf(rels[idx].Target, nd, lang)})
						}
					}
				}
				idx++
			}
		}
	}
	return out
}

// widget fills the input of member m: its kind, current value (posted, else stored, else default) and
// constraints the browser can check early (the server checks them all again).
func (s *server) widget(ff *formField, m member, n map[string]any, posted url.Values, lang string, z zones) {
	if m.Rel != nil {
		t := m.Rel.Target
		if m.Rel.Kind == metamodel.ManyToMany {
			ff.Widget = "multi"
			ff.Selected = map[string]bool{}
			if posted != nil {
				for _, id := range posted[m.Name] {
					ff.Selected[id] = true
				}
			} else if n != nil {
				for _, rn := range nodes(n[m.Rel.GraphQLName()]) {
					ff.Selected[str(rn["id"])] = true
				}
			}
			return
		}
		ff.Widget, ff.Required = "rel", m.Rel.Required
		ff.PickerURL, ff.Placeholder = entityURL(t)+"/options", translate(lang, "type to search")
		switch {
		case posted != nil:
			ff.Value, ff.Display = posted.Get(m.Name), posted.Get("q."+m.Name)
		case n != nil:
			if rn, ok := n[m.Rel.GraphQLName()].(map[string]any); ok {
				ff.Value, ff.Display = str(rn["id"]), s.displayOf(t, rn, lang)
			}
		}
		return
	}
	f := m.Field
	ff.Required = f.Required && f.Type != metamodel.TypeBool
	if f.Type.Attachment() && f.Multiple {
		ff.Widget, ff.Accept = "files", acceptAttr(f)
		ff.RemoveLabel = translate(lang, "upload.remove")
		ff.KeepHint = fmt.Sprintf(translate(lang, "upload.addFiles"), metamodel.MaxAttachments)
		list, _ := fileList(f, n, posted)
		ff.Kept = attach.EncodeList(list)
		for _, a := range list {
			ff.Files = append(ff.Files, fileChoice{Cell: fileCell(a), SHA: a.SHA256})
		}
		return
	}
	if f.Type.Attachment() {
		ff.Widget, ff.Accept = "file", acceptAttr(f)
		ff.RemoveLabel, ff.KeepHint = translate(lang, "upload.remove"), translate(lang, "upload.keep")
		ff.Static = cell{Empty: true} // a new record has no file yet
		if n != nil {
			ff.Static = attachmentCell(n[f.GraphQLName()])
		}
		if ref, err := attach.Parse(posted.Get(uploadKey(f.Name))); err == nil && ref != nil {
			ff.Kept = ref.Encode()
			ff.KeptText = fmt.Sprintf(translate(lang, "upload.kept"), ref.Name, metamodel.FormatSize(int64(ref.Size)))
		}
		return
	}
	switch {
	case posted != nil:
		ff.Value = posted.Get(m.Name)
	case n != nil:
		ff.Value = formValue(f, n[f.GraphQLName()], z)
	case f.Default != nil:
		ff.Value = formValue(f, f.Default, z)
	}
	if f.MaxLen != nil {
		ff.MaxLen = *f.MaxLen
	}
	if f.Min != nil {
		ff.Min = strconv.FormatFloat(*f.Min, 'f', -1, 64)
	}
	if f.Max != nil {
		ff.Max = strconv.FormatFloat(*f.Max, 'f', -1, 64)
	}
	switch f.Type {
	case metamodel.TypeText:
		ff.Widget = "textarea"
	case metamodel.TypeJSON:
		ff.Widget = "json"
	case metamodel.TypeInt:
		ff.Widget, ff.Step = "number", "1"
	case metamodel.TypeFloat:
		ff.Widget, ff.Step = "number", "any"
	case metamodel.TypeDecimal:
		ff.Widget, ff.Step = "number", "any"
		if f.Scale > 0 {
			ff.Step = "0." + strings.Repeat("0", f.Scale-1) + "1"
		}
	case metamodel.TypeBool:
		ff.Widget = "checkbox"
	case metamodel.TypeDate:
		ff.Widget = "date"
	case metamodel.TypeDateTime:
		ff.Widget = "datetime"
	case metamodel.TypeEnum:
		ff.Widget, ff.Options = "select", s.choices(f, lang)
	case metamodel.TypeEmail:
		ff.Widget = "email"
	case metamodel.TypePhone:
		ff.Widget = "tel"
	case metamodel.TypeURL:
		ff.Widget = "url"
	default:
		ff.Widget = "text"
	}
}

// readInput turns the posted form into a GraphQL input: for a new record every value given, for an
// edit only the changes against the stored record n. errs collects values that do not parse and
// required values left empty, by member.
func (s *server) readInput(ctx context.Context, e *metamodel.Entity, si *schemaInfo, n map[string]any, posted url.Values) (map[string]any, map[string]string) {
	a := access(ctx, e.Name)
	isNew := n == nil
	in := map[string]any{}
	errs := map[string]string{}
	for _, m := range allMembers(e) {
		if mode(si, e, a, m, isNew) != modeEdit {
			continue
		}
		key := inputKey(si, e, m, isNew)
		if m.Rel != nil && m.Rel.Kind == metamodel.ManyToMany {
			ids := posted[m.Name]
			if isNew {
				if len(ids) > 0 {
					in[key] = ids
				}
				continue
			}
			had := map[string]bool{}
			for _, rn := range nodes(n[m.Rel.GraphQLName()]) {
				had[str(rn["id"])] = true
			}
			want := map[string]bool{}
			var add, remove []string
			for _, id := range ids {
				want[id] = true
				if !had[id] {
					add = append(add, id)
				}
			}
			for id := range had {
				if !want[id] {
					remove = append(remove, id)
				}
			}
			if len(add) > 0 {
				in[key] = add
			}
			if len(remove) > 0 {
				in["remove"+strings.TrimPrefix(key, "add")] = remove
			}
			continue
		}
		if m.Rel != nil {
			id := strings.TrimSpace(posted.Get(m.Name))
			if id == "" && m.Rel.Required {
				// On an edit, an empty required relation is one whose record the user may not read (the
				// API shows it as null): it stays as it is, since it cannot be cleared anyway.
				if isNew {
					errs[m.Name] = "required"
				}
				continue
			}
			if isNew {
				if id != "" {
					in[key] = id
				}
				continue
			}
			if id == str(n[m.Rel.GraphQLFKName()]) {
				continue
			}
			if id == "" {
				if ck := clearKey(si, e, m); ck != "" {
					in[ck] = true
				}
				continue
			}
			in[key] = id
			continue
		}
		f := m.Field
		if f.Type == metamodel.TypeBool && posted.Get("present."+m.Name) == "" {
			continue // not on the form that was sent
		}
		if f.Type.Attachment() && f.Multiple {
			list, changed := fileList(f, n, posted)
			switch {
			case len(list) > metamodel.MaxAttachments:
				errs[m.Name] = "maxFiles"
			case len(list) == 0 && f.Required && (isNew || changed):
				errs[m.Name] = "required"
			case !changed:
			case len(list) > 0:
				in[key] = attach.EncodeList(list)
			default:
				if ck := clearKey(si, e, m); ck != "" {
					in[ck] = true
				}
			}
			continue
		}
		if f.Type.Attachment() {
			// storeUploads put the reference of a new file, or "" to remove the file, under uploadKey;
			// without either the record keeps its file.
			ref, given := posted[uploadKey(m.Name)]
			switch {
			case !given:
				if isNew && f.Required {
					errs[m.Name] = "required"
				}
			case ref[0] != "":
				in[key] = ref[0]
			case isNew || n[f.GraphQLName()] == nil:
			case f.Required:
				errs[m.Name] = "required"
			default:
				if ck := clearKey(si, e, m); ck != "" {
					in[ck] = true
				}
			}
			continue
		}
		v, rule := inputValue(f, posted.Get(m.Name), s.zones(ctx))
		if rule != "" {
			errs[m.Name] = rule
			continue
		}
		if v == nil && f.Required && f.Default == nil {
			errs[m.Name] = "required"
			continue
		}
		if isNew {
			if v != nil {
				in[key] = v
			}
			continue
		}
		if sameValue(f, n[f.GraphQLName()], v) || (f.Type == metamodel.TypeBool && v == false && n[f.GraphQLName()] == nil) {
			continue
		}
		if v == nil {
			if ck := clearKey(si, e, m); ck != "" {
				in[ck] = true
			} else if f.Required {
				errs[m.Name] = "required"
			}
			continue
		}
		in[key] = v
	}
	if !isNew && si.has(inputType(e, false), "version") && posted.Get("version") != "" {
		if v, err := strconv.ParseInt(posted.Get("version"), 10, 64); err == nil {
			in["version"] = v
		}
	}
	return in, errs
}

func (s *server) newForm(w http.ResponseWriter, r *http.Request) { s.showForm(w, r, true) }
func (s *server) editForm(w http.ResponseWriter, r *http.Request) {
	s.showForm(w, r, false)
}
func (s *server) create(w http.ResponseWriter, r *http.Request) { s.submitForm(w, r, true) }
func (s *server) update(w http.ResponseWriter, r *http.Request) { s.submitForm(w, r, false) }

// formEntity is entity for a form: a create form needs the right to create, an edit form the right to
// read (the API decides on the update itself).
func (s *server) formEntity(w http.ResponseWriter, r *http.Request, isNew bool) *metamodel.Entity {
	if isNew {
		return s.entityIf(w, r, (*enforce.Access).MayCreate)
	}
	return s.entity(w, r)
}

// showForm serves an empty create form (prefilled from the query, e.g. ?patient=12 from a related list)
// or the edit form of a record.
func (s *server) showForm(w http.ResponseWriter, r *http.Request, isNew bool) {
	e := s.formEntity(w, r, isNew)
	if e == nil {
		return
	}
	ctx := r.Context()
	si, err := s.schema(ctx)
	if err != nil {
		s.fail(w, r, http.StatusInternalServerError, err)
		return
	}
	lang := language(s.cfg.Model, r)
	var n map[string]any
	var posted url.Values
	if !isNew {
		if n, err = s.record(ctx, e, r.PathValue("id"), formSelection(e, allMembers(e))); err != nil {
			s.fail(w, r, http.StatusInternalServerError, err)
			return
		} else if n == nil {
			s.fail(w, r, http.StatusNotFound, nil)
			return
		}
	} else if len(r.URL.Query()) > 0 {
		posted = s.prefill(ctx, e, r.URL.Query(), lang)
	}
	s.renderForm(w, r, http.StatusOK, e, si, n, posted, nil, "", lang)
}

// prefill turns query parameters naming members into posted values, looking up the names of related
// records so their pickers show them.
func (s *server) prefill(ctx context.Context, e *metamodel.Entity, q url.Values, lang string) url.Values {
	out := url.Values{}
	for _, m := range allMembers(e) {
		v := q.Get(m.Name)
		if v == "" {
			continue
		}
		out.Set(m.Name, v)
		if m.Rel != nil && m.Rel.Kind == metamodel.BelongsTo {
			t := m.Rel.Target
			resp, err := s.gql(ctx, "query($id: ID!) { l: "+t.QueryField()+"(where: {id: $id}) { edges { node { "+displaySelection(t)+" } } } }", map[string]any{"id": v})
			if err == nil {
				if ns := nodes(resp.Data["l"]); len(ns) == 1 {
					out.Set("q."+m.Name, s.displayOf(t, ns[0], lang))
					continue
				}
			}
			out.Del(m.Name) // not a record the user may read
		}
	}
	return out
}

func (s *server) renderForm(w http.ResponseWriter, r *http.Request, status int, e *metamodel.Entity, si *schemaInfo,
	n map[string]any, posted url.Values, errs map[string]string, topErr, lang string) {
	b := &formBody{Entity: e.Name, Label: s.entityLabel(e, lang), IsNew: n == nil, Error: topErr}
	if n == nil {
		b.Title = translate(lang, "new") + " · " + b.Label
		b.Action, b.CancelURL = entityURL(e)+"/new", entityURL(e)
	} else {
		id := str(n["id"])
		b.Title = translate(lang, "edit") + " · " + s.displayOf(e, n, lang)
		b.Action, b.CancelURL = recordURL(e, id)+"/edit", recordURL(e, id)
		b.Version = str(n["version"])
		if posted != nil && posted.Get("version") != "" {
			b.Version = posted.Get("version")
		}
	}
	msgs := map[string]string{}
	for k, rule := range errs {
		msgs[k] = ruleText(lang, rule)
	}
	b.Sections = s.buildForm(r.Context(), e, si, n, posted, msgs, lang)
	for _, sec := range b.Sections {
		for _, ff := range sec.Fields {
			b.Multipart = b.Multipart || ff.Widget == "file" || ff.Widget == "files"
		}
	}
	f := s.newFrame(r, b.Title)
	f.Active = e.Name
	f.Body = b
	s.render(w, r, status, "form", f)
}

// ruleText is the message for a violated rule in the catalogue, or v itself when v is already the
// API's message.
func ruleText(lang, v string) string {
	if t := catalogue[lang]["rule."+v]; t != "" {
		return t
	}
	if t := catalogue["en"]["rule."+v]; t != "" {
		return t
	}
	return v
}

// submitForm creates or updates a record from the posted form.
func (s *server) submitForm(w http.ResponseWriter, r *http.Request, isNew bool) {
	e := s.formEntity(w, r, isNew)
	if e == nil {
		return
	}
	ctx := r.Context()
	if !parseForm(w, r) {
		return
	}
	si, err := s.schema(ctx)
	if err != nil {
		s.fail(w, r, http.StatusInternalServerError, err)
		return
	}
	lang := language(s.cfg.Model, r)
	uploadErrs, err := s.storeUploads(ctx, e, r, lang)
	if err != nil {
		s.fail(w, r, http.StatusInternalServerError, err)
		return
	}
	var n map[string]any
	if !isNew {
		if n, err = s.record(ctx, e, r.PathValue("id"), formSelection(e, allMembers(e))); err != nil {
			s.fail(w, r, http.StatusInternalServerError, err)
			return
		} else if n == nil {
			s.fail(w, r, http.StatusNotFound, nil)
			return
		}
	}
	in, errs := s.readInput(ctx, e, si, n, r.PostForm)
	for k, v := range uploadErrs {
		errs[k] = v
	}
	if len(errs) > 0 {
		s.renderForm(w, r, http.StatusOK, e, si, n, r.PostForm, errs, translate(lang, "please fix"), lang)
		return
	}
	var id string
	if isNew {
		resp, err := s.gql(ctx, "mutation($input: Create"+e.Name+"Input!) { r: create"+e.Name+"(input: $input) { id } }", map[string]any{"input": in})
		if err != nil {
			s.formRefused(w, r, e, si, n, err, lang)
			return
		}
		id = str(dig(resp.Data, "r", "id"))
	} else {
		id = str(n["id"])
		if len(in) > 0 && !(len(in) == 1 && in["version"] != nil) {
			if _, err := s.gql(ctx, "mutation($id: ID!, $input: Update"+e.Name+"Input!) { r: update"+e.Name+"(id: $id, input: $input) { id } }",
				map[string]any{"id": id, "input": in}); err != nil {
				s.formRefused(w, r, e, si, n, err, lang)
				return
			}
		}
	}
	s.setFlash(w, r, "saved")
	redirect(w, r, recordURL(e, id))
}

// formRefused shows the form again with the API's errors at their fields (or above the form).
func (s *server) formRefused(w http.ResponseWriter, r *http.Request, e *metamodel.Entity, si *schemaInfo, n map[string]any, err error, lang string) {
	es, ok := err.(gqlErrors)
	if !ok {
		s.fail(w, r, http.StatusInternalServerError, err)
		return
	}
	errs := map[string]string{}
	var top []string
	for _, ge := range es {
		fes := ge.fieldErrors()
		for _, fe := range fes {
			if _, known := memberOf(e, fe.Field); known {
				errs[fe.Field] = fe.Rule
				if t := fe.text(s.cfg.Model, lang); t != "" {
					errs[fe.Field] = t
				} else if catalogue[lang]["rule."+fe.Rule] == "" {
					errs[fe.Field] = "type"
				}
			} else {
				// The API's own message names the field and the rule as the model spells them.
				top = append(top, s.explain(e, "", gqlError{Extensions: map[string]any{"code": "VALIDATION", "fields": []any{
					map[string]any{"field": fe.Field, "rule": fe.Rule}}}}, lang))
			}
		}
		if len(fes) == 0 {
			top = append(top, s.refusal(r, e, "", gqlErrors{ge}))
		}
	}
	msg := translate(lang, "please fix")
	if len(top) > 0 {
		msg = strings.Join(top, translate(lang, "; "))
	}
	// 200, not 422: the form is the answer, and browsers log every 4xx page as a console error.
	s.renderForm(w, r, http.StatusOK, e, si, n, r.PostForm, errs, msg, lang)
}
