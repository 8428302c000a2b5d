package attach

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// Store keeps file contents by their SHA-256.
type Store interface {
	// Put stores the content r yields and returns its hash and size. Storing content already there is
	// not an error.
	Put(ctx context.Context, r io.Reader) (sha string, size int64, err error)
	// Open returns the content with hash sha; an unknown hash is an error satisfying
	// errors.Is(err, fs.ErrNotExist).
	Open(ctx context.Context, sha string) (io.ReadCloser, error)
	// Peek returns the first n bytes of the content with hash sha (all of it when it is shorter) and its
	// size, without reading the rest; an unknown hash is an error satisfying errors.Is(err, fs.ErrNotExist).
	Peek(ctx context.Context, sha string, n int) (head []byte, size int64, err error)
}

// Dir is a Store on local disk: the content with hash ab12cd… is the file <Dir>/ab/12/ab12cd….
type Dir string

// Put writes r to a temporary file in the directory, then renames it into place, so a reader never sees
// a partly written file.
func (d Dir) Put(ctx context.Context, r io.Reader) (string, int64, error) {
	if err := os.MkdirAll(string(d), 0o750); err != nil {
		return "", 0, fmt.Errorf("store file: %w", err)
	}
	tmp, err := os.CreateTemp(string(d), ".upload-*")
	if err != nil {
		return "", 0, fmt.Errorf("store file: %w", err)
	}
	defer os.Remove(tmp.Name()) // gone after the rename; cleans up after a failure
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(tmp, h), r)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", 0, fmt.Errorf("store file: %w", err)
	}
	sha := hex.EncodeToString(h.Sum(nil))
	p := d.path(sha)
	if _, err := os.Stat(p); err == nil {
		now := time.Now()
		if err := os.Chtimes(p, now, now); err != nil { // stored again: the sweep's grace period starts anew
			return "", 0, fmt.Errorf("store file: %w", err)
		}
		return sha, n, nil
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o750); err != nil {
		return "", 0, fmt.Errorf("store file: %w", err)
	}
	if err := os.Rename(tmp.Name(), p); err != nil {
		return "", 0, fmt.Errorf("store file: %w", err)
	}
	return sha, n, nil
}

// Open opens the content with hash sha.
func (d Dir) Open(ctx context.Context, sha string) (io.ReadCloser, error) {
	if !shaRE.MatchString(sha) {
		return nil, fmt.Errorf("open file %q: %w", sha, fs.ErrNotExist)
	}
	f, err := os.Open(d.path(sha))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("open file %s: %w", sha, fs.ErrNotExist)
	}
	return f, err
}

// Peek reads the first n bytes of the content with hash sha and its size from the file system.
func (d Dir) Peek(ctx context.Context, sha string, n int) ([]byte, int64, error) {
	rc, err := d.Open(ctx, sha)
	if err != nil {
		return nil, 0, err
	}
	f := rc.(*os.File)
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, 0, fmt.Errorf("open file %s: %w", sha, err)
	}
	head := make([]byte, n)
	k, err := io.ReadFull(f, head)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
		return nil, 0, fmt.Errorf("read file %s: %w", sha, err)
	}
	return head[:k], st.Size(), nil
}

func (d Dir) path(sha string) string {
	return filepath.Join(string(d), sha[:2], sha[2:4], sha)
}
