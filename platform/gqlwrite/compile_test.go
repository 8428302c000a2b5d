package gqlwrite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	entsql "entgo.io/ent/dialect/sql"
	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/crmgen/crmgen/internal/pgtest"
)

func TestMain(m *testing.M) {
	defer pgtest.Stop()
	m.Run()
}

// An object of more fields than one concat() takes (Postgres: 100 arguments) is written whole, its keys in
// order: the compiler nests concat()s. Run on Postgres, with literal, quoted and plain values.
func TestObjectOfManyFields(t *testing.T) {
	db, err := sql.Open("pgx", pgtest.DSN(t))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, n := range []int{1, 44, 45, 46, 90, 200} {
		var slots []slot
		for i := range n {
			key := fmt.Sprintf("f%d", i)
			switch i % 3 {
			case 0:
				slots = append(slots, literalSlot(key, "null"))
			case 1:
				s := textSlot(entsql.ExprFunc(func(b *entsql.Builder) { b.Arg(fmt.Sprint(i)).WriteString("::int::text") }))
				s.key, s.quoted = `"`+key+`":`, true
				slots = append(slots, s)
			default:
				v := fmt.Sprintf(`"%d"`, i)
				s := textSlot(entsql.ExprFunc(func(b *entsql.Builder) {
					b.WriteString("to_json(").Arg(v).WriteString("::text)::text")
				}))
				s.key = `"` + key + `":`
				slots = append(slots, s)
			}
		}
		s := entsql.Dialect("postgres").Select().SelectExpr(textObject(slots))
		query, args := s.Query()
		var text string
		if err := db.QueryRowContext(context.Background(), query, args...).Scan(&text); err != nil {
			t.Fatalf("%d fields: %v\n%s", n, err, query)
		}
		var obj map[string]any
		if err := json.Unmarshal([]byte(text), &obj); err != nil || len(obj) != n {
			t.Fatalf("%d fields: %d keys, %v: %s", n, len(obj), err, text)
		}
		last := -1
		for i := range n {
			at := strings.Index(text, fmt.Sprintf(`"f%d":`, i))
			if at < last {
				t.Fatalf("%d fields: f%d out of order: %s", n, i, text)
			}
			last = at
			want := map[int]any{0: nil, 1: fmt.Sprint(i), 2: fmt.Sprintf(`"%d"`, i)}[i%3]
			if obj[fmt.Sprintf("f%d", i)] != want {
				t.Fatalf("%d fields: f%d is %v, want %v", n, i, obj[fmt.Sprintf("f%d", i)], want)
			}
		}
	}
}
