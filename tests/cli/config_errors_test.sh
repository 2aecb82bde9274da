#!/usr/bin/env bash
# A config with an unknown key, a bad duration or a missing file exits 2 with file, line and key.
source "$(dirname "$0")/lib.sh"
cd "$TMP"

write_config pipeline.toml
sed -i 's/^concurrency = /concurency = /' pipeline.toml
set +e
out=$("$SLUICE" --log-format json run --config pipeline.toml 2>&1); code=$?
set -e
expect_eq "exit code for an unknown key" "$code" 2
expect_contains "names the file and line" "$out" "pipeline.toml:30"
expect_contains "names the key" "$out" "routes[0].concurency"
expect_contains "says why" "$out" "unknown key"

write_config pipeline.toml
sed -i 's/interval = "200ms"/interval = "200 parsecs"/' pipeline.toml
set +e
out=$("$SLUICE" --log-format json run --config pipeline.toml 2>&1); code=$?
set -e
expect_eq "exit code for a bad duration" "$code" 2
expect_contains "names the key" "$out" "sources[0].interval"

set +e
out=$("$SLUICE" run --config missing.toml 2>&1); code=$?
set -e
expect_eq "exit code for a missing config" "$code" 2
expect_contains "names the file" "$out" "missing.toml"

set +e
"$SLUICE" run >/dev/null 2>&1; code=$?
set -e
expect_eq "exit code without --config" "$code" 2
help=$("$SLUICE" --help)  # not piped into grep -q: an early exit would SIGPIPE sluice
expect_contains "--help" "$help" "Exit codes"
echo "ok"
