#!/usr/bin/env bash
# Benchmark (issue 2): synthetic Serratus summary2 files from a file:// store into SQLite tables.
# Prints runs per second and peak RSS of `sluice run`, and the ratios to the targets
# (>= 2,000 runs/s, <= 150 MB peak RSS on the 2-core machine).
#   bench/serratus_bench.sh [RUNS] [BUILD_DIR]     (defaults: 100000, build/release)
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-100000}"
build="${2:-build/release}"
if [ ! -x "$build/sluice" ]; then
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DSLUICE_BUILD_TESTS=OFF >/dev/null
  cmake --build "$build" -j "$(nproc)" >/dev/null
fi
command -v /usr/bin/time >/dev/null || { echo "needs /usr/bin/time (Debian package 'time')"; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/sluice-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT
"$build/sluice-gen-serratus" --out "$work/incoming/summary2" --runs "$runs" --seed 2020
bytes=$(du -sb "$work/incoming" | cut -f1)

cat >"$work/pipeline.toml" <<'TOML'
[queue]
url = "sqlite://queue.db"

[engine]
idle_poll = "20ms"

[stores.incoming]
url = "file://incoming"

[tables.summary]
url = "sqlite://summary.db"

[[sources]]
name = "summaries"
type = "poll"
store = "incoming"
prefix = "summary2/"
suffix = ".summary"

[[routes]]
name = "nucleotide"
match = { store = "incoming", prefix = "summary2/", suffix = ".summary" }
handler = "serratus-summary"
concurrency = 2
options = { kind = "nucleotide", table = "summary" }
TOML

# Drop the generator's writes from the page cache's dirty list so they do not bill the run.
sync
start=$(date +%s.%N)
/usr/bin/time -f '%M %e %U %S' -o "$work/time.txt" \
  "$build/sluice" --log-format json --log-level warn run --config "$work/pipeline.toml" >"$work/out.txt"
end=$(date +%s.%N)
read -r rss_kb wall user sys <"$work/time.txt"
rows=$(sqlite3 "$work/summary.db" 'SELECT (SELECT count(*) FROM nsra) || " nsra, " || (SELECT count(*) FROM nfamily) || " nfamily, " || (SELECT count(*) FROM nsequence) || " nsequence"')
python3 - "$runs" "$bytes" "$start" "$end" "$rss_kb" "$user" "$sys" "$rows" <<'PY'
import sys
runs, size = int(sys.argv[1]), int(sys.argv[2])
seconds = float(sys.argv[4]) - float(sys.argv[3])
rss_mb = int(sys.argv[5]) / 1024
rate = runs / seconds
print(f"serratus-summary benchmark: {runs} runs ({size/1e6:.1f} MB) file:// -> sqlite://")
print(f"  rows:          {sys.argv[8]}")
print(f"  wall time:     {seconds:.1f} s  (user {float(sys.argv[6]):.1f} s, sys {float(sys.argv[7]):.1f} s)")
print(f"  throughput:    {rate:,.0f} runs/s   target >= 2,000 runs/s  -> {rate/2000:.2f}x target")
print(f"  peak RSS:      {rss_mb:.1f} MB      target <= 150 MB        -> {rss_mb/150:.2f} of budget")
print(f"  3.8 M runs at this rate: {3.8e6/rate/60:.0f} min")
PY
