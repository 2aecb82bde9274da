#!/usr/bin/env bash
# ctest-timeout: 600
# needs: ceph
# Acceptance (issue 5): Ceph RGW pushes bucket notifications into RabbitMQ (AMQP push endpoint,
# exchange amq.topic, routing key = topic name); `sluice serve` consumes them with an `amqp`
# source into an amqp:// job queue; three `sluice worker`s process the jobs from the bucket. One
# worker is frozen while it holds unacknowledged jobs and killed with SIGKILL: every uploaded
# summary still produces its rows and objects exactly once.
# Registered only when the tree has the S3 notification parser (the webhook source's), which the
# amqp source needs (tests/integration/CMakeLists.txt).
# History: it failed twice in full-suite runs (ctest -j2 on 2 cores) and was disabled. Not
# reproduced since, alone or under load (busy loops at load average 10-12, workers_kill9 and
# rgw_amqp_down beside it, or four broker tests at once). No kernel-reported crash or OOM kill of
# sluice happened then, so the worker that was "gone before it was frozen" had returned an error:
# a daemon used to exit on the first failed route subscription (queue.declare of the quorum queue
# and its retry queues, which an overloaded RabbitMQ can fail); it now retries retryable errors
# with backoff (Engine RunDaemon). The "10 jobs still queued" failure checked the broker 1 s after
# the last run appeared, while the killed worker's redelivered jobs and retries of transient
# failures were still waiting: the test now waits for every message, and counts the events the
# source enqueued (a PUT that RGW notified twice would be one more job rewriting the same outputs;
# none was seen). Logs of a failing run: SLUICE_KEEP_FAILED=DIR (tests/cli/lib.sh).
source "$SLUICE_SOURCE_DIR/tests/cli/lib.sh"
source "$SLUICE_SOURCE_DIR/tests/integration/amqp/lib_rgw_amqp.sh"
cd "$TMP"
rgw_amqp_bucket rgwamqp false

rgw_amqp_config pipeline.toml
cat >>pipeline.toml <<TOML

[tables.summary]
url = "sqlite://summary.db"

[[routes]]
name = "nucleotide"
match = { store = "incoming", prefix = "summary2/", suffix = ".summary" }
handler = "serratus-summary"
concurrency = 2
retry = { max_attempts = 3, initial_backoff = "50ms", max_backoff = "200ms" }
options = { kind = "nucleotide", table = "summary", json_store = "lake" }
TOML

"$SLUICE" --log-format json --log-level debug serve --config pipeline.toml 2>serve.log &
serve_pid=$!
pids=()
for n in 1 2 3; do
  "$SLUICE" --log-format json --log-level debug worker --config pipeline.toml 2>"worker$n.log" &
  pids+=($!)
done
# the source declares and binds its queue when it starts; RGW's pushes before that are unroutable
for _ in $(seq 1 100); do
  bash "$RMQ" ctl -q list_queues name | grep -qx "$events_queue" && break
  kill -0 "$serve_pid" 2>/dev/null || fail "serve exited: $(tail -5 serve.log)"
  sleep 0.2
done

runs=400
"$SLUICE_GEN_SERRATUS" --out gen/summary2 --runs "$runs" --seed 7 >/dev/null
# Objects arrive while the workers run. Worker 1 is frozen (SIGSTOP) after its first jobs: the
# broker keeps pushing up to prefetch jobs to it, which it now holds unacknowledged, and then it is
# killed (-9) with them. They must come back to the other workers.
aws_ s3 cp --only-show-errors --recursive gen/ "s3://$bucket/" &
upload_pid=$!

done_by() { grep -c '"succeeded: ' "$1" 2>/dev/null || true; }
runs_done() { sqlite3 summary.db "SELECT count(DISTINCT run_id) FROM nsra" 2>/dev/null || echo 0; }
victim=${pids[0]}
for _ in $(seq 1 1200); do
  [ "$(done_by worker1.log)" -ge 2 ] && break
  sleep 0.05
done
kill -0 "$victim" 2>/dev/null || fail "worker 1 exited before it was frozen: $(tail -5 worker1.log)"
kill -STOP "$victim"
before=$(runs_done)
unacked=0
for _ in $(seq 1 30); do
  conn=$(bash "$RMQ" ctl -q list_connections pid client_properties | grep -F ":$victim consumer" | cut -f1 || true)
  unacked=$(bash "$RMQ" ctl -q list_channels connection messages_unacknowledged \
    | awk -F'\t' -v c="$conn" '$1 == c { s += $2 } END { print s + 0 }')
  [ "$unacked" -ge 1 ] && break
  sleep 0.2
done
kill -9 "$victim"
wait "$victim" 2>/dev/null || true
wait "$upload_pid" || fail "upload"
echo "killed worker 1 holding $unacked unacknowledged job(s); $before of $runs runs were done when it froze"
[ "$unacked" -ge 1 ] || fail "worker 1 held no unacknowledged job when frozen; the kill proved nothing"

# messages (ready or unacknowledged) of this test's job queues and event queue
messages_left() {
  bash "$RMQ" ctl -q list_queues name messages messages_unacknowledged \
    | awk -F'\t' -v p="$prefix." -v e="$events_queue" '(index($1, p) == 1 || $1 == e) { s += $2 + $3 } END { print s + 0 }'
}
for _ in $(seq 1 1200); do
  [ "$(runs_done)" -ge "$runs" ] && break
  sleep 0.1
done
# Every job must finish, duplicates included (a PUT that the client retried is notified twice, and
# amqp:// does not dedupe: the second job rewrites the same outputs).
for _ in $(seq 1 60); do
  [ "$(messages_left)" -eq 0 ] && break
  sleep 1
done
kill -TERM "$serve_pid" "${pids[1]}" "${pids[2]}"
wait "$serve_pid" || fail "serve did not exit 0 after SIGTERM: $(tail -5 serve.log)"
wait "${pids[1]}" || fail "worker 2 did not exit 0: $(tail -5 worker2.log)"
wait "${pids[2]}" || fail "worker 3 did not exit 0: $(tail -5 worker3.log)"

expect_eq "nsra rows" "$(sql summary.db 'SELECT count(*) FROM nsra')" "$runs"
expect_eq "distinct runs" "$(runs_done)" "$runs"
expect_eq "run objects" "$(find lake/run -type f | wc -l)" "$runs"
families=$(cat gen/summary2/*.summary | grep -c '^famcvg=' || true)
expect_eq "nfamily rows" "$(sql summary.db 'SELECT count(*) FROM nfamily')" "$families"
expect_eq "messages left on the broker" "$(messages_left)" 0
# events the source enqueued (its debug lines "N notification(s), M event(s)"): more than $runs
# means RGW notified some PUT twice; each extra one became a job that rewrote the same outputs
events=$(grep -o 'notification(s), [0-9]* event(s)' serve.log | awk '{ s += $2 } END { print s + 0 }')
echo "the source enqueued $events event(s) for $runs objects"
[ "$events" -ge "$runs" ] || fail "the source enqueued only $events event(s) for $runs objects"
rgw_amqp_cleanup
echo "ok"
