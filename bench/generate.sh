#!/usr/bin/env bash
# bench/generate.sh measures what generating and building an app costs, per example, against a baseline
# measured in the same run (the starter model of `crmgen init`), and rewrites BENCHMARKS.md.
#
#   bash bench/generate.sh            # all examples
#
# Definitions (all wall-clock, this machine):
#   cold generate   crmgen generate into an empty directory (entc + gqlgen run)
#   cold build      go build of that directory, in a Go build cache that starts empty for the run (the
#                   baseline pays for compiling dependencies; the examples reuse them)
#   warm regenerate crmgen generate again on the unchanged model (nothing rewritten)
#   change + rebuild  add one field to the model, regenerate and rebuild
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$PWD
WORK=$(mktemp -d /tmp/crmgen-bench-XXXXXX)
trap 'rm -rf "$WORK"' EXIT
export GOFLAGS=-buildvcs=false

ms() { date +%s%3N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", (b - a) / 1000 }'; }

# crmgen itself builds with the usual cache; the apps build with an empty one (see "cold build").
go build -o "$WORK/crmgen" ./cmd/crmgen
go run ./bench/model50 "$WORK/models/model50"
export GOCACHE="$WORK/gocache"
"$WORK/crmgen" init "$WORK/models/starter" >/dev/null
cp -r examples/hospital examples/b2b-sales "$WORK/models/"

rows=()
for name in starter hospital b2b-sales model50; do
	model="$WORK/models/$name"
	out="$WORK/apps/$name"
	t0=$(ms); "$WORK/crmgen" generate --dev "$model" -o "$out" >"$WORK/$name.gen.log"; t1=$(ms)
	(cd "$out" && go build -o app .); t2=$(ms)
	"$WORK/crmgen" generate --dev "$model" -o "$out" >"$WORK/$name.regen.log"; t3=$(ms)
	# one more field on the first entity of the model's first entity file
	python3 - "$model" <<'PY'
import pathlib, re, sys
for p in sorted(pathlib.Path(sys.argv[1]).rglob("*.yaml")):
    s = p.read_text()
    m = re.search(r"^(\s+)fields:\n", s, re.M)
    if m:
        indent = m.group(1) + "  "
        s = s[:m.end()] + f"{indent}benchNote: {{type: string, maxLen: 10}}\n" + s[m.end():]
        p.write_text(s)
        break
PY
	t4=$(ms); "$WORK/crmgen" generate --dev "$model" -o "$out" >"$WORK/$name.change.log"; t5=$(ms)
	(cd "$out" && go build -o app .); t6=$(ms)
	gen_loc=$(find "$out" -name '*.go' -print0 | xargs -0 cat | wc -l)
	yaml_loc=$(find "$model" -name '*.yaml' -print0 | xargs -0 cat | wc -l)
	size=$(du -m "$out/app" | cut -f1)
	rows+=("| $name | $yaml_loc | $gen_loc | $(secs "$t0" "$t1") | $(secs "$t1" "$t2") | $(secs "$t2" "$t3") | $(secs "$t4" "$t5") | $(secs "$t5" "$t6") | $(secs "$t0" "$t2") | ${size} MB |")
	echo "${rows[-1]}"
done

# The sections other scripts own (between their <!-- name: … --> and <!-- /name --> markers) are kept.
KEEP=$(python3 -c '
import re, sys
try:
    text = open("BENCHMARKS.md").read()
except FileNotFoundError:
    sys.exit()
print("\n\n".join(m.group(0) for m in re.finditer(r"<!-- ([a-z-]+): .*?<!-- /\1 -->", text, re.S)))
')
{
	echo "# Benchmarks"
	echo
	echo "Figures, not tests: no test asserts a time. Produced by \`bash bench/generate.sh\` on $(date -u +%Y-%m-%d),"
	echo "$(nproc) cores, $(go version | cut -d' ' -f3). The baseline is the starter model of \`crmgen init\`"
	echo "(2 entities), measured in the same run."
	echo
	echo "## Generate and build"
	echo
	echo "| model | model YAML lines | generated Go lines | cold generate (s) | cold build (s) | warm regenerate (s) | change: regenerate (s) | change: rebuild (s) | cold generate + build (s) | binary |"
	echo "|---|---|---|---|---|---|---|---|---|---|"
	printf '%s\n' "${rows[@]}"
	echo
	echo "- cold generate: \`crmgen generate\` into an empty directory (entc + entgql, then gqlgen). The run"
	echo "  starts with an empty Go build cache, so the baseline's generation also compiles what entc's schema"
	echo "  loader needs (ent and its dependencies); the examples find those compiled, as on a developer's"
	echo "  machine after the first app."
	echo "- cold build: \`go build\` of the freshly generated app (its own packages, the platform, SQLite and"
	echo "  pgx; the baseline's build also compiles gqlgen's runtime and cel-go for the first time)."
	echo "- warm regenerate: the same model again; the manifest's input hash matches, entc and gqlgen are"
	echo "  skipped and no file is rewritten."
	echo "- change: one field added to one entity; regenerate is \`crmgen generate\` (entc and gqlgen run"
	echo "  again), rebuild the \`go build\` after it. cold generate + build: the first two columns together."
	echo "- model50: 50 generated entities (bench/model50), eight fields each, each belonging to the one"
	echo "  before; the size a large CRM model reaches."
	echo
	echo "Step timings of the last cold generation of each model:"
	echo
	for name in starter hospital b2b-sales model50; do
		echo "\`$name\`:"
		echo '```'
		cat "$WORK/$name.gen.log"
		echo '```'
	done
	echo
	echo "Step timings of the regeneration after the change, \`model50\`:"
	echo '```'
	cat "$WORK/model50.change.log"
	echo '```'

	if [[ -f bench/graphql.md ]]; then
		echo
		cat bench/graphql.md
	fi
	if [[ -n "$KEEP" ]]; then
		echo
		echo "$KEEP"
	fi
} >BENCHMARKS.md
echo "wrote BENCHMARKS.md"
