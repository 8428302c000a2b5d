"""Helpers of the peer benchmark (bench/peers/run.sh), which calls them:

  peers.py check SERVER RESPONSE TRUTH   compare a server's answer to the read query with the SQL ground
                                         truth (truth.sql); exit 1 and show the first difference if they differ
  peers.py report RESULTS STATEMENTS BENCHMARKS_MD [--print-only]
                                         medians across rounds, ratios, and the peers section of BENCHMARKS.md

RESULTS has one line per measurement (tab-separated key=value pairs, written by run.sh).
"""
import datetime
import decimal
import json
import os
import re
import statistics
import sys

SERVERS = ("postgraphile", "baseline", "crmgen")
NAMES = {
    "postgraphile": "PostGraphile 5.1.5 (Node 22)",
    "baseline": "Go baseline (net/http + pgx)",
    "crmgen": "crmgen app",
}


def canonical(server, answer):
    """The answer of server as a list of customers with plain values, comparable across servers."""
    if answer.get("errors"):
        raise ValueError("the answer has errors: %s" % json.dumps(answer["errors"])[:500])
    data = answer["data"]
    if server == "postgraphile":
        customers = data["allCustomers"]["nodes"]
        owner = lambda c: c["userByOwnerId"]
        opps = lambda c: c["opportunitiesByCustomerId"]["nodes"]
        opp_id = "rowId"
    else:
        customers = [e["node"] for e in data["customers"]["edges"]]
        owner = lambda c: c["owner"]
        opps = lambda c: [e["node"] for e in c["opportunities"]["edges"]]
        opp_id = "id"
    out = []
    for c in customers:
        o = owner(c)
        out.append({
            "name": c["name"],
            "owner": None if o is None else o["displayName"],
            "opportunities": [{
                "id": int(x[opp_id]),
                "title": x["title"],
                "amount": None if x["amount"] is None else str(decimal.Decimal(str(x["amount"])).quantize(decimal.Decimal("0.01"))),
                "stage": x["stage"],
                "createdAt": datetime.datetime.fromisoformat(x["createdAt"]).astimezone(datetime.timezone.utc).isoformat(),
            } for x in opps(c)],
        })
    return out


def check(server, response, truth):
    with open(truth) as f:
        want = canonical("truth", {"data": {"customers": {"edges": [
            {"node": dict(c, opportunities={"edges": [{"node": o} for o in c["opportunities"]]})} for c in json.load(f)]}}})
    try:
        with open(response) as f:
            got = canonical(server, json.load(f))
    except (ValueError, KeyError, TypeError) as e:
        sys.exit("%s: unexpected answer: %s" % (server, e))
    if len(want) != 50 or sum(len(c["opportunities"]) for c in want) == 0:
        sys.exit("ground truth looks wrong: %d customers" % len(want))
    if got != want:
        for i, (g, w) in enumerate(zip(got, want)):
            if g != w:
                sys.exit("%s: customer %d differs from the ground truth:\n  got  %s\n  want %s" % (server, i, json.dumps(g), json.dumps(w)))
        sys.exit("%s: %d customers, want %d" % (server, len(got), len(want)))
    n = sum(len(c["opportunities"]) for c in got)
    print("  %-13s matches the ground truth (%d customers, %d opportunities)" % (server, len(got), n))


def load_results(path):
    rows = []
    with open(path) as f:
        for line in f:
            if line.strip():
                rows.append(dict(kv.split("=", 1) for kv in line.rstrip("\n").split("\t")))
    return rows


def med(values):
    return statistics.median(values) if values else float("nan")


def fmt(x, digits=1):
    return "%.*f" % (digits, x)


def report(results, statements, benchmarks, print_only):
    rows = load_results(results)
    meta = rows[0]
    rows = rows[1:]

    def series(kind, server, key):
        return [float(r[key]) for r in rows if r["kind"] == kind and r["server"] == server]

    def ratio_series(kind, a, b, key):
        """Per-round ratios a/b of the same round: absolute figures move between runs, ratios less."""
        out = []
        for r in sorted({r["round"] for r in rows if r["kind"] == kind}):
            x = [float(q[key]) for q in rows if q["kind"] == kind and q["server"] == a and q["round"] == r]
            y = [float(q[key]) for q in rows if q["kind"] == kind and q["server"] == b and q["round"] == r]
            if x and y and y[0]:
                out.append(x[0] / y[0])
        return out

    lines = [
        "<!-- peers: written by bench/peers/run.sh -->",
        "## Peers: the generated app against PostGraphile and a hand-written Go server",
        "",
        "Produced by `%s` on %s, %s, %s cores (%s), %s, PostgreSQL %s, wrk %s: one PostgreSQL "
        "(fsync off) holding 50 users, 10,000 customers and 50,000 opportunities (bench/peers/data.sql, "
        "seeded), read by three servers: PostGraphile 5.1.5 on Node %s (bench/peers/postgraphile, pool of 10), "
        "a Go baseline of about 250 lines (bench/peers/baseline: net/http, pgx pool of 10, 2 SQL statements "
        "a request) and the app crmgen generates from bench/peers/model (signed in with an API token; its "
        "pool of 10, its default). Each server's answer was checked against a SQL ground truth "
        "(bench/peers/truth.sql) before timing. %s round%s of %s s a server, the servers' order reversed every "
        "other round, after a %s s warm-up; wrk, 1 thread and %s connections, on the same 2 cores as the "
        "servers and Postgres. Figures are the medians across rounds; ratios are medians of the ratios within "
        "each round." % (
            meta["command"], meta["date"], meta["machine"], meta["cores"], meta["cpu"], meta["go"],
            meta["postgres"], meta["wrk"], meta["node"], meta["rounds"], "" if meta["rounds"] == "1" else "s", meta["seconds"], meta["warmup"],
            meta["connections"]),
        "",
        "**Read**: the 50 grade-A customers by name, each with its owner's name and its 5 latest opportunities "
        "(bench/peers/query).",
        "",
        "| server | req/s | p50 (ms) | p99 (ms) | server CPU (ms/req) | Postgres CPU (ms/req) | SQL statements/req | new connections/round | RSS under load (MB) | req/s ÷ PostGraphile | req/s ÷ baseline | p99 ÷ PostGraphile | p99 ÷ baseline |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for s in SERVERS:
        if not series("read", s, "rps"):
            continue
        cells = [
            NAMES[s],
            fmt(med(series("read", s, "rps")), 0),
            fmt(med(series("read", s, "p50_ms")), 2),
            fmt(med(series("read", s, "p99_ms")), 2),
            fmt(med(series("read", s, "server_cpu_ms")), 2),
            fmt(med(series("read", s, "pg_cpu_ms")), 2),
            fmt(med(series("read", s, "statements")), 1),
            fmt(med(series("read", s, "sessions")), 0),
            fmt(med(series("read", s, "rss_mb")), 0),
        ]
        for key in ("rps", "p99_ms"):
            for peer in ("postgraphile", "baseline"):
                cells.append("—" if s == peer else "%.2f×" % med(ratio_series("read", s, peer, key)))
        lines.append("| " + " | ".join(cells) + " |")

    if any(r["kind"] == "write" for r in rows):
        lines += [
            "",
            "**Write**: create one opportunity. crmgen: the `createOpportunity` mutation, which validates, enters "
            "the workflow's initial stage, writes the audit trail and runs an automation that notifies a user "
            "(the notification is written in the same transaction). Baseline: `POST /opportunities`, one INSERT.",
            "",
            "| server | req/s | p50 (ms) | p99 (ms) | server CPU (ms/req) | Postgres CPU (ms/req) | SQL statements/req | new connections/round | req/s ÷ baseline | p99 ÷ baseline |",
            "|---|---|---|---|---|---|---|---|---|---|",
        ]
        for s in ("baseline", "crmgen"):
            if not series("write", s, "rps"):
                continue
            lines.append("| " + " | ".join([
                NAMES[s] if s == "crmgen" else "Go baseline (one INSERT)",
                fmt(med(series("write", s, "rps")), 0),
                fmt(med(series("write", s, "p50_ms")), 2),
                fmt(med(series("write", s, "p99_ms")), 2),
                fmt(med(series("write", s, "server_cpu_ms")), 2),
                fmt(med(series("write", s, "pg_cpu_ms")), 2),
                fmt(med(series("write", s, "statements")), 1),
                fmt(med(series("write", s, "sessions")), 0),
                "—" if s == "baseline" else "%.2f×" % med(ratio_series("write", s, "baseline", "rps")),
                "—" if s == "baseline" else "%.2f×" % med(ratio_series("write", s, "baseline", "p99_ms")),
            ]) + " |")

    lines += [
        "",
        "- server CPU: the server process's user + system time (/proc/<pid>/stat) over the round, per request. "
        "Postgres CPU: the same for the postmaster and all its processes (backends, and those that ended "
        "during the round), not pg_stat_statements' execution time. wrk's own CPU is in neither.",
        "- SQL statements: pg_stat_statements calls in the servers' database over the round (reset before "
        "each), per request; BEGIN, COMMIT and other utility statements count. New connections: connections "
        "Postgres authorized to that database during the round (log_connections). RSS: the largest resident "
        "size of the server process sampled every second under load. Requests still running when a round "
        "ends add their CPU and statements to it: at most %s per round, a few %% for the slowest server." % meta["connections"],
        "- New connections come from pools refilling between rounds: PostGraphile's pool (node-postgres) "
        "closes connections idle for 10 s, its default, so after the other servers' turns it reconnects; the "
        "baseline's pgx pool closes a connection whose statement was cancelled when wrk closed its connections "
        "at the end of the round before (pgx's default), where the app asks the server to cancel it and keeps "
        "the connection (platform/database/cancel.go). At ~30 ms of Postgres CPU a connection, 10 a round "
        "cost under 0.05 ms a request.",
    ]
    other = [float(r["other_cores"]) for r in rows if "other_cores" in r]
    if other:
        lines.append("- Other processes on the machine (not the servers, Postgres or wrk) used %.2f cores in the median "
                     "round (%.2f–%.2f)%s." % (
                         med(other), min(other), max(other),
                         "" if med(other) < 0.25 else
                         ": the machine was shared, so absolute figures are low and the ratios are the figures to read"))
    if statements and os.path.exists(statements):
        with open(statements) as f:
            stmts = f.read().strip()
        if stmts:
            lines += ["", "<details><summary>SQL statements a request, per server and operation (last round)</summary>", "",
                      "```", stmts, "```", "", "</details>"]
    lines.append("<!-- /peers -->")
    section = "\n".join(lines) + "\n"

    print(section)
    if print_only:
        return
    text = open(benchmarks).read() if os.path.exists(benchmarks) else "# Benchmarks\n"
    pat = re.compile(r"<!-- peers:.*?<!-- /peers -->\n?", re.S)
    text = pat.sub(lambda _: section, text) if pat.search(text) else text.rstrip("\n") + "\n\n" + section
    with open(benchmarks, "w") as f:
        f.write(text)
    print("BENCHMARKS.md: peers section written")


def main(argv):
    if len(argv) == 4 and argv[0] == "check":
        check(*argv[1:])
    elif len(argv) in (4, 5) and argv[0] == "report":
        report(argv[1], argv[2], argv[3], argv[4:] == ["--print-only"])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
