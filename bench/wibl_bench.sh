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

printf '%-24s %10s %8s %8s %12s %12s %8s\n' file bytes wall-s MB/s "MB/s (CPU)" soundings/s "RSS MB"
for f in "${files[@]}"; do
  repeats=10  # one run of the 10 MiB file is ~0.1 s: average a few
  size=$(stat -c %s "$f")
  [ "$size" -lt 1000000 ] && repeats=50  # small files: average many runs
  /usr/bin/time -f '%M' -o "$work/rss.txt" "$build/sluice" wibl process "$f" -o "$work/out.json" \
    2>"$work/err.txt" >/dev/null
  soundings=$(grep -o '[0-9]* soundings' "$work/err.txt" | cut -d' ' -f1)
  # Wall time (what a user waits) and CPU time (user+sys: what the work costs, steady even when
  # other jobs share the cores).
  /usr/bin/time -f '%e %U %S' -o "$work/loop.txt" bash -c \
    'for _ in $(seq "$1"); do "$2" wibl process "$3" -o "$4" 2>/dev/null; done' \
    _ "$repeats" "$build/sluice" "$f" "$work/out.json"
  read -r wall user sys <"$work/loop.txt"
  python3 - "$(basename "$f")" "$size" "$wall" "$user" "$sys" "$repeats" "$soundings" \
    "$(cat "$work/rss.txt")" <<'PY'
import sys
name, size, wall, user, sys_s, repeats, soundings, rss_kb = sys.argv[1:]
n = int(repeats)
seconds = float(wall) / n
cpu = max((float(user) + float(sys_s)) / n, 1e-3)
mb = int(size) / 1e6
print(f"{name:24s} {int(size):10d} {seconds:8.3f} {mb/seconds:8.1f} {mb/cpu:12.1f} "
      f"{int(soundings)/seconds:12,.0f} {int(rss_kb)/1024:8.1f}")
PY
done
echo "targets: >= 50 MB/s on the 10 MiB file, peak RSS < 50 MB (times include process start; load: $(cut -d' ' -f1-3 /proc/loadavg))"
