#!/usr/bin/env bash
# bench/reports.sh times reports on PostgreSQL against the hand-written SQL that answers the same question,
# at two sizes (platform/report's BenchmarkReports: 10k accounts / 100k deals and 100k accounts / 1M
# deals), and Apriori at 10k and 100k baskets (BenchmarkAssociationRules). It starts a throwaway Postgres
# (bench/lib/pg.sh) and replaces its own section of BENCHMARKS.md (between the reports markers).
#
#   bash bench/reports.sh
#   BENCH_OUT=/tmp/b.md bash bench/reports.sh     # without touching BENCHMARKS.md
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$PWD
source bench/lib/pg.sh
TMP=$(mktemp -d)
chmod 755 "$TMP" # initdb runs as the postgres user when this runs as root
trap 'pg_stop || true; rm -rf "$TMP"' EXIT
pg_start "$TMP/pg"
export CRMGEN_TEST_POSTGRES="postgres://postgres@127.0.0.1:$PGPORT/postgres?sslmode=disable"

out=$(go test ./platform/report/ -run '^$' -bench 'BenchmarkReports|BenchmarkAssociationRules' -benchtime 3x -count 1 -timeout 60m)
echo "$out"

# One table row per benchmark: what, size, crmgen ms, baseline ms, ratio.
rows=$(echo "$out" | awk '
	/^Benchmark/ {
		name = $1; sub(/-[0-9]+$/, "", name); n = split(name, p, "/")
		ms = $3 / 1e6
		if (p[1] == "BenchmarkAssociationRules") { printf "| association rules (Apriori, Go) | %s | %.0f | — | — |\n", p[2], ms; next }
		key = p[2] "|" p[3]
		if (p[4] == "crmgen") { app[key] = ms; order[++k] = key } else { base[key] = ms }
	}
	END {
		for (i = 1; i <= k; i++) {
			key = order[i]; split(key, q, "|")
			printf "| %s | %s | %.0f | %.0f | %.1f× |\n", q[1], q[2], app[key], base[key], app[key] / base[key]
		}
	}')

section=$(
	echo "<!-- reports: written by bench/reports.sh -->"
	echo "## Reports"
	echo
	echo "Produced by \`bash bench/reports.sh\` on $(date -u +%Y-%m-%d), $(nproc) cores, $(go version | cut -d' ' -f3), PostgreSQL"
	echo "$("$PGBIN/postgres" --version | cut -d' ' -f3): the fixture app's reports (internal/fixture) as the administrator, the"
	echo "cache dropped before each run, against the hand-written SQL that answers the same question (grouped by account"
	echo "with its name; by month with date_trunc; rfm as ntile(5) windows). Mean of 3 runs, ms. Ratio: crmgen over SQL."
	echo
	echo "| report | size | crmgen (ms) | hand-written SQL (ms) | ratio |"
	echo "|---|---|---|---|---|"
	echo "$rows"
	echo "<!-- /reports -->"
)
python3 - "${BENCH_OUT:-$ROOT/BENCHMARKS.md}" "$section" <<'PY'
import re, sys
path, section = sys.argv[1], sys.argv[2]
s = open(path).read()
pat = re.compile(r"<!-- reports:.*?<!-- /reports -->\n?", re.S)
s = pat.sub(lambda m: section + "\n", s) if pat.search(s) else s.rstrip("\n") + "\n\n" + section + "\n"
open(path, "w").write(s)
PY
echo "BENCHMARKS.md updated"
