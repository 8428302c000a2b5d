package e2e

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/crmgen/crmgen/internal/apptest"
	"github.com/crmgen/crmgen/metamodel"
)

// Downloads in the permission matrix: the files of file and image fields are a read path of their own
// (/files/<entity>/<id>/<field>, and /files/<entity>/<id>/<field>/<sha256> for each file of a multiple
// field), so the matrix attaches files to rows on both sides of every row scope
// and checks, for every user, every such row and field: the file's bytes when the user may read the row
// and the field on it, and 404 otherwise, exactly as for a row that does not exist.

// pmFileRows is how many rows of each file or image field get a file: spread over the entity's rows in
// id order, which the examples' data interleaves across owners and teams.
const pmFileRows = 8

// seedFiles attaches a file to up to pmFileRows rows of every file or image field, as a user does: the
// superuser's edit form in Chromium, with nothing else changed. A row whose form has no file input (a
// record locked in a final state) is passed over. It runs before mapRows, which then reads each row's
// file as its value.
func (mx *pmMatrix) seedFiles(t *testing.T, s *apptest.Server) {
	type target struct {
		e *metamodel.Entity
		f *metamodel.Field
	}
	var targets []target
	for _, e := range mx.m.Entities {
		if !mx.plans[e.Name].hasQuery {
			continue
		}
		for _, f := range e.Fields {
			if f.Type.Attachment() && !f.Secret {
				targets = append(targets, target{e, f})
			}
		}
	}
	if len(targets) == 0 {
		return
	}
	p := openBrowser(t, s)
	p.signIn(mx.w.super.name, mx.w.super.password)
	dir := t.TempDir()
	for _, tg := range targets {
		name, content := pmFileFor(t, tg.f)
		if content == nil {
			t.Logf("%s.%s accepts neither a PNG nor a PDF: no file to attach", tg.e.Name, tg.f.Name)
			continue
		}
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, content, 0o600); err != nil {
			t.Fatal(err)
		}
		var ids []int
		resp := query(t, mx.admin, fmt.Sprintf(`{ l: %s(first: 1000) { edges { node { id } } } }`, tg.e.QueryField()), nil)
		for _, n := range list(t, resp, "l.edges") {
			var id int
			fmt.Sscan(fmt.Sprint(at(t, n, "node.id")), &id)
			ids = append(ids, id)
		}
		slices.Sort(ids)
		step := max(1, len(ids)/pmFileRows)
		seeded := 0
		for i := 0; i < len(ids) && seeded < pmFileRows; i += step {
			url := fmt.Sprintf("/e/%s/%d", tg.e.Name, ids[i])
			p.open(url + "/edit")
			input := fmt.Sprintf(`input[type=file][name=%q]`, tg.f.Name)
			if p.count(input) == 0 {
				continue
			}
			p.do(chromedp.SetUploadFiles(chromedp.CSS(input), []string{path}))
			p.submit("#save")
			if got := eval[string](p, `location.pathname`); got != url {
				t.Errorf("attaching %s to %s: the edit form answered %s: %s", tg.f.Name, url, got, p.text("main"))
				continue
			}
			seeded++
		}
		if seeded == 0 {
			t.Errorf("no %s could be given a %s: the matrix checks no download of it", tg.e.Name, tg.f.Name)
		}
	}
	p.noErrors()
}

// pmFileKinds are the checks of downloads and uploads: a model with file or image fields and roles that
// hide rows or fields must exercise each.
var pmFileKinds = []string{"file downloaded", "file download refused (404)", "file upload allowed", "file upload refused"}

// pmCheckFiles fails the test when m has file or image fields yet the matrix checked no download on one
// side: the files were not attached, or no role hides any of them.
func pmCheckFiles(t *testing.T, m *metamodel.Model, tally map[string]int) {
	for _, e := range m.Entities {
		for _, f := range e.Fields {
			if !f.Type.Attachment() {
				continue
			}
			for _, k := range pmFileKinds {
				if tally[k] == 0 {
					t.Errorf("%s has file or image fields (%s.%s), but the matrix made no check of kind %q", m.App.Name, e.Name, f.Name, k)
				}
			}
			return
		}
	}
}

// pmFileFor is a small file field f accepts: a PNG, else a PDF, else none.
func pmFileFor(t *testing.T, f *metamodel.Field) (string, []byte) {
	png := pngBytes(t, 16)
	switch {
	case f.Accepts("file.png", "image/png") && int64(len(png)) <= f.MaxSize:
		return "file.png", png
	case f.Type != metamodel.TypeImage && f.Accepts("file.pdf", "application/pdf"):
		return "file.pdf", pdfBytes()
	}
	return "", nil
}

// downloads checks every file of p's entity as u downloads it.
func (mx *pmMatrix) downloads(t *testing.T, rep *pmReport, s *apptest.Server, u *pmUser, p *pmPlan) {
	w := mx.w
	for _, f := range p.fields {
		if !f.Type.Attachment() {
			continue
		}
		g := f.GraphQLName()
		for _, r := range w.rows[p.e.Name] {
			if r.id == "" {
				continue
			}
			// One file at the field's address, or each file of a multiple field at its hash's.
			files := map[string]any{}
			base := fmt.Sprintf("/files/%s/%s/%s", p.e.Name, r.id, f.Name)
			if v, ok := r.vals[g].(map[string]any); ok {
				files[base] = v["sha256"]
			}
			if list, ok := r.vals[g].([]any); ok {
				for _, it := range list {
					if v, ok := it.(map[string]any); ok {
						files[base+"/"+fmt.Sprint(v["sha256"])] = v["sha256"]
					}
				}
			}
			want := w.readable(u, r) && w.shown(u, r, f.Name, false)
			for path, sha := range files {
				resp, body := download(t, s, path)
				sum := sha256.Sum256(body)
				switch {
				case want && resp.StatusCode == http.StatusOK && hex.EncodeToString(sum[:]) == sha:
					mx.count("file downloaded")
				case !want && resp.StatusCode == http.StatusNotFound:
					mx.count("file download refused (404)")
				case want:
					rep.add(fmt.Sprintf("download of %s: not the file", f.Name), "%s: %d, %d bytes", r.label, resp.StatusCode, len(body))
				default:
					rep.add(fmt.Sprintf("download of %s: answered where 404 is expected", f.Name), "%s: %d, %d bytes", r.label, resp.StatusCode, len(body))
				}
			}
		}
	}
}

// uploads sends a small file the field takes to uploadFile for each file or image field of p's entity, as
// u: allowed when u may write the field on some record — a role that creates the entity, or one that
// updates it with the field neither readonly nor hidden, the field not hidden from every role of u that
// reads the entity — and not set by the system only; FORBIDDEN without create or update; else VALIDATION
// by rule readonly. The same rules the write checks decide it by, on what this test reads from the model.
func (mx *pmMatrix) uploads(t *testing.T, rep *pmReport, s *apptest.Server, u *pmUser, p *pmPlan) {
	w := mx.w
	e := p.e.Name
	for _, f := range p.e.Fields {
		if !f.Type.Attachment() {
			continue
		}
		name, content := pmFileFor(t, f)
		if content == nil {
			continue
		}
		// granted: some role creates or updates the entity; creates, updates: one may write the field so.
		creates, updates, granted := u.all, u.all, u.all
		for _, perm := range w.perms(u, e) {
			creates = creates || perm.Create
			granted = granted || perm.Create || pmGranted(perm.Update)
			if rule := perm.Fields[f.Name]; pmGranted(perm.Update) && rule != metamodel.AccessReadonly && rule != metamodel.AccessHidden {
				updates = true
			}
		}
		want := ""
		switch {
		case !granted:
			want = "FORBIDDEN"
		case f.Readonly || f.Computed.Src != "" || w.hiddenEverywhere(u, e, f.Name) || !creates && !updates:
			want = "VALIDATION"
		}
		_, r := uploadFile(t, s, `mutation($field: AttachmentField!, $file: Upload!) { uploadFile(field: $field, file: $file) { sha256 } }`,
			metamodel.UploadKey(p.e, f), name, content)
		got := ""
		if len(r.Errors) > 0 {
			got = pmCode(r.Errors[0])
		}
		switch {
		case got != want:
			rep.add(fmt.Sprintf("upload to %s.%s: want %q", e, f.Name, want), "got %q %v", got, r.Errors)
		case want == "":
			mx.count("file upload allowed")
		case want == "VALIDATION" && !pmNamesFieldRule(r.Errors[0], f.Name, "readonly"):
			rep.add(fmt.Sprintf("upload to %s.%s: want VALIDATION rule readonly naming it", e, f.Name), "got %s", pmDescribe(r.Errors[0]))
		default:
			mx.count("file upload refused")
		}
	}
}
