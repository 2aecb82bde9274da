#!/usr/bin/env bash
# ctest-timeout: 600
# needs: ceph
# Acceptance (issue 5, sluice was down): Ceph RGW pushes bucket notifications into RabbitMQ
# through a persistent topic (AMQP endpoint, exchange amq.topic, ack level broker); `sluice serve`
# consumes them with an `amqp` source whose durable queue was declared and bound when it first
# started. Sluice copies a first batch of objects, is stopped (SIGTERM), a second batch is uploaded
# while it is down (their notifications wait in the broker's queue), and sluice is started again:
# every object of both batches is copied exactly once (one output object per input, byte for byte
# the same, nothing else), and no message is left on the broker.
# The persistent topic works with the AMQP endpoint on Ceph 16.2.15: the broker stays up, so RGW's
# push never fails and the persistent-queue retry bug of HTTP endpoints (tests/integration/
# CMakeLists.txt, rgw_notify_persistent) is never reached. The guarantee comes from the durable
# queue: RGW confirms an event only once the broker has it, and the source acks it only after the
# job is durably enqueued. (Once, with four RGW/broker tests run at once by hand, radosgw itself
# segfaulted in a messenger thread; the test then fails with "only N of M objects were copied".)
source "$SLUICE_SOURCE_DIR/tests/cli/lib.sh"
source "$SLUICE_SOURCE_DIR/tests/integration/amqp/lib_rgw_amqp.sh"
cd "$TMP"
rgw_amqp_bucket rgwdown true

rgw_amqp_config pipeline.toml
cat >>pipeline.toml <<TOML

[[routes]]
name = "mirror"
match = { store = "incoming", prefix = "in/" }
handler = "copy"
concurrency = 2
retry = { max_attempts = 3, initial_backoff = "50ms", max_backoff = "200ms" }
options = { store = "lake" }
TOML

# messages (ready or unacknowledged) of the events queue, or of this test's job queues
queue_messages() {
  bash "$RMQ" ctl -q list_queues name messages messages_unacknowledged \
    | awk -F'\t' -v q="$1" '$1 == q { s += $2 + $3 } END { print s + 0 }'
}
job_messages() {
  bash "$RMQ" ctl -q list_queues name messages messages_unacknowledged \
    | awk -F'\t' -v p="$prefix." 'index($1, p) == 1 { s += $2 + $3 } END { print s + 0 }'
}
copied() { find lake/in -type f 2>/dev/null | wc -l; }
# wait_copied N: waits (up to 120 s) until lake/in holds N objects
wait_copied() {
  for _ in $(seq 1 1200); do
    [ "$(copied)" -ge "$1" ] && return 0
    kill -0 "$serve_pid" 2>/dev/null || fail "serve exited: $(tail -5 serve.log)"
    sleep 0.1
  done
  fail "only $(copied) of $1 objects were copied after 120 s"
}
start_serve() {
  "$SLUICE" --log-format json --log-level debug serve --config pipeline.toml 2>>serve.log &
  serve_pid=$!
}
stop_serve() {
  kill -TERM "$serve_pid"
  wait "$serve_pid" || fail "serve did not exit 0 after SIGTERM: $(tail -5 serve.log)"
}
# upload BATCH N: N small objects in/BATCH/NNN.txt, each with its own content
upload() {
  mkdir -p "gen/in/$1"
  for i in $(seq -w 1 "$2"); do printf '%s object %s of %s\n' "$1" "$i" "$id" >"gen/in/$1/$i.txt"; done
  aws_ s3 cp --only-show-errors --recursive "gen/in/$1" "s3://$bucket/in/$1/" || fail "upload of batch $1"
}

# 1. sluice runs: it declares and binds its events queue, and copies the first batch
start_serve
for _ in $(seq 1 100); do
  bash "$RMQ" ctl -q list_queues name | grep -qx "$events_queue" && break
  kill -0 "$serve_pid" 2>/dev/null || fail "serve exited: $(tail -5 serve.log)"
  sleep 0.2
done
first=20 second=30
upload live "$first"
wait_copied "$first"
stop_serve
echo "copied $first objects, then stopped sluice"

# 2. sluice is down: the notifications of the second batch wait in the durable events queue
upload down "$second"
for _ in $(seq 1 600); do
  [ "$(queue_messages "$events_queue")" -ge "$second" ] && break
  sleep 0.1
done
waiting=$(queue_messages "$events_queue")
# at least one per object (RGW's persistent queue delivers at least once)
[ "$waiting" -ge "$second" ] || fail "only $waiting notification(s) of $second wait in $events_queue while sluice is down"
echo "$waiting notification(s) wait in $events_queue while sluice is down"
expect_eq "objects copied while sluice was down" "$(copied)" "$first"

# 3. sluice is back: the waiting notifications are consumed and every object is copied once
start_serve
wait_copied $((first + second))
for _ in $(seq 1 60); do
  [ $(($(queue_messages "$events_queue") + $(job_messages))) -eq 0 ] && break
  sleep 1
done
stop_serve

expect_eq "copied objects" "$(copied)" $((first + second))
(cd gen && find in -type f | sort) >expected.txt
(cd lake && find in -type f | sort) >actual.txt
diff expected.txt actual.txt >/dev/null || fail "copied keys differ from the uploaded ones: $(diff expected.txt actual.txt | head -5)"
while read -r key; do
  cmp -s "gen/$key" "lake/$key" || fail "lake/$key differs from the uploaded object"
done <expected.txt
expect_eq "messages left in $events_queue" "$(queue_messages "$events_queue")" 0
expect_eq "messages left in the job queues" "$(job_messages)" 0
rgw_amqp_cleanup
echo "ok"
