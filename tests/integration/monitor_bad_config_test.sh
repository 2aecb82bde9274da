#!/usr/bin/env bash
# `sluice monitor` (issue 4) validates the whole config before doing anything: a config with
# seven planted errors exits 2 and names every one by its JSON path ($.monitor[0].bucket, ...),
# all in one go, and uploads nothing (a valid section points at a complete run and a real bucket).
# Also exit 2: a config that is not JSON, a missing config file, and no --config at all.
# Run through with-ceph-env.sh (CTest does).
. "$(dirname "$0")/lib_illumina.sh"

make_bucket bucket badcfg
gen_run miseq "$WORK/sequencer" --files 30 --size 1MB --seed 51
log_dir="$WORK/logs"

# planted: 1 max_threads is a string; 2 unknown top-level key; 3 stable_seconds < 0;
# 4 completion not "instrument"/"any"; 5 monitor[0] has no bucket; 6 monitor[0].sample_regex does
# not compile; 7 monitor[1].monitored_directories names a folder that does not exist.
cat >"$WORK/config.json" <<JSON
{
  "max_threads": "8",
  "max_corez": 2,
  "stable_seconds": -1,
  "completion": "sometimes",
  "log_dir": "$log_dir",
  "monitor": [
    {"monitored_directories": ["$WORK/sequencer"], "remote_path": "/", "sample_regex": "(unclosed"},
    {"monitored_directories": ["$WORK/no-such-sequencer"], "bucket": "$bucket", "remote_path": "/"},
    {"monitored_directories": ["$WORK/sequencer"], "bucket": "$bucket", "remote_path": "/valid"}
  ]
}
JSON
paths=('$.max_threads' '$.max_corez' '$.stable_seconds' '$.completion' '$.monitor[0].bucket'
       '$.monitor[0].sample_regex' '$.monitor[1].monitored_directories')

run_monitor bad --config "$WORK/config.json"
expect_rc "sluice monitor with 7 config errors" "$MONITOR_RC" 2 "$WORK/bad.out"
missing=0
for p in "${paths[@]}"; do
  if grep -qF -- "$p" "$WORK/bad.out"; then pass "the output names $p"
  else fail "the output does not name $p"; missing=$((missing + 1)); fi
done
[ "$missing" -eq 0 ] || show "$WORK/bad.out"
n=$(bucket_count "$bucket")
[ "$n" = 0 ] && pass "nothing uploaded with a bad config" || fail "$n object(s) uploaded with a bad config"
if grep -q 'Traceback\|terminate called\|Segmentation' "$WORK/bad.out"; then
  fail "the output shows a crash"; show "$WORK/bad.out"
else pass "no crash in the output"; fi

# not JSON at all
printf '{"monitor": [\n' >"$WORK/broken.json"
run_monitor broken --config "$WORK/broken.json"
expect_rc "sluice monitor with a config that is not JSON" "$MONITOR_RC" 2 "$WORK/broken.out"

# no such file
run_monitor nofile --config "$WORK/no-such-config.json"
expect_rc "sluice monitor with a missing config file" "$MONITOR_RC" 2 "$WORK/nofile.out"
grep -qF "no-such-config.json" "$WORK/nofile.out" && pass "the error names the missing file" \
  || { fail "the error does not name the missing file"; show "$WORK/nofile.out"; }

# usage error
run_monitor noarg
expect_rc "sluice monitor without --config" "$MONITOR_RC" 2 "$WORK/noarg.out"

n=$(bucket_count "$bucket")
[ "$n" = 0 ] && pass "the bucket is still empty" || fail "$n object(s) uploaded"

finish
