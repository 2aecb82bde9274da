# Shared helpers of the `sluice upload` / `sluice monitor` integration tests (issue 4), sourced
# by tests/integration/*_test.sh. Not a test itself (the CMake glob takes *_test.sh only).
#
# The test runs through with-ceph-env.sh (CTest does), which sets S3_ENDPOINT, AWS_ENDPOINT_URL
# and the test user's AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY. CTest also sets SLUICE (the
# sluice binary) and SLUICE_GEN_ILLUMINA (bench/gen_illumina_run.cpp). Nothing is skipped: a
# missing tool or server is a failure.
#
# Every test gets its own work folder ($WORK) and its own buckets (make_bucket: unique per test
# and process); all are deleted on exit, and every background process started through `bg_pid`
# is killed by its PID.
set -euo pipefail
# shellcheck disable=SC2034  # RUN_*, HOOK_URL, MONITOR_RC are set here for the tests to read

IT_NAME=${IT_NAME:-$(basename "$0" _test.sh)}
fails=0
pass() { echo "ok   - $*"; }
fail() { echo "FAIL - $*"; fails=$((fails + 1)); }
fatal() { echo "FAIL - $*"; echo "$IT_NAME: aborted"; exit 1; }
# finish: the last line of every test; exit status 0 only without failures
finish() { echo "$IT_NAME: $fails failure(s)"; [ "$fails" -eq 0 ]; }

: "${S3_ENDPOINT:?S3_ENDPOINT is not set: run this through tests/integration/with-ceph-env.sh}"
case "$S3_ENDPOINT" in http://127.0.0.1:*) ;; *) fatal "S3_ENDPOINT=$S3_ENDPOINT is not on 127.0.0.1" ;; esac
case "${AWS_ENDPOINT_URL:-}" in http://127.0.0.1:*) ;; *) fatal "AWS_ENDPOINT_URL='${AWS_ENDPOINT_URL:-}' is not on 127.0.0.1" ;; esac
[ -x "${SLUICE:-}" ] || fatal "SLUICE (the sluice binary) is not set or not executable: '${SLUICE:-}'"
[ -x "${SLUICE_GEN_ILLUMINA:-}" ] \
  || fatal "SLUICE_GEN_ILLUMINA (sluice-gen-illumina) is not set or not executable: '${SLUICE_GEN_ILLUMINA:-}'"
AWS_BIN=${SLUICE_AWS_CLI:-/usr/bin/aws}
[ -x "$AWS_BIN" ] || fatal "no aws CLI at $AWS_BIN (scripts/install-deps.sh installs Debian's awscli)"
if [ -x /usr/bin/python3 ]; then PY=/usr/bin/python3; else PY=$(command -v python3 || true); fi
[ -n "$PY" ] || fatal "python3 is needed (the webhook listener and JSON checks)"
IT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
LISTENER="$IT_DIR/../support/webhook_listener.py"
[ -f "$LISTENER" ] || fatal "no webhook listener at $LISTENER"

s3() { "$AWS_BIN" --endpoint-url "$S3_ENDPOINT" "$@"; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/sluice-it-${IT_NAME}.XXXXXX")
BUCKETS=()
BG_PIDS=()
lib_cleanup() {
  local pid
  for pid in "${BG_PIDS[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
  for pid in "${BG_PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  local b
  for b in "${BUCKETS[@]}"; do s3 s3 rb "s3://$b" --force >/dev/null 2>&1 || true; done
  rm -rf "$WORK"
}
trap lib_cleanup EXIT

# bg_pid PID: kill PID (by its id) when the test exits
bg_pid() { BG_PIDS+=("$1"); }

# make_bucket VAR TAG: creates a bucket unique to this test and process, stores its name in VAR
make_bucket() {
  local tag=$2 name
  name=$(printf 'sluice-it-%s-%s-%s-%s' "${IT_NAME//_/-}" "$tag" "$$" "$RANDOM" | cut -c1-63)
  name=${name%-}
  s3 s3api create-bucket --bucket "$name" >"$WORK/mb.out" 2>&1 \
    || { cat "$WORK/mb.out"; fatal "create-bucket $name"; }
  BUCKETS+=("$name")
  printf -v "$1" '%s' "$name"
}

# gen_run INSTRUMENT OUT_DIR [generator options...]: writes a run folder with sluice-gen-illumina;
# sets RUN_DIR, RUN_NAME, RUN_FILES, RUN_BYTES
gen_run() {
  local instrument=$1 out=$2 line
  shift 2
  mkdir -p "$out"
  line=$("$SLUICE_GEN_ILLUMINA" --instrument "$instrument" --out "$out" "$@") \
    || fatal "sluice-gen-illumina --instrument $instrument --out $out $*"
  IFS=$'\t' read -r RUN_DIR RUN_FILES RUN_BYTES <<<"$line"
  RUN_NAME=$(basename "$RUN_DIR")
  [ -d "$RUN_DIR" ] || fatal "sluice-gen-illumina printed '$line', not a folder"
}

# local_keys RUN_DIR PREFIX [EXCLUDE_ERE]: the keys the run's files should get, sorted
# (PREFIX is "" or ends with '/'); files whose absolute path matches EXCLUDE_ERE are left out
local_keys() {
  local dir=$1 prefix=$2 exclude=${3:-}
  (cd "$dir" && find . -type f | sed 's|^\./||' | while IFS= read -r f; do
    if [ -n "$exclude" ] && printf '%s\n' "$dir/$f" | grep -qE -- "$exclude"; then continue; fi
    printf '%s%s/%s\n' "$prefix" "$(basename "$dir")" "$f"
  done) | LC_ALL=C sort
}

# bucket_keys BUCKET: every key in BUCKET, sorted
bucket_keys() {
  s3 s3api list-objects-v2 --bucket "$1" --output json --query 'Contents[].Key' \
    | "$PY" -c 'import json,sys; print("\n".join(json.load(sys.stdin) or []))' | LC_ALL=C sort
}

# bucket_rows BUCKET: "key<TAB>size<TAB>etag<TAB>last-modified" per object, sorted by key
bucket_rows() {
  s3 s3api list-objects-v2 --bucket "$1" --output json \
    --query 'Contents[].{k:Key,s:Size,e:ETag,m:LastModified}' \
    | "$PY" -c '
import json, sys
rows = json.load(sys.stdin) or []
for r in sorted(rows, key=lambda r: r["k"]):
    print("%s\t%s\t%s\t%s" % (r["k"], r["s"], r["e"].strip("\""), r["m"]))'
}

# bucket_count BUCKET: number of objects in BUCKET
bucket_count() { bucket_keys "$1" | sed '/^$/d' | wc -l | tr -d ' '; }

# md5_etag FILE: the ETag of FILE uploaded in one PUT (hex MD5)
md5_etag() { md5sum "$1" | cut -d' ' -f1; }

# same_bytes BUCKET PREFIX DIR [DIFF_OPTIONS...]: downloads s3://BUCKET/PREFIX with
# `aws s3 cp --recursive` and compares it with DIR byte for byte (diff -r); prints the differences
same_bytes() {
  local bucket=$1 prefix=$2 dir=$3 down
  shift 3
  down=$(mktemp -d "$WORK/down.XXXXXX")
  s3 s3 cp --recursive --only-show-errors "s3://$bucket/$prefix" "$down" >"$WORK/down.out" 2>&1 \
    || { cat "$WORK/down.out"; rm -rf "$down"; return 1; }
  local rc=0
  diff -r "$@" "$dir" "$down" || rc=1
  rm -rf "$down"
  return $rc
}

# check_state_log LOG_DIR RUN_DIR BUCKET KEY_PREFIX [EXCLUDE_ERE]: checks the per-run state log
# <LOG_DIR>/uploads/<run>.upload.log.json field for field (research/s3_upload.md §1.6) against the
# run's files (absolute local paths; those matching EXCLUDE_ERE left out) and the ETags the bucket
# lists below KEY_PREFIX (which ends with '/'). One pass/fail line per field.
check_state_log() {
  local log_dir=$1 run_dir=$2 bucket=$3 prefix=$4 exclude=${5:-} run log
  run=$(basename "$run_dir")
  log="$log_dir/uploads/$run.upload.log.json"
  [ -f "$log" ] || { fail "state log $log does not exist"; ls -lR "$log_dir" | sed 's/^/    | /'; return 0; }
  (cd "$run_dir" && find . -type f | sed 's|^\./||') >"$WORK/state.files"
  bucket_rows "$bucket" >"$WORK/state.rows"
  "$PY" - "$log" "$(cd "$run_dir" && pwd -P)" "$run_dir" "$WORK/state.files" "$WORK/state.rows" "$prefix" "$exclude" <<'PY' || fails=$((fails + $?))
import json, re, sys
log_path, real_dir, given_dir, files_path, rows_path, prefix, exclude = sys.argv[1:]
run = real_dir.rstrip("/").rsplit("/", 1)[1]
bad = 0
def check(ok, what):
    global bad
    print(("ok   - " if ok else "FAIL - ") + "state log: " + what)
    bad += 0 if ok else 1
try:
    d = json.load(open(log_path))
except ValueError as e:
    check(False, f"{log_path} is not JSON: {e}")
    sys.exit(1)
fields = ["run_id", "run_path", "completed", "total_local_files", "total_uploaded_files",
          "total_failed_upload", "failed_upload_files", "uploaded_files"]
missing = [f for f in fields if f not in d]
check(not missing, "has every field of research §1.6" + (f" (missing {missing})" if missing else ""))
files = [f for f in open(files_path).read().splitlines() if f]
if exclude:
    files = [f for f in files if not re.search(exclude, f"{given_dir}/{f}")]
n = len(files)
check(d.get("run_id") == run, f"run_id {d.get('run_id')!r} == {run!r}")
check(d.get("run_path") in (real_dir, given_dir.rstrip("/")),
      f"run_path {d.get('run_path')!r} is the run's absolute path {real_dir!r}")
check(d.get("completed") is True, f"completed is true (got {d.get('completed')!r})")
check(d.get("total_local_files") == n, f"total_local_files {d.get('total_local_files')!r} == {n}")
check(d.get("total_uploaded_files") == n, f"total_uploaded_files {d.get('total_uploaded_files')!r} == {n}")
check(d.get("total_failed_upload") == 0, f"total_failed_upload {d.get('total_failed_upload')!r} == 0")
check(d.get("failed_upload_files") == [], f"failed_upload_files {d.get('failed_upload_files')!r} == []")
up = d.get("uploaded_files") or {}
etags = {}
for line in open(rows_path).read().splitlines():
    key, size, etag, _ = line.split("\t")
    etags[key] = etag
want = {}
for f in files:
    for root in (real_dir, given_dir.rstrip("/")):
        want.setdefault(f"{root}/{f}", f)
keys_ok = set(up) <= set(want) and len(up) == n and {want[k] for k in up} == set(files)
extra = sorted(set(up) - set(want))[:3]
check(keys_ok, f"uploaded_files has the {n} files' absolute local paths as keys"
      + (f" (got {len(up)}; unexpected e.g. {extra})" if not keys_ok else ""))
wrong = [k for k, v in up.items() if k in want and etags.get(prefix + run + "/" + want[k]) != v]
check(not wrong, "uploaded_files values are the objects' ETags (without quotes)"
      + (f" (differ for {len(wrong)}, e.g. {wrong[0]}: {up[wrong[0]]!r} vs "
         f"{etags.get(prefix + run + '/' + want[wrong[0]])!r})" if wrong else ""))
sys.exit(min(bad, 100))
PY
}

# markers_last BUCKET RUN_PREFIX: the completion markers of the run below RUN_PREFIX (ends with
# '/') were stored no earlier than every other object of the run (LastModified of the listing)
markers_last() {
  bucket_rows "$1" | "$PY" -c '
import re, sys, datetime
prefix = sys.argv[1]
markers, others = [], []
for line in sys.stdin.read().splitlines():
    key, size, etag, modified = line.split("	")
    if not key.startswith(prefix):
        continue
    rel = key[len(prefix):]
    when = datetime.datetime.fromisoformat(modified.replace("Z", "+00:00"))
    if "/" not in rel and re.fullmatch(r"(CopyComplete\.txt|RTAComplete\.(txt|xml))", rel):
        markers.append((when, rel))
    elif "/" not in rel and re.fullmatch(r"(RTARead\d+Complete\.txt|.*_Netcopy_complete.*\.txt|RTAExited\.txt|SequenceComplete\.txt|RunCompletionStatus\.xml)", rel):
        pass  # lesser markers: their order among themselves is not checked
    else:
        others.append((when, rel))
if not markers:
    print("no completion marker (CopyComplete.txt, RTAComplete.*) below " + prefix)
    sys.exit(1)
first_marker, last_other = min(markers), max(others)
if first_marker[0] < last_other[0]:
    print(f"{first_marker[1]} stored at {first_marker[0]}, before {last_other[1]} at {last_other[0]}")
    sys.exit(1)
print(f"{len(markers)} marker(s), first at {first_marker[0]}; last other object {last_other[1]} at {last_other[0]}")
' "$2"
}

# start_listener: starts tests/support/webhook_listener.py; sets HOOK_URL (http://127.0.0.1:PORT)
# and HOOK_FILE (one JSON line per POST: {"path", "content_type", "body", "raw"})
start_listener() {
  HOOK_FILE="$WORK/posts.jsonl"
  : >"$HOOK_FILE"
  "$PY" "$LISTENER" --out "$HOOK_FILE" --port-file "$WORK/hook.port" >"$WORK/hook.stdout" 2>"$WORK/hook.stderr" &
  local pid=$! i
  bg_pid "$pid"
  for i in $(seq 1 300); do
    [ -s "$WORK/hook.port" ] && break
    kill -0 "$pid" 2>/dev/null || { cat "$WORK/hook.stderr"; fatal "the webhook listener exited"; }
    sleep 0.1
  done
  [ -s "$WORK/hook.port" ] || fatal "the webhook listener did not report its port within 30 s"
  HOOK_URL="http://127.0.0.1:$(cat "$WORK/hook.port")"
}

# posts PATH: the "text" of every JSON POST received on PATH (e.g. /log), one JSON string per line
# (so newlines and tabs stay visible as \n and \t)
posts() {
  "$PY" - "$HOOK_FILE" "$1" <<'EOF'
import json, sys
for line in open(sys.argv[1], encoding="utf-8"):
    r = json.loads(line)
    if r["path"] == sys.argv[2]:
        body = r["body"]
        text = body.get("text") if isinstance(body, dict) else None
        print(json.dumps(text if text is not None else r["raw"], ensure_ascii=False))
EOF
}
# post_count PATH: how many POSTs PATH received
post_count() { posts "$1" | wc -l | tr -d ' '; }

# json_get FILE EXPR: evaluates the Python expression EXPR with `d` bound to FILE's JSON
json_get() { "$PY" -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"; }

# run_monitor NAME ARGS...: runs `sluice monitor --no-progress ARGS...`, output (stdout+stderr) in
# $WORK/NAME.out, exit status in MONITOR_RC; never fails the script
run_monitor() {
  local name=$1
  shift
  MONITOR_RC=0
  "$SLUICE" monitor --no-progress "$@" >"$WORK/$name.out" 2>&1 || MONITOR_RC=$?
}

# show FILE: the output of a failed step, indented
show() { sed 's/^/    | /' "$1" | tail -n 60; }

# expect_rc WHAT GOT WANT OUTFILE
expect_rc() {
  if [ "$2" = "$3" ]; then pass "$1: exit $2"; else fail "$1: exit $2, expected $3"; show "$4"; fi
}

echo "# $("$AWS_BIN" --version 2>&1), $("$SLUICE" --version 2>&1 | head -n1), endpoint $S3_ENDPOINT"
