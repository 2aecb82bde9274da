#!/usr/bin/env bash
# The quickstart of the README: installs what is missing, builds sluice, generates realistic
# synthetic Serratus summary files, runs the Serratus pipeline on the embedded default (a local
# folder as the object store, SQLite for queue and tables) and prints what it produced; then takes
# a generated WIBL logger file through examples/wibl.toml (process, validate, dry-run submission).
#   scripts/quickstart.sh [RUNS]      (default 2000 runs; work folder .quickstart/)
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-2000}"

scripts/install-deps.sh --build
echo "building sluice (Release) in build/release …"
mkdir -p build/release
if ! { cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=Release -DSLUICE_BUILD_TESTS=OFF &&
       cmake --build build/release -j "$(nproc)"; } >build/release/build.log 2>&1; then
  tail -40 build/release/build.log
  echo "build failed; the whole log is build/release/build.log" >&2
  exit 1
fi

work=.quickstart
rm -rf "$work"
mkdir -p "$work"
cp examples/quickstart.toml "$work/pipeline.toml"
build/release/sluice-gen-serratus --out "$work/incoming/summary2" --runs "$runs" --seed 1

echo
echo "== sluice run --config $work/pipeline.toml"
build/release/sluice --log-format human run --config "$work/pipeline.toml"

echo
echo "== What it produced"
db="$work/summary.db"
for table in nsra nfamily nsequence; do
  printf '  table %-10s %8s rows\n' "$table" "$(sqlite3 "$db" "SELECT count(*) FROM $table")"
done
for prefix in run family sequence; do
  printf '  objects %-8s %8s under %s\n' "$prefix/" "$(find "$work/lake/$prefix" -type f | wc -l)" "$work/lake/$prefix/"
done
echo
echo "  Top families by runs with score >= 50 (SELECT family_name, count(*) FROM nfamily …):"
sqlite3 -column "$db" "SELECT family_name, count(*) AS runs, round(avg(percent_identity), 1) AS mean_pctid
                       FROM nfamily WHERE score >= 50 GROUP BY family_name ORDER BY runs DESC LIMIT 5" |
  sed 's/^/    /'
echo
echo "Run it again: nothing changes (every job is deduplicated):"
build/release/sluice --log-format human run --config "$work/pipeline.toml" 2>/dev/null

echo
echo "== WIBL bathymetry: examples/wibl.toml on a generated 10 MiB logger file (submission as a dry run)"
mkdir -p "$work/wibl/incoming"
build/release/sluice-gen-wibl --out "$work/wibl/incoming/logger-1.wibl" --seed 1 >/dev/null
sed -e 's|^token = .*|dry_run = true|' examples/wibl.toml >"$work/wibl.toml"
# The generated logger calls its vessel SLUICE-<UUID>: the trusted-node id must be that prefix.
WIBL_PROVIDER_ID=SLUICE build/release/sluice --log-format human run --config "$work/wibl.toml"
build/release/sluice wibl validate "$work/wibl/validated/logger-1.json" | tail -n 1 | sed 's/^/  /'
