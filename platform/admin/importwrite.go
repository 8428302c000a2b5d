package admin

import (
	"cmp"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/crmgen/crmgen/metamodel"
)

// Writing an import's rows: every row is an aliased create in one GraphQL mutation operation, which the
// API runs in one transaction, so each row meets the same validation, defaults, workflows, audit,
// automations and row rules as the create form's, and a refusal rolls back every row of the operation.

// batchProblem is a refusal of the API, with the index in the batch of the row it is about (-1: the
// operation as a whole) and whether it is certainly that row's own (a validation error of its values).
type batchProblem struct {
	importProblem
	index int
	own   bool
}

// createBatch creates one record per input in a single mutation operation (one transaction: all or
// none), and words each refusal by the row it came from.
func (s *server) createBatch(r *http.Request, e *metamodel.Entity, inputs []rowInput, lang string) []batchProblem {
	var q strings.Builder
	vars := map[string]any{}
	q.WriteString("mutation(")
	for i := range inputs {
		if i > 0 {
			q.WriteString(", ")
		}
		fmt.Fprintf(&q, "$i%d: Create%sInput!", i, e.Name)
		vars["i"+strconv.Itoa(i)] = inputs[i].In
	}
	q.WriteString(") {")
	for i := range inputs {
		fmt.Fprintf(&q, " r%d: create%s(input: $i%d) { id }", i, e.Name, i)
	}
	q.WriteString(" }")
	_, err := s.gql(r.Context(), q.String(), vars)
	if err == nil {
		return nil
	}
	es, ok := err.(gqlErrors)
	if !ok {
		return []batchProblem{{importProblem: importProblem{Message: s.refusal(r, e, "", err)}, index: -1}}
	}
	var out []batchProblem
	for _, ge := range es {
		index, row := -1, 0
		if len(ge.Path) > 0 {
			if k, _ := ge.Path[0].(string); strings.HasPrefix(k, "r") {
				if i, err := strconv.Atoi(k[1:]); err == nil && i >= 0 && i < len(inputs) {
					index, row = i, inputs[i].Row
				}
			}
		}
		fes := ge.fieldErrors()
		if ge.code() != "VALIDATION" || len(fes) == 0 {
			out = append(out, batchProblem{importProblem{Row: row, Message: s.refusal(r, e, "", gqlErrors{ge})}, index, false})
			continue
		}
		for _, fe := range fes {
			label := fe.Field
			if m, ok := memberOf(e, fe.Field); ok {
				label = s.memberLabel(m, lang)
			}
			text := ruleText(lang, fe.Rule)
			if text == fe.Rule {
				text = translate(lang, "rule.type")
			}
			out = append(out, batchProblem{importProblem{Row: row, Field: label, Message: text}, index, true})
		}
	}
	return out
}

// createAll writes every row or none: the import's default, as one transaction.
func (s *server) createAll(r *http.Request, e *metamodel.Entity, inputs []rowInput, lang string) []importProblem {
	var out []importProblem
	for _, p := range s.createBatch(r, e, inputs, lang) {
		out = append(out, p.importProblem)
	}
	return out
}

// createValid writes the rows the API accepts and lists the ones it refuses, with how many it wrote.
//
// The rows go as one operation, one transaction, as in createAll. When the API refuses some, that
// transaction is rolled back whole and the batch is sent again without them, until it goes through or no
// row is left: so what is written is exactly a set of rows the API accepted together, never part of a
// row, and without a refusal (the common case) it is a single operation. A row is dropped for a
// validation error, which is certainly about its own values. Other refusals (a permission, a unique
// value, a database error) may be the echo of an earlier row's: a failed statement aborts the
// transaction on Postgres, and the rows after it fail too through no fault of theirs. So when a round
// has validation errors only those rows are dropped and the others tried again; when it has none, only
// the first row refused is dropped. Each round drops at least one row, so there are at most as many
// rounds as rows. A refusal of the operation as a whole names no row: then nothing is written, and it is
// reported.
func (s *server) createValid(r *http.Request, e *metamodel.Entity, inputs []rowInput, lang string) (int, []importProblem) {
	var refused []importProblem
	for len(inputs) > 0 {
		got := s.createBatch(r, e, inputs, lang)
		if len(got) == 0 {
			return len(inputs), refused
		}
		drop := map[int]bool{}
		first := -1
		for _, p := range got {
			switch {
			case p.index < 0:
				return 0, append(refused, p.importProblem)
			case p.own:
				drop[p.index] = true
			case first < 0 || p.index < first:
				first = p.index
			}
		}
		if len(drop) == 0 {
			drop[first] = true
		}
		for _, p := range got {
			if drop[p.index] {
				refused = append(refused, p.importProblem)
			}
		}
		var next []rowInput
		for i, in := range inputs {
			if !drop[i] {
				next = append(next, in)
			}
		}
		inputs = next
	}
	return 0, refused
}

// sortProblems orders problems by row, those of the file first, keeping each row's in their order.
func sortProblems(ps []importProblem) []importProblem {
	slices.SortStableFunc(ps, func(a, b importProblem) int { return cmp.Compare(a.Row, b.Row) })
	return ps
}

// problemRows counts the rows with a problem.
func problemRows(ps []importProblem) int {
	rows := map[int]bool{}
	for _, p := range ps {
		if p.Row > 0 {
			rows[p.Row] = true
		}
	}
	return len(rows)
}
