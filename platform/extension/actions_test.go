package extension_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/crmgen/crmgen/internal/modeltest"
	"github.com/crmgen/crmgen/platform/extension"
)

// A model's `run` action runs the registered code with the record; the app refuses to start while an
// action the model runs is registered nowhere.
func TestActions(t *testing.T) {
	m := modeltest.FromYAML(t, `
app: {name: t}
entities:
  Ticket:
    fields: {title: string}
automations:
  escalate:
    entity: Ticket
    on: [create]
    do:
      - run: pushToHelpdesk
`)
	if err := extension.Check(m); err == nil || !strings.Contains(err.Error(), "automation escalate runs action pushToHelpdesk, which the extend package does not register") {
		t.Errorf("Check without the action: %v", err)
	}
	var got *extension.Run
	extension.Action("pushToHelpdesk", func(ctx context.Context, r *extension.Run) error {
		got = r
		if r.Record["title"] == "refuse" {
			return extension.Refuse("title", "helpdesk", map[string]string{"en": "the helpdesk refused it"})
		}
		return nil
	})
	if err := extension.Check(m); err != nil {
		t.Fatal(err)
	}
	if err := extension.RunAction(context.Background(), "pushToHelpdesk", &extension.Run{Entity: "Ticket", ID: 7, Record: map[string]any{"title": "x"}}); err != nil || got == nil || got.ID != 7 {
		t.Errorf("RunAction: %v, saw %+v", err, got)
	}
	err := extension.RunAction(context.Background(), "pushToHelpdesk", &extension.Run{Entity: "Ticket", ID: 8, Record: map[string]any{"title": "refuse"}})
	var fe *extension.FieldError
	if !errors.As(err, &fe) || fe.Field != "title" {
		t.Errorf("a refusing action: %v", err)
	}
}
