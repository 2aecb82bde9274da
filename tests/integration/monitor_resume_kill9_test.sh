#!/usr/bin/env bash
# ctest-timeout: 600
# `sluice monitor` (issue 4) resumes after `kill -9`: a ~200 MB NovaSeq 6000 run is uploaded with
# one connection (max_cores 1 × max_threads 1, so it takes a while); as soon as the first objects
# appear in the bucket the monitor is SIGKILLed. The next `sluice monitor` exits 0, uploads only
# what is missing (the objects stored before the kill keep their ETag and LastModified), every
# file ends up in the bucket byte-identical (downloaded back with `aws s3 cp --recursive`), and
# the state log (research §1.6) says completed with every file.
# Run through with-ceph-env.sh (CTest does).
. "$(dirname "$0")/lib_illumina.sh"

make_bucket bucket resume
gen_run novaseq6000 "$WORK/sequencer" --files 60 --size 200MB --seed 21
run=$RUN_DIR name=$RUN_NAME nfiles=$RUN_FILES
echo "# $name: $RUN_FILES files, $RUN_BYTES bytes"
log_dir="$WORK/logs"
cat >"$WORK/config.json" <<JSON
{
  "max_cores": 1,
  "max_threads": 1,
  "log_dir": "$log_dir",
  "stable_seconds": 0,
  "monitor": [
    {"monitored_directories": ["$WORK/sequencer"], "bucket": "$bucket", "remote_path": "/resume"}
  ]
}
JSON

# ---- first invocation, killed with SIGKILL once the first objects are in the bucket
"$SLUICE" monitor --no-progress --config "$WORK/config.json" >"$WORK/first.out" 2>&1 &
monitor_pid=$!
bg_pid "$monitor_pid"
wait_rc=0
seen=$("$PY" "$IT_DIR/../support/s3_wait_objects.py" --bucket "$bucket" --min 2 --kill "$monitor_pid" \
  --timeout 120 2>"$WORK/wait.err") || wait_rc=$?
first_rc=0
wait "$monitor_pid" || first_rc=$?
case $wait_rc in
  0) pass "sluice monitor SIGKILLed once the bucket held $seen object(s)" ;;
  3) show "$WORK/first.out"
     fatal "sluice monitor ended (exit $first_rc) before the bucket held 2 objects ($seen): cannot test the resume" ;;
  *) show "$WORK/first.out"; cat "$WORK/wait.err"
     fatal "no object appeared in the bucket within 120 s (waiter exit $wait_rc, saw '$seen')" ;;
esac
[ "$first_rc" = 137 ] && pass "the first monitor died of SIGKILL (exit 137)" \
  || fail "the first monitor exited $first_rc, not 137 (SIGKILL): it may have finished first"

bucket_rows "$bucket" >"$WORK/rows.before"
before=$(wc -l <"$WORK/rows.before")
if [ "$before" -gt 0 ] && [ "$before" -lt "$nfiles" ]; then
  pass "after the kill the bucket holds $before of $nfiles objects"
else
  fatal "after the kill the bucket holds $before of $nfiles objects: not a partial upload"
fi
grep -q $'/CopyComplete.txt\t' "$WORK/rows.before" && fail "CopyComplete.txt was uploaded before the data (it must go last)" \
  || pass "no CopyComplete.txt in the bucket of the partial upload"

# ---- second invocation: only what is missing
sleep 1.2   # a re-uploaded object would get a LastModified at least a second later
run_monitor second --config "$WORK/config.json"
expect_rc "the next sluice monitor completes the run" "$MONITOR_RC" 0 "$WORK/second.out"
bucket_rows "$bucket" >"$WORK/rows.after"

want=$(local_keys "$run" "resume/")
got=$(cut -f1 "$WORK/rows.after")
if [ "$got" = "$want" ]; then
  pass "the bucket holds exactly resume/<run>/<relative path> for all $nfiles files"
else
  fail "keys after the resume differ (< expected, > got):"
  diff <(echo "$want") <(echo "$got") | head -n 20 | sed 's/^/    | /'
fi
changed=$("$PY" - "$WORK/rows.before" "$WORK/rows.after" <<'EOF'
import sys
def rows(p):
    return {l.split("\t")[0]: l.split("\t")[1:] for l in open(p).read().splitlines() if l}
before, after = rows(sys.argv[1]), rows(sys.argv[2])
for key, (size, etag, modified) in before.items():
    if key not in after:
        print(f"{key}: gone")
    elif after[key] != [size, etag, modified]:
        print(f"{key}: size/ETag/LastModified {size} {etag} {modified} -> {' '.join(after[key])}")
EOF
)
if [ -z "$changed" ]; then
  pass "the $before objects stored before the kill were not uploaded again (same size, ETag, LastModified)"
else
  fail "objects stored before the kill were uploaded again:"; echo "$changed" | head -n 10 | sed 's/^/    | /'
fi
# the monitor's own account ("… N bytes sent; A of T files were already in the bucket …"), when
# it gives one: at least the objects seen before the kill were found already there (an object
# whose PUT the server finished just after the kill may add to them), and not all of them
if summary=$(grep -oE '[0-9]+ of [0-9]+ files were already in the bucket' "$WORK/second.out" | head -n1) \
   && [ -n "$summary" ]; then
  already=${summary%% of *}
  if [ "$already" -ge "$before" ] && [ "$already" -lt "$nfiles" ]; then
    pass "the monitor reports '$summary' ($before seen before the kill)"
  else
    fail "the monitor reports '$summary', expected at least $before and fewer than $nfiles"
  fi
else
  echo "# the monitor's output has no 'A of T files were already in the bucket' summary"
fi
if same_bytes "$bucket" "resume/" "$WORK/sequencer" >"$WORK/diff" 2>&1; then
  pass "aws s3 cp --recursive brings every object back byte-identical"
else fail "objects differ from the run folder:"; show "$WORK/diff"; fi
bad_etag=0 single=0
while IFS=$'\t' read -r key size etag _; do
  case $etag in *-*) continue ;; esac
  single=$((single + 1))
  f="$WORK/sequencer/${key#resume/}"
  [ "$(md5_etag "$f")" = "$etag" ] || { bad_etag=$((bad_etag + 1)); echo "    | $key: ETag $etag, md5 $(md5_etag "$f")"; }
done <"$WORK/rows.after"
[ "$bad_etag" -eq 0 ] && pass "every single-part ETag ($single) is the local file's MD5" \
  || fail "$bad_etag ETag(s) differ from the local MD5"
if out=$(markers_last "$bucket" "resume/$name/"); then pass "markers stored last ($out)"; else fail "$out"; fi
check_state_log "$log_dir" "$run" "$bucket" "resume/"

finish
