#!/usr/bin/env bash
# `sluice monitor` (issue 4) holds a run with two differing samplesheets and no SampleSheet.csv
# (s3_upload skipped such runs silently forever, research §1.5): nothing is uploaded, one alert
# naming both files goes to slack_alert_webhook, and the next invocation does not alert again.
# When SampleSheet.csv appears, the run is picked up and uploaded.
# Run through with-ceph-env.sh (CTest does).
. "$(dirname "$0")/lib_illumina.sh"

make_bucket bucket held
start_listener
gen_run novaseq6000 "$WORK/sequencer" --files 40 --size 3MB --seed 41
run=$RUN_DIR name=$RUN_NAME
mv "$run/SampleSheet.csv" "$run/SampleSheet_lane1.csv"
sed 's/_assay_1/_assay_2/' "$run/SampleSheet_lane1.csv" >"$run/CorrectedSampleSheet.csv"
cmp -s "$run/SampleSheet_lane1.csv" "$run/CorrectedSampleSheet.csv" && fatal "the two samplesheets are identical"
log_dir="$WORK/logs"
cat >"$WORK/config.json" <<JSON
{
  "log_dir": "$log_dir",
  "slack_log_webhook": "$HOOK_URL/log",
  "slack_alert_webhook": "$HOOK_URL/alert",
  "stable_seconds": 1,
  "monitor": [
    {"monitored_directories": ["$WORK/sequencer"], "bucket": "$bucket", "remote_path": "/"}
  ]
}
JSON

run_monitor first --config "$WORK/config.json"
expect_rc "sluice monitor with two differing samplesheets" "$MONITOR_RC" 0 "$WORK/first.out"
run_monitor second --config "$WORK/config.json"
expect_rc "sluice monitor again" "$MONITOR_RC" 0 "$WORK/second.out"
sleep 0.5
n=$(bucket_count "$bucket")
[ "$n" = 0 ] && pass "nothing of the held run was uploaded" \
  || { fail "$n object(s) of the held run were uploaded"; bucket_keys "$bucket" | head -n 5 | sed 's/^/    | /'; }
alerts=$(posts /alert)
if [ "$(post_count /alert)" = 1 ]; then
  pass "exactly one alert over two invocations"
  for f in SampleSheet_lane1.csv CorrectedSampleSheet.csv "$name"; do
    [[ "$alerts" == *"$f"* ]] && pass "the alert names $f" || fail "the alert does not name $f: $alerts"
  done
else
  fail "expected exactly one alert over two invocations, got $(post_count /alert):"
  echo "$alerts" | sed 's/^/    | /'
  show "$WORK/first.out"
fi
[ "$(post_count /log)" = 0 ] && pass "no success post for a held run" \
  || { fail "success post(s) for a held run:"; posts /log | sed 's/^/    | /'; }

# SampleSheet.csv settles it
cp "$run/CorrectedSampleSheet.csv" "$run/SampleSheet.csv"
run_monitor resolved --config "$WORK/config.json"
expect_rc "sluice monitor once SampleSheet.csv exists" "$MONITOR_RC" 0 "$WORK/resolved.out"
want=$(local_keys "$run" "")
got=$(bucket_keys "$bucket")
if [ "$got" = "$want" ]; then
  pass "with SampleSheet.csv present the run is uploaded (all three samplesheets included)"
else
  fail "keys differ from <run>/<relative path> (< expected, > got):"
  diff <(echo "$want") <(echo "$got") | head -n 20 | sed 's/^/    | /'
fi
sleep 0.5
[ "$(post_count /alert)" = 1 ] && pass "still one alert in all" \
  || { fail "more alerts:"; posts /alert | sed 's/^/    | /'; }
want_post="\":white_check_mark:  *S3 Upload*: Successfully uploaded 1 run\\n\\t\\t• $name\""
[ "$(posts /log)" = "$want_post" ] && pass "success post: $want_post" \
  || { fail "success post: expected $want_post, got:"; posts /log | sed 's/^/    | /'; }

finish
