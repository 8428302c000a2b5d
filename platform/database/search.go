package database

import (
	"strings"
	"unicode/utf8"

	"entgo.io/ent/dialect"
	"entgo.io/ent/dialect/sql"
)

// Text search on Postgres. A search box matches a substring in any language: `name ILIKE '%王伟%'`. No
// B-tree serves that, and pg_trgm's trigram index serves no search of fewer than three characters, which
// is most of them in Chinese (a given name is one or two). So each searched column (metamodel's
// TextSearchFields) has a GIN index on the distinct two-character substrings of its lower-cased text,
// `crm_bigrams(col)`, and a search of two characters or more asks for rows holding all of the search's
// bigrams before it checks the substring itself:
//
//	col ILIKE $1 AND crm_bigrams(col) @> crm_bigrams($2)
//
// The second condition is implied by the first (ILIKE compares the lower-cased texts, and a substring's
// bigrams are bigrams of the text), so the answer is exactly the ILIKE's; it only lets Postgres find the
// candidates in the index. A one-character search keeps the ILIKE alone. SQLite has no such index; it
// reads the table as before.

// BigramsFunction is the SQL function that indexes and searches text on Postgres. Its definition must
// not change once indexes use it (they would hold the old bigrams): a different one takes a new name.
const BigramsFunction = "crm_bigrams"

// SearchDDL is the statement that creates BigramsFunction on a Postgres database, or "" for d. The
// platform runs it at start, before migrations, whose indexes call it. It is created only when missing,
// so a running app's indexes never see it replaced. The body names pg_catalog's functions so that it
// means the same under any search_path, as an index expression must.
//
// It is PL/pgSQL because every INSERT and UPDATE of a searched field calls it: a loop over the text costs
// about 10 µs a row, where an SQL function's `SELECT array_agg(…)` was planned again for every statement
// (50 µs, which halved the write throughput of one-row INSERTs). The array may hold a bigram twice; GIN
// keeps each key once.
func SearchDDL(d string) string {
	if d != dialect.Postgres {
		return ""
	}
	return `DO $crm$ BEGIN
IF to_regprocedure('` + BigramsFunction + `(text)') IS NULL THEN
CREATE FUNCTION ` + BigramsFunction + `(t text) RETURNS text[] LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $f$
DECLARE
	l text := pg_catalog.lower(t);
	g text[] := '{}';
BEGIN
	FOR i IN 1 .. pg_catalog.length(l) - 1 LOOP
		g := g || pg_catalog.substr(l, i, 2);
	END LOOP;
	RETURN g;
END
$f$;
END IF;
END $crm$`
}

// BigramIndexExpr is the expression of column's bigram index, as migrations create it (the column
// quoted: it may be a reserved word).
func BigramIndexExpr(column string) string { return BigramsFunction + `("` + column + `")` }

// Searched is the ent schema annotation of a field in its entity's TextSearchFields: its generated
// ContainsFold predicate is ContainsFold below, which its bigram index serves on Postgres.
type Searched struct {
	// Bigrams is always true: ent hands annotations to its templates as maps, and an empty map would read
	// as false there.
	Bigrams bool
}

// Name implements ent's schema.Annotation.
func (Searched) Name() string { return "CrmSearch" }

// likeEscaper escapes LIKE's wildcards and its escape character in a search text.
var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)

// ContainsFold is the predicate "column holds text, ignoring case", ent's FieldContainsFold, with the
// bigram condition its index serves on Postgres when text has two characters or more.
//
// On SQLite it is `col LIKE '%text%'`, without ent's lower() on both sides: SQLite's LIKE folds the
// same letters lower() does (ASCII; the driver has no Unicode extension), and lower() over every row
// was 60% of a search's scan. ent's form also lower-cased the search in Go, Unicode and all, so "ÉMILE"
// found "émile" and not "Émile"; now both sides fold alike.
func ContainsFold(column, text string) func(*sql.Selector) {
	return func(s *sql.Selector) {
		if s.Dialect() == dialect.SQLite {
			s.Where(sql.P(func(b *sql.Builder) {
				b.Ident(s.C(column)).WriteString(" LIKE ").Arg("%" + likeEscaper.Replace(text) + "%").WriteString(` ESCAPE '\'`)
			}))
			return
		}
		if s.Dialect() != dialect.Postgres || utf8.RuneCountInString(text) < 2 {
			s.Where(sql.ContainsFold(s.C(column), text))
			return
		}
		col := s.C(column)
		// The ILIKE first: where Postgres reads rows rather than the index (a page of the newest rows,
		// filtered), it evaluates the conditions in this order, and the ILIKE is the cheaper one.
		s.Where(sql.And(
			sql.ContainsFold(col, text),
			sql.P(func(b *sql.Builder) {
				b.WriteString(BigramsFunction + "(").Ident(col).WriteString(") @> " + BigramsFunction + "(").Arg(text).WriteString(")")
			}),
		))
	}
}
