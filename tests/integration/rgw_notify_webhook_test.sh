#!/usr/bin/env bash
# Issue 5: Ceph RGW bucket notifications (HTTP push to a non-persistent topic) → the `webhook`
# source of `sluice serve` → the `copy` route → the object in another bucket. A small PutObject and
# a 20 MiB multipart upload (`aws s3 cp`, 8 MiB parts) each come out byte-identical, as jobs of
# kind ObjectCreated:Put and ObjectCreated:CompleteMultipartUpload; /metrics counts both events;
# `sluice serve` exits 0 on SIGTERM.
source "$(dirname "$0")/lib_rgw_notify.sh"

make_bucket in in
make_bucket out out
port=$(free_port)
make_topic arn "http://127.0.0.1:$port/events" false
notify_bucket "$in" "$arn"
write_config "$WORK/pipeline.toml" "$in" "$out" "$port"
start_serve "$WORK/pipeline.toml" "$port"

printf 'small object, one PUT\n' >"$WORK/small.txt"
s3 s3api put-object --bucket "$in" --key "in/small.txt" --body "$WORK/small.txt" >/dev/null \
  || fatal "put-object in/small.txt"
head -c $((20 * 1024 * 1024)) /dev/urandom >"$WORK/big.bin"
s3 s3 cp --only-show-errors "$WORK/big.bin" "s3://$in/in/big.bin" || fatal "aws s3 cp big.bin (multipart)"
etag=$(s3 s3api head-object --bucket "$in" --key in/big.bin --query ETag --output text | tr -d '"')
case "$etag" in *-3) pass "in/big.bin is a 3-part multipart upload (ETag $etag)" ;;
  *) fail "in/big.bin has ETag $etag, not that of a 3-part multipart upload" ;; esac

check_copy "$in" "$out" "in/small.txt" 30
check_copy "$in" "$out" "in/big.bin" 60

metrics=$(curl -s --noproxy '*' --max-time 5 "http://127.0.0.1:$port/metrics" || true)
if grep -qx 'sluice_events_received_total{source="rgw"} 2' <<<"$metrics"; then
  pass "/metrics counts the 2 events received"
else
  fail "/metrics lacks sluice_events_received_total{source=\"rgw\"} 2:"; grep '^sluice_' <<<"$metrics" | sed 's/^/    | /'
fi
if grep -qx 'sluice_job_attempts_total{result="succeeded",route="mirror"} 2' <<<"$metrics"; then
  pass "/metrics counts 2 succeeded attempts of route mirror"
else
  fail "/metrics lacks sluice_job_attempts_total{result=\"succeeded\",route=\"mirror\"} 2"
fi

stop_serve
expect_eq "jobs (key, kind, state)" "$(jobs_rows "$WORK/pipeline.toml")" \
  "$(printf 'in/big.bin\tObjectCreated:CompleteMultipartUpload\tsucceeded\nin/small.txt\tObjectCreated:Put\tsucceeded')"
finish
