#!/usr/bin/env bash
# On a terminal `sluice cp` draws a progress bar on stderr, rewritten in place and cleared before
# the summary; --no-progress draws none.
source "$(dirname "$0")/lib.sh"
cd "$TMP"
command -v script >/dev/null || skip "script(1) (util-linux) is needed for a pseudo-terminal"

mkdir src
for i in 1 2 3 4; do head -c $((64 * 1024 * 1024)) /dev/zero >"src/f$i.bin"; done
# The first redraw comes after 100 ms; 256 MiB take longer than that to copy.
script -qec "\"$SLUICE\" cp -r --jobs 1 src dst" /dev/null >tty.txt </dev/null
expect_contains "summary" "$(cat tty.txt)" "copied 4 objects (256.0 MiB)"
if grep -q 'objects' <(tr '\r' '\n' <tty.txt | grep -v '^copied'); then
  grep -q $'\x1b\\[K' tty.txt || fail "the bar does not clear its line"
  tr '\r' '\n' <tty.txt | grep -q 'MiB/256.0 MiB' || fail "the bar does not show bytes done/total"
else
  echo "note: the copy finished before the first redraw; the bar was not drawn"
fi
# The summary starts on a clean line: right after a line clear, not after bar text.
tr '\r' '\n' <tty.txt | sed 's/\x1b\[K//g' | grep -q '^copied 4 objects' ||
  fail "summary is not on a clean line"

rm -rf dst
script -qec "\"$SLUICE\" cp -r --no-progress src dst" /dev/null >tty.txt </dev/null
if grep -q $'\x1b\\[K' tty.txt; then fail "--no-progress drew a bar"; fi
expect_contains "summary" "$(cat tty.txt)" "copied 4 objects"
echo "ok"
