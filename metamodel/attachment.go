package metamodel

import (
	"fmt"
	"mime"
	"path"
	"regexp"
	"strconv"
	"strings"
)

// sizeRE is a size as a model writes it: a whole number and a unit.
var sizeRE = regexp.MustCompile(`^([0-9]+) ?(B|KB|MB|GB)$`)

// ParseSize reads a size such as 512KB, 5MB or 1GB (units of 1024) into bytes.
func ParseSize(s string) (int64, error) {
	m := sizeRE.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return 0, fmt.Errorf("invalid size %q (want a whole number and B, KB, MB or GB, such as 5MB)", s)
	}
	n, err := strconv.ParseInt(m[1], 10, 64)
	if err != nil || n > 1<<20 {
		return 0, fmt.Errorf("size %q is too large", s)
	}
	shift := map[string]uint{"B": 0, "KB": 10, "MB": 20, "GB": 30}[m[2]]
	return n << shift, nil
}

// FormatSize writes a size in bytes for people: 930 B, 12.5 KB, 3.2 MB.
func FormatSize(n int64) string {
	switch {
	case n < 1<<10:
		return fmt.Sprintf("%d B", n)
	case n < 1<<20:
		return strings.TrimSuffix(fmt.Sprintf("%.1f", float64(n)/(1<<10)), ".0") + " KB"
	case n < 1<<30:
		return strings.TrimSuffix(fmt.Sprintf("%.1f", float64(n)/(1<<20)), ".0") + " MB"
	}
	return strings.TrimSuffix(fmt.Sprintf("%.1f", float64(n)/(1<<30)), ".0") + " GB"
}

var (
	mimeRE      = regexp.MustCompile(`^[a-z0-9][a-z0-9!#$&^_.+-]*/(\*|[a-z0-9][a-z0-9!#$&^_.+-]*)$`)
	extensionRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_+-]{0,15}$`)
)

// Attachment reports whether values of the type are uploaded attachments (file, image).
func (t FieldType) Attachment() bool { return t == TypeFile || t == TypeImage }

// acceptProblem explains why an accept entry is neither a MIME type nor an extension, or returns "".
func acceptProblem(a string) string {
	switch {
	case strings.Contains(a, "/"):
		if !mimeRE.MatchString(a) {
			return fmt.Sprintf("%q is not a MIME type (want type/subtype such as application/pdf, or type/* such as image/*)", a)
		}
	case !extensionRE.MatchString(a):
		return fmt.Sprintf("%q is not a file extension (want letters and digits such as pdf or docx, or a MIME type such as application/pdf)", a)
	}
	return ""
}

// normalizeAccept writes an accept entry as Field.Accept holds it: lower case, an extension without its dot.
func normalizeAccept(a string) string {
	return strings.TrimPrefix(strings.ToLower(strings.TrimSpace(a)), ".")
}

// Accepts reports whether a file or image field takes an upload named name whose content is of type
// contentType (as sniffed by the server, not as the client claims): an empty accept takes any file; an
// entry matches the content type exactly, by type/*, or the name's extension, in which case the content
// must also be of that extension's type when one is known (a PNG named report.pdf is not a pdf).
func (f *Field) Accepts(name, contentType string) bool {
	ct, _, _ := mime.ParseMediaType(contentType)
	if len(f.Accept) == 0 {
		return true
	}
	ext := strings.ToLower(strings.TrimPrefix(path.Ext(name), "."))
	for _, a := range f.Accept {
		switch {
		case strings.HasSuffix(a, "/*"):
			if strings.HasPrefix(ct, strings.TrimSuffix(a, "*")) {
				return true
			}
		case strings.Contains(a, "/"):
			if ct == a {
				return true
			}
		case a == ext:
			want, _, _ := mime.ParseMediaType(mime.TypeByExtension("." + ext))
			if want == "" || want == ct || ct == "application/octet-stream" || ct == "application/zip" {
				return true // sniffing knows no finer type than octet-stream or zip (docx, xlsx)
			}
		}
	}
	return false
}

// attachment checks the options of a file or image field and resolves their defaults.
func (b *builder) attachment(f *Field, q string, at func(string) Pos) {
	if f.MaxSize == 0 && !b.m.hasKey(f, "maxSize") {
		f.MaxSize = DefaultMaxSize
	}
	if b.m.hasKey(f, "maxSize") && f.MaxSize <= 0 {
		b.errorf(at("maxSize"), "maxSize of field %q must be more than 0 bytes (such as 5MB)", q)
	}
	for i, a := range f.Accept {
		if p := acceptProblem(a); p != "" {
			b.errorf(b.m.posOf(f, "accept."+itoa(i), at("accept")), "accept of field %q: %s", q, p)
			continue
		}
		if f.Type == TypeImage && strings.Contains(a, "/") && !strings.HasPrefix(a, "image/") {
			b.errorf(b.m.posOf(f, "accept."+itoa(i), at("accept")), "accept of image field %q: %q is not an image type (use type: file for other documents)", q, a)
		}
	}
	if f.Type == TypeImage && len(f.Accept) == 0 && !b.m.hasKey(f, "accept") {
		f.Accept = append([]string(nil), DefaultImageAccept...)
	}
	for _, k := range []string{"unique", "default", "index", "computed"} {
		if b.m.hasKey(f, k) {
			b.errorf(at(k), "field %q of type %s cannot have %s (an attachment is uploaded, not a value to compare)", q, f.Type, k)
		}
	}
}
