#!/usr/bin/env bash
# Benchmark (bench/s3): local -> S3 uploads of sluice vs `aws s3 cp --recursive` (Debian awscli,
# /usr/bin/aws) and `rclone copy` (Debian rclone), against one throwaway Ceph RGW on 127.0.0.1
# (scripts/services/ceph-rgw.sh, memstore OSD: objects live in RAM), same data, one run.
#
#   bench/s3_bench.sh [BUILD_DIR]           (default build/bench)
#
# Data sets (generated under a temp dir; file sizes and names from a fixed seed, bytes from
# /dev/urandom, real bytes, no sparse files):
#   a  run-like tree, ~900 files, ~1.2 GB: 3 x 150 MB, 300 x 1-4 MB, the rest 2-60 KB
#   b  5,000 files of 1-16 KB
#   c  one 2 GiB file
# Each (data set, tool) uploads into a fresh bucket, measured with /usr/bin/time (wall, user+sys
# CPU, max RSS of the client) and by the CPU seconds the Ceph daemons spent meanwhile (the server's
# share of the 2 cores); the bucket is then purged and RGW garbage collection is forced so
# the memstore OSD's RAM stays bounded.
#
# Environment:
#   DATASETS="a b c"   which data sets to run
#   SCALE=1            scales data set (a): the 150 MB files' size and the count of 1-4 MB files
#                      (e.g. SCALE=0.25 -> 3 x 37.5 MB + 75 x 1-4 MB)
#   TOOLS="sluice aws rclone"
#   KEEP_DATA=1        keep the generated data dir (printed) instead of deleting it
#   SLUICE_ARGS="-j 2" extra `sluice cp` options (default: none, i.e. sluice's defaults)
#
# Checksums / defaults of each tool (as measured with --debug / --dump headers on this RGW):
#   sluice  default --checksum md5: Content-MD5 on PutObject and on each UploadPart; part size and
#           parallelism are sluice's own defaults (see `sluice cp --help`).
#   aws     awscli 2.9.19 classic s3transfer: Content-MD5 on PutObject and UploadPart by default;
#           over plain http botocore ALSO signs the payload (x-amz-content-sha256 = SHA-256 of the
#           body), i.e. MD5 + SHA-256 per byte. max_concurrent_requests 10, multipart_threshold
#           8 MiB, multipart_chunksize 8 MiB. 2.9 ignores AWS_ENDPOINT_URL: --endpoint-url is passed.
#   rclone  v1.60: single PUT (< upload_cutoff 200 MiB): Content-MD5 + UNSIGNED-PAYLOAD. Multipart:
#           an MD5 pre-pass over the whole file (x-amz-meta-md5chksum), then per part Content-MD5
#           + SHA-256 payload signing. --transfers 4, --checkers 8, --s3-chunk-size 5 MiB,
#           --s3-upload-concurrency 4.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
build="${1:-build/bench}"
DATASETS=${DATASETS:-"a b c"}
TOOLS=${TOOLS:-"sluice aws rclone"}
SCALE=${SCALE:-1}
AWS=/usr/bin/aws

if [ ! -x "$build/sluice" ]; then
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DSLUICE_BUILD_TESTS=OFF >/dev/null
  ninja -j"$(nproc)" -C "$build" sluice >/dev/null
fi
sluice="$root/$build/sluice"
[ -x "$sluice" ] || { echo "no sluice binary at $sluice" >&2; exit 1; }
command -v /usr/bin/time >/dev/null || { echo "needs /usr/bin/time (Debian package 'time')" >&2; exit 1; }
[ -x "$AWS" ] || { echo "needs Debian awscli at $AWS (apt-get install -y awscli)" >&2; exit 1; }
command -v rclone >/dev/null || { echo "needs rclone (apt-get install -y rclone)" >&2; exit 1; }

export SLUICE_CEPH_DIR=/tmp/sluice-ceph-bench SLUICE_RGW_PORT=7490 SLUICE_CEPH_MON_PORT=7491
export SLUICE_CEPH_OSD_GB=${SLUICE_CEPH_OSD_GB:-10}
work=$(mktemp -d "${TMPDIR:-/tmp}/sluice-s3bench.XXXXXX")
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
gen() {  # gen DATASET DIR
  python3 - "$1" "$2" "$SCALE" <<'PY'
import os, random, sys
ds, out, scale = sys.argv[1], sys.argv[2], float(sys.argv[3])
rnd = random.Random({"a": 11, "b": 22, "c": 33}[ds])
MB = 1000 * 1000
files = []
if ds == "a":
    # run-like tree: a few huge outputs, per-sample medium files, many small logs/metadata
    for i in range(3):
        files.append((f"run01/aligned/lane{i+1}.bam", int(150 * MB * scale)))
    nmed = max(1, int(round(300 * scale)))
    for i in range(nmed):
        files.append((f"run01/samples/s{i // 25:02d}/chunk{i:04d}.fastq.gz", rnd.randint(1 * MB, 4 * MB)))
    for i in range(900 - 3 - 300):
        d = ["logs", "qc", "meta", "reports"][i % 4]
        files.append((f"run01/{d}/g{i // 100}/f{i:04d}.txt", rnd.randint(2000, 60000)))
elif ds == "b":
    for i in range(5000):
        files.append((f"small/d{i // 500:02d}/f{i:05d}.bin", rnd.randint(1000, 16000)))
else:
    files.append(("big/one.bin", 2 * 1024 ** 3))
urnd = open("/dev/urandom", "rb", buffering=0)
total = 0
for rel, size in files:
    p = os.path.join(out, rel)
    os.makedirs(os.path.dirname(p), exist_ok=True)
    with open(p, "wb") as f:
        left = size
        while left:
            n = min(left, 8 << 20)
            f.write(urnd.read(n))
            left -= n
    total += size
print(len(files), total)
PY
}

# ---- runs -------------------------------------------------------------------------------------
results="$work/results.tsv"
: >"$results"
# server_cpu: CPU seconds (user + sys) used so far by this benchmark's Ceph daemons (radosgw, OSD,
# monitor: the processes whose command line names $SLUICE_CEPH_DIR), from /proc/PID/stat.
server_cpu() {
  local pid ticks=0 f
  for pid in $(pgrep -f -- "$SLUICE_CEPH_DIR" || true); do
    f=$(cut -d' ' -f14,15 "/proc/$pid/stat" 2>/dev/null) || continue
    ticks=$((ticks + ${f% *} + ${f#* }))
  done
  echo "$ticks"
}
clk_tck=$(getconf CLK_TCK)
run_tool() {  # run_tool TOOL DATASET SRC BUCKET
  local tool=$1 ds=$2 src=$3 bucket=$4 tf="$work/time.$1.$2" lf="$work/log.$1.$2"
  local -a cmd
  case $tool in
    # shellcheck disable=SC2086
    sluice) cmd=("$sluice" cp -r --no-progress ${SLUICE_ARGS:-} "$src" "s3://$bucket/x") ;;
    aws)    cmd=("$AWS" --endpoint-url "$AWS_ENDPOINT_URL" s3 cp --recursive --only-show-errors "$src" "s3://$bucket/x") ;;
    rclone) cmd=(rclone copy -q "$src" "rgw:$bucket/x") ;;
  esac
  aws_ s3 mb "s3://$bucket" >/dev/null
  local rc=0 server0 server
  server0=$(server_cpu)
  /usr/bin/time -f '%e %U %S %M' -o "$tf" "${cmd[@]}" >"$lf" 2>&1 || rc=$?
  server=$(python3 -c 'import sys; print(f"{(int(sys.argv[2]) - int(sys.argv[1])) / int(sys.argv[3]):.2f}")' "$server0" "$(server_cpu)" "$clk_tck")
  [ $rc = 0 ] || { echo "!! $tool on $ds failed (rc $rc), log:" >&2; tail -n 20 "$lf" >&2; }
  # verify: object count and bytes in the bucket
  local sz; sz=$(rclone size --json "rgw:$bucket" 2>/dev/null || echo '{"count":-1,"bytes":-1}')
  local cnt bytes; cnt=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["count"])' "$sz")
  bytes=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["bytes"])' "$sz")
  read -r wall user sys rss < <(tail -n1 "$tf")
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$ds" "$tool" "$wall" "$user" "$sys" "$rss" "$cnt" "$bytes" "$server" >>"$results"
  printf '  %-6s %-6s wall %6ss user %6ss sys %6ss rss %7s KB  server CPU %6ss  objects %s bytes %s rc %s\n' \
    "$ds" "$tool" "$wall" "$user" "$sys" "$rss" "$server" "$cnt" "$bytes" "$rc" >&2
  # free the OSD's RAM: delete everything, then force RGW garbage collection (multipart tails)
  rclone purge -q "rgw:$bucket" >/dev/null 2>&1 || aws_ s3 rb --force "s3://$bucket" >/dev/null 2>&1 || true
  timeout 120 radosgw-admin -c "$CEPH_CONF" gc process --include-all >/dev/null 2>&1 || true
}

declare -A want_n want_b
for ds in $DATASETS; do
  src="$work/data/$ds"
  mkdir -p "$src"
  read -r n b < <(gen "$ds" "$src")
  want_n[$ds]=$n want_b[$ds]=$b
  echo "data set $ds: $n files, $b bytes" >&2
  sync
  for tool in $TOOLS; do
    run_tool "$tool" "$ds" "$src" "bench-$ds-$tool-$$"
  done
  if [ "$ds" = c ]; then rm -rf "$src"; fi   # the 2 GiB file is not needed any more
done

# ---- report -----------------------------------------------------------------------------------
echo
echo "sluice $("$sluice" --version 2>/dev/null | head -n1 || true); $("$AWS" --version 2>&1 | cut -d' ' -f1); $(rclone version | head -n1)"
want=""
for ds in $DATASETS; do want+="$ds=${want_n[$ds]} files/${want_b[$ds]} B "; done
echo "expected: $want(SCALE=$SCALE)"
python3 - "$results" <<'PY'
import sys, collections
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if l.strip()]
by = collections.defaultdict(dict)
print(f"{'set':<4}{'tool':<8}{'wall s':>9}{'CPU s':>9}{'RSS MB':>9}{'objects':>9}{'bytes':>14}{'server CPU s':>14}")
for ds, tool, wall, user, sys_, rss, cnt, b, server in rows:
    wall, cpu, rss = float(wall), float(user) + float(sys_), int(rss) / 1024
    by[ds][tool] = (wall, cpu, rss)
    print(f"{ds:<4}{tool:<8}{wall:>9.2f}{cpu:>9.2f}{rss:>9.1f}{cnt:>9}{b:>14}{server:>14}")
print()
print("sluice ratios (target: wall <= 0.67 x faster peer, CPU <= 0.5 x lower-CPU peer, RSS <= 64 MB)")
for ds, t in by.items():
    if "sluice" not in t: continue
    peers = {k: v for k, v in t.items() if k != "sluice"}
    s = t["sluice"]
    out = f"{ds}: "
    if peers:
        fw = min(peers, key=lambda k: peers[k][0]); fc = min(peers, key=lambda k: peers[k][1])
        rw = s[0] / peers[fw][0]; rc = s[1] / peers[fc][1] if peers[fc][1] else float("inf")
        out += (f"wall {rw:.2f}x {fw} [{'OK' if rw <= 0.67 else 'MISS'}]  "
                f"CPU {rc:.2f}x {fc} [{'OK' if rc <= 0.5 else 'MISS'}]  ")
    rr = s[2] / 64
    out += f"RSS {s[2]:.1f} MB = {rr:.2f}x 64 MB [{'OK' if rr <= 1 else 'MISS'}]"
    print(out)
PY
