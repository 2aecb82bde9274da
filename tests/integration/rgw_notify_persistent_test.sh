#!/usr/bin/env bash
# ctest-timeout: 400
# Issue 5: with a persistent RGW topic, objects created while `sluice serve` is down are not lost:
# RGW queues the notifications and retries the push (research/infra.md: one arrived ~21 s after
# the listener came back), and after sluice starts again on the same port every object is copied,
# byte-identical, once. Waits up to PERSISTENT_WAIT seconds (default 90) for the retries.
# Disabled by default in CTest (tests/integration/CMakeLists.txt, SLUICE_IT_RGW_PERSISTENT): on
# Ceph RGW 16.2.15 step 3 fails because RGW's retry loop for the topic hangs while sluice is down.
source "$(dirname "$0")/lib_rgw_notify.sh"
wait_s=${PERSISTENT_WAIT:-90}

make_bucket in in
make_bucket out out
port=$(free_port)
make_topic arn "http://127.0.0.1:$port/events" true
notify_bucket "$in" "$arn"
write_config "$WORK/pipeline.toml" "$in" "$out" "$port"

# 1. while sluice runs: a persistent topic delivers too (asynchronously)
start_serve "$WORK/pipeline.toml" "$port"
printf 'before the stop\n' >"$WORK/a.txt"
s3 s3api put-object --bucket "$in" --key "live/a.txt" --body "$WORK/a.txt" >/dev/null || fatal "put-object live/a.txt"
check_copy "$in" "$out" "live/a.txt" "$wait_s"
stop_serve

# 2. while sluice is down: the PUTs succeed, the notifications wait in RGW
printf 'while down, small\n' >"$WORK/b.txt"
s3 s3api put-object --bucket "$in" --key "down/b.txt" --body "$WORK/b.txt" >/dev/null || fatal "put-object down/b.txt"
head -c $((12 * 1024 * 1024)) /dev/urandom >"$WORK/c.bin"
s3 s3 cp --only-show-errors "$WORK/c.bin" "s3://$in/down/c.bin" || fatal "aws s3 cp down/c.bin (multipart)"
sleep 2
if s3 s3api head-object --bucket "$out" --key down/b.txt >/dev/null 2>&1; then
  fail "down/b.txt was copied although sluice was not running"
else
  pass "nothing is copied while sluice is down"
fi

# 3. sluice back on the same port: RGW's retries deliver the queued events
start_serve "$WORK/pipeline.toml" "$port"
check_copy "$in" "$out" "down/b.txt" "$wait_s"
check_copy "$in" "$out" "down/c.bin" "$wait_s"
if [ "$fails" -gt 0 ]; then
  echo "# RGW did not redeliver. Ceph RGW 16.2.15 is known to stop processing a persistent topic's"
  echo "# queue after its tight retry loop against a closed port (tests/integration/CMakeLists.txt);"
  echo "# with debug_rgw=20 its log shows the push entries failing with error -5, then nothing."
fi
stop_serve

expect_eq "jobs (key, kind, state): one per object" "$(jobs_rows "$WORK/pipeline.toml")" \
  "$(printf 'down/b.txt\tObjectCreated:Put\tsucceeded\ndown/c.bin\tObjectCreated:CompleteMultipartUpload\tsucceeded\nlive/a.txt\tObjectCreated:Put\tsucceeded')"
finish
