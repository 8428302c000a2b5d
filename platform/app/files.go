package app

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"log/slog"
	"mime"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/crmgen/crmgen/metamodel"
	"github.com/crmgen/crmgen/platform/attach"
)

// s3Options select an S3-compatible bucket for uploaded files instead of a directory. The keys come from
// the environment only (CRM_S3_ACCESS_KEY_ID, CRM_S3_SECRET_ACCESS_KEY), never from the command line,
// where other users of the machine could read them.
type s3Options struct{ endpoint, bucket, region string }

func (o *s3Options) flags(fs *flag.FlagSet) {
	fs.StringVar(&o.endpoint, "s3-endpoint", "", "keep uploaded files in an S3-compatible bucket at this endpoint, such as https://s3.cn-north-1.amazonaws.com.cn, instead of --files; keys from CRM_S3_ACCESS_KEY_ID and CRM_S3_SECRET_ACCESS_KEY (env CRM_S3_ENDPOINT)")
	fs.StringVar(&o.bucket, "s3-bucket", "", "the bucket of --s3-endpoint (env CRM_S3_BUCKET)")
	fs.StringVar(&o.region, "s3-region", "us-east-1", "the region requests to --s3-endpoint are signed for (env CRM_S3_REGION)")
}

// fileStore is where uploaded files are kept: the S3 bucket when one is configured, else a directory.
func fileStore(o options) attach.Store {
	if o.s3.endpoint != "" {
		return &attach.S3{Endpoint: o.s3.endpoint, Bucket: o.s3.bucket, Region: o.s3.region,
			AccessKeyID: os.Getenv("CRM_S3_ACCESS_KEY_ID"), SecretAccessKey: os.Getenv("CRM_S3_SECRET_ACCESS_KEY")}
	}
	return attach.Dir(filesDir(o.files, o.db))
}

// filesDir is where uploaded files are kept: the --files flag, else a files directory next to a SQLite
// database, else ./files.
func filesDir(flag, db string) string {
	switch {
	case flag != "":
		return flag
	case strings.HasPrefix(db, "postgres://"), strings.HasPrefix(db, "postgresql://"):
		return "files"
	}
	return filepath.Join(filepath.Dir(strings.TrimPrefix(db, "file:")), "files")
}

// uploadBody is the largest form with files the model allows: the files of an entity's attachment
// fields at their maxSize, and room for the rest of the form. A larger file than its field allows, within
// this bound, reaches the form, which names the field and its limit in the user's language.
func uploadBody(m *metamodel.Model) int64 {
	var most int64
	for _, e := range m.Entities {
		var sum int64
		for _, f := range e.Fields {
			switch {
			case f.Type.Attachment() && f.Multiple:
				sum += (metamodel.MaxAttachments + 1) * f.MaxSize // a full list, and room for one file over the limit
			case f.Type.Attachment():
				sum += 2 * f.MaxSize // room for a file over the limit, to be refused by name
			}
		}
		most = max(most, sum)
	}
	if most == 0 {
		return 0
	}
	return most + 1<<20
}

// apiUploadBody is the largest multipart GraphQL request (uploadFile) the model allows: a file of its
// largest file field, with room for a file over that field's maxSize, to be refused by name, and for the
// operation. A client sends one file per field at a time; 0 when the model has no file fields.
func apiUploadBody(m *metamodel.Model) int64 {
	var most int64
	for _, e := range m.Entities {
		for _, f := range e.Fields {
			if f.Type.Attachment() {
				most = max(most, f.MaxSize)
			}
		}
	}
	if most == 0 {
		return 0
	}
	return 2*most + 1<<20
}

// uploadLimitKey marks a request whose body limitBodies bounds by the upload limit instead of the form's.
type uploadLimitKey struct{}

// multipart reports whether r is a POST of multipart/form-data.
func multipart(r *http.Request) bool {
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return r.Method == http.MethodPost && ct == "multipart/form-data"
}

// withUploads lets a multipart form posted to a record's form (/e/{entity}/new, /e/{entity}/{id}/edit)
// be as large as form, and a multipart GraphQL request (uploadFile) as large as api, when the model has
// attachments (limits > 0); every other body keeps its bound.
func withUploads(form, api int64, next http.Handler) http.Handler {
	if form <= 0 {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case !multipart(r):
		case r.URL.Path == "/graphql":
			r = r.WithContext(context.WithValue(r.Context(), uploadLimitKey{}, api))
		case strings.HasPrefix(r.URL.Path, "/e/") && (strings.HasSuffix(r.URL.Path, "/new") || strings.HasSuffix(r.URL.Path, "/edit")):
			r = r.WithContext(context.WithValue(r.Context(), uploadLimitKey{}, form))
		}
		next.ServeHTTP(w, r)
	})
}

// sweepFiles removes, every so often, the stored files no record refers to that were last stored more
// than keep ago (attach.Sweep): uploads never written to a record, files replaced or removed, those of
// records deleted for good. A soft-deleted record keeps its files. Each instance sharing a store sweeps
// it; a sweep is idempotent. It returns when ctx ends.
func sweepFiles(ctx context.Context, store attach.Sweepable, db *sql.DB, m *metamodel.Model, keep time.Duration, log *slog.Logger) {
	every := min(max(keep/4, time.Second), 6*time.Hour)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		n, err := attach.Sweep(ctx, store, time.Now().Add(-keep), func(ctx context.Context) (map[string]bool, error) {
			return filesInUse(ctx, db, m)
		})
		switch {
		case err != nil && ctx.Err() == nil:
			log.Error("sweep files", "err", err)
		case n > 0:
			log.Info("removed files no record refers to", "files", n, "older than", keep)
		}
	}
}

// filesInUse are the hashes of the files every record refers to, deleted (soft-deleted) records
// included: the system's own read of every file and image column, not a user's.
func filesInUse(ctx context.Context, db *sql.DB, m *metamodel.Model) (map[string]bool, error) {
	used := map[string]bool{}
	for _, e := range m.Entities {
		for _, f := range e.Fields {
			if !f.Type.Attachment() {
				continue
			}
			rows, err := db.QueryContext(ctx, fmt.Sprintf(`SELECT "%s" FROM "%s" WHERE "%s" IS NOT NULL`, f.Column(), e.Table(), f.Column()))
			if err != nil {
				return nil, fmt.Errorf("files of %s.%s: %w", e.Name, f.Name, err)
			}
			for rows.Next() {
				var v string
				if err := rows.Scan(&v); err != nil {
					rows.Close()
					return nil, fmt.Errorf("files of %s.%s: %w", e.Name, f.Name, err)
				}
				refs, _ := attach.ParseField(f, v) // a value that is no reference refers to nothing
				for _, r := range refs {
					used[r.SHA256] = true
				}
			}
			if err := rows.Close(); err != nil {
				return nil, err
			}
			if err := rows.Err(); err != nil {
				return nil, fmt.Errorf("files of %s.%s: %w", e.Name, f.Name, err)
			}
		}
	}
	return used, nil
}
