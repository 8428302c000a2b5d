// Command model50 writes a 50-entity crmgen model into the directory given as its only argument.
//
// bench/generate.sh measures generation and build time on it: the size asked about in the issue
// tracker ("a 50-entity generated model"), larger than any example. It is deterministic: every run writes
// the same model. Each entity has eight fields of the common types (string, text, int, decimal, date,
// bool, enum, phone) and belongs to the entity before it (the first to none), so the model also has 49
// relations, 49 foreign keys with their indexes and 49 inverse connections in the GraphQL schema.
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// entities is how many entities the model has.
const entities = 50

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: go run ./bench/model50 DIR")
		os.Exit(2)
	}
	if err := os.MkdirAll(os.Args[1], 0o755); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if err := os.WriteFile(filepath.Join(os.Args[1], "model.yaml"), []byte(model()), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// model returns the model's YAML.
func model() string {
	var b strings.Builder
	b.WriteString(`app:
  name: model50
  title: {zh: 五十实体, en: Fifty entities}
  locales: [zh, en]
  defaultLocale: zh

enums:
  Level:
    label: {zh: 级别, en: Level}
    values:
      - {key: low, label: {zh: 低, en: Low}}
      - {key: mid, label: {zh: 中, en: Mid}}
      - {key: high, label: {zh: 高, en: High}}

entities:
`)
	for i := 1; i <= entities; i++ {
		fmt.Fprintf(&b, `  Thing%02d:
    label: {zh: 事物%d, en: Thing %d}
    fields:
      name: {type: string, label: {zh: 名称, en: Name}, required: true, maxLen: 100, search: true}
      notes: {type: text, label: {zh: 备注, en: Notes}}
      count: {type: int, label: {zh: 数量, en: Count}, min: 0}
      amount: {type: decimal, precision: 12, scale: 2, label: {zh: 金额, en: Amount}}
      due: {type: date, label: {zh: 到期, en: Due}}
      active: {type: bool, label: {zh: 有效, en: Active}, default: true}
      level: {type: enum, enum: Level, label: {zh: 级别, en: Level}, default: low}
      phone: {type: phone, label: {zh: 电话, en: Phone}}
`, i, i, i)
		if i > 1 {
			fmt.Fprintf(&b, `    relations:
      parent: {to: Thing%02d, kind: belongsTo, inverse: children%02d, label: {zh: 上级, en: Parent}}
`, i-1, i)
		}
	}
	b.WriteString(`
data:
  users:
    - {username: admin, password: admin123, displayName: 管理员}
`)
	return b.String()
}
