#!/usr/bin/env bash
# Issue 5: `sluice serve` with a poll source remembers what it listed (key → ETag in the source
# state, here the queue's own database). Stopped with SIGTERM and restarted, it runs no job a
# second time, even after the queue forgot its succeeded jobs, while a file added and a file
# rewritten during the downtime are processed.
source "$(dirname "$0")/lib.sh"
cd "$TMP"

cat >pipeline.toml <<'TOML'
[queue]
url = "sqlite://queue.db"

[engine]
idle_poll = "20ms"
shutdown_grace = "5s"

[stores.incoming]
url = "file://incoming"

[stores.lake]
url = "file://lake"

[[sources]]
name = "drop"
type = "poll"
store = "incoming"
prefix = "runs/"
interval = "100ms"

[[routes]]
name = "mirror"
match = { store = "incoming", prefix = "runs/" }
handler = "copy"
options = { store = "lake" }
TOML

files=20
mkdir -p incoming/runs
for i in $(seq 1 "$files"); do echo "run $i" >"incoming/runs/r$i.txt"; done

jobs_in() { sqlite3 queue.db "SELECT count(*) FROM jobs WHERE state='$1'" 2>/dev/null || echo 0; }
serve_until() {  # serve_until LOG SUCCEEDED: serve until that many jobs succeeded, then SIGTERM
  "$SLUICE" serve --config pipeline.toml 2>"$1" &
  local pid=$!
  for _ in $(seq 1 600); do
    [ "$(jobs_in succeeded)" -ge "$2" ] && break
    sleep 0.05
  done
  sleep 1  # ten more poll passes: anything emitted twice would show up as jobs
  kill -TERM "$pid"
  wait "$pid" || fail "serve did not exit 0 after SIGTERM: $(tail -5 "$1")"
}

serve_until serve1.log "$files"
expect_eq "jobs of the first serve" "$(sql queue.db 'SELECT count(*) FROM jobs')" "$files"
expect_eq "objects copied" "$(find lake/runs -type f | wc -l)" "$files"

# While sluice is down: one file added, one rewritten. And the queue forgets its succeeded jobs
# (as an amqp:// queue never remembers them), so only the source state prevents re-runs.
echo "added while down" >incoming/runs/new.txt
echo "run 3, rewritten" >incoming/runs/r3.txt
sqlite3 queue.db "DELETE FROM jobs WHERE state = 'succeeded'"

serve_until serve2.log 2
expect_eq "jobs of the second serve" "$(sql queue.db 'SELECT count(*) FROM jobs')" 2
expect_eq "their keys" "$(sql queue.db "SELECT group_concat(json_extract(event, '\$.key'), ' ') FROM (SELECT event FROM jobs ORDER BY json_extract(event, '\$.key'))")" \
  "runs/new.txt runs/r3.txt"
expect_eq "succeeded" "$(jobs_in succeeded)" 2
expect_eq "rewritten copy" "$(cat lake/runs/r3.txt)" "run 3, rewritten"
expect_eq "added copy" "$(cat lake/runs/new.txt)" "added while down"

status=$("$SLUICE" status --config pipeline.toml)
expect_contains "status" "$status" "drop"
expect_contains "status" "$status" "$((files + 1)) objects remembered, mark runs/r9.txt"

# A deleted object is forgotten: written again with the same bytes, it is processed again.
rm incoming/runs/r5.txt
serve_until serve3.log 2
echo "run 5" >incoming/runs/r5.txt
sqlite3 queue.db "DELETE FROM jobs"
serve_until serve4.log 1
expect_eq "jobs after re-creating a deleted file" "$(sql queue.db "SELECT json_extract(event, '\$.key') FROM jobs")" "runs/r5.txt"
echo "ok"
