#!/usr/bin/env python3
"""Perturb the record timestamps of a classic pcap file (sipflow testdata/media).

    python3 pcapjitter.py IN.pcap OUT.pcap MEAN_MS SD_MS SEED

Each record's time becomes t + max(0, N(MEAN_MS, SD_MS)) ms, kept
non-decreasing (a record is never moved before the one sent before it, so the
order is kept, as netem does when it is not asked to reorder). Packet bytes
(and so RTP sequence numbers and timestamps) are not touched. The random
generator is seeded, so the same arguments give the same file.

Why: the machine's kernel has no sch_netem, so `tc qdisc ... netem delay 40ms
20ms distribution normal` cannot be used. sipp's play_pcap_audio sends each
packet at its pcap time relative to the first, so playing the perturbed file
puts the jitter on the wire at the sender.
"""
import random
import struct
import sys


def main() -> int:
    if len(sys.argv) != 6:
        print(__doc__, file=sys.stderr)
        return 2
    src, dst, mean_ms, sd_ms, seed = sys.argv[1:]
    mean, sd = float(mean_ms) / 1000, float(sd_ms) / 1000
    rnd = random.Random(int(seed))
    data = open(src, "rb").read()
    magic = data[:4]
    if magic == b"\xd4\xc3\xb2\xa1":
        end, scale = "<", 1e6
    elif magic == b"\xa1\xb2\xc3\xd4":
        end, scale = ">", 1e6
    elif magic == b"\x4d\x3c\xb2\xa1":
        end, scale = "<", 1e9
    elif magic == b"\xa1\xb2\x3c\x4d":
        end, scale = ">", 1e9
    else:
        print("not a classic pcap file: %s" % src, file=sys.stderr)
        return 1
    out = bytearray(data[:24])
    off, prev = 24, None
    rec = struct.Struct(end + "IIII")
    while off + 16 <= len(data):
        sec, frac, incl, orig = rec.unpack_from(data, off)
        body = data[off + 16 : off + 16 + incl]
        if len(body) != incl:
            print("truncated record at offset %d" % off, file=sys.stderr)
            return 1
        t = sec + frac / scale + max(0.0, rnd.gauss(mean, sd))
        if prev is not None and t < prev:
            t = prev
        prev = t
        units = round(t * scale)
        out += rec.pack(int(units // int(scale)), int(units % int(scale)), incl, orig)
        out += body
        off += 16 + incl
    open(dst, "wb").write(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
