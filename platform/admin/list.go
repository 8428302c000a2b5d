package admin

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/crmgen/crmgen/metamodel"
	"github.com/crmgen/crmgen/platform/enforce"
	"github.com/crmgen/crmgen/platform/gqltype"
)

// The list screen: columns, search, filters, sorting and cursor paging, all as URL query parameters so
// a list is linkable and the back button works; htmx swaps only the results when they change.
//
//	q=text             search over the entity's `search` fields (containsFold, ORed)
//	f.<member>=v       filter: enum key, true/false, or a related record's id
//	f.<member>.from/.to  date range filter (inclusive days)
//	sort=[-]<field>    order; the default is views.list.sort
//	after/before=cursor, last=1, o=offset   paging (o only numbers the rows shown)
//	p=page, t=total    a numbered page (listpages.go); n=size the page size
//	cols=a,b           the columns shown (listcols.go)

// listColumn is a column header.
type listColumn struct {
	Name, Label string
	SortURL     string // "" when the column cannot be sorted
	Sorted      string // "asc", "desc" or ""
}

// listRow is one record of a list.
type listRow struct {
	ID, URL string
	Cells   []cell
}

// listFilter is one filter control.
type listFilter struct {
	Name, Label, Kind string // Kind: enum, bool, date, rel
	Value, From, To   string
	Options           []enumChoice
}

// listBody is the list screen.
type listBody struct {
	Entity, Label, URL     string
	Columns                []listColumn
	Rows                   []listRow
	Total, From, To        int
	Capped                 bool // there are more than Total records (Config.CountLimit): they were not all counted
	FirstURL, PrevURL      string
	NextURL, LastURL       string
	Page, Pages            int        // the page shown (1-based) and the number of pages (of Total)
	PagesText              string     // Pages for people: "200+" when Capped
	PageLinks              []pageLink // numbered links around the current page
	PageSize               int
	PageSizes              []int
	Choices                []columnChoice // the column chooser's boxes
	Saved                  *viewsBar      // the saved views, nil without a store
	ViewQuery              string         // what saving the list as a view stores
	Q, Sort                string
	Queue, QueueLabel      string // the work queue shown (queue=…) and its label
	NoQueueURL             string // the same list without the queue
	Filters                []listFilter
	ActiveFilters          int // filters with a value: the phone's folded filter button counts them
	CanCreate, CanDelete   bool
	CanExport, CanImport   bool
	ExportURL, Query       string
	HasKanban, HasCalendar bool
	HasTree                bool
	HasTrash               bool     // deleted records the user may restore can be listed
	Bulk                   *bulkBar // bulk transitions and edit offered on the checked rows, nil if none
	Partial                bool     // rendering only the results, for htmx
}

// listQuery is a list request resolved against the model and the user's access.
type listQuery struct {
	e       *metamodel.Entity
	a       *enforce.Access
	si      *schemaInfo
	columns []member
	where   map[string]any
	orderBy []any
	sortKey string // the member sorted by, "-" prefixed when descending
	zones   zones
	queue   string // the label of the work queue the list shows (queue=…), or ""
}

const defaultPageSize = 25

func pageSize(e *metamodel.Entity) int {
	if v := e.Views; v != nil && v.List != nil && v.List.PageSize > 0 {
		return min(v.List.PageSize, 200)
	}
	return defaultPageSize
}

// newListQuery reads the search, filters, work queue and sort of a request.
func (s *server) newListQuery(ctx context.Context, e *metamodel.Entity, q url.Values, lang string) (*listQuery, error) {
	si, err := s.schema(ctx)
	if err != nil {
		return nil, err
	}
	lq := &listQuery{e: e, a: access(ctx, e.Name), si: si, where: map[string]any{}, zones: s.zones(ctx)}
	for _, m := range listColumns(e) {
		if lq.a.Lists(m.Name) {
			lq.columns = append(lq.columns, m)
		}
	}
	if text := strings.TrimSpace(q.Get("q")); text != "" {
		for k, v := range s.searchWhere(ctx, si, e, lq.columns, text) {
			lq.where[k] = v
		}
	}
	var and []any
	for _, m := range s.visibleFilters(lq, q) {
		and = append(and, filterWhere(lq, m, q)...)
	}
	if len(and) > 0 {
		lq.where["and"] = and
	}
	if key := q.Get("queue"); key != "" {
		var cond map[string]any
		cond, lq.queue = s.queueWhere(ctx, e, key, lang)
		lq.where = withCondition(lq.where, cond)
	}
	lq.sortKey = q.Get("sort")
	if lq.sortKey == "" && e.Views != nil && e.Views.List != nil {
		lq.sortKey = e.Views.List.Sort
	}
	if m, ok := memberOf(e, strings.TrimPrefix(lq.sortKey, "-")); ok && lq.sortable(m) {
		dir := "ASC"
		if strings.HasPrefix(lq.sortKey, "-") {
			dir = "DESC"
		}
		lq.orderBy = []any{map[string]any{"field": orderField(m.Field), "direction": dir}}
	} else {
		lq.sortKey = ""
	}
	return lq, nil
}

// withCondition adds cond to a where input (ent refuses an empty where inside "and").
func withCondition(where, cond map[string]any) map[string]any {
	if len(where) == 0 {
		return cond
	}
	return map[string]any{"and": []any{where, cond}}
}

// orderField is the entgql order enum value of a field ("birthDate" → BIRTH_DATE).
func orderField(f *metamodel.Field) string { return strings.ToUpper(f.Column()) }

// sortable reports whether the list may order by m for this user.
func (lq *listQuery) sortable(m member) bool {
	if m.Field == nil || !lq.a.Sortable(m.Name) {
		return false
	}
	for _, v := range lq.si.enums[lq.e.Name+"OrderField"] {
		if v == orderField(m.Field) {
			return true
		}
	}
	return false
}

// visibleFilters are the filters this user may use, for the request q: the list's filters, and any other
// member the request filters by. A record page's "see all" link to its related records filters by the
// relation back to it, and a calendar day's link by the calendar's date, which the list need not offer as
// filters of their own (all visits of one patient).
func (s *server) visibleFilters(lq *listQuery, q url.Values) []member {
	var out []member
	seen := map[string]bool{}
	for _, m := range listFilters(lq.e) {
		if !lq.a.Sortable(m.Name) {
			continue
		}
		seen[m.Name] = true
		out = append(out, m)
	}
	var others []member
	for _, f := range lq.e.Fields {
		if !f.Secret {
			others = append(others, member{Name: f.Name, Field: f})
		}
	}
	for _, r := range lq.e.Relations {
		others = append(others, member{Name: r.Name, Rel: r})
	}
	for _, m := range others {
		asked := q.Get("f."+m.Name) != "" || q.Get("f."+m.Name+".from") != "" || q.Get("f."+m.Name+".to") != ""
		if asked && !seen[m.Name] && filterable(m) && lq.a.Sortable(m.Name) {
			out = append(out, m)
		}
	}
	return out
}

// filterWhere turns the request's value of filter m into where-input conditions.
func filterWhere(lq *listQuery, m member, q url.Values) []any {
	key := "f." + m.Name
	wt := lq.e.Name + "WhereInput"
	if m.Rel != nil {
		v := q.Get(key)
		if v == "" {
			return nil
		}
		if m.Rel.Kind == metamodel.BelongsTo && lq.si.has(wt, m.Rel.GraphQLFKName()) {
			return []any{map[string]any{m.Rel.GraphQLFKName(): v}}
		}
		has := "has" + metamodel.Pascal(m.Rel.GraphQLName()) + "With"
		if lq.si.has(wt, has) {
			return []any{map[string]any{has: []any{map[string]any{"id": v}}}}
		}
		return nil
	}
	name := m.Field.GraphQLName()
	switch m.Field.Type {
	case metamodel.TypeEnum:
		if v := q.Get(key); v != "" {
			return []any{map[string]any{name: v}}
		}
	case metamodel.TypeBool:
		switch q.Get(key) {
		case "true":
			return []any{map[string]any{name: true}}
		case "false":
			return []any{map[string]any{name: false}}
		}
	case metamodel.TypeDate, metamodel.TypeDateTime:
		var out []any
		// A date filter's days are the app zone's, where dates are stored as their midnight; a time filter's
		// are the user's.
		loc := lq.zones.of(m.Field)
		if q.Get(key+".zone") == "app" {
			loc = lq.zones.app // a report's drill-down: its time buckets are the app zone's days
		}
		if t, err := time.ParseInLocation("2006-01-02", q.Get(key+".from"), loc); err == nil {
			out = append(out, map[string]any{name + "GTE": t.Format(time.RFC3339)})
		}
		if t, err := time.ParseInLocation("2006-01-02", q.Get(key+".to"), loc); err == nil {
			out = append(out, map[string]any{name + "LT": t.AddDate(0, 0, 1).Format(time.RFC3339)})
		}
		return out
	}
	return nil
}

// list serves the list screen, or only its results for htmx.
func (s *server) list(w http.ResponseWriter, r *http.Request) {
	e := s.entity(w, r)
	if e == nil {
		return
	}
	ctx := r.Context()
	q := r.URL.Query()
	lq, err := s.newListQuery(ctx, e, q, language(s.cfg.Model, r))
	if err != nil {
		s.fail(w, r, http.StatusInternalServerError, err)
		return
	}
	f := s.newFrame(r, s.entityLabel(e, language(s.cfg.Model, r)))
	f.Active = e.Name
	choices := s.chooseColumns(w, r, lq, f.Lang)
	n := requestPageSize(e, q)
	vars := map[string]any{"where": lq.where, "upTo": s.countLimit()}
	if len(lq.orderBy) > 0 {
		vars["orderBy"] = lq.orderBy
	}
	page, _ := strconv.Atoi(q.Get("p"))
	skip, fromEnd := 0, false
	switch {
	case page > 1 && q.Get("after") == "" && q.Get("before") == "" && q.Get("last") == "":
		total, _ := strconv.Atoi(q.Get("t"))
		if total > 0 {
			page = min(page, pageCount(total, n))
		}
		var pv map[string]any
		pv, skip, fromEnd = numberedPage(page, n, total)
		for k, v := range pv {
			vars[k] = v
		}
	case q.Get("after") != "":
		vars["first"], vars["after"] = n, q.Get("after")
	case q.Get("before") != "":
		vars["last"], vars["before"] = n, q.Get("before")
	case q.Get("last") != "":
		vars["last"] = n
	default:
		vars["first"] = n
	}
	sel := selections(lq.columns)
	query := "query($first: Int, $after: Cursor, $last: Int, $before: Cursor, $where: " + e.Name + "WhereInput, $orderBy: [" + e.Name + "Order!], $upTo: Int) { " +
		"total: " + e.CountField() + "(where: $where, upTo: $upTo) " +
		"list: " + e.QueryField() + "(first: $first, after: $after, last: $last, before: $before, where: $where, orderBy: $orderBy) { " +
		"pageInfo { hasNextPage hasPreviousPage startCursor endCursor } edges { node { id " + strings.Join(sel, " ") + " } } } }"
	resp, err := s.gql(ctx, query, vars)
	if err != nil {
		if es, ok := err.(gqlErrors); ok && (es.hasCode("FORBIDDEN") || es.hasCode("FORBIDDEN_FIELD")) {
			s.fail(w, r, http.StatusForbidden, es)
			return
		}
		s.fail(w, r, http.StatusInternalServerError, err)
		return
	}
	conn := resp.Data["list"]
	b := &listBody{Entity: e.Name, Label: f.Title, URL: entityURL(e), Q: q.Get("q"), Sort: q.Get("sort"), Query: r.URL.RawQuery,
		Queue: q.Get("queue"), QueueLabel: lq.queue}
	if b.Queue != "" {
		b.NoQueueURL = b.URL + "?" + withParams(q, nil, append([]string{"queue"}, pagingParams...)...)
	}
	b.Total, b.Capped = s.counted(resp.Data["total"])
	rows := nodes(conn)
	if fromEnd {
		rows = rows[:min(n, len(rows))]
	} else {
		rows = rows[min(skip, len(rows)):]
	}
	for _, nd := range rows {
		b.Rows = append(b.Rows, s.rowOf(e, lq.columns, nd, f.Lang, s.zones(ctx)))
	}
	b.Choices, b.PageSize, b.PageSizes = choices, n, pageSizes
	b.ViewQuery = viewQuery(q, lq.columns, n)
	if page > 1 && vars["after"] == nil && vars["before"] == nil {
		s.fillNumberedPaging(b, q, page, n)
	} else {
		s.fillPaging(b, q, conn, n)
	}
	for _, m := range lq.columns {
		col := listColumn{Name: m.Name, Label: s.memberLabel(m, f.Lang)}
		if lq.sortable(m) {
			next := m.Name
			switch lq.sortKey {
			case m.Name:
				col.Sorted, next = "asc", "-"+m.Name
			case "-" + m.Name:
				col.Sorted = "desc"
			}
			col.SortURL = b.URL + "?" + withParams(q, map[string]string{"sort": next}, pagingParams...)
		}
		b.Columns = append(b.Columns, col)
	}
	si := lq.si
	b.CanCreate = lq.a.MayCreate() && si.has("Mutation", "create"+e.Name)
	b.CanDelete = lq.a.MayDelete() && si.has("Mutation", "delete"+e.Name)
	b.CanExport = lq.a.MayExport()
	b.CanImport = lq.a.MayImport() && si.has("Mutation", "create"+e.Name)
	b.HasTrash = b.CanDelete && e.Has(metamodel.TraitSoftDelete) && si.has("Query", e.DeletedQueryField())
	b.Bulk = s.bulkBarOf(ctx, e, si, f.Lang)
	b.ExportURL = b.URL + "/export.csv?" + withParams(q, nil, pagingParams...)
	if v := e.Views; v != nil {
		b.HasKanban = v.Kanban != nil
		b.HasCalendar = v.Calendar != nil
	}
	b.HasTree = treeParent(e) != nil
	f.Body = b
	if r.Header.Get("HX-Request") == "true" && r.Header.Get("HX-History-Restore-Request") != "true" {
		b.Partial = true
		s.renderPart(w, r, "list", "results", f)
		return
	}
	b.Filters = s.filterControls(ctx, lq, q, f.Lang)
	b.Saved = s.viewsOf(r, e)
	for _, lf := range b.Filters {
		if lf.Value != "" || lf.From != "" || lf.To != "" {
			b.ActiveFilters++
		}
	}
	s.render(w, r, http.StatusOK, "list", f)
}

// cardValues is how many values a list's card shows on a phone under the record's title: four lines
// in all, so a screen holds several records.
const cardValues = 3

// rowOf is a record's row in a table of columns: its id, its link and a cell per column (the first is the
// title). On a phone, the row is a card of the title and its first cardValues values that are not empty;
// the others are folded (the record's page has them all).
func (s *server) rowOf(e *metamodel.Entity, columns []member, nd map[string]any, lang string, z zones) listRow {
	row := listRow{ID: str(nd["id"]), URL: recordURL(e, str(nd["id"]))}
	shown := 0
	for i, m := range columns {
		c := s.cellOf(m, nd, lang, z)
		if i > 0 {
			c.Folded = c.Empty || shown == cardValues
			if !c.Folded {
				shown++
			}
		}
		row.Cells = append(row.Cells, c)
	}
	return row
}

// fillPaging sets the range shown and the links to the first, previous, next and last pages.
func (s *server) fillPaging(b *listBody, q url.Values, conn any, n int) {
	offset, _ := strconv.Atoi(q.Get("o"))
	if q.Get("last") != "" {
		offset = max(b.Total-n, 0)
	}
	if len(b.Rows) > 0 && !(b.Capped && (q.Get("last") != "" || q.Get("before") != "")) {
		b.From, b.To = offset+1, offset+len(b.Rows) // counted back from an end not counted, the rows have no numbers
	}
	b.atLeast()
	pi := dig(conn, "pageInfo")
	drop := pagingParams
	cur := offset/n + 1
	if !b.Capped && (q.Get("last") != "" || (b.Total > 0 && b.To == b.Total)) {
		cur = pageCount(b.Total, n)
	}
	s.fillPageLinks(b, q, cur, n)
	if dig(pi, "hasPreviousPage") == true || offset > 0 {
		b.FirstURL = b.URL + "?" + withParams(q, nil, drop...)
		b.PrevURL = b.URL + "?" + withParams(q, map[string]string{"before": str(dig(pi, "startCursor")), "o": strconv.Itoa(max(offset-n, 0))}, drop...)
	}
	if dig(pi, "hasNextPage") == true {
		b.NextURL = b.URL + "?" + withParams(q, map[string]string{"after": str(dig(pi, "endCursor")), "o": strconv.Itoa(offset + len(b.Rows))}, drop...)
		b.LastURL = b.URL + "?" + withParams(q, map[string]string{"last": "1"}, drop...)
	}
}

// pagingParams are the parameters of the page shown, dropped from links to another order, filter or page.
var pagingParams = []string{"after", "before", "last", "o", "p", "t"}

// fillNumberedPaging sets the range and links of numbered page p (p=): the previous and next links are
// numbered too, since the rows fetched to reach the page end elsewhere than the page.
func (s *server) fillNumberedPaging(b *listBody, q url.Values, p, n int) {
	offset := (p - 1) * n
	if len(b.Rows) > 0 {
		b.From, b.To = offset+1, offset+len(b.Rows)
	}
	b.atLeast()
	s.fillPageLinks(b, q, p, n)
	b.FirstURL = b.URL + "?" + withParams(q, nil, pagingParams...)
	b.PrevURL = b.pageURL(q, p-1)
	if offset+n < b.Total || b.Capped {
		b.NextURL = b.pageURL(q, p+1)
		b.LastURL = b.URL + "?" + withParams(q, map[string]string{"last": "1"}, pagingParams...)
	}
}

// fillPageLinks sets the page number, the number of pages and the numbered links around page cur.
func (s *server) fillPageLinks(b *listBody, q url.Values, cur, n int) {
	b.Pages = pageCount(b.Total, n)
	b.PagesText = strconv.Itoa(b.Pages)
	if b.Capped {
		b.PagesText += "+"
	}
	b.Page = max(1, min(cur, b.Pages))
	for _, k := range pageWindow(b.Page, b.Pages, 2) {
		if k == 0 {
			b.PageLinks = append(b.PageLinks, pageLink{Gap: true})
			continue
		}
		b.PageLinks = append(b.PageLinks, pageLink{N: k, URL: b.pageURL(q, k), Current: k == b.Page})
	}
}

// pageURL links numbered page k of the list, carrying the total the link was drawn from (none when the
// records were not all counted: the page is then reached from the front).
func (b *listBody) pageURL(q url.Values, k int) string {
	if k <= 1 {
		return b.URL + "?" + withParams(q, nil, pagingParams...)
	}
	set := map[string]string{"p": strconv.Itoa(k), "t": strconv.Itoa(b.Total)}
	if b.Capped {
		set["t"] = ""
	}
	return b.URL + "?" + withParams(q, set, pagingParams...)
}

// atLeast raises a total that was not all counted to the rows shown, past the count's limit: "more than"
// never says less than the page shows.
func (b *listBody) atLeast() {
	if b.Capped && b.To > b.Total {
		b.Total = b.To
	}
}

// DefaultCountLimit is how many records a screen counts exactly when Config.CountLimit is 0.
const DefaultCountLimit = 10000

// countLimit is the upTo of the screens' counts (Config.CountLimit, within what the API counts to).
func (s *server) countLimit() int {
	if s.cfg.CountLimit > 0 {
		return min(s.cfg.CountLimit, gqltype.MaxCountUpTo)
	}
	return DefaultCountLimit
}

// counted reads a count field asked with upTo: countLimit(): the number of records, or the limit and
// true when there are more.
func (s *server) counted(v any) (int, bool) {
	n := intOf(v)
	if n > s.countLimit() {
		return s.countLimit(), true
	}
	return n, false
}

// withParams copies q without the drop keys and with set applied, encoded.
func withParams(q url.Values, set map[string]string, drop ...string) string {
	out := url.Values{}
	for k, v := range q {
		out[k] = append([]string(nil), v...)
	}
	for _, k := range drop {
		out.Del(k)
	}
	for k, v := range set {
		if v == "" {
			out.Del(k)
		} else {
			out.Set(k, v)
		}
	}
	return out.Encode()
}

// filterControls builds the filter controls with their current values; relation filters offer the
// related records the user may read (one aliased query for all of them).
func (s *server) filterControls(ctx context.Context, lq *listQuery, q url.Values, lang string) []listFilter {
	var out []listFilter
	var rels []member
	for _, m := range s.visibleFilters(lq, q) {
		lf := listFilter{Name: m.Name, Label: s.memberLabel(m, lang), Value: q.Get("f." + m.Name)}
		switch {
		case m.Rel != nil:
			if !access(ctx, m.Rel.To).MayRead() {
				continue
			}
			lf.Kind = "rel"
			rels = append(rels, m)
		case m.Field.Type == metamodel.TypeEnum:
			lf.Kind, lf.Options = "enum", s.choices(m.Field, lang)
		case m.Field.Type == metamodel.TypeBool:
			lf.Kind = "bool"
		default:
			lf.Kind, lf.From, lf.To = "date", q.Get("f."+m.Name+".from"), q.Get("f."+m.Name+".to")
		}
		out = append(out, lf)
	}
	if len(rels) == 0 {
		return out
	}
	var qb strings.Builder
	// The chosen record of each filter is asked for by id too, since it need not be among the first 200.
	vars := map[string]any{}
	var decl, body strings.Builder
	for i, m := range rels {
		t, n := m.Rel.Target, strconv.Itoa(i)
		body.WriteString(" r" + n + ": " + t.QueryField() + "(first: 200) { edges { node { " + displaySelection(t) + " } } }")
		if id := q.Get("f." + m.Name); id != "" {
			vars["c"+n] = map[string]any{"id": id}
			decl.WriteString(" $c" + n + ": " + t.Name + "WhereInput")
			body.WriteString(" c" + n + ": " + t.QueryField() + "(first: 1, where: $c" + n + ") { edges { node { " + displaySelection(t) + " } } }")
		}
	}
	if decl.Len() > 0 {
		qb.WriteString("query(" + decl.String() + ") ")
	}
	qb.WriteString("{" + body.String() + " }")
	resp, err := s.gql(ctx, qb.String(), vars)
	if resp == nil {
		s.cfg.Log.ErrorContext(ctx, "filter options", "err", err)
		return out
	}
	for i, m := range rels {
		opts := []enumChoice{}
		seen := map[string]bool{}
		for _, nd := range append(nodes(resp.Data["c"+strconv.Itoa(i)]), nodes(resp.Data["r"+strconv.Itoa(i)])...) {
			if id := str(nd["id"]); !seen[id] {
				seen[id] = true
				opts = append(opts, enumChoice{Key: id, Label: s.displayOf(m.Rel.Target, nd, lang)})
			}
		}
		for j := range out {
			if out[j].Name == m.Name {
				out[j].Options = opts
			}
		}
	}
	return out
}
