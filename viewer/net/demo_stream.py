"""Generated live recordings for our sender: Scalars chunks shaped like rerun-sdk's.

Chunks are built lazily, right before they are sent, and each carries its build time in the
schema metadata (`SENT_NS_KEY`) so a receiver can measure end-to-end latency without the
SDK's own stamps.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import numpy as np
import pyarrow as pa

from viewer.log.arrow import encode_record_batch
from viewer.log.messages import (
    ArrowMsg,
    LogMsg,
    SetStoreInfo,
    StoreId,
    StoreInfo,
    StoreKind,
    StoreSource,
    Tuid,
)
from viewer.log.sorbet import STORE_VERSION_0_41, TuidGenerator, chunk_batch

__all__ = [
    "DEMO_APP_ID",
    "SENT_NS_KEY",
    "STORE_VERSION_0_41",
    "TuidGenerator",
    "demo_messages",
    "scalar_chunk",
]

DEMO_APP_ID = "rrd_viewer_demo"
SENT_NS_KEY = b"rrd_viewer:timestamp_sender_ns"

def scalar_chunk(
    entity_path: str,
    frames: np.ndarray,
    values: np.ndarray,
    tuids: TuidGenerator,
    *,
    stamp_ns: int | None = None,
) -> tuple[pa.RecordBatch, Tuid]:
    """One Scalars chunk on the ``frame`` and ``log_time`` timelines; returns it and its id."""
    n = len(frames)
    chunk_id = tuids.next()
    row_ids = tuids.row_id_array(n)
    offsets = pa.array(np.arange(n + 1, dtype=np.int32))
    scalars = pa.ListArray.from_arrays(offsets, pa.array(values, pa.float64()))
    extra = {SENT_NS_KEY: str(stamp_ns).encode()} if stamp_ns is not None else None
    indexes = [
        ("frame", pa.array(frames, pa.int64())),
        ("log_time", pa.array(np.full(n, time.time_ns(), dtype=np.int64), pa.timestamp("ns"))),
    ]
    batch = chunk_batch(entity_path, chunk_id, row_ids, indexes,
                        [("Scalars", "scalars", "Scalar", scalars)], extra)
    return batch, chunk_id


def demo_messages(
    *,
    chunks: int = 200,
    rows_per_chunk: int = 100,
    entities: int = 4,
    recording_id: str | None = None,
    application_id: str = DEMO_APP_ID,
    stamp: bool = True,
) -> Iterator[LogMsg]:
    """A recording of ``chunks`` Scalars chunks spread round-robin over ``entities`` signals.

    Entity ``k`` is ``/demo/signal_k``: ``sin`` of the frame number, phase-shifted by ``k``.
    Every entity's frames increase by one per row, so the rows per entity are exact:
    ``rows_per_chunk * (chunks // entities)`` (plus one chunk for the first ``chunks % entities``).
    """
    if chunks < 0 or rows_per_chunk < 1 or entities < 1:
        raise ValueError("need chunks >= 0, rows_per_chunk >= 1, entities >= 1")
    store = StoreId(StoreKind.RECORDING, recording_id or str(uuid.uuid4()), application_id)
    tuids = TuidGenerator()
    yield SetStoreInfo(
        StoreInfo(store, StoreSource(6, b"rrd-viewer demo"), STORE_VERSION_0_41), tuids.next()
    )
    next_frame = [0] * entities
    for i in range(chunks):
        k = i % entities
        start = next_frame[k]
        next_frame[k] += rows_per_chunk
        frames = np.arange(start, start + rows_per_chunk, dtype=np.int64)
        values = np.sin(frames * 0.05 + k)
        batch, chunk_id = scalar_chunk(
            f"/demo/signal_{k}", frames, values, tuids,
            stamp_ns=time.time_ns() if stamp else None,
        )
        msg: ArrowMsg = encode_record_batch(batch, store, chunk_id=chunk_id, is_static=False)
        yield msg
