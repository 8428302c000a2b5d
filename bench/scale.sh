#!/usr/bin/env bash
# bench/scale.sh runs two instances of one generated app on one PostgreSQL behind a round-robin proxy
# (bench/scaleproxy) and compares them with one instance, on the peer benchmark's model, data and read
# query (bench/peers). It writes its section of BENCHMARKS.md (between the scale markers).
#
#   bash bench/scale.sh            # 3 rounds of 20 s per setup
#   bash bench/scale.sh --quick    # 1 round of 3 s: checks the harness; BENCHMARKS.md untouched
#
# Environment: SCALE_SECONDS (20), SCALE_ROUNDS (3), SCALE_CONNECTIONS (16), SCALE_KEEP=1 keeps the work
# directory.
#
# Setups, measured in alternating order each round with wrk (1 thread):
#   one       wrk → instance A
#   proxy×1   wrk → proxy → A (what the proxy alone costs)
#   proxy×2   wrk → proxy → A, B in turn
# Before timing it checks what the instances share: an API token made on A answers on B with the right
# data; a session signed in on B works on A; signing out on A refuses the session on B within the 2 s
# the credential cache keeps a principal (the time it took is reported). Timers and the outbox are
# shared through the database (claimed rows, platform/process and platform/outbox), not measured here.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$PWD
PEERS=$ROOT/bench/peers

QUICK=0
case "${1:-}" in
--quick) QUICK=1 ;;
"") ;;
*) echo "usage: bash bench/scale.sh [--quick]" >&2; exit 2 ;;
esac
if ((QUICK)); then
	SECS=${SCALE_SECONDS:-3} ROUNDS=${SCALE_ROUNDS:-1}
else
	SECS=${SCALE_SECONDS:-20} ROUNDS=${SCALE_ROUNDS:-3}
fi
CONNS=${SCALE_CONNECTIONS:-16}

WORK=$(mktemp -d /tmp/crmgen-scale-XXXXXX)
chmod 755 "$WORK"
PIDS=()
FAILED=1
cleanup() {
	local i
	for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do
		kill "${PIDS[i]}" 2>/dev/null || true
		wait "${PIDS[i]}" 2>/dev/null || true
	done
	if [[ ${SCALE_KEEP:-} == 1 ]] || ((FAILED)); then
		echo "work directory kept: $WORK" >&2
	else
		rm -rf "$WORK"
	fi
}
trap cleanup EXIT
die() { echo "bench/scale: $*" >&2; exit 1; }
step() { printf '\n== %s\n' "$*"; }
export GOFLAGS=-buildvcs=false

step "tools"
source "$ROOT/bench/lib/proc.sh"
need_load_tools
source "$ROOT/bench/lib/pg.sh"

step "build"
go build -o "$WORK/crmgen" ./cmd/crmgen
go build -o "$WORK/proxy" ./bench/scaleproxy
"$WORK/crmgen" generate --dev "$PEERS/model" -o "$WORK/app" >"$WORK/generate.log" || { cat "$WORK/generate.log"; die "generate failed"; }
(cd "$WORK/app" && go build -o peers .)
APP=$WORK/app/peers

step "postgres"
pg_start "$WORK/pg" || die "could not start PostgreSQL"
PIDS+=("$PGPID")

# start NAME FLAG...: an instance of the app on the database, timers off; sets PID_<NAME>, URL_<NAME>.
start() {
	local name=$1 port pid
	shift
	port=$(pg_freeport)
	"$APP" --db "$DSN" --addr "127.0.0.1:$port" --timer-interval 0 --log-format json "$@" >>"$WORK/$name.out" 2>>"$WORK/$name.log" &
	pid=$!
	PIDS+=("$pid")
	wait_http "http://127.0.0.1:$port/healthz" "$pid" || die "instance $name did not start: $(tail -5 "$WORK/$name.log")"
	printf -v "PID_$name" %s "$pid"
	printf -v "URL_$name" %s "http://127.0.0.1:$port"
}
# proxy NAME BACKEND...: the round-robin proxy; sets PID_<NAME>, URL_<NAME>.
proxy() {
	local name=$1 port pid
	shift
	port=$(pg_freeport)
	"$WORK/proxy" -addr "127.0.0.1:$port" -to "$(IFS=,; echo "$*")" 2>"$WORK/$name.log" &
	pid=$!
	PIDS+=("$pid")
	wait_http "http://127.0.0.1:$port/healthz" "$pid" || die "proxy $name did not start"
	printf -v "PID_$name" %s "$pid"
	printf -v "URL_$name" %s "http://127.0.0.1:$port"
}

step "data"
start seed # migrates and loads the model's data (the user bench), then stops
kill "$PID_seed"
wait "$PID_seed" || true
unset 'PIDS[-1]'
psql_ -d crm -f "$PEERS/data.sql" >/dev/null
start A --seed=false
start B --seed=false
proxy P1 "$URL_A"
proxy P2 "$URL_A" "$URL_B"
echo "A $URL_A, B $URL_B, proxy×1 $URL_P1, proxy×2 $URL_P2"

# gql URL AUTH QUERY [VARIABLES_JSON]: POSTs a GraphQL request, prints the answer.
gql() {
	python3 -c 'import json, sys; print(json.dumps({"query": sys.argv[1], "variables": json.loads(sys.argv[2])}))' "$3" "${4:-null}" |
		curl -s -m 30 -H 'Content-Type: application/json' ${2:+-H "Authorization: $2"} --data-binary @- "$1/graphql"
}
field() { python3 -c 'import json, sys
v = json.load(sys.stdin)
for k in sys.argv[1].split("."):
    v = v[k] if isinstance(v, dict) else None
print("" if v is None else v)' "$1"; }
login() { gql "$1" "" 'mutation { login(username: "bench", password: "bench-password") { token } }' | field data.login.token; }

step "what the instances share"
SESSION=$(login "$URL_A")
[[ -n $SESSION ]] || die "login on A failed"
TOKEN=$(gql "$URL_A" "Bearer $SESSION" 'mutation { createAPIToken(name: "scale benchmark") { token } }' | field data.createAPIToken.token)
[[ -n $TOKEN ]] || die "createAPIToken on A failed"
AUTH="Bearer $TOKEN"
python3 -c 'import json, sys; print(json.dumps({"query": open(sys.argv[1]).read()}))' "$PEERS/query/crmgen.graphql" >"$WORK/read.json"
psql_ -d crm -Atf "$PEERS/truth.sql" >"$WORK/truth.json"
for s in A B P2; do
	url=URL_$s
	curl -s -f -m 30 -H 'Content-Type: application/json' -H "Authorization: $AUTH" --data-binary "@$WORK/read.json" "${!url}/graphql" -o "$WORK/answer-$s.json" ||
		die "$s: the read failed"
	python3 "$PEERS/peers.py" check crmgen "$WORK/answer-$s.json" "$WORK/truth.json" >/dev/null || die "$s: wrong answer"
done
echo "  an API token made on A reads the right answer on A, on B and through the proxy"
S2=$(login "$URL_B")
[[ $(gql "$URL_A" "Bearer $S2" '{ me { username } }' | field data.me.username) == bench ]] || die "a session of B is refused on A"
gql "$URL_B" "Bearer $S2" '{ me { username } }' >/dev/null # B now holds the principal in its cache
gql "$URL_A" "Bearer $S2" 'mutation { logout }' >/dev/null
START=$(date +%s.%N)
REVOKED=""
for _ in $(seq 1 100); do
	if [[ $(gql "$URL_B" "Bearer $S2" '{ me { username } }' | field data.me.username) != bench ]]; then
		REVOKED=$(python3 -c "import sys; print('%.1f' % ($(date +%s.%N) - $START))")
		break
	fi
	sleep 0.1
done
[[ -n $REVOKED ]] || die "a session signed out on A still works on B after 10 s"
echo "  a session signed in on B works on A; signed out on A, B refused it after ${REVOKED} s"

TICK=$(getconf CLK_TCK)
# measure SETUP ROUND URL PID...: one wrk run of the read; appends its figures to results.tsv.
measure() {
	local setup=$1 round=$2 url=$3
	shift 3
	local s0 p0 x0 out s1 p1 x1
	s0=$(cpu_ticks "$PID_A" "$PID_B")
	x0=$(cpu_ticks "$PID_P1" "$PID_P2")
	p0=$(pg_ticks)
	out=$(PEERS_BODY=$WORK/read.json PEERS_AUTH=$AUTH wrk -t1 -c"$CONNS" -d"${SECS}s" --latency -s "$PEERS/wrk.lua" "$url/graphql")
	s1=$(cpu_ticks "$PID_A" "$PID_B")
	x1=$(cpu_ticks "$PID_P1" "$PID_P2")
	p1=$(pg_ticks)
	[[ $round == warmup ]] && return 0
	local res
	res=$(grep '^RESULT ' <<<"$out") || die "$setup: no wrk result: $out"
	python3 - "$setup" "$round" "$res" "$((s1 - s0))" "$((x1 - x0))" "$((p1 - p0))" "$TICK" >>"$WORK/results.tsv" <<'PY'
import sys
setup, rnd, res, app, proxy, pg, tick = sys.argv[1:]
r = dict(kv.split("=") for kv in res.split()[1:])
n = int(r["requests"])
errors = sum(int(r[k]) for k in ("connect", "read", "write", "status", "timeout"))
if n == 0 or errors * 1000 > n:  # more than 0.1% failed: the figures mean nothing
    sys.exit("%s round %s: %d requests, %d failed (%s)" % (setup, rnd, n, errors,
             ", ".join("%s %s" % (k, r[k]) for k in ("connect", "read", "write", "status", "timeout") if r[k] != "0")))
per = lambda t: int(t) * 1000 / int(tick) / n
print("\t".join(str(x) for x in (setup, rnd, n, "%.1f" % (n / (int(r["duration_us"]) / 1e6)),
      "%.2f" % (int(r["p50_us"]) / 1000), "%.2f" % (int(r["p99_us"]) / 1000), "%.2f" % per(app), "%.2f" % per(proxy), "%.2f" % per(pg), errors)))
print("  %-8s round %s: %7.1f req/s  p50 %6.2f ms  p99 %6.2f ms  app %.2f ms/req  proxy %.2f ms/req  postgres %.2f ms/req" % (
    setup, rnd, n / (int(r["duration_us"]) / 1e6), int(r["p50_us"]) / 1000, int(r["p99_us"]) / 1000, per(app), per(proxy), per(pg)), file=sys.stderr)
PY
}

step "reads: warm-up"
measure one warmup "$URL_A"
measure 'proxy×2' warmup "$URL_P2"
step "reads: $ROUNDS round(s) of ${SECS}s per setup"
: >"$WORK/results.tsv"
for r in $(seq 1 "$ROUNDS"); do
	setups=(one 'proxy×1' 'proxy×2')
	((r % 2)) || setups=('proxy×2' 'proxy×1' one)
	for s in "${setups[@]}"; do
		case $s in
		one) measure one "$r" "$URL_A" ;;
		'proxy×1') measure 'proxy×1' "$r" "$URL_P1" ;;
		'proxy×2') measure 'proxy×2' "$r" "$URL_P2" ;;
		esac
	done
done

step "report"
python3 - "$WORK/results.tsv" "$ROOT/BENCHMARKS.md" "$QUICK" "$REVOKED" "$SECS" "$ROUNDS" "$CONNS" "$(go env GOVERSION)" \
	"$("$PGBIN/postgres" --version | cut -d' ' -f3)" "$(nproc)" "$(uptime | sed 's/.*load average: //')" <<'PY'
import re, statistics, sys, datetime
results, bench, quick, revoked, secs, rounds, conns, gover, pgver, cores, load = sys.argv[1:]
rows = [l.rstrip("\n").split("\t") for l in open(results) if l.strip()]
by = {}
failed = {}
for setup, rnd, n, rps, p50, p99, app, proxy, pg, errors in rows:
    by.setdefault(setup, []).append([float(x) for x in (rps, p50, p99, app, proxy, pg)])
    failed[setup] = failed.get(setup, 0) + int(errors)
med = lambda setup, i: statistics.median(r[i] for r in by[setup])
one = med("one", 0)
lines = [
    "<!-- scale: written by bench/scale.sh -->",
    "## Two instances on one database",
    "",
    "Produced by `bash bench/scale.sh` on %s, %s cores, %s, PostgreSQL %s; load average at the end %s. "
    "The peer benchmark's model, data and read query (bench/peers: the 50 grade-A customers with their owners "
    "and 5 latest opportunities, API token), %s round(s) of %s s per setup, wrk with %s connections, medians. "
    "Setups: **one** instance; **proxy×1**, the same instance behind the round-robin proxy "
    "(bench/scaleproxy), to show what the proxy costs; **proxy×2**, two instances behind it, on the same "
    "PostgreSQL. CPU per request is of the app instances (both), the proxy and PostgreSQL; all share the "
    "machine's cores with wrk. A failed request is one wrk counted as an error (a timeout after 2 s, a "
    "non-2xx status); a round with more than 0.1%% failed stops the run." % (datetime.date.today(), cores, gover, pgver, load, rounds, secs, conns),
    "",
    "| setup | req/s | p50 (ms) | p99 (ms) | app CPU (ms/req) | proxy CPU (ms/req) | Postgres CPU (ms/req) | failed requests (all rounds) | req/s ÷ one |",
    "|---|---|---|---|---|---|---|---|---|",
]
for setup in ("one", "proxy×1", "proxy×2"):
    lines.append("| %s | %.1f | %.2f | %.2f | %.2f | %.2f | %.2f | %d | %.2f× |" % (
        setup, med(setup, 0), med(setup, 1), med(setup, 2), med(setup, 3), med(setup, 4), med(setup, 5), failed[setup], med(setup, 0) / one))
lines += [
    "",
    "What the instances share, checked before timing: an API token made on one instance answers on the "
    "other with the right data; a session signed in on one works on the other; signed out on one, the "
    "other refused it after %s s (each instance keeps a principal for at most 2 s). Sessions, timers and "
    "the outbox live in the database, so instances need no affinity and no coordination of their own." % revoked,
    "<!-- /scale -->",
]
section = "\n".join(lines) + "\n"
print(section)
if quick == "1":
    sys.exit(0)
text = open(bench).read()
pat = re.compile(r"<!-- scale: .*?<!-- /scale -->\n", re.S)
text = pat.sub(lambda _: section, text) if pat.search(text) else text.rstrip("\n") + "\n\n" + section
open(bench, "w").write(text)
PY
FAILED=0
