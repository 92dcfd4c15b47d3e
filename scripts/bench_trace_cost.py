#!/usr/bin/env python3
"""What ``--profile`` tracing costs, off and on.

1. ns per call of the tracer's entry points while disabled (what every build pays).
2. `IngestionWorker.process()` over real chunk messages, tracer off vs on: µs per message
   (call sites use ``with TRACER.scope(...)`` alone: "off" must stay within noise of the
   untraced code).

    .venv/bin/python scripts/bench_trace_cost.py [--messages 4000] [--rows 100]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import timeit
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def disabled_calls(number: int = 1_000_000) -> dict[str, float]:
    from viewer.tracing import Tracer

    t = Tracer()
    args = {"store": "s"}

    def empty() -> None:
        pass

    def check() -> None:
        if t.enabled:
            pass

    def scope() -> None:
        with t.scope("apply", "ui", args):
            pass

    def counter() -> None:
        t.counter("queue", args)  # type: ignore[arg-type]

    out = {}
    base = min(timeit.repeat(empty, number=number, repeat=5)) / number
    for name, fn in (("if TRACER.enabled", check), ("with TRACER.scope(...)", scope),
                     ("TRACER.counter(...)", counter)):
        out[name] = (min(timeit.repeat(fn, number=number, repeat=5)) / number - base) * 1e9
    return out


def worker_cost(messages: int, rows: int, repeats: int = 7) -> dict[str, float]:
    import numpy as np

    from viewer.ingest.items import InboxEntry
    from viewer.ingest.settings import IngestSettings
    from viewer.ingest.worker import IngestionWorker
    from viewer.log.arrow import encode_record_batch
    from viewer.log.messages import StoreId, StoreKind
    from viewer.net.demo_stream import TuidGenerator, scalar_chunk
    from viewer.tracing import TRACER

    store = StoreId(StoreKind.RECORDING, "trace-cost", "bench")
    tuids = TuidGenerator()
    msgs = []
    for i in range(messages):
        frames = np.arange(i * rows, (i + 1) * rows, dtype=np.int64)
        batch, cid = scalar_chunk(f"/e{i % 4}", frames, np.sin(frames * 0.1), tuids)
        msgs.append(encode_record_batch(batch, store, chunk_id=cid, is_static=False))
    settings = IngestSettings(queue_max_messages=messages + 1, outbox_max_items=messages + 1,
                              merge_max_rows=0)

    def run(traced: bool) -> float:
        w = IngestionWorker(store, settings)
        for m in msgs:
            w.inbox.put(InboxEntry(m, None, 0.0, -1), 1)
        if traced:
            TRACER.start()
        t0 = time.perf_counter()
        while w.process(time.monotonic() + 1.0):
            pass
        dt = time.perf_counter() - t0
        TRACER.stop()
        assert len(w.outbox) == messages
        return dt / messages * 1e6

    run(False)  # warm-up
    off, on = [], []
    for _ in range(repeats):  # interleaved: load bursts hit both
        off.append(run(False))
        on.append(run(True))
    return {"off_us_per_msg": statistics.median(off), "on_us_per_msg": statistics.median(on)}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--messages", type=int, default=4000)
    p.add_argument("--rows", type=int, default=100)
    args = p.parse_args()
    for name, ns in disabled_calls().items():
        print(f"disabled {name}: {ns:.0f} ns per call (over an empty function call)")
    w = worker_cost(args.messages, args.rows)
    print(f"IngestionWorker.process, {args.messages} x {args.rows}-row chunks: "
          f"tracer off {w['off_us_per_msg']:.1f} µs/msg, on {w['on_us_per_msg']:.1f} µs/msg "
          f"(+{w['on_us_per_msg'] - w['off_us_per_msg']:.1f} µs/msg when profiling)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
