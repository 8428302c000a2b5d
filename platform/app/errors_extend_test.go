package app

import (
	"fmt"
	"testing"

	"github.com/crmgen/crmgen/platform/extension"
)

// A refusal returned by a field of the app's extend package (not by a hook, which enforce turns into a
// ValidationError) reaches the client as a validation error at its argument, in the users' languages,
// not as an internal error.
func TestExplainExtensionRefusal(t *testing.T) {
	err := fmt.Errorf("postpone: %w", extension.Refuse("days", "range", map[string]string{"zh": "只能推迟 1 到 30 天", "en": "1 to 30 days"}))
	msg, ext, ok := explain(err)
	if !ok || ext["code"] != "VALIDATION" || ext["field"] != "days" || ext["rule"] != "range" {
		t.Fatalf("explain = %q %v %v, want VALIDATION at days by range", msg, ext, ok)
	}
	fields := ext["fields"].([]map[string]any)
	if len(fields) != 1 || fields[0]["message"] != "1 to 30 days" || fields[0]["messages"].(map[string]string)["zh"] != "只能推迟 1 到 30 天" {
		t.Errorf("fields = %v, want days with its en message and its messages per locale", fields)
	}
	if !presentable(err) {
		t.Error("the refusal is not presentable: the API would answer INTERNAL")
	}
}
