package e2e

import (
	"bytes"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/crmgen/crmgen/cmd/crmgen/cli"
	"github.com/crmgen/crmgen/internal/apptest"
)

// localHook is code the team adds to the generated app's extend/ package after its first generation: a
// file generation never saw, which must survive every regeneration like the code copied from the model.
const localHook = `package extend

import (
	"context"

	"github.com/crmgen/crmgen/platform/extension"
)

// The call center asked for this after the app went live: a WeChat ID that is only "none" is refused.
func init() {
	extension.BeforeWrite("Patient", func(ctx context.Context, w *extension.Write) error {
		if v, err := w.String("wechat"); err != nil || v != "none" {
			return err
		}
		return extension.Refuse("wechat", "placeholder", map[string]string{"zh": "请填写真实微信号或留空", "en": "Enter a real WeChat ID or leave it empty"})
	})
}
`

// regionFunction is the team's implementation of a function the second model change declares.
const regionFunction = `package extend

import (
	"context"

	"github.com/crmgen/crmgen/platform/extension"
)

// idCardRegion names the province of an ID card number's first two digits (the ones the hospital sees).
func init() {
	extension.Function("idCardRegion", func(number string) string {
		if len(number) < 2 {
			return ""
		}
		return map[string]string{"11": "北京", "31": "上海", "33": "浙江"}[number[:2]]
	})
	// Run by the model's automation refuseListed when a patient is created.
	extension.Action("refuseListed", func(ctx context.Context, r *extension.Run) error {
		if r.Record["name"] != "E2E 黑名单" {
			return nil
		}
		return extension.Refuse("name", "listed", map[string]string{"zh": "该患者在黑名单中", "en": "This patient is on the list"})
	})
}
`

// regionDeclaration declares idCardRegion in the model and uses it in a computed field.
const regionDeclaration = `
functions:
  idCardRegion: {params: [string], returns: string, help: {zh: 身份证号所属省份, en: Province of an ID card number}}
automations:
  refuseListed:
    entity: Patient
    on: [create]
    do:
      - run: refuseListed
`

// TestExtendSurvivesRegeneration generates the hospital example, whose extend/ package (copied from
// examples/hospital/extend) checks ID card numbers and fills birth date and gender from them, adds a hook
// of its own to the app's extend/, and checks both over the API. Then the model changes (a field, then
// another with a function of the team's code, declared in the model and used by a computed field, and an
// automation that runs an action of the team's code) and the
// app is regenerated three times in place, as a team would: extend/ is left byte for byte as it was, the
// app builds, and the hooks and the function run — on SQLite and Postgres.
func TestExtendSurvivesRegeneration(t *testing.T) {
	model := filepath.Join(t.TempDir(), "hospital")
	if err := os.CopyFS(model, os.DirFS(filepath.Join(apptest.RepoRoot(), "examples", "hospital"))); err != nil {
		t.Fatal(err)
	}
	// A fresh app, as a team's first generation: a directory left by an earlier run would hold that run's
	// extend/ and migrations of fields this model does not have yet.
	if err := os.RemoveAll(filepath.Join(apptest.RepoRoot(), ".build", "test", "extend-hospital")); err != nil {
		t.Fatal(err)
	}
	a := apptest.Build(t, model, "extend-hospital")
	copied, err := os.ReadFile(filepath.Join(a.Dir, "extend", "extend.go"))
	if err != nil || !bytes.Contains(copied, []byte(`extension.BeforeWrite("Patient", checkIDCard)`)) {
		t.Fatalf("the app's extend/ is not the model's: %v\n%s", err, copied)
	}
	if err := os.WriteFile(filepath.Join(a.Dir, "extend", "local.go"), []byte(localHook), 0o644); err != nil {
		t.Fatal(err)
	}
	a = rebuild(t, a, model)
	checkHooks(t, a, false)
	before := readTree(t, filepath.Join(a.Dir, "extend"))

	// Three regenerations: a new field, a second one with a computed field calling a function of the
	// team's code, and the same model again.
	for i, change := range []string{
		"      insuranceNo: {type: string, maxLen: 32, label: {zh: 医保卡号, en: Insurance no.}}\n",
		"      allergies: {type: text, label: {zh: 过敏史, en: Allergies}}\n" +
			"      cardRegion: {type: string, computed: 'idCardRegion(record.idCard)', label: {zh: 籍贯省份, en: Province}}\n",
		"",
	} {
		if change != "" {
			addPatientField(t, model, change)
		}
		if strings.Contains(change, "idCardRegion") {
			appendModel(t, model, regionDeclaration)
			if err := os.WriteFile(filepath.Join(a.Dir, "extend", "region.go"), []byte(regionFunction), 0o644); err != nil {
				t.Fatal(err)
			}
			before = readTree(t, filepath.Join(a.Dir, "extend"))
		}
		var out bytes.Buffer
		if code := cli.Do([]string{"generate", "--dev", "--allow-destructive", model, "-o", a.Dir}, nil, &out, &out); code != 0 {
			t.Fatalf("regeneration %d: exit %d\n%s", i+1, code, out.String())
		}
		if after := readTree(t, filepath.Join(a.Dir, "extend")); !maps.Equal(before, after) {
			t.Fatalf("regeneration %d changed extend/:\n%s", i+1, out.String())
		}
	}
	a = rebuild(t, a, model)
	if a.Model.Entity("Patient").Field("allergies") == nil {
		t.Fatal("the changed model has no Patient.allergies")
	}
	checkHooks(t, a, true)

	// The package's own tests (idcard_test.go) build only in the app, whose ent package its GraphQL
	// functions import: they run there.
	cmd := exec.Command("go", "test", "./extend/")
	cmd.Dir = a.Dir
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("go test ./extend/ in the app: %v\n%s", err, b)
	}
}

// checkExtendFields checks the fields examples/hospital/extend/schema.graphql adds to the API, resolved by
// the package's functions: followUpsDueToday answers only the follow-ups the caller may read (a
// physician their own, the service center all), and postponeFollowUps runs in the mutation's one
// transaction, so when one follow-up of the list is refused, the one already moved is not moved either.
func checkExtendFields(t *testing.T, a *apptest.App, s *apptest.Server) {
	t.Helper()
	loc := a.Model.App.Location()
	now := time.Now().In(loc)
	noon := time.Date(now.Year(), now.Month(), now.Day(), 12, 0, 0, 0, loc)
	patient := createID(t, s, a.Model, "Patient", map[string]any{"name": "E2E 今日随访"})
	user := func(name string) string {
		return lookup(t, s, a.Model, "User", map[string]any{"username": name})
	}
	followUp := func(physician string, due time.Time) string {
		return createID(t, s, a.Model, "FollowUp", map[string]any{"patient": patient, "kind": "chronic",
			"physician": user(physician), "dueAt": due.Format(time.RFC3339)})
	}
	mine := followUp("liuyang", noon)
	others := followUp("zhaolei", noon.Add(time.Hour))
	tomorrow := followUp("liuyang", noon.AddDate(0, 0, 1))

	due := func(s *apptest.Server) map[string]bool {
		out := map[string]bool{}
		for _, n := range list(t, query(t, s, `{ followUpsDueToday { id dueAt } }`, nil), "followUpsDueToday") {
			out[str(t, n, "id")] = true
		}
		return out
	}
	physician := s.As(t, "liuyang", "doctor123")
	if got := due(physician); !got[mine] || got[others] || got[tomorrow] {
		t.Errorf("followUpsDueToday as liuyang (own follow-ups): %v; want %s (his, today), not %s (zhaolei's) nor %s (tomorrow)", got, mine, others, tomorrow)
	}
	if got := due(s.As(t, "heping", "service123")); !got[mine] || !got[others] || got[tomorrow] {
		t.Errorf("followUpsDueToday as heping (all follow-ups): %v; want %s and %s, not %s (tomorrow)", got, mine, others, tomorrow)
	}

	dueAt := func(id string) time.Time { return timeAt(t, node(t, s, "FollowUp", id, "dueAt"), "dueAt") }
	const postpone = `mutation($ids: [ID!]!, $days: Int!) { postponeFollowUps(ids: $ids, days: $days) { id dueAt } }`
	// liuyang's own follow-up is moved first, then zhaolei's, which he may not read, fails the mutation.
	mustFail(t, physician, postpone, map[string]any{"ids": []string{mine, others}, "days": 2})
	if got := dueAt(mine); !got.Equal(noon) {
		t.Errorf("after a refused postponeFollowUps, %s is due %s; want %s, as before (the transaction rolled back)", mine, got, noon)
	}
	if e := mustFail(t, physician, postpone, map[string]any{"ids": []string{mine}, "days": 40}); e.Extensions["code"] != "VALIDATION" || e.Extensions["rule"] != "range" {
		t.Errorf("postponeFollowUps by 40 days: %+v, want VALIDATION by the rule range", e)
	}
	d := query(t, physician, postpone, map[string]any{"ids": []string{mine}, "days": 2})
	if got := timeAt(t, list(t, d, "postponeFollowUps")[0], "dueAt"); !got.Equal(noon.AddDate(0, 0, 2)) {
		t.Errorf("postponeFollowUps answers %s due %s; want %s", mine, got, noon.AddDate(0, 0, 2))
	}
	if got := dueAt(mine); !got.Equal(noon.AddDate(0, 0, 2)) {
		t.Errorf("after postponeFollowUps, %s is due %s; want %s", mine, got, noon.AddDate(0, 0, 2))
	}
}

// checkHooks checks, on each database, that a bad ID card number is refused at its field with the hook's
// words in each locale and nothing is written, that a good one fills birth date and gender, and that the
// app's own hook refuses a placeholder WeChat ID. changed says the model has the regenerations' fields,
// which the API then writes beside the hooks' values.
func checkHooks(t *testing.T, a *apptest.App, changed bool) {
	// A subtest per version: a second onEachDB in one test would name its SQLite directory "sqlite#01",
	// and platform/database builds its SQLite URI from the path unescaped, so SQLite cuts it at '#'.
	name := "generated"
	if changed {
		name = "regenerated"
	}
	t.Run(name, func(t *testing.T) { checkHooksOn(t, a, changed) })
}

func checkHooksOn(t *testing.T, a *apptest.App, changed bool) {
	onEachDB(t, a, func(t *testing.T, s *apptest.Server) {
		e := mustFail(t, s, `mutation { createPatient(input: {name: "E2E 校验位", idCard: "330105197304120017"}) { id } }`, nil)
		fields, _ := e.Extensions["fields"].([]any)
		var f map[string]any
		if len(fields) == 1 {
			f, _ = fields[0].(map[string]any)
		}
		msgs, _ := f["messages"].(map[string]any)
		if e.Extensions["code"] != "VALIDATION" || f["field"] != "idCard" || f["rule"] != "checksum" ||
			msgs["zh"] != "身份证号校验位不正确，请核对后重新输入" || !strings.HasPrefix(str(t, msgs, "en"), "The ID card number's check character is wrong") {
			t.Errorf("a bad ID card number: %+v, want idCard refused by the checksum with its zh and en messages", e)
		}
		if n := total(t, s, a.Model, "Patient", map[string]any{"name": "E2E 校验位"}); n != 0 {
			t.Errorf("the refused patient was written (%d)", n)
		}

		in := map[string]any{"name": "E2E 身份证", "idCard": "110105198503150027"}
		if changed {
			in["allergies"] = "青霉素"
		}
		sel := "gender birthDate"
		if changed {
			sel += " cardRegion"
		}
		p := query(t, s, `mutation($in: CreatePatientInput!) { createPatient(input: $in) { `+sel+` } }`, map[string]any{"in": in})
		if changed && at(t, p, "createPatient.cardRegion") != "北京" {
			t.Errorf("cardRegion, computed by the team's idCardRegion: %v, want 北京", at(t, p, "createPatient.cardRegion"))
		}
		born := timeAt(t, at(t, p, "createPatient"), "birthDate").In(a.Model.App.Location())
		if g := str(t, p, "createPatient.gender"); g != "female" || born.Format("2006-01-02") != "1985-03-15" {
			t.Errorf("a patient with only a good ID card: gender %s, born %s; want female, 1985-03-15 from the card", g, born.Format("2006-01-02"))
		}
		// What the form gives wins over the card.
		p = query(t, s, `mutation { createPatient(input: {name: "E2E 男", idCard: "110105199207040047", gender: male}) { gender } }`, nil)
		if g := str(t, p, "createPatient.gender"); g != "male" {
			t.Errorf("a patient given as male with a woman's ID card: %s, want male as given", g)
		}

		e = mustFail(t, s, `mutation { createPatient(input: {name: "E2E 微信", wechat: "none"}) { id } }`, nil)
		if e.Extensions["field"] != "wechat" || e.Extensions["rule"] != "placeholder" {
			t.Errorf("the app's own hook: %+v, want wechat refused", e)
		}
		checkExtendFields(t, a, s)
		if !changed {
			return
		}
		// The automation's run action, the team's code, refuses in the transaction of the create.
		e = mustFail(t, s, `mutation { createPatient(input: {name: "E2E 黑名单"}) { id } }`, nil)
		if e.Extensions["code"] != "VALIDATION" || e.Extensions["field"] != "name" || e.Extensions["rule"] != "listed" {
			t.Errorf("a create the team's action refuses: %+v", e)
		}
		if n := total(t, s, a.Model, "Patient", map[string]any{"name": "E2E 黑名单"}); n != 0 {
			t.Errorf("the patient the action refused was written (%d)", n)
		}
	})
}

// rebuild builds the app in a.Dir again, and loads the model it was generated from.
func rebuild(t *testing.T, a *apptest.App, model string) *apptest.App {
	t.Helper()
	start := time.Now()
	cmd := exec.Command("go", "build", "-o", a.Bin, ".")
	cmd.Dir = a.Dir
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", a.Dir, err, b)
	}
	t.Logf("built %s in %s", a.Dir, time.Since(start).Round(time.Millisecond))
	return &apptest.App{Dir: a.Dir, Bin: a.Bin, Model: apptest.LoadModel(t, model)}
}

// addPatientField adds a field line to Patient's fields in the model's patients.yaml.
func addPatientField(t *testing.T, model, line string) {
	t.Helper()
	path := filepath.Join(model, "patients.yaml")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	const anchor = "      wechat: {type: string"
	if !bytes.Contains(b, []byte(anchor)) {
		t.Fatalf("%s has no %q", path, anchor)
	}
	b = bytes.Replace(b, []byte(anchor), []byte(line+anchor), 1)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// appendModel appends YAML to the model's patients.yaml.
func appendModel(t *testing.T, model, yaml string) {
	t.Helper()
	f, err := os.OpenFile(filepath.Join(model, "patients.yaml"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(yaml); err != nil {
		t.Fatal(err)
	}
}

// readTree reads every file under dir, with its modification time: a rewrite with the same bytes is a
// write too.
func readTree(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		out[p] = info.ModTime().String() + "\n" + string(b)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
