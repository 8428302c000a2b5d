package admin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/crmgen/crmgen/metamodel"
	"github.com/crmgen/crmgen/platform/attach"
)

// Attachments: file and image fields. A form sends its files as multipart/form-data; storeUploads checks
// each against its field's maxSize and accept (attach.Check), stores the content (Config.Files) and hands
// the reference to readInput, which writes it through the API's mutation like any other value, so the
// field rules and the API's own check of the reference against the store (attach.Verify) hold. A download reads the record's field through the API as the
// signed-in user first: only a user who may read the record and the field gets its bytes.

// uploadKey is the posted key under which storeUploads leaves a field's new reference ("" removes the file).
func uploadKey(name string) string { return "upload." + name }

// keptKey is the posted key of a file uploaded with an earlier post of the same form, which was shown
// again for an error: the file is stored, and its reference comes back with the form. A reference
// posted here is no more trusted than one written through the API: the API's write checks it against
// the store and the field (platform/enforce), as it checks every reference.
func keptKey(name string) string { return "kept." + name }

// The message of too many files names the bound.
func init() {
	for _, lang := range []string{"zh", "en"} {
		catalogue[lang]["rule.maxFiles"] = fmt.Sprintf(catalogue[lang]["rule.maxFiles"], metamodel.MaxAttachments)
	}
}

// addedKey is the posted key under which storeUploads leaves the references of the files just uploaded to
// a multiple field, as a list.
func addedKey(name string) string { return "added." + name }

// removeKey is the posted key of a remove box: "1" for a single file, a file's SHA-256 for each file of a
// multiple field.
func removeKey(name string) string { return "remove." + name }

// fileList is what a multiple field's form makes of its files: those it was shown with (keptKey, else the
// record's), less those whose remove box is ticked, then those just uploaded (addedKey); and whether that
// differs from the record's. The kept list is no more trusted than the API trusts any reference.
func fileList(f *metamodel.Field, n map[string]any, posted url.Values) ([]*attach.File, bool) {
	current := recordFiles(n[f.GraphQLName()])
	base := current
	if k, ok := posted[keptKey(f.Name)]; ok && len(k) > 0 {
		base, _ = attach.ParseList(k[0])
	}
	removed := map[string]bool{}
	for _, sha := range posted[removeKey(f.Name)] {
		removed[sha] = true
	}
	urls := map[string]string{}
	for _, a := range current {
		urls[a.SHA256] = a.URL
	}
	var list []*attach.File
	for _, a := range base {
		if !removed[a.SHA256] {
			a.URL = urls[a.SHA256] // a file the record has keeps its link
			list = append(list, a)
		}
	}
	added, _ := attach.ParseList(posted.Get(addedKey(f.Name)))
	list = append(list, added...)
	changed := len(list) != len(current)
	for i := 0; !changed && i < len(list); i++ {
		changed = list[i].SHA256 != current[i].SHA256 || list[i].Name != current[i].Name
	}
	return list, changed
}

// recordFiles reads a multiple field as the API answered it ({sha256 name size contentType url} each),
// read as a stored list is (attach.ParseList), with each file's URL.
func recordFiles(v any) []*attach.File {
	items, _ := v.([]any)
	b, err := json.Marshal(items)
	if err != nil {
		return nil
	}
	list, err := attach.ParseList(string(b))
	if err != nil {
		return nil
	}
	for i, f := range list {
		a, _ := items[i].(map[string]any)
		f.URL = str(a["url"])
	}
	return list
}

// fileCell shows one file of a multiple field's form: linked when the record has it already, its name
// and size when it was just uploaded.
func fileCell(a *attach.File) cell {
	if a.URL != "" {
		return attachmentCell(map[string]any{"name": a.Name, "size": strconv.Itoa(a.Size), "contentType": a.ContentType, "url": a.URL})
	}
	return cell{Text: a.Name, Size: metamodel.FormatSize(int64(a.Size))}
}

// acceptAttr is a file input's accept attribute: MIME types as they are, extensions with their dot.
func acceptAttr(f *metamodel.Field) string {
	out := make([]string, len(f.Accept))
	for i, a := range f.Accept {
		if strings.Contains(a, "/") {
			out[i] = a
		} else {
			out[i] = "." + a
		}
	}
	return strings.Join(out, ",")
}

// attachmentCell shows an attachment as the API answered it ({name size contentType url}): an image
// that browsers may show inline as a thumbnail, anything else as a download link with its size.
func attachmentCell(v any) cell {
	a, _ := v.(map[string]any)
	if a == nil || str(a["url"]) == "" {
		return cell{Empty: true}
	}
	c := cell{Text: str(a["name"])}
	if size, err := strconv.ParseInt(str(a["size"]), 10, 64); err == nil {
		c.Size = metamodel.FormatSize(size)
	}
	if attach.Inline(str(a["contentType"])) {
		c.Image = str(a["url"])
	} else {
		c.File = str(a["url"])
	}
	return c
}

// attachmentsCell shows the attachments of a multiple field as the API answered them (a list of
// {name size contentType url}), each as attachmentCell does; none is an empty cell.
func attachmentsCell(v any) cell {
	list, _ := v.([]any)
	var c cell
	for _, a := range list {
		if ac := attachmentCell(a); !ac.Empty {
			c.Files = append(c.Files, ac)
		}
	}
	c.Empty = len(c.Files) == 0
	return c
}

// storeUploads stores the files posted for e's attachment fields and leaves their references in the
// posted values under uploadKey (a checked remove box leaves ""). A file over its field's maxSize or of a
// type it does not accept is not stored: its message, in lang, is returned by member. A posted value
// under uploadKey is dropped first: only an upload, or a file kept from an earlier post (keptKey), puts
// one there; a new file replaces a kept one, and the remove box both.
func (s *server) storeUploads(ctx context.Context, e *metamodel.Entity, r *http.Request, lang string) (map[string]string, error) {
	errs := map[string]string{}
	for k := range r.PostForm {
		if strings.HasPrefix(k, "upload.") || strings.HasPrefix(k, "added.") {
			delete(r.PostForm, k)
		}
	}
	for _, f := range e.Fields {
		if !f.Type.Attachment() {
			continue
		}
		if f.Multiple {
			added, msg, err := s.storeAll(ctx, f, r, lang)
			if err != nil {
				return nil, err
			}
			if msg != "" {
				errs[f.Name] = msg
			}
			if len(added) > 0 {
				r.PostForm.Set(addedKey(f.Name), attach.EncodeList(added))
			}
			continue
		}
		kept, _ := attach.Parse(r.PostForm.Get(keptKey(f.Name)))
		switch {
		case r.PostForm.Get(removeKey(f.Name)) != "":
			r.PostForm.Set(uploadKey(f.Name), "")
		case kept != nil:
			kept.Name = attach.CleanName(kept.Name)
			r.PostForm.Set(uploadKey(f.Name), kept.Encode())
		}
		if r.MultipartForm == nil || len(r.MultipartForm.File[f.Name]) == 0 {
			continue
		}
		fh := r.MultipartForm.File[f.Name][0]
		if fh.Filename == "" && fh.Size == 0 {
			continue // no file chosen: the browser sends an empty part
		}
		ref, msg, err := s.storePart(ctx, f, fh, lang)
		if err != nil {
			return nil, err
		}
		if msg != "" {
			errs[f.Name] = msg
			continue
		}
		r.PostForm.Set(uploadKey(f.Name), ref.Encode())
	}
	return errs, nil
}

// storeAll stores the files posted for the multiple field f, in order, and returns their references;
// a file the field does not take is not stored, and the first such refusal is returned as its message.
func (s *server) storeAll(ctx context.Context, f *metamodel.Field, r *http.Request, lang string) ([]*attach.File, string, error) {
	if r.MultipartForm == nil {
		return nil, "", nil
	}
	var added []*attach.File
	msg := ""
	for _, fh := range r.MultipartForm.File[f.Name] {
		if fh.Filename == "" && fh.Size == 0 {
			continue // no file chosen: the browser sends an empty part
		}
		if len(added) == metamodel.MaxAttachments {
			return added, translate(lang, "rule.maxFiles"), nil
		}
		ref, refused, err := s.storePart(ctx, f, fh, lang)
		if err != nil {
			return nil, "", err
		}
		if refused != "" {
			if msg == "" {
				msg = refused
			}
			continue
		}
		added = append(added, ref)
	}
	return added, msg, nil
}

// storePart stores the posted file part fh of field f (attach.Upload); a refusal is returned as its
// message in lang.
func (s *server) storePart(ctx context.Context, f *metamodel.Field, fh *multipart.FileHeader, lang string) (*attach.File, string, error) {
	file, err := fh.Open()
	if err != nil {
		return nil, "", fmt.Errorf("read upload %s: %w", f.Name, err)
	}
	defer file.Close()
	ref, refusal, err := attach.Upload(ctx, s.cfg.Files, f, fh.Filename, file, fh.Size)
	if refusal != nil {
		return nil, uploadRefusal(lang, refusal), nil
	}
	return ref, "", err
}

// uploadRefusal is the form's message, in lang, for an upload its field does not take.
func uploadRefusal(lang string, r *attach.Refusal) string {
	if r.Rule == attach.RuleMaxSize {
		return fmt.Sprintf(translate(lang, "upload.tooLarge"), r.Name, metamodel.FormatSize(r.Field.MaxSize))
	}
	return fmt.Sprintf(translate(lang, "upload.wrongType"), r.Name, strings.Join(r.Field.Accept, ", "))
}

// download serves /files/{entity}/{id}/{field}, and /files/{entity}/{id}/{field}/{sha} for a file of a
// multiple field: the record's field is read through the API as the user,
// and only a reference in that answer is served. A record or field the user may not read is 404 — not
// 403, which would tell them it exists. Raster images are shown inline; every other file, SVG included,
// is an attachment, and nothing is sniffed or run by the browser.
func (s *server) download(w http.ResponseWriter, r *http.Request) {
	e := s.cfg.Model.Entity(r.PathValue("entity"))
	var f *metamodel.Field
	if e != nil {
		f = e.Field(r.PathValue("field"))
	}
	if f == nil || !f.Type.Attachment() || f.Secret || !access(r.Context(), e.Name).MayRead() {
		s.fail(w, r, http.StatusNotFound, nil)
		return
	}
	n, err := s.record(r.Context(), e, r.PathValue("id"), nodeQuery(e, "id "+f.GraphQLName()+" { sha256 name size contentType }"))
	if err != nil {
		s.fail(w, r, http.StatusInternalServerError, err)
		return
	}
	var a map[string]any
	if sha := r.PathValue("sha"); f.Multiple && sha != "" { // one file of the list, by its content's hash
		list, _ := n[f.GraphQLName()].([]any)
		for _, it := range list {
			if m, _ := it.(map[string]any); m != nil && str(m["sha256"]) == sha {
				a = m
				break
			}
		}
	} else if !f.Multiple && sha == "" {
		a, _ = n[f.GraphQLName()].(map[string]any)
	}
	if a == nil {
		s.fail(w, r, http.StatusNotFound, nil)
		return
	}
	rc, err := s.cfg.Files.Open(r.Context(), str(a["sha256"]))
	if errors.Is(err, fs.ErrNotExist) {
		s.fail(w, r, http.StatusNotFound, nil)
		return
	} else if err != nil {
		s.fail(w, r, http.StatusInternalServerError, err)
		return
	}
	defer rc.Close()
	ct, name := str(a["contentType"]), str(a["name"])
	h := w.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	h.Set("Cache-Control", "private, no-cache")
	if size, err := strconv.ParseInt(str(a["size"]), 10, 64); err == nil {
		h.Set("Content-Length", strconv.FormatInt(size, 10))
	}
	disposition := "attachment"
	if attach.Inline(ct) {
		disposition = "inline"
		h.Set("Content-Type", ct)
	} else {
		h.Set("Content-Type", "application/octet-stream")
	}
	h.Set("Content-Disposition", mime.FormatMediaType(disposition, map[string]string{"filename": name}))
	if r.Method == http.MethodHead {
		return
	}
	if _, err := io.Copy(w, rc); err != nil {
		s.cfg.Log.WarnContext(r.Context(), "download", "path", r.URL.Path, "err", err)
	}
}
