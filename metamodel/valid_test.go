package metamodel

import (
	"bytes"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func loadValid(t *testing.T, dir string) *Model {
	t.Helper()
	m, err := Load(dir)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if _, err := Build(m); err != nil {
		t.Fatalf("Build:\n%v", err)
	}
	if len(m.Warnings) > 0 {
		t.Fatalf("warnings:\n%v", m.Warnings)
	}
	return m
}

// TestValid builds every model under testdata/valid without errors or warnings, and checks that the JSON
// form round-trips byte for byte and re-links every reference.
func TestValid(t *testing.T) {
	dirs, _ := filepath.Glob("testdata/valid/*")
	if len(dirs) < 3 {
		t.Fatalf("want at least 3 valid models, have %d", len(dirs))
	}
	for _, dir := range dirs {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			m := loadValid(t, dir)
			js, err := Marshal(m)
			if err != nil {
				t.Fatal(err)
			}
			m2, err := Unmarshal(js)
			if err != nil {
				t.Fatal(err)
			}
			js2, err := Marshal(m2)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(js, js2) {
				t.Fatalf("JSON does not round-trip:\n%s", cmp.Diff(string(js), string(js2)))
			}
			for _, e := range m2.Entities {
				for _, f := range e.Fields {
					if f.Entity != e {
						t.Errorf("%s.%s: Entity not linked", e.Name, f.Name)
					}
					if f.Type == TypeEnum && (f.EnumRef == nil || f.EnumRef.Name != f.Enum) {
						t.Errorf("%s.%s: EnumRef not linked", e.Name, f.Name)
					}
				}
				for _, r := range e.Relations {
					if r.Target == nil || r.Target.Name != r.To || r.Entity != e {
						t.Errorf("%s.%s: Target not linked", e.Name, r.Name)
					}
					if r.InverseRel == nil || r.InverseRel.InverseRel != r || r.InverseRel.Entity != r.Target {
						t.Errorf("%s.%s: InverseRel not linked both ways", e.Name, r.Name)
					}
				}
			}
			for _, w := range m2.Workflows {
				if w.EntityRef == nil || w.EntityRef.Name != w.Entity {
					t.Errorf("workflow %s: EntityRef not linked", w.Name)
				}
			}
			// Build is idempotent on a built model.
			if _, err := Build(m); err != nil {
				t.Errorf("second Build: %v", err)
			}
		})
	}
}

// TestBuildResolves checks what Build derives for the format's full example.
func TestBuildResolves(t *testing.T) {
	m := loadValid(t, "testdata/valid/full")
	user, team := m.Entity("User"), m.Entity("Team")
	if !user.Builtin || !team.Builtin {
		t.Fatal("User and Team must be built in")
	}
	var names []string
	for _, f := range user.Fields {
		names = append(names, f.Name)
	}
	want := []string{"username", "displayName", "email", "phone", "active", "roles", "passwordHash", "createdAt", "updatedAt"}
	if diff := cmp.Diff(want, names); diff != "" {
		t.Errorf("User fields (-want +got):\n%s", diff)
	}
	if f := user.Field("passwordHash"); !f.System || !f.Secret {
		t.Error("User.passwordHash must be System and Secret")
	}
	if r := team.Relation("members"); r == nil || r.Kind != HasMany || !r.Derived || r.InverseRel != user.Relation("team") {
		t.Errorf("Team.members must be the derived side of User.team, got %+v", r)
	}
	if r := team.Relation("children"); r == nil || r.Kind != HasMany || r.Target != team {
		t.Errorf("Team.children must be the derived tree side of Team.parent")
	}

	patient := m.Entity("Patient")
	if patient.OwnerField != "physician" || patient.Display != "name" {
		t.Errorf("Patient ownerField %q display %q", patient.OwnerField, patient.Display)
	}
	if !patient.Has(TraitSoftDelete) || patient.Field("deletedAt") == nil || !patient.Field("deletedAt").System {
		t.Error("softDelete must add the system field deletedAt")
	}
	if r := patient.Relation("owner"); r == nil || !r.System || r.To != "User" || r.OnDelete != OnDeleteSetNull {
		t.Errorf("the owner trait must add a system relation owner → User, got %+v", r)
	}
	if r := user.Relation("patientsByOwner"); r == nil || r.Kind != HasMany {
		t.Error("User.patientsByOwner must be derived from Patient.owner")
	}
	if r := patient.Relation("department"); r.OnDelete != OnDeleteSetNull || r.Inverse != "patients" {
		t.Errorf("Patient.department: %+v", r)
	}
	if r := patient.Relation("evaluationsByPatient"); r == nil || r.Kind != HasMany || r.To != "Evaluation" {
		t.Error("Evaluation.patient has no inverse, so Patient.evaluationsByPatient must be derived")
	}
	if r := m.Entity("Tag").Relation("patients"); r == nil || r.Kind != ManyToMany || !r.Derived {
		t.Error("Tag.patients must be the derived manyToMany side")
	}
	if r := m.Entity("FollowUp").Relation("patient"); r.OnDelete != OnDeleteCascade {
		t.Error("explicit onDelete kept")
	}
	if r := m.Entity("Complaint").Relation("department"); r.OnDelete != OnDeleteRestrict {
		t.Error("onDelete defaults to restrict")
	}
	if f := patient.Field("balance"); f.Precision != 12 || f.Scale != 2 {
		t.Errorf("balance precision %d scale %d", f.Precision, f.Scale)
	}
	if f := m.Entity("Opportunity").Field("amount"); f.Precision != 18 || f.Scale != 2 {
		t.Errorf("decimal defaults: precision %d scale %d", f.Precision, f.Scale)
	}

	fu := m.Entity("FollowUp")
	st := fu.Field("status")
	if st == nil || st.Type != TypeEnum || !st.System || !st.Required || st.StateOf != "FollowUpProcess" ||
		st.Default != "instructed" || st.Enum != "FollowUpProcessState" {
		t.Fatalf("state field: %+v", st)
	}
	if en := m.Enum("FollowUpProcessState"); en == nil || len(en.Values) != 5 || en.Values[4].Key != "audited" {
		t.Errorf("state enum: %+v", en)
	}
	if fu.Display != "kind" {
		t.Errorf("FollowUp display defaults to its first string field, got %q", fu.Display)
	}
	w := m.Workflow("FollowUpProcess")
	if w.Timers[0].AfterNanos != int64(72*time.Hour) {
		t.Errorf("timer after: %d", w.Timers[0].AfterNanos)
	}
	if m.WorkflowOf("FollowUp", "status") != w {
		t.Error("WorkflowOf")
	}

	head := m.Role("deptHead")
	p := head.Permissions["Patient"]
	if p.Read.Kind != ScopeTeam || p.Update.Kind != ScopeTeam || !p.Create || !p.Export || p.Fields["idCard"] != AccessReadonly {
		t.Errorf("deptHead on Patient after inheriting physician: %+v", p)
	}
	if c := head.Permissions["Complaint"]; c == nil || c.Read.Kind != ScopeField || c.Read.Field != "department" ||
		c.Read.Equals != "user.team" {
		t.Errorf("deptHead inherits the Complaint field scope, got %+v", c)
	}

	var order []string
	for _, s := range m.Data.Sets {
		order = append(order, s.Entity)
	}
	if diff := cmp.Diff([]string{"Team", "Tag", "Patient", "FollowUp"}, order); diff != "" {
		t.Errorf("data sets must load referenced entities first (-want +got):\n%s", diff)
	}
	if r := m.Report("pipelineByStage"); r.Kind != ReportAggregate || len(r.Measures) != 3 || r.Measures[1].Func != "sum" ||
		r.Measures[1].Field != "amount" {
		t.Errorf("report: %+v", r)
	}
	if got := m.Sections["workflows"]; got.File != "workflows.yaml" || got.Line != 1 || got.Col != 1 {
		t.Errorf("Sections[workflows] = %+v", got)
	}
	for i := 1; i < len(m.Entities); i++ {
		if m.Entities[i-1].Name >= m.Entities[i].Name {
			t.Errorf("entities not sorted: %s before %s", m.Entities[i-1].Name, m.Entities[i].Name)
		}
	}
}

// TestDataNormalized checks that data values become Go values of the field types.
func TestDataNormalized(t *testing.T) {
	m := loadValid(t, "testdata/valid/features")
	get := func(ent string, i int, name string) any {
		for _, s := range m.Data.Sets {
			if s.Entity == ent {
				for _, fv := range s.Records[i].Values {
					if fv.Name == name {
						return fv.Value
					}
				}
			}
		}
		t.Fatalf("no %s[%d].%s", ent, i, name)
		return nil
	}
	checks := []struct {
		ent  string
		i    int
		name string
		want any
	}{
		{"Ticket", 0, "amount", float64(12)},
		{"Account", 0, "partners", []any{"beta"}},
		{"Account", 0, "profile", map[string]any{"x": []any{int64(1), int64(2)}}},
		{"Account", 1, "founded", "1999-12-31"},
		{"Ticket", 0, "state", "won"},
	}
	for _, c := range checks {
		if diff := cmp.Diff(c.want, get(c.ent, c.i, c.name)); diff != "" {
			t.Errorf("%s[%d].%s (-want +got):\n%s", c.ent, c.i, c.name, diff)
		}
	}
	if f := m.Entity("Account").Field("founded"); f.Default != "2000-01-01" {
		t.Errorf("date default %#v", f.Default)
	}
	if f := m.Entity("Account").Field("version"); f.Default != int64(1) || !f.System {
		t.Errorf("versioned adds version: %+v", f)
	}
	if r := m.Entity("Profile").Relation("account"); r == nil || r.Kind != HasOne {
		t.Error("a unique belongsTo derives a hasOne")
	}
	if r := m.Entity("Account").Relation("partnerOf"); r == nil || r.Kind != ManyToMany || r.Target.Name != "Account" {
		t.Error("self manyToMany derives its other side")
	}
	if f := m.Entity("User").Field("employeeNo"); f == nil || f.Entity.Name != "User" {
		t.Error("User extension field")
	}
	if e := m.Entity("Region"); len(e.Traits) != 0 || e.Relation("owner") != nil || e.OwnerField != "" {
		t.Errorf("traits: [] means none: %+v", e.Traits)
	}
	var order []string
	for _, s := range m.Data.Sets {
		order = append(order, s.Entity)
	}
	if diff := cmp.Diff([]string{"Region", "Account", "Ticket"}, order); diff != "" {
		t.Errorf("data order (-want +got):\n%s", diff)
	}
}
