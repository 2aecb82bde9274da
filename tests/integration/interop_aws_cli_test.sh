#!/usr/bin/env bash
# Interop: what `sluice cp` uploads, `aws s3 cp` (Debian's awscli) downloads byte-identical, and
# the other way round, and both see the same ETags; for single files (empty, small, binary, a
# 20 MiB multipart one, odd names) and for a folder copied recursively. Also: wrong credentials
# and a missing bucket fail with the server's words and without a secret in any output.
# Both tools use 8 MiB parts above 8 MiB (sluice's StoreOptions defaults; the CLI's
# multipart_threshold and multipart_chunksize defaults), so a file gets the same ETag from either.
# Run it through with-ceph-env.sh (CTest does). SLUICE is the sluice binary; SLUICE_AWS_CLI picks
# the aws binary (default /usr/bin/aws).
set -euo pipefail

fails=0
pass() { echo "ok   - $*"; }
fail() { echo "FAIL - $*"; fails=$((fails + 1)); }
fatal() { echo "FAIL - $*"; echo "interop_aws_cli: aborted"; exit 1; }

: "${S3_ENDPOINT:?S3_ENDPOINT is not set: run this through tests/integration/with-ceph-env.sh}"
case "$S3_ENDPOINT" in http://127.0.0.1:*) ;; *) fatal "S3_ENDPOINT=$S3_ENDPOINT is not on 127.0.0.1" ;; esac
[ -x "${SLUICE:-}" ] || fatal "SLUICE (the sluice binary) is not set or not executable: '${SLUICE:-}'"
AWS_BIN=${SLUICE_AWS_CLI:-/usr/bin/aws}
[ -x "$AWS_BIN" ] || fatal "no aws CLI at $AWS_BIN (scripts/install-deps.sh installs Debian's awscli)"
command -v python3 >/dev/null || fatal "python3 is needed to compute multipart ETags"
echo "# $("$AWS_BIN" --version 2>&1), $("$SLUICE" --version 2>&1), endpoint $S3_ENDPOINT"

s3() { "$AWS_BIN" --endpoint-url "$S3_ENDPOINT" "$@"; }
sluice() { "$SLUICE" --log-level warn "$@"; }

work=$(mktemp -d "${TMPDIR:-/tmp}/sluice-it-interop.XXXXXX")
bucket="sluice-it-interop-$$-${RANDOM}"
cleanup() {
  s3 s3 rb "s3://$bucket" --force >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

# expected_etag FILE: what S3 reports for FILE uploaded with 8 MiB parts above 8 MiB: the hex MD5,
# or MD5 of the concatenated part MD5s, "-", the number of parts.
expected_etag() {
  python3 - "$1" <<'EOF'
import hashlib, os, sys
path, part = sys.argv[1], 8 * 1024 * 1024
size = os.path.getsize(path)
with open(path, 'rb') as f:
    if size <= part:
        print(hashlib.md5(f.read()).hexdigest())
    else:
        digests = []
        while chunk := f.read(part):
            digests.append(hashlib.md5(chunk).digest())
        print(f"{hashlib.md5(b''.join(digests)).hexdigest()}-{len(digests)}")
EOF
}
# aws_etag KEY: the ETag head-object reports, unquoted
aws_etag() { s3 s3api head-object --bucket "$bucket" --key "$1" --query ETag --output text | tr -d '"'; }
# rows FORMAT PREFIX: reads a listing on stdin and prints "key<TAB>size<TAB>etag" lines, sorted,
# keys relative to PREFIX. FORMAT: "sluice" (`sluice ls -r --json` lines) or "aws"
# (list-objects-v2 JSON: Contents[].{k:Key,s:Size,e:ETag}).
rows() {
  python3 -c "$(cat <<'EOF'
import json, sys
form, prefix = sys.argv[1], sys.argv[2]
if form == "sluice":
    objects = [json.loads(line) for line in sys.stdin if line.startswith("{")]
    objects = [(o["key"], o["size"], o["etag"]) for o in objects if "key" in o]
else:
    objects = [(o["k"], o["s"], o["e"]) for o in (json.load(sys.stdin) or [])]
rows = []
for key, size, etag in objects:
    assert key.startswith(prefix), key
    rows.append("%s\t%s\t%s" % (key[len(prefix):], size, etag.strip('"')))
print("\n".join(sorted(rows)))
EOF
)" "$1" "$2"
}
# sluice_listing PREFIX / aws_listing PREFIX: what each tool lists below PREFIX, as rows
sluice_listing() { sluice ls -r --json "s3://$bucket/$1" | rows sluice "$1"; }
aws_listing() {
  s3 s3api list-objects-v2 --bucket "$bucket" --prefix "$1" --output json \
    --query 'Contents[].{k:Key,s:Size,e:ETag}' | rows aws "$1"
}

s3 s3api create-bucket --bucket "$bucket" >"$work/out" 2>&1 || { cat "$work/out"; fatal "create-bucket $bucket"; }
pass "create-bucket $bucket"

# ---- the files
mkdir -p "$work/src" "$work/tree/sub/deeper" "$work/tree/with space" "$work/tree/big"
: >"$work/src/empty"
printf 'hello world\n' >"$work/src/small.txt"
{ head -c 1048576 /dev/urandom; printf 'tail\0\r\n\xff'; } >"$work/src/binary.bin"
head -c $((20 * 1024 * 1024)) /dev/urandom >"$work/src/big.bin"      # 3 parts: 8, 8, 4 MiB
cp "$work/src/small.txt" "$work/src/name with spaces & ü.txt"
printf 'a\n' >"$work/tree/a.txt"
head -c 100000 /dev/urandom >"$work/tree/sub/b.bin"
printf 'c\n' >"$work/tree/sub/deeper/c.txt"
: >"$work/tree/sub/empty"
printf 'z\n' >"$work/tree/with space/z é.txt"
head -c $((9 * 1024 * 1024 + 5)) /dev/urandom >"$work/tree/big/mp.bin"  # 2 parts
files=(empty small.txt binary.bin big.bin "name with spaces & ü.txt")
echo "# $(find "$work/src" "$work/tree" -type f | wc -l) files, $(du -sh "$work" | cut -f1)"

# ---- single files: sluice up, aws down; aws up, sluice down
mkdir -p "$work/by-aws" "$work/by-sluice"
for f in "${files[@]}"; do
  want=$(expected_etag "$work/src/$f")
  if sluice cp --no-progress "$work/src/$f" "s3://$bucket/sluice/$f" >"$work/out" 2>&1; then
    if s3 s3 cp "s3://$bucket/sluice/$f" "$work/by-aws/$f" >"$work/out" 2>&1; then
      cmp -s "$work/src/$f" "$work/by-aws/$f" && pass "sluice cp up, aws s3 cp down: '$f' byte-identical" \
        || fail "'$f' uploaded by sluice differs when aws downloads it"
    else cat "$work/out"; fail "aws s3 cp down '$f'"; fi
    got=$(aws_etag "sluice/$f")
    [ "$got" = "$want" ] && pass "'$f' from sluice: aws sees ETag $got" \
      || fail "'$f' from sluice: aws sees ETag '$got', expected '$want'"
  else cat "$work/out"; fail "sluice cp up '$f'"; fi

  if s3 s3 cp "$work/src/$f" "s3://$bucket/aws/$f" >"$work/out" 2>&1; then
    if sluice cp --no-progress "s3://$bucket/aws/$f" "$work/by-sluice/$f" >"$work/out" 2>&1; then
      cmp -s "$work/src/$f" "$work/by-sluice/$f" && pass "aws s3 cp up, sluice cp down: '$f' byte-identical" \
        || fail "'$f' uploaded by aws differs when sluice downloads it"
    else cat "$work/out"; fail "sluice cp down '$f'"; fi
    got=$(aws_etag "aws/$f")
    [ "$got" = "$want" ] && pass "'$f' from aws: ETag $got" \
      || fail "'$f' from aws: ETag '$got', expected '$want'"
  else cat "$work/out"; fail "aws s3 cp up '$f'"; fi
done

# both tools list the same keys, sizes and ETags, and either upload gives a file the same ETag
for prefix in sluice/ aws/; do
  a=$(aws_listing "$prefix"); b=$(sluice_listing "$prefix")
  [ -n "$a" ] && [ "$a" = "$b" ] && pass "aws and sluice list the same keys, sizes and ETags below $prefix" \
    || { fail "listings below $prefix differ"; diff <(echo "$a") <(echo "$b") || true; }
done
[ "$(aws_listing sluice/)" = "$(aws_listing aws/)" ] \
  && pass "each file has the same ETag whichever tool uploaded it" \
  || { fail "ETags differ between the tools' uploads"; diff <(aws_listing sluice/) <(aws_listing aws/) || true; }

# ---- a folder, recursively, both ways
if sluice cp -r --no-progress "$work/tree" "s3://$bucket/tree-sluice/" >"$work/out" 2>&1; then
  pass "sluice cp -r up ($(tail -1 "$work/out"))"
  if s3 s3 cp --recursive "s3://$bucket/tree-sluice/" "$work/tree-by-aws" >"$work/out" 2>&1; then
    diff -r "$work/tree" "$work/tree-by-aws" >"$work/diff" 2>&1 \
      && pass "aws s3 cp --recursive brings back the folder sluice uploaded, byte-identical" \
      || { cat "$work/diff"; fail "folder uploaded by sluice differs when aws downloads it"; }
  else cat "$work/out"; fail "aws s3 cp --recursive down"; fi
else cat "$work/out"; fail "sluice cp -r up"; fi

if s3 s3 cp --recursive "$work/tree" "s3://$bucket/tree-aws/" >"$work/out" 2>&1; then
  if sluice cp -r --no-progress "s3://$bucket/tree-aws/" "$work/tree-by-sluice" >"$work/out" 2>&1; then
    diff -r "$work/tree" "$work/tree-by-sluice" >"$work/diff" 2>&1 \
      && pass "sluice cp -r brings back the folder aws uploaded, byte-identical" \
      || { cat "$work/diff"; fail "folder uploaded by aws differs when sluice downloads it"; }
  else cat "$work/out"; fail "sluice cp -r down"; fi
else cat "$work/out"; fail "aws s3 cp --recursive up"; fi

expected_tree=$(cd "$work/tree" && find . -type f | sed 's|^\./||' | sort | while IFS= read -r f; do
  printf '%s\t%s\t%s\n' "$f" "$(stat -c %s "$f")" "$(expected_etag "$f")"; done)
for prefix in tree-sluice/ tree-aws/; do
  a=$(aws_listing "$prefix"); b=$(sluice_listing "$prefix")
  [ "$a" = "$expected_tree" ] && pass "aws lists every file below $prefix with its size and ETag" \
    || { fail "aws listing below $prefix"; diff <(echo "$expected_tree") <(echo "$a") || true; }
  [ "$b" = "$expected_tree" ] && pass "sluice ls -r lists every file below $prefix with its size and ETag" \
    || { fail "sluice listing below $prefix"; diff <(echo "$expected_tree") <(echo "$b") || true; }
done

# ---- errors: the server's words, never a secret
wrong_secret="NotTheSecretButLongEnoughToBeSpotted0123"
if AWS_SECRET_ACCESS_KEY=$wrong_secret sluice ls "s3://$bucket/" >"$work/out" 2>&1; then
  fail "sluice ls with a wrong secret succeeded"
else
  grep -q 'SignatureDoesNotMatch' "$work/out" && pass "a wrong secret: sluice ls fails with SignatureDoesNotMatch" \
    || { cat "$work/out"; fail "a wrong secret: no SignatureDoesNotMatch in the output"; }
fi
if AWS_SECRET_ACCESS_KEY=$wrong_secret sluice cp --no-progress "$work/src/small.txt" "s3://$bucket/denied.txt" >>"$work/out" 2>&1; then
  fail "sluice cp with a wrong secret succeeded"
else
  pass "a wrong secret: sluice cp fails"
fi
if grep -qF -e "$wrong_secret" -e "$AWS_SECRET_ACCESS_KEY" "$work/out"; then
  fail "a secret appears in sluice's output"
else
  pass "no secret in sluice's output"
fi
missing="sluice-it-missing-$$-${RANDOM}"
if sluice ls "s3://$missing/" >"$work/out" 2>&1; then
  fail "sluice ls of a missing bucket succeeded"
else
  grep -q "$missing" "$work/out" && grep -q 'NoSuchBucket' "$work/out" \
    && pass "a missing bucket: sluice ls names it (NoSuchBucket)" \
    || { cat "$work/out"; fail "a missing bucket: the error does not name it"; }
fi

echo "interop_aws_cli: $fails failure(s)"
[ "$fails" -eq 0 ]
