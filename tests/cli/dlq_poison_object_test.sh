#!/usr/bin/env bash
# Acceptance (issue 5): a poison object ends in the dead-letter queue with its event and its
# attempt's error and timing kept, while every other job of the run succeeds; `sluice dlq show`
# prints them; `sluice dlq retry ID` succeeds once the object is fixed, and the job's history then
# holds both attempts; `sluice dlq purge` removes only old dead jobs.
source "$(dirname "$0")/lib.sh"
cd "$TMP"

write_config pipeline.toml
"$SLUICE_GEN_SERRATUS" --out incoming/summary2 --runs 20 --seed 5 >/dev/null
good=$(ls incoming/summary2 | wc -l)
printf 'readlength=100;SUMZER_COMMENT=sra=SRR0000002,genome=cov3ma,version=200818,date=200817-21:05;\nfamcvg=_________________________;fam=AMR;score=abc;pctid=97;depth=1.0;aln=1;glb=0;len=1000;top=X;topscore=1;toplen=9;topname=x;\n' \
  >incoming/summary2/SRR0000002.summary

set +e
out=$("$SLUICE" --log-format json run --config pipeline.toml 2>log.txt)
code=$?
set -e
expect_eq "run exit code" "$code" 3
expect_contains "summary" "$out" "$good job(s) succeeded, 1 dead"
expect_contains "summary points at the dlq" "$out" "sluice dlq --config pipeline.toml list"
expect_eq "the other runs landed" "$(sql summary.db 'SELECT count(*) FROM nsra')" "$good"

listed=$("$SLUICE" dlq --config pipeline.toml list 2>/dev/null)
expect_contains "dlq list names the object" "$listed" "summary2/SRR0000002.summary"
id=$("$SLUICE" dlq list --config pipeline.toml --json 2>/dev/null | python3 -c 'import json,sys; print(json.loads(sys.stdin.readline())["id"])')

shown=$("$SLUICE" dlq show "$id" --config pipeline.toml 2>/dev/null)
expect_contains "show: state" "$shown" "job $id (dead)"
expect_contains "show: event JSON" "$shown" '"key": "summary2/SRR0000002.summary"'
expect_contains "show: attempt" "$shown" "#1 "
expect_contains "show: attempt error names the line" "$shown" "line 2"
json=$("$SLUICE" dlq show "$id" --config pipeline.toml --json 2>/dev/null)
expect_eq "show --json: one attempt, dead" \
  "$(python3 -c 'import json,sys; d=json.loads(sys.argv[1]); print(len(d["attempt_history"]), d["attempt_history"][0]["outcome"])' "$json")" "1 dead"

set +e
"$SLUICE" dlq show 999999 --config pipeline.toml >/dev/null 2>err.txt
expect_eq "show of a missing job exits 1" "$?" 1
"$SLUICE" dlq retry --config pipeline.toml >/dev/null 2>err.txt
expect_eq "retry without ids or --all exits 2" "$?" 2
"$SLUICE" dlq purge --config pipeline.toml --older-than soon >/dev/null 2>err.txt
expect_eq "purge with a bad duration exits 2" "$?" 2
set -e

# Fix the object and retry that one job.
"$SLUICE_GEN_SERRATUS" --out fixed --runs 1 --seed 99 >/dev/null
sed 's/sra=[A-Z]*[0-9]*,/sra=SRR0000002,/' fixed/*.summary >incoming/summary2/SRR0000002.summary
out=$("$SLUICE" --log-format json dlq retry "$id" --config pipeline.toml 2>log.txt) || fail "retry failed: $(cat log.txt)"
expect_contains "retry summary" "$out" "1 job(s) succeeded, 0 dead"
expect_eq "all runs landed" "$(sql summary.db 'SELECT count(*) FROM nsra')" "$((good + 1))"
json=$("$SLUICE" dlq show "$id" --config pipeline.toml --json 2>/dev/null)
expect_eq "history keeps both attempts" \
  "$(python3 -c 'import json,sys; d=json.loads(sys.argv[1]); print(d["state"], [a["outcome"] for a in d["attempt_history"]])' "$json")" \
  "succeeded ['dead', 'succeeded']"
expect_eq "dlq list is empty" "$("$SLUICE" dlq list --config pipeline.toml --json 2>/dev/null | wc -l)" 0

# Purge: a fresh dead job survives --older-than 1h, and goes with --older-than 0s.
printf 'garbage\n' >incoming/summary2/SRR0000003.summary
"$SLUICE" --log-format json run --config pipeline.toml >/dev/null 2>&1 || true
expect_eq "one dead job" "$(sql queue.db "SELECT count(*) FROM jobs WHERE state='dead'")" 1
out=$("$SLUICE" dlq purge --config pipeline.toml --older-than 1h 2>/dev/null)
expect_contains "nothing old enough" "$out" "purged 0 dead job(s)"
sleep 0.1
out=$("$SLUICE" dlq purge --config pipeline.toml --older-than 0s 2>/dev/null)
expect_contains "purged" "$out" "purged 1 dead job(s)"
expect_eq "no dead job left" "$(sql queue.db "SELECT count(*) FROM jobs WHERE state='dead'")" 0
# Kept: the good runs, the retried job, and the fixed file's new version (a new ETag: a job of its own).
expect_eq "succeeded jobs kept" "$(sql queue.db "SELECT count(*) FROM jobs WHERE state='succeeded'")" "$((good + 2))"
echo "ok"
