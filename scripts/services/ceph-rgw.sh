#!/usr/bin/env bash
# ceph-rgw.sh start|stop|env|status: a throwaway single-node Ceph cluster (1 mon, 1 memstore OSD)
# with a RADOS Gateway (real S3 API) on 127.0.0.1. The integration tests use it (tests/integration).
#
#   start   Install the Debian packages if they are missing, then bring the cluster up and create
#           the S3 test user. If a healthy cluster is already running in the state directory, it
#           only prints the environment. If the state directory holds a broken or partial cluster,
#           it stops that cluster's daemons, wipes the directory and starts again. On success it
#           prints `export K=V` lines on stdout and writes them to $SLUICE_CEPH_DIR/s3.env. Fails
#           (non-zero, with the tail of the daemon logs) if RGW does not answer in time.
#   stop    Stop the daemons of this state directory (only PIDs from its pid files) and delete it.
#   env     Print the `export K=V` lines (S3_ENDPOINT, AWS_* ...). Use: eval "$(ceph-rgw.sh env)"
#   status  Exit 0 if the cluster is healthy (all daemons alive, RGW accepts the test keys).
#
# Settings (environment, all optional):
#   SLUICE_CEPH_DIR=/tmp/sluice-ceph   state: config, mon store, logs, pid files, admin sockets
#   SLUICE_RGW_PORT=7480               S3 endpoint http://127.0.0.1:$SLUICE_RGW_PORT
#   SLUICE_CEPH_MON_PORT=3300          monitor (msgr v2) port
#   SLUICE_S3_ACCESS_KEY / SLUICE_S3_SECRET_KEY   fixed keys of the test user "sluice-test"
#   SLUICE_CEPH_START_TIMEOUT=60       seconds from the first daemon launch to RGW answering
#   SLUICE_CEPH_OSD_GB=8               memstore capacity (objects live in the OSD's RAM)
#   SLUICE_CEPH_SKIP_APT=1             never call apt-get; fail if a package is missing
#
# Design notes:
# * Auth between the daemons is off (auth none); S3 requests are still SigV4-checked by RGW.
# * radosgw hard-codes auth_client_required=cephx and ms_mon_client_mode=secure; without the two
#   overrides in ceph.conf it never reaches the monitor ("authenticate timed out after 300").
# * The RGW pools are created up front and the monitor commits map changes every 50 ms; without
#   that radosgw needs ~9 s to start and the first bucket/object/multipart each stall 1.5-2 s.
# * Packages are installed with a temporary policy-rc.d (when none exists), so no service is
#   started by the package scripts, with or without systemd.
# * Every daemon is started detached (setsid, stdio to files) so a CTest setup test can exit.
# * All traffic is to 127.0.0.1; curl is run with --noproxy so proxy settings cannot divert it.
set -euo pipefail

CEPH_DIR=${SLUICE_CEPH_DIR:-/tmp/sluice-ceph}
CEPH_DIR=${CEPH_DIR%/}
RGW_PORT=${SLUICE_RGW_PORT:-7480}
MON_PORT=${SLUICE_CEPH_MON_PORT:-3300}
ACCESS_KEY=${SLUICE_S3_ACCESS_KEY:-TESTACCESSKEY0000001}
SECRET_KEY=${SLUICE_S3_SECRET_KEY:-testsecretkey000000000000000000000000001}
S3_USER=sluice-test
REGION=us-east-1
START_TIMEOUT=${SLUICE_CEPH_START_TIMEOUT:-60}
OSD_GB=${SLUICE_CEPH_OSD_GB:-8}
ENDPOINT="http://127.0.0.1:${RGW_PORT}"
EMPTY_SHA256=e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
CONF="$CEPH_DIR/ceph.conf"
LOCK="$CEPH_DIR.lock"              # outside the directory: it survives the wipe
DAEMONS=(client.rgw osd.0 mon.a)   # stop order
PACKAGES=(ceph-mon ceph-osd radosgw ceph-common curl)

T0=$(date +%s%N)
log() { printf '[ceph-rgw %5.1fs] %s\n' "$(( ($(date +%s%N) - T0) / 1000000 ))e-3" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

case "$RGW_PORT$MON_PORT" in *[!0-9]*) die "SLUICE_RGW_PORT / SLUICE_CEPH_MON_PORT must be numbers" ;; esac
[ "$RGW_PORT" != "$MON_PORT" ] || die "SLUICE_RGW_PORT and SLUICE_CEPH_MON_PORT must differ"
# the admin sockets live under the state directory, and a unix socket path has at most 107 bytes
[ ${#CEPH_DIR} -le 60 ] || die "SLUICE_CEPH_DIR is too long for unix socket paths (max 60 chars): $CEPH_DIR"

print_env() {
  cat <<EOF
export S3_ENDPOINT=$ENDPOINT
export AWS_ENDPOINT_URL=$ENDPOINT
export AWS_ACCESS_KEY_ID=$ACCESS_KEY
export AWS_SECRET_ACCESS_KEY=$SECRET_KEY
export AWS_REGION=$REGION
export AWS_DEFAULT_REGION=$REGION
export AWS_EC2_METADATA_DISABLED=true
export AWS_REQUEST_CHECKSUM_CALCULATION=when_required
export AWS_RESPONSE_CHECKSUM_VALIDATION=when_required
export SLUICE_CEPH_DIR=$CEPH_DIR
export CEPH_CONF=$CONF
EOF
}

# ---- helpers ----------------------------------------------------------------------------------
pid_of() { local f="$CEPH_DIR/run/$1.pid"; [ -s "$f" ] && cat "$f"; }
# true if the PID in the daemon's pid file is alive and really is our daemon (its command line
# names our ceph.conf), so a recycled PID is never signalled
ours() {
  local p; p=$(pid_of "$1") || return 1
  [ -r "/proc/$p/cmdline" ] && tr '\0' ' ' <"/proc/$p/cmdline" | grep -qF -- "-c $CONF "
}
http_code() { curl --noproxy '*' -s -o /dev/null -w '%{http_code}' --max-time 3 "$@" 2>/dev/null || true; }
rgw_answers() { [ "$(http_code "$ENDPOINT/")" = 200 ]; }
# a SigV4-signed ListBuckets with the test keys: proves the user exists and the keys work
rgw_auth_ok() {
  [ "$(http_code --aws-sigv4 "aws:amz:$REGION:s3" --user "$ACCESS_KEY:$SECRET_KEY" \
        -H "x-amz-content-sha256: $EMPTY_SHA256" "$ENDPOINT/")" = 200 ]
}
healthy() {
  [ -f "$CONF" ] && [ -f "$CEPH_DIR/s3.env" ] || return 1
  local d; for d in "${DAEMONS[@]}"; do ours "$d" || return 1; done
  rgw_auth_ok
}
port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
ceph_cmd() { timeout 20 ceph -c "$CONF" --connect-timeout 15 "$@"; }

# a process that exists and is not a zombie (an init that does not reap orphans leaves zombies)
running() { [ -r "/proc/$1/stat" ] && [ "$(cut -d' ' -f3 "/proc/$1/stat" 2>/dev/null)" != Z ]; }
stop_daemons() {
  local d p
  for d in "${DAEMONS[@]}"; do
    ours "$d" || continue
    p=$(pid_of "$d")
    kill "$p" 2>/dev/null || true
    for _ in $(seq 1 40); do running "$p" || break; sleep 0.05; done
    if running "$p"; then
      kill -9 "$p" 2>/dev/null || true; log "$d ($p) did not stop in 2 s: killed with SIGKILL"
      for _ in $(seq 1 40); do running "$p" || break; sleep 0.05; done  # its ports are free then
    else log "$d ($p) stopped"; fi
  done
}

dump_logs() {
  local f
  echo "---- ceph-rgw.sh: tail of the logs in $CEPH_DIR/log ----" >&2
  for f in "$CEPH_DIR"/log/*.log "$CEPH_DIR"/log/*.out; do
    [ -s "$f" ] || continue
    echo "==== $f ====" >&2
    tail -n 25 "$f" >&2
  done
  echo "---- end of logs ----" >&2
}

fail_start() {
  log "ERROR: $*"
  dump_logs
  stop_daemons
  log "start FAILED; state kept in $CEPH_DIR for inspection (the next start or stop wipes it)"
  exit 1
}

DEADLINE=0
# wait_for DESCRIPTION COMMAND...: poll until COMMAND succeeds or the start deadline passes
wait_for() {
  local what=$1; shift
  until "$@"; do
    [ "$(date +%s)" -lt "$DEADLINE" ] || fail_start "timed out (${START_TIMEOUT}s) waiting for $what"
    sleep 0.1
  done
}

install_packages() {
  local missing=() p
  for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -gt 0 ] || return 0
  [ "${SLUICE_CEPH_SKIP_APT:-0}" != 1 ] || die "missing packages: ${missing[*]} (SLUICE_CEPH_SKIP_APT=1)"
  SUDO=()
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || die "missing packages ${missing[*]}, not root and no sudo"
    SUDO=(sudo -n)
  fi
  log "installing ${missing[*]} (apt log: /tmp/sluice-ceph-apt.log)"
  # keep the package scripts from starting any ceph service (no systemd/init in CI containers)
  POLICY=/usr/sbin/policy-rc.d MADE_POLICY=0
  if [ ! -e "$POLICY" ]; then
    "${SUDO[@]}" sh -c "printf '#!/bin/sh\nexit 101\n' > $POLICY && chmod 755 $POLICY"
    MADE_POLICY=1
    trap 'if [ "$MADE_POLICY" = 1 ]; then "${SUDO[@]}" rm -f "$POLICY"; fi' EXIT
  fi
  local apt=("${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 -y -q)
  if ! "${apt[@]}" install --no-install-recommends "${missing[@]}" >/tmp/sluice-ceph-apt.log 2>&1; then
    log "apt-get install failed; running apt-get update and retrying"
    "${apt[@]}" update >>/tmp/sluice-ceph-apt.log 2>&1 || true
    "${apt[@]}" install --no-install-recommends "${missing[@]}" >>/tmp/sluice-ceph-apt.log 2>&1 \
      || { tail -n 30 /tmp/sluice-ceph-apt.log >&2; die "apt-get install ${missing[*]} failed"; }
  fi
  if [ "$MADE_POLICY" = 1 ]; then "${SUDO[@]}" rm -f "$POLICY"; MADE_POLICY=0; fi
  log "packages installed"
}

write_conf() {
  cat >"$CONF" <<EOF
# generated by scripts/services/ceph-rgw.sh; the directory is wiped by "ceph-rgw.sh stop"
[global]
fsid = $1
mon host = v2:127.0.0.1:${MON_PORT}
public addr = 127.0.0.1
public network = 127.0.0.1/32
cluster network = 127.0.0.1/32
ms bind ipv6 = false
auth cluster required = none
auth service required = none
auth client required = none
ms mon client mode = crc secure
auth allow insecure global id reclaim = false
keyring = /dev/null
run dir = $CEPH_DIR/run
admin socket = $CEPH_DIR/run/\$cluster-\$name.asok
pid file = $CEPH_DIR/run/\$name.pid
log file = $CEPH_DIR/log/\$name.log
crash dir = $CEPH_DIR/crash
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
osd crush chooseleaf type = 0
mon allow pool size one = true
mon allow pool delete = true
mon max pg per osd = 1000
mon warn on pool no redundancy = false
mon data avail warn = 1
mon data avail crit = 0
paxos propose interval = 0.05
paxos min wait = 0.01
[mon]
mon data = $CEPH_DIR/mon
mon cluster log file = $CEPH_DIR/log/mon-cluster.log
[osd]
osd data = $CEPH_DIR/osd
osd objectstore = memstore
memstore device bytes = $((OSD_GB * 1024 * 1024 * 1024))
osd class load list = *
osd class default list = *
[client.rgw]
rgw frontends = beast endpoint=127.0.0.1:${RGW_PORT}
rgw data = $CEPH_DIR/rgw
rgw dns name = localhost
rgw enable usage log = false
rgw thread pool size = 64
# collect deleted/overwritten data soon: memstore keeps every object in the OSD's RAM
rgw gc obj min wait = 30
rgw gc processor period = 30
[client.admin]
# no admin socket for the short-lived ceph / radosgw-admin commands (several run in parallel)
admin socket =
EOF
}

# launch NAME COMMAND...: start a daemon detached from our session and stdio
launch() {
  local name=$1; shift
  setsid -w "$@" -c "$CONF" </dev/null >>"$CEPH_DIR/log/$name.out" 2>&1 9>&-  # not the lock fd
}

do_start() {
  if healthy; then
    log "already running in $CEPH_DIR ($ENDPOINT)"
    print_env
    return 0
  fi
  install_packages

  if [ -e "$CEPH_DIR" ]; then
    log "found a stale or partial cluster in $CEPH_DIR: stopping its daemons and wiping it"
    stop_daemons
    rm -rf "$CEPH_DIR"
  fi
  local p
  for p in "$MON_PORT" "$RGW_PORT"; do
    if port_busy "$p"; then
      die "127.0.0.1:$p is already in use by another process (another ceph/RGW? set SLUICE_RGW_PORT / SLUICE_CEPH_MON_PORT)"
    fi
  done
  mkdir -p "$CEPH_DIR"/{log,mon,osd,run,rgw,crash}
  local fsid; fsid=$(cat /proc/sys/kernel/random/uuid)
  write_conf "$fsid"
  DEADLINE=$(( $(date +%s) + START_TIMEOUT ))

  # monitor "a" at MON_PORT (the monmap decides the address it binds to)
  monmaptool --create --clobber --fsid "$fsid" --addv a "[v2:127.0.0.1:${MON_PORT}]" \
    "$CEPH_DIR/monmap" >"$CEPH_DIR/log/monmaptool.out" 2>&1 || fail_start "monmaptool failed"
  ceph-mon -c "$CONF" --id a --mkfs --monmap "$CEPH_DIR/monmap" --keyring /dev/null \
    >"$CEPH_DIR/log/mon-mkfs.out" 2>&1 || fail_start "ceph-mon --mkfs failed"
  launch mon.a ceph-mon --id a || fail_start "ceph-mon did not start"
  mon_up() { ceph_cmd mon stat >/dev/null 2>&1; }
  wait_for "the monitor" mon_up
  log "mon up on 127.0.0.1:$MON_PORT"

  local osd_id; osd_id=$(ceph_cmd osd create 2>>"$CEPH_DIR/log/setup.out") || fail_start "ceph osd create failed"
  [ "$osd_id" = 0 ] || fail_start "expected osd id 0, got '$osd_id'"
  ceph_cmd osd crush add osd.0 1 root=default host=localhost >>"$CEPH_DIR/log/setup.out" 2>&1 \
    || fail_start "ceph osd crush add failed"
  ceph-osd -c "$CONF" --id 0 --mkfs >"$CEPH_DIR/log/osd-mkfs.out" 2>&1 || fail_start "ceph-osd --mkfs failed"
  launch osd.0 ceph-osd --id 0 || fail_start "ceph-osd did not start"
  osd_up() { ceph_cmd osd dump 2>/dev/null | grep -q '^osd\.0 up'; }
  wait_for "osd.0 to be up" osd_up
  log "osd.0 up (memstore)"

  # all RGW pools before radosgw starts (see the design notes), in one ceph process: its
  # interactive mode runs the commands in sequence, saving a python start-up per command (it
  # always exits 0, so the result is checked with "osd pool ls" afterwards)
  local pools=(.rgw.root default.rgw.control default.rgw.meta default.rgw.log
               default.rgw.buckets.index default.rgw.buckets.data default.rgw.buckets.non-ec)
  local pool
  for pool in "${pools[@]}"; do
    printf 'osd pool create %s 8 8\nosd pool application enable %s rgw\n' "$pool" "$pool"
  done | timeout 60 ceph -c "$CONF" --connect-timeout 15 >>"$CEPH_DIR/log/setup.out" 2>&1 \
    || fail_start "creating the RGW pools failed"
  local have; have=$(ceph_cmd osd pool ls 2>>"$CEPH_DIR/log/setup.out") || fail_start "ceph osd pool ls failed"
  for pool in "${pools[@]}"; do
    grep -qxF -- "$pool" <<<"$have" || fail_start "pool $pool was not created (see setup.out)"
  done
  log "rgw pools created"

  launch client.rgw radosgw -n client.rgw || fail_start "radosgw did not start"
  wait_for "RGW to answer on $ENDPOINT" rgw_answers
  log "rgw answers on $ENDPOINT"

  timeout 30 radosgw-admin -c "$CONF" user create --uid="$S3_USER" --display-name="sluice tests" \
    --access-key="$ACCESS_KEY" --secret-key="$SECRET_KEY" \
    >"$CEPH_DIR/log/user-create.out" 2>&1 || fail_start "radosgw-admin user create failed"
  wait_for "RGW to accept the test keys" rgw_auth_ok
  for d in "${DAEMONS[@]}"; do ours "$d" || fail_start "daemon $d is not running"; done
  print_env >"$CEPH_DIR/s3.env"
  log "ready: S3 user $S3_USER, env file $CEPH_DIR/s3.env"
  print_env
}

do_stop() {
  if [ ! -e "$CEPH_DIR" ]; then log "nothing to stop ($CEPH_DIR does not exist)"; return 0; fi
  stop_daemons
  rm -rf "$CEPH_DIR"
  log "stopped; removed $CEPH_DIR"
}

do_status() {
  local d p rc=0
  for d in "${DAEMONS[@]}"; do
    if ours "$d"; then echo "$d: running (pid $(pid_of "$d"))"; else echo "$d: not running"; rc=1; fi
  done
  if rgw_auth_ok; then echo "rgw: $ENDPOINT accepts the test keys"
  else echo "rgw: $ENDPOINT does not answer (or rejects the test keys)"; rc=1; fi
  [ -f "$CEPH_DIR/s3.env" ] || { echo "no env file $CEPH_DIR/s3.env"; rc=1; }
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
  *) echo "usage: $0 start|stop|env|status   (see the header of this script)" >&2; exit 2 ;;
esac
