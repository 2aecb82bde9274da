#!/usr/bin/env bash
# with-amqp-env.sh COMMAND [ARGS...]: run COMMAND against the RabbitMQ broker started by
# scripts/services/rabbitmq.sh. It loads SLUICE_AMQP_URL (amqp://guest:guest@127.0.0.1:PORT/%2f)
# from `rabbitmq.sh env` and then execs COMMAND. The SLUICE_RABBITMQ_* settings must be the ones
# the broker was started with (CTest sets them on every test of the rabbitmq fixture).
#
# It fails (exit 1) instead of running COMMAND when the broker is not healthy, so a test can never
# pass or skip silently without a broker.
set -euo pipefail
if [ $# -eq 0 ]; then echo "usage: $0 COMMAND [ARGS...]" >&2; exit 2; fi

service="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/scripts/services/rabbitmq.sh"

if ! status=$(bash "$service" status 2>&1); then
  {
    echo "with-amqp-env: the RabbitMQ broker (SLUICE_RABBITMQ_DIR=${SLUICE_RABBITMQ_DIR:-/tmp/sluice-rabbitmq}) is not healthy:"
    echo "$status" | sed 's/^/  /'
    echo "with-amqp-env: start it with 'bash scripts/services/rabbitmq.sh start' (CTest does this in"
    echo "the fixture test service.rabbitmq.start; see its output for why it failed)"
  } >&2
  exit 1
fi
export NO_PROXY=127.0.0.1,localhost no_proxy=127.0.0.1,localhost
eval "$(bash "$service" env)"
exec "$@"
