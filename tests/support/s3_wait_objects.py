#!/usr/bin/env python3
"""Waits until an S3 bucket holds at least N objects, then optionally SIGKILLs a process: the
`kill -9` mid-upload step of the `sluice monitor` resume test, with a reaction time of one
ListObjectsV2 (a poll every --interval seconds), far faster than polling with the aws CLI.

    s3_wait_objects.py --bucket B --min N [--kill PID] [--timeout 120] [--interval 0.05]

Endpoint, keys and region come from the standard AWS environment (AWS_ENDPOINT_URL,
AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION), as tests/integration/with-ceph-env.sh
sets them; requests are path-style and signed with SigV4 (AWS "Signature Version 4 signing
process"; standard library only). Prints the object count it saw (capped at 1000, one page)
and exits 0 when it reached N, 1 on timeout, 3 when the process to kill ended before that
(then it prints the count too, so the test can tell "finished too early" apart).
"""

import argparse
import datetime
import hashlib
import hmac
import os
import re
import signal
import sys
import time
import urllib.parse
import urllib.request

EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()


def _sign(key, msg):
    return hmac.new(key, msg.encode(), hashlib.sha256).digest()


def list_count(endpoint, bucket, access_key, secret_key, region):
    url = urllib.parse.urlsplit(endpoint)
    host = url.netloc
    path = "/" + urllib.parse.quote(bucket, safe="")
    query = {"list-type": "2", "max-keys": "1000"}
    canonical_query = "&".join(
        f"{urllib.parse.quote(k, safe='-_.~')}={urllib.parse.quote(v, safe='-_.~')}"
        for k, v in sorted(query.items()))
    now = datetime.datetime.now(datetime.timezone.utc)
    amz_date = now.strftime("%Y%m%dT%H%M%SZ")
    day = now.strftime("%Y%m%d")
    headers = {"host": host, "x-amz-content-sha256": EMPTY_SHA256, "x-amz-date": amz_date}
    signed = ";".join(sorted(headers))
    canonical = "\n".join(["GET", path, canonical_query,
                           "".join(f"{k}:{headers[k]}\n" for k in sorted(headers)),
                           signed, EMPTY_SHA256])
    scope = f"{day}/{region}/s3/aws4_request"
    to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope,
                         hashlib.sha256(canonical.encode()).hexdigest()])
    key = _sign(_sign(_sign(_sign(("AWS4" + secret_key).encode(), day), region), "s3"),
                "aws4_request")
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    request = urllib.request.Request(f"{url.scheme}://{host}{path}?{canonical_query}")
    request.add_header("x-amz-content-sha256", EMPTY_SHA256)
    request.add_header("x-amz-date", amz_date)
    request.add_header("Authorization",
                       f"AWS4-HMAC-SHA256 Credential={access_key}/{scope}, "
                       f"SignedHeaders={signed}, Signature={signature}")
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # 127.0.0.1 only
    with opener.open(request, timeout=10) as response:
        body = response.read().decode()
    match = re.search(r"<KeyCount>(\d+)</KeyCount>", body)
    if match:
        return int(match.group(1))
    return body.count("<Key>")


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # a zombie (exited, not yet reaped by its parent) is not alive for our purpose
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return True


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bucket", required=True)
    parser.add_argument("--min", type=int, required=True, help="objects to wait for")
    parser.add_argument("--kill", type=int, help="PID to SIGKILL once the bucket holds --min")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds")
    parser.add_argument("--interval", type=float, default=0.05, help="seconds between polls")
    args = parser.parse_args()

    endpoint = os.environ.get("AWS_ENDPOINT_URL") or os.environ.get("S3_ENDPOINT")
    access_key = os.environ.get("AWS_ACCESS_KEY_ID")
    secret_key = os.environ.get("AWS_SECRET_ACCESS_KEY")
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
    if not (endpoint and access_key and secret_key):
        print("s3_wait_objects: AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY "
              "must be set", file=sys.stderr)
        return 2
    if not urllib.parse.urlsplit(endpoint).hostname in ("127.0.0.1", "localhost"):
        print(f"s3_wait_objects: endpoint {endpoint} is not on 127.0.0.1", file=sys.stderr)
        return 2

    deadline = time.monotonic() + args.timeout
    count = 0
    while time.monotonic() < deadline:
        if args.kill is not None and not alive(args.kill):
            count = list_count(endpoint, args.bucket, access_key, secret_key, region)
            print(count)
            return 3
        count = list_count(endpoint, args.bucket, access_key, secret_key, region)
        if count >= args.min:
            if args.kill is not None:
                try:
                    os.kill(args.kill, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            print(count)
            return 0
        time.sleep(args.interval)
    print(count)
    return 1


if __name__ == "__main__":
    sys.exit(main())
