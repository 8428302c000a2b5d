package enforce_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/crmgen/crmgen/internal/modeltest"
	"github.com/crmgen/crmgen/platform/attach"
	"github.com/crmgen/crmgen/platform/auth"
	"github.com/crmgen/crmgen/platform/enforce"
)

// uploadModel has a file field for each case of Runtime.Upload's decision: a role that may create and
// update, one that may only update with the field readonly, one that may create with the field readonly
// (set on create only), one from whom the field is hidden, and one that may only read.
const uploadModel = `
app: {name: up}
entities:
  Doc:
    fields:
      title: {type: string}
      scan:  {type: image, maxSize: 1KB}
      stamp: {type: file, readonly: true}
roles:
  writer:   {permissions: {Doc: {read: all, create: true, update: all}}}
  updater:  {permissions: {Doc: {read: all, update: all, fields: {scan: readonly}}}}
  creator:  {permissions: {Doc: {read: all, create: true, update: all, fields: {scan: readonly}}}}
  blind:    {permissions: {Doc: {read: all, create: true, update: all, fields: {scan: hidden}}}}
  reader:   {permissions: {Doc: {read: all}}}
`

// Upload is decided like a write of the field, before anything is stored; what is stored is what the
// field takes.
func TestUploadDecision(t *testing.T) {
	m := modeltest.FromYAML(t, uploadModel)
	store := attach.Dir(t.TempDir())
	rt := enforce.New(m, "sqlite3", nil)
	rt.Files = store
	png := []byte("\x89PNG\r\n\x1a\n" + "pretend image data")
	as := func(role string) context.Context {
		return auth.WithPrincipal(context.Background(), &auth.Principal{ID: 1, Username: role, Roles: []string{role}})
	}
	for _, tc := range []struct {
		role, key, name string
		content         []byte
		rule            string // "" allowed; "forbidden"; else the field error's rule
	}{
		{"writer", "Doc_scan", "a.png", png, ""},
		{"creator", "Doc_scan", "a.png", png, ""}, // readonly on update, but it may create
		{"updater", "Doc_scan", "a.png", png, enforce.RuleReadonly},
		{"blind", "Doc_scan", "a.png", png, enforce.RuleReadonly},
		{"reader", "Doc_scan", "a.png", png, "forbidden"},
		{"writer", "Doc_stamp", "a.pdf", []byte("%PDF-1.4"), enforce.RuleReadonly}, // set by the system only
		{"writer", "Doc_scan", "a.txt", []byte("plain text"), enforce.RuleAccept},
		{"writer", "Doc_scan", "big.png", append(png, bytes.Repeat([]byte{1}, 1100)...), enforce.RuleMaxSize},
		{"writer", "Doc_title", "a.png", png, "notfound"},
	} {
		ref, err := rt.Upload(as(tc.role), tc.key, tc.name, bytes.NewReader(tc.content), int64(len(tc.content)))
		var (
			ve *enforce.ValidationError
			fe *enforce.ForbiddenError
			ne *enforce.NotFoundError
		)
		switch {
		case tc.rule == "" && (err != nil || ref == nil || ref.Size != len(tc.content) || ref.ContentType != "image/png"):
			t.Errorf("%s uploads %s: %+v, %v; want the reference of a %d-byte PNG", tc.role, tc.key, ref, err, len(tc.content))
		case tc.rule == "forbidden" && !errors.As(err, &fe):
			t.Errorf("%s uploads %s: %v; want forbidden", tc.role, tc.key, err)
		case tc.rule == "notfound" && !errors.As(err, &ne):
			t.Errorf("%s uploads %s: %v; want not found", tc.role, tc.key, err)
		case tc.rule != "" && tc.rule != "forbidden" && tc.rule != "notfound" &&
			(!errors.As(err, &ve) || len(ve.Fields) != 1 || ve.Fields[0].Rule != tc.rule):
			t.Errorf("%s uploads %s (%s): %v; want a refusal by %s", tc.role, tc.key, tc.name, err, tc.rule)
		}
		if ve != nil && tc.rule != enforce.RuleReadonly {
			if msgs := ve.Fields[0].Messages; msgs["zh"] == "" || msgs["en"] == "" {
				t.Errorf("%s uploads %s: refusal without words for the user: %+v", tc.role, tc.key, ve.Fields[0])
			}
		}
	}
	// Only the one PNG the allowed uploads sent is kept: every refusal came before the content was stored.
	var blobs []string
	filepath.WalkDir(string(store), func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			blobs = append(blobs, filepath.Base(path))
		}
		return nil
	})
	if len(blobs) != 1 {
		t.Errorf("the store holds %d files after the refusals, want only the PNG: %v", len(blobs), blobs)
	}
	// A client that says less than it sends is refused on what was stored.
	big := append(png, bytes.Repeat([]byte{1}, 1100)...)
	if _, err := rt.Upload(as("writer"), "Doc_scan", "big.png", bytes.NewReader(big), 10); err == nil {
		t.Error("a file over the field's maxSize, claimed small, was taken")
	}
	// No principal: nothing may be uploaded.
	if _, err := rt.Upload(context.Background(), "Doc_scan", "a.png", bytes.NewReader(png), int64(len(png))); err == nil {
		t.Error("an upload without a principal was stored")
	}
}
