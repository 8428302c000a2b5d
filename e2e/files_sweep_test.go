package e2e

import (
	"bytes"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// The store sweeps what no record refers to (issue 13's attachments, run for months): an upload never
// written to a record and a file since replaced are removed once older than --files-keep; the file a
// record holds stays, and so does the file of a soft-deleted record, which comes back with it.
func TestFilesSweep(t *testing.T) {
	a := adminApp(t, "hospital")
	eachDB(t, func(t *testing.T, dsn string) {
		dir := t.TempDir()
		s := a.Start(t, dsn, noTimers, "--files="+dir, "--files-keep=3s")
		admin := s.As(t, "admin", "admin123")
		chenjing := s.As(t, "chenjing", "doctor123")
		const upload = `mutation($field: AttachmentField!, $file: Upload!) { uploadFile(field: $field, file: $file) { reference } }`
		up := func(content []byte) string {
			t.Helper()
			status, r := uploadFile(t, chenjing, upload, "Patient_photo", "p.png", content)
			var out struct{ UploadFile struct{ Reference string } }
			if status != http.StatusOK || len(r.Errors) > 0 {
				t.Fatalf("upload: %d %+v", status, r.Errors)
			}
			r.Decode(t, &out)
			return out.UploadFile.Reference
		}
		first, orphan, second, trashed := pngBytes(t, 20), pngBytes(t, 21), pngBytes(t, 22), pngBytes(t, 23)
		refFirst, _, refSecond, refTrashed := up(first), up(orphan), up(second), up(trashed)

		create := func(name, ref string) string {
			t.Helper()
			var out struct{ CreatePatient struct{ ID string } }
			chenjing.GraphQL(t, `mutation($n: String!, $r: String!) { createPatient(input: {name: $n, gender: female, photo: $r}) { id } }`,
				map[string]any{"n": name, "r": ref}).Decode(t, &out)
			return out.CreatePatient.ID
		}
		kept := create("清理测试", refFirst)
		chenjing.GraphQL(t, `mutation($id: ID!, $r: String!) { updatePatient(id: $id, input: {photo: $r}) { id } }`,
			map[string]any{"id": kept, "r": refSecond}).Decode(t, &struct{}{})
		deleted := create("清理回收", refTrashed)
		admin.GraphQL(t, `mutation($id: ID!) { deletePatient(id: $id) }`, map[string]any{"id": deleted}).Decode(t, &struct{}{})

		stored := func(content []byte) bool {
			sha := sha256Hex(content)
			_, err := os.Stat(filepath.Join(dir, sha[:2], sha[2:4], sha))
			return err == nil
		}
		for _, c := range [][]byte{first, orphan, second, trashed} {
			if !stored(c) {
				t.Fatal("an upload is not in the store right after it")
			}
		}
		deadline := time.Now().Add(30 * time.Second)
		for (stored(first) || stored(orphan)) && time.Now().Before(deadline) {
			time.Sleep(250 * time.Millisecond)
		}
		if stored(first) || stored(orphan) {
			t.Fatalf("after 30 s the replaced file is stored %t, the upload never written %t; want both removed (--files-keep=3s)", stored(first), stored(orphan))
		}
		if !stored(second) || !stored(trashed) {
			t.Fatalf("the sweep removed a file a record refers to: the patient's %t, the deleted patient's %t", stored(second), stored(trashed))
		}
		if resp, data := download(t, chenjing, "/files/Patient/"+kept+"/photo"); resp.StatusCode != http.StatusOK || !bytes.Equal(data, second) {
			t.Errorf("the kept patient's photo after the sweep: %d, %d bytes", resp.StatusCode, len(data))
		}
		admin.GraphQL(t, `mutation($id: ID!) { restorePatient(id: $id) { id } }`, map[string]any{"id": deleted}).Decode(t, &struct{}{})
		if resp, data := download(t, admin, "/files/Patient/"+deleted+"/photo"); resp.StatusCode != http.StatusOK || !bytes.Equal(data, trashed) {
			t.Errorf("the restored patient's photo: %d, %d bytes", resp.StatusCode, len(data))
		}
	})
}
