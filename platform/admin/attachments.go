package admin

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"mime"
	"net/http"
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

// storeUploads stores the files posted for e's attachment fields and leaves their references in the
// posted values under uploadKey (a checked remove box leaves ""). A file over its field's maxSize or of a
// type it does not accept is not stored: its message, in lang, is returned by member. A posted value
// under uploadKey is dropped first: only an upload, or a file kept from an earlier post (keptKey), puts
// one there; a new file replaces a kept one, and the remove box both.
func (s *server) storeUploads(ctx context.Context, e *metamodel.Entity, r *http.Request, lang string) (map[string]string, error) {
	errs := map[string]string{}
	for k := range r.PostForm {
		if strings.HasPrefix(k, "upload.") {
			delete(r.PostForm, k)
		}
	}
	for _, f := range e.Fields {
		if !f.Type.Attachment() {
			continue
		}
		kept, _ := attach.Parse(r.PostForm.Get(keptKey(f.Name)))
		switch {
		case r.PostForm.Get("remove."+f.Name) != "":
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
		name := attach.CleanName(fh.Filename)
		file, err := fh.Open()
		if err != nil {
			return nil, fmt.Errorf("read upload %s: %w", f.Name, err)
		}
		ref, msg, err := s.storeOne(ctx, f, file, name, fh.Size, lang)
		file.Close()
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

// storeOne sniffs the content type of an upload of size bytes (what the client claims is not believed),
// checks it against the field's maxSize and accept (attach.Check, the check references written through
// the API pass too) and stores it. A refusal is returned as its message in lang.
func (s *server) storeOne(ctx context.Context, f *metamodel.Field, file io.Reader, name string, size int64, lang string) (*attach.File, string, error) {
	br := bufio.NewReaderSize(file, attach.SniffLen)
	head, _ := br.Peek(attach.SniffLen)
	ct := attach.Sniff(head, name)
	if r := attach.Check(f, name, ct, size); r != nil {
		return nil, uploadRefusal(lang, r), nil
	}
	if s.cfg.Files == nil {
		return nil, "", errors.New("store upload: the app has no file store")
	}
	sha, stored, err := s.cfg.Files.Put(ctx, io.LimitReader(br, f.MaxSize+1))
	if err != nil {
		return nil, "", err
	}
	if r := attach.Check(f, name, ct, stored); r != nil { // a part longer than its header said
		return nil, uploadRefusal(lang, r), nil
	}
	return &attach.File{SHA256: sha, Name: name, Size: int(stored), ContentType: ct}, "", nil
}

// uploadRefusal is the form's message, in lang, for an upload its field does not take.
func uploadRefusal(lang string, r *attach.Refusal) string {
	if r.Rule == attach.RuleMaxSize {
		return fmt.Sprintf(translate(lang, "upload.tooLarge"), r.Name, metamodel.FormatSize(r.Field.MaxSize))
	}
	return fmt.Sprintf(translate(lang, "upload.wrongType"), r.Name, strings.Join(r.Field.Accept, ", "))
}

// download serves /files/{entity}/{id}/{field}: the record's field is read through the API as the user,
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
	a, _ := n[f.GraphQLName()].(map[string]any)
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
