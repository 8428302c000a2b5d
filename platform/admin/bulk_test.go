package admin

import (
	"context"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/crmgen/crmgen/internal/modeltest"
	"github.com/crmgen/crmgen/metamodel"
)

// The bulk edit's pure parts: which members it offers and the update input a posted value becomes. What
// the API does with it, per row and per role, is tested in a real browser (e2e/admin_bulk_test.go).

const bulkModel = `
app: {name: bulky, title: {zh: 批量, en: Bulky}, locales: [zh, en], defaultLocale: zh}
enums:
  Grade: {values: [a, b, c]}
entities:
  Item:
    fields:
      name: {type: string, required: true}
      code: {type: string, unique: true}
      note: {type: string}
      grade: {type: enum, enum: Grade}
      active: {type: bool}
      data: {type: json}
`

func bulkServer(t *testing.T) (*server, *metamodel.Entity, *schemaInfo) {
	t.Helper()
	m := modeltest.FromYAML(t, bulkModel)
	in := map[string]bool{}
	for _, k := range []string{"name", "code", "note", "grade", "active", "data", "clearNote", "clearGrade"} {
		in[k] = true
	}
	si := &schemaInfo{fields: map[string]map[string]bool{"UpdateItemInput": in, "Mutation": {"updateItem": true}}}
	s := &server{cfg: Config{Model: m}, zone: m.App.Location()}
	return s, m.Entity("Item"), si
}

func TestBulkFieldsAreOneValueEditFormFields(t *testing.T) {
	s, e, si := bulkServer(t)
	var got []string
	for _, m := range s.bulkFields(context.Background(), e, si) {
		got = append(got, m.Name)
	}
	// Not the unique code (one value cannot hold on many rows), not the JSON data.
	if want := []string{"name", "note", "grade", "active"}; !reflect.DeepEqual(got, want) {
		t.Errorf("bulk fields %v, want %v", got, want)
	}
	if f := s.bulkFields(context.Background(), e, &schemaInfo{}); len(f) != 0 {
		t.Errorf("without an update mutation the bulk edit offers %d fields", len(f))
	}
}

func TestBulkInput(t *testing.T) {
	s, e, si := bulkServer(t)
	for _, c := range []struct {
		member, value string
		want          map[string]any
		rule          string
	}{
		{"grade", "b", map[string]any{"grade": "b"}, ""},
		{"note", "", map[string]any{"clearNote": true}, ""},
		{"name", " ", nil, "required"},
		{"active", "", map[string]any{"active": false}, ""},
		{"active", "true", map[string]any{"active": true}, ""},
	} {
		m, _ := memberOf(e, c.member)
		got, rule := s.bulkInput(si, e, m, map[string][]string{c.member: {c.value}}, s.zones(context.Background()))
		if rule != c.rule || !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s=%q: %v %q, want %v %q", c.member, c.value, got, rule, c.want, c.rule)
		}
	}
}

func TestBulkPostsNeedASession(t *testing.T) {
	h := newTestHandler(t)
	for _, path := range []string{"/e/Item/bulk/edit", "/e/Item/bulk/transition"} {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest("POST", path, strings.NewReader("id=1&field=name&apply=1&name=x"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusSeeOther || !strings.HasPrefix(rec.Header().Get("Location"), "/login") {
			t.Errorf("POST %s signed out: %d %s, want the sign-in page", path, rec.Code, rec.Header().Get("Location"))
		}
	}
}
