#!/usr/bin/env bash
# Harness smoke test: the aws CLI against the Ceph RGW of the ceph_rgw fixture. Create a bucket,
# put an object, list it, get it back byte-identical, check ETag = MD5 of the content, delete
# everything; and check that the CLI only ever connects to 127.0.0.1 (no IMDS, no real AWS).
# Run it through with-ceph-env.sh (CTest does). SLUICE_AWS_CLI picks the aws binary; the default
# is Debian's /usr/bin/aws (package awscli), else the first aws on PATH.
set -euo pipefail

fails=0
pass() { echo "ok   - $*"; }
fail() { echo "FAIL - $*"; fails=$((fails + 1)); }
fatal() { echo "FAIL - $*"; echo "aws_cli_smoke: aborted"; exit 1; }

: "${S3_ENDPOINT:?S3_ENDPOINT is not set: run this through tests/integration/with-ceph-env.sh}"
case "$S3_ENDPOINT" in
  http://127.0.0.1:*) ;;
  *) fatal "S3_ENDPOINT=$S3_ENDPOINT is not on 127.0.0.1" ;;
esac
[ "${AWS_EC2_METADATA_DISABLED:-}" = true ] || fatal "AWS_EC2_METADATA_DISABLED must be true"
[ -n "${AWS_REGION:-}" ] && [ -n "${AWS_DEFAULT_REGION:-}" ] || fatal "AWS_REGION / AWS_DEFAULT_REGION must be set"

AWS_BIN=${SLUICE_AWS_CLI:-}
if [ -z "$AWS_BIN" ]; then
  if [ -x /usr/bin/aws ]; then AWS_BIN=/usr/bin/aws; else AWS_BIN=$(command -v aws || true); fi
fi
[ -n "$AWS_BIN" ] || fatal "no aws CLI found (scripts/install-deps.sh installs Debian's awscli)"
echo "# $("$AWS_BIN" --version 2>&1) at $AWS_BIN, endpoint $S3_ENDPOINT"
s3() { "$AWS_BIN" --endpoint-url "$S3_ENDPOINT" "$@"; }

work=$(mktemp -d "${TMPDIR:-/tmp}/sluice-it-smoke.XXXXXX")
bucket="sluice-it-smoke-$$-${RANDOM}"
key="dir/sub/object with spaces.bin"
cleanup() {
  s3 s3 rb "s3://$bucket" --force >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

# ---- create bucket
s3 s3api create-bucket --bucket "$bucket" >"$work/out" 2>&1 || { cat "$work/out"; fatal "create-bucket $bucket"; }
pass "create-bucket $bucket"
s3 s3api head-bucket --bucket "$bucket" >"$work/out" 2>&1 && pass "head-bucket" \
  || { cat "$work/out"; fail "head-bucket"; }

# ---- put object: 1 MiB of random bytes plus a tail, so every byte value occurs
head -c 1048576 /dev/urandom >"$work/object"
printf 'tail\0\r\n\xff' >>"$work/object"
size=$(stat -c %s "$work/object")
md5=$(md5sum "$work/object" | cut -d' ' -f1)
put_etag=$(s3 s3api put-object --bucket "$bucket" --key "$key" --body "$work/object" \
  --query ETag --output text 2>"$work/err") || { cat "$work/err"; fatal "put-object"; }
pass "put-object ($size bytes)"
[ "$put_etag" = "\"$md5\"" ] && pass "put-object ETag is the MD5 of the content ($put_etag)" \
  || fail "put-object ETag: got '$put_etag', want '\"$md5\"'"

# ---- list
listing=$(s3 s3api list-objects-v2 --bucket "$bucket" --query 'Contents[].[Key,Size]' --output text 2>&1) \
  || { echo "$listing"; fatal "list-objects-v2"; }
[ "$listing" = "$key	$size" ] && pass "list-objects-v2 shows the object and its size" \
  || fail "list-objects-v2: got '$listing', want '$key	$size'"

# ---- head + get, byte for byte
head_etag=$(s3 s3api head-object --bucket "$bucket" --key "$key" --query ETag --output text 2>&1)
[ "$head_etag" = "\"$md5\"" ] && pass "head-object ETag = MD5" || fail "head-object ETag: got '$head_etag'"
s3 s3api get-object --bucket "$bucket" --key "$key" "$work/back" >"$work/out" 2>&1 \
  || { cat "$work/out"; fatal "get-object"; }
cmp -s "$work/object" "$work/back" && pass "get-object returns the same bytes" \
  || fail "get-object: content differs ($(stat -c %s "$work/back") bytes back, $size sent)"

# ---- SigV4 is really checked: a wrong secret is rejected
if AWS_SECRET_ACCESS_KEY=wrong-secret s3 s3api head-object --bucket "$bucket" --key "$key" >"$work/out" 2>&1; then
  fail "a wrong secret key was accepted"
else
  pass "a wrong secret key is rejected"
fi

# ---- the CLI talks to 127.0.0.1 only (no instance metadata service, no real AWS endpoint)
s3 --debug s3api list-objects-v2 --bucket "$bucket" >/dev/null 2>"$work/debug" || { tail -5 "$work/debug"; fail "list (debug)"; }
conns=$(grep -oE 'Starting new HTTPS? connection \([0-9]+\): [^ ]+' "$work/debug" | sed 's/.*: //' | sort -u | tr '\n' ' ')
others=$(grep -oE 'Starting new HTTPS? connection \([0-9]+\): [^ ]+' "$work/debug" | grep -v ': 127\.0\.0\.1:' || true)
if [ -z "$conns" ]; then fail "no connection seen in the --debug output"
elif [ -n "$others" ]; then fail "connections other than 127.0.0.1: $others"
else pass "connections only to $conns"; fi

# ---- delete object and bucket
s3 s3api delete-object --bucket "$bucket" --key "$key" >"$work/out" 2>&1 && pass "delete-object" \
  || { cat "$work/out"; fail "delete-object"; }
if s3 s3api head-object --bucket "$bucket" --key "$key" >"$work/out" 2>&1; then fail "object still there after delete"
else pass "head-object after delete fails ($(grep -oE '\(404\)|Not Found' "$work/out" | head -1))"; fi
# (the CLI's auto-pagination drops KeyCount from an empty listing, so count the Contents)
count=$(s3 s3api list-objects-v2 --bucket "$bucket" --query 'length(Contents || `[]`)' --output text 2>&1)
[ "$count" = 0 ] && pass "bucket is empty" || fail "objects left after delete: '$count'"
s3 s3api delete-bucket --bucket "$bucket" >"$work/out" 2>&1 && pass "delete-bucket" \
  || { cat "$work/out"; fail "delete-bucket"; }
if s3 s3api head-bucket --bucket "$bucket" >/dev/null 2>&1; then fail "bucket still there after delete-bucket"
else pass "head-bucket after delete-bucket fails"; fi

echo "aws_cli_smoke: $fails failure(s)"
[ "$fails" -eq 0 ]
