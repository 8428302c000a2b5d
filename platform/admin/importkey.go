package admin

import (
	"context"
	"fmt"
	"strings"

	"github.com/crmgen/crmgen/metamodel"
)

// Upsert by a natural key: an import may name a unique field or an autoNumber code whose column finds,
// among the records the user may read, the record a row updates; a row whose key matches nothing creates
// a record, as every row does without a key (an autoNumber code, which only the API assigns, must match).
// The lookup goes through the API like every other read, so a record the user may not read is not found,
// and the update through the API's update mutation, so row rules, field rules, final-state locks and
// audit apply to it as to the edit form's.

// importKey is a member an import may match rows by, as the import page offers it.
type importKey struct {
	Name, Label string
	Numbered    bool // an autoNumber code: a row without one creates, one that matches nothing is refused
}

// importKeys lists the natural keys of e the user may match by: single unique fields and autoNumber
// codes holding text, which the user may sort by (listed, and shown on every row they read, since a
// match tells the value), on an entity they may update.
func (s *server) importKeys(ctx context.Context, e *metamodel.Entity, si *schemaInfo, lang string) []importKey {
	a := access(ctx, e.Name)
	if si == nil || !a.MayUpdate() || !si.has("Mutation", "update"+e.Name) {
		return nil
	}
	var out []importKey
	for _, f := range e.Fields {
		if !f.Unique && f.AutoNumber == "" || f.Secret || !keyType(f.Type) || !a.Sortable(f.Name) ||
			!si.has(e.Name+"WhereInput", f.GraphQLName()+"In") {
			continue
		}
		out = append(out, importKey{Name: f.Name, Label: s.memberLabel(member{Name: f.Name, Field: f}, lang), Numbered: f.AutoNumber != ""})
	}
	return out
}

// keyType reports whether a field of type t can be a natural key: its cell is the value as the API
// answers it, so matching is exact.
func keyType(t metamodel.FieldType) bool {
	switch t {
	case metamodel.TypeString, metamodel.TypeEmail, metamodel.TypePhone, metamodel.TypeURL:
		return true
	}
	return false
}

// keyLookupBatch is how many key values one lookup query asks for.
const keyLookupBatch = 500

// keyIDs finds, among the records the user may read, the id of each distinct key value of cells. A value
// no readable record holds is absent from the map.
func (s *server) keyIDs(ctx context.Context, e *metamodel.Entity, f *metamodel.Field, cells []string) (map[string]string, error) {
	seen := map[string]bool{}
	var values []string
	for _, c := range cells {
		if c = strings.TrimSpace(c); c != "" && !seen[c] {
			seen[c] = true
			values = append(values, c)
		}
	}
	g := f.GraphQLName()
	out := map[string]string{}
	for start := 0; start < len(values); start += keyLookupBatch {
		chunk := values[start:min(start+keyLookupBatch, len(values))]
		resp, err := s.gql(ctx, fmt.Sprintf("query($where: %sWhereInput) { l: %s(first: %d, where: $where) { edges { node { id %s } } } }",
			e.Name, e.QueryField(), len(chunk), g), map[string]any{"where": map[string]any{g + "In": chunk}})
		if err != nil {
			return nil, err
		}
		for _, nd := range nodes(resp.Data["l"]) {
			out[str(nd[g])] = str(nd["id"])
		}
	}
	return out, nil
}

// The natural key's strings, kept with it and added to the catalogue.
func init() {
	for lang, kv := range map[string]map[string]string{
		"zh": {
			"import.key":           "已有记录",
			"import.keyNone":       "全部新建为新记录",
			"import.keyUnique":     "按“%s”匹配：已有的记录更新，没有的新建",
			"import.keyNumbered":   "按“%s”匹配：有此列值的行更新已有记录，空白的行新建",
			"import.keyHelp":       "更新已有记录时，只修改文件中有值的单元格，空白单元格保持原值。",
			"import.badKey":        "不能按此列匹配已有记录",
			"import.noKeyColumn":   "缺少用于匹配已有记录的列",
			"import.keyTwice":      "与第 %d 行匹配同一条记录",
			"import.noKeyRecord":   "找不到“%s”（记录不存在或无权查看）",
			"import.notUpdatable":  "此项在记录创建后不能修改",
			"import.doneUpsert":    "已导入：新建 %d 条，更新 %d 条",
			"import.partialUpsert": "已导入：新建 %d 条，更新 %d 条；以下 %d 行有问题，未导入：",
		},
		"en": {
			"import.key":           "Existing records",
			"import.keyNone":       "Create every row as a new record",
			"import.keyUnique":     "Match by “%s”: update the records that exist, create the others",
			"import.keyNumbered":   "Match by “%s”: rows with a value update that record, rows left blank create new ones",
			"import.keyHelp":       "An update changes only the cells the file fills in; blank cells keep the record's value.",
			"import.badKey":        "Existing records cannot be matched by this column",
			"import.noKeyColumn":   "The column that matches existing records is missing",
			"import.keyTwice":      "Matches the same record as row %d",
			"import.noKeyRecord":   "“%s” not found, or not yours to see",
			"import.notUpdatable":  "This field cannot be changed once the record exists",
			"import.doneUpsert":    "Imported: %d created, %d updated",
			"import.partialUpsert": "Imported: %d created, %d updated; these %d rows have problems and were not imported:",
		},
	} {
		for k, v := range kv {
			catalogue[lang][k] = v
		}
	}
}
