"""Micro-benchmark of `EntityDb.add_chunk` (the per-chunk cost paid on the UI thread).

Usage: python scripts/bench_store.py [num_chunks]
Prints µs per insert for chunks arriving in time order and shuffled, plus the chunk build
cost, and the first/next `scalar_series` query cost.
"""

from __future__ import annotations

import random
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow as pa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from viewer.log.messages import StoreId, StoreKind, Tuid  # noqa: E402
from viewer.store import Chunk, EntityDb  # noqa: E402


def make_batch(entity: str, index: int, rows: int) -> pa.RecordBatch:
    frames = np.arange(index * rows, (index + 1) * rows, dtype=np.int64)
    rid = np.empty((rows, 2), dtype=">u8")
    rid[:, 0] = 1_700_000_000_000_000_000 + frames
    rid[:, 1] = frames
    row_ids = pa.FixedSizeBinaryArray.from_buffers(
        pa.binary(16), rows, [None, pa.py_buffer(rid.tobytes())]
    )
    values = pa.ListArray.from_arrays(
        pa.array(np.arange(rows + 1, dtype=np.int32)), pa.array(np.sin(frames / 100.0))
    )
    fields = [
        pa.field("rerun.controls.RowId", pa.binary(16), metadata={"rerun:kind": "control"}),
        pa.field("frame", pa.int64(), metadata={"rerun:kind": "index", "rerun:index_name": "frame"}),
        pa.field(
            "log_time",
            pa.timestamp("ns"),
            metadata={"rerun:kind": "index", "rerun:index_name": "log_time"},
        ),
        pa.field("Scalars:scalars", values.type, metadata={"rerun:kind": "data"}),
    ]
    chunk_id = "chunk_" + str(Tuid(1_700_000_000_000_000_000 + index, index))
    schema = pa.schema(fields, metadata={"rerun:entity_path": entity, "rerun:id": chunk_id})
    times = pa.array(frames + 1_700_000_000_000_000_000).view(pa.timestamp("ns"))
    return pa.RecordBatch.from_arrays([row_ids, pa.array(frames), times, values], schema=schema)


def bench_inserts(chunks: list[Chunk]) -> float:
    db = EntityDb(StoreId(StoreKind.RECORDING, "bench", "bench"))
    start = time.perf_counter()
    for chunk in chunks:
        db.add_chunk(chunk)
    return (time.perf_counter() - start) / len(chunks) * 1e6


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 5000
    rows = 100
    batches = [make_batch(f"/plots/p{i % 10}", i, rows) for i in range(n)]
    start = time.perf_counter()
    chunks = [Chunk.from_record_batch(b) for b in batches]
    build_us = (time.perf_counter() - start) / n * 1e6
    ipc = []
    for b in batches[:2000]:
        sink = pa.BufferOutputStream()
        with pa.ipc.new_stream(sink, b.schema) as writer:
            writer.write_batch(b)
        ipc.append(sink.getvalue())
    start = time.perf_counter()
    for buf in ipc:
        Chunk.from_record_batch(pa.ipc.open_stream(buf).read_next_batch())
    ipc_us = (time.perf_counter() - start) / len(ipc) * 1e6
    shuffled = chunks[:]
    random.Random(0).shuffle(shuffled)
    in_order = min(bench_inserts(chunks) for _ in range(3))
    out_of_order = min(bench_inserts(shuffled) for _ in range(3))
    print(f"chunks: {n} x {rows} rows, 2 timelines, 10 entities")
    print(f"Chunk.from_record_batch:     {build_us:6.1f} µs/chunk")
    print(f"IPC read + from_record_batch: {ipc_us:6.1f} µs/chunk")
    print(f"add_chunk in time order:     {in_order:6.1f} µs/chunk")
    print(f"add_chunk shuffled:          {out_of_order:6.1f} µs/chunk")

    db = EntityDb(StoreId(StoreKind.RECORDING, "bench", "bench"))
    for chunk in shuffled:
        db.add_chunk(chunk)
    path = chunks[0].entity_path
    for label in ("first", "cached"):
        start = time.perf_counter()
        times, _ = db.scalar_series(path, "Scalars:scalars", "frame")
        ms = (time.perf_counter() - start) * 1e3
        print(f"scalar_series {label:6s} ({len(times)} rows): {ms:7.2f} ms")
    start = time.perf_counter()
    for t in range(0, n * rows, max(1, n * rows // 1000)):
        db.latest_at(path, "Scalars:scalars", "frame", t)
    print(f"latest_at: {(time.perf_counter() - start) / 1000 * 1e6:6.1f} µs/query")


if __name__ == "__main__":
    main()
