package attach

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// Sweeping. Content that no record refers to — an upload never written to a record, a file replaced or
// removed, the files of a record deleted for good — is removed once it was last stored longer ago than a
// grace period, which covers an upload on its way to a record (a form shown again for an error keeps its
// file, an API client writes the reference uploadFile answered). Storing content again (Put) renews its
// time. A soft-deleted record still refers to its files, so restoring it restores them.

// Sweepable is a Store whose contents can be listed and removed.
type Sweepable interface {
	Store
	// Walk calls fn with the hash of every stored content and when it was last stored.
	Walk(ctx context.Context, fn func(sha string, stored time.Time) error) error
	// Remove deletes the content with hash sha; content that is not there is no error.
	Remove(ctx context.Context, sha string) error
}

// Sweep removes from s the content last stored before cutoff that inUse does not list. inUse is asked
// after the walk, so a reference written before the sweep began is seen; one written during the sweep
// to content older than the grace period may lose it (the grace period is there so that none is). It
// returns how many contents were removed.
func Sweep(ctx context.Context, s Sweepable, cutoff time.Time, inUse func(context.Context) (map[string]bool, error)) (int, error) {
	var old []string
	err := s.Walk(ctx, func(sha string, stored time.Time) error {
		if stored.Before(cutoff) {
			old = append(old, sha)
		}
		return ctx.Err()
	})
	if err != nil || len(old) == 0 {
		return 0, err
	}
	used, err := inUse(ctx)
	if err != nil {
		return 0, fmt.Errorf("sweep files: %w", err)
	}
	removed := 0
	for _, sha := range old {
		if used[sha] {
			continue
		}
		if err := s.Remove(ctx, sha); err != nil {
			return removed, err
		}
		removed++
	}
	return removed, nil
}

var _ Sweepable = Dir("")

// Walk lists the directory's contents; their time is the file's modification time, which Put renews.
// Files that are no content (an upload's temporary file) are passed over.
func (d Dir) Walk(ctx context.Context, fn func(sha string, stored time.Time) error) error {
	err := filepath.WalkDir(string(d), func(path string, e fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) && path == string(d) {
				return filepath.SkipAll // nothing stored yet
			}
			return err
		}
		if e.IsDir() || !shaRE.MatchString(e.Name()) || path != d.path(e.Name()) {
			return nil
		}
		info, err := e.Info()
		if errors.Is(err, fs.ErrNotExist) {
			return nil // removed since
		} else if err != nil {
			return err
		}
		return fn(e.Name(), info.ModTime())
	})
	if err != nil {
		return fmt.Errorf("list files: %w", err)
	}
	return nil
}

// Remove deletes the file of content sha.
func (d Dir) Remove(ctx context.Context, sha string) error {
	if !shaRE.MatchString(sha) {
		return fmt.Errorf("remove file %q: not a content hash", sha)
	}
	if err := os.Remove(d.path(sha)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove file: %w", err)
	}
	return nil
}
