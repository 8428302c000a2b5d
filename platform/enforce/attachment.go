package enforce

import (
	"context"
	"fmt"

	"entgo.io/ent"

	"github.com/crmgen/crmgen/metamodel"
	"github.com/crmgen/crmgen/platform/attach"
)

// verifyAttachment checks the reference that m writes to the file or image field f against the app's
// store, whatever path wrote it (the admin's forms after an upload, any client of the API, a workflow or
// an automation): the content must have been uploaded, and the field must take it as it would take the
// upload (attach.Verify). The reference m writes becomes the store's: its true size and sniffed content
// type, and the client's name cleaned as an upload's. A refusal names the field by its label in each of
// the platform's languages; nothing is written, since the mutation fails in its transaction.
//
// A multiple field's list is checked file by file, and the first refused file refuses the write.
func (rt *Runtime) verifyAttachment(ctx context.Context, info *entityInfo, m ent.Mutation, f *metamodel.Field, v ent.Value) (*FieldError, error) {
	s, _ := plain(v).(string)
	refs, err := attach.ParseField(f, s)
	if err != nil || len(refs) == 0 {
		return nil, nil // checkValue has refused a value that is no reference; an empty one removes the files
	}
	for i, ref := range refs {
		got, refusal, err := attach.Verify(ctx, rt.Files, f, ref)
		if err != nil {
			return nil, fmt.Errorf("check the file of %s.%s: %w", info.e.Name, f.Name, err)
		}
		if refusal != nil {
			return rt.refused(info.e, refusal), nil
		}
		refs[i] = got
	}
	if err := m.SetField(f.EntName(), attach.EncodeField(f, refs)); err != nil {
		return nil, fmt.Errorf("set the checked file of %s.%s: %w", info.e.Name, f.Name, err)
	}
	return nil, nil
}

// refused is the field error of a file the field of e refuses, named by its label in each of the
// platform's languages.
func (rt *Runtime) refused(e *metamodel.Entity, r *attach.Refusal) *FieldError {
	msgs := metamodel.Text{}
	for _, l := range attach.Languages {
		msgs[l] = r.Text(l, rt.Model.Localize(r.Field.Label, l, r.Field.Name))
	}
	return &FieldError{Entity: e.Name, Field: r.Field.Name, Rule: r.Rule, Msg: r.Error(), Messages: msgs}
}
