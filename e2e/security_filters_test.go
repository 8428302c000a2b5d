package e2e

import (
	"testing"

	"github.com/crmgen/crmgen/internal/apptest"
)

// The two request shapes that read any hidden field before filters were decided where they reach the
// database (issue 10), sent as the attack sent them: a variable named like the old guard's internal one,
// and single objects sent where the schema expects lists, in where and orderBy.
func TestSecurityFilterShapesOfTheAttack(t *testing.T) {
	a := adminApp(t, "hospital")
	onEachDB(t, a, func(t *testing.T, s *apptest.Server) {
		doctor := s.As(t, "liuyang", "doctor123") // physician: own patients only
		inline := query(t, doctor, `{ teams(where: {hasPatientsWith: {nameHasPrefix: "方"}}) { totalCount } }`, nil)
		viaVar := query(t, doctor, `query($__crmScoped0: TeamWhereInput) { teams(where: $__crmScoped0) { totalCount } }`,
			map[string]any{"__crmScoped0": map[string]any{"hasPatientsWith": map[string]any{"nameHasPrefix": "方"}}})
		if num(t, inline, "teams.totalCount") != num(t, viaVar, "teams.totalCount") {
			t.Errorf("a relation filter answers %v inline and %v through a variable named __crmScoped0",
				num(t, inline, "teams.totalCount"), num(t, viaVar, "teams.totalCount"))
		}
		agent := s.As(t, "linxiao", "service123") // call centre: idCard and balance hidden
		for _, c := range []struct {
			what, q string
			vars    map[string]any
		}{
			{"where: {and: <one object>}", `query($w: PatientWhereInput) { patients(where: $w) { totalCount } }`,
				map[string]any{"w": map[string]any{"and": map[string]any{"idCardHasPrefix": "33010219"}}}},
			{"orderBy: <one object>", `query($o: [PatientOrder!]) { patients(orderBy: $o) { totalCount } }`,
				map[string]any{"o": map[string]any{"field": "BALANCE", "direction": "DESC"}}},
		} {
			e := mustFail(t, agent, c.q, c.vars)
			if code, _ := e.Extensions["code"].(string); code != "FORBIDDEN_FIELD" {
				t.Errorf("%s as the call centre: %s (%v), want FORBIDDEN_FIELD", c.what, e.Message, e.Extensions)
			}
		}
	})
}
