package admin

import (
	"net/http/httptest"
	"reflect"
	"testing"

	"github.com/crmgen/crmgen/metamodel"
)

// The export keeps the chosen columns among those it may export, in the list's order; a choice naming
// none of them (a hidden field, a typo) exports every allowed column rather than an empty file.
func TestExportColumns(t *testing.T) {
	e := &metamodel.Entity{Name: "Patient", Fields: []*metamodel.Field{
		{Name: "name", Type: metamodel.TypeString}, {Name: "phone", Type: metamodel.TypePhone},
		{Name: "idCard", Type: metamodel.TypeString}, {Name: "grade", Type: metamodel.TypeString}}}
	allowed := []member{{Name: "name", Field: e.Fields[0]}, {Name: "phone", Field: e.Fields[1]}, {Name: "grade", Field: e.Fields[3]}}
	names := func(ms []member) []string {
		var out []string
		for _, m := range ms {
			out = append(out, m.Name)
		}
		return out
	}
	for _, tc := range []struct {
		query string
		want  []string
	}{
		{"", []string{"name", "phone", "grade"}},
		{"?cols=grade,name", []string{"name", "grade"}},
		{"?cols=grade&cols=idCard", []string{"grade"}},
		{"?cols=idCard,nosuch", []string{"name", "phone", "grade"}},
	} {
		r := httptest.NewRequest("GET", "/e/Patient/export.csv"+tc.query, nil)
		if got := names(exportColumns(r, e, allowed)); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("export%s: columns %q, want %q", tc.query, got, tc.want)
		}
	}
}
