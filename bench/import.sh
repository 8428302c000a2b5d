#!/usr/bin/env bash
# bench/import.sh times the admin's CSV import of hospital patients (the valid-rows mode, a background job
# writing batches of 500 rows) at 10,000 and 100,000 rows on SQLite, and 10,000 on PostgreSQL, against two
# baselines of the same run: the same rows created by the GraphQL create mutation called directly (500
# aliased creates an operation, over HTTP), and inserted by a hand-written SQL INSERT loop in one
# transaction. The Go half is bench/importbench. It replaces its own section of BENCHMARKS.md (between
# the import markers) and leaves the rest alone. Not run by CI (bench/importbench's test and bench/peers'
# TestScripts check its parts build).
#
#   bash bench/import.sh                                  # sqlite:10000 sqlite:100000 postgres:10000
#   bash bench/import.sh sqlite:2000                      # other databases and sizes
#   BENCH_OUT=/tmp/b.md bash bench/import.sh sqlite:500   # without touching BENCHMARKS.md
#   BENCH_NOTE="shared with …" bash bench/import.sh       # a note on the machine, printed with the figures
#   BENCH_APP=/tmp/app/hospital bash bench/import.sh      # an app already generated from this checkout
#
# Each size gets a fresh database with the demo data. The import signs in as a physician (liuyang: import
# on Patient, rows scoped to their own), so each row meets the owner rule, the audit, the number sequence
# and the validation the create form meets. The GraphQL baseline signs in as the same physician into the
# same database afterwards; the SQL baseline inserts into it with the app stopped.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$PWD
WORK=$(mktemp -d /tmp/crmgen-importbench-XXXXXX)
chmod 755 "$WORK" # the postgres user reaches its data directory through it
PID=""
source bench/lib/pg.sh
cleanup() { [ -n "$PID" ] && kill "$PID" 2>/dev/null; pg_stop 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT
export GOFLAGS=-buildvcs=false
TARGETS=("$@")
[ ${#TARGETS[@]} -eq 0 ] && TARGETS=(sqlite:10000 sqlite:100000 postgres:10000)

[ -n "${BENCH_APP:-}" ] || go build -o "$WORK/crmgen" ./cmd/crmgen
go build -o "$WORK/importbench" ./bench/importbench
APP=${BENCH_APP:-}
if [ -z "$APP" ]; then
	"$WORK/crmgen" generate --dev examples/hospital -o "$WORK/app" >/dev/null
	(cd "$WORK/app" && go build -o hospital .)
	APP="$WORK/app/hospital"
fi
IB="$WORK/importbench"

start() { # start <db>: runs the app on a free port, sets PID and URL
	: >"$WORK/out.log"
	"$APP" --db "$1" --addr 127.0.0.1:0 --log-format json ${BENCH_APP_ARGS:-} >"$WORK/out.log" 2>"$WORK/err.log" &
	PID=$!
	for _ in $(seq 1 300); do
		URL=$(grep -o 'http://127.0.0.1:[0-9]*' "$WORK/out.log" | head -1 || true)
		[ -n "$URL" ] && return 0
		sleep 0.2
	done
	echo "app did not start" >&2; cat "$WORK/err.log" >&2; exit 1
}
stop() { kill "$PID"; wait "$PID" 2>/dev/null || true; PID=""; }
rate() { awk -v n="$1" -v s="$2" 'BEGIN { printf "%.0f", n / s }'; }

"$IB" csv -n 600 -o "$WORK/warm.csv"
load_start=$(cut -d' ' -f1 /proc/loadavg)
rows=()
for target in "${TARGETS[@]}"; do
	kind=${target%%:*} n=${target#*:}
	csv="$WORK/patients$n.csv"
	"$IB" csv -n "$n" -o "$csv"
	case $kind in
	sqlite) db="$WORK/h$n.db" ;;
	postgres)
		[ -n "${PGPID:-}" ] || pg_start "$WORK/pg"
		psql_ -d postgres -c "CREATE DATABASE h$n" >/dev/null
		db="postgres://postgres@127.0.0.1:$PGPORT/h$n?sslmode=disable"
		;;
	*) echo "unknown database $kind (sqlite or postgres)" >&2; exit 2 ;;
	esac
	start "$db"
	# Warm-up, untimed: a first import and a first batch of creates (the pool's connections, the
	# schema's introspection, the statements' first plans), so neither timed run pays for them.
	"$IB" admin -url "$URL" -file "$WORK/warm.csv" >/dev/null
	"$IB" graphql -url "$URL" -file "$WORK/warm.csv" >/dev/null
	# ABBA: each path twice, in an order that cancels a drift (the table grows, the planner learns it,
	# the machine's load moves); each path's figure is the mean of its two runs.
	# On Postgres, all or nothing (one transaction, each batch a savepoint) too, in the middle: A g V V g A.
	all="—"
	read -r _ a1 < <("$IB" admin -url "$URL" -file "$csv")
	read -r _ g1 < <("$IB" graphql -url "$URL" -file "$csv")
	if [ "$kind" = postgres ]; then
		read -r _ v1 < <("$IB" admin -url "$URL" -file "$csv" -mode all)
		read -r _ v2 < <("$IB" admin -url "$URL" -file "$csv" -mode all)
		all=$(awk -v a="$v1" -v b="$v2" 'BEGIN { printf "%.3f", (a + b) / 2 }')
		echo "$kind $n: all or nothing $v1 $v2" >&2
	fi
	read -r _ g2 < <("$IB" graphql -url "$URL" -file "$csv")
	read -r _ a2 < <("$IB" admin -url "$URL" -file "$csv")
	echo "$kind $n: import $a1 $a2, GraphQL $g1 $g2" >&2
	t_admin=$(awk -v a="$a1" -v b="$a2" 'BEGIN { printf "%.3f", (a + b) / 2 }')
	t_gql=$(awk -v a="$g1" -v b="$g2" 'BEGIN { printf "%.3f", (a + b) / 2 }')
	stop
	read -r _ t_sql < <("$IB" sql -db "$db" -file "$csv")
	mb=$(awk -v b="$(stat -c %s "$csv")" 'BEGIN { printf "%.1f", b / 1048576 }')
	rows+=("| $kind | $n | $mb | $t_admin | $(rate "$n" "$t_admin") | $all | $t_gql | $(rate "$n" "$t_gql") | $t_sql | $(rate "$n" "$t_sql") | $(awk -v a="$t_admin" -v g="$t_gql" 'BEGIN { printf "%.2f", a / g }') |")
	echo "${rows[-1]}"
done

load_end=$(cut -d' ' -f1 /proc/loadavg)
pgv=""
[ -n "${PGPID:-}" ] && pgv=", PostgreSQL $("$PGBIN/postgres" --version | cut -d' ' -f3)"
section=$(
	echo "<!-- import: written by bench/import.sh -->"
	echo "## Import"
	echo
	echo "Produced by \`bash bench/import.sh\` on $(date -u +%Y-%m-%d), $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)),"
	echo "$(go version | cut -d' ' -f3)$pgv; load average $load_start at the start, $load_end at the end.${BENCH_NOTE:+ $BENCH_NOTE} The hospital example with its demo data, a CSV of"
	echo "patients (8 columns: name, gender, birth date, phone, grade, balance, department by name, address) imported"
	echo "in the admin by a physician in the valid-rows mode: a background job that writes 500 rows per GraphQL"
	echo "operation and transaction. Time: from the upload to the job's page showing the result (s), polled every"
	echo "200 ms, after an untimed warm-up (600 rows by each path); each path runs twice, import, GraphQL, GraphQL, import, into the same table, and its figure is the mean. Baselines of the same run, in the same database: the GraphQL create mutation called directly"
	echo "over HTTP as the same physician (500 aliased creates an operation), and a hand-written SQL INSERT loop"
	echo "(one prepared statement, one transaction, the app stopped; no audit rows, no number sequence)."
	echo "×: the import's time over the direct GraphQL creates'. All or nothing (Postgres only; SQLite takes at most"
	echo "one operation's rows so): the same file imported all or nothing, a job whose batches are savepoints of one"
	echo "transaction committed at the end; timed between the import's two runs, twice, the mean."
	echo
	echo "| database | rows | CSV (MB) | import (s) | rows/s | all or nothing (s) | GraphQL creates (s) | rows/s | SQL INSERT (s) | rows/s | × |"
	echo "|---|---|---|---|---|---|---|---|---|---|---|"
	printf '%s\n' "${rows[@]}"
	echo "<!-- /import -->"
)
python3 - "${BENCH_OUT:-$ROOT/BENCHMARKS.md}" "$section" <<'PY'
import re, sys
path, section = sys.argv[1], sys.argv[2]
s = open(path).read()
pat = re.compile(r"<!-- import:.*?<!-- /import -->\n?", re.S)
s = pat.sub(lambda m: section + "\n", s) if pat.search(s) else s.rstrip("\n") + "\n\n" + section + "\n"
open(path, "w").write(s)
PY
echo "BENCHMARKS.md updated"
