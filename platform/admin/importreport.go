package admin

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// The error report of an import: the rows it refused, as a CSV to download, each with one more column,
// the first, that says what is wrong (row, column and rule, in the user's language), so the user can fix them in
// their spreadsheet and import the file again (the extra column is then an unknown header, ignored).
//
// It is stateless: the answer to an import carries the report in a hidden field of a form, and posting
// that form (a same-origin multipart POST, guarded by the session middleware's cross-origin check as
// every form of the admin is, and only for users who may import the entity) answers the same text as a
// download. Nothing is kept on the server between the two requests, and the report can hold nothing the
// user may not read: it is built only from the cells the user uploaded, verbatim (so the fixed file
// imports as the original would), and the messages the import showed them.

// problemReport writes the rows with a problem as a CSV: the problems in a first column (first, so a row
// with more cells than the header still lines up), then the file's header and the row's cells; problems
// of the file as a whole come first, on rows of their own. It is ""
// when no row has a problem, as when a header was refused: then the page's list says it all.
func (s *server) problemReport(header []string, rows [][]string, problems []importProblem, lang string) string {
	if problemRows(problems) == 0 {
		return ""
	}
	var b bytes.Buffer
	cw := csv.NewWriter(&b)
	cw.Write(append([]string{translate(lang, "import.problem")}, header...))
	var file []string
	byRow := map[int][]string{}
	var order []int
	for _, p := range problems {
		text := problemText(p, lang)
		if p.Row == 0 {
			file = append(file, text)
			continue
		}
		if byRow[p.Row] == nil {
			order = append(order, p.Row)
		}
		byRow[p.Row] = append(byRow[p.Row], text)
	}
	if len(file) > 0 {
		cw.Write([]string{strings.Join(file, translate(lang, "; "))})
	}
	for _, n := range order {
		rec := []string{strings.Join(byRow[n], translate(lang, "; "))}
		if i := n - 2; i >= 0 && i < len(rows) { // the header is row 1
			rec = append(rec, rows[i]...)
		}
		cw.Write(rec)
	}
	cw.Flush()
	return b.String()
}

// problemText is a problem as the page lists it: "第 3 行：姓名：此项必填".
func problemText(p importProblem, lang string) string {
	where := translate(lang, "import.fileLevel")
	if p.Row > 0 {
		where = fmt.Sprintf(translate(lang, "import.row"), p.Row)
	}
	if p.Field != "" {
		where += translate(lang, ": ") + p.Field
	}
	return where + translate(lang, ": ") + p.Message
}

// importReport answers a posted report as a CSV download.
func (s *server) importReport(w http.ResponseWriter, r *http.Request) {
	e := s.importEntity(w, r)
	if e == nil {
		return
	}
	lang := language(s.cfg.Model, r)
	r.Body = http.MaxBytesReader(w, r.Body, 2*MaxImportBytes)
	if err := r.ParseMultipartForm(1 << 20); err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			w.Header().Set("Connection", "close")
			s.renderImport(w, r, http.StatusRequestEntityTooLarge, e, &importBody{Error: fmt.Sprintf(translate(lang, "import.tooLarge"), MaxImportBytes>>20)})
			return
		}
		s.renderImport(w, r, http.StatusBadRequest, e, &importBody{Error: translate(lang, "import.noReport")})
		return
	}
	defer r.MultipartForm.RemoveAll()
	// Read back and written again as a CSV, so the answer is a well-formed table whatever was posted.
	header, rows, _, problem := readCSV([]byte(r.FormValue("report")))
	if problem != "" {
		s.renderImport(w, r, http.StatusBadRequest, e, &importBody{Error: translate(lang, "import.noReport")})
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s-import-problems.csv"`, e.QueryField()))
	w.Header().Set("Cache-Control", "no-store")
	w.Write([]byte("\uFEFF")) // a byte-order mark, so spreadsheet programs read the UTF-8 as such
	cw := csv.NewWriter(w)
	cw.Write(header)
	cw.WriteAll(rows)
}
