"""Generated live recordings for our sender: Scalars chunks shaped like rerun-sdk's.

Chunks are built lazily, right before they are sent, and each carries its build time in the
schema metadata (`SENT_NS_KEY`) so a receiver can measure end-to-end latency without the
SDK's own stamps.
"""

from __future__ import annotations

import itertools
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
STORE_VERSION_0_41 = 0x2900  # version bytes 00 29 00 00 read as a little-endian i32

_ROW_ID_FIELD = pa.field(
    "rerun.controls.RowId",
    pa.binary(16),
    nullable=False,
    metadata={
        "ARROW:extension:metadata": '{"namespace":"row"}',
        "ARROW:extension:name": "rerun.datatypes.TUID",
        "rerun:is_sorted": "true",
        "rerun:kind": "control",
    },
)


def _index_field(name: str, dtype: pa.DataType) -> pa.Field:
    return pa.field(
        name,
        dtype,
        metadata={"rerun:index_name": name, "rerun:is_sorted": "true", "rerun:kind": "index"},
    )


_SCALARS_FIELD = pa.field(
    "Scalars:scalars",
    pa.list_(pa.float64()),
    metadata={
        "rerun:archetype": "rerun.archetypes.Scalars",
        "rerun:component": "Scalars:scalars",
        "rerun:component_type": "rerun.components.Scalar",
        "rerun:kind": "data",
    },
)


class TuidGenerator:
    """Time-ordered unique ids: one start time, a strictly increasing increment."""

    def __init__(self) -> None:
        self._time_ns = time.time_ns()
        self._inc = itertools.count(int.from_bytes(uuid.uuid4().bytes[:6], "big") << 16)

    def next(self) -> Tuid:
        return Tuid(self._time_ns, next(self._inc))

    def next_block(self, n: int) -> np.ndarray:
        """``n`` consecutive ids as 16-byte big-endian rows (a RowId column's buffer)."""
        first = next(self._inc)
        for _ in range(n - 1):
            next(self._inc)
        out = np.empty((n, 2), dtype=">u8")
        out[:, 0] = self._time_ns
        out[:, 1] = np.arange(first, first + n, dtype=np.uint64)
        return out


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
    row_ids = pa.FixedSizeBinaryArray.from_buffers(
        pa.binary(16), n, [None, pa.py_buffer(tuids.next_block(n).tobytes())]
    )
    now = time.time_ns()
    offsets = pa.array(np.arange(n + 1, dtype=np.int32))
    scalars = pa.ListArray.from_arrays(offsets, pa.array(values, pa.float64()))
    meta = {
        b"rerun:entity_path": entity_path.encode(),
        b"rerun:id": f"chunk_{chunk_id}".encode(),
        b"sorbet:version": b"0.1.4",
    }
    if stamp_ns is not None:
        meta[SENT_NS_KEY] = str(stamp_ns).encode()
    schema = pa.schema(
        [
            _ROW_ID_FIELD,
            _index_field("frame", pa.int64()),
            _index_field("log_time", pa.timestamp("ns")),
            _SCALARS_FIELD,
        ],
        metadata=meta,
    )
    batch = pa.RecordBatch.from_arrays(
        [
            row_ids,
            pa.array(frames, pa.int64()),
            pa.array(np.full(n, now, dtype=np.int64), pa.timestamp("ns")),
            scalars,
        ],
        schema=schema,
    )
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
