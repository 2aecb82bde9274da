#!/usr/bin/env bash
# Issue 5: a `listing` source backfills a prefix once. `sluice run` killed (-9) in the middle of
# the listing resumes after the last page it enqueued; every object ends up processed exactly
# once; a third run finds the listing complete and lists nothing.
source "$(dirname "$0")/lib.sh"
cd "$TMP"

cat >pipeline.toml <<'TOML'
[queue]
url = "sqlite://queue.db"
lease = "1s"

[engine]
idle_poll = "20ms"

[stores.archive]
url = "file://archive"

[[sources]]
name = "backfill"
type = "listing"
store = "archive"
prefix = "runs/"
suffix = ".txt"

[[routes]]
name = "measure"
match = { store = "archive", prefix = "runs/", events = ["ObjectCreated:Backfill"] }
handler = "noop"
concurrency = 4
TOML

objects=30000
python3 - "$objects" <<'PY'
import os, sys
n = int(sys.argv[1])
for i in range(n):
    folder = f"archive/runs/{i // 1000:03}"
    os.makedirs(folder, exist_ok=True)
    with open(f"{folder}/o{i:05}.txt", "w") as f:
        f.write(str(i))
open("archive/runs/skip.log", "w").write("not a .txt")
PY

# Run 1: killed as soon as the listing reports progress (every 10,000 objects).
"$SLUICE" run --config pipeline.toml 2>run1.log &
pid=$!
for _ in $(seq 1 1200); do
  grep -q "listed .* objects (.* enqueued), at key" run1.log && break
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.02
done
kill -9 "$pid" 2>/dev/null || true
wait "$pid" 2>/dev/null || true
grep -q "listing complete" run1.log && skip "the listing of $objects objects ended before it could be interrupted"
grep -q "at key" run1.log || fail "no progress line in run 1: $(tail -3 run1.log)"
before=$(sql queue.db 'SELECT count(*) FROM jobs')
[ "$before" -lt "$objects" ] || fail "run 1 enqueued every object ($before) before the kill"
echo "killed after $before of $objects objects were enqueued"

# Run 2: resumes after the last enqueued page and processes everything.
"$SLUICE" run --config pipeline.toml 2>run2.log || fail "run 2 failed: $(tail -5 run2.log)"
expect_contains "run 2 resumes" "$(cat run2.log)" "resuming the listing after key runs/"
expect_contains "run 2 completes" "$(cat run2.log)" "listing complete: $((objects + 1)) objects listed, $objects enqueued"
expect_eq "jobs" "$(sql queue.db 'SELECT count(*) FROM jobs')" "$objects"
expect_eq "distinct keys" "$(sql queue.db "SELECT count(DISTINCT json_extract(event, '\$.key')) FROM jobs")" "$objects"
expect_eq "succeeded" "$(sql queue.db "SELECT count(*) FROM jobs WHERE state='succeeded'")" "$objects"
# Each job succeeded once: no attempt other than those cut short by the kill.
expect_eq "successful attempts" "$(sql queue.db "SELECT count(*) FROM attempts WHERE outcome='succeeded'")" "$objects"

# Run 3: complete; nothing listed, nothing enqueued.
"$SLUICE" run --config pipeline.toml 2>run3.log || fail "run 3 failed: $(tail -5 run3.log)"
expect_contains "run 3" "$(cat run3.log)" "is complete ($((objects + 1)) objects); nothing to do"
expect_eq "jobs after run 3" "$(sql queue.db 'SELECT count(*) FROM jobs')" "$objects"
status=$("$SLUICE" status --config pipeline.toml)
expect_contains "status" "$status" "complete: $((objects + 1)) objects listed, $objects enqueued"

# `sluice sources reset` starts it over (the queue's dedupe keeps the jobs from running again).
"$SLUICE" sources reset --config pipeline.toml backfill | grep -q "state forgotten" || fail "reset"
expect_contains "status after reset" "$("$SLUICE" status --config pipeline.toml)" "not started"
echo "ok"
