package metamodel

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/cel-go/cel"
	"github.com/google/go-cmp/cmp"
)

func TestErrorFormat(t *testing.T) {
	list := ErrorList{
		{Pos: Pos{File: "b.yaml", Line: 1, Col: 1}, Msg: "second file"},
		{Pos: Pos{File: "a.yaml", Line: 3, Col: 5}, Msg: `unknown key "requird" (did you mean "required"?)`},
		{Pos: Pos{File: "a.yaml", Line: 3, Col: 2}, Msg: "state is a dead end", Warning: true},
	}
	list.Sort()
	want := `a.yaml:3:2: warning: state is a dead end
a.yaml:3:5: unknown key "requird" (did you mean "required"?)
b.yaml:1:1: second file`
	if got := list.Error(); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	var err error = list
	var el ErrorList
	if !errors.As(err, &el) || len(el) != 3 {
		t.Error("ErrorList must be usable with errors.As")
	}
	if (ErrorList{}).Err() != nil {
		t.Error("an empty list is no error")
	}
}

func TestLoadSingleFile(t *testing.T) {
	dir := writeModel(t, map[string]string{"sub/crm.yaml": "app: {name: t}\nentities:\n  Lead:\n    fields:\n      nme: {type: strng}\n"})
	m, err := Load(filepath.Join(dir, "sub", "crm.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = Build(m)
	want := `crm.yaml:5:19: unknown field type "strng" (want one of string, text, int, float, decimal, bool, date, datetime, enum, email, phone, url, json, file, image)`
	if err == nil || err.Error() != want {
		t.Errorf("got %v\nwant %s", err, want)
	}
}

func TestLoadDirectory(t *testing.T) {
	dir := writeModel(t, map[string]string{
		"b.yml":        "entities:\n  B: {}\n",
		"a.yaml":       "app: {name: t}\nentities:\n  A: {}\n",
		".git/x.yaml":  "not: [valid",
		"README.md":    "# not a model file",
		"nested/c.yml": "entities:\n  C: {}\n",
	})
	m, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range m.Entities {
		names = append(names, e.Name+"@"+e.Pos.File)
	}
	if diff := cmp.Diff([]string{"A@a.yaml", "B@b.yml", "C@nested/c.yml"}, names); diff != "" {
		t.Errorf("entities in file order (-want +got):\n%s", diff)
	}
	if _, err := Load(filepath.Join(dir, "missing")); err == nil || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a missing path: %v", err)
	}
	empty := t.TempDir()
	if _, err := Load(empty); err == nil || !strings.Contains(err.Error(), "no *.yaml or *.yml files") {
		t.Errorf("an empty directory: %v", err)
	}
}

// TestCELRuntime evaluates compiled expressions with map records, as the platform does.
func TestCELRuntime(t *testing.T) {
	m := loadValid(t, "testdata/valid/full")
	e := m.Entity("Patient")
	ast, err := m.CompileExpr(e, Expr{Src: `years(now - record.birthDate) >= 18 && record.department.name == "心内科" && days(duration("48h")) == 2`}, cel.BoolType)
	if err != nil {
		t.Fatal(err)
	}
	env, err := m.CELEnv(e)
	if err != nil {
		t.Fatal(err)
	}
	prg, err := env.Program(ast)
	if err != nil {
		t.Fatal(err)
	}
	now := mustTime(t, "2024-06-01T00:00:00Z")
	out, _, err := prg.Eval(map[string]any{
		"record": map[string]any{"id": int64(1), "birthDate": mustTime(t, "1980-05-01T00:00:00Z"),
			"department": map[string]any{"id": int64(2), "name": "心内科"}},
		"now": now,
	})
	if err != nil || out.Value() != true {
		t.Fatalf("got %v, %v", out, err)
	}
	// A null relation compares with null.
	ast, err = m.CompileExpr(e, Expr{Src: `record.department == null`}, cel.BoolType)
	if err != nil {
		t.Fatal(err)
	}
	prg, _ = env.Program(ast)
	out, _, err = prg.Eval(map[string]any{"record": map[string]any{"id": int64(1), "department": nil}})
	if err != nil || out.Value() != true {
		t.Fatalf("got %v, %v", out, err)
	}
}

func TestCompileExprPositions(t *testing.T) {
	m := loadValid(t, "testdata/valid/full")
	e := m.Entity("Opportunity")
	for _, c := range []struct {
		x    Expr
		want string
	}{
		{Expr{Src: "record.amuont > 5", Pos: Pos{File: "r.yaml", Line: 4, Col: 12}}, `r.yaml:4:18: expression: undefined field 'amuont' (did you mean 'amount'?)`},
		{Expr{Src: "record.amount > 5 &&\n  record.stag == 'won'", Pos: Pos{File: "r.yaml", Line: 4, Col: 11}}, `r.yaml:5:19: expression: undefined field 'stag' (did you mean 'stage'?)`},
		{Expr{Src: "record.title", Pos: Pos{File: "r.yaml", Line: 2, Col: 3}}, `r.yaml:2:3: expression has type string, want bool`},
		{Expr{Src: "record.amount >", Pos: Pos{File: "r.yaml", Line: 1, Col: 1}}, `r.yaml:1:16: expression: Syntax error: mismatched input '<EOF>' expecting {'[', '{', '(', '.', '-', '!', 'true', 'false', 'null', NUM_FLOAT, NUM_INT, NUM_UINT, STRING, BYTES, IDENTIFIER}`},
	} {
		_, err := m.CompileExpr(e, c.x, cel.BoolType)
		if err == nil || err.Error() != c.want {
			t.Errorf("%q:\ngot  %v\nwant %s", c.x.Src, err, c.want)
		}
	}
}
