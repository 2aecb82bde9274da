#!/usr/bin/env bash
# Benchmark (issue 6): `sluice wibl process` throughput (MB/s of .wibl input, soundings/s) and
# peak RSS on the shared sample files and on a generated 10 MiB logger file (the firmware's
# rotation size). Targets: >= 50 MB/s, peak RSS < 50 MB.
#   bench/wibl_bench.sh [BUILD_DIR] [SHARED_DIR]     (defaults: build/release, ../shared)
set -euo pipefail
cd "$(dirname "$0")/.."
build="${1:-build/release}"
shared="${2:-../shared}"
if [ ! -x "$build/sluice" ] || [ ! -x "$build/sluice-gen-wibl" ]; then
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DSLUICE_BUILD_TESTS=OFF >/dev/null
  cmake --build "$build" -j "${JOBS:-$(nproc)}" --target sluice sluice-gen-wibl >/dev/null
fi
command -v /usr/bin/time >/dev/null || { echo "needs /usr/bin/time (Debian package 'time')"; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/sluice-wibl-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT
"$build/sluice-gen-wibl" --out "$work/generated-10MiB.wibl" --size 10MiB --seed 2024

files=("$work/generated-10MiB.wibl")
for f in "$shared"/data/wibl/wibl-python/tests/data/test-algo-dedup.wibl \
         "$shared"/data/wibl/wibl-python/doc/test/test.bin; do
  [ -f "$f" ] && files+=("$f")
done

printf '%-32s %10s %9s %10s %12s %9s\n' file bytes seconds MB/s soundings/s "RSS MB"
for f in "${files[@]}"; do
  repeats=1
  size=$(stat -c %s "$f")
  [ "$size" -lt 1000000 ] && repeats=50  # small files: average many runs
  /usr/bin/time -f '%M' -o "$work/rss.txt" "$build/sluice" wibl process "$f" -o "$work/out.json" \
    2>"$work/err.txt" >/dev/null
  soundings=$(grep -o '[0-9]* soundings' "$work/err.txt" | cut -d' ' -f1)
  start=$(date +%s.%N)
  for _ in $(seq "$repeats"); do
    "$build/sluice" wibl process "$f" -o "$work/out.json" 2>/dev/null
  done
  end=$(date +%s.%N)
  python3 - "$(basename "$f")" "$size" "$start" "$end" "$repeats" "$soundings" "$(cat "$work/rss.txt")" <<'PY'
import sys
name, size, start, end, repeats, soundings, rss_kb = sys.argv[1:]
seconds = (float(end) - float(start)) / int(repeats)
print(f"{name:32s} {int(size):10d} {seconds:9.3f} {int(size)/1e6/seconds:10.1f} "
      f"{int(soundings)/seconds:12,.0f} {int(rss_kb)/1024:9.1f}")
PY
done
echo "targets: >= 50 MB/s on the 10 MiB file, peak RSS < 50 MB (the time includes process start)"
