#!/usr/bin/env bash
# `sluice upload` (issue 4), s3_upload's single-run command: the long form
# (--local_path/--bucket/--remote_path/--cores/--threads) and the short form `upload DIR s3://B/P`
# put every file at <remote_path>/<run folder name>/<relative path>, markers last, bytes intact;
# remote_path "/" means no leading segment; a relative --local_path keeps the run's full name
# (s3_upload bug B4 gave "un_A/..."), and a parent path with regex metacharacters never leaks into
# the key (B5). An incomplete run exits 1 and uploads nothing (s3_upload exited 0, B7) unless
# --skip_check. Usage errors exit 2.
# Run through with-ceph-env.sh (CTest does).
. "$(dirname "$0")/lib_illumina.sh"

make_bucket bucket_long long
make_bucket bucket_short short
make_bucket bucket_root root
make_bucket bucket_inc incomplete
gen_run nextseq2000 "$WORK/seq+1 (x)" --files 50 --size 5MB --seed 81
run=$RUN_DIR name=$RUN_NAME nfiles=$RUN_FILES
gen_run novaseq6000 "$WORK/incomplete" --files 30 --size 1MB --seed 82 --incomplete
inc=$RUN_DIR inc_name=$RUN_NAME
[ ! -e "$inc/CopyComplete.txt" ] || fatal "--incomplete wrote CopyComplete.txt"

# upload_run NAME ARGS...: `sluice upload ARGS...`, output in $WORK/NAME.out, status in UPLOAD_RC
upload_run() {
  local n=$1
  shift
  UPLOAD_RC=0
  "$SLUICE" upload "$@" >"$WORK/$n.out" 2>&1 || UPLOAD_RC=$?
}
# expect_keys WHAT BUCKET PREFIX DIR
expect_keys() {
  local want got
  want=$(local_keys "$4" "$3")
  got=$(bucket_keys "$2")
  if [ "$got" = "$want" ]; then pass "$1: $(echo "$want" | wc -l) objects at ${3}<run>/<relative path>"
  else
    fail "$1: keys differ from ${3}<run>/<relative path> (< expected, > got):"
    diff <(echo "$want") <(echo "$got") | head -n 20 | sed 's/^/    | /'
  fi
}

# ---- long form
upload_run long --local_path "$run" --bucket "$bucket_long" --remote_path /long/form \
  --cores 1 --threads 4 --no-progress
expect_rc "sluice upload --local_path ... --bucket ... --remote_path /long/form" "$UPLOAD_RC" 0 "$WORK/long.out"
expect_keys "long form" "$bucket_long" "long/form/" "$run"
if same_bytes "$bucket_long" "long/form/" "$WORK/seq+1 (x)" >"$WORK/diff.long" 2>&1; then
  pass "long form: aws s3 cp --recursive brings the run back byte-identical"
else fail "long form: objects differ from the run folder"; show "$WORK/diff.long"; fi
grep -qx "long/form/$name/CopyComplete.txt" <(bucket_keys "$bucket_long") \
  && pass "long form: CopyComplete.txt uploaded" || fail "long form: no CopyComplete.txt"
if out=$(markers_last "$bucket_long" "long/form/$name/"); then pass "long form: markers stored last ($out)"
else fail "long form: $out"; fi

# ---- short form
upload_run short --no-progress "$run" "s3://$bucket_short/short"
expect_rc "sluice upload DIR s3://B/short" "$UPLOAD_RC" 0 "$WORK/short.out"
expect_keys "short form" "$bucket_short" "short/" "$run"
if same_bytes "$bucket_short" "short/" "$WORK/seq+1 (x)" >"$WORK/diff.short" 2>&1; then
  pass "short form: byte-identical"
else fail "short form: objects differ from the run folder"; show "$WORK/diff.short"; fi

# ---- remote_path "/" (the default), relative --local_path
UPLOAD_RC=0
(cd "$WORK/seq+1 (x)" && "$SLUICE" upload --local_path "$name" --bucket "$bucket_root" --remote_path / --no-progress) \
  >"$WORK/root_rel.out" 2>&1 || UPLOAD_RC=$?
expect_rc "sluice upload --local_path <relative run folder> --remote_path /" "$UPLOAD_RC" 0 "$WORK/root_rel.out"
expect_keys "remote_path / and a relative local path" "$bucket_root" "" "$run"

# ---- an incomplete run
upload_run inc --local_path "$inc" --bucket "$bucket_inc" --no-progress
expect_rc "sluice upload of an incomplete run" "$UPLOAD_RC" 1 "$WORK/inc.out"
n=$(bucket_count "$bucket_inc")
[ "$n" = 0 ] && pass "nothing uploaded from the incomplete run" || fail "$n object(s) uploaded from the incomplete run"
upload_run inc_short --no-progress "$inc" "s3://$bucket_inc/x"
expect_rc "sluice upload DIR s3://B/P of an incomplete run" "$UPLOAD_RC" 1 "$WORK/inc_short.out"
upload_run inc_skip --local_path "$inc" --bucket "$bucket_inc" --remote_path /skip --skip_check --no-progress
expect_rc "sluice upload --skip_check of an incomplete run" "$UPLOAD_RC" 0 "$WORK/inc_skip.out"
expect_keys "--skip_check" "$bucket_inc" "skip/" "$inc"
if same_bytes "$bucket_inc" "skip/" "$WORK/incomplete" >"$WORK/diff.inc" 2>&1; then
  pass "--skip_check: byte-identical"
else fail "--skip_check: objects differ"; show "$WORK/diff.inc"; fi

# ---- usage errors
upload_run noargs
expect_rc "sluice upload without arguments" "$UPLOAD_RC" 2 "$WORK/noargs.out"
upload_run nobucket --local_path "$run"
expect_rc "sluice upload --local_path without --bucket" "$UPLOAD_RC" 2 "$WORK/nobucket.out"
upload_run badflag --local_path "$run" --bucket "$bucket_root" --no-such-flag
expect_rc "sluice upload with an unknown flag" "$UPLOAD_RC" 2 "$WORK/badflag.out"

echo "# run $name ($nfiles files), incomplete run $inc_name"
finish
