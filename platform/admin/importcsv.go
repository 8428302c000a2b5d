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
	ukey   string // the update input's field, "" if an update may not set it
}

// importPlan is how a file's rows become inputs: the columns that set members and, when the user matches
// rows to existing records by a natural key (importkey.go), the key's column and the required members
// without a column, a problem only of the rows that create.
type importPlan struct {
	cols    []importColumn
	key     *importColumn
	missing []member
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
		if m := (member{Name: f.Name, Field: f}); importable(m) {
			add(m, f.Label)
		}
	}
	for _, r := range e.Relations {
		if !importable(member{Name: r.Name, Rel: r}) {
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

// importable reports whether a file's column may name member m: not a secret, not a file (files are
// uploaded through forms, not named in a CSV), not a to-many relation.
func importable(m member) bool {
	if m.Field != nil {
		return !m.Field.Secret && !m.Field.Type.Attachment()
	}
	return !m.Rel.Many()
}

// matchColumns matches the header row to members. A header that names nothing, or a field the API
// derives (computed, numbered, system), is listed back and its column ignored; one naming a member the
// user may not write, or a many-to-many relation, is a problem that refuses the file, as is a member
// named twice.
//
// With a natural key (the name of one of importKeys), the key's column is the plan's key even when the API
// numbers it, and a required member without a column refuses only the rows that create.
func (s *server) matchColumns(ctx context.Context, e *metamodel.Entity, si *schemaInfo, header []string, key, lang string) (
	plan *importPlan, unknown []string, problems []importProblem) {
	a := access(ctx, e.Name)
	names := s.importNames(e)
	seen := map[string]bool{}
	plan = &importPlan{}
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
		if key != "" && m.Name == key && m.Field != nil {
			if plan.key != nil {
				problems = append(problems, importProblem{Field: label, Message: translate(lang, "import.twice")})
				continue
			}
			plan.key = &importColumn{index: i, header: h, m: m}
			if !a.Writable(m.Name) || inputKey(si, e, m, true) == "" {
				seen[m.Name] = true
				continue // a code the API numbers: it finds records, and sets nothing
			}
		}
		if !a.Writable(m.Name) {
			problems = append(problems, importProblem{Field: label, Message: translate(lang, "import.notWritable")})
			continue
		}
		ck := inputKey(si, e, m, true)
		if ck == "" && m.Field != nil {
			// Computed, numbered and system fields (an export's 年龄, 患者编号, 创建时间) are derived by the
			// API: their column is ignored, so an exported file can be imported again.
			unknown = append(unknown, strings.TrimSpace(h))
			continue
		}
		if ck == "" || (m.Rel != nil && m.Rel.Kind != metamodel.BelongsTo) {
			// A many-to-many column would be dropped with its links: refused rather than ignored.
			problems = append(problems, importProblem{Field: label, Message: translate(lang, "import.notImportable")})
			continue
		}
		if seen[m.Name] {
			problems = append(problems, importProblem{Field: label, Message: translate(lang, "import.twice")})
			continue
		}
		seen[m.Name] = true
		plan.cols = append(plan.cols, importColumn{index: i, header: h, m: m, key: ck, ukey: inputKey(si, e, m, false)})
	}
	if key != "" && plan.key == nil {
		if f := e.Field(key); f != nil {
			problems = append(problems, importProblem{Field: s.memberLabel(member{Name: f.Name, Field: f}, lang), Message: translate(lang, "import.noKeyColumn")})
		}
	}
	// A required member without a column would fail on every row that creates: without a key every row,
	// so say it once, of the file.
	for _, m := range allMembers(e) {
		if !seen[m.Name] && requiredOnImport(e, m) && inputKey(si, e, m, true) != "" && a.Shows(m.Name) {
			if key != "" {
				plan.missing = append(plan.missing, m)
				continue
			}
			problems = append(problems, importProblem{Field: s.memberLabel(m, lang), Message: translate(lang, "import.missingColumn")})
		}
	}
	return plan, unknown, problems
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

// rowInput is the input of a row without problems, and the row's number in the file: a create's, or with
// ID the update of that record.
type rowInput struct {
	Row int
	ID  string
	In  map[string]any
}

// rowInputs builds the input of each row without problems, and lists the rows' problems the API need not
// be asked about: values that do not parse, required values left empty, related records not found, and
// with a natural key, keys that match nothing or a record an earlier row matched. A row whose key matches
// a record updates it with the cells the file fills in; the others create.
func (s *server) rowInputs(ctx context.Context, e *metamodel.Entity, si *schemaInfo, plan *importPlan, rows [][]string,
	header []string, lang string) ([]rowInput, []importProblem, error) {
	column := func(c importColumn) []string {
		var cells []string
		for _, row := range rows {
			if c.index < len(row) {
				cells = append(cells, row[c.index])
			}
		}
		return cells
	}
	rels := map[string]map[string]string{}
	for _, c := range plan.cols {
		if c.m.Rel == nil {
			continue
		}
		ids, err := s.relationIDs(ctx, si, c.m.Rel, column(c))
		if err != nil {
			return nil, nil, err
		}
		rels[c.m.Name] = ids
	}
	var keyIDs map[string]string
	if k := plan.key; k != nil {
		var err error
		if keyIDs, err = s.keyIDs(ctx, e, k.m.Field, column(*k)); err != nil {
			return nil, nil, err
		}
	}
	matched := map[string]int{} // key value → the row that first named it
	var inputs []rowInput
	var problems []importProblem
	for i, row := range rows {
		n := i + 2 // the header is row 1
		had := len(problems)
		if len(row) > len(header) {
			problems = append(problems, importProblem{Row: n, Message: translate(lang, "import.extraCells")})
			continue
		}
		id := ""
		if k := plan.key; k != nil && k.index < len(row) {
			if cell := strings.TrimSpace(row[k.index]); cell != "" {
				label := s.memberLabel(k.m, lang)
				switch id = keyIDs[cell]; {
				case matched[cell] > 0:
					problems = append(problems, importProblem{Row: n, Field: label, Message: fmt.Sprintf(translate(lang, "import.keyTwice"), matched[cell])})
					continue
				case id != "" || k.m.Field.AutoNumber == "":
					matched[cell] = n
				default:
					problems = append(problems, importProblem{Row: n, Field: label, Message: fmt.Sprintf(translate(lang, "import.noKeyRecord"), cell)})
					continue
				}
			}
		}
		update := id != ""
		if !update {
			for _, m := range plan.missing {
				problems = append(problems, importProblem{Row: n, Field: s.memberLabel(m, lang), Message: ruleText(lang, "required")})
			}
		}
		in := map[string]any{}
		for _, c := range plan.cols {
			cell := ""
			if c.index < len(row) {
				cell = strings.TrimSpace(row[c.index])
			}
			label := s.memberLabel(c.m, lang)
			key := c.key
			if update {
				// An update changes what the file fills in; the key's own cell is what found the record.
				if cell == "" || (plan.key != nil && c.index == plan.key.index) {
					continue
				}
				if key = c.ukey; key == "" {
					problems = append(problems, importProblem{Row: n, Field: label, Message: translate(lang, "import.notUpdatable")})
					continue
				}
			}
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
					in[key] = id
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
				in[key] = v
			}
		}
		if len(problems) == had {
			inputs = append(inputs, rowInput{Row: n, ID: id, In: in})
		}
	}
	return inputs, problems, nil
}
