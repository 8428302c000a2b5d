package app

import (
	"bytes"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"strings"
	"sync"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/transport"
)

// postTransport is gqlgen's POST transport with a cheaper way to write an answer. gqlgen's writes every
// response with json.Marshal, which re-scans the data gqlgen has just written as JSON (encoding/json
// validates and compacts a json.RawMessage): on a list of a few hundred records that scan was a tenth
// of the request's CPU (BENCHMARKS.md, peers). Here the data is copied as it is, escaped as
// json.Marshal would (<, > and & inside strings, and U+2028/U+2029), so the bytes are the same.
//
// Requests that fail before execution (an unreadable body, a document that does not parse or
// validate) are left to gqlgen's POST transport, which answers them with its own status codes.
type postTransport struct{ transport.POST }

var _ graphql.Transport = postTransport{}

func (t postTransport) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	start := graphql.Now()
	body, err := io.ReadAll(r.Body)
	if err != nil { // too large, or the client went away: gqlgen reads the same error and says so
		r.Body = io.NopCloser(io.MultiReader(bytes.NewReader(body), errReader{err}))
		t.POST.Do(w, r, exec)
		return
	}
	var params graphql.RawParams
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber() // as gqlgen decodes variables
	if err := dec.Decode(&params); err != nil {
		r.Body = io.NopCloser(bytes.NewReader(body))
		t.POST.Do(w, r, exec)
		return
	}
	params.Headers = r.Header
	params.ReadTime = graphql.TraceTiming{Start: start, End: graphql.Now()}
	ctx := r.Context()
	rc, opErr := exec.CreateOperationContext(ctx, &params)
	if opErr != nil {
		r.Body = io.NopCloser(bytes.NewReader(body))
		t.POST.Do(w, r, exec)
		return
	}
	w.Header().Set("Content-Type", responseType(r))
	responses, ctx := exec.DispatchOperation(ctx, rc)
	writeResponse(w, responses(ctx))
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

// responseType is the content type gqlgen's POST transport (without options) answers with.
func responseType(r *http.Request) string {
	const (
		plain   = "application/json"
		graphQL = "application/graphql-response+json"
	)
	accept := r.Header.Get("Accept")
	if accept == "" {
		return plain
	}
	for part := range strings.SplitSeq(accept, ",") {
		mediaType, _, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		switch mediaType {
		case "*/*", "application/*", plain:
			return plain
		case graphQL:
			return graphQL
		}
	}
	return graphQL
}

// writeResponse writes resp as json.Marshal writes a graphql.Response, without re-reading its data.
func writeResponse(w io.Writer, resp *graphql.Response) {
	if resp == nil || resp.Label != "" || resp.Path != nil || resp.HasNext != nil {
		b, _ := json.Marshal(resp) // incremental delivery: not used by the app, left to encoding/json
		w.Write(b)
		return
	}
	buf := responseBuffers.Get().(*bytes.Buffer)
	defer putResponseBuffer(buf)
	buf.Reset()
	buf.Grow(len(resp.Data) + 64)
	buf.WriteByte('{')
	if len(resp.Errors) > 0 {
		b, err := json.Marshal(resp.Errors)
		if err != nil {
			b, _ = json.Marshal(resp) // gqlgen panics here; the error presenter has made errors plain values
			w.Write(b)
			return
		}
		buf.WriteString(`"errors":`)
		buf.Write(b)
		buf.WriteByte(',')
	}
	buf.WriteString(`"data":`)
	if len(resp.Data) == 0 {
		buf.WriteString("null")
	} else {
		appendEscaped(buf, resp.Data)
	}
	if len(resp.Extensions) > 0 {
		b, err := json.Marshal(resp.Extensions)
		if err == nil {
			buf.WriteString(`,"extensions":`)
			buf.Write(b)
		}
	}
	buf.WriteByte('}')
	w.Write(buf.Bytes())
}

// responseBuffers hold responses while they are written: a list's page is tens of kilobytes, which a
// buffer per request would allocate, and the collector reclaim, a thousand times a second.
var responseBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// putResponseBuffer returns buf to the pool, unless it grew past 1 MiB for a rare large answer.
func putResponseBuffer(buf *bytes.Buffer) {
	if buf.Cap() <= 1<<20 {
		responseBuffers.Put(buf)
	}
}

// appendEscaped appends JSON text, replacing what json.Marshal escapes for HTML safety: <, > and &, and
// the line and paragraph separators U+2028 and U+2029. In JSON these can only stand inside strings, so
// they are replaced wherever they are. The bytes to look at are found with bytes.IndexByte, which reads
// many bytes at a time: a page of a list is tens of kilobytes with few or none of them.
func appendEscaped(buf *bytes.Buffer, data []byte) {
	const hex = "0123456789abcdef"
	specials := [4]byte{'<', '>', '&', 0xE2} // 0xE2: the first byte of U+2028 and U+2029
	next := [4]int{-2, -2, -2, -2}           // where each occurs next from pos; -1: nowhere; -2: not looked
	pos, last := 0, 0
	for {
		at := -1
		for k, c := range specials {
			if next[k] != -1 && next[k] < pos {
				if j := bytes.IndexByte(data[pos:], c); j >= 0 {
					next[k] = pos + j
				} else {
					next[k] = -1
				}
			}
			if next[k] >= 0 && (at < 0 || next[k] < at) {
				at = next[k]
			}
		}
		if at < 0 {
			break
		}
		pos = at + 1
		switch c := data[at]; {
		case c != 0xE2:
			buf.Write(data[last:at])
			buf.WriteString(`\u00`)
			buf.WriteByte(hex[c>>4])
			buf.WriteByte(hex[c&0xF])
			last = pos
		case at+2 < len(data) && data[at+1] == 0x80 && data[at+2]&^1 == 0xA8:
			buf.Write(data[last:at])
			buf.WriteString(`\u202`)
			buf.WriteByte(hex[data[at+2]&0xF])
			pos = at + 3
			last = pos
		}
	}
	buf.Write(data[last:])
}
