#!/usr/bin/env bash
# Benchmark (bench/upload, issue 4): one sequencing run folder uploaded by `sluice upload` vs
# `aws s3 cp --recursive` (Debian awscli, /usr/bin/aws) and `rclone copy` (Debian rclone),
# against one throwaway Ceph RGW on 127.0.0.1 (scripts/services/ceph-rgw.sh, memstore OSD:
# objects live in RAM), same data, one run each, like bench/s3_bench.sh.
#
#   bench/upload_bench.sh [BUILD_DIR]          (default build/bench: a release build of sluice and
#                                               sluice-gen-illumina, made here if missing)
#
# Data: a NovaSeq 6000-like run folder from sluice-gen-illumina (--instrument novaseq6000
# --files 3000 --size 2GB: CBCLs, filters, locs, per-cycle InterOp, thumbnails, logs, markers;
# random bytes from a fixed seed, no sparse files). Each tool uploads it into a fresh bucket with
# the same layout, <bucket>/x/<run folder>/<relative path>, measured with /usr/bin/time (wall,
# user+sys CPU, max RSS of the client). Then the bucket is checked: object count and bytes
# (rclone size, as s3_bench.sh does) and every object's key, size and ETag against the local file
# (MD5 for single-part objects; for multipart ones the MD5 of the part MD5s, "-N", for a part size
# giving N parts among 5, 8, 16, 32, 64, 128 and 256 MiB). Then the bucket is purged and RGW
# garbage collection forced so the memstore OSD's RAM stays bounded.
#
# Targets (issue 4): sluice's wall time at most 0.67x the faster peer's, sluice's peak RSS at most
# 64 MB, every ETag verified. (s3_upload's own published bar: 102 GB in 5,492 files in 9m20s on
# 4 cores at about 90 MB RSS, research/s3_upload.md §1.12.)
#
# Environment:
#   SCALE=1            scales the run: --size 2GB x SCALE, --files 3000 x SCALE (at least 60);
#                      SCALE=0.05 is a smoke run (100 MB, 150 files)
#   FILES=N, SIZE=BYTES  override the run's shape (e.g. FILES=60 SIZE=1GB: ~24 MB CBCLs, so every
#                      tool goes multipart; the default shape has no file above 3 MB)
#   TOOLS="sluice aws rclone"
#   SEED=1             the generator's seed
#   KEEP_DATA=1        keep the generated run folder (printed) instead of deleting it
#   SLUICE_ARGS="--cores 2 --threads 8"   extra `sluice upload` options (default: sluice's own)
#   SLUICE_CEPH_OSD_GB=10                  memstore capacity
#
# Checksums / defaults of each tool: as in bench/s3_bench.sh (sluice: Content-MD5 per PUT/part
# and the ETag compared with the local MD5; aws 2.9: Content-MD5 plus SHA-256 payload signing over
# plain http, 10 concurrent requests, 8 MiB parts above 8 MiB; rclone 1.60: Content-MD5, 4
# transfers, 5 MiB chunks, multipart above 200 MiB).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
build="${1:-build/bench}"
TOOLS=${TOOLS:-"sluice aws rclone"}
SCALE=${SCALE:-1}
SEED=${SEED:-1}
AWS=/usr/bin/aws

if [ ! -x "$build/sluice" ] || [ ! -x "$build/sluice-gen-illumina" ]; then
  if [ ! -f "$build/build.ninja" ]; then
    cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DSLUICE_BUILD_TESTS=OFF >/dev/null
  fi
  ninja -j"$(nproc)" -C "$build" sluice sluice-gen-illumina >/dev/null
fi
sluice="$root/$build/sluice"
gen="$root/$build/sluice-gen-illumina"
[ -x "$sluice" ] || { echo "no sluice binary at $sluice" >&2; exit 1; }
[ -x "$gen" ] || { echo "no sluice-gen-illumina binary at $gen" >&2; exit 1; }
case " $TOOLS " in
  *" sluice "*) "$sluice" upload --help >/dev/null 2>&1 || { echo "$sluice has no 'upload' command" >&2; exit 1; } ;;
esac
command -v /usr/bin/time >/dev/null || { echo "needs /usr/bin/time (Debian package 'time')" >&2; exit 1; }
[ -x "$AWS" ] || { echo "needs Debian awscli at $AWS (apt-get install -y awscli)" >&2; exit 1; }
command -v rclone >/dev/null || { echo "needs rclone (apt-get install -y rclone)" >&2; exit 1; }
command -v python3 >/dev/null || { echo "needs python3" >&2; exit 1; }

read -r files size_bytes < <(python3 -c '
import sys
s = float(sys.argv[1])
print(max(60, round(3000 * s)), int(2_000_000_000 * s))' "$SCALE")
files=${FILES:-$files}
size_bytes=${SIZE:-$size_bytes}

# its own RGW (state dir and ports apart from s3_bench.sh's and from the test fixtures')
export SLUICE_CEPH_DIR=/tmp/sluice-ceph-upbench SLUICE_RGW_PORT=7492 SLUICE_CEPH_MON_PORT=7493
export SLUICE_CEPH_OSD_GB=${SLUICE_CEPH_OSD_GB:-10}
work=$(mktemp -d "${TMPDIR:-/tmp}/sluice-upbench.XXXXXX")
cleanup() {
  scripts/services/ceph-rgw.sh stop >/dev/null 2>&1 || true
  if [ "${KEEP_DATA:-0}" = 1 ]; then echo "data kept in $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT
scripts/services/ceph-rgw.sh start >"$work/s3.env"
unset AWS_CA_BUNDLE AWS_PROFILE  # a CA bundle in the env breaks rclone's http transport
# shellcheck disable=SC1091
. "$work/s3.env"
export RCLONE_CONFIG_RGW_TYPE=s3 RCLONE_CONFIG_RGW_PROVIDER=Ceph
export RCLONE_CONFIG_RGW_ENDPOINT=$AWS_ENDPOINT_URL RCLONE_CONFIG_RGW_REGION=$AWS_REGION
export RCLONE_CONFIG_RGW_ACCESS_KEY_ID=$AWS_ACCESS_KEY_ID
export RCLONE_CONFIG_RGW_SECRET_ACCESS_KEY=$AWS_SECRET_ACCESS_KEY
aws_() { "$AWS" --endpoint-url "$AWS_ENDPOINT_URL" "$@"; }

# ---- data -------------------------------------------------------------------------------------
mkdir -p "$work/data"
IFS=$'\t' read -r run want_n want_b < <("$gen" --instrument novaseq6000 --out "$work/data" \
  --files "$files" --size "$size_bytes" --seed "$SEED")
name=$(basename "$run")
echo "run $name: $want_n files, $want_b bytes (--files $files --size $size_bytes)" >&2
# local listing with MD5s, once: the ETag check of every tool's bucket reads it
python3 - "$run" >"$work/local.tsv" <<'PY'
import hashlib, os, sys
root = sys.argv[1]
for d, _, names in os.walk(root):
    for n in names:
        p = os.path.join(d, n)
        h = hashlib.md5()
        with open(p, "rb") as f:
            while chunk := f.read(1 << 20):
                h.update(chunk)
        print(f"{os.path.relpath(p, root)}\t{os.path.getsize(p)}\t{h.hexdigest()}")
PY
sync

# ---- runs -------------------------------------------------------------------------------------
results="$work/results.tsv"
: >"$results"
# verify BUCKET PREFIX: "<objects> <bytes> <ETag-verified> <problems>" of the objects below
# PREFIX against local.tsv (key, size, ETag)
verify() {
  aws_ s3api list-objects-v2 --bucket "$1" --prefix "$2" --output json \
    --query 'Contents[].{k:Key,s:Size,e:ETag}' >"$work/listing.json"
  python3 - "$work/listing.json" "$work/local.tsv" "$run" "$2" <<'PY'
import hashlib, json, sys
listing, local_tsv, run, prefix = sys.argv[1:]
objects = json.load(open(listing)) or []
local = {}
for line in open(local_tsv):
    rel, size, md5 = line.rstrip("\n").split("\t")
    local[rel] = (int(size), md5)
def composite(path, size, parts):
    for mib in (5, 8, 16, 32, 64, 128, 256):
        part = mib << 20
        if -(-size // part) != parts:
            continue
        digests = []
        with open(path, "rb") as f:
            while chunk := f.read(part):
                digests.append(hashlib.md5(chunk).digest())
        yield f"{hashlib.md5(b''.join(digests)).hexdigest()}-{len(digests)}"
ok = 0
problems = []
seen = set()
for o in objects:
    rel = o["k"][len(prefix):]
    seen.add(rel)
    etag = o["e"].strip('"')
    if rel not in local:
        problems.append(f"unexpected key {o['k']}")
        continue
    size, md5 = local[rel]
    if o["s"] != size:
        problems.append(f"{rel}: size {o['s']} != {size}")
    elif "-" not in etag and etag == md5:
        ok += 1
    elif "-" in etag and etag in composite(f"{run}/{rel}", size, int(etag.split("-")[1])):
        ok += 1
    else:
        problems.append(f"{rel}: ETag {etag} does not match the local bytes")
problems += [f"missing {rel}" for rel in sorted(set(local) - seen)]
print(len(objects), sum(o["s"] for o in objects), ok, len(problems))
for p in problems[:5]:
    print("   ", p, file=sys.stderr)
PY
}

run_tool() {  # run_tool TOOL BUCKET
  local tool=$1 bucket=$2 tf="$work/time.$1" lf="$work/log.$1"
  local -a cmd extra
  read -ra extra <<<"${SLUICE_ARGS:-}"
  case $tool in
    sluice) cmd=("$sluice" upload --local_path "$run" --bucket "$bucket" --remote_path /x --no-progress "${extra[@]}") ;;
    aws)    cmd=("$AWS" --endpoint-url "$AWS_ENDPOINT_URL" s3 cp --recursive --only-show-errors "$run" "s3://$bucket/x/$name") ;;
    rclone) cmd=(rclone copy -q "$run" "rgw:$bucket/x/$name") ;;
  esac
  aws_ s3 mb "s3://$bucket" >/dev/null
  local rc=0
  /usr/bin/time -f '%e %U %S %M' -o "$tf" "${cmd[@]}" >"$lf" 2>&1 || rc=$?
  [ $rc = 0 ] || { echo "!! $tool failed (rc $rc), log:" >&2; tail -n 20 "$lf" >&2; }
  # verify: object count and bytes in the bucket (as s3_bench.sh), then key/size/ETag per object
  local sz cnt bytes
  sz=$(rclone size --json "rgw:$bucket" 2>/dev/null || echo '{"count":-1,"bytes":-1}')
  cnt=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["count"])' "$sz")
  bytes=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["bytes"])' "$sz")
  local etags problems
  read -r _ _ etags problems < <(verify "$bucket" "x/$name/")
  read -r wall user sys rss < <(tail -n1 "$tf")
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$tool" "$wall" "$user" "$sys" "$rss" "$cnt" "$bytes" \
    "$etags" "$problems" "$rc" >>"$results"
  printf '  %-6s wall %7ss user %7ss sys %7ss rss %7s KB  objects %s bytes %s ETags ok %s problems %s rc %s\n' \
    "$tool" "$wall" "$user" "$sys" "$rss" "$cnt" "$bytes" "$etags" "$problems" "$rc" >&2
  # free the OSD's RAM: delete everything, then force RGW garbage collection (multipart tails)
  rclone purge -q "rgw:$bucket" >/dev/null 2>&1 || aws_ s3 rb --force "s3://$bucket" >/dev/null 2>&1 || true
  timeout 120 radosgw-admin -c "$CEPH_CONF" gc process --include-all >/dev/null 2>&1 || true
}

for tool in $TOOLS; do
  run_tool "$tool" "upbench-$tool-$$"
done

# ---- report -----------------------------------------------------------------------------------
echo
echo "sluice $("$sluice" --version 2>/dev/null | head -n1 || true); $("$AWS" --version 2>&1 | cut -d' ' -f1); $(rclone version | head -n1)"
echo "run: NovaSeq 6000-like $name, $want_n files, $want_b bytes (--files $files --size $size_bytes, seed $SEED); $(nproc) cores"
python3 - "$results" "$want_n" "$want_b" <<'PY'
import sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if l.strip()]
want_n, want_b = int(sys.argv[2]), int(sys.argv[3])
by = {}
print(f"{'tool':<8}{'wall s':>9}{'CPU s':>9}{'RSS MB':>9}{'objects':>9}{'bytes':>14}{'ETags ok':>10}  check")
for tool, wall, user, sys_, rss, cnt, b, etags, problems, rc in rows:
    wall, cpu, rss = float(wall), float(user) + float(sys_), int(rss) / 1024
    good = rc == "0" and int(cnt) == want_n and int(b) == want_b and int(etags) == want_n and problems == "0"
    by[tool] = (wall, cpu, rss, good)
    print(f"{tool:<8}{wall:>9.2f}{cpu:>9.2f}{rss:>9.1f}{cnt:>9}{b:>14}{etags:>10}  "
          f"{'OK' if good else 'MISMATCH (rc ' + rc + ', ' + problems + ' problems)'}")
print()
print("sluice ratios (target: wall <= 0.67 x faster peer, RSS <= 64 MB, every ETag verified)")
if "sluice" in by:
    s = by["sluice"]
    peers = {k: v for k, v in by.items() if k != "sluice"}
    out = ""
    if peers:
        fw = min(peers, key=lambda k: peers[k][0]); fc = min(peers, key=lambda k: peers[k][1])
        rw = s[0] / peers[fw][0]
        rc = s[1] / peers[fc][1] if peers[fc][1] else float("inf")
        out += f"wall {rw:.2f}x {fw} [{'OK' if rw <= 0.67 else 'MISS'}]  CPU {rc:.2f}x {fc} (no target)  "
    rr = s[2] / 64
    out += f"RSS {s[2]:.1f} MB = {rr:.2f}x 64 MB [{'OK' if rr <= 1 else 'MISS'}]  "
    out += f"ETags [{'OK' if s[3] else 'MISS'}]"
    print(out)
PY
