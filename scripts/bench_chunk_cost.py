"""Per-chunk cost of decoding and building chunks, and the alternatives tried for it.

Usage: python scripts/bench_chunk_cost.py [FILE.rrd] [--runs N]

Default file: /tmp/rrd-bench/bench_small_chunks_s0.1.rrd (``scripts/make_bench_files.py
--only small_chunks --scale 0.1``: 4 000 chunks of 500 rows, the entities one after another,
so runs of messages join as in ingestion). Every variant runs over all chunks of the file in
this one process, interleaved, N runs; prints the median and min µs per chunk. The "before"
rows re-create what the code did before the per-chunk cost work (see
docs/benchmarks/chunk-cost.md), so both sides are measured on the same data in one run.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyarrow as pa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from viewer.ingest.batch_runs import BatchRuns, Payload  # noqa: E402
from viewer.ingest.items import InboxEntry  # noqa: E402
from viewer.ingest.settings import IngestSettings  # noqa: E402
from viewer.log.arrow import (  # noqa: E402
    decode_arrow_payload,
    decode_arrow_payload_keyed,
    read_joined_table,
)
from viewer.log.messages import ArrowMsg, Compression  # noqa: E402
from viewer.log.protobuf import as_byte_view  # noqa: E402
from viewer.log.reader import RrdReader  # noqa: E402
from viewer.store import chunk as chunk_mod  # noqa: E402
from viewer.store.chunk import ROW_ID_COLUMN, Chunk, row_ids_from_arrow  # noqa: E402

_LZ4 = pa.Codec("lz4_raw")


def _payload(msg: ArrowMsg) -> pa.Buffer:
    view = pa.py_buffer(as_byte_view(msg.payload))
    if msg.compression == Compression.LZ4:
        return _LZ4.decompress(view, decompressed_size=msg.uncompressed_size)
    return view


def _two_reads(data: pa.Buffer) -> pa.RecordBatch:
    reader = pa.ipc.open_stream(data)
    batch = reader.read_next_batch()
    try:
        reader.read_next_batch()
    except StopIteration:
        return batch
    raise AssertionError("more than one batch")


def _list_reader(data: pa.Buffer) -> pa.RecordBatch:
    return list(pa.ipc.open_stream(data))[0]


def _cached_schema(cache: dict[bytes, pa.Schema]) -> Callable[[pa.Buffer], pa.RecordBatch]:
    def decode(data: pa.Buffer) -> pa.RecordBatch:
        stream = pa.BufferReader(data)
        schema_msg = pa.ipc.read_message(stream)
        key = schema_msg.metadata.to_pybytes()
        schema = cache.get(key)
        if schema is None:
            schema = cache[key] = pa.ipc.read_schema(schema_msg)
        return pa.ipc.read_record_batch(pa.ipc.read_message(stream), schema)
    return decode


def _times_before(array: pa.Array) -> np.ndarray:
    n = len(array)
    return np.frombuffer(array.buffers()[1], dtype=np.int64, count=array.offset + n)[array.offset:]


def _row_id_view(array: pa.Array) -> np.ndarray:
    array = array.storage if isinstance(array, pa.ExtensionArray) else array
    n = len(array)
    data = np.frombuffer(array.buffers()[1], dtype=">u8", count=(array.offset + n) * 2)
    return data[array.offset * 2:].reshape(n, 2)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("file", nargs="?", default="/tmp/rrd-bench/bench_small_chunks_s0.1.rrd")
    ap.add_argument("--runs", type=int, default=7)
    args = ap.parse_args()
    msgs = [m for _, m in RrdReader(args.file).entries() if isinstance(m, ArrowMsg)]
    n = len(msgs)
    datas = [_payload(m) for m in msgs]
    batches = [decode_arrow_payload(m) for m in msgs]
    rid_cols = [b.column(b.schema.get_field_index(ROW_ID_COLUMN)) for b in batches]
    index_cols = [b.column(i) for b in batches for i, f in enumerate(b.schema)
                  if f.type == pa.int64() and (f.metadata or {}).get(b"rerun:kind") == b"index"]
    times = [_times_before(a) for a in index_cols]
    data_cols = [b.column(i) for b in batches for i, f in enumerate(b.schema)
                 if (f.metadata or {}).get(b"rerun:kind") == b"data"]
    distinct_ipc_schemas = len({pa.ipc.read_message(pa.BufferReader(d)).metadata.to_pybytes()
                                for d in datas})

    # Builds run on freshly decoded batches (pyarrow caches some schema work on the objects,
    # so re-using batches across runs flatters every variant); subtract the decode rows.
    # The chunks are kept alive, as the store does: discarding each one at once lets the
    # allocator hand the same hot memory to the next, which hides most of the schema work.
    def decode_build_keyed() -> list[Chunk]:
        kept = []
        for m in msgs:
            batch, key = decode_arrow_payload_keyed(m)
            kept.append(Chunk.from_record_batch(batch, is_static=m.is_static, schema_key=key))
        return kept

    def decode_build_unkeyed() -> list[Chunk]:  # every chunk pays the schema work, as before
        return [Chunk.from_record_batch(decode_arrow_payload(m), is_static=m.is_static)
                for m in msgs]

    entries = [InboxEntry(m, None, 0.0, i) for i, m in enumerate(msgs)]
    run_bytes = IngestSettings().merge_max_bytes

    def decode_build_runs() -> list[object]:  # what the ingest worker does (batch_runs.py)
        runs = BatchRuns(run_bytes)
        return [b for e in entries for b in runs.add(Payload.of(e, e.msg))] + runs.flush()

    payloads = [Payload.of(e, e.msg) for e in entries]
    groups: list[list[Payload]] = []
    for p in payloads:  # runs of 40 messages of one schema, as BatchRuns would cut them
        if groups and len(groups[-1]) < 40 and groups[-1][0].run_key == p.run_key:
            groups[-1].append(p)
        else:
            groups.append([p])

    def joined_build() -> list[Chunk]:
        return [Chunk.from_table(read_joined_table([p.data for p in g]), g[0].schema_key)
                for g in groups if len(g) > 1]

    variants: list[tuple[str, Callable[[], object], int]] = [
        ("runs: decompress + read IPC + build as the worker does (BatchRuns, chunks kept)",
         decode_build_runs, n),
        ("runs: read IPC as one stream + build one chunk per 40 messages (decompressed before)",
         joined_build, sum(len(g) for g in groups if len(g) > 1)),
        ("decode: decode_arrow_payload (LZ4 + IPC, as shipped)",
         lambda: [decode_arrow_payload(m) for m in msgs], n),
        ("decode: LZ4 only", lambda: [_payload(m) for m in msgs], n),
        ("IPC: open_stream + read_next_batch twice (as shipped)",
         lambda: [_two_reads(d) for d in datas], n),
        ("IPC: open_stream + one read_next_batch (no check)",
         lambda: [pa.ipc.open_stream(d).read_next_batch() for d in datas], n),
        ("IPC: list(open_stream(...))", lambda: [_list_reader(d) for d in datas], n),
        ("IPC: cached schema + read_record_batch",
         lambda: [_cached_schema({})(d) for d in datas], n),
        ("decode: decode_arrow_payload_keyed (+ schema message bytes)",
         lambda: [decode_arrow_payload_keyed(m) for m in msgs], n),
        ("decode + build, chunks kept, schema plan cached per entity (after)", decode_build_keyed, n),
        ("decode + build, chunks kept, schema work per chunk (no schema key)", decode_build_unkeyed, n),
        ("row ids: big-endian -> native copy (as shipped)",
         lambda: [row_ids_from_arrow(a) for a in rid_cols], n),
        ("row ids: zero-copy big-endian view", lambda: [_row_id_view(a) for a in rid_cols], n),
        ("index column: buffers() + frombuffer (as shipped)",
         lambda: [_times_before(a) for a in index_cols], len(index_cols)),
        ("index column: to_numpy() (on re-used arrays; not faster on fresh ones)",
         lambda: [a.to_numpy() for a in index_cols], len(index_cols)),
        ("validate: every component column, validate(full=True) (corrupt offsets)",
         lambda: [c.validate(full=True) for c in data_cols], n),
        ("sortedness check: (t[1:] >= t[:-1]).all() (before)",
         lambda: [bool((t[1:] >= t[:-1]).all()) for t in times], len(times)),
        ("sortedness check: not count_nonzero(t[1:] < t[:-1]) (after)",
         lambda: [not np.count_nonzero(t[1:] < t[:-1]) for t in times], len(times)),
    ]
    samples: dict[str, list[float]] = {name: [] for name, _, _ in variants}
    build_rows = ("build only (fresh batches), schema plan cached per entity (after)",
                  "build only (fresh batches), schema work per chunk (no schema key)")
    for name in build_rows:
        samples[name] = []
    for _ in range(args.runs):
        for name, fn, count in variants:
            t0 = time.perf_counter()
            fn()
            samples[name].append((time.perf_counter() - t0) * 1e6 / max(1, count))
        for name, keyed in zip(build_rows, (True, False), strict=True):
            fresh = [decode_arrow_payload_keyed(m) for m in msgs]  # untimed
            t0 = time.perf_counter()
            for (batch, key), m in zip(fresh, msgs, strict=True):
                Chunk.from_record_batch(batch, is_static=m.is_static,
                                        schema_key=key if keyed else None)
            samples[name].append((time.perf_counter() - t0) * 1e6 / n)
    print(f"{args.file}: {n} chunks, {len(index_cols)} int64 index columns, "
          f"{distinct_ipc_schemas} distinct IPC schema messages, "
          f"{len(chunk_mod._PLAN_CACHE)} schema plans cached; {args.runs} runs\n")
    print("| variant | median µs | min µs |")
    print("|---|---:|---:|")
    for name in samples:
        v = samples[name]
        print(f"| {name} | {statistics.median(v):.1f} | {min(v):.1f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
