# Shared helpers of the black-box CLI tests. Each *_test.sh sources this file, runs in its own
# temporary folder and exits 0 (pass), 1 (fail) or 77 (skipped, with the reason printed).
# SLUICE_KEEP_FAILED=DIR keeps the folder of a failed test (logs, configs) under DIR.
set -euo pipefail

: "${SLUICE:?SLUICE must point at the sluice binary}"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/sluice-cli.XXXXXX")
cleanup() {
  local rc=$? pids
  pids=$(jobs -p || true)
  [ -n "$pids" ] && kill -9 $pids 2>/dev/null || true
  if [ "$rc" -ne 0 ] && [ "$rc" -ne 77 ] && [ -n "${SLUICE_KEEP_FAILED:-}" ]; then
    mkdir -p "$SLUICE_KEEP_FAILED"
    mv "$TMP" "$SLUICE_KEEP_FAILED/" && echo "kept $SLUICE_KEEP_FAILED/$(basename "$TMP")" >&2 && return
  fi
  rm -rf "$TMP"
}
trap cleanup EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }
skip() { echo "SKIPPED: $*"; exit 77; }

# need_shared PATH: skips the test when ../shared (real sample data) is absent.
need_shared() {
  [ -e "$SLUICE_SHARED_DIR/$1" ] || skip "$SLUICE_SHARED_DIR/$1 is absent (../shared not checked out beside the repo)"
}

# expect_eq WHAT ACTUAL EXPECTED
expect_eq() { [ "$2" == "$3" ] || fail "$1: got '$2', expected '$3'"; }

# expect_contains WHAT TEXT NEEDLE
expect_contains() { [[ "$2" == *"$3"* ]] || fail "$1: '$3' not found in: $2"; }

# sql DB QUERY: one value from an SQLite database.
sql() { sqlite3 "$1" "$2"; }

# write_config FILE: a quickstart-like pipeline in the folder of FILE. LEASE, GRACE, CONCURRENCY
# and JSON_OUTPUT=0 (rows only) adjust it.
write_config() {
  local file=$1
  local json=', json_store = "lake"'
  [ "${JSON_OUTPUT:-1}" = 1 ] || json=''
  cat >"$file" <<TOML
[queue]
url = "sqlite://queue.db"
lease = "${LEASE:-30s}"

[engine]
idle_poll = "20ms"
shutdown_grace = "${GRACE:-10s}"

[stores.incoming]
url = "file://incoming"

[stores.lake]
url = "file://lake"

[tables.summary]
url = "sqlite://summary.db"

[[sources]]
name = "summaries"
type = "poll"
store = "incoming"
prefix = "summary2/"
suffix = ".summary"
interval = "200ms"

[[routes]]
name = "nucleotide"
match = { store = "incoming", prefix = "summary2/", suffix = ".summary" }
handler = "serratus-summary"
concurrency = ${CONCURRENCY:-2}
retry = { max_attempts = 3, initial_backoff = "50ms", max_backoff = "200ms" }
options = { kind = "nucleotide", table = "summary"$json }
TOML
}
