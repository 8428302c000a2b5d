package extension_test

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/crmgen/crmgen/internal/modeltest"
	"github.com/crmgen/crmgen/platform/expr"
	"github.com/crmgen/crmgen/platform/extension"
)

const functionsModel = `
app: {name: t}
functions:
  checkDigit: {params: [string], returns: string}
  olderThan: {params: [timestamp, int], returns: bool}
entities:
  Person:
    fields:
      code: {type: string}
      born: {type: date}
      digit: {type: string, computed: 'checkDigit(record.code)'}
      adult: {type: bool, computed: 'olderThan(record.born, 18)'}
`

// A declared function runs the registered Go func inside the model's expressions, with CEL values
// converted both ways; a Go error fails the expression; and Check names every way code and model disagree.
func TestFunctions(t *testing.T) {
	m := modeltest.FromYAML(t, functionsModel)
	if err := extension.Check(m); err == nil || !strings.Contains(err.Error(), "declares function checkDigit(string) string, which the extend package does not implement") {
		t.Errorf("Check with nothing registered: %v", err)
	}

	extension.Function("checkDigit", func(s string) (string, error) {
		if s == "" {
			return "", os.ErrInvalid
		}
		return s[len(s)-1:], nil
	})
	extension.Function("olderThan", func(born time.Time, years int) bool { return born.AddDate(years, 0, 0).Before(time.Now()) })
	extension.Function("stray", func() bool { return true })
	err := extension.Check(m)
	if err == nil || !strings.Contains(err.Error(), "implements function stray, which the model does not declare") ||
		strings.Contains(err.Error(), "checkDigit") || strings.Contains(err.Error(), "olderThan") {
		t.Errorf("Check with a stray function: %v, want stray named and nothing else", err)
	}
	extension.ForgetFunction("stray")
	if err := extension.Check(m); err != nil {
		t.Fatal(err)
	}

	m.SetFunctions(extension.Call)
	record := map[string]any{"id": int64(1), "code": "11010519850315002X", "born": time.Now().AddDate(-20, 0, 0)}
	if v, err := expr.Eval(m, "Person", "checkDigit(record.code)", record, nil); err != nil || v != "X" {
		t.Errorf("checkDigit: %v %v, want X", v, err)
	}
	if v, err := expr.Eval(m, "Person", "olderThan(record.born, 18) && !olderThan(record.born, 30)", record, nil); err != nil || v != true {
		t.Errorf("olderThan: %v %v, want true", v, err)
	}
	record["code"] = ""
	if _, err := expr.Eval(m, "Person", "checkDigit(record.code)", record, nil); err == nil {
		t.Error("a Go error of the function did not fail the expression")
	}

	wrong := modeltest.FromYAML(t, `
app: {name: t}
functions:
  checkDigit: {params: [string], returns: string}
  olderThan: {params: [timestamp, double], returns: bool}
entities:
  Person:
    fields: {code: string}
`)
	if err := extension.Check(wrong); err == nil || !strings.Contains(err.Error(), "takes int as parameter 2, which is no CEL double") {
		t.Errorf("Check of a signature that differs: %v", err)
	}
}
