#!/usr/bin/env bash
# Acceptance (issue 5): a route whose handler writes into the store and keys its own match covers
# (the classic Lambda self-trigger loop) is refused at load with exit 2, naming the config line,
# the route, the store and the fix; the same route with a suffix its outputs cannot have runs. Two
# routes feeding each other (a copies bucket → mirror, b copies mirror back into bucket) are the same
# loop across routes and refused the same way.
source "$(dirname "$0")/lib.sh"
cd "$TMP"

config() {  # config SUFFIX
  cat >pipeline.toml <<TOML
[queue]
url = "sqlite://queue.db"

[stores.bucket]
url = "file://bucket"

[[sources]]
name = "bucket"
type = "poll"
store = "bucket"

[[routes]]
name = "process"
match = { store = "bucket", suffix = "$1" }
handler = "wibl-process"
options = { store = "bucket", provider_id = "SLUICE" }
TOML
}

# refused CONFIG: runs CONFIG, which must be refused at load with exit 2; its stderr is in err.txt
refused() {
  local code=0
  "$SLUICE" --log-format human run --config "$1" >out.txt 2>err.txt || code=$?
  expect_eq "$1 exits 2" "$code" 2
}

mkdir -p bucket
"$SLUICE_GEN_WIBL" --out bucket/logger.wibl --size 100000 --seed 3 >/dev/null

config ""
refused pipeline.toml
err=$(cat err.txt)
expect_contains "names file, line and route" "$err" "pipeline.toml:12: route 'process'"
expect_contains "says what it is" "$err" "self-trigger loop"
expect_contains "names the store and output suffix" "$err" "store 'bucket' with prefix any and suffix '.json'"
expect_contains "says how to fix it" "$err" "Give match a prefix or suffix the outputs cannot have"
[ ! -e bucket/logger.json ] || fail "the refused config ran"

config ".wibl"
"$SLUICE" --log-format json run --config pipeline.toml >out.txt 2>err.txt || fail "safe config failed: $(cat err.txt)"
expect_contains "safe config processed the file" "$(cat out.txt)" "1 job(s) succeeded, 0 dead"
[ -s bucket/logger.json ] || fail "no output"

cat >ring.toml <<TOML
[queue]
url = "sqlite://ring.db"

[stores.bucket]
url = "file://bucket"

[stores.mirror]
url = "file://mirror"

[[routes]]
name = "out"
match = { store = "bucket" }
handler = "copy"
options = { store = "mirror" }

[[routes]]
name = "back"
match = { store = "mirror" }
handler = "copy"
options = { store = "bucket", prefix = "returned/" }
TOML
refused ring.toml
err=$(cat err.txt)
expect_contains "names the first route's line" "$err" "ring.toml:10: route 'out'"
expect_contains "says it is a loop across routes" "$err" "trigger loop across 2 routes"
expect_contains "names the step back" "$err" "route 'back' (handler 'copy') writes to store 'bucket' with prefix 'returned/'"
[ ! -e mirror ] || [ -z "$(ls -A mirror)" ] || fail "the refused ring ran"
echo "ok"
