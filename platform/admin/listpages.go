package admin

import (
	"net/url"
	"strconv"

	"github.com/crmgen/crmgen/metamodel"
)

// Page size and page numbers of a list. n=<size> chooses among pageSizes (capped at maxPageSize like the
// model's views.list.pageSize); p=<number> opens a numbered page. The API pages by cursor and has no
// offset, so a numbered page is still one request: the rows up to the page's end (first: p×n) and the
// list keeps the last of them, or, for a page in the back half of the list, the rows from its start to
// the end (last: total − offset), keeping the first. t=<total> on the link says which half (the total
// the link was drawn from). The previous/next links stay cursor links, which cost one page each.

// pageSizes are the sizes the page size chooser offers.
var pageSizes = []int{25, 50, 100, 200}

const maxPageSize = 200

// requestPageSize is the page size asked for by n=, else the entity's default.
func requestPageSize(e *metamodel.Entity, q url.Values) int {
	if n, err := strconv.Atoi(q.Get("n")); err == nil && n > 0 {
		return min(n, maxPageSize)
	}
	return pageSize(e)
}

// pageLink is one numbered link of the pager; Gap marks an ellipsis between numbers.
type pageLink struct {
	N       int
	URL     string
	Current bool
	Gap     bool
}

// pageWindow lists the page numbers to link for page cur of last: the first, the last, and span pages
// either side of the current one, with 0 where two or more numbers are skipped.
func pageWindow(cur, last, span int) []int {
	if last < 1 {
		return nil
	}
	cur = max(1, min(cur, last))
	var out []int
	prev := 0
	for n := 1; n <= last; n++ {
		near := n >= cur-span && n <= cur+span
		// A gap would hide a single number: show it instead.
		edge := n == 1 || n == last || (n == 2 && cur-span == 3) || (n == last-1 && cur+span == last-2)
		if !near && !edge {
			continue
		}
		if n > prev+1 {
			out = append(out, 0)
		}
		out = append(out, n)
		prev = n
	}
	return out
}

// pageCount is the number of pages of total records, n a page (at least one page).
func pageCount(total, n int) int { return max(1, (total+n-1)/n) }

// numberedPage is the request of page p (1-based) of n records, knowing (from the link) about total
// records: the connection arguments and where the page's rows start and end among the rows returned.
func numberedPage(p, n, total int) (vars map[string]any, skip int, fromEnd bool) {
	if total > 0 {
		p = min(p, pageCount(total, n)) // a page past the end of the list the link knew is its last page
	}
	offset := (p - 1) * n
	if total > 0 && offset >= total/2 && offset < total {
		return map[string]any{"last": total - offset}, 0, true
	}
	return map[string]any{"first": offset + n}, offset, false
}
