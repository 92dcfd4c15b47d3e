"""Protobuf decode cost per message body (the fixture scalars.rrd, re-encoded).

    .venv/bin/python scripts/bench_protobuf.py
"""
import sys
import time

sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parents[1]))
from viewer.log.protobuf import decode_log_msg, encode_log_msg
from viewer.log.reader import RrdReader

msgs = [m for m in RrdReader(str(__import__("pathlib").Path(__file__).resolve().parents[1] / "tests/data/scalars.rrd")).messages()]
bodies = [encode_log_msg(m) for m in msgs]
best = 1e9
for _ in range(7):
    t0 = time.perf_counter()
    for _ in range(200):
        for k, b in bodies:
            decode_log_msg(k, b)
    best = min(best, time.perf_counter() - t0)
print(f"{best / (200 * len(bodies)) * 1e6:.2f} us per message ({len(bodies)} messages)")
