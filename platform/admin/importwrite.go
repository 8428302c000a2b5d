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

// Writing an import's rows: every row is an aliased create (or, matched by a natural key, update) in one
// GraphQL mutation operation, which the API runs in one transaction, so each row meets the same
// validation, defaults, workflows, audit, automations and row rules as the form's, and a refusal rolls
// back every row of the operation.

// batchProblem is a refusal of the API, with the index in the batch of the row it is about (-1: the
// operation as a whole) and whether it is certainly that row's own (a validation error of its values).
type batchProblem struct {
	importProblem
	index int
	own   bool
}

// tally counts the records an import wrote.
type tally struct{ created, updated int }

func (t *tally) add(ins ...rowInput) {
	for _, in := range ins {
		if in.ID != "" {
			t.updated++
		} else {
			t.created++
		}
	}
}

func (t tally) written() int { return t.created + t.updated }

// createBatch writes one record per input in a single mutation operation (one transaction: all or
// none), and words each refusal by the row it came from.
func (s *server) createBatch(r *http.Request, e *metamodel.Entity, inputs []rowInput, lang string) []batchProblem {
	var q strings.Builder
	vars := map[string]any{}
	q.WriteString("mutation(")
	for i, in := range inputs {
		if i > 0 {
			q.WriteString(", ")
		}
		if in.ID != "" {
			fmt.Fprintf(&q, "$d%d: ID!, $i%d: Update%sInput!", i, i, e.Name)
			vars["d"+strconv.Itoa(i)] = in.ID
		} else {
			fmt.Fprintf(&q, "$i%d: Create%sInput!", i, e.Name)
		}
		vars["i"+strconv.Itoa(i)] = in.In
	}
	q.WriteString(") {")
	for i, in := range inputs {
		if in.ID != "" {
			fmt.Fprintf(&q, " r%d: update%s(id: $d%d, input: $i%d) { id }", i, e.Name, i, i)
		} else {
			fmt.Fprintf(&q, " r%d: create%s(input: $i%d) { id }", i, e.Name, i)
		}
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
			text := fe.text(s.cfg.Model, lang) // an extension's own message, as the form shows it
			if text == "" {
				if text = ruleText(lang, fe.Rule); text == fe.Rule {
					text = translate(lang, "rule.type")
				}
			}
			out = append(out, batchProblem{importProblem{Row: row, Field: label, Message: text}, index, true})
		}
	}
	return out
}

// createAll writes every row or none: the import's default, as one transaction. Where the app can hold a
// transaction across operations it is createHeld's, which lists each refused row's own problem; else one
// operation's, where on Postgres the rows after one the database refused fail with it.
func (s *server) createAll(r *http.Request, e *metamodel.Entity, inputs []rowInput, lang string) (tally, []importProblem) {
	if s.cfg.HoldTx != nil {
		t, problems, msg := s.createHeld(r, e, inputs, lang, nil)
		if msg != "" && len(problems) == 0 {
			problems = []importProblem{{Message: msg}}
		}
		return t, problems
	}
	var out []importProblem
	for _, p := range s.createBatch(r, e, inputs, lang) {
		out = append(out, p.importProblem)
	}
	var t tally
	if len(out) == 0 {
		t.add(inputs...)
	}
	return t, out
}

// createValid writes the rows the API accepts and lists the ones it refuses, with what it wrote.
//
// The rows go as one operation, one transaction, as in createAll. When the API refuses rows only for
// validation errors, which are certainly about each row's own values, that transaction is rolled back
// whole and the batch sent again without them: so in the common case what is written is a set of rows
// the API accepted together, in one or two operations. Any other refusal (a permission, a unique value,
// a database error) may be the echo of an earlier row's: a failed statement aborts the transaction on
// Postgres, and the rows after it fail too through no fault of theirs. Then, and after batchRounds
// rounds, the rows left are written one by one, each in an operation and transaction of its own, so each
// refusal is that row's alone; this costs one operation a row but never more, however the rows fail. A
// refusal of a whole batch that names no row writes nothing and is reported.
func (s *server) createValid(r *http.Request, e *metamodel.Entity, inputs []rowInput, lang string) (tally, []importProblem) {
	var refused []importProblem
	var t tally
batches:
	for round := 0; len(inputs) > 0 && round < batchRounds; round++ {
		got := s.createBatch(r, e, inputs, lang)
		if len(got) == 0 {
			t.add(inputs...)
			return t, refused
		}
		drop := map[int]bool{}
		for _, p := range got {
			switch {
			case p.index < 0:
				return t, append(refused, p.importProblem)
			case !p.own:
				break batches
			}
			drop[p.index] = true
		}
		for _, p := range got {
			refused = append(refused, p.importProblem)
		}
		var next []rowInput
		for i, in := range inputs {
			if !drop[i] {
				next = append(next, in)
			}
		}
		inputs = next
	}
	for _, in := range inputs {
		got := s.createBatch(r, e, []rowInput{in}, lang)
		if len(got) == 0 {
			t.add(in)
		}
		for _, p := range got {
			p.Row = in.Row
			refused = append(refused, p.importProblem)
		}
	}
	return t, refused
}

// createHeld writes rows all or nothing in one transaction held across operations (Config.HoldTx): in
// batches written as the valid-rows mode writes them (createValid), each operation a savepoint of the
// transaction, which commits only if the API refused no row. The rows it accepts stay in the transaction
// meanwhile, so a later row's duplicate of one is found, and each refusal found is the row's own, not the
// echo of an earlier row's failed statement: every refused row of the file is listed, not the first
// batch's. progress, when not nil, is told after each batch the rows it processed and refused, and stops
// the import by returning true. It returns what it wrote (nothing unless it committed), the refusals, and,
// when it wrote nothing, the page's message.
func (s *server) createHeld(r *http.Request, e *metamodel.Entity, inputs []rowInput, lang string, progress func(done, refused int) (stop bool)) (tally, []importProblem, string) {
	ctx := r.Context()
	heldCtx, tx, err := s.cfg.HoldTx(ctx)
	if err != nil {
		s.cfg.Log.ErrorContext(ctx, "import: open transaction", "entity", e.Name, "err", err)
		return tally{}, nil, errorText(lang, "")
	}
	committed := false
	defer func() {
		if !committed {
			if err := tx.Rollback(); err != nil {
				s.cfg.Log.ErrorContext(ctx, "import: roll back", "entity", e.Name, "err", err)
			}
		}
	}()
	held := r.WithContext(heldCtx)
	var problems []importProblem
	batch := min(importBatch, s.opRows())
	for start := 0; start < len(inputs); start += batch {
		chunk := inputs[start:min(start+batch, len(inputs))]
		_, refused := s.createValid(held, e, chunk, lang)
		problems = append(problems, refused...)
		if progress != nil && progress(len(chunk), problemRows(refused)) {
			return tally{}, nil, translate(lang, "import.cancelledAll")
		}
	}
	if len(problems) > 0 {
		return tally{}, problems, translate(lang, "import.refused")
	}
	if err := tx.Commit(); err != nil {
		s.cfg.Log.ErrorContext(ctx, "import: commit", "entity", e.Name, "err", err)
		return tally{}, nil, errorText(lang, "")
	}
	committed = true
	var t tally
	t.add(inputs...)
	return t, nil, ""
}

// batchRounds bounds the batches createValid sends before it writes the rows left one by one: a batch
// that has dropped its invalid rows normally goes through on the second.
const batchRounds = 3

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
