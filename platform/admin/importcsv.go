package admin

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/crmgen/crmgen/metamodel"
)

// Reading an import file: the CSV's rows, its headers matched to the entity's members, and each cell
// turned into the value of a create input. Nothing here writes: every row then goes through the API's
// create mutation (import.go), as a form's values do.

// importColumn is a column of the file that sets a member.
type importColumn struct {
	index  int
	header string
	m      member
	key    string // the create input's field
}

// importProblem is one reason the file is not imported: row 0 is about the file as a whole, otherwise the
// row's number in the file (the header being row 1, as a spreadsheet numbers it).
type importProblem struct {
	Row            int
	Field, Message string
}

// readCSV reads a UTF-8 CSV (a leading byte-order mark, which spreadsheet programs write, is dropped):
// the header row and the data rows, blank lines skipped. The problem key says why it could not be read.
func readCSV(b []byte) (header []string, rows [][]string, line int, problem string) {
	b = bytes.TrimPrefix(b, []byte("\uFEFF"))
	if !utf8.Valid(b) {
		return nil, nil, 0, "import.notUTF8"
	}
	cr := csv.NewReader(bytes.NewReader(b))
	cr.FieldsPerRecord = -1 // short rows are read as empty cells, long ones are refused below
	all, err := cr.ReadAll()
	if err != nil {
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			return nil, nil, pe.StartLine, "import.malformed"
		}
		return nil, nil, 0, "import.malformed"
	}
	if len(all) == 0 {
		return nil, nil, 0, "import.empty"
	}
	return all[0], all[1:], 0, ""
}

// headerKey is how a header and a name or label are compared: trimmed, case-insensitive.
func headerKey(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// importNames lists the members a header may name: the entity's fields (not system or secret ones) and its
// to-one relations, keyed by their name and every label.
func (s *server) importNames(e *metamodel.Entity) map[string]member {
	names := map[string]member{}
	add := func(m member, label metamodel.Text) {
		for _, l := range label {
			if k := headerKey(l); k != "" {
				if _, taken := names[k]; !taken {
					names[k] = m
				}
			}
		}
		names[headerKey(m.Name)] = m
	}
	for _, f := range e.Fields {
		if f.Secret || f.Type.Attachment() { // files are uploaded through forms, not named in a CSV
			continue
		}
		add(member{Name: f.Name, Field: f}, f.Label)
	}
	for _, r := range e.Relations {
		if r.Many() {
			continue
		}
		label := r.Label
		if len(label) == 0 && r.Derived {
			label = r.Target.Label
		}
		add(member{Name: r.Name, Rel: r}, label)
	}
	return names
}

// matchColumns matches the header row to members. A header that names nothing, or a field the API
// derives (computed, numbered, system), is listed back and its column ignored; one naming a member the
// user may not write, or a many-to-many relation, is a problem that refuses the file, as is a member
// named twice.
func (s *server) matchColumns(ctx context.Context, e *metamodel.Entity, si *schemaInfo, header []string, lang string) (
	cols []importColumn, unknown []string, problems []importProblem) {
	a := access(ctx, e.Name)
	names := s.importNames(e)
	seen := map[string]bool{}
	for i, h := range header {
		if strings.TrimSpace(h) == "" {
			continue
		}
		m, ok := names[headerKey(h)]
		if !ok {
			unknown = append(unknown, strings.TrimSpace(h))
			continue
		}
		label := s.memberLabel(m, lang)
		if !a.Writable(m.Name) {
			problems = append(problems, importProblem{Field: label, Message: translate(lang, "import.notWritable")})
			continue
		}
		key := inputKey(si, e, m, true)
		if key == "" && m.Field != nil {
			// Computed, numbered and system fields (an export's 年龄, 患者编号, 创建时间) are derived by the
			// API: their column is ignored, so an exported file can be imported again.
			unknown = append(unknown, strings.TrimSpace(h))
			continue
		}
		if key == "" || (m.Rel != nil && m.Rel.Kind != metamodel.BelongsTo) {
			// A many-to-many column would be dropped with its links: refused rather than ignored.
			problems = append(problems, importProblem{Field: label, Message: translate(lang, "import.notImportable")})
			continue
		}
		if seen[m.Name] {
			problems = append(problems, importProblem{Field: label, Message: translate(lang, "import.twice")})
			continue
		}
		seen[m.Name] = true
		cols = append(cols, importColumn{index: i, header: h, m: m, key: key})
	}
	// A required member without a column would fail on every row: say it once, of the file.
	for _, m := range allMembers(e) {
		if !seen[m.Name] && requiredOnImport(e, m) && inputKey(si, e, m, true) != "" && a.Shows(m.Name) {
			problems = append(problems, importProblem{Field: s.memberLabel(m, lang), Message: translate(lang, "import.missingColumn")})
		}
	}
	return cols, unknown, problems
}

// requiredOnImport reports whether a row must give member m: a required field without a default, or a
// required to-one relation other than the owner (which the API fills with the user), as the create form
// asks for them.
func requiredOnImport(e *metamodel.Entity, m member) bool {
	if m.Field != nil {
		f := m.Field
		return f.Required && f.Default == nil && f.Type != metamodel.TypeBool && f.Computed.IsZero() && f.AutoNumber == ""
	}
	return m.Rel.Kind == metamodel.BelongsTo && m.Rel.Required && m.Rel.Name != e.OwnerField
}

// cellValue turns one cell into the input value of field f: as a form's input is read, and besides
// enum values by their key or any of their labels, and yes/no in either language.
func (s *server) cellValue(f *metamodel.Field, raw string, z zones) (any, string) {
	raw = strings.TrimSpace(raw)
	switch f.Type {
	case metamodel.TypeEnum:
		if raw == "" {
			return nil, ""
		}
		for _, c := range s.choices(f, "") {
			if headerKey(c.Key) == headerKey(raw) {
				return c.Key, ""
			}
		}
		if f.EnumRef != nil {
			for _, v := range f.EnumRef.Values {
				for _, l := range v.Label {
					if headerKey(l) == headerKey(raw) {
						return v.Key, ""
					}
				}
			}
		}
		return nil, "enum"
	case metamodel.TypeBool:
		switch headerKey(raw) {
		case "", "false", "no", "0", "否", "n":
			return false, ""
		case "true", "yes", "1", "是", "y":
			return true, ""
		}
		return nil, "type"
	case metamodel.TypeDateTime:
		// A spreadsheet writes "2026-12-05 09:30"; the form's reader wants the T of an input's value.
		if len(raw) > 10 && raw[10] == ' ' {
			raw = raw[:10] + "T" + raw[11:]
		}
	}
	return inputValue(f, raw, z)
}

// relationIDs finds the records a belongsTo column names, by the target's display field or by id, among
// the records the user may read (through the API, so a record they may not read is not found, exactly
// as one that does not exist). It maps each distinct cell to an id, or to "" when no single record
// matches.
func (s *server) relationIDs(ctx context.Context, si *schemaInfo, r *metamodel.Relation, cells []string) (map[string]string, error) {
	t := r.Target
	want := map[string]bool{}
	var values, ids []string
	for _, c := range cells {
		c = strings.TrimSpace(c)
		if c == "" || want[c] {
			continue
		}
		want[c] = true
		values = append(values, c)
		if isDigits(c) {
			ids = append(ids, c)
		}
	}
	out := map[string]string{}
	if len(values) == 0 {
		return out, nil
	}
	display := ""
	if f := t.Field(t.Display); f != nil && f.Type != metamodel.TypeEnum && si.has(t.Name+"WhereInput", f.GraphQLName()+"In") {
		display = f.GraphQLName()
	}
	if t.Name == "User" && si.has("UserWhereInput", "displayNameIn") {
		display = "displayName"
	}
	var or []map[string]any
	if display != "" {
		or = append(or, map[string]any{display + "In": values})
	}
	if len(ids) > 0 {
		or = append(or, map[string]any{"idIn": ids})
	}
	if len(or) == 0 {
		return out, nil
	}
	sel := "id"
	if display != "" {
		sel += " " + display
	}
	// Twice the values asked for, plus one: enough to see every match and to tell a name two records
	// share.
	resp, err := s.gql(ctx, fmt.Sprintf("query($where: %sWhereInput) { l: %s(first: %d, where: $where) { edges { node { %s } } } }",
		t.Name, t.QueryField(), 2*len(values)+1, sel), map[string]any{"where": map[string]any{"or": or}})
	if err != nil {
		return nil, err
	}
	byName := map[string][]string{}
	byID := map[string]bool{}
	for _, nd := range nodes(resp.Data["l"]) {
		id := str(nd["id"])
		byID[id] = true
		if display != "" {
			byName[str(nd[display])] = append(byName[str(nd[display])], id)
		}
	}
	for _, v := range values {
		switch {
		case len(byName[v]) == 1:
			out[v] = byName[v][0]
		case len(byName[v]) == 0 && byID[v]:
			out[v] = v
		case len(byName[v]) > 1:
			out[v] = "?" // more than one record has this name
		default:
			out[v] = ""
		}
	}
	return out, nil
}

func isDigits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return s != ""
}

// rowInput is the create input of a row without problems, and the row's number in the file.
type rowInput struct {
	Row int
	In  map[string]any
}

// rowInputs builds the create input of each row without problems, and lists the rows' problems the API
// need not be asked about: values that do not parse, required values left empty, related records not
// found.
func (s *server) rowInputs(ctx context.Context, e *metamodel.Entity, si *schemaInfo, cols []importColumn, rows [][]string,
	header []string, lang string) ([]rowInput, []importProblem, error) {
	rels := map[string]map[string]string{}
	for _, c := range cols {
		if c.m.Rel == nil {
			continue
		}
		var cells []string
		for _, row := range rows {
			if c.index < len(row) {
				cells = append(cells, row[c.index])
			}
		}
		ids, err := s.relationIDs(ctx, si, c.m.Rel, cells)
		if err != nil {
			return nil, nil, err
		}
		rels[c.m.Name] = ids
	}
	var inputs []rowInput
	var problems []importProblem
	for i, row := range rows {
		n := i + 2 // the header is row 1
		had := len(problems)
		if len(row) > len(header) {
			problems = append(problems, importProblem{Row: n, Message: translate(lang, "import.extraCells")})
			continue
		}
		in := map[string]any{}
		for _, c := range cols {
			cell := ""
			if c.index < len(row) {
				cell = strings.TrimSpace(row[c.index])
			}
			label := s.memberLabel(c.m, lang)
			if c.m.Rel != nil {
				switch id := rels[c.m.Name][cell]; {
				case cell == "":
					if requiredOnImport(e, c.m) {
						problems = append(problems, importProblem{Row: n, Field: label, Message: ruleText(lang, "required")})
					}
				case id == "":
					problems = append(problems, importProblem{Row: n, Field: label, Message: fmt.Sprintf(translate(lang, "import.noRecord"), cell)})
				case id == "?":
					problems = append(problems, importProblem{Row: n, Field: label, Message: fmt.Sprintf(translate(lang, "import.ambiguous"), cell)})
				default:
					in[c.key] = id
				}
				continue
			}
			v, rule := s.cellValue(c.m.Field, cell, s.zones(ctx))
			if rule == "" && v == nil && requiredOnImport(e, c.m) {
				rule = "required"
			}
			if rule != "" {
				problems = append(problems, importProblem{Row: n, Field: label, Message: ruleText(lang, rule)})
				continue
			}
			if v != nil {
				in[c.key] = v
			}
		}
		if len(problems) == had {
			inputs = append(inputs, rowInput{Row: n, In: in})
		}
	}
	return inputs, problems, nil
}
