#!/usr/bin/env bash
# bench/admin_lists.sh measures the admin list screens of the hospital example over 10,000 and 100,000
# patients on SQLite and 1,000,000 on PostgreSQL: server time and page weight of the list's first page,
# search (a name, and three digits of a phone number: a common text), filter, sort, last page and an htmx partial, plus the home screen (a count per entity) and a
# record's detail. It replaces its own section of BENCHMARKS.md (between the admin-lists markers) and
# leaves the rest alone.
#
#   bash bench/admin_lists.sh                                   # sqlite:10000 sqlite:100000 postgres:1000000
#   bash bench/admin_lists.sh sqlite:5000 postgres:200000       # other databases and sizes
#   BENCH_OUT=/tmp/b.md bash bench/admin_lists.sh sqlite:500     # try it without touching BENCHMARKS.md
#
# The baseline, measured in the same run on PostgreSQL: the execution time Postgres itself reports
# (pg_stat_statements) for the statements the page ran, per page. It is the floor for any server that
# answers the page with the same SQL; the difference is the app's own time (GraphQL, enforcement,
# templates, transfer).
#
# Rows are inserted straight into the database (demo data first, then copies of its patients with new
# names, numbers and grades), so the screens read realistic rows without running 100,000 mutations.
# Times are the median of 5 requests after one warm-up, measured by curl on the same machine
# (time to the last byte: the server's time plus loopback transfer). Weight is the response body as sent
# with gzip (what a browser downloads) and uncompressed.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$PWD
WORK=$(mktemp -d /tmp/crmgen-adminbench-XXXXXX)
chmod 755 "$WORK" # the postgres user reaches its data directory through it
PID=""
source bench/lib/pg.sh
cleanup() { [ -n "$PID" ] && kill "$PID" 2>/dev/null; pg_stop; rm -rf "$WORK"; }
trap cleanup EXIT
export GOFLAGS=-buildvcs=false
TARGETS=("$@")
[ ${#TARGETS[@]} -eq 0 ] && TARGETS=(sqlite:10000 sqlite:100000 postgres:1000000)

go build -o "$WORK/crmgen" ./cmd/crmgen
"$WORK/crmgen" generate --dev examples/hospital -o "$WORK/app" >/dev/null
(cd "$WORK/app" && go build -o hospital .)
APP="$WORK/app/hospital"

start() { # start <db>: runs the app on a free port, sets PID and URL
	"$APP" --db "$1" --addr 127.0.0.1:0 --log-format json >"$WORK/out.log" 2>"$WORK/err.log" &
	PID=$!
	for _ in $(seq 1 300); do
		URL=$(grep -o 'http://127.0.0.1:[0-9]*' "$WORK/out.log" | head -1 || true)
		[ -n "$URL" ] && return 0
		sleep 0.2
	done
	echo "app did not start" >&2; cat "$WORK/err.log" >&2; exit 1
}
stop() { kill "$PID"; wait "$PID" 2>/dev/null || true; PID=""; }

median() { sort -n | awk '{ a[NR] = $1 } END { m = (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2; printf "%.1f", m * 1000 }'; }

# fill_sqlite DB N adds copies of the demo patients, with new names, numbers and grades, up to N rows.
fill_sqlite() {
	python3 - "$1" "$2" <<'PY'
import random, sqlite3, sys
db, n = sys.argv[1], int(sys.argv[2])
c = sqlite3.connect(db)
cols = [r[1] for r in c.execute("PRAGMA table_info(patients)")]
base = [dict(zip(cols, r)) for r in c.execute("SELECT * FROM patients")]
next_id = c.execute("SELECT MAX(id) FROM patients").fetchone()[0] + 1
rnd = random.Random(1)
family = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
given = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀英华"
rows = []
for i in range(n - len(base)):
    r = dict(rnd.choice(base))
    r["id"] = next_id + i
    r["code"] = "B%06d" % i
    r["name"] = rnd.choice(family) + rnd.choice(given) + rnd.choice(given)
    r["grade"] = rnd.choice("ABCD")
    r["id_card"] = None
    r["phone"] = "1%010d" % rnd.randrange(10**10)
    rows.append(tuple(r[k] for k in cols))
c.executemany("INSERT INTO patients (%s) VALUES (%s)" % (",".join(cols), ",".join("?" * len(cols))), rows)
c.commit()
print("patients:", c.execute("SELECT COUNT(*) FROM patients").fetchone()[0], file=sys.stderr)
PY
}

# fill_postgres DATABASE N does the same in one INSERT … SELECT over generate_series (random() seeded, so
# every run loads the same rows), then ANALYZE.
fill_postgres() {
	local cols
	cols=$(psql_ -d "$1" -Atc "SELECT string_agg(column_name, ' ' ORDER BY ordinal_position) FROM information_schema.columns WHERE table_schema = 'public' AND table_name = 'patients'")
	python3 - "$2" $cols <<'PY' | psql_ -d "$1" >/dev/null
import sys
n, cols = int(sys.argv[1]), sys.argv[2:]
over = {
    "id": "mx.m + 1 + g",
    "code": "'B' || lpad(g::text, 7, '0')",
    "name": "substr('王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗', 1 + floor(random() * 20)::int, 1)"
            " || substr('伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀英华', 1 + floor(random() * 20)::int, 1)"
            " || substr('伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀英华', 1 + floor(random() * 20)::int, 1)",
    "grade": "(ARRAY['A', 'B', 'C', 'D'])[1 + floor(random() * 4)::int]",
    "id_card": "NULL",
    "phone": "'1' || lpad(floor(random() * 1e10)::bigint::text, 10, '0')",
    # a record a minute, back from the demo data's: a list's default order (newest first) meets the
    # distinct times a real table has, not 30 repeated a million times
    "created_at": "b.created_at - g * interval '1 minute'",
}
q = lambda c: '"%s"' % c
print("SELECT setseed(0.25);")
print("WITH base AS (SELECT *, row_number() OVER (ORDER BY id) - 1 AS rn FROM patients),"
      " nb AS (SELECT count(*) AS c FROM patients), mx AS (SELECT max(id) AS m FROM patients)")
print("INSERT INTO patients (%s)" % ", ".join(map(q, cols)))
print("SELECT %s" % ", ".join(over.get(c, "b." + q(c)) for c in cols))
print("FROM nb, mx, generate_series(0, %d - nb.c - 1) AS g JOIN base b ON true WHERE b.rn = g %% nb.c;" % n)
print("ANALYZE;")
PY
	echo "patients: $(psql_ -d "$1" -Atc 'SELECT count(*) FROM patients')" >&2
}

rows=()
for target in "${TARGETS[@]}"; do
	kind=${target%%:*} n=${target#*:}
	case $kind in
	sqlite)
		db="$WORK/h$n.db"
		start "$db"; stop # migrate and load the demo data
		fill_sqlite "$db" "$n"
		;;
	postgres)
		[ -n "${PGPID:-}" ] || pg_start "$WORK/pg"
		psql_ -d postgres -c "CREATE DATABASE h$n" >/dev/null
		db="postgres://postgres@127.0.0.1:$PGPORT/h$n?sslmode=disable"
		start "$db"; stop
		fill_postgres "h$n" "$n"
		dboid=$(psql_ -d postgres -Atc "SELECT oid FROM pg_database WHERE datname = 'h$n'")
		;;
	*) echo "unknown database $kind (sqlite or postgres)" >&2; exit 2 ;;
	esac
	start "$db"
	jar="$WORK/cookies"
	curl -s -o /dev/null -c "$jar" -d 'username=admin&password=admin123&next=/' "$URL/login"
	id=$(curl -s -b "$jar" "$URL/e/Patient" | grep -o 'href="/e/Patient/[0-9]*"' | head -1 | grep -o '[0-9]*')
	declare -A pages=(
		["home"]="/"
		["list, first page"]="/e/Patient"
		["list, search"]="/e/Patient?q=%E7%8E%8B%E4%BC%9F"
		["list, search digits"]="/e/Patient?q=138"
		["list, filter"]="/e/Patient?f.grade=A"
		["list, sort by name"]="/e/Patient?sort=name"
		["list, last page"]="/e/Patient?last=1"
		["detail"]="/e/Patient/$id"
	)
	for label in "home" "list, first page" "list, search" "list, search digits" "list, filter" "list, sort by name" "list, last page" "detail" "list, htmx partial"; do
		path=${pages[$label]:-"/e/Patient?q=%E7%8E%8B"}
		hdr=()
		[ "$label" = "list, htmx partial" ] && hdr=(-H "HX-Request: true")
		curl -s -o /dev/null -b "$jar" "${hdr[@]}" "$URL$path" # warm-up
		[ "$kind" = postgres ] && psql_ -d postgres -Atc 'SELECT pg_stat_statements_reset()' >/dev/null
		ms=$(for _ in 1 2 3 4 5; do curl -s -o /dev/null -w '%{time_total}\n' -b "$jar" "${hdr[@]}" "$URL$path"; done | median)
		dbms="—" stmts="—"
		if [ "$kind" = postgres ]; then
			read -r dbms stmts < <(psql_ -d postgres -Atc "SELECT round((coalesce(sum(total_exec_time), 0) / 5)::numeric, 1), round(coalesce(sum(calls), 0) / 5.0, 1) FROM pg_stat_statements WHERE dbid = $dboid" | tr '|' ' ')
		fi
		gz=$(curl -s -o /dev/null -w '%{size_download}' -H 'Accept-Encoding: gzip' -b "$jar" "${hdr[@]}" "$URL$path")
		raw=$(curl -s -o /dev/null -w '%{size_download}' -b "$jar" "${hdr[@]}" "$URL$path")
		rows+=("| $kind | $n | $label | \`$path\` | $ms | $dbms | $stmts | $((gz / 1024)).$(((gz % 1024) * 10 / 1024)) | $((raw / 1024)).$(((raw % 1024) * 10 / 1024)) |")
		echo "${rows[-1]}"
	done
	stop
done

assets=$(for f in htmx.min.js admin.css admin.js; do curl -s -o /dev/null -w '%{size_download}\n' -H 'Accept-Encoding: gzip' "$URL/static/$f" 2>/dev/null || true; done)
section=$(
	echo "<!-- admin-lists: written by bench/admin_lists.sh -->"
	echo "## Admin list screens"
	echo
	echo "Produced by \`bash bench/admin_lists.sh\` on $(date -u +%Y-%m-%d), $(nproc) cores, $(go version | cut -d' ' -f3): the"
	echo "hospital example with its demo data plus generated patients, on SQLite and on PostgreSQL $("$PGBIN/postgres" --version | cut -d' ' -f3),"
	echo "signed in as the administrator (no row scope). Time: median of 5 requests after a warm-up, to the last"
	echo "byte over loopback (ms). Baseline (Postgres): the execution time Postgres reports in pg_stat_statements"
	echo "for the statements of one request (mean of the 5), and how many statements that was, sign-in lookups included."
	echo "Weight: the HTML as a browser downloads it (gzip) and uncompressed (KiB); the page's assets (htmx,"
	echo "stylesheet, script: about 30 KiB gzipped) are cached for a year after the first page."
	echo
	echo "| database | patients | screen | path | time (ms) | Postgres execution (ms) | statements | gzip (KiB) | raw (KiB) |"
	echo "|---|---|---|---|---|---|---|---|---|"
	printf '%s\n' "${rows[@]}"
	echo "<!-- /admin-lists -->"
)
python3 - "${BENCH_OUT:-$ROOT/BENCHMARKS.md}" "$section" <<'PY'
import re, sys
path, section = sys.argv[1], sys.argv[2]
s = open(path).read()
pat = re.compile(r"<!-- admin-lists:.*?<!-- /admin-lists -->\n?", re.S)
s = pat.sub(lambda m: section + "\n", s) if pat.search(s) else s.rstrip("\n") + "\n\n" + section + "\n"
open(path, "w").write(s)
PY
echo "BENCHMARKS.md updated"
