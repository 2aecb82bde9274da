#!/usr/bin/env python3
"""Event-to-output latency through a `sluice serve` webhook (issue 5 benchmark).

Writes N small objects into the input folder, POSTs one S3 event notification (AWS format) per
object to the webhook at a steady pace, and takes each output's latency as the moment the copy
appeared in the output folder (inotify IN_MOVED_TO / IN_CLOSE_WRITE, read by a thread) minus the
moment its notification was sent. Prints p50/p90/p99/max in ms.

  webhook_latency.py URL IN_DIR OUT_DIR N [GAP_MS]
"""
import ctypes
import http.client
import json
import os
import statistics
import struct
import sys
import threading
import time
import urllib.parse

IN_CLOSE_WRITE, IN_MOVED_TO = 0x8, 0x80


def watch(folder, seen):
    """Records time.time_ns() when each file name first lands in `folder` (Linux inotify(7))."""
    libc = ctypes.CDLL(None, use_errno=True)
    fd = libc.inotify_init()
    if fd < 0 or libc.inotify_add_watch(fd, folder.encode(), IN_CLOSE_WRITE | IN_MOVED_TO) < 0:
        sys.exit("inotify is not available")
    def loop():
        while True:
            data = os.read(fd, 65536)
            now = time.time_ns()
            offset = 0
            while offset < len(data):
                _, _, _, length = struct.unpack_from("iIII", data, offset)
                name = data[offset + 16:offset + 16 + length].rstrip(b"\0").decode()
                seen.setdefault(name, now)
                offset += 16 + length
    threading.Thread(target=loop, daemon=True).start()


def notification(key, size):
    return json.dumps({"Records": [{
        "eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1",
        "eventTime": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()),
        "eventName": "ObjectCreated:Put",
        "s3": {"s3SchemaVersion": "1.0", "bucket": {"name": "bench"},
               "object": {"key": key, "size": size}}}]})


def main():
    url, in_dir, out_dir, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    gap = (float(sys.argv[5]) if len(sys.argv) > 5 else 20.0) / 1000.0
    target = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(target.hostname, target.port, timeout=30)
    sent, seen = {}, {}
    watch(out_dir, seen)
    for i in range(n):
        key = f"obj-{i:06d}.bin"
        body = f"object {i}\n".encode() * 8
        with open(os.path.join(in_dir, key), "wb") as f:
            f.write(body)
        payload = notification(key, len(body))
        sent[key] = time.time_ns()
        conn.request("POST", target.path, payload, {"Content-Type": "application/json"})
        answer = conn.getresponse()
        answer.read()
        if answer.status != 200:
            sys.exit(f"webhook answered {answer.status} for {key}")
        time.sleep(gap)
    deadline = time.time() + 60
    latencies = []
    for key, t0 in sent.items():
        while key not in seen:
            if time.time() > deadline:
                sys.exit(f"no output for {key} after 60 s")
            time.sleep(0.01)
        latencies.append((seen[key] - t0) / 1e6)
    latencies.sort()
    pick = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))]
    print(f"events {n}  p50 {pick(0.50):.1f} ms  p90 {pick(0.90):.1f} ms  "
          f"p99 {pick(0.99):.1f} ms  max {latencies[-1]:.1f} ms  mean {statistics.mean(latencies):.1f} ms")


if __name__ == "__main__":
    main()
