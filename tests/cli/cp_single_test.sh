#!/usr/bin/env bash
# `sluice cp` of one file follows cp(1) and aws s3 cp: a destination that is an existing folder
# or ends with '/' receives the file under its own name; otherwise the destination is the new
# name (parent folders are created).
source "$(dirname "$0")/lib.sh"
cd "$TMP"

printf 'alpha' >"a file.txt"
mkdir existing
"$SLUICE" cp "a file.txt" existing >/dev/null
expect_eq "into an existing folder" "$(cat "existing/a file.txt")" "alpha"
"$SLUICE" cp "file://$TMP/a file.txt" new/ >/dev/null
expect_eq "into a new folder (trailing slash)" "$(cat "new/a file.txt")" "alpha"
out=$("$SLUICE" cp "a file.txt" deep/er/renamed.txt)
expect_eq "to a new name" "$(cat deep/er/renamed.txt)" "alpha"
expect_contains "summary" "$out" "copied 1 object (5 B) in "
"$SLUICE" cp "a file.txt" "copy.txt" >/dev/null
expect_eq "within one folder" "$(cat copy.txt)" "alpha"
leftovers=$(find . -name .sluice)
expect_eq "no .sluice folders left" "$leftovers" ""
echo "ok"
