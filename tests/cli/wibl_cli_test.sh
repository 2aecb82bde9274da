#!/usr/bin/env bash
# WIBL (issue 6): `sluice wibl process` writes wibl-python's GeoJSON byte for byte, `sluice wibl
# dump` lists packets, a truncated file fails under --strict with the offset, and a pipeline with
# the wibl-process handler turns an incoming .wibl object into <key>.json in the staging store.
source "$(dirname "$0")/lib.sh"
sample="data/wibl/wibl-python/doc/test/test.bin"
reference="data/wibl/derived/test.bin.reference.geojson"
need_shared "$sample"
cd "$TMP"

"$SLUICE" wibl process "$SLUICE_SHARED_DIR/$sample" --provider-id UNHJHC -o out.json 2>err.txt \
  || fail "process failed: $(cat err.txt)"
cmp -s out.json "$SLUICE_SHARED_DIR/$reference" || fail "out.json differs from $reference"
expect_contains "process summary" "$(cat err.txt)" "242 soundings"

dump=$("$SLUICE" wibl dump "$SLUICE_SHARED_DIR/$sample" --stats)
expect_contains "first packet" "$(echo "$dump" | head -1)" "@0 id=0 SerialiserVersion version=1.0"
expect_contains "stats" "$dump" "SerialString:ZDA"
expect_contains "total" "$dump" "0 skipped"

# A file cut in the middle of a packet: skipped with a warning, or an error naming the offset.
head -c 1000 "$SLUICE_SHARED_DIR/$sample" >cut.wibl
"$SLUICE" wibl dump cut.wibl >/dev/null 2>warn.txt || fail "lenient dump failed"
expect_contains "warning" "$(cat warn.txt)" "skipped: truncated"
if "$SLUICE" wibl dump --strict cut.wibl >/dev/null 2>strict.txt; then fail "strict dump succeeded"; fi
expect_contains "strict error" "$(cat strict.txt)" "at byte offset"

# A newer serialiser version is refused with a clear message.
printf '\x00\x00\x00\x00\x16\x00\x00\x00\x01\x00\x04\x00' >newer.wibl
head -c 18 /dev/zero >>newer.wibl
if "$SLUICE" wibl process newer.wibl -o x.json 2>newer.txt; then fail "newer file processed"; fi
expect_contains "newer" "$(cat newer.txt)" "serialiser version 1.4"

# The handler in a pipeline: incoming/*.wibl → staging/*.json.
mkdir -p incoming/logs staging
cp "$SLUICE_SHARED_DIR/data/wibl/wibl-python/tests/data/test-algo-dedup.wibl" incoming/logs/3f2a.wibl
cat >pipeline.toml <<'TOML'
[queue]
url = "sqlite://queue.db"

[engine]
idle_poll = "20ms"

[stores.incoming]
url = "file://incoming"

[stores.staging]
url = "file://staging"

[[sources]]
name = "loggers"
type = "poll"
store = "incoming"
prefix = "logs/"
suffix = ".wibl"
interval = "200ms"

[[routes]]
name = "wibl"
match = { store = "incoming", prefix = "logs/", suffix = ".wibl" }
handler = "wibl-process"
options = { store = "staging", provider_id = "UNHJHC" }
TOML
out=$("$SLUICE" --log-format json run --config pipeline.toml 2>log.txt) || fail "run failed: $(cat log.txt)"
expect_contains "run" "$out" "1 job(s) succeeded, 0 dead"
[ -f staging/logs/3f2a.json ] || fail "staging/logs/3f2a.json missing"
features=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["features"]))' staging/logs/3f2a.json)
expect_eq "features" "$features" 234
echo "ok"
