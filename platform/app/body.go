package app

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/crmgen/crmgen/platform/admin"
)

// Request bodies are bounded before anything reads them, signed in or not: /graphql by
// --max-graphql-body (1 MiB by default: a GraphQL document and its variables; bulk data goes through
// imports), every other path, such as the admin's forms, by --max-form-body (4 MiB). A body over its
// limit is answered 413 with the limit named, and is never read whole.

// Default body limits.
const (
	defaultMaxGraphQLBody = 1 << 20
	defaultMaxFormBody    = 4 << 20
)

// limitBodies bounds the body of every request: graphql bytes for /graphql, form bytes for the rest.
func limitBodies(graphql, form int64, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body == nil || r.Body == http.NoBody {
			next.ServeHTTP(w, r)
			return
		}
		form := form
		up, uploads := r.Context().Value(uploadLimitKey{}).(int64)
		if uploads && up > form {
			form = up // a record's form with files (withUploads)
		}
		if r.URL.Path == "/graphql" && uploads {
			// uploadFile's files, streamed by gqlgen's multipart transport within the upload limit.
			if r.ContentLength > up {
				graphQLTooLarge(w, up)
				return
			}
			r.Body = http.MaxBytesReader(w, r.Body, up)
			next.ServeHTTP(w, r)
			return
		}
		if r.URL.Path == "/graphql" {
			body, ok := readGraphQLBody(w, r, graphql)
			if !ok {
				return
			}
			r.Body, r.ContentLength = io.NopCloser(bytes.NewReader(body)), int64(len(body))
			next.ServeHTTP(w, r)
			return
		}
		// The admin's import bounds its own body (admin.MaxImportBody, which may be above this one), and
		// refuses a larger file in the user's language: it must read the request to know who asks, so
		// it is not answered here.
		limit := form
		if strings.HasSuffix(r.URL.Path, "/import") {
			limit = max(form, admin.MaxImportBody)
		} else if r.ContentLength > form {
			http.Error(w, "request body too large: the limit is "+byteSize(form).String(), http.StatusRequestEntityTooLarge)
			return
		}
		// A body without a declared length stops at the limit; the handler that reads it answers 413
		// (see the admin's parseForm).
		r.Body = http.MaxBytesReader(w, r.Body, limit)
		next.ServeHTTP(w, r)
	})
}

// readGraphQLBody reads the body of a GraphQL request, at most limit bytes. A larger one, by its
// Content-Length or once limit bytes have been read, is answered 413 with a GraphQL error, so clients
// show its message as they show any other.
func readGraphQLBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, bool) {
	tooLarge := func() ([]byte, bool) {
		graphQLTooLarge(w, limit)
		return nil, false
	}
	if r.ContentLength > limit {
		return tooLarge()
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if int64(len(body)) > limit {
		return tooLarge()
	}
	if err != nil {
		var tooLong *http.MaxBytesError
		if errors.As(err, &tooLong) {
			return tooLarge()
		}
		http.Error(w, "the request body could not be read", http.StatusBadRequest)
		return nil, false
	}
	return body, true
}

// graphQLTooLarge answers a GraphQL request whose body is over limit: 413 with a GraphQL error, so
// clients show its message as they show any other.
func graphQLTooLarge(w http.ResponseWriter, limit int64) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Connection", "close") // the rest of the body is not read
	w.WriteHeader(http.StatusRequestEntityTooLarge)
	json.NewEncoder(w).Encode(map[string]any{"errors": []any{map[string]any{
		"message":    "the request body is larger than the limit of " + byteSize(limit).String() + ": send a smaller query, fewer variables or a smaller file",
		"extensions": map[string]any{"code": "REQUEST_TOO_LARGE", "limit": limit},
	}}})
}

// byteSize is a number of bytes, as a flag: "1048576", "512KiB", "1MiB", "2GiB".
type byteSize int64

var _ flag.Value = (*byteSize)(nil)

var byteUnits = []struct {
	suffix string
	size   int64
}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"B", 1}}

func (b byteSize) String() string {
	for _, u := range byteUnits {
		if int64(b) >= u.size && int64(b)%u.size == 0 && u.size > 1 {
			return fmt.Sprintf("%d %s", int64(b)/u.size, u.suffix)
		}
	}
	return fmt.Sprintf("%d bytes", int64(b))
}

func (b *byteSize) Set(s string) error {
	s = strings.TrimSpace(s)
	mult := int64(1)
	for _, u := range byteUnits {
		if rest, ok := strings.CutSuffix(s, u.suffix); ok {
			s, mult = strings.TrimSpace(rest), u.size
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 || n > (1<<40)/mult {
		return fmt.Errorf("want a positive size in bytes, KiB, MiB or GiB, such as 1MiB")
	}
	*b = byteSize(n * mult)
	return nil
}
