package e2e

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/crmgen/crmgen/internal/apptest"
	"github.com/crmgen/crmgen/metamodel"
)

// The example models end to end: each is generated and built once, then started on SQLite and on
// Postgres with its demo data, and driven over GraphQL. Helpers are in examples_helpers_test.go.

func hospital(t *testing.T) *apptest.App { return built(t, "examples/hospital", "hospital") }
func b2bSales(t *testing.T) *apptest.App { return built(t, "examples/b2b-sales", "b2b-sales") }

func TestExampleHospital(t *testing.T) {
	a := hospital(t)
	m := a.Model
	runSteps(t, a, []step{
		{"Schema", func(t *testing.T, s *apptest.Server) { checkSchema(t, s, m) }},
		{"DemoData", func(t *testing.T, s *apptest.Server) {
			checkDemoData(t, s, m, []string{"Appointment", "CareReminder", "Complaint", "Evaluation", "FollowUp", "Patient", "Visit"})
		}},
		{"Tree", func(t *testing.T, s *apptest.Server) { hospitalTree(t, s, m) }},
		{"CreateWithRelations", func(t *testing.T, s *apptest.Server) { hospitalCreate(t, s, m) }},
		{"ComputedAge", func(t *testing.T, s *apptest.Server) { hospitalAge(t, s, m) }},
		{"ListFilterOrderPaginate", func(t *testing.T, s *apptest.Server) { hospitalList(t, s, m) }},
		{"NestedQueryStatements", func(t *testing.T, s *apptest.Server) { hospitalNested(t, s, m) }},
		{"Update", func(t *testing.T, s *apptest.Server) { hospitalUpdate(t, s, m) }},
		{"Delete", func(t *testing.T, s *apptest.Server) { hospitalDelete(t, s, m) }},
		{"Validation", func(t *testing.T, s *apptest.Server) { hospitalValidation(t, s, m) }},
		{"ManyToMany", func(t *testing.T, s *apptest.Server) { hospitalTags(t, s, m) }},
	})
}

// hospitalRefs are records of the demo data the hospital steps use.
type hospitalRefs struct {
	root, cardio, ortho string // teams: the hospital and two departments
	liuyang             string // a cardiology physician
	vip, insured, alone string // tags
}

// hospitalLookups finds the hospitalRefs by their unique or distinctive values.
func hospitalLookups(t *testing.T, s *apptest.Server, m *metamodel.Model) hospitalRefs {
	t.Helper()
	return hospitalRefs{
		root:    lookup(t, s, m, "Team", map[string]any{"name": "杭州市第一人民医院"}),
		cardio:  lookup(t, s, m, "Team", map[string]any{"name": "心内科"}),
		ortho:   lookup(t, s, m, "Team", map[string]any{"name": "骨科"}),
		liuyang: lookup(t, s, m, "User", map[string]any{"username": "liuyang"}),
		vip:     lookup(t, s, m, "Tag", map[string]any{"name": "VIP"}),
		insured: lookup(t, s, m, "Tag", map[string]any{"name": "医保"}),
		alone:   lookup(t, s, m, "Tag", map[string]any{"name": "独居老人"}),
	}
}

// hospitalTree checks the department tree (the hospital → its departments) against the data, then moves
// a ward between departments and to the top.
func hospitalTree(t *testing.T, s *apptest.Server, m *metamodel.Model) {
	checkTree(t, s, m, "Team", "name")
	r := hospitalLookups(t, s, m)
	ward := create(t, s, m, "Team", map[string]any{"name": "E2E 心内一病区", "parent": r.cardio}, "parent { name }")
	wardID := str(t, ward, "id")
	if str(t, ward, "parent.name") != "心内科" {
		t.Errorf("new ward's parent: %s", jsonString(ward))
	}
	// Three levels down from the root: hospital → departments → wards.
	threeLevels := func() map[string][]string {
		n := node(t, s, "Team", r.root, `children(first: 50) { edges { node { name children(first: 50) { edges { node { name parent { name } } } } } } }`)
		out := map[string][]string{}
		for _, dept := range nodesAt(t, n, "children") {
			for _, w := range nodesAt(t, dept, "children") {
				out[str(t, dept, "name")] = append(out[str(t, dept, "name")], str(t, w, "name"))
				if str(t, w, "parent.name") != str(t, dept, "name") {
					t.Errorf("parent of %s = %s, want %s", str(t, w, "name"), str(t, w, "parent.name"), str(t, dept, "name"))
				}
			}
		}
		return out
	}
	if got := fmt.Sprint(threeLevels()); got != "map[心内科:[E2E 心内一病区]]" {
		t.Errorf("wards under the departments: %s", got)
	}
	// Move the ward to orthopedics: it leaves cardiology's children and joins orthopedics'.
	if d := update(t, s, "Team", wardID, map[string]any{"parentID": r.ortho}, "parent { name }"); str(t, d, "parent.name") != "骨科" {
		t.Errorf("moved ward's parent: %s", jsonString(d))
	}
	if got := fmt.Sprint(threeLevels()); got != "map[骨科:[E2E 心内一病区]]" {
		t.Errorf("after moving the ward to 骨科: %s", got)
	}
	if n := total(t, s, m, "Team", map[string]any{"hasParentWith": []any{map[string]any{"id": r.cardio}}}); n != 0 {
		t.Errorf("心内科 still has %d children", n)
	}
	// Without a parent it is a root.
	update(t, s, "Team", wardID, map[string]any{"clearParent": true}, "id")
	roots := names(t, at(t, query(t, s, `{ teams(where: {not: {hasParent: true}}) { edges { node { name } } } }`, nil), "teams"), "name")
	if sorted(roots) != sorted([]string{"杭州市第一人民医院", "E2E 心内一病区"}) {
		t.Errorf("roots after clearing the ward's parent: %v", roots)
	}
	// A department cannot become its own ancestor's child: that would make a cycle and lose the root.
	checkNoCycle(t, s, m, "Team", r.root, r.cardio)
	mustRemove(t, s, "Team", wardID)
}

// hospitalCreate creates a patient in a department with a physician and tags, then a visit and a
// follow-up for it, and reads them back by id and through the inverse lists.
func hospitalCreate(t *testing.T, s *apptest.Server, m *metamodel.Model) {
	r := hospitalLookups(t, s, m)
	inverse := func() map[string]any {
		return query(t, s, `query($d: ID!, $u: ID!, $tag: ID!) {
			d: node(id: $d) { ... on Team { patients { totalCount } visits { totalCount } } }
			u: node(id: $u) { ... on User { patients { totalCount } visits { totalCount } followUps { totalCount } } }
			tag: node(id: $tag) { ... on Tag { patients { totalCount } } } }`, map[string]any{"d": r.cardio, "u": r.liuyang, "tag": r.vip})
	}
	before := inverse()
	p := create(t, s, m, "Patient", map[string]any{
		"name": "E2E 王建华", "gender": "male", "birthDate": day(-52, 0, -30), "idCard": "330105197304120016",
		"phone": "13812345678", "grade": "A", "balance": 1234.56, "address": "杭州市西湖区文三路1号", "wechat": "wx_e2e",
		"department": r.cardio, "physician": r.liuyang, "tags": []string{r.vip, r.insured},
	}, `code name gender grade balance idCard phone department { name } physician { username } owner { id }
		tags(orderBy: {field: NAME}) { totalCount edges { node { name } } } createdAt updatedAt`)
	pid := str(t, p, "id")
	if !regexp.MustCompile(`^P\d{6}-\d{5}$`).MatchString(str(t, p, "code")) {
		t.Errorf("patient code %q, want P<yyyymm>-<5 digits>", str(t, p, "code"))
	}
	if str(t, p, "department.name") != "心内科" || str(t, p, "physician.username") != "liuyang" || num(t, p, "balance") != 1234.56 ||
		str(t, p, "grade") != "A" || str(t, p, "gender") != "male" || str(t, p, "idCard") != "330105197304120016" {
		t.Errorf("created patient: %s", jsonString(p))
	}
	if got := names(t, at(t, p, "tags"), "name"); sorted(got) != sorted([]string{"VIP", "医保"}) {
		t.Errorf("patient tags = %v", got)
	}
	v := create(t, s, m, "Visit", map[string]any{
		"visitedAt": time.Now().UTC().Add(-2 * time.Hour).Format(time.RFC3339), "kind": "inpatient",
		"chiefComplaint": "胸闷气短三天", "diagnosis": "不稳定型心绞痛", "fee": 3200.5,
		"patient": pid, "department": r.cardio, "physician": r.liuyang,
	}, "code kind fee patient { name } department { name } physician { username }")
	vid := str(t, v, "id")
	if !regexp.MustCompile(`^V\d{8}-\d{4}$`).MatchString(str(t, v, "code")) || str(t, v, "patient.name") != "E2E 王建华" ||
		str(t, v, "kind") != "inpatient" || num(t, v, "fee") != 3200.5 {
		t.Errorf("created visit: %s", jsonString(v))
	}
	f := create(t, s, m, "FollowUp", map[string]any{
		"kind": "postDischarge", "dueAt": day(0, 0, 7), "patient": pid, "physician": r.liuyang, "visit": vid,
	}, "code status kind dueAt patient { name } visit { code } physician { username }")
	fid := str(t, f, "id")
	if !regexp.MustCompile(`^F\d{4}-\d{5}$`).MatchString(str(t, f, "code")) || str(t, f, "status") != "instructed" ||
		str(t, f, "visit.code") != str(t, v, "code") || str(t, f, "patient.name") != "E2E 王建华" {
		t.Errorf("created follow-up (status must default to instructed): %s", jsonString(f))
	}
	// Read back by id, with the inverse lists of the patient and the visit.
	n := node(t, s, "Patient", pid, `name department { name } physician { username } tags { totalCount }
		visits { totalCount edges { node { id followUps { totalCount edges { node { id kind } } } } } }
		followUps { totalCount edges { node { id visit { id } } } }`)
	if str(t, n, "name") != "E2E 王建华" || str(t, n, "department.name") != "心内科" || num(t, n, "tags.totalCount") != 2 ||
		num(t, n, "visits.totalCount") != 1 || str(t, n, "visits.edges.0.node.id") != vid ||
		num(t, n, "visits.edges.0.node.followUps.totalCount") != 1 || str(t, n, "visits.edges.0.node.followUps.edges.0.node.id") != fid ||
		num(t, n, "followUps.totalCount") != 1 || str(t, n, "followUps.edges.0.node.visit.id") != vid {
		t.Errorf("node(patient) = %s", jsonString(n))
	}
	fn := node(t, s, "FollowUp", fid, "patient { id } physician { id } visit { patient { id } }")
	if str(t, fn, "patient.id") != pid || str(t, fn, "physician.id") != r.liuyang || str(t, fn, "visit.patient.id") != pid {
		t.Errorf("node(follow-up) = %s", jsonString(fn))
	}
	// The department's, the physician's and the tag's lists each gained the new records.
	after := inverse()
	for path, delta := range map[string]float64{"d.patients": 1, "d.visits": 1, "u.patients": 1, "u.visits": 1, "u.followUps": 1, "tag.patients": 1} {
		if num(t, after, path+".totalCount") != num(t, before, path+".totalCount")+delta {
			t.Errorf("%s: %v before, %v after creating, want +%v", path, at(t, before, path+".totalCount"), at(t, after, path+".totalCount"), delta)
		}
	}
	d := query(t, s, `query($d: ID!, $p: ID!) { node(id: $d) { ... on Team { patients(where: {id: $p}) { edges { node { name } } } } } }`,
		map[string]any{"d": r.cardio, "p": pid})
	if got := names(t, at(t, d, "node.patients"), "name"); fmt.Sprint(got) != "[E2E 王建华]" {
		t.Errorf("心内科.patients where id = new patient: %v", got)
	}
}

// hospitalAge checks the computed Patient.age (years(now - record.birthDate)) for records created now.
func hospitalAge(t *testing.T, s *apptest.Server, m *metamodel.Model) {
	birth := day(-40, 0, -180) // mid-year: no boundary of a day or a year is near
	p := create(t, s, m, "Patient", map[string]any{"name": "E2E 年龄", "birthDate": birth}, "age birthDate")
	bt := timeAt(t, p, "birthDate")
	if want := yearsSince(bt); want != 40 || num(t, p, "age") != 40 {
		t.Errorf("age of a patient born %s = %v, want 40 (years(now - birthDate) = %d)", birth, at(t, p, "age"), want)
	}
	if n := node(t, s, "Patient", str(t, p, "id"), "age"); num(t, n, "age") != 40 {
		t.Errorf("age read back = %v, want 40", at(t, n, "age"))
	}
	d := update(t, s, "Patient", str(t, p, "id"), map[string]any{"birthDate": day(-7, 0, -100)}, "age")
	if num(t, d, "age") != 7 {
		t.Errorf("age after changing the birth date to 7 years ago = %v, want 7", at(t, d, "age"))
	}
	if p := create(t, s, m, "Patient", map[string]any{"name": "E2E 无生日"}, "age"); at(t, p, "age") != nil {
		t.Errorf("age without a birth date = %v, want null", at(t, p, "age"))
	}
}

// hospitalList pages through patients of grade A or B ordered by birth date, and checks against the
// unpaged, unfiltered list filtered and sorted here.
func hospitalList(t *testing.T, s *apptest.Server, m *metamodel.Model) {
	// Three more patients born on the same day: ties are broken by id across page boundaries.
	for i := 0; i < 3; i++ {
		create(t, s, m, "Patient", map[string]any{"name": fmt.Sprintf("E2E 同日%d", i), "grade": "B", "birthDate": "1975-05-05T00:00:00Z"}, "")
	}
	all := query(t, s, `{ patients(first: 1000) { totalCount edges { node { id name grade birthDate department { name } tags { edges { node { name } } } } } } }`, nil)
	type row struct {
		id    string
		birth time.Time
	}
	var want []row
	inCardio, vip := 0, 0
	for _, n := range nodesAt(t, all, "patients") {
		g := str(t, n, "grade")
		if (g == "A" || g == "B") && at(t, n, "birthDate") != nil {
			want = append(want, row{str(t, n, "id"), timeAt(t, n, "birthDate")})
		}
		if d, ok := at(t, n, "department").(map[string]any); ok && d["name"] == "心内科" {
			inCardio++
		}
		for _, tag := range names(t, at(t, n, "tags"), "name") {
			if tag == "VIP" {
				vip++
			}
		}
	}
	if int(num(t, all, "patients.totalCount")) != len(nodesAt(t, all, "patients")) {
		t.Fatalf("unpaged list: totalCount %v, %d rows", at(t, all, "patients.totalCount"), len(nodesAt(t, all, "patients")))
	}
	if len(want) < 12 {
		t.Fatalf("reference set too small: %d patients of grade A or B with a birth date", len(want))
	}
	ordered := func(desc bool) []string {
		sort.SliceStable(want, func(i, j int) bool {
			if !want[i].birth.Equal(want[j].birth) {
				return want[i].birth.Before(want[j].birth) != desc
			}
			return idNum(t, want[i].id) < idNum(t, want[j].id)
		})
		out := make([]string, len(want))
		for i, r := range want {
			out[i] = r.id
		}
		return out
	}
	where := `where: {gradeIn: [A, B], birthDateNotNil: true}`
	got := ids(t, pageAll(t, s, "patients", where+`, orderBy: [{field: BIRTH_DATE, direction: ASC}]`, "id birthDate", 4))
	if fmt.Sprint(got) != fmt.Sprint(ordered(false)) {
		t.Errorf("patients of grade A/B by birth date, paged by 4:\n got %v\nwant %v", got, ordered(false))
	}
	got = ids(t, pageAll(t, s, "patients", where+`, orderBy: [{field: BIRTH_DATE, direction: DESC}]`, "id", 5))
	if fmt.Sprint(got) != fmt.Sprint(ordered(true)) {
		t.Errorf("patients of grade A/B by birth date descending, paged by 5:\n got %v\nwant %v", got, ordered(true))
	}
	// last: the end of the ascending order.
	asc := ordered(false)
	d := query(t, s, `{ patients(last: 3, `+where+`, orderBy: [{field: BIRTH_DATE}]) { edges { node { id } } } }`, nil)
	if got := ids(t, nodesAt(t, d, "patients")); fmt.Sprint(got) != fmt.Sprint(asc[len(asc)-3:]) {
		t.Errorf("last 3 = %v, want %v", got, asc[len(asc)-3:])
	}
	// Filters through relations.
	if n := total(t, s, m, "Patient", map[string]any{"hasDepartmentWith": []any{map[string]any{"name": "心内科"}}}); n != inCardio || n == 0 {
		t.Errorf("patients in 心内科 = %d, want %d", n, inCardio)
	}
	if n := total(t, s, m, "Patient", map[string]any{"hasTagsWith": []any{map[string]any{"name": "VIP"}}}); n != vip || n == 0 {
		t.Errorf("patients tagged VIP = %d, want %d", n, vip)
	}
}

// hospitalNested runs departments → patients → visits → follow-ups and checks the number of SQL
// statements does not grow with the rows.
func hospitalNested(t *testing.T, s *apptest.Server, m *metamodel.Model) {
	q := `{ teams(first: 50) { edges { node { name patients(first: 50) { totalCount edges { node { name tags(first: 5) { edges { node { name } } }
		visits(first: 20) { totalCount edges { node { code physician { username } followUps(first: 5) { totalCount } } } } } } } } } } }`
	small, d := nestedStatements(t, s, q)
	rowsBefore := countNodes(d)
	r := hospitalLookups(t, s, m)
	for i := 0; i < 4; i++ {
		team := createID(t, s, m, "Team", map[string]any{"name": fmt.Sprintf("E2E 科室%d", i), "parent": r.root})
		for j := 0; j < 3; j++ {
			p := createID(t, s, m, "Patient", map[string]any{"name": fmt.Sprintf("E2E 患者%d-%d", i, j), "department": team, "tags": []string{r.vip}})
			for k := 0; k < 2; k++ {
				v := createID(t, s, m, "Visit", map[string]any{"visitedAt": day(0, 0, -k), "patient": p, "department": team, "physician": r.liuyang})
				createID(t, s, m, "FollowUp", map[string]any{"kind": "chronic", "patient": p, "visit": v})
			}
		}
	}
	large, d := nestedStatements(t, s, q)
	if rowsAfter := countNodes(d); rowsAfter < rowsBefore+4*(1+3*(1+1+2)) {
		t.Fatalf("the nested query returned %d nodes before and %d after adding 52: the new rows are missing", rowsBefore, rowsAfter)
	}
	if large != small {
		t.Errorf("teams → patients → visits → follow-ups sent %d SQL statements, and %d with 4 more teams, 12 patients, 24 visits: it queries per row", small, large)
	}
	t.Logf("4-level nested query: %d SQL statements, %d rows before and more after", large, rowsBefore)
}

// hospitalUpdate changes and clears fields of a patient and a department; the hospital has no versioned
// entity (the b2b example tests optimistic locking).
func hospitalUpdate(t *testing.T, s *apptest.Server, m *metamodel.Model) {
	for _, e := range m.Entities {
		if e.Has(metamodel.TraitVersioned) {
			t.Errorf("hospital's %s is versioned: add a stale-update check for it", e.Name)
		}
	}
	r := hospitalLookups(t, s, m)
	pid := createID(t, s, m, "Patient", map[string]any{"name": "E2E 修改", "birthDate": "1980-01-15T00:00:00Z", "phone": "13900001111",
		"wechat": "wx_upd", "department": r.cardio, "physician": r.liuyang, "grade": "C", "balance": 10})
	sel := "name grade phone wechat balance birthDate age department { id } physician { id } updatedAt"
	d := update(t, s, "Patient", pid, map[string]any{"name": "E2E 修改后", "grade": "A", "phone": "+86 139-0000-2222", "balance": 99.99,
		"clearBirthDate": true, "clearWechat": true, "clearDepartment": true}, sel)
	check := func(what string, d map[string]any) {
		t.Helper()
		if str(t, d, "name") != "E2E 修改后" || str(t, d, "grade") != "A" || str(t, d, "phone") != "+86 139-0000-2222" || num(t, d, "balance") != 99.99 ||
			at(t, d, "birthDate") != nil || at(t, d, "age") != nil || at(t, d, "wechat") != nil || at(t, d, "department") != nil ||
			str(t, d, "physician.id") != r.liuyang {
			t.Errorf("%s: %s", what, jsonString(d))
		}
	}
	check("update result", d)
	check("read back", node(t, s, "Patient", pid, sel))
	// A rejected update changes nothing.
	e := mustFail(t, s, `mutation($id: ID!) { updatePatient(id: $id, input: {name: "E2E 不应保存", idCard: "123"}) { id } }`, map[string]any{"id": pid})
	if e.Extensions["code"] != "VALIDATION" || e.Extensions["field"] != "idCard" {
		t.Errorf("invalid update: %+v", e)
	}
	check("after a rejected update", node(t, s, "Patient", pid, sel))
	// Built-in entities extended by the model: a department's desk phone, a physician's title.
	d = update(t, s, "Team", r.ortho, map[string]any{"location": "门诊楼5层", "clearDeskPhone": true}, "location deskPhone name")
	if str(t, d, "location") != "门诊楼5层" || at(t, d, "deskPhone") != nil || str(t, d, "name") != "骨科" {
		t.Errorf("update team: %s", jsonString(d))
	}
	d = update(t, s, "User", r.liuyang, map[string]any{"title": "associateChief", "clearSpecialty": true}, "title specialty username")
	if str(t, d, "title") != "associateChief" || at(t, d, "specialty") != nil || str(t, d, "username") != "liuyang" {
		t.Errorf("update user: %s", jsonString(d))
	}
}

// hospitalDelete checks the example's onDelete rules: restrict refuses, setNull clears the reference,
// and a soft-deleted patient hides without cascading.
func hospitalDelete(t *testing.T, s *apptest.Server, m *metamodel.Model) {
	r := hospitalLookups(t, s, m)
	// Restrict: cardiology has visits and appointments, the hospital has departments, liuyang has visits.
	checkRestricted(t, s, m, "Team", r.cardio, "Visit.department")
	checkRestricted(t, s, m, "Team", r.root, "Team.parent")
	checkRestricted(t, s, m, "User", r.liuyang, "Visit.physician")

	// setNull: a department referred to only by a patient (department) and a complaint can go.
	dept := createID(t, s, m, "Team", map[string]any{"name": "E2E 临时科室", "parent": r.root})
	doc := createID(t, s, m, "User", map[string]any{"username": "e2e_tmp_doctor", "team": dept})
	pid := createID(t, s, m, "Patient", map[string]any{"name": "E2E 删除科室", "department": dept, "physician": doc})
	cid := createID(t, s, m, "Complaint", map[string]any{"subject": "E2E 投诉", "receivedAt": day(0, 0, -1), "department": dept, "patient": pid, "handler": doc})
	before := counts(t, s, m)
	mustRemove(t, s, "Team", dept)
	mustRemove(t, s, "User", doc)
	expectCounts(t, "after deleting a department and a user", before, counts(t, s, m), map[string]int{"Team": -1, "User": -1})
	if n := node(t, s, "Patient", pid, "department { id } physician { id }"); at(t, n, "department") != nil || at(t, n, "physician") != nil {
		t.Errorf("patient of a deleted department and physician (onDelete: setNull): %s", jsonString(n))
	}
	if n := node(t, s, "Complaint", cid, "department { id } handler { id } patient { id }"); at(t, n, "department") != nil || at(t, n, "handler") != nil || str(t, n, "patient.id") != pid {
		t.Errorf("complaint of a deleted department and handler (onDelete: setNull): %s", jsonString(n))
	}
	notFound(t, s, dept)

	// A visit is deleted for good; its follow-ups and evaluations stay, without the visit (setNull).
	vid := createID(t, s, m, "Visit", map[string]any{"visitedAt": day(0, 0, -3), "patient": pid, "department": r.cardio, "physician": r.liuyang})
	fid := createID(t, s, m, "FollowUp", map[string]any{"kind": "medication", "patient": pid, "visit": vid})
	eid := createID(t, s, m, "Evaluation", map[string]any{"score": "satisfied", "patient": pid, "visit": vid})
	before = counts(t, s, m)
	mustRemove(t, s, "Visit", vid)
	expectCounts(t, "after deleting a visit", before, counts(t, s, m), map[string]int{"Visit": -1})
	notFound(t, s, vid)
	if n := node(t, s, "FollowUp", fid, "visit { id } patient { id }"); at(t, n, "visit") != nil || str(t, n, "patient.id") != pid {
		t.Errorf("follow-up of a deleted visit: %s", jsonString(n))
	}
	if n := node(t, s, "Evaluation", eid, "visit { id }"); at(t, n, "visit") != nil {
		t.Errorf("evaluation of a deleted visit: %s", jsonString(n))
	}

	// Patient has softDelete, and its onDelete rules still hold: while follow-ups and evaluations
	// (restrict) refer to it, it cannot be deleted; once they are gone, deleting hides the patient and with
	// it its care reminders (cascade).
	createID(t, s, m, "CareReminder", map[string]any{"remindAt": day(0, 0, 3), "kind": "recheck", "message": "E2E 复查", "patient": pid})
	checkRestricted(t, s, m, "Patient", pid, "FollowUp.patient")
	removeRestricting(t, s, m, "Patient", pid)
	before = counts(t, s, m)
	mustRemove(t, s, "Patient", pid)
	expectCounts(t, "after soft-deleting a patient", before, counts(t, s, m), map[string]int{"Patient": -1, "CareReminder": -1})
	notFound(t, s, pid)
	if e := mustFail(t, s, `mutation($id: ID!) { updatePatient(id: $id, input: {name: "E2E 复活"}) { id } }`, map[string]any{"id": pid}); e.Extensions["code"] != "NOT_FOUND" {
		t.Errorf("update of a soft-deleted patient: %+v, want NOT_FOUND", e)
	}
	if r := remove(t, s, "Patient", pid); len(r.Errors) == 0 || r.Errors[0].Extensions["code"] != "NOT_FOUND" {
		t.Errorf("deleting a soft-deleted patient again: %+v, want NOT_FOUND", r.Errors)
	}
	if n := total(t, s, m, "CareReminder", map[string]any{"patientID": pid}); n != 0 {
		t.Errorf("care reminders of the soft-deleted patient: %d listed, want 0 (hidden with their parent: onDelete cascade)", n)
	}
}

// hospitalValidation checks every kind of rule the hospital's fields carry.
func hospitalValidation(t *testing.T, s *apptest.Server, m *metamodel.Model) {
	r := hospitalLookups(t, s, m)
	pid := createID(t, s, m, "Patient", map[string]any{"name": "E2E 校验"})
	existingIDCard := fmt.Sprint(value(records(m, "Patient")[0], "idCard"))
	existingLicense := ""
	for _, u := range m.Data.Users {
		if l := value(u, "licenseNo"); l != nil && existingLicense == "" {
			existingLicense = fmt.Sprint(l)
		}
	}
	patient := func(k string, v any) map[string]any { return map[string]any{"name": "E2E 校验患者", k: v} }
	visit := func(k string, v any) map[string]any {
		in := map[string]any{"visitedAt": day(0, 0, -1), "patient": pid, "department": r.cardio, "physician": r.liuyang}
		in[k] = v
		return in
	}
	cases := []invalid{
		{entity: "Patient", vals: map[string]any{"name": "   "}, field: "name", rule: "required"},
		{entity: "Patient", vals: map[string]any{"name": longString(65)}, field: "name", rule: "maxLen"},
		{entity: "Patient", vals: patient("wechat", strings.Repeat("w", 65)), field: "wechat", rule: "maxLen"},
		{entity: "Patient", vals: patient("idCard", "33010519730412001"), field: "idCard", rule: "pattern"},
		{entity: "Patient", vals: patient("idCard", "33010519730412001Y"), field: "idCard", rule: "pattern"},
		{entity: "Patient", vals: patient("idCard", existingIDCard), field: "idCard", rule: "unique"},
		{entity: "Patient", vals: patient("phone", "call me"), field: "phone", rule: "phone"},
		{entity: "Patient", vals: patient("balance", -0.01), field: "balance", rule: "min"},
		{entity: "Patient", vals: patient("balance", 1.234), field: "balance", rule: "scale"},
		{entity: "Patient", vals: patient("balance", 1e10), field: "balance", rule: "precision"},
		{entity: "Patient", vals: patient("department", "999999"), field: "department", rule: "exists"},
		{entity: "Patient", vals: patient("physician", r.vip), field: "physician", rule: "exists"}, // a Tag's id is no User
		{entity: "Patient", vals: patient("tags", []string{r.vip, "424242"}), field: "tags", rule: "exists"},
		{entity: "Visit", vals: visit("fee", -5), field: "fee", rule: "min"},
		{entity: "Visit", vals: visit("fee", 10.005), field: "fee", rule: "scale"},
		{entity: "Visit", vals: visit("fee", 1e8), field: "fee", rule: "precision"},
		{entity: "Visit", vals: visit("chiefComplaint", longString(201)), field: "chiefComplaint", rule: "maxLen"},
		{entity: "Visit", vals: visit("patient", "999999"), field: "patient", rule: "exists"},
		{entity: "CareReminder", vals: map[string]any{"remindAt": day(0, 0, 1), "kind": "birthday", "message": " \t ", "patient": pid}, field: "message", rule: "required"},
		{entity: "Complaint", vals: map[string]any{"subject": "", "receivedAt": day(0, 0, -1)}, field: "subject", rule: "required"},
		{entity: "User", vals: map[string]any{"username": "e2e_val", "email": "not-an-email"}, field: "email", rule: "email"},
		{entity: "User", vals: map[string]any{"username": "admin"}, field: "username", rule: "unique"},
		{entity: "User", vals: map[string]any{"username": "e2e_val", "licenseNo": existingLicense}, field: "licenseNo", rule: "unique"},
		{entity: "User", vals: map[string]any{"username": "e2e_val", "licenseNo": strings.Repeat("9", 33)}, field: "licenseNo", rule: "maxLen"},
		{entity: "Team", vals: map[string]any{"name": "E2E 校验", "deskPhone": "分机 123"}, field: "deskPhone", rule: "phone"},
		{entity: "Team", vals: map[string]any{"name": "E2E 校验", "parent": "999999"}, field: "parent", rule: "exists"},
		{entity: "Tag", vals: map[string]any{"name": "VIP"}, field: "name", rule: "unique"},
		{entity: "Tag", vals: map[string]any{"name": longString(33)}, field: "name", rule: "maxLen"},
		{entity: "Questionnaire", vals: map[string]any{"title": "出院患者随访问卷"}, field: "title", rule: "unique"},
		// Updates are checked too.
		{entity: "Patient", id: pid, vals: map[string]any{"balance": -1}, field: "balance", rule: "min"},
		{entity: "Patient", id: pid, vals: map[string]any{"name": " "}, field: "name", rule: "required"},
		{entity: "Visit", id: createID(t, s, m, "Visit", visit("fee", 1)), vals: map[string]any{"physicianID": "999999"}, field: "physician", rule: "exists"},
	}
	seen := checkInvalid(t, s, m, cases)
	checkBadEnum(t, s, m, "Patient", map[string]any{"name": "E2E 等级"}, "grade")
	seen["enum"] = true
	checkRuleCoverage(t, m, seen)
	// Several violations are all reported.
	e := mustFail(t, s, `mutation { createPatient(input: {name: " ", balance: -1, idCard: "x"}) { id } }`, nil)
	if fs, _ := e.Extensions["fields"].([]any); len(fs) != 3 {
		t.Errorf("three violations reported as %v", e.Extensions["fields"])
	}
	if n := node(t, s, "Patient", pid, "name balance"); str(t, n, "name") != "E2E 校验" || num(t, n, "balance") != 0 {
		t.Errorf("patient after rejected updates: %s", jsonString(n))
	}
}

// hospitalTags adds and removes a patient's tags from both sides of the many-to-many relation, and
// deletes a tag that is in use.
func hospitalTags(t *testing.T, s *apptest.Server, m *metamodel.Model) {
	r := hospitalLookups(t, s, m)
	pid := createID(t, s, m, "Patient", map[string]any{"name": "E2E 标签"})
	vipBefore := total(t, s, m, "Patient", map[string]any{"hasTagsWith": []any{map[string]any{"name": "VIP"}}})
	checkManyToMany(t, s, m, "Patient", pid, "tags", [3]string{r.vip, r.insured, r.alone})
	if n := total(t, s, m, "Patient", map[string]any{"hasTagsWith": []any{map[string]any{"name": "VIP"}}}); n != vipBefore {
		t.Errorf("VIP patients: %d after adding and removing one, want %d", n, vipBefore)
	}
	// Deleting a tag takes it off its patients.
	tmp := createID(t, s, m, "Tag", map[string]any{"name": "E2E 临时标签", "patients": []string{pid}})
	tagsOf := func() string {
		return sorted(names(t, at(t, node(t, s, "Patient", pid, "tags { edges { node { name } } }"), "tags"), "name"))
	}
	if tagsOf() != "[E2E 临时标签]" {
		t.Errorf("tag created with the patient: %s", tagsOf())
	}
	mustRemove(t, s, "Tag", tmp)
	if tagsOf() != "[]" {
		t.Errorf("after deleting the tag: %s", tagsOf())
	}
}
