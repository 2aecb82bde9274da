#!/usr/bin/env bash
# Acceptance (issue 2): `kill -9` of `sluice serve` while jobs are running, then a restart: every
# job completes and every run's rows and objects exist exactly once.
source "$(dirname "$0")/lib.sh"
cd "$TMP"

LEASE=1s GRACE=5s write_config pipeline.toml
runs=1500
"$SLUICE_GEN_SERRATUS" --out incoming/summary2 --runs "$runs" --seed 3 >/dev/null

succeeded() { sqlite3 queue.db "SELECT count(*) FROM jobs WHERE state='succeeded'" 2>/dev/null || echo 0; }

"$SLUICE" --log-format json serve --config pipeline.toml 2>serve1.log &
pid=$!
for _ in $(seq 1 600); do
  [ "$(succeeded)" -ge 50 ] && break
  sleep 0.05
done
kill -9 "$pid"
wait "$pid" 2>/dev/null || true
done_before=$(succeeded)
[ "$done_before" -lt "$runs" ] || fail "every job finished before the kill; make the workload larger"
echo "killed with $done_before of $runs jobs done"

"$SLUICE" --log-format json serve --config pipeline.toml 2>serve2.log &
pid=$!
for _ in $(seq 1 1200); do
  [ "$(succeeded)" -ge "$runs" ] && break
  sleep 0.1
done
kill -TERM "$pid"
wait "$pid" || fail "serve did not exit 0 after SIGTERM: $(tail -5 serve2.log)"

expect_eq "succeeded jobs" "$(succeeded)" "$runs"
expect_eq "jobs in total" "$(sql queue.db 'SELECT count(*) FROM jobs')" "$runs"
expect_eq "nsra rows" "$(sql summary.db 'SELECT count(*) FROM nsra')" "$runs"
expect_eq "distinct runs" "$(sql summary.db 'SELECT count(DISTINCT run_id) FROM nsra')" "$runs"
expect_eq "run objects" "$(find lake/run -type f | wc -l)" "$runs"
# Family rows and objects match the files exactly: one row and one object per family line.
families=$(cat incoming/summary2/*.summary | grep -c '^famcvg=' || true)
expect_eq "nfamily rows" "$(sql summary.db 'SELECT count(*) FROM nfamily')" "$families"
expect_eq "family objects" "$(find lake/family -type f | wc -l)" "$families"
sequences=$(cat incoming/summary2/*.summary | grep -c '^seqcvg=' || true)
expect_eq "nsequence rows" "$(sql summary.db 'SELECT count(*) FROM nsequence')" "$sequences"
echo "ok"
