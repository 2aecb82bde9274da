#!/usr/bin/env bash
# rabbitmq.sh start|stop|env|status: a throwaway single-node RabbitMQ broker (Debian
# rabbitmq-server) on 127.0.0.1, with its own Erlang port mapper (epmd). The amqp:// queue and
# source tests use it (tests/integration).
#
#   start   Install the Debian package if it is missing, then start epmd and the broker. If a
#           healthy broker is already running in the state directory, it only prints the
#           environment. A stale or partial state directory is stopped and wiped first. On success
#           it prints `export K=V` lines on stdout and writes them to $SLUICE_RABBITMQ_DIR/amqp.env.
#           Fails (non-zero, with the tail of the broker log) if the broker does not boot in time.
#   stop    Stop the broker and its epmd (only PIDs from this directory's pid files) and delete it.
#   env     Print the `export K=V` lines (SLUICE_AMQP_URL ...). Use: eval "$(rabbitmq.sh env)"
#   status  Exit 0 if the broker and its epmd are alive and the broker answers `rabbitmqctl status`.
#   ctl ARGS...  Run `rabbitmqctl ARGS...` against this broker (e.g. `ctl list_queues name messages`).
#
# Settings (environment, all optional):
#   SLUICE_RABBITMQ_DIR=/tmp/sluice-rabbitmq   state: mnesia, logs, config, cookie, pid files
#   SLUICE_RABBITMQ_PORT=5673                  AMQP port (127.0.0.1)
#   SLUICE_RABBITMQ_DIST_PORT=port+20000       Erlang distribution port (rabbitmqctl talks to it)
#   SLUICE_RABBITMQ_EPMD_PORT=port-1200        this broker's own epmd (the default 4369 is untouched)
#   SLUICE_RABBITMQ_START_TIMEOUT=60           seconds from launch to the broker answering
#   SLUICE_RABBITMQ_SKIP_APT=1                 never call apt-get; fail if the package is missing
#
# Design notes (research/infra.md, "Message queues"):
# * /usr/lib/rabbitmq/bin/rabbitmq-server is run directly as root: the /usr/sbin wrapper switches to
#   the rabbitmq user, which cannot create its feature-flags file in a root-owned directory.
# * Every listener is on 127.0.0.1: AMQP (RABBITMQ_NODE_IP_ADDRESS), distribution
#   (inet_dist_use_interface), epmd (started here with -address), and rabbitmqctl's own Erlang node
#   (RABBITMQ_CTL_ERL_ARGS; without it that node listens on 0.0.0.0).
# * `erl` (the broker, and rabbitmqctl) would start `epmd -daemon` on its own, which outlives the
#   broker and has no pid file; so both run with `-start_epmd false`, and epmd is started here
#   first, in the foreground under setsid, with its PID recorded.
# * `loopback_users = none` lets the built-in guest user log in; it is safe because the broker
#   listens on 127.0.0.1 only.
# * /etc/rabbitmq is never read: RABBITMQ_CONF_ENV_FILE, RABBITMQ_CONFIG_FILE and
#   RABBITMQ_ADVANCED_CONFIG_FILE point into the state directory.
set -euo pipefail

RMQ_DIR=${SLUICE_RABBITMQ_DIR:-/tmp/sluice-rabbitmq}
RMQ_DIR=${RMQ_DIR%/}
PORT=${SLUICE_RABBITMQ_PORT:-5673}
case "$PORT" in ''|*[!0-9]*) echo "SLUICE_RABBITMQ_PORT must be a number" >&2; exit 1 ;; esac
DIST_PORT=${SLUICE_RABBITMQ_DIST_PORT:-$((PORT + 20000))}
EPMD_PORT=${SLUICE_RABBITMQ_EPMD_PORT:-$((PORT - 1200))}
START_TIMEOUT=${SLUICE_RABBITMQ_START_TIMEOUT:-60}
NODE="sluice-$PORT@localhost"
LOCK="$RMQ_DIR.lock"  # outside the directory: it survives the wipe
RMQ_BIN=/usr/lib/rabbitmq/bin
PACKAGES=(rabbitmq-server)
URL="amqp://guest:guest@127.0.0.1:$PORT/%2f"

T0=$(date +%s%N)
log() { printf '[rabbitmq %5.1fs] %s\n' "$(( ($(date +%s%N) - T0) / 1000000 ))e-3" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

case "$DIST_PORT$EPMD_PORT" in *[!0-9]*) die "ports must be numbers" ;; esac
[ "$PORT" != "$DIST_PORT" ] && [ "$PORT" != "$EPMD_PORT" ] && [ "$DIST_PORT" != "$EPMD_PORT" ] \
  || die "SLUICE_RABBITMQ_PORT, _DIST_PORT and _EPMD_PORT must differ"

print_env() {
  cat <<EOF
export SLUICE_AMQP_URL=$URL
export SLUICE_RABBITMQ_PORT=$PORT
export SLUICE_RABBITMQ_DIR=$RMQ_DIR
EOF
}

# The broker's environment; also what rabbitmqctl needs to find the node (cookie in HOME, epmd).
export HOME="$RMQ_DIR" \
  RABBITMQ_NODENAME="$NODE" RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 RABBITMQ_NODE_PORT="$PORT" \
  RABBITMQ_DIST_PORT="$DIST_PORT" ERL_EPMD_ADDRESS=127.0.0.1 ERL_EPMD_PORT="$EPMD_PORT" \
  RABBITMQ_MNESIA_BASE="$RMQ_DIR/mnesia" RABBITMQ_LOG_BASE="$RMQ_DIR/log" \
  RABBITMQ_LOGS="$RMQ_DIR/log/rabbit.log" RABBITMQ_PID_FILE="$RMQ_DIR/run/rabbit.pid" \
  RABBITMQ_ENABLED_PLUGINS_FILE="$RMQ_DIR/enabled_plugins" \
  RABBITMQ_PLUGINS_EXPAND_DIR="$RMQ_DIR/plugins-expand" \
  RABBITMQ_CONFIG_FILE="$RMQ_DIR/rabbitmq" \
  RABBITMQ_ADVANCED_CONFIG_FILE="$RMQ_DIR/advanced.config" \
  RABBITMQ_CONF_ENV_FILE="$RMQ_DIR/rabbitmq-env.conf" \
  RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-start_epmd false -kernel inet_dist_use_interface {127,0,0,1}" \
  RABBITMQ_CTL_ERL_ARGS="-start_epmd false -kernel inet_dist_use_interface {127,0,0,1}"

# ---- helpers ----------------------------------------------------------------------------------
pid_of() { local f="$RMQ_DIR/run/$1.pid"; [ -s "$f" ] && tr -d ' \n' <"$f"; }
running() { [ -r "/proc/$1/stat" ] && [ "$(cut -d' ' -f3 "/proc/$1/stat" 2>/dev/null)" != Z ]; }
# true if the PID in the pid file is alive and really is ours (its command line names our state
# directory as HOME, or our epmd port), so a recycled PID is never signalled
ours() {
  local p; p=$(pid_of "$1") || return 1
  running "$p" || return 1
  local cmd; cmd=$(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null) || return 1
  case "$1" in
    epmd) [[ "$cmd" == *epmd*"-port $EPMD_PORT"* ]] ;;
    rabbit) [[ "$cmd" == *beam*"-home $RMQ_DIR "* ]] ;;
  esac
}
ctl() { timeout 30 "$RMQ_BIN/rabbitmqctl" -n "$NODE" "$@"; }
port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
healthy() {
  [ -f "$RMQ_DIR/amqp.env" ] && ours epmd && ours rabbit && port_busy "$PORT" \
    && ctl status >/dev/null 2>&1
}

kill_pid() {  # kill_pid NAME PID: SIGTERM, wait up to 10 s, then SIGKILL
  local name=$1 p=$2
  kill "$p" 2>/dev/null || true
  for _ in $(seq 1 200); do running "$p" || break; sleep 0.05; done
  if running "$p"; then
    kill -9 "$p" 2>/dev/null || true
    log "$name ($p) did not stop in 10 s: killed with SIGKILL"
    for _ in $(seq 1 40); do running "$p" || break; sleep 0.05; done
  else
    log "$name ($p) stopped"
  fi
}

stop_daemons() {
  if ours rabbit; then
    local p; p=$(pid_of rabbit)
    ctl stop >/dev/null 2>&1 || true  # a clean shutdown; the kill below covers a hung one
    kill_pid broker "$p"
  fi
  if ours epmd; then kill_pid epmd "$(pid_of epmd)"; fi
}

dump_logs() {
  local f
  echo "---- rabbitmq.sh: tail of the logs in $RMQ_DIR/log ----" >&2
  for f in "$RMQ_DIR"/log/*; do
    [ -s "$f" ] || continue
    echo "==== $f ====" >&2
    tail -n 30 "$f" >&2
  done
  echo "---- end of logs ----" >&2
}

fail_start() {
  log "ERROR: $*"
  dump_logs
  stop_daemons
  log "start FAILED; state kept in $RMQ_DIR for inspection (the next start or stop wipes it)"
  exit 1
}

install_packages() {
  local missing=() p
  for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -gt 0 ] || return 0
  [ "${SLUICE_RABBITMQ_SKIP_APT:-0}" != 1 ] || die "missing packages: ${missing[*]} (SLUICE_RABBITMQ_SKIP_APT=1)"
  local sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || die "missing packages ${missing[*]}, not root and no sudo"
    sudo=(sudo -n)
  fi
  log "installing ${missing[*]} (apt log: /tmp/sluice-rabbitmq-apt.log)"
  # keep the package scripts from starting the system broker (no systemd/init in CI containers)
  local policy=/usr/sbin/policy-rc.d made_policy=0
  if [ ! -e "$policy" ]; then
    "${sudo[@]}" sh -c "printf '#!/bin/sh\nexit 101\n' > $policy && chmod 755 $policy"
    made_policy=1
  fi
  local apt=("${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 -y -q)
  local rc=0
  if ! "${apt[@]}" install --no-install-recommends "${missing[@]}" >/tmp/sluice-rabbitmq-apt.log 2>&1; then
    "${apt[@]}" update >>/tmp/sluice-rabbitmq-apt.log 2>&1 || true
    "${apt[@]}" install --no-install-recommends "${missing[@]}" >>/tmp/sluice-rabbitmq-apt.log 2>&1 || rc=1
  fi
  if [ "$made_policy" = 1 ]; then "${sudo[@]}" rm -f "$policy"; fi
  [ "$rc" = 0 ] || { tail -n 30 /tmp/sluice-rabbitmq-apt.log >&2; die "apt-get install ${missing[*]} failed"; }
  log "packages installed"
}

do_start() {
  if healthy; then
    log "already running in $RMQ_DIR (amqp://127.0.0.1:$PORT)"
    print_env
    return 0
  fi
  install_packages
  if [ -e "$RMQ_DIR" ]; then
    log "found a stale or partial broker in $RMQ_DIR: stopping it and wiping the directory"
    stop_daemons
    rm -rf "$RMQ_DIR"
  fi
  local p
  for p in "$PORT" "$DIST_PORT" "$EPMD_PORT"; do
    port_busy "$p" && die "127.0.0.1:$p is already in use (another broker? set SLUICE_RABBITMQ_PORT)"
  done
  mkdir -p "$RMQ_DIR"/{log,run,mnesia}
  echo '[].' >"$RMQ_DIR/enabled_plugins"
  echo '[].' >"$RMQ_DIR/advanced.config"
  : >"$RMQ_DIR/rabbitmq-env.conf"
  cat >"$RMQ_DIR/rabbitmq.conf" <<EOF
# generated by scripts/services/rabbitmq.sh; the directory is wiped by "rabbitmq.sh stop"
loopback_users = none
listeners.tcp.default = 127.0.0.1:$PORT
log.console = false
log.file.level = info
EOF
  local deadline=$(( $(date +%s) + START_TIMEOUT ))

  setsid /usr/bin/epmd -address 127.0.0.1 -port "$EPMD_PORT" </dev/null \
    >>"$RMQ_DIR/log/epmd.out" 2>&1 9>&- &
  echo $! >"$RMQ_DIR/run/epmd.pid"
  until port_busy "$EPMD_PORT"; do
    [ "$(date +%s)" -lt "$deadline" ] || fail_start "epmd did not listen on 127.0.0.1:$EPMD_PORT"
    ours epmd || fail_start "epmd exited (see log/epmd.out)"
    sleep 0.05
  done
  log "epmd up on 127.0.0.1:$EPMD_PORT"

  setsid "$RMQ_BIN/rabbitmq-server" </dev/null >>"$RMQ_DIR/log/server.out" 2>&1 9>&- &
  local launcher=$!
  until port_busy "$PORT"; do
    [ "$(date +%s)" -lt "$deadline" ] || fail_start "timed out (${START_TIMEOUT}s) waiting for AMQP on 127.0.0.1:$PORT"
    running "$launcher" || [ -s "$RMQ_DIR/run/rabbit.pid" ] || fail_start "rabbitmq-server exited"
    sleep 0.1
  done
  ctl await_startup >/dev/null 2>&1 || fail_start "rabbitmqctl await_startup failed"
  ours rabbit || fail_start "the broker's pid file does not name a running broker"
  print_env >"$RMQ_DIR/amqp.env"
  log "ready: $URL (node $NODE, env file $RMQ_DIR/amqp.env)"
  print_env
}

do_stop() {
  if [ ! -e "$RMQ_DIR" ]; then log "nothing to stop ($RMQ_DIR does not exist)"; return 0; fi
  stop_daemons
  rm -rf "$RMQ_DIR"
  log "stopped; removed $RMQ_DIR"
}

do_status() {
  local rc=0 d
  for d in epmd rabbit; do
    if ours "$d"; then echo "$d: running (pid $(pid_of "$d"))"; else echo "$d: not running"; rc=1; fi
  done
  # rabbitmqctl would start an epmd of its own when ours is not running: ask only a running pair
  if [ $rc -eq 0 ] && ctl status >/dev/null 2>&1; then echo "broker: $NODE answers on 127.0.0.1:$PORT"
  else echo "broker: $NODE does not answer"; rc=1; fi
  [ -f "$RMQ_DIR/amqp.env" ] || { echo "no env file $RMQ_DIR/amqp.env"; rc=1; }
  return $rc
}

with_lock() {
  exec 9>"$LOCK"
  flock -w 600 9 || die "could not lock $LOCK within 600 s"
  "$@"
}

case "${1:-}" in
  start)  with_lock do_start ;;
  stop)   with_lock do_stop ;;
  env)    print_env ;;
  status) do_status ;;
  ctl)    shift; ctl "$@" ;;
  *) echo "usage: $0 start|stop|env|status|ctl ARGS...   (see the header of this script)" >&2; exit 2 ;;
esac
