#!/usr/bin/env bash
# Acceptance (issue 2): a backfill from an index where one summary is missing and one is malformed
# lands every other run, ends those two jobs dead with messages naming the object and the fault,
# exits 3; `sluice dlq retry --all` re-runs them once the files are fixed.
source "$(dirname "$0")/lib.sh"
cd "$TMP"

write_config pipeline.toml
"$SLUICE_GEN_SERRATUS" --out incoming/summary2 --runs 30 --seed 7 --index index.txt >/dev/null
good=$(wc -l <index.txt)
echo "SRR0000001" >>index.txt                     # missing object
printf 'readlength=100;SUMZER_COMMENT=sra=SRR0000002,genome=cov3ma,version=200818,date=200817-21:05;\nfamcvg=_________________________;fam=AMR;score=abc;pctid=97;depth=1.0;aln=1;glb=0;len=1000;top=X;topscore=1;toplen=9;topname=x;\n' \
  >incoming/summary2/SRR0000002.summary
echo "SRR0000002" >>index.txt                     # malformed: score=abc on line 2

set +e
out=$("$SLUICE" --log-format json backfill --config pipeline.toml --route nucleotide --index index.txt 2>log.txt)
code=$?
set -e
expect_eq "backfill exit code" "$code" 3
expect_contains "summary" "$out" "$good job(s) succeeded, 2 dead"
expect_eq "runs landed" "$(sql summary.db 'SELECT count(*) FROM nsra')" "$good"
expect_eq "dead jobs" "$(sql queue.db "SELECT count(*) FROM jobs WHERE state='dead'")" 2

missing=$(sql queue.db "SELECT last_error FROM jobs WHERE dedupe_key LIKE '%SRR0000001%'")
expect_contains "missing object named" "$missing" "summary2/SRR0000001.summary"
expect_contains "missing object fault" "$missing" "does not exist"
bad=$(sql queue.db "SELECT last_error FROM jobs WHERE dedupe_key LIKE '%SRR0000002%'")
expect_contains "malformed object named" "$bad" "summary2/SRR0000002.summary"
expect_contains "malformed line named" "$bad" "line 2"
expect_contains "malformed field named" "$bad" "score"
listed=$("$SLUICE" jobs --config pipeline.toml list --state dead 2>/dev/null)
expect_contains "jobs list shows the dead job" "$listed" "SRR0000001"

# Fix both files, then retry the dead jobs.
"$SLUICE_GEN_SERRATUS" --out fixed --runs 2 --seed 99 >/dev/null
sed 's/sra=[A-Z]*[0-9]*,/sra=SRR0000001,/' "$(ls fixed/*.summary | head -1)" >incoming/summary2/SRR0000001.summary
sed 's/sra=[A-Z]*[0-9]*,/sra=SRR0000002,/' "$(ls fixed/*.summary | tail -1)" >incoming/summary2/SRR0000002.summary
out=$("$SLUICE" --log-format json dlq --config pipeline.toml retry --all 2>log.txt) || fail "retry failed: $(cat log.txt)"
expect_contains "retry summary" "$out" "2 job(s) succeeded, 0 dead"
expect_eq "runs after retry" "$(sql summary.db 'SELECT count(*) FROM nsra')" "$((good + 2))"
expect_eq "no dead jobs left" "$(sql queue.db "SELECT count(*) FROM jobs WHERE state='dead'")" 0
echo "ok"
