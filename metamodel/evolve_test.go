package metamodel

import (
	"strings"
	"testing"
)

// TestCompare: each kind of change between an app's stored model (as backend/model.json holds it, without
// positions) and the model now, with what is destructive and where the new model says it.
func TestCompare(t *testing.T) {
	oldDir := writeModel(t, map[string]string{"m.yaml": `
app: {name: t}
enums:
  Grade: {values: [a, b, c]}
entities:
  Customer:
    fields:
      name:  {type: string, maxLen: 100}
      fax:   {type: string}
      grade: {type: enum, enum: Grade}
      score: {type: int}
      note:  {type: string}
      phone: {type: string}
    relations:
      region: {to: Region, kind: belongsTo}
  Region:
    fields:
      name: {type: string}
  Legacy:
    fields:
      x: {type: string}
`})
	newDir := writeModel(t, map[string]string{"m.yaml": `
app: {name: t}
enums:
  Grade: {values: [a, b]}
entities:
  Customer:
    fields:
      name:  {type: string, maxLen: 50}
      grade: {type: enum, enum: Grade}
      score: {type: float}
      note:  {type: text, required: true}
      mobile: {type: string, renamedFrom: phone}
      code:  {type: string, required: true}
      email: {type: email}
  Area:
    renamedFrom: Region
    fields:
      name: {type: string}
`})
	load := func(dir string) *Model {
		m, err := Load(dir)
		if err == nil {
			m, err = Build(m)
		}
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	old, cur := load(oldDir), load(newDir)
	b, err := Marshal(old)
	if err != nil {
		t.Fatal(err)
	}
	stored, err := Unmarshal(b)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range Compare(stored, cur) {
		line := c.String()
		if c.Pos.Line > 0 {
			line = c.Pos.String() + ": " + line
		}
		got = append(got, line)
	}
	want := []string{
		"m.yaml:14:3: renamed entity Area (Region → Area)",
		"m.yaml:7:37: maxLen of field Customer.name lowered (100 → 50): destructive, existing values may not fit",
		"m.yaml:8:33: enum value c of field Customer.grade removed: destructive, rows holding it no longer validate",
		"m.yaml:9:21: type of field Customer.score changed (int → float)",
		"m.yaml:10:21: type of field Customer.note changed (string → text)",
		"m.yaml:10:37: field Customer.note became required: destructive, rows without a value can no longer be saved",
		"m.yaml:11:7: renamed field Customer.mobile (phone → mobile)",
		"m.yaml:12:7: added field Customer.code, required and without a default: destructive, rows without a value can no longer be saved",
		"m.yaml:13:7: added field Customer.email",
		"m.yaml:5:3: dropped field Customer.fax: destructive, the migration deletes its stored values (renamedFrom keeps them under a new name)",
		"m.yaml:5:3: dropped relation Customer.region: destructive, the migration deletes its stored values (renamedFrom keeps them under a new name)",
		"m.yaml:1:1: dropped entity Legacy: destructive, the migration deletes its stored values (renamedFrom keeps them under a new name)",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("changes:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
