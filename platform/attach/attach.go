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
