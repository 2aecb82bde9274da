#!/usr/bin/env bash
# `sluice monitor --dry_run` (issue 4, s3_upload's flag) finds the run, says it would upload it,
# exits 0, and uploads nothing: the bucket stays empty, no state log marks the run uploaded, no
# success post. A real invocation afterwards still uploads the run (the dry run left no trace that
# would make it skip the run).
# Run through with-ceph-env.sh (CTest does).
. "$(dirname "$0")/lib_illumina.sh"

make_bucket bucket dryrun
start_listener
gen_run nextseq500 "$WORK/sequencer" --files 40 --size 3MB --seed 61
run=$RUN_DIR name=$RUN_NAME
log_dir="$WORK/logs"
cat >"$WORK/config.json" <<JSON
{
  "log_dir": "$log_dir",
  "slack_log_webhook": "$HOOK_URL/log",
  "stable_seconds": 0,
  "monitor": [
    {"monitored_directories": ["$WORK/sequencer"], "bucket": "$bucket", "remote_path": "/dry"}
  ]
}
JSON

run_monitor dry --config "$WORK/config.json" --dry_run
expect_rc "sluice monitor --dry_run" "$MONITOR_RC" 0 "$WORK/dry.out"
grep -qF "$name" "$WORK/dry.out" && pass "the dry run names the run it would upload" \
  || { fail "the dry run output does not name $name"; show "$WORK/dry.out"; }
n=$(bucket_count "$bucket")
[ "$n" = 0 ] && pass "the dry run uploaded nothing" || fail "the dry run uploaded $n object(s)"
state="$log_dir/uploads/$name.upload.log.json"
if [ -f "$state" ] && [ "$(json_get "$state" 'd.get("completed")')" = True ]; then
  fail "the dry run wrote a completed state log"
else pass "no completed state log after the dry run"; fi
mp=$(s3 s3api list-multipart-uploads --bucket "$bucket" --query 'Uploads[].Key' --output text)
[ -z "$mp" ] || [ "$mp" = None ] && pass "no multipart upload started by the dry run" \
  || fail "the dry run started multipart uploads: $mp"
sleep 0.3
[ "$(post_count /log)" = 0 ] && pass "no success post for a dry run" \
  || { fail "the dry run posted:"; posts /log | sed 's/^/    | /'; }

run_monitor real --config "$WORK/config.json"
expect_rc "sluice monitor after the dry run" "$MONITOR_RC" 0 "$WORK/real.out"
want=$(local_keys "$run" "dry/")
got=$(bucket_keys "$bucket")
if [ "$got" = "$want" ]; then pass "the real invocation uploads the run ($(echo "$want" | wc -l) files)"
else
  fail "keys differ from dry/<run>/<relative path> (< expected, > got):"
  diff <(echo "$want") <(echo "$got") | head -n 20 | sed 's/^/    | /'
fi

finish
