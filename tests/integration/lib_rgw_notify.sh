# Shared helpers of the Ceph RGW bucket notification → `webhook` source tests (issue 5), sourced by
# tests/integration/rgw_notify_*_test.sh. Not a test itself (the CMake glob takes *_test.sh only).
#
# The tests run through with-ceph-env.sh (CTest does), which sets S3_ENDPOINT and the test user's
# AWS keys; CTest sets SLUICE (the sluice binary). The notification calls are the ones of
# shared/research/infra.md "Bucket notifications" (RGW's SNS-compatible topic API: create-topic
# with a push-endpoint attribute, then put-bucket-notification-configuration). Nothing is skipped:
# a missing tool or server, or a webhook that does not come up, is a failure. Everything is on
# 127.0.0.1. Every test gets its own work folder ($WORK), buckets and topics (unique per test and
# process), all deleted on exit; `sluice serve` processes are killed by their PID on exit.
set -euo pipefail

IT_NAME=${IT_NAME:-$(basename "$0" _test.sh)}
fails=0
pass() { echo "ok   - $*"; }
fail() { echo "FAIL - $*"; fails=$((fails + 1)); }
fatal() { echo "FAIL - $*"; echo "$IT_NAME: aborted"; exit 1; }
# finish: the last line of every test; exit status 0 only without failures
finish() { echo "$IT_NAME: $fails failure(s)"; [ "$fails" -eq 0 ]; }

: "${S3_ENDPOINT:?S3_ENDPOINT is not set: run this through tests/integration/with-ceph-env.sh}"
case "$S3_ENDPOINT" in http://127.0.0.1:*) ;; *) fatal "S3_ENDPOINT=$S3_ENDPOINT is not on 127.0.0.1" ;; esac
[ -x "${SLUICE:-}" ] || fatal "SLUICE (the sluice binary) is not set or not executable: '${SLUICE:-}'"
AWS_BIN=${SLUICE_AWS_CLI:-/usr/bin/aws}
[ -x "$AWS_BIN" ] || fatal "no aws CLI at $AWS_BIN (scripts/install-deps.sh installs Debian's awscli)"
PY=$(command -v python3 || true)
[ -n "$PY" ] || fatal "python3 is needed (free port, JSON checks)"
command -v curl >/dev/null || fatal "curl is needed (healthz and metrics of the webhook)"

s3() { "$AWS_BIN" --endpoint-url "$S3_ENDPOINT" "$@"; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/sluice-it-${IT_NAME}.XXXXXX")
BUCKETS=()
TOPICS=()
SERVE_PID=""
SERVE_LOG=""
SERVE_RUNS=0
lib_cleanup() {
  if [ -n "$SERVE_PID" ]; then
    kill -9 "$SERVE_PID" 2>/dev/null || true
    wait "$SERVE_PID" 2>/dev/null || true
  fi
  local b t
  for b in "${BUCKETS[@]}"; do s3 s3 rb "s3://$b" --force >/dev/null 2>&1 || true; done
  for t in "${TOPICS[@]}"; do s3 sns delete-topic --topic-arn "$t" >/dev/null 2>&1 || true; done
  rm -rf "$WORK"
}
trap lib_cleanup EXIT

# unique_name TAG: a bucket/topic name unique to this test, TAG and process (≤ 63 characters)
unique_name() {
  local name
  name=$(printf 'sluice-it-%s-%s-%s-%s' "${IT_NAME//_/-}" "$1" "$$" "$RANDOM" | cut -c1-63)
  printf '%s' "${name%-}"
}

# make_bucket VAR TAG: creates a bucket unique to this test and process, stores its name in VAR
make_bucket() {
  local bucket_name
  bucket_name=$(unique_name "$2")
  s3 s3api create-bucket --bucket "$bucket_name" >"$WORK/mb.out" 2>&1 \
    || { cat "$WORK/mb.out"; fatal "create-bucket $bucket_name"; }
  BUCKETS+=("$bucket_name")
  printf -v "$1" '%s' "$bucket_name"
}

# free_port: a TCP port on 127.0.0.1 that nothing listens on right now
free_port() {
  "$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# make_topic VAR URL PERSISTENT: creates an RGW topic pushing to URL ("persistent": "true" or
# "false": RGW queues and retries events of a persistent topic; it pushes the others once, inside
# the S3 request, and drops them when the endpoint is down), stores its ARN in VAR
make_topic() {
  local name topic_arn
  name=$(unique_name topic)
  topic_arn=$(s3 sns create-topic --name "$name" \
          --attributes "{\"push-endpoint\":\"$2\",\"persistent\":\"$3\"}" \
          --query TopicArn --output text 2>"$WORK/topic.err") \
    || { cat "$WORK/topic.err"; fatal "sns create-topic $name (push-endpoint $2, persistent $3)"; }
  case "$topic_arn" in arn:aws:sns:*) ;; *) fatal "sns create-topic $name answered '$topic_arn', not an ARN" ;; esac
  TOPICS+=("$topic_arn")
  printf -v "$1" '%s' "$topic_arn"
}

# notify_bucket BUCKET ARN: every ObjectCreated event of BUCKET goes to topic ARN
notify_bucket() {
  s3 s3api put-bucket-notification-configuration --bucket "$1" --notification-configuration \
    "{\"TopicConfigurations\":[{\"Id\":\"sluice-created\",\"TopicArn\":\"$2\",\"Events\":[\"s3:ObjectCreated:*\"]}]}" \
    >"$WORK/notify.out" 2>&1 || { cat "$WORK/notify.out"; fatal "put-bucket-notification-configuration $1"; }
}

# write_config FILE IN_BUCKET OUT_BUCKET PORT: a pipeline whose webhook source listens on
# 127.0.0.1:PORT/events and whose `copy` route mirrors every created object of s3://IN_BUCKET into
# s3://OUT_BUCKET (same key), with the queue in $WORK/queue.db
write_config() {
  cat >"$1" <<EOF
[queue]
url = "sqlite://$WORK/queue.db"

[engine]
shutdown_grace = "10s"

[stores.incoming]
url = "s3://$2"
endpoint = "$S3_ENDPOINT"

[stores.mirror]
url = "s3://$3"
endpoint = "$S3_ENDPOINT"

[[sources]]
name = "rgw"
type = "webhook"
listen = "127.0.0.1:$4"
path = "/events"

[[routes]]
name = "mirror"
match = { store = "incoming", events = ["ObjectCreated:*"] }
handler = "copy"
concurrency = 2
options = { store = "mirror" }
EOF
}

# start_serve CONFIG PORT: starts `sluice serve` in the background and waits (≤ 15 s) until its
# webhook answers GET /healthz with "ok"; fatal otherwise
start_serve() {
  SERVE_RUNS=$((SERVE_RUNS + 1))
  SERVE_LOG="$WORK/serve$SERVE_RUNS.log"
  "$SLUICE" --log-format json serve --config "$1" 2>"$SERVE_LOG" &
  SERVE_PID=$!
  local i
  for i in $(seq 1 150); do
    if [ "$(curl -s --noproxy '*' --max-time 1 "http://127.0.0.1:$2/healthz" 2>/dev/null)" = "ok" ]; then
      pass "sluice serve (run $SERVE_RUNS) answers /healthz on 127.0.0.1:$2"
      return 0
    fi
    kill -0 "$SERVE_PID" 2>/dev/null || { tail -20 "$SERVE_LOG"; fatal "sluice serve exited before its webhook came up"; }
    sleep 0.1
  done
  tail -20 "$SERVE_LOG"
  fatal "the webhook of sluice serve did not answer /healthz on 127.0.0.1:$2 within 15 s"
}

# stop_serve: SIGTERM to `sluice serve`; it must exit 0 within 30 s
stop_serve() {
  kill -TERM "$SERVE_PID"
  local rc=0 i
  for i in $(seq 1 300); do
    kill -0 "$SERVE_PID" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$SERVE_PID" 2>/dev/null; then
    fail "sluice serve still runs 30 s after SIGTERM"
    kill -9 "$SERVE_PID" 2>/dev/null || true
  fi
  wait "$SERVE_PID" || rc=$?
  SERVE_PID=""
  if [ "$rc" -eq 0 ]; then pass "sluice serve exits 0 on SIGTERM"
  else fail "sluice serve exited $rc on SIGTERM"; tail -20 "$SERVE_LOG" | sed 's/^/    | /'; fi
}

# wait_object BUCKET KEY SECONDS: waits until s3://BUCKET/KEY exists; non-zero on timeout
wait_object() {
  local deadline=$((SECONDS + $3))
  while [ "$SECONDS" -lt "$deadline" ]; do
    s3 s3api head-object --bucket "$1" --key "$2" >/dev/null 2>&1 && return 0
    sleep 0.5
  done
  return 1
}

# check_copy IN_BUCKET OUT_BUCKET KEY SECONDS: the copy of KEY appears in OUT_BUCKET within SECONDS
# and, downloaded with `aws s3 cp`, is byte-identical to the original downloaded the same way
check_copy() {
  local in=$1 out=$2 key=$3 started=$SECONDS
  if ! wait_object "$out" "$key" "$4"; then
    fail "s3://$out/$key did not appear within $4 s"
    return 0
  fi
  local waited=$((SECONDS - started))
  rm -f "$WORK/orig.bin" "$WORK/copy.bin"
  s3 s3 cp --only-show-errors "s3://$in/$key" "$WORK/orig.bin" || { fail "download s3://$in/$key"; return 0; }
  s3 s3 cp --only-show-errors "s3://$out/$key" "$WORK/copy.bin" || { fail "download s3://$out/$key"; return 0; }
  if cmp -s "$WORK/orig.bin" "$WORK/copy.bin"; then
    pass "$key copied, byte-identical ($(stat -c %s "$WORK/copy.bin") bytes; it appeared after ${waited} s of polling)"
  else
    fail "$key: the copy differs from the original ($(stat -c %s "$WORK/orig.bin") vs $(stat -c %s "$WORK/copy.bin") bytes)"
  fi
}

# job_rows CONFIG: "key<TAB>kind<TAB>state" per job of the queue (`sluice jobs list --json`), sorted
jobs_rows() {
  "$SLUICE" --log-level warn jobs --config "$1" list --limit 0 --json \
    | "$PY" -c '
import json, sys
rows = []
for line in sys.stdin:
    if line.startswith("{"):
        job = json.loads(line)
        rows.append("%s\t%s\t%s" % (job["event"]["key"], job["event"]["kind"], job["state"]))
print("\n".join(sorted(rows)))'
}

# expect_eq WHAT ACTUAL EXPECTED
expect_eq() {
  if [ "$2" = "$3" ]; then pass "$1: $2"
  else fail "$1: got '$2', expected '$3'"; fi
}
