#!/usr/bin/env bash
# Builds the AFL++ harnesses (tests/fuzz) with afl-g++-fast + ASan + UBSan in build/fuzz and runs
# the WIBL reader and NMEA0183 fuzzers side by side, each for MINUTES (default 30), at nice 19.
# Needs Debian's afl++ and gcc-12-plugin-dev. Findings land in build/fuzz/out/<target>/default/
# {crashes,hangs}; replay one with `build/fuzz/tests/fuzz/<target> FILE`.
#   tests/fuzz/run.sh [MINUTES]
# Environment: FUZZ_BUILD_ONLY=1 builds and stops; FUZZ_RESUME=1 continues the previous run's
# queue instead of starting from the seeds.
set -euo pipefail
minutes=${1:-30}
root=$(cd "$(dirname "$0")/../.." && pwd)
shared=${SLUICE_SHARED_DIR:-$root/../shared}
build=$root/build/fuzz
data=$shared/data/wibl

# afl-g++-fast (GCC plugin) when it works; Debian 12's plugin aborts with "GCC and plugin have
# incompatible versions" on Debian's own GCC 12.2, so fall back to classic afl-g++.
cxx=
for c in afl-g++-fast afl-g++; do
  if command -v $c >/dev/null && echo "int main(){}" | $c -x c++ - -o /dev/null >/dev/null 2>&1; then
    cxx=$c; break
  fi
done
[[ -n $cxx ]] || { echo "no working AFL++ compiler: apt-get install afl++ gcc-12-plugin-dev" >&2; exit 1; }
echo "compiler: $cxx"

# AFL_USE_ASAN/UBSAN add -fsanitize=address,undefined; GCC's "undefined" leaves out
# float-cast-overflow, which matters here: doubles from the file become integers.
export AFL_USE_ASAN=1 AFL_USE_UBSAN=1
CXX=$cxx cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_FLAGS="-fsanitize=float-cast-overflow -fno-sanitize-recover=all" \
  -DSLUICE_FUZZ=ON -DCMAKE_CXX_COMPILER_LAUNCHER= >/dev/null
nice -n 19 ninja -C "$build" -j1 wibl_reader_fuzz nmea0183_fuzz
unset AFL_USE_ASAN AFL_USE_UBSAN
[[ ${FUZZ_BUILD_ONLY:-0} == 1 ]] && exit 0

# Seeds: cut-down copies of the real files (in build/fuzz only) plus our own synthetic ones.
rm -rf "$build/seeds"
mkdir -p "$build/seeds/nmea0183"
python3 "$root/tests/fuzz/make_seeds.py" "$build/seeds/wibl_reader" \
  "$data"/wibl-python/tests/data/*.wibl "$data"/wibl-python/doc/test/test.bin "$data"/derived/*.wibl
cp "$root"/tests/fuzz/seeds/nmea0183/* "$build/seeds/nmea0183/"
cp "$data/nmea/pynmea2_examples_data.log" "$build/seeds/nmea0183/"
# A few hundred distinct real sentences, one per file (field 2 of "<elapsed> <sentence>").
for f in "$data"/derived/*.nmea0183.txt; do
  cut -d' ' -f2- "$f" | awk '!seen[substr($0,1,6)]++ || NR % 97 == 0' | head -40 |
    split -l 1 - "$build/seeds/nmea0183/$(basename "$f")."
done

# ASan: abort (AFL needs the signal), no symbolising while fuzzing, and an allocation above
# 256 MiB is a finding ("unbounded allocation"), not a quiet success.
export ASAN_OPTIONS=abort_on_error=1:symbolize=0:detect_leaks=0:allocator_may_return_null=0:max_allocation_size_mb=256:malloc_context_size=0
export UBSAN_OPTIONS=halt_on_error=1:abort_on_error=1:print_stacktrace=0
export AFL_SKIP_CPUFREQ=1 AFL_NO_UI=1 AFL_NO_AFFINITY=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1
input() { if [[ ${FUZZ_RESUME:-0} == 1 && -d $build/out/$1 ]]; then echo -; else echo "$build/seeds/$1"; fi; }
mkdir -p "$build/out"
nice -n 19 afl-fuzz -i "$(input wibl_reader)" -o "$build/out/wibl_reader" -m none -t 1000 \
  -V $((minutes * 60)) -- "$build/tests/fuzz/wibl_reader_fuzz" >"$build/out/wibl_reader.log" 2>&1 &
reader=$!
nice -n 19 afl-fuzz -i "$(input nmea0183)" -o "$build/out/nmea0183" -m none -t 1000 \
  -x "$root/tests/fuzz/nmea0183.dict" -V $((minutes * 60)) -- "$build/tests/fuzz/nmea0183_fuzz" \
  >"$build/out/nmea0183.log" 2>&1 &
parser=$!
trap 'kill $reader $parser 2>/dev/null || true' INT TERM
wait $reader $parser || true
for t in wibl_reader nmea0183; do
  s=$build/out/$t/default/fuzzer_stats
  echo "== $t: $(grep -E '^(run_time|execs_done|execs_per_sec|corpus_count|saved_crashes|saved_hangs) ' "$s" | tr -s ' ' | tr '\n' ' ')"
done
