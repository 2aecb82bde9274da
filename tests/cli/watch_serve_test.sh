#!/usr/bin/env bash
# Issue 5: `sluice serve` with a `watch` source on a folder store and the builtin `copy` handler.
# A file written slowly in pieces (pauses shorter than stable_for) and a file in a sub-folder
# created while serving are each copied exactly once, byte-identical, only after they stopped
# changing; SIGTERM ends serve with exit 0. Then `sluice run` on the same config copies a file
# dropped meanwhile (one scan), and re-finds the old files without new jobs (dedupe key).
source "$(dirname "$0")/lib.sh"
cd "$TMP"

mkdir -p drop mirror
cat >pipeline.toml <<TOML
[queue]
url = "sqlite://queue.db"

[engine]
idle_poll = "20ms"
shutdown_grace = "5s"

[stores.drop]
url = "file://drop"

[stores.mirror]
url = "file://mirror"

[[sources]]
name = "instrument"
type = "watch"
store = "drop"
stable_for = "1s"

[[routes]]
name = "mirror"
match = { store = "drop" }
handler = "copy"
options = { store = "mirror" }
TOML

jobs_of() {  # jobs_of KEY: how many jobs (any state) carry KEY
  "$SLUICE" jobs --config pipeline.toml list --json -n 0 | grep -c "\"key\":\"$1\"" || true
}
succeeded() { "$SLUICE" jobs --config pipeline.toml list --state succeeded --json -n 0 | wc -l; }

"$SLUICE" --log-format json serve --config pipeline.toml 2>serve.log &
pid=$!
for _ in $(seq 1 100); do
  grep -q "source 'instrument': watching" serve.log && break
  sleep 0.1
done
expect_contains "the chosen mode is logged" "$(cat serve.log)" "with inotify"

# An instrument writing a file in 5 pieces, 0.3 s apart (stable_for is 1 s).
for i in 1 2 3 4 5; do head -c 65536 /dev/urandom >"piece$i"; done
for i in 1 2 3 4 5; do
  cat "piece$i" >>drop/slow.raw
  sleep 0.3
done
cat piece1 piece2 piece3 piece4 piece5 >expected.raw
# A run folder created while serving, nested, with a file in it at once.
mkdir -p drop/run2/lane1
printf 'ACGT\n%.0s' $(seq 1 1000) >drop/run2/lane1/reads.fastq
printf 'dot-files are not objects\n' >drop/.notes

for _ in $(seq 1 300); do
  [ "$(succeeded)" -ge 2 ] && break
  sleep 0.1
done
expect_eq "succeeded jobs" "$(succeeded)" 2
cmp drop/slow.raw mirror/slow.raw || fail "mirror/slow.raw differs from what was written"
cmp expected.raw mirror/slow.raw || fail "mirror/slow.raw is not the five pieces"
cmp drop/run2/lane1/reads.fastq mirror/run2/lane1/reads.fastq || fail "mirror/run2/lane1/reads.fastq differs"
# Once each: a copy of a partial slow.raw would have been a job of its own (another ETag).
expect_eq "jobs of slow.raw" "$(jobs_of slow.raw)" 1
expect_eq "jobs of run2/lane1/reads.fastq" "$(jobs_of run2/lane1/reads.fastq)" 1
[ ! -e mirror/.notes ] || fail "a dot-file was copied"

kill -TERM "$pid"
wait "$pid" || fail "serve did not exit 0 after SIGTERM: $(tail -5 serve.log)"
expect_contains "the source stopped" "$(cat serve.log)" "stopped watching"

# `sluice run`: one scan of the folder.
printf 'dropped while no serve was running\n' >drop/later.txt
"$SLUICE" --log-format json run --config pipeline.toml >run.out 2>run.log || fail "run failed: $(tail -5 run.log)"
cmp drop/later.txt mirror/later.txt || fail "run did not copy later.txt"
expect_eq "jobs in total" "$("$SLUICE" jobs --config pipeline.toml list --json -n 0 | wc -l)" 3
echo "ok"
