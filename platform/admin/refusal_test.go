package admin

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/crmgen/crmgen/internal/modeltest"
)

// A refusal of the app's own code (platform/extension) carries its message per locale; the screens show
// it in the user's language, at the field as everywhere else, and never the API's English words or rule.
func TestOwnCodeRefusalInUsersLanguage(t *testing.T) {
	m := modeltest.FromYAML(t, tinyModel)
	var ge gqlError
	if err := json.Unmarshal([]byte(`{"message": "invalid input: Item.name: the name's check digit is wrong (checksum)",
		"extensions": {"code": "VALIDATION", "field": "name", "rule": "checksum", "fields": [{"entity": "Item", "field": "name",
		"rule": "checksum", "message": "the name's check digit is wrong", "messages": {"zh": "名称校验位不正确", "en": "the name's check digit is wrong"}}]}}`), &ge); err != nil {
		t.Fatal(err)
	}
	s := &server{cfg: Config{Model: m}}
	e := m.Entity("Item")
	for lang, want := range map[string]string{"zh": "名称校验位不正确", "en": "the name's check digit is wrong"} {
		got := s.explain(e, "", ge, lang)
		if !strings.Contains(got, want) || strings.Contains(got, "checksum") {
			t.Errorf("%s: %q, want the hook's %q", lang, got, want)
		}
		fes := ge.fieldErrors()
		if len(fes) != 1 || fes[0].text(m, lang) != want {
			t.Errorf("%s: the form's message at the field: %+v", lang, fes)
		}
	}
}

// A rule on a field that is no member of the entity (a path the API checked, such as Item.owner.team) is
// said without the field's name, which is the model's identifier, and a rule the catalogue has no words
// for is said as a wrong value, never by its name.
func TestRefusalOfAnUnknownFieldNamesNoIdentifier(t *testing.T) {
	m := modeltest.FromYAML(t, tinyModel)
	ge := gqlError{Message: "invalid input: Item.ownerTeamCode: bad (weirdRule)", Extensions: map[string]any{"code": "VALIDATION",
		"fields": []any{map[string]any{"field": "ownerTeamCode", "rule": "weirdRule", "message": "bad"}}}}
	s := &server{cfg: Config{Model: m}}
	for _, lang := range []string{"zh", "en"} {
		got := s.explain(m.Entity("Item"), "", ge, lang)
		if got != catalogue[lang]["rule.type"] {
			t.Errorf("%s: %q, want %q", lang, got, catalogue[lang]["rule.type"])
		}
	}
}
