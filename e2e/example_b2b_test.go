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

func TestExampleB2BSales(t *testing.T) {
	a := b2bSales(t)
	m := a.Model
	runSteps(t, a, []step{
		{"Schema", func(t *testing.T, s *apptest.Server) { checkSchema(t, s, m) }},
		{"ReceivablesAgeing", func(t *testing.T, s *apptest.Server) {
			b2bAgeing(t, s)
			b2bAgeing(t, s.As(t, "lina", "sales123")) // a rep: her own contracts' payments
		}},
		{"DemoData", func(t *testing.T, s *apptest.Server) {
			checkDemoData(t, s, m, []string{"Contact", "Contract", "Customer", "Opportunity", "Payment", "Product", "Quote", "QuoteLine", "Region", "Task"})
		}},
		{"Tree", func(t *testing.T, s *apptest.Server) { b2bTree(t, s, m) }},
		{"CreateWithRelations", func(t *testing.T, s *apptest.Server) { b2bCreate(t, s, m) }},
		{"ComputedLineTotal", func(t *testing.T, s *apptest.Server) { b2bLineTotal(t, s, m) }},
		{"ListFilterOrderPaginate", func(t *testing.T, s *apptest.Server) { b2bList(t, s, m) }},
		{"NestedQueryStatements", func(t *testing.T, s *apptest.Server) { b2bNested(t, s, m) }},
		{"UpdateAndOptimisticLocking", func(t *testing.T, s *apptest.Server) { b2bUpdate(t, s, m) }},
		{"Delete", func(t *testing.T, s *apptest.Server) { b2bDelete(t, s, m) }},
		{"Validation", func(t *testing.T, s *apptest.Server) { b2bValidation(t, s, m) }},
		{"ManyToMany", func(t *testing.T, s *apptest.Server) { b2bManyToMany(t, s, m) }},
	})
}

// b2bRefs are records of the demo data the b2b steps use.
type b2bRefs struct {
	cn, east, js, suzhou, zj string // regions
	nev, export, potential   string // tags
	borui, tianhong, ouchi   string // competitors
	product                  string // a product
}

// b2bLookups finds the b2bRefs by their unique values.
func b2bLookups(t *testing.T, s *apptest.Server, m *metamodel.Model) b2bRefs {
	t.Helper()
	region := func(code string) string { return lookup(t, s, m, "Region", map[string]any{"code": code}) }
	tag := func(name string) string { return lookup(t, s, m, "Tag", map[string]any{"name": name}) }
	comp := func(name string) string { return lookup(t, s, m, "Competitor", map[string]any{"name": name}) }
	return b2bRefs{
		cn: region("CN"), east: region("EC"), js: region("JS"), suzhou: region("JS-SZ"), zj: region("ZJ"),
		nev: tag("新能源"), export: tag("出口业务"), potential: tag("高潜力"),
		borui: comp("浙江博锐汽车零部件股份有限公司"), tianhong: comp("瑞安天鸿制动器有限公司"), ouchi: comp("上海欧驰汽配进出口有限公司"),
		product: lookup(t, s, m, "Product", map[string]any{"sku": fmt.Sprint(value(records(m, "Product")[0], "sku"))}),
	}
}

// b2bCustomer creates a customer with a unique name in region (may be "").
func b2bCustomer(t *testing.T, s *apptest.Server, m *metamodel.Model, name, region string) string {
	t.Helper()
	vals := map[string]any{"name": name}
	if region != "" {
		vals["region"] = region
	}
	return createID(t, s, m, "Customer", vals)
}

// b2bTree checks the region tree (全国 → 大区 → 省 → 市) against the data, then moves a district.
func b2bTree(t *testing.T, s *apptest.Server, m *metamodel.Model) {
	checkTree(t, s, m, "Region", "code")
	r := b2bLookups(t, s, m)
	// Three levels from the root in one query (全国 → 大区 → 省), as the data has them.
	tree := dataTree(t, m, "Region", "code")
	want := map[string][]string{}
	for child, parent := range tree {
		if tree[parent] == "CN" {
			want[parent] = append(want[parent], child)
		}
	}
	for _, kids := range want {
		sort.Strings(kids)
	}
	d := query(t, s, `{ regions(first: 1, where: {code: "CN"}) { edges { node { children(first: 20, orderBy: [{field: CODE}]) { edges { node { code
		children(first: 20, orderBy: [{field: CODE}]) { edges { node { code } } } } } } } } } }`, nil)
	got := map[string][]string{}
	for _, area := range nodesAt(t, at(t, d, "regions.edges.0.node"), "children") {
		got[str(t, area, "code")] = names(t, at(t, area, "children"), "code")
	}
	if fmt.Sprint(got) != fmt.Sprint(want) || len(want) < 3 {
		t.Errorf("全国 → 大区 → 省: %v, want %v", got, want)
	}
	// GraphQL coerces a single input object to a list, so orderBy: {field: CODE} must sort nested lists too.
	for _, dir := range []string{"ASC", "DESC"} {
		d = query(t, s, `{ regions(first: 1, where: {code: "EC"}) { edges { node { children(orderBy: {field: CODE, direction: `+dir+`}) { edges { node { code } } } } } } }`, nil)
		want := "[JS SH ZJ]" // inserted SH, JS, ZJ
		if dir == "DESC" {
			want = "[ZJ SH JS]"
		}
		if got := fmt.Sprint(names(t, at(t, d, "regions.edges.0.node.children"), "code")); got != want {
			t.Errorf("BUG: a nested connection ignores orderBy given as one object (not a list): "+
				"{ regions(where: {code: \"EC\"}) { edges { node { children(orderBy: {field: CODE, direction: %s}) { edges { node { code } } } } } } } "+
				"returns %s (insertion order), want %s; with orderBy: [{...}] it is sorted (ent's gql_collection newRegionPaginateArgs "+
				"handles []any but not a single map[string]any)", dir, got, want)
		}
	}
	// And up from a city to the root.
	d = query(t, s, `{ regions(where: {code: "JS-SZ"}) { edges { node { parent { code parent { code parent { code parent { code } } } } } } } }`, nil)
	p := at(t, d, "regions.edges.0.node.parent")
	if str(t, p, "code") != "JS" || str(t, p, "parent.code") != "EC" || str(t, p, "parent.parent.code") != "CN" || at(t, p, "parent.parent.parent") != nil {
		t.Errorf("ancestors of 苏州市: %s", jsonString(p))
	}
	// A new district under 苏州市 moves to 浙江省.
	dist := create(t, s, m, "Region", map[string]any{"code": "E2E-WZ", "name": "吴中区", "parent": r.suzhou}, "parent { code }")
	if str(t, dist, "parent.code") != "JS-SZ" {
		t.Errorf("new district: %s", jsonString(dist))
	}
	update(t, s, "Region", str(t, dist, "id"), map[string]any{"parentID": r.zj}, "id")
	kids := func(id string) string {
		return sorted(names(t, at(t, node(t, s, "Region", id, "children { edges { node { code } } }"), "children"), "code"))
	}
	if kids(r.suzhou) != "[]" || kids(r.zj) != "[E2E-WZ ZJ-HZ ZJ-NB]" {
		t.Errorf("after moving E2E-WZ to 浙江省: 苏州市 %s, 浙江省 %s", kids(r.suzhou), kids(r.zj))
	}
	if n := node(t, s, "Region", str(t, dist, "id"), "parent { code parent { code } }"); str(t, n, "parent.code") != "ZJ" || str(t, n, "parent.parent.code") != "EC" {
		t.Errorf("moved district's ancestors: %s", jsonString(n))
	}
	checkNoCycle(t, s, m, "Region", r.cn, r.east)
	mustRemove(t, s, "Region", str(t, dist, "id"))
}

// b2bCreate creates a customer in a region with tags, a contact, and an opportunity with competitors, and
// reads them back by id and through the inverse lists.
func b2bCreate(t *testing.T, s *apptest.Server, m *metamodel.Model) {
	r := b2bLookups(t, s, m)
	region := createID(t, s, m, "Region", map[string]any{"code": "E2E-KS", "name": "昆山市", "parent": r.js})
	c := create(t, s, m, "Customer", map[string]any{
		"name": "E2E 昆山精密汽车部件有限公司", "shortName": "昆山精密", "grade": "keyAccount", "industry": "tier1",
		"creditLimit": 1500000.5, "taxNo": "913205830000E2E01A", "phone": "0512-57001234", "website": "https://www.e2e-ks.example.com",
		"address": "江苏省昆山市开发区前进东路1号", "region": region, "tags": []string{r.nev, r.export},
	}, "code name grade industry creditLimit taxNo website region { code parent { code } } tags { totalCount edges { node { name } } } owner { id }")
	cid := str(t, c, "id")
	if !regexp.MustCompile(`^C\d{6}$`).MatchString(str(t, c, "code")) {
		t.Errorf("customer code %q, want C<6 digits>", str(t, c, "code"))
	}
	if str(t, c, "grade") != "keyAccount" || str(t, c, "industry") != "tier1" || num(t, c, "creditLimit") != 1500000.5 ||
		str(t, c, "taxNo") != "913205830000E2E01A" || str(t, c, "region.code") != "E2E-KS" || str(t, c, "region.parent.code") != "JS" {
		t.Errorf("created customer: %s", jsonString(c))
	}
	if got := names(t, at(t, c, "tags"), "name"); sorted(got) != sorted([]string{"新能源", "出口业务"}) {
		t.Errorf("customer tags = %v", got)
	}
	ct := create(t, s, m, "Contact", map[string]any{"name": "E2E 周海", "title": "采购经理", "phone": "13962001234",
		"email": "zhouhai@e2e-ks.example.com", "isPrimary": true, "birthday": "1985-09-09T00:00:00Z", "customer": cid},
		"isPrimary email customer { name }")
	ctid := str(t, ct, "id")
	if at(t, ct, "isPrimary") != true || str(t, ct, "customer.name") != "E2E 昆山精密汽车部件有限公司" {
		t.Errorf("created contact: %s", jsonString(ct))
	}
	o := create(t, s, m, "Opportunity", map[string]any{"name": "E2E 昆山精密2027年制动系统配套", "amount": 880000,
		"expectedClose": day(0, 3, 0), "source": "exhibition", "customer": cid, "contact": ctid, "competitors": []string{r.borui, r.tianhong}},
		"stage probability amount customer { id } contact { id } competitors(orderBy: {field: NAME}) { totalCount edges { node { id } } }")
	oid := str(t, o, "id")
	if str(t, o, "stage") != "lead" || num(t, o, "probability") != 10 || num(t, o, "amount") != 880000 ||
		str(t, o, "customer.id") != cid || str(t, o, "contact.id") != ctid || num(t, o, "competitors.totalCount") != 2 {
		t.Errorf("created opportunity (a lead, probability defaults to 10): %s", jsonString(o))
	}
	// The pipeline's first step sets the probability.
	if q := advance(t, s, "Opportunity", oid, "qualify"); str(t, q, "stage") != "qualified" || num(t, q, "probability") != 25 {
		t.Errorf("qualified opportunity: %s", jsonString(q))
	}
	// Back by id, and through the inverse lists.
	n := node(t, s, "Customer", cid, `region { id } contacts { totalCount edges { node { id name } } }
		opportunities { totalCount edges { node { id contact { name } competitors { totalCount } } } }`)
	if str(t, n, "region.id") != region || num(t, n, "contacts.totalCount") != 1 || str(t, n, "contacts.edges.0.node.id") != ctid ||
		num(t, n, "opportunities.totalCount") != 1 || str(t, n, "opportunities.edges.0.node.id") != oid ||
		str(t, n, "opportunities.edges.0.node.contact.name") != "E2E 周海" || num(t, n, "opportunities.edges.0.node.competitors.totalCount") != 2 {
		t.Errorf("node(customer) = %s", jsonString(n))
	}
	if n := node(t, s, "Region", region, "customers { edges { node { id } } } parent { code }"); fmt.Sprint(ids(t, nodesAt(t, n, "customers"))) != "["+cid+"]" {
		t.Errorf("region's customers: %s", jsonString(n))
	}
	if n := node(t, s, "Contact", ctid, "opportunities { edges { node { id } } } customer { id }"); fmt.Sprint(ids(t, nodesAt(t, n, "opportunities"))) != "["+oid+"]" || str(t, n, "customer.id") != cid {
		t.Errorf("contact's opportunities: %s", jsonString(n))
	}
	for _, comp := range []string{r.borui, r.tianhong} {
		d := query(t, s, `query($c: ID!, $o: ID!) { node(id: $c) { ... on Competitor { opportunities(where: {id: $o}) { totalCount } } } }`, map[string]any{"c": comp, "o": oid})
		if num(t, d, "node.opportunities.totalCount") != 1 {
			t.Errorf("competitor %s does not list the opportunity", comp)
		}
	}
	d := query(t, s, `query($t: ID!, $c: ID!) { node(id: $t) { ... on Tag { customers(where: {id: $c}) { totalCount } } } }`, map[string]any{"t": r.nev, "c": cid})
	if num(t, d, "node.customers.totalCount") != 1 {
		t.Errorf("tag 新能源 does not list the customer")
	}
	if n := total(t, s, m, "Opportunity", map[string]any{"hasCompetitorsWith": []any{map[string]any{"id": r.borui}}, "hasCustomerWith": []any{map[string]any{"hasRegionWith": []any{map[string]any{"code": "E2E-KS"}}}}}); n != 1 {
		t.Errorf("opportunities in 昆山市 against 博锐: %d, want 1", n)
	}
}

// b2bLineTotal checks the computed QuoteLine.lineTotal (quantity × unitPrice × (1 − discount)).
func b2bLineTotal(t *testing.T, s *apptest.Server, m *metamodel.Model) {
	r := b2bLookups(t, s, m)
	cust := b2bCustomer(t, s, m, "E2E 报价客户", "")
	opp := createID(t, s, m, "Opportunity", map[string]any{"name": "E2E 报价商机", "customer": cust})
	q := create(t, s, m, "Quote", map[string]any{"opportunity": opp}, "number status version")
	if !regexp.MustCompile(`^Q\d{4}-\d{4}$`).MatchString(str(t, q, "number")) || str(t, q, "status") != "draft" || num(t, q, "version") != 1 {
		t.Errorf("created quote: %s", jsonString(q))
	}
	qid := str(t, q, "id")
	l := create(t, s, m, "QuoteLine", map[string]any{"quote": qid, "product": r.product, "quantity": 40, "unitPrice": 25, "discount": 0.25},
		"quantity unitPrice discount lineTotal product { id }")
	if num(t, l, "lineTotal") != 750 {
		t.Errorf("lineTotal of 40 × 25 at 25%% off = %v, want 750", at(t, l, "lineTotal"))
	}
	d := update(t, s, "QuoteLine", str(t, l, "id"), map[string]any{"quantity": 10, "discount": 0}, "lineTotal")
	if num(t, d, "lineTotal") != 250 {
		t.Errorf("lineTotal after changing to 10 × 25, no discount = %v, want 250", at(t, d, "lineTotal"))
	}
	// lineTotal is a decimal with scale 2: 3 × 19.99 × 0.85 = 50.9745 is 50.97, and 3 × 0.10 is 0.3.
	for _, c := range []struct {
		qty         int
		price, disc float64
		want        float64
	}{{3, 19.99, 0.15, 50.97}, {3, 0.1, 0, 0.3}} {
		l := create(t, s, m, "QuoteLine", map[string]any{"quote": qid, "product": r.product, "quantity": c.qty, "unitPrice": c.price, "discount": c.disc}, "lineTotal")
		if got := num(t, l, "lineTotal"); !near(got, c.want) {
			t.Errorf("lineTotal of %d × %v at %v off = %v, want %v", c.qty, c.price, c.disc, got, c.want)
		} else if got != c.want {
			t.Errorf("BUG: computed decimal QuoteLine.lineTotal (precision 14, scale 2) is not rounded to its scale: "+
				"createQuoteLine(input: {quantity: %d, unitPrice: %v, discount: %v}) { lineTotal } returns %v, want %v",
				c.qty, c.price, c.disc, got, c.want)
		}
	}
	n := node(t, s, "Quote", qid, "lines { totalCount edges { node { lineTotal } } }")
	if num(t, n, "lines.totalCount") != 3 {
		t.Errorf("quote lines: %s", jsonString(n))
	}
}

// b2bList pages through open and won opportunities with an amount, by amount, and checks against the
// unpaged, unfiltered list filtered and sorted here.
func b2bList(t *testing.T, s *apptest.Server, m *metamodel.Model) {
	cust := b2bCustomer(t, s, m, "E2E 列表客户", lookup(t, s, m, "Region", map[string]any{"code": "SH"}))
	for i := 0; i < 3; i++ { // equal amounts: ties are broken by id across page boundaries
		id := createID(t, s, m, "Opportunity", map[string]any{"name": fmt.Sprintf("E2E 同额%d", i), "amount": 500000,
			"expectedClose": day(0, 2, 0), "customer": cust})
		advance(t, s, "Opportunity", id, "qualify", "propose")
	}
	advance(t, s, "Opportunity", createID(t, s, m, "Opportunity", map[string]any{"name": "E2E 无金额", "customer": cust}), "qualify")
	all := query(t, s, `{ opportunities(first: 1000) { totalCount edges { node { id stage amount customer { region { code } } competitors { totalCount } } } } }`, nil)
	type row struct {
		id     string
		amount float64
	}
	var want []row
	inSH, withCompetitors := 0, 0
	open := map[string]bool{"qualified": true, "proposal": true, "negotiation": true, "won": true}
	for _, n := range nodesAt(t, all, "opportunities") {
		if open[str(t, n, "stage")] && at(t, n, "amount") != nil {
			want = append(want, row{str(t, n, "id"), num(t, n, "amount")})
		}
		if r, ok := at(t, n, "customer.region").(map[string]any); ok && r["code"] == "SH" {
			inSH++
		}
		if num(t, n, "competitors.totalCount") > 0 {
			withCompetitors++
		}
	}
	if int(num(t, all, "opportunities.totalCount")) != len(nodesAt(t, all, "opportunities")) || len(want) < 12 {
		t.Fatalf("reference: totalCount %v, %d rows, %d open with an amount", at(t, all, "opportunities.totalCount"), len(nodesAt(t, all, "opportunities")), len(want))
	}
	ordered := func(desc bool) string {
		sort.SliceStable(want, func(i, j int) bool {
			if want[i].amount != want[j].amount {
				return (want[i].amount < want[j].amount) != desc
			}
			return idNum(t, want[i].id) < idNum(t, want[j].id)
		})
		out := make([]string, len(want))
		for i, r := range want {
			out[i] = r.id
		}
		return fmt.Sprint(out)
	}
	where := `where: {stageIn: [qualified, proposal, negotiation, won], amountNotNil: true}`
	if got := fmt.Sprint(ids(t, pageAll(t, s, "opportunities", where+`, orderBy: [{field: AMOUNT, direction: DESC}]`, "id amount", 4))); got != ordered(true) {
		t.Errorf("open opportunities by amount descending, paged by 4:\n got %s\nwant %s", got, ordered(true))
	}
	if got := fmt.Sprint(ids(t, pageAll(t, s, "opportunities", where+`, orderBy: [{field: AMOUNT, direction: ASC}]`, "id", 7))); got != ordered(false) {
		t.Errorf("open opportunities by amount, paged by 7:\n got %s\nwant %s", got, ordered(false))
	}
	// Filters through two relations, and on the existence of a many-to-many link.
	if n := total(t, s, m, "Opportunity", map[string]any{"hasCustomerWith": []any{map[string]any{"hasRegionWith": []any{map[string]any{"code": "SH"}}}}}); n != inSH || n < 4 {
		t.Errorf("opportunities of customers in 上海市 = %d, want %d", n, inSH)
	}
	if n := total(t, s, m, "Opportunity", map[string]any{"hasCompetitors": true}); n != withCompetitors || n == 0 {
		t.Errorf("opportunities with competitors = %d, want %d", n, withCompetitors)
	}
}

// b2bNested runs regions → customers → contacts and opportunities → competitors and checks the number of
// SQL statements does not grow with the rows.
func b2bNested(t *testing.T, s *apptest.Server, m *metamodel.Model) {
	q := `{ regions(first: 50) { edges { node { code customers(first: 50) { totalCount edges { node { name tags(first: 5) { edges { node { name } } }
		contacts(first: 50) { edges { node { name } } } opportunities(first: 20) { totalCount edges { node { name competitors(first: 5) { totalCount } } } } } } } } } } }`
	small, d := nestedStatements(t, s, q)
	rowsBefore := countNodes(d)
	r := b2bLookups(t, s, m)
	for i := 0; i < 3; i++ {
		region := createID(t, s, m, "Region", map[string]any{"code": fmt.Sprintf("E2E-N%d", i), "name": fmt.Sprintf("E2E 区域%d", i), "parent": r.cn})
		for j := 0; j < 3; j++ {
			c := createID(t, s, m, "Customer", map[string]any{"name": fmt.Sprintf("E2E 嵌套客户%d-%d", i, j), "region": region, "tags": []string{r.nev}})
			for k := 0; k < 2; k++ {
				createID(t, s, m, "Contact", map[string]any{"name": fmt.Sprintf("E2E 联系人%d", k), "customer": c})
			}
			createID(t, s, m, "Opportunity", map[string]any{"name": "E2E 嵌套商机", "customer": c, "competitors": []string{r.borui}})
		}
	}
	large, d := nestedStatements(t, s, q)
	if rowsAfter := countNodes(d); rowsAfter < rowsBefore+3*(1+3*(1+1+2+1)) {
		t.Fatalf("the nested query returned %d nodes before and %d after adding 48: the new rows are missing", rowsBefore, rowsAfter)
	}
	if large != small {
		t.Errorf("regions → customers → contacts/opportunities sent %d SQL statements, and %d with 3 more regions, 9 customers, 18 contacts: it queries per row", small, large)
	}
	t.Logf("4-level nested query: %d SQL statements", large)
}

// b2bUpdate changes and clears a customer's fields, and checks optimistic locking of the versioned
// entities (Quote, Contract).
func b2bUpdate(t *testing.T, s *apptest.Server, m *metamodel.Model) {
	r := b2bLookups(t, s, m)
	cid := createID(t, s, m, "Customer", map[string]any{"name": "E2E 修改客户", "shortName": "修改", "industry": "oem", "creditLimit": 100000,
		"website": "https://e2e-upd.example.com", "region": r.suzhou, "phone": "0512-1234567"})
	sel := "name shortName grade industry creditLimit website phone region { id }"
	d := update(t, s, "Customer", cid, map[string]any{"name": "E2E 修改后客户", "grade": "strategic", "phone": "+86 512 7654 3210",
		"clearCreditLimit": true, "clearWebsite": true, "clearIndustry": true, "clearRegion": true}, sel)
	check := func(what string, d map[string]any) {
		t.Helper()
		if str(t, d, "name") != "E2E 修改后客户" || str(t, d, "shortName") != "修改" || str(t, d, "grade") != "strategic" ||
			str(t, d, "phone") != "+86 512 7654 3210" || at(t, d, "creditLimit") != nil || at(t, d, "website") != nil ||
			at(t, d, "industry") != nil || at(t, d, "region") != nil {
			t.Errorf("%s: %s", what, jsonString(d))
		}
	}
	check("update result", d)
	check("read back", node(t, s, "Customer", cid, sel))

	var versioned []string
	for _, e := range m.Entities {
		if e.Has(metamodel.TraitVersioned) {
			versioned = append(versioned, e.Name)
		}
	}
	if fmt.Sprint(versioned) != "[Contract Quote]" {
		t.Errorf("versioned entities: %v, want [Contract Quote] (update this test)", versioned)
	}
	// Quote: created at version 1; each update increments; an update from a stale version is refused.
	opp := createID(t, s, m, "Opportunity", map[string]any{"name": "E2E 版本商机", "customer": cid})
	qid := createID(t, s, m, "Quote", map[string]any{"opportunity": opp, "quotedAt": day(0, 0, -1), "note": "初稿"})
	checkVersioned(t, s, "Quote", qid, 1, map[string]any{"status": "sent"}, map[string]any{"note": "过期修改"}, map[string]any{"clearNote": true, "clearQuotedAt": true},
		"status note quotedAt", func(d map[string]any) bool {
			return str(t, d, "status") == "sent" && at(t, d, "note") == nil && at(t, d, "quotedAt") == nil
		})
	// Contract: a seeded one, at version 1.
	title := fmt.Sprint(value(records(m, "Contract")[0], "title"))
	ctr := lookup(t, s, m, "Contract", map[string]any{"title": title})
	checkVersioned(t, s, "Contract", ctr, 1, map[string]any{"signedAt": day(0, 0, -2)}, map[string]any{"title": "E2E 过期修改"}, map[string]any{"clearTerms": true, "clearOpportunity": true},
		"title signedAt terms opportunity { id }", func(d map[string]any) bool {
			return str(t, d, "title") == title && at(t, d, "signedAt") != nil && at(t, d, "terms") == nil && at(t, d, "opportunity") == nil
		})
}

// b2bDelete checks the example's onDelete rules on hard-deleted entities (restrict, cascade, setNull) and
// that soft-deleting a customer cascades nothing.
func b2bDelete(t *testing.T, s *apptest.Server, m *metamodel.Model) {
	r := b2bLookups(t, s, m)
	cust := b2bCustomer(t, s, m, "E2E 删除客户", r.suzhou)

	// Payment → Contract is restrict: a contract with payments stays; without them it can go.
	ctr := createID(t, s, m, "Contract", map[string]any{"title": "E2E 合同", "amount": 300000, "customer": cust})
	var pays []string
	for i := 1; i <= 2; i++ {
		pays = append(pays, createID(t, s, m, "Payment", map[string]any{"installment": i, "amount": 150000, "dueDate": day(0, i, 0), "contract": ctr}))
	}
	checkRestricted(t, s, m, "Contract", ctr, "Payment.contract")
	mustRemove(t, s, "Payment", pays[0])
	checkRestricted(t, s, m, "Contract", ctr, "Payment.contract")
	mustRemove(t, s, "Payment", pays[1])
	before := counts(t, s, m)
	mustRemove(t, s, "Contract", ctr)
	expectCounts(t, "after deleting a contract without payments", before, counts(t, s, m), map[string]int{"Contract": -1})
	notFound(t, s, ctr)

	// QuoteLine → Quote is cascade: deleting a quote deletes its lines.
	opp := createID(t, s, m, "Opportunity", map[string]any{"name": "E2E 删除商机", "customer": cust})
	qid := createID(t, s, m, "Quote", map[string]any{"opportunity": opp})
	var lines []string
	for i := 1; i <= 2; i++ {
		lines = append(lines, createID(t, s, m, "QuoteLine", map[string]any{"quote": qid, "product": r.product, "quantity": i, "unitPrice": 10}))
	}
	// Quote → Opportunity is restrict (the default): the opportunity with a quote stays.
	checkRestricted(t, s, m, "Opportunity", opp, "Quote.opportunity")
	before = counts(t, s, m)
	mustRemove(t, s, "Quote", qid)
	expectCounts(t, "after deleting a quote with two lines", before, counts(t, s, m), map[string]int{"Quote": -1, "QuoteLine": -2})
	for _, l := range lines {
		notFound(t, s, l)
	}
	// Without quotes the opportunity can go; its contract and activity keep their rows (setNull).
	ctr = createID(t, s, m, "Contract", map[string]any{"title": "E2E 商机合同", "amount": 1, "customer": cust, "opportunity": opp})
	task := createID(t, s, m, "Task", map[string]any{"subject": "E2E 拜访", "dueAt": day(0, 0, 2), "customer": cust, "opportunity": opp})
	before = counts(t, s, m)
	mustRemove(t, s, "Opportunity", opp)
	expectCounts(t, "after deleting an opportunity", before, counts(t, s, m), map[string]int{"Opportunity": -1})
	if n := node(t, s, "Contract", ctr, "opportunity { id } customer { id }"); at(t, n, "opportunity") != nil || str(t, n, "customer.id") != cust {
		t.Errorf("contract of a deleted opportunity (setNull): %s", jsonString(n))
	}
	if n := node(t, s, "Task", task, "opportunity { id }"); at(t, n, "opportunity") != nil {
		t.Errorf("activity of a deleted opportunity (setNull): %s", jsonString(n))
	}

	// A contact is deleted for good; opportunities and activities that named it keep their rows.
	ct := createID(t, s, m, "Contact", map[string]any{"name": "E2E 离职联系人", "customer": cust})
	opp = createID(t, s, m, "Opportunity", map[string]any{"name": "E2E 联系人商机", "customer": cust, "contact": ct})
	task = createID(t, s, m, "Task", map[string]any{"subject": "E2E 电话", "dueAt": day(0, 0, 1), "customer": cust, "contact": ct})
	before = counts(t, s, m)
	mustRemove(t, s, "Contact", ct)
	expectCounts(t, "after deleting a contact", before, counts(t, s, m), map[string]int{"Contact": -1})
	if n := node(t, s, "Opportunity", opp, "contact { id }"); at(t, n, "contact") != nil {
		t.Errorf("opportunity of a deleted contact (setNull): %s", jsonString(n))
	}
	if n := node(t, s, "Task", task, "contact { id }"); at(t, n, "contact") != nil {
		t.Errorf("activity of a deleted contact (setNull): %s", jsonString(n))
	}

	// Region.parent is restrict; Customer.region is setNull.
	checkRestricted(t, s, m, "Region", r.east, "Region.parent")
	leaf := createID(t, s, m, "Region", map[string]any{"code": "E2E-DEL", "name": "E2E 待删区域", "parent": r.zj})
	inLeaf := b2bCustomer(t, s, m, "E2E 区域删除客户", leaf)
	before = counts(t, s, m)
	mustRemove(t, s, "Region", leaf)
	expectCounts(t, "after deleting a region", before, counts(t, s, m), map[string]int{"Region": -1})
	if n := node(t, s, "Customer", inLeaf, "region { id }"); at(t, n, "region") != nil {
		t.Errorf("customer of a deleted region (setNull): %s", jsonString(n))
	}

	// Customer has softDelete, and its onDelete rules still hold: while opportunities and contracts
	// (restrict) refer to it, it cannot be deleted; once they are gone, deleting hides it and with it its
	// contacts (cascade).
	createID(t, s, m, "Contact", map[string]any{"name": "E2E 软删联系人", "customer": cust})
	checkRestricted(t, s, m, "Customer", cust, "Opportunity.customer")
	removeRestricting(t, s, m, "Customer", cust)
	// Every cascade child (contacts, activities) is hidden with the customer.
	delta := map[string]int{"Customer": -1}
	for _, r := range entity(t, m, "Customer").Relations {
		if r.Kind == metamodel.HasMany && r.InverseRel.OnDelete == metamodel.OnDeleteCascade {
			delta[r.Target.Name] -= total(t, s, m, r.Target.Name, map[string]any{r.InverseRel.GraphQLFKName(): cust})
		}
	}
	if delta["Contact"] == 0 {
		t.Fatalf("the customer has no contacts to hide")
	}
	before = counts(t, s, m)
	mustRemove(t, s, "Customer", cust)
	expectCounts(t, "after soft-deleting a customer", before, counts(t, s, m), delta)
	notFound(t, s, cust)
	if e := mustFail(t, s, `mutation($id: ID!) { updateCustomer(id: $id, input: {shortName: "复活"}) { id } }`, map[string]any{"id": cust}); e.Extensions["code"] != "NOT_FOUND" {
		t.Errorf("update of a soft-deleted customer: %+v, want NOT_FOUND", e)
	}
	if n := total(t, s, m, "Customer", map[string]any{"name": "E2E 删除客户"}); n != 0 {
		t.Errorf("the soft-deleted customer is still listed")
	}
	if n := total(t, s, m, "Contact", map[string]any{"customerID": cust}); n != 0 {
		t.Errorf("contacts of the soft-deleted customer: %d listed, want 0 (hidden with their parent: onDelete cascade)", n)
	}
}

// b2bValidation checks every kind of rule the b2b example's fields carry.
func b2bValidation(t *testing.T, s *apptest.Server, m *metamodel.Model) {
	r := b2bLookups(t, s, m)
	cust := b2bCustomer(t, s, m, "E2E 校验客户", "")
	opp := createID(t, s, m, "Opportunity", map[string]any{"name": "E2E 校验商机", "customer": cust})
	quote := createID(t, s, m, "Quote", map[string]any{"opportunity": opp})
	ctr := createID(t, s, m, "Contract", map[string]any{"title": "E2E 校验合同", "amount": 100, "customer": cust})
	first := records(m, "Customer")[0]
	with := func(base map[string]any, k string, v any) map[string]any {
		out := map[string]any{k: v}
		for bk, bv := range base {
			if bk != k {
				out[bk] = bv
			}
		}
		return out
	}
	customer := func(k string, v any) map[string]any { return with(map[string]any{"name": "E2E 新客户"}, k, v) }
	contact := func(k string, v any) map[string]any {
		return with(map[string]any{"name": "E2E 联系人", "customer": cust}, k, v)
	}
	oppty := func(k string, v any) map[string]any {
		return with(map[string]any{"name": "E2E 商机", "customer": cust}, k, v)
	}
	line := func(k string, v any) map[string]any {
		return with(map[string]any{"quote": quote, "product": r.product, "unitPrice": 1}, k, v)
	}
	cases := []invalid{
		{entity: "Customer", vals: customer("name", "  "), field: "name", rule: "required"},
		{entity: "Customer", vals: customer("name", longString(101)), field: "name", rule: "maxLen"},
		{entity: "Customer", vals: customer("name", value(first, "name")), field: "name", rule: "unique"},
		{entity: "Customer", vals: customer("shortName", longString(33)), field: "shortName", rule: "maxLen"},
		{entity: "Customer", vals: customer("taxNo", "91310115544RQEU41"), field: "taxNo", rule: "pattern"},
		{entity: "Customer", vals: customer("taxNo", "91310115544RQEU41I"), field: "taxNo", rule: "pattern"},
		{entity: "Customer", vals: customer("taxNo", value(first, "taxNo")), field: "taxNo", rule: "unique"},
		{entity: "Customer", vals: customer("phone", "总机"), field: "phone", rule: "phone"},
		{entity: "Customer", vals: customer("website", "ftp://files.example.com"), field: "website", rule: "url"},
		{entity: "Customer", vals: customer("website", "www.example.com"), field: "website", rule: "url"},
		{entity: "Customer", vals: customer("creditLimit", -1), field: "creditLimit", rule: "min"},
		{entity: "Customer", vals: customer("creditLimit", 0.001), field: "creditLimit", rule: "scale"},
		{entity: "Customer", vals: customer("creditLimit", 1e12), field: "creditLimit", rule: "precision"},
		{entity: "Customer", vals: customer("region", "999999"), field: "region", rule: "exists"},
		{entity: "Customer", vals: customer("region", r.nev), field: "region", rule: "exists"}, // a Tag's id is no Region
		{entity: "Customer", vals: customer("tags", []string{"424242"}), field: "tags", rule: "exists"},
		{entity: "Contact", vals: contact("email", "zhou@@example.com"), field: "email", rule: "email"},
		{entity: "Contact", vals: contact("email", "周海 <zhou@example.com>"), field: "email", rule: "email"},
		{entity: "Contact", vals: contact("phone", "12"), field: "phone", rule: "phone"},
		{entity: "Contact", vals: contact("name", longString(33)), field: "name", rule: "maxLen"},
		{entity: "Contact", vals: contact("customer", "999999"), field: "customer", rule: "exists"},
		{entity: "Opportunity", vals: oppty("probability", -1), field: "probability", rule: "min"},
		{entity: "Opportunity", vals: oppty("probability", 101), field: "probability", rule: "max"},
		{entity: "Opportunity", vals: oppty("amount", 99.999), field: "amount", rule: "scale"},
		{entity: "Opportunity", vals: oppty("lossReason", longString(201)), field: "lossReason", rule: "maxLen"},
		{entity: "Opportunity", vals: oppty("contact", "999999"), field: "contact", rule: "exists"},
		{entity: "Opportunity", vals: oppty("competitors", []string{r.borui, "999999"}), field: "competitors", rule: "exists"},
		{entity: "QuoteLine", vals: line("quantity", 0), field: "quantity", rule: "min"},
		{entity: "QuoteLine", vals: line("discount", 1.5), field: "discount", rule: "max"},
		{entity: "QuoteLine", vals: line("discount", -0.1), field: "discount", rule: "min"},
		{entity: "QuoteLine", vals: line("unitPrice", -1), field: "unitPrice", rule: "min"},
		{entity: "QuoteLine", vals: line("product", "999999"), field: "product", rule: "exists"},
		{entity: "Quote", vals: map[string]any{"opportunity": opp, "total": 1.005}, field: "total", rule: "scale"},
		{entity: "Region", vals: map[string]any{"code": "CN", "name": "重复"}, field: "code", rule: "unique"},
		{entity: "Region", vals: map[string]any{"code": strings.Repeat("X", 17), "name": "太长"}, field: "code", rule: "maxLen"},
		{entity: "Region", vals: map[string]any{"code": "E2E-R", "name": " "}, field: "name", rule: "required"},
		{entity: "Product", vals: map[string]any{"sku": value(records(m, "Product")[0], "sku"), "name": "重复", "category": "brake", "unitPrice": 1}, field: "sku", rule: "unique"},
		{entity: "Product", vals: map[string]any{"sku": "E2E-P", "name": "单位太长", "category": "brake", "unitPrice": 1, "unit": longString(9)}, field: "unit", rule: "maxLen"},
		{entity: "Competitor", vals: map[string]any{"name": "E2E 对手", "website": "not a url"}, field: "website", rule: "url"},
		{entity: "Payment", vals: map[string]any{"installment": 0, "amount": 1, "dueDate": day(0, 1, 0), "contract": ctr}, field: "installment", rule: "min"},
		{entity: "Payment", vals: map[string]any{"amount": 1, "dueDate": day(0, 1, 0), "contract": "999999"}, field: "contract", rule: "exists"},
		{entity: "Contract", vals: map[string]any{"title": "E2E", "amount": -5, "customer": cust}, field: "amount", rule: "min"},
		{entity: "User", vals: map[string]any{"username": "e2e_val", "employeeNo": "MH0001"}, field: "employeeNo", rule: "unique"},
		{entity: "User", vals: map[string]any{"username": "e2e_val", "salesQuota": -1}, field: "salesQuota", rule: "min"},
		{entity: "User", vals: map[string]any{"username": "e2e_val", "email": "e2e.example.com"}, field: "email", rule: "email"},
		// Updates are checked too, including a versioned one (which must not count as a change).
		{entity: "Customer", id: cust, vals: map[string]any{"taxNo": "bad"}, field: "taxNo", rule: "pattern"},
		{entity: "Opportunity", id: opp, vals: map[string]any{"probability": 200}, field: "probability", rule: "max"},
		{entity: "Contract", id: ctr, vals: map[string]any{"amount": -1, "version": 1}, field: "amount", rule: "min"},
	}
	seen := checkInvalid(t, s, m, cases)
	checkBadEnum(t, s, m, "Customer", map[string]any{"name": "E2E 等级"}, "grade")
	seen["enum"] = true
	checkRuleCoverage(t, m, seen)
	if n := node(t, s, "Contract", ctr, "amount version"); num(t, n, "amount") != 100 || num(t, n, "version") != 1 {
		t.Errorf("contract after a rejected update: %s, want amount 100 at version 1", jsonString(n))
	}
	if n := node(t, s, "Opportunity", opp, "probability"); num(t, n, "probability") != 10 {
		t.Errorf("opportunity after a rejected update: %s", jsonString(n))
	}
}

// b2bManyToMany adds and removes customers' tags and opportunities' competitors from both sides.
func b2bManyToMany(t *testing.T, s *apptest.Server, m *metamodel.Model) {
	r := b2bLookups(t, s, m)
	cust := b2bCustomer(t, s, m, "E2E 多对多客户", "")
	checkManyToMany(t, s, m, "Customer", cust, "tags", [3]string{r.nev, r.export, r.potential})
	opp := createID(t, s, m, "Opportunity", map[string]any{"name": "E2E 多对多商机", "customer": cust})
	checkManyToMany(t, s, m, "Opportunity", opp, "competitors", [3]string{r.borui, r.tianhong, r.ouchi})
}

// b2bAgeing checks the b2b example's receivables ageing (age bands of unpaid payments' due dates) against
// the payments the reader lists, aged by hand from today in the app's zone.
func b2bAgeing(t *testing.T, s *apptest.Server) {
	type agg struct {
		count  int
		amount float64
	}
	today, _ := time.Parse("2006-01-02", time.Now().In(exampleZone(t)).Format("2006-01-02"))
	bands := []struct {
		upTo  int
		label string
	}{{30, "30天以内"}, {60, "30–60天"}, {90, "60–90天"}, {180, "90–180天"}}
	want := map[string]*agg{}
	var nearEdge bool
	for _, p := range pageAll(t, s, "payments", "", "dueDate amount status", 1000) {
		if str(t, p, "status") == "paid" {
			continue
		}
		due, err := time.Parse("2006-01-02", day10(t, p, "dueDate"))
		if err != nil {
			t.Fatal(err)
		}
		days := int(today.Sub(due).Hours() / 24)
		label := "180天以上"
		switch {
		case days < 0:
			label = "未到期"
		default:
			for _, b := range bands {
				if days <= b.upTo {
					label = b.label
					break
				}
			}
		}
		for _, edge := range []int{0, 30, 60, 90, 180} {
			nearEdge = nearEdge || days == edge || days == edge+1
		}
		if want[label] == nil {
			want[label] = &agg{}
		}
		want[label].count++
		want[label].amount += num(t, p, "amount")
	}
	if nearEdge {
		// A due date on a band's edge moves between bands at midnight; the report and this test read the
		// clock at slightly different times, so compare only the totals.
		t.Log("a payment is due on a band's edge today: comparing totals only")
	}
	r := mustReport(t, s, "receivablesAgeing", nil)
	var count int
	var amount float64
	for _, row := range r.Rows {
		count += int(num(t, row, "count"))
		amount += num(t, row, "sum_amount")
		w := want[fmt.Sprint(row["dueDate"])]
		if nearEdge {
			continue
		}
		if w == nil || int(num(t, row, "count")) != w.count || money(num(t, row, "sum_amount")) != money(w.amount) {
			t.Errorf("receivablesAgeing %v, the payments: %+v", row, w)
		}
	}
	var wc int
	var wa float64
	for _, w := range want {
		wc += w.count
		wa += w.amount
	}
	if count != wc || money(amount) != money(wa) {
		t.Errorf("receivablesAgeing totals %d payments, %s; the unpaid payments: %d, %s", count, money(amount), wc, money(wa))
	}
	if !nearEdge && len(r.Rows) != len(want) {
		t.Errorf("receivablesAgeing has %d bands, the payments fall in %d", len(r.Rows), len(want))
	}
}
