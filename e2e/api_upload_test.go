package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"

	"github.com/crmgen/crmgen/internal/apptest"
	"github.com/crmgen/crmgen/metamodel"
)

// Uploads through the API (issue 13): a client without the admin's forms sends a file with the GraphQL
// multipart request spec to uploadFile, naming the field it is for, and writes the reference it answers
// into that field. The upload is decided like a write of the field (platform/enforce): a user who may
// not write it, or a file the field does not take, is refused with the field and rule, in both languages,
// and nothing is stored — a reference to the refused content is then refused as never uploaded.
func TestAPIUpload(t *testing.T) {
	onEachDB(t, adminApp(t, "hospital"), func(t *testing.T, s *apptest.Server) {
		chenjing := s.As(t, "chenjing", "doctor123") // a physician: creates patients and visits, writes their photos and reports
		linxiao := s.As(t, "linxiao", "service123")  // the call center: reads patients without their photos, reads no visits
		heping := s.As(t, "heping", "service123")    // the service center: reads visits, may not write them

		const upload = `mutation($field: AttachmentField!, $file: Upload!) { uploadFile(field: $field, file: $file) { name size contentType sha256 url reference } }`
		photo := pngBytes(t, 32)
		status, r := uploadFile(t, chenjing, upload, "Patient_photo", "头像.png", photo)
		if status != http.StatusOK || len(r.Errors) > 0 {
			t.Fatalf("upload a photo: %d %+v", status, r.Errors)
		}
		var got struct {
			UploadFile struct {
				Name, ContentType, SHA256, URL, Reference string
				Size                                      int
			}
		}
		r.Decode(t, &got)
		up := got.UploadFile
		if up.Name != "头像.png" || up.Size != len(photo) || up.ContentType != "image/png" || up.SHA256 != sha256Hex(photo) || up.URL != "" {
			t.Fatalf("uploadFile answered %+v; want 头像.png, %d bytes, image/png, sha256 %s, no url yet", up, len(photo), sha256Hex(photo))
		}
		// The reference it answers is what the field is written with.
		var created struct {
			CreatePatient struct {
				ID    string
				Photo struct{ SHA256, URL string }
			}
		}
		chenjing.GraphQL(t, `mutation($ref: String!) { createPatient(input: {name: "上传测试", gender: female, photo: $ref}) { id photo { sha256 url } } }`,
			map[string]any{"ref": up.Reference}).Decode(t, &created)
		if created.CreatePatient.Photo.SHA256 != up.SHA256 {
			t.Fatalf("the created patient's photo is %+v; want the uploaded %s", created.CreatePatient.Photo, up.SHA256)
		}
		if resp, data := download(t, chenjing, created.CreatePatient.Photo.URL); resp.StatusCode != http.StatusOK || !bytes.Equal(data, photo) {
			t.Errorf("download of the uploaded photo: %d, %d bytes; want the %d bytes sent", resp.StatusCode, len(data), len(photo))
		}

		// A multiple field: two uploads, written as a JSON list of their references, in order.
		var refs []string
		for i, content := range [][]byte{pdfBytes(), pngBytes(t, 20)} {
			status, r := uploadFile(t, chenjing, upload, "Visit_reports", fmt.Sprintf("报告%d", i+1)+map[int]string{0: ".pdf", 1: ".png"}[i], content)
			if status != http.StatusOK || len(r.Errors) > 0 {
				t.Fatalf("upload report %d: %d %+v", i+1, status, r.Errors)
			}
			var out struct{ UploadFile struct{ Reference string } }
			r.Decode(t, &out)
			refs = append(refs, out.UploadFile.Reference)
		}
		visits := pageAll(t, chenjing, "visits", "", "id", 1)
		if len(visits) == 0 {
			t.Fatal("chenjing has no visits in the demo data")
		}
		visit := str(t, visits[0], "id")
		var updated struct {
			UpdateVisit struct{ Reports []struct{ Name string } }
		}
		chenjing.GraphQL(t, `mutation($id: ID!, $r: String) { updateVisit(id: $id, input: {reports: $r}) { reports { name } } }`,
			map[string]any{"id": visit, "r": "[" + strings.Join(refs, ",") + "]"}).Decode(t, &updated)
		if rs := updated.UpdateVisit.Reports; len(rs) != 2 || rs[0].Name != "报告1.pdf" || rs[1].Name != "报告2.png" {
			t.Errorf("the visit's reports after writing the two references: %+v", rs)
		}

		// Refusals: each names the field and rule, in both languages, and stores nothing.
		big := pngBytes(t, 1100) // over the photo's 2MB
		for _, c := range []struct {
			who         *apptest.Server
			whom, field string
			name        string
			content     []byte
			code, rule  string
			zh, en      string
		}{
			{chenjing, "chenjing", "Patient_photo", "scan.pdf", append(pdfBytes(), "photo"...), "VALIDATION", "accept",
				"照片：文件 scan.pdf 不是图片", "Photo: the file scan.pdf is not an image"},
			{chenjing, "chenjing", "Patient_photo", "big.png", big, "VALIDATION", "maxSize",
				"照片：文件 big.png 的大小 " + metamodel.FormatSize(int64(len(big))) + " 超过允许的 2 MB",
				"Photo: the file big.png is " + metamodel.FormatSize(int64(len(big))) + ", larger than the limit of 2 MB"},
			{linxiao, "linxiao", "Patient_photo", "face.png", append(pngBytes(t, 30), 'x'), "FORBIDDEN", "", "", ""},
			{heping, "heping", "Visit_reports", "r.pdf", append(pdfBytes(), "heping"...), "FORBIDDEN", "", "", ""},
		} {
			status, r := uploadFile(t, c.who, upload, c.field, c.name, c.content)
			if status != http.StatusOK || len(r.Errors) != 1 || r.Errors[0].Extensions["code"] != c.code {
				t.Errorf("%s uploads %s to %s: %d %+v; want one %s error", c.whom, c.name, c.field, status, r.Errors, c.code)
				continue
			}
			ext := r.Errors[0].Extensions
			if c.rule != "" {
				fields, _ := ext["fields"].([]any)
				var f map[string]any
				if len(fields) == 1 {
					f, _ = fields[0].(map[string]any)
				}
				msgs, _ := f["messages"].(map[string]any)
				if ext["rule"] != c.rule || msgs["zh"] != c.zh || msgs["en"] != c.en {
					t.Errorf("%s uploads %s to %s: %+v; want rule %s, %q and %q", c.whom, c.name, c.field, r.Errors[0], c.rule, c.zh, c.en)
				}
			}
			if strings.Contains(r.Errors[0].Message, "sha256") || strings.Contains(r.Errors[0].Message, "store") {
				t.Errorf("%s uploads %s: the refusal speaks of the store: %q", c.whom, c.name, r.Errors[0].Message)
			}
			// The content was not stored: a reference to it is refused as never uploaded.
			ref := fmt.Sprintf(`{"sha256":%q,"name":"x.bin","size":1}`, sha256Hex(c.content))
			w := s.As(t, "admin", "admin123").GraphQL(t, `mutation($id: ID!, $r: String) { updateVisit(id: $id, input: {reports: $r}) { id } }`,
				map[string]any{"id": visit, "r": "[" + ref + "]"})
			if len(w.Errors) == 0 || w.Errors[0].Extensions["rule"] != "file" {
				t.Errorf("%s's refused %s was stored: writing its reference answered %+v", c.whom, c.name, w.Errors)
			}
		}

		// Without a credential, from a foreign page, or over the limit: refused before anything is read.
		body, ctype := multipartBody(t, upload, "Patient_photo", "face.png", photo)
		for _, c := range []struct {
			what   string
			header map[string]string
			want   int
		}{
			{"no credential", nil, http.StatusUnauthorized}, // a multipart request is never public: its files would be read first
			{"a cross-site page", map[string]string{"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"}, http.StatusForbidden},
		} {
			req, _ := http.NewRequest(http.MethodPost, s.URL+"/graphql", bytes.NewReader(body))
			req.Header.Set("Content-Type", ctype)
			for k, v := range c.header {
				req.Header.Set(k, v)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != c.want {
				t.Errorf("upload with %s: %d, want %d", c.what, resp.StatusCode, c.want)
			}
		}
		// A body over the limit (twice the largest file field's maxSize, 10 MB here) is refused by its
		// declared length before a byte is read; without a length, where the limit is reached.
		req, _ := http.NewRequest(http.MethodPost, s.URL+"/graphql", io.MultiReader(bytes.NewReader(body), bytes.NewReader(make([]byte, 30<<20))))
		req.ContentLength = int64(len(body)) + 30<<20
		req.Header.Set("Content-Type", ctype)
		req.Header.Set("Authorization", "Bearer "+chenjing.Token)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(string(b), "REQUEST_TOO_LARGE") {
				t.Errorf("a 30 MB upload: %d %s, want 413 and a GraphQL error", resp.StatusCode, b)
			}
		}
		huge := bytes.Repeat([]byte("%PDF-1.4 "), 3<<20) // 27 MB of one file
		hbody, hctype := multipartBody(t, upload, "Complaint_evidence", "huge.pdf", huge)
		req, _ = http.NewRequest(http.MethodPost, s.URL+"/graphql", io.MultiReader(bytes.NewReader(hbody))) // no length: chunked
		req.Header.Set("Content-Type", hctype)
		req.Header.Set("Authorization", "Bearer "+heping.Token)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK && !strings.Contains(string(b), `"errors"`) {
				t.Errorf("a 27 MB upload without a declared length was taken: %s", b)
			}
		}
		ref := fmt.Sprintf(`{"sha256":%q,"name":"x.pdf","size":1}`, sha256Hex(huge))
		if w := heping.GraphQL(t, `mutation($r: String) { createComplaint(input: {subject: "过大", severity: low, receivedAt: "2026-01-05T09:30:00+08:00", evidence: $r}) { id } }`,
			map[string]any{"r": ref}); len(w.Errors) == 0 || w.Errors[0].Extensions["rule"] != "file" {
			t.Errorf("the 27 MB upload was stored: writing its reference answered %+v", w.Errors)
		}
	})
}

// uploadFile sends content as the file of an upload mutation (the GraphQL multipart request spec) to the
// field named by key, as the user of s.
func uploadFile(t *testing.T, s *apptest.Server, mutation, key, name string, content []byte) (int, *apptest.Response) {
	t.Helper()
	body, ctype := multipartBody(t, mutation, key, name, content)
	req, _ := http.NewRequest(http.MethodPost, s.URL+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", ctype)
	req.Header.Set("Authorization", "Bearer "+s.Token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var r apptest.Response
	b, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatalf("upload %s: %d %s", name, resp.StatusCode, b)
	}
	return resp.StatusCode, &r
}

// multipartBody is a multipart request with mutation, its variables field (key) and file, and the file.
func multipartBody(t *testing.T, mutation, key, name string, content []byte) ([]byte, string) {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	ops, _ := json.Marshal(map[string]any{"query": mutation, "variables": map[string]any{"field": key, "file": nil}})
	w.WriteField("operations", string(ops))
	w.WriteField("map", `{"0": ["variables.file"]}`)
	fw, err := w.CreateFormFile("0", name)
	if err != nil {
		t.Fatal(err)
	}
	fw.Write(content)
	w.Close()
	return buf.Bytes(), w.FormDataContentType()
}
