#!/usr/bin/env bash
# `sluice monitor` (issue 4) does not upload a run while one of its files is still growing, even
# when the completion marker is there: a background loop appends to Logs/growing.log every 0.1 s;
# with stable_seconds 1 the monitor sees the file change between its two looks, exits 0 and
# uploads nothing of that run (and writes no completed state log). Once the writer stops, the next
# invocation uploads the whole run, the grown file with its final bytes.
# Run through with-ceph-env.sh (CTest does).
. "$(dirname "$0")/lib_illumina.sh"

make_bucket bucket growing
gen_run miseq "$WORK/sequencer" --files 40 --size 3MB --seed 31
run=$RUN_DIR name=$RUN_NAME
log_dir="$WORK/logs"
cat >"$WORK/config.json" <<JSON
{
  "log_dir": "$log_dir",
  "stable_seconds": 1,
  "monitor": [
    {"monitored_directories": ["$WORK/sequencer"], "bucket": "$bucket", "remote_path": "/"}
  ]
}
JSON

mkdir -p "$run/Logs"
grow="$run/Logs/growing.log"
: >"$grow"
# the writer: appends a line every 0.1 s until killed (it also stops by itself after 5 minutes)
(for i in $(seq 1 3000); do echo "cycle $i $(date +%s%N)" >>"$grow"; sleep 0.1; done) &
writer=$!
bg_pid "$writer"
sleep 0.3

run_monitor growing --config "$WORK/config.json"
expect_rc "sluice monitor while a file grows" "$MONITOR_RC" 0 "$WORK/growing.out"
kill -0 "$writer" 2>/dev/null && pass "the writer was still appending when the monitor finished" \
  || fail "the writer ended before the monitor did (the test proves nothing)"
n=$(bucket_count "$bucket")
[ "$n" = 0 ] && pass "nothing of the growing run was uploaded" \
  || { fail "$n object(s) of the growing run were uploaded:"; bucket_keys "$bucket" | head -n 10 | sed 's/^/    | /'; }
state="$log_dir/uploads/$name.upload.log.json"
if [ -f "$state" ] && [ "$(json_get "$state" 'd.get("completed")')" = True ]; then
  fail "the state log marks the growing run completed"
else
  pass "no completed state log for the growing run"
fi

# stop the writer, let the file settle, then the next invocation takes the run
kill "$writer" 2>/dev/null || true
wait "$writer" 2>/dev/null || true
sleep 0.2
size=$(stat -c %s "$grow")
run_monitor settled --config "$WORK/config.json"
expect_rc "sluice monitor after the writer stopped" "$MONITOR_RC" 0 "$WORK/settled.out"
want=$(local_keys "$run" "")
got=$(bucket_keys "$bucket")
if [ "$got" = "$want" ]; then
  pass "the whole run is uploaded ($(echo "$want" | wc -l) files, Logs/growing.log included)"
else
  fail "keys differ from <run>/<relative path> (< expected, > got):"
  diff <(echo "$want") <(echo "$got") | head -n 20 | sed 's/^/    | /'
fi
etag=$(bucket_rows "$bucket" | awk -F'\t' -v k="$name/Logs/growing.log" '$1 == k { print $3 "\t" $2 }')
[ "$etag" = "$(md5_etag "$grow")"$'\t'"$size" ] \
  && pass "Logs/growing.log has its final $size bytes in the bucket" \
  || fail "Logs/growing.log in the bucket: ETag/size '$etag', local $(md5_etag "$grow") $size"
check_state_log "$log_dir" "$run" "$bucket" ""

finish
