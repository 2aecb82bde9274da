#!/usr/bin/env bash
# Acceptance (issue 2): the real ERR2756788 summary2, polled from a file:// store, yields exactly
# 1 nsra, 12 nfamily and 349 nsequence rows equal to serratus.io's parsed JSON after type casting,
# plus the three JSON object sets; a second run changes nothing.
source "$(dirname "$0")/lib.sh"
summary="data/serratus/derived/ERR2756788.summary.reconstructed"
expected="data/serratus/summary2_parsed_json/ERR2756788.json"
need_shared "$summary"
cd "$TMP"

write_config pipeline.toml
mkdir -p incoming/summary2
cp "$SLUICE_SHARED_DIR/$summary" incoming/summary2/ERR2756788.summary

out=$("$SLUICE" --log-format json run --config pipeline.toml 2>log.txt) || fail "run failed: $(cat log.txt)"
expect_contains "summary line" "$out" "1 job(s) succeeded, 0 dead"
expect_eq "nsra rows" "$(sql summary.db 'SELECT count(*) FROM nsra')" 1
expect_eq "nfamily rows" "$(sql summary.db 'SELECT count(*) FROM nfamily')" 12
expect_eq "nsequence rows" "$(sql summary.db 'SELECT count(*) FROM nsequence')" 349
expect_eq "names with ';'" "$(sql summary.db "SELECT count(*) FROM nsequence WHERE virus_name LIKE '%;%'")" 9
expect_eq "run objects" "$(find lake/run -type f | wc -l)" 1
expect_eq "family objects" "$(find lake/family -type f | wc -l)" 12
expect_eq "sequence objects" "$(find lake/sequence -type f | wc -l)" 349

# Every value equals the parsed JSON after type casting (research/serratus.md §2.3 names).
python3 - "$SLUICE_SHARED_DIR/$expected" summary.db lake <<'PY' || fail "values differ from the parsed JSON"
import json, sqlite3, sys, os
expected = json.load(open(sys.argv[1]))
db = sqlite3.connect(sys.argv[2])
lake = sys.argv[3]
INT = {'score','pctid','aln','glb','len','topscore','toplen','readlength'}
def cast(k, v):
    return int(v) if k in INT else float(v) if k == 'depth' else v
props = expected['properties']
run = props['sra']
row = db.execute('SELECT run_id, read_length, genome, version, date FROM nsra').fetchone()
assert row == (run, int(props['readlength']), props['genome'], props['version'], props['date']), row
fam_cols = [('family_name','fam'),('coverage_bins','famcvg'),('score','score'),('percent_identity','pctid'),
            ('depth','depth'),('n_reads','aln'),('n_global_reads','glb'),('length','len'),
            ('top_genbank_id','top'),('top_score','topscore'),('top_length','toplen'),('top_name','topname')]
seq_cols = [('family_name','family'),('sequence_accession','seq'),('coverage_bins','seqcvg'),('score','score'),
            ('percent_identity','pctid'),('depth','depth'),('n_reads','aln'),('n_global_reads','glb'),
            ('length','len'),('virus_name','name')]
def check(table, cols, key_col, records, key):
    rows = {r[0]: r for r in db.execute(
        f"SELECT {key_col}, run_id, {', '.join(c for c, _ in cols)} FROM {table}")}
    assert len(rows) == len(records), (table, len(rows), len(records))
    for rec in records:
        got = rows[rec[key]]
        assert got[1] == run, got
        want = tuple(cast(k, rec[k]) for _, k in cols)
        assert tuple(got[2:]) == want, (table, got, want)
check('nfamily', fam_cols, 'family_name', expected['families'], 'fam')
check('nsequence', seq_cols, 'sequence_accession', expected['sequences'], 'seq')
# JSON objects: string values as in the file, plus the run id (research §2.1, era A).
run_obj = json.load(open(os.path.join(lake, 'run', run + '.json')))
for k, v in props.items():
    assert run_obj[k] == v, (k, run_obj)
for fam in expected['families']:
    obj = json.load(open(os.path.join(lake, 'family', f"{run}_{fam['fam']}.json")))
    for k, v in fam.items():
        assert obj[k] == v, (k, obj)
print('all values equal')
PY

# A second run changes nothing: no job, same rows, same objects.
before=$(sqlite3 summary.db .dump | md5sum; find lake -type f -printf '%p %T@ %s\n' | sort | md5sum)
out=$("$SLUICE" --log-format json run --config pipeline.toml 2>log.txt) || fail "second run failed"
expect_contains "second run" "$out" "0 job(s) succeeded, 0 dead"
after=$(sqlite3 summary.db .dump | md5sum; find lake -type f -printf '%p %T@ %s\n' | sort | md5sum)
expect_eq "state after a second run" "$after" "$before"
echo "ok"
