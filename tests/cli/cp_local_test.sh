#!/usr/bin/env bash
# `sluice cp -r` between folders: a generated tree (spaces and unicode in names, an empty file, a
# 20 MiB file, many small ones) arrives byte-identical with nothing left beside it, `sluice ls`
# lists it. Exit codes: a missing source is 1 (a runtime NotFound, as a missing object in a
# bucket), a bad URI or a usage mistake is 2.
source "$(dirname "$0")/lib.sh"
cd "$TMP"

mkdir -p "src/run 1/Data/Intensities" "src/ünïcødé/ß"
printf 'Sample_ID\nS1\n' >"src/run 1/SampleSheet.csv"
: >"src/run 1/RTAComplete.txt"
head -c $((20 * 1024 * 1024)) /dev/urandom >"src/run 1/Data/Intensities/big.bin"
echo "grüße" >"src/ünïcødé/ß/naïve file.txt"
for i in $(seq 1 50); do echo "$i" >"src/run 1/Data/small-$i.txt"; done
objects=$(find src -type f | wc -l)

out=$("$SLUICE" --log-format json cp -r --jobs 4 src "file://$TMP/dst" 2>err.txt) ||
  fail "cp -r exited $?: $(cat err.txt)"
expect_contains "summary" "$out" "copied $objects objects (20.0 MiB)"
expect_contains "summary" "$out" "; 0 failed"
[ "$(wc -l <<<"$out")" = 1 ] || fail "summary is not one line: $out"
if grep -q $'\r' err.txt; then fail "a progress bar was drawn on a non-terminal stderr"; fi

# Byte-identical, and no extra files (hidden ones included: the store's .sluice/ is gone).
(cd src && find . -type f | sort) >src.list
(cd dst && find . -type f | sort) >dst.list
diff src.list dst.list >/dev/null || fail "the copied file list differs: $(diff src.list dst.list)"
while IFS= read -r file; do
  cmp -s "src/$file" "dst/$file" || fail "content differs: $file"
done <src.list
[ ! -e src/.sluice ] || fail "src/.sluice left behind"
[ ! -e dst/.sluice ] || fail "dst/.sluice left behind"

# ls lists every file with its size, right-aligned as aws s3 ls does.
listing=$("$SLUICE" ls --recursive dst)
expect_eq "ls -r line count" "$(wc -l <<<"$listing")" "$objects"
expect_contains "ls -r big file" "$listing" "  20971520 run 1/Data/Intensities/big.bin"
expect_contains "ls -r empty file" "$listing" "         0 run 1/RTAComplete.txt"
expect_contains "ls -r unicode" "$listing" "         8 ünïcødé/ß/naïve file.txt"
listing=$("$SLUICE" ls dst)
expect_contains "ls PRE" "$listing" "                           PRE run 1/"
expect_contains "ls PRE" "$listing" "                           PRE ünïcødé/"

# Copying again overwrites in place.
"$SLUICE" cp -r --no-progress src dst >/dev/null 2>err.txt || fail "second cp exited $?: $(cat err.txt)"
cmp -s "src/run 1/Data/Intensities/big.bin" "dst/run 1/Data/Intensities/big.bin" || fail "big.bin differs"

# Exit codes.
code_of() { set +e; "$@" >/dev/null 2>>codes.log; local code=$?; set -e; echo "$code"; }
expect_eq "missing source file" "$(code_of "$SLUICE" cp nope/file.txt out.txt)" 1
expect_eq "missing source folder" "$(code_of "$SLUICE" cp -r nope out)" 1
[ ! -e nope ] && [ ! -e out ] || fail "a failed cp created folders"
expect_eq "unsupported scheme" "$(code_of "$SLUICE" cp ftp://host/x out.txt)" 2
expect_eq "s3 without bucket" "$(code_of "$SLUICE" cp "src/run 1/SampleSheet.csv" s3://)" 2
expect_eq "folder without -r" "$(code_of "$SLUICE" cp src out)" 2
expect_eq "file with -r" "$(code_of "$SLUICE" cp -r "src/run 1/SampleSheet.csv" out)" 2
expect_eq "destination inside source" "$(code_of "$SLUICE" cp -r src src/inner)" 2
expect_eq "jobs 0" "$(code_of "$SLUICE" cp --jobs 0 a b)" 2
expect_eq "missing DST" "$(code_of "$SLUICE" cp a)" 2
expect_contains "the missing source is named" "$(cat codes.log)" "nope/file.txt"
expect_contains "the hint for a folder" "$(cat codes.log)" "add --recursive"
echo "ok"
