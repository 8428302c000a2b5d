package attach

import (
	"bufio"
	"context"
	"errors"
	"io"

	"github.com/crmgen/crmgen/metamodel"
)

// ErrNoStore is the error of an upload to an app that keeps no files.
var ErrNoStore = errors.New("store upload: the app has no file store")

// Upload stores the content r yields as a file of field f named name (cleaned here), which its client
// says is size bytes (-1: unknown). What the client claims is not believed: the content type is sniffed
// from the first bytes, and the field's maxSize and accept are checked (Check) before anything is stored,
// on the claimed size, and again on the stored size; no more than maxSize+1 bytes are read. It returns the
// reference to write into the field, or the refusal; an error is a failure of the store. Both the
// admin's forms and the API's uploadFile mutation store files here, and only here.
//
// A refusal after storing (the content was longer than claimed) leaves the content in the store,
// referenced by nothing, like any upload never written to a record.
func Upload(ctx context.Context, s Store, f *metamodel.Field, name string, r io.Reader, size int64) (*File, *Refusal, error) {
	name = CleanName(name)
	br := bufio.NewReaderSize(r, SniffLen)
	head, _ := br.Peek(SniffLen)
	ct := Sniff(head, name)
	if refusal := Check(f, name, ct, max(size, 0)); refusal != nil {
		return nil, refusal, nil
	}
	if s == nil {
		return nil, nil, ErrNoStore
	}
	sha, stored, err := s.Put(ctx, io.LimitReader(br, f.MaxSize+1))
	if err != nil {
		return nil, nil, err
	}
	if refusal := Check(f, name, ct, stored); refusal != nil {
		return nil, refusal, nil
	}
	return &File{SHA256: sha, Name: name, Size: int(stored), ContentType: ct}, nil, nil
}
