#!/usr/bin/env bash
# examples/wibl.toml end to end: a generated .wibl in the incoming store goes through
# wibl-process → staging → wibl-validate → validated → wibl-submit (a dry run: DCDB is not on
# loopback) in one `sluice run`, each stage started by the ObjectCreated event of the previous
# stage's output; a second run does nothing.
. "$(dirname "$0")/lib.sh"
: "${SLUICE_GEN_WIBL:?SLUICE_GEN_WIBL must point at sluice-gen-wibl}"
cd "$TMP"
mkdir -p wibl/incoming/2026
"$SLUICE_GEN_WIBL" --out wibl/incoming/2026/logger-7.wibl --size 400000 --seed 5 >/dev/null
# The example as shipped, except that nothing is posted.
sed -e 's|^token = .*|dry_run = true|' \
  "$SLUICE_SOURCE_DIR/examples/wibl.toml" >pipeline.toml
grep -q '^dry_run = true' pipeline.toml || fail "could not make the example a dry run"

out=$(WIBL_PROVIDER_ID=SLUICE "$SLUICE" --log-format json run --config pipeline.toml 2>log.txt) ||
  fail "run failed: $out $(cat log.txt)"
expect_contains "run" "$out" "3 job(s) succeeded, 0 dead"
[ -f wibl/staging/2026/logger-7.json ] || fail "no GeoJSON in staging"
cmp -s wibl/staging/2026/logger-7.json wibl/validated/2026/logger-7.json ||
  fail "validated copy differs from the staged GeoJSON"
"$SLUICE" wibl validate wibl/validated/2026/logger-7.json >/dev/null || fail "output is not valid CSB"
expect_contains "submit log" "$(cat log.txt)" "dry run: would POST logger-7.json"
expect_contains "uniqueID" "$(cat log.txt)" "as uniqueID SLUICE-"

out=$(WIBL_PROVIDER_ID=SLUICE "$SLUICE" --log-format json run --config pipeline.toml 2>/dev/null)
expect_contains "second run" "$out" "0 job(s) succeeded"
echo "ok"
