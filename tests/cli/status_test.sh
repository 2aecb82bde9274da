#!/usr/bin/env bash
# `sluice status` prints the queue depth of every route by state, the outcomes of the last minute
# and hour from the attempt history, and the last errors naming the job and object.
source "$(dirname "$0")/lib.sh"
cd "$TMP"

write_config pipeline.toml
"$SLUICE_GEN_SERRATUS" --out incoming/summary2 --runs 5 --seed 5 >/dev/null
printf 'garbage\n' >incoming/summary2/SRR0000009.summary
"$SLUICE" --log-format json run --config pipeline.toml >/dev/null 2>&1 || true

out=$("$SLUICE" status --config pipeline.toml 2>err.txt) || fail "status failed: $(cat err.txt)"
expect_contains "header" "$out" "ROUTE"
row=$(grep '^nucleotide ' <<<"$out")
expect_eq "depth of the route: pending running retrying dead succeeded" "$(echo $row)" "nucleotide 0 0 0 1 5"
expect_contains "last minute" "$out" "last minute: 5 succeeded, 1 dead"
expect_contains "last error names the object" "$out" "summary2/SRR0000009.summary attempt 1 dead"
set +e
"$SLUICE" status --config missing.toml >/dev/null 2>&1
expect_eq "a missing config exits 2" "$?" 2
set -e
echo "ok"
