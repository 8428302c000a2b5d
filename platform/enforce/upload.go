package enforce

import (
	"context"
	"io"

	"github.com/crmgen/crmgen/metamodel"
	"github.com/crmgen/crmgen/platform/attach"
)

// Upload stores a file a client of the API sends for the file or image field named by key
// (metamodel.UploadKey, "Patient_photo") and returns the reference to write into that field. It is
// decided here, like a write of the field: the caller must be able to write the field on some record —
// create the entity, or update some of its rows with the field not readonly for them — and the field
// must not be hidden from them or set only by the system; the field's maxSize and accept apply to the
// content as it is stored (attach.Upload). A refusal names the field and rule as a write's does, in each
// of the platform's languages, and stores nothing. Writing the reference to a record is then checked by
// the write path as every reference is (verifyAttachment).
func (rt *Runtime) Upload(ctx context.Context, key, name string, r io.Reader, size int64) (*attach.File, error) {
	e, f := rt.uploadField(key)
	if f == nil {
		return nil, &NotFoundError{Entity: key} // the API's enum names only real fields
	}
	a := rt.AccessOf(ctx, e.Name)
	switch {
	case a.All:
	case !a.Create && len(a.Update) == 0:
		return nil, &ForbiddenError{Entity: e.Name, Action: "upload files to"}
	case a.Hidden[f.Name], !a.Create && a.Readonly[f.Name]:
		return nil, &ValidationError{Fields: []*FieldError{{Entity: e.Name, Field: f.Name, Rule: RuleReadonly,
			Msg: "is not writable with your roles"}}}
	}
	if f.Readonly || f.Computed.Src != "" {
		return nil, &ValidationError{Fields: []*FieldError{{Entity: e.Name, Field: f.Name, Rule: RuleReadonly,
			Msg: "is set by the system only"}}}
	}
	ref, refusal, err := attach.Upload(ctx, rt.Files, f, name, r, size)
	if err != nil {
		return nil, err
	}
	if refusal != nil {
		return nil, &ValidationError{Fields: []*FieldError{rt.refused(e, refusal)}}
	}
	return ref, nil
}

// uploadField is the entity and file or image field that key names (metamodel.UploadKey), or nils.
func (rt *Runtime) uploadField(key string) (*metamodel.Entity, *metamodel.Field) {
	for _, e := range rt.Model.Entities {
		for _, f := range e.Fields {
			if f.Type.Attachment() && metamodel.UploadKey(e, f) == key {
				return e, f
			}
		}
	}
	return nil, nil
}
