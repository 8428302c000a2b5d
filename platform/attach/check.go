package attach

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
	"unicode/utf8"

	"github.com/crmgen/crmgen/metamodel"
)

// What a file or image field takes. An upload (the admin's forms) and a reference written through the
// API pass the same check, Check, on the same facts: the content's size and its type as sniffed from its
// first SniffLen bytes, never what the client claims. The API's write path (platform/enforce) learns
// those facts from the Store with Verify.

// Rules a file refused by Check or Verify breaks (the names platform/enforce reports).
const (
	RuleFile    = "file"    // the reference names content that is not in the store
	RuleMaxSize = "maxSize" // the content is larger than the field's maxSize
	RuleAccept  = "accept"  // the content is of a type the field does not accept
)

// SniffLen is how many first bytes of a file its content type is sniffed from (net/http's limit).
const SniffLen = 512

// Sniff is the content type of a file named name whose content begins with head: net/http's sniffing
// of the first bytes, made finer by the name's extension when sniffing finds only a generic type (text,
// zip, octet-stream) and the extension names a type of that family. An SVG is image/svg+xml, which is
// never shown inline.
func Sniff(head []byte, name string) string {
	if len(head) > SniffLen {
		head = head[:SniffLen]
	}
	ct := http.DetectContentType(head)
	base, _, _ := mime.ParseMediaType(ct)
	byExt, _, _ := mime.ParseMediaType(mime.TypeByExtension(strings.ToLower(path.Ext(name))))
	switch {
	case strings.Contains(strings.ToLower(string(head)), "<svg"):
		return "image/svg+xml"
	case byExt == "":
	case base == "application/octet-stream", base == "application/zip" && strings.HasPrefix(byExt, "application/"):
		return byExt
	case base == "text/plain" && strings.HasPrefix(byExt, "text/") && byExt != "text/html":
		return byExt
	}
	return base
}

// maxName is the longest file name a reference keeps, in bytes.
const maxName = 255

// CleanName is the name a file is kept under, from the name a client gave it: its last path element
// (with / or \ as separators), without control characters, at most 255 bytes (the stem is shortened,
// the extension kept), and "file" when nothing is left.
func CleanName(name string) string {
	name = path.Base(strings.ReplaceAll(name, "\\", "/"))
	name = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == utf8.RuneError {
			return -1
		}
		return r
	}, name)
	name = strings.TrimSpace(name)
	if len(name) > maxName {
		ext := path.Ext(name)
		if len(ext) > 17 { // no extension one would recognise (Accepts allows 16 characters)
			ext = ""
		}
		stem := strings.TrimSuffix(name, ext)
		for len(stem)+len(ext) > maxName {
			_, n := utf8.DecodeLastRuneInString(stem)
			stem = stem[:len(stem)-n]
		}
		name = stem + ext
	}
	if name == "" || name == "." || name == "/" || name == ".." {
		return "file"
	}
	return name
}

// Refusal is why a file or image field does not take a file: the rule it breaks and what was found.
type Refusal struct {
	Rule        string // RuleFile, RuleMaxSize or RuleAccept
	Field       *metamodel.Field
	Name        string // the file's name (cleaned)
	Size        int64  // its size in bytes (RuleMaxSize)
	ContentType string // its sniffed content type (RuleAccept)
}

// Error says what is wrong for a field's message, as validation errors word it after the field's name.
func (r *Refusal) Error() string {
	switch r.Rule {
	case RuleMaxSize:
		return fmt.Sprintf("%s is larger than the limit of %s", metamodel.FormatSize(r.Size), metamodel.FormatSize(r.Field.MaxSize))
	case RuleAccept:
		if r.Field.Type == metamodel.TypeImage && !isImage(r.ContentType) {
			return fmt.Sprintf("%q (%s) is not an image", r.Name, r.ContentType)
		}
		return fmt.Sprintf("%q (%s) is not one of the accepted types %s", r.Name, r.ContentType, strings.Join(r.Field.Accept, ", "))
	}
	return "refers to a file that was never uploaded (upload the file, then write the reference its upload answered)"
}

// Text is the refusal in lang (zh or en; other languages get English) for the users of the app, naming
// the field by label, its label in that language.
func (r *Refusal) Text(lang, label string) string {
	w, ok := words[lang]
	if !ok {
		w = words["en"]
	}
	switch r.Rule {
	case RuleMaxSize:
		return fmt.Sprintf(w[RuleMaxSize], label, r.Name, metamodel.FormatSize(r.Size), metamodel.FormatSize(r.Field.MaxSize))
	case RuleAccept:
		if r.Field.Type == metamodel.TypeImage && !isImage(r.ContentType) {
			return fmt.Sprintf(w["image"], label, r.Name)
		}
		return fmt.Sprintf(w[RuleAccept], label, r.Name, strings.Join(r.Field.Accept, w[", "]))
	}
	return fmt.Sprintf(w[RuleFile], label)
}

// Languages are the languages Refusal.Text has words in.
var Languages = []string{"zh", "en"}

// words are Refusal.Text's sentences per language: the field's label first, then the facts.
var words = map[string]map[string]string{
	"zh": {
		RuleFile:    "%s：引用的文件不存在，请先上传文件",
		RuleMaxSize: "%s：文件 %s 的大小 %s 超过允许的 %s",
		RuleAccept:  "%s：不接受文件 %s 的类型（可接受：%s）",
		"image":     "%s：文件 %s 不是图片",
		", ":        "、",
	},
	"en": {
		RuleFile:    "%s: the file referred to was never uploaded; upload the file first",
		RuleMaxSize: "%s: the file %s is %s, larger than the limit of %s",
		RuleAccept:  "%s: the type of the file %s is not accepted (accepted: %s)",
		"image":     "%s: the file %s is not an image",
		", ":        ", ",
	},
}

// Check is whether field f takes a file named name (cleaned) of size bytes whose sniffed content type is
// contentType: not when it is larger than f's maxSize, not when f's accept does not take it (see
// metamodel.Field.Accepts), and for an image field not when it is no image. It returns nil when f takes
// the file. Uploads and references written through the API are checked here, and only here.
func Check(f *metamodel.Field, name, contentType string, size int64) *Refusal {
	switch {
	case size > f.MaxSize:
		return &Refusal{Rule: RuleMaxSize, Field: f, Name: name, Size: size, ContentType: contentType}
	case !f.Accepts(name, contentType), f.Type == metamodel.TypeImage && !isImage(contentType):
		return &Refusal{Rule: RuleAccept, Field: f, Name: name, Size: size, ContentType: contentType}
	}
	return nil
}

// isImage reports whether contentType is an image type.
func isImage(contentType string) bool {
	ct, _, _ := mime.ParseMediaType(contentType)
	return strings.HasPrefix(ct, "image/")
}

// Verify resolves a reference a client wrote into field f against the store s: the content of its hash
// must be there, its size and content type are the store's (sniffed from the content's first bytes as an
// upload's are), its name is cleaned as an upload's is, and the field must take the file (Check). It
// returns the reference to store, or the refusal; an error is a failure of the store itself.
func Verify(ctx context.Context, s Store, f *metamodel.Field, ref *File) (*File, *Refusal, error) {
	name := CleanName(ref.Name)
	if s == nil {
		return nil, &Refusal{Rule: RuleFile, Field: f, Name: name}, nil // no store: no reference can be checked
	}
	head, size, err := s.Peek(ctx, ref.SHA256, SniffLen)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, &Refusal{Rule: RuleFile, Field: f, Name: name}, nil
	} else if err != nil {
		return nil, nil, err
	}
	ct := Sniff(head, name)
	if r := Check(f, name, ct, size); r != nil {
		return nil, r, nil
	}
	return &File{SHA256: ref.SHA256, Name: name, Size: int(size), ContentType: ct}, nil, nil
}
