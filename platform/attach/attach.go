// Package attach keeps the uploaded files of file and image fields. A record stores a small reference
// (File, as JSON in the field's column): the content's SHA-256, the name it was uploaded under, its size
// and its content type as sniffed by the server. The bytes live in a Store under their hash, so the same
// content uploaded twice is kept once, and a reference can name only content its writer already had.
//
// Whoever writes a reference (the admin's form after its upload, or any client of the API) gets it
// checked against the Store by the app's one write path (platform/enforce calls Verify): content that is
// not there is refused, the size and content type stored are the Store's, never the writer's, and the
// field's maxSize, accept and image-only rules apply through Check, the same check an upload passes.
//
// A download is authorised like a read of the record and its field: the admin's download handler reads
// the field through the app's GraphQL as the signed-in user, and streams the blob only when that read
// answers a reference (see platform/admin).
package attach

import (
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/crmgen/crmgen/metamodel"
)

// File is the reference to an uploaded file that a file or image field stores, and the GraphQL type
// Attachment. URL is not stored: it is the download address of the field of the record it was read from.
type File struct {
	SHA256      string `json:"sha256"`
	Name        string `json:"name"`
	Size        int    `json:"size"`
	ContentType string `json:"contentType"`
	URL         string `json:"-"`
}

var shaRE = regexp.MustCompile(`^[0-9a-f]{64}$`)

// Parse reads a stored reference. The empty string is no file (nil, nil).
func Parse(s string) (*File, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	var f File
	if err := json.Unmarshal([]byte(s), &f); err != nil {
		return nil, fmt.Errorf("not a file reference: %v", err)
	}
	return checked(f)
}

// checked is f if its fields are those of a reference, with the content type defaulted.
func checked(f File) (*File, error) {
	if !shaRE.MatchString(f.SHA256) {
		return nil, fmt.Errorf("not a file reference: sha256 must be 64 lower-case hex digits")
	}
	if strings.TrimSpace(f.Name) == "" || len(f.Name) > 255 || strings.ContainsAny(f.Name, "/\\\x00") {
		return nil, fmt.Errorf("not a file reference: name must be a file name of 1 to 255 bytes")
	}
	if f.Size < 0 {
		return nil, fmt.Errorf("not a file reference: size must not be negative")
	}
	if f.ContentType == "" {
		f.ContentType = "application/octet-stream"
	}
	return &f, nil
}

// ParseList reads what a multiple file or image field stores: a JSON array of references, in order. The
// empty string and [] are no files (nil, nil). A list holds at most metamodel.MaxAttachments files.
func ParseList(s string) ([]*File, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	var list []File
	if err := json.Unmarshal([]byte(s), &list); err != nil {
		return nil, fmt.Errorf("not a list of file references: %v", err)
	}
	if len(list) > metamodel.MaxAttachments {
		return nil, fmt.Errorf("not a list of file references: %d files, at most %d", len(list), metamodel.MaxAttachments)
	}
	out := make([]*File, 0, len(list))
	for i, f := range list {
		c, err := checked(f)
		if err != nil {
			return nil, fmt.Errorf("file %d: %w", i+1, err)
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}

// EncodeList writes references as a multiple field stores them; no files are the empty string.
func EncodeList(files []*File) string {
	if len(files) == 0 {
		return ""
	}
	b, _ := json.Marshal(files)
	return string(b)
}

// ParseField reads what the file or image field f stores: its one reference, or a multiple field's list;
// no file is none (nil, nil).
func ParseField(f *metamodel.Field, s string) ([]*File, error) {
	if f.Multiple {
		return ParseList(s)
	}
	ref, err := Parse(s)
	if err != nil || ref == nil {
		return nil, err
	}
	return []*File{ref}, nil
}

// EncodeField writes refs as the file or image field f stores them (ParseField's inverse).
func EncodeField(f *metamodel.Field, refs []*File) string {
	switch {
	case f.Multiple:
		return EncodeList(refs)
	case len(refs) == 0:
		return ""
	}
	return refs[0].Encode()
}

// Encode writes the reference as a field stores it.
func (f *File) Encode() string {
	b, _ := json.Marshal(f)
	return string(b)
}

// Reference is the GraphQL value of a stored field: the reference with its download URL, or nil when the
// field is empty (or holds something that is not a reference).
func Reference(stored *string, entity string, id int, field string) *File {
	if stored == nil {
		return nil
	}
	f, err := Parse(*stored)
	if err != nil || f == nil {
		return nil
	}
	f.URL = DownloadURL(entity, strconv.Itoa(id), field)
	return f
}

// References is the GraphQL value of a stored multiple field: its references, each with its download URL
// (DownloadURL with the file's SHA-256), none when the field is empty or holds no list of references.
func References(stored *string, entity string, id int, field string) []*File {
	if stored == nil {
		return []*File{}
	}
	list, err := ParseList(*stored)
	if err != nil || list == nil {
		return []*File{}
	}
	for _, f := range list {
		f.URL = DownloadURL(entity, strconv.Itoa(id), field) + "/" + f.SHA256
	}
	return list
}

// DownloadURL is where the file of a record's field is downloaded.
func DownloadURL(entity, id, field string) string {
	return "/files/" + url.PathEscape(entity) + "/" + url.PathEscape(id) + "/" + url.PathEscape(field)
}

// Inline reports whether a file of contentType may be shown inline by a browser: only raster images.
// Everything else, SVG above all (a document that can run script), is downloaded as an attachment.
func Inline(contentType string) bool {
	switch strings.TrimSpace(strings.SplitN(contentType, ";", 2)[0]) {
	case "image/png", "image/jpeg", "image/gif", "image/webp":
		return true
	}
	return false
}

// Reference is the value a file or image field is written with to hold this file (the GraphQL field
// Attachment.reference): what the field stores, without the download URL.
func (f *File) Reference() string { return f.Encode() }
