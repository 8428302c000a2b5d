package admin

import (
	"reflect"
	"testing"

	"github.com/crmgen/crmgen/metamodel"
)

func TestParseCols(t *testing.T) {
	for _, tc := range []struct {
		in   []string
		want []string
	}{
		{nil, nil},
		{[]string{""}, nil},
		{[]string{"name,phone, grade"}, []string{"name", "phone", "grade"}},
		{[]string{"", "name", "phone", "name"}, []string{"name", "phone"}},
		{[]string{"name,,phone,"}, []string{"name", "phone"}},
	} {
		if got := parseCols(tc.in); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("parseCols(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// Only allowed members are picked, in the chooser's order, whatever the URL names.
func TestPickColumns(t *testing.T) {
	allowed := []member{{Name: "name"}, {Name: "phone"}, {Name: "grade"}}
	names := func(ms []member) []string {
		var out []string
		for _, m := range ms {
			out = append(out, m.Name)
		}
		return out
	}
	if got := names(pickColumns(allowed, []string{"grade", "idCard", "name"})); !reflect.DeepEqual(got, []string{"name", "grade"}) {
		t.Errorf("picked %q", got)
	}
	if got := pickColumns(allowed, []string{"idCard"}); len(got) != 0 {
		t.Errorf("a name not allowed was picked: %v", got)
	}
}

// The chooser offers every field but secrets and JSON, and belongsTo relations, default columns first.
func TestColumnCandidates(t *testing.T) {
	e := &metamodel.Entity{Name: "Patient", Display: "name", Fields: []*metamodel.Field{
		{Name: "name", Type: metamodel.TypeString}, {Name: "password", Type: metamodel.TypeString, Secret: true},
		{Name: "extra", Type: metamodel.TypeJSON}, {Name: "note", Type: metamodel.TypeText},
	}}
	var got []string
	for _, m := range columnCandidates(e) {
		got = append(got, m.Name)
	}
	if !reflect.DeepEqual(got, []string{"name", "note"}) {
		t.Errorf("candidates %q", got)
	}
}
