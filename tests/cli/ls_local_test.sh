#!/usr/bin/env bash
# `sluice ls` prints like aws s3 ls ("2026-11-21 09:30:01      12345 name", "PRE dir/" without
# --recursive), --json gives JSON lines; a folder lists its contents; nothing matched exits 1, a
# missing folder 1, a bad URI 2.
source "$(dirname "$0")/lib.sh"
cd "$TMP"

mkdir -p lake/run1/sub lake/empty
printf '12345' >lake/run1/a.txt
printf 'x' >lake/run1/sub/b.txt
printf '' >lake/top.txt

out=$("$SLUICE" ls lake)
expected_pre="$(printf '%30s run1/' PRE)"
expect_contains "PRE line" "$out" "$expected_pre"
grep -Eq '^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}          0 top\.txt$' <<<"$out" ||
  fail "object line not in aws s3 ls form: $out"
expect_eq "entries" "$(wc -l <<<"$out")" 2

out=$("$SLUICE" ls "file://$TMP/lake/run1/")
expect_contains "object in a folder" "$out" "      5 a.txt"
expect_contains "sub folder" "$out" "PRE sub/"

out=$("$SLUICE" ls -r lake)
expect_eq "recursive entries" "$(wc -l <<<"$out")" 3
expect_contains "recursive full key" "$out" "          1 run1/sub/b.txt"
if grep -q PRE <<<"$out"; then fail "PRE lines with --recursive: $out"; fi

out=$("$SLUICE" ls --json -r lake/run1)
expect_contains "json" "$out" '{"key":"a.txt","size":5,"etag":"827ccb0eea8a706c4c34a16891f84e7b","last_modified":"'
expect_contains "json nested" "$out" '"key":"sub/b.txt","size":1,'
out=$("$SLUICE" ls --json lake)
expect_contains "json prefix" "$out" '{"prefix":"run1/"}'

out=$("$SLUICE" ls lake/run1/a)
expect_contains "a path that is no folder is a prefix" "$out" "a.txt"

set +e
"$SLUICE" ls lake/empty >/dev/null 2>&1; empty=$?
"$SLUICE" ls missing/folder >/dev/null 2>&1; missing=$?
"$SLUICE" ls gopher://x >/dev/null 2>&1; bad=$?
set -e
expect_eq "nothing matched" "$empty" 1
expect_eq "missing folder" "$missing" 1
expect_eq "bad URI" "$bad" 2
[ ! -e missing ] || fail "ls created a folder"
[ ! -e lake/.sluice ] || fail "ls left lake/.sluice"
echo "ok"
