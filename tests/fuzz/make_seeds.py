#!/usr/bin/env python3
"""Writes small fuzzing seeds for tests/fuzz/run.sh into OUT_DIR: from each WIBL file given, its
first packets (a short valid file) and one file per packet id seen (the version packet, any
metadata packets, and the first packet of that id), plus a few synthetic files. The real files
stay where they are; nothing is written into the repository."""
import os
import struct
import sys


def packets(data):
    off = 0
    while off + 8 <= len(data):
        pid, n = struct.unpack_from("<II", data, off)
        if off + 8 + n > len(data):
            break
        yield pid, data[off:off + 8 + n]
        off += 8 + n


def pkt(pid, payload):
    return struct.pack("<II", pid, len(payload)) + payload


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    for path in sys.argv[2:]:
        data = open(path, "rb").read()
        base = os.path.basename(path)
        all_packets = list(packets(data))
        header = b"".join(p for pid, p in all_packets if pid in (0, 12, 13, 14, 15, 16, 18))
        open(os.path.join(out, base + ".head"), "wb").write(
            b"".join(p for _, p in all_packets[:60]))
        seen = set()
        for pid, p in all_packets:
            if pid in seen:
                continue
            seen.add(pid)
            open(os.path.join(out, f"{base}.id{pid}"), "wb").write(header + p)
    # Synthetic: a v1.3 version packet, a SystemTime, a GGA, a ZDA and a depth.
    version = pkt(0, struct.pack("<HH3H3H3H", 1, 3, 1, 0, 0, 1, 0, 0, 1, 0, 0))
    systime = pkt(1, struct.pack("<HdIB", 18262, 3.5, 1000, 0))
    gga = b"$GPGGA,000001.000,4300.000007,N,07400.999993,W,3,12,1.0,-19.5,M,22.5,M,0.0,0000*7D"
    zda = b"$GPZDA,000001.000,01,01,2020,00,00*57"
    serial = lambda t, s: pkt(10, struct.pack("<I", t) + s)
    dbt = b"$SDDBT,33.0,f,10.1,M,5.5,F*06"
    open(os.path.join(out, "synthetic.wibl"), "wb").write(
        version + systime + serial(1000, zda) + serial(1001, gga) + serial(1002, dbt)
        + serial(2000, gga) + serial(2001, dbt))
    open(os.path.join(out, "unknown-id.wibl"), "wb").write(version + pkt(77, b"abcd"))


if __name__ == "__main__":
    main()
