#!/usr/bin/env bash
# Benchmark (issue 5): the engine itself.
#  1. Event-to-output latency through the webhook: `sluice serve` with a webhook source and a
#     `copy` route (file:// in → file:// out); bench/webhook_latency.py POSTs one AWS S3
#     notification per small object, 50 per second, and reads each copy's mtime.
#     Target: p50 < 20 ms, p99 < 100 ms.
#  2. Jobs per second with the `noop` handler: 20,000 jobs through `sluice backfill` on the
#     embedded sqlite:// queue (target >= 2,000 jobs/s), and on amqp:// with 1, 2 and 4
#     `sluice worker` processes (RabbitMQ from scripts/services/rabbitmq.sh).
#   bench/events_bench.sh [BUILD_DIR]        (default build/release)
# Environment: EVENTS (latency events, default 500), JOBS (jobs, default 20000).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
build="${1:-build/release}"
events=${EVENTS:-500}
jobs=${JOBS:-20000}
if [ ! -x "$build/sluice" ]; then
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DSLUICE_BUILD_TESTS=OFF >/dev/null
  cmake --build "$build" -j "${NPROC:-$(nproc)}" --target sluice >/dev/null
fi
sluice=$(cd "$build" && pwd)/sluice
work=$(mktemp -d "${TMPDIR:-/tmp}/sluice-events-bench.XXXXXX")
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"

# --- 1. latency -----------------------------------------------------------------------------
port=$(free_port)
mkdir -p "$work/lat/in" "$work/lat/out"
cat >"$work/lat/pipeline.toml" <<TOML
[queue]
url = "sqlite://queue.db"
[stores.in]
url = "file://in"
[stores.out]
url = "file://out"
[[sources]]
name = "notifications"
type = "webhook"
listen = "127.0.0.1:$port"
store = "in"
[[routes]]
name = "mirror"
match = { store = "in" }
handler = "copy"
concurrency = 2
options = { store = "out" }
TOML
"$sluice" serve --config "$work/lat/pipeline.toml" >"$work/lat/serve.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
echo "== latency: $events events through the webhook, copy handler"
python3 "$root/bench/webhook_latency.py" "http://127.0.0.1:$port/events" "$work/lat/in" \
  "$work/lat/out" "$events" 20
kill -TERM "${pids[-1]}"; wait "${pids[-1]}" || true

# --- 2. jobs per second ---------------------------------------------------------------------
seq -f "id%06g" 1 "$jobs" >"$work/index.txt"
noop_config() {  # DIR QUEUE_URL CONCURRENCY
  mkdir -p "$1/in"
  cat >"$1/pipeline.toml" <<TOML
[queue]
url = "$2"
[stores.in]
url = "file://in"
[[routes]]
name = "noop"
match = { store = "in" }
handler = "noop"
concurrency = $3
TOML
}
echo "== jobs/s: $jobs jobs, noop handler"
noop_config "$work/sq" "sqlite://queue.db" 4
/usr/bin/time -f '%e s wall, %U+%S s CPU, %M KB RSS' -o "$work/sq/time.txt" \
  "$sluice" backfill --config "$work/sq/pipeline.toml" --route noop --index "file://$work/index.txt" \
  2>"$work/sq/log" | tail -1
echo "sqlite:// (one process, concurrency 4): $(cat "$work/sq/time.txt")"

# amqp://: the jobs are enqueued first (`backfill --enqueue-only`), then N workers start and the
# clock runs until their /metrics (engine.listen on a free port each) count every job succeeded.
# A broker of its own (state under the work folder, a free port), stopped at the end.
rabbit=$root/scripts/services/rabbitmq.sh
export SLUICE_RABBITMQ_DIR=$work/rabbitmq SLUICE_RABBITMQ_PORT=$((20000 + RANDOM % 10000))  # +20000: its dist port
trap '"$rabbit" stop >/dev/null 2>&1 || true; cleanup' EXIT
"$rabbit" start >/dev/null || { echo "amqp://: RabbitMQ did not start"; exit 1; }
eval "$("$rabbit" env)"
succeeded_total() {  # sums sluice_job_attempts_total{result="succeeded"} over the workers' logs
  local sum=0 address
  for log in "$@"; do
    address=$(grep -o 'metrics on http://[^/]*' "$log" | head -1 | cut -d/ -f3)
    [ -n "$address" ] || continue
    sum=$((sum + $(curl -s "http://$address/metrics" | awk '/^sluice_job_attempts_total.*succeeded/ {s += $2} END {printf "%d", s}')))
  done
  echo "$sum"
}
for n in 1 2 4; do
  dir="$work/amqp$n"
  noop_config "$dir" "$SLUICE_AMQP_URL?queue=bench$n-$$" 16
  printf '[engine]\nlisten = "127.0.0.1:0"\n' >>"$dir/pipeline.toml"
  start=$(date +%s.%N)
  "$sluice" backfill --enqueue-only --config "$dir/pipeline.toml" --route noop \
    --index "file://$work/index.txt" 2>"$dir/enqueue.log"
  enqueue_s=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN {print b - a}')
  logs=()
  start=$(date +%s.%N)
  for i in $(seq "$n"); do
    "$sluice" worker --config "$dir/pipeline.toml" 2>"$dir/worker$i.log" &
    pids+=($!)
    logs+=("$dir/worker$i.log")
  done
  until [ "$(succeeded_total "${logs[@]}")" -ge "$jobs" ]; do sleep 0.05; done
  seconds=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN {print b - a}')
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  pids=()
  printf 'amqp:// with %d worker(s) (concurrency 16 each): %.0f jobs/s (%.2f s; enqueue %.2f s = %.0f jobs/s)\n' \
    "$n" "$(awk -v j="$jobs" -v s="$seconds" 'BEGIN {print j / s}')" "$seconds" "$enqueue_s" \
    "$(awk -v j="$jobs" -v s="$enqueue_s" 'BEGIN {print j / s}')"
done
