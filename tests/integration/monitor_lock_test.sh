#!/usr/bin/env bash
# `sluice monitor` (issue 4) keeps one monitor at a time with s3_upload's lock file,
# <log_dir>/s3_upload.lock (an exclusive flock, research §1.10): while another process holds it
# (here util-linux `flock` in the background) the monitor exits 4 (s3_upload exited 0, which cron
# could not tell from success) and uploads nothing; once the holder is gone the next invocation
# uploads the run.
# Run through with-ceph-env.sh (CTest does).
. "$(dirname "$0")/lib_illumina.sh"
command -v flock >/dev/null || fatal "needs flock (util-linux)"

make_bucket bucket lock
gen_run miseq "$WORK/sequencer" --files 30 --size 1MB --seed 71
run=$RUN_DIR
log_dir="$WORK/logs"
mkdir -p "$log_dir"
lock="$log_dir/s3_upload.lock"
cat >"$WORK/config.json" <<JSON
{
  "log_dir": "$log_dir",
  "stable_seconds": 0,
  "monitor": [
    {"monitored_directories": ["$WORK/sequencer"], "bucket": "$bucket", "remote_path": "/"}
  ]
}
JSON

# the holder: a subshell that takes the lock on fd 9 with flock(1), then becomes `sleep` (exec
# keeps the PID and the descriptor), so killing that one PID releases the lock
(exec 9>>"$lock"; flock -x 9; : >"$WORK/held"; exec sleep 300) &
holder=$!
bg_pid "$holder"
for _ in $(seq 1 100); do [ -e "$WORK/held" ] && break; sleep 0.05; done
[ -e "$WORK/held" ] || fatal "flock did not take $lock"
flock -n "$lock" true && fatal "the lock is not held (flock -n succeeded)"
pass "flock holds $lock"

run_monitor locked --config "$WORK/config.json"
expect_rc "sluice monitor while another process holds the lock" "$MONITOR_RC" 4 "$WORK/locked.out"
n=$(bucket_count "$bucket")
[ "$n" = 0 ] && pass "nothing uploaded while locked out" || fail "$n object(s) uploaded while locked out"

kill "$holder"
wait "$holder" 2>/dev/null || true
flock -n "$lock" true && pass "the lock is free again" || fatal "the lock is still held after killing the holder"
run_monitor free --config "$WORK/config.json"
expect_rc "sluice monitor once the lock is free" "$MONITOR_RC" 0 "$WORK/free.out"
want=$(local_keys "$run" "")
got=$(bucket_keys "$bucket")
if [ "$got" = "$want" ]; then pass "the run is uploaded once the lock is free"
else
  fail "keys differ from <run>/<relative path> (< expected, > got):"
  diff <(echo "$want") <(echo "$got") | head -n 20 | sed 's/^/    | /'
fi
flock -n "$lock" true && pass "the monitor released the lock when it finished" \
  || fail "the lock is still held after the monitor exited"

finish
