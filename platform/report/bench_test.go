package report_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/crmgen/crmgen/internal/fixture"
	"github.com/crmgen/crmgen/internal/pgtest"
	"github.com/crmgen/crmgen/platform/report"
)

// Benchmarks of reports on Postgres against the hand-written SQL that answers the same question, at two
// sizes, so the growth shows (bench/reports.sh runs them and writes BENCHMARKS.md). Each run of a report
// drops the engine's cache first: these measure computing a report, not reusing one.

// load adds accounts and deals (a deal every few hours over two years) with generate_series.
func load(b *testing.B, env *fixture.Env, accounts, deals int) {
	b.Helper()
	ctx := context.Background()
	for _, q := range []string{
		fmt.Sprintf(`INSERT INTO accounts (name, tier, created_at, updated_at)
			SELECT 'Account ' || g, (ARRAY['gold','silver','bronze'])[1 + g %% 3], now(), now() FROM generate_series(1, %d) g`, accounts),
		fmt.Sprintf(`INSERT INTO deals (title, amount, margin, stage, created_at, updated_at, account_id)
			SELECT 'Deal ' || g, (g::bigint * 7919) %% 5000, 0.2, CASE WHEN g %% 4 = 0 THEN 'won' ELSE 'open' END,
				now() - ((g %% 17520) * interval '1 hour'), now(), (SELECT min(id) FROM accounts) + (g * 31) %% %d
			FROM generate_series(1, %d) g`, accounts, deals),
		`ANALYZE`,
	} {
		if _, err := env.DB.SQL.ExecContext(ctx, q); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkReports(b *testing.B) {
	for _, size := range []struct{ accounts, deals int }{{10_000, 100_000}, {100_000, 1_000_000}} {
		env := fixture.Open(b, pgtest.DSN(b))
		load(b, env, size.accounts, size.deals)
		ctx := env.As(b, "admin")
		name := fmt.Sprintf("deals=%d", size.deals)
		crmgen := func(report string) func(b *testing.B) {
			return func(b *testing.B) {
				for b.Loop() {
					env.Reports.Changed("Deal")
					if _, err := env.Reports.Run(ctx, report, nil, "en"); err != nil {
						b.Fatal(err)
					}
				}
			}
		}
		sql := func(query string) func(b *testing.B) {
			return func(b *testing.B) {
				for b.Loop() {
					rows, err := env.DB.SQL.QueryContext(context.Background(), query)
					if err != nil {
						b.Fatal(err)
					}
					n := 0
					for rows.Next() {
						n++
					}
					rows.Close()
				}
			}
		}
		b.Run("groupBy-account/"+name+"/crmgen", crmgen("dealsByAccount"))
		b.Run("groupBy-account/"+name+"/sql", sql(`SELECT d.account_id, a.name, count(*), sum(d.amount), avg(d.amount), max(d.amount)
			FROM deals d JOIN accounts a ON a.id = d.account_id GROUP BY d.account_id, a.name ORDER BY d.account_id`))
		b.Run("groupBy-month/"+name+"/crmgen", crmgen("bigDeals"))
		b.Run("groupBy-month/"+name+"/sql", sql(`SELECT date_trunc('month', created_at AT TIME ZONE 'UTC'), count(*), sum(amount)
			FROM deals GROUP BY 1 ORDER BY 1`))
		b.Run("rfm/"+fmt.Sprintf("accounts=%d,%s", size.accounts, name)+"/crmgen", crmgen("accountValue"))
		b.Run("rfm/"+fmt.Sprintf("accounts=%d,%s", size.accounts, name)+"/sql", sql(`SELECT a.id, a.name,
			ntile(5) OVER (ORDER BY max(d.created_at)), ntile(5) OVER (ORDER BY count(*)), ntile(5) OVER (ORDER BY sum(d.amount))
			FROM accounts a JOIN deals d ON d.account_id = a.id GROUP BY a.id, a.name`))
	}
}

// BenchmarkAssociationRules times Apriori over synthetic baskets of 2–6 items from 200 products, at two
// sizes. (It has no SQL peer: the rules are computed in Go from one ordered scan.)
func BenchmarkAssociationRules(b *testing.B) {
	for _, n := range []int{10_000, 100_000} {
		r := rand.New(rand.NewPCG(1, 2))
		baskets := make([][]int, n)
		for i := range baskets {
			k := 2 + r.IntN(5)
			seen := map[int]bool{}
			for len(seen) < k {
				seen[1+int(r.ExpFloat64()*20)%200] = true
			}
			for it := range seen {
				baskets[i] = append(baskets[i], it)
			}
			slices.Sort(baskets[i])
		}
		b.Run(fmt.Sprintf("baskets=%d", n), func(b *testing.B) {
			for b.Loop() {
				report.Apriori(baskets, 0.01, 0.3)
			}
		})
	}
}
