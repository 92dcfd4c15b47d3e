"""Building chunks in the shape rerun-sdk 0.41.0 writes them ("sorbet" 0.1.4 batches).

Used by our own producers (the demo recording, the live sender's demo stream, benchmarks),
so everything we generate is read by rerun-sdk's reader exactly like the SDK's own files.
"""

from __future__ import annotations

import itertools
import time
import uuid
from collections.abc import Sequence

import numpy as np
import pyarrow as pa

from viewer.log.messages import Tuid

SORBET_VERSION = b"0.1.4"
#: store_version bits as rerun-sdk 0.41.0 writes them (version bytes 00 29 00 00 as a LE i32).
STORE_VERSION_0_41 = 0x2900
#: StoreSource kind "other": the official viewer accepts it when ``extra`` is non-empty.
SOURCE_KIND_OTHER = 6

ROW_ID_FIELD = pa.field("rerun.controls.RowId", pa.binary(16), nullable=False, metadata={
    "rerun:kind": "control",
    "rerun:is_sorted": "true",
    "ARROW:extension:name": "rerun.datatypes.TUID",
    "ARROW:extension:metadata": '{"namespace":"row"}',
})

#: (archetype, field, component type, list array): one data column of a chunk.
Component = tuple[str, str, str, pa.Array]


def index_field(name: str, arrow_type: pa.DataType) -> pa.Field:
    """A timeline column (int64 sequence, timestamp[ns] or duration[ns]), sorted."""
    return pa.field(name, arrow_type, metadata={
        "rerun:kind": "index",
        "rerun:index_name": name,
        "rerun:is_sorted": "true",
    })


def data_field(archetype: str, field_name: str, component_type: str,
               arrow_type: pa.DataType) -> pa.Field:
    column = f"{archetype}:{field_name}"
    return pa.field(column, arrow_type, metadata={
        "rerun:kind": "data",
        "rerun:archetype": f"rerun.archetypes.{archetype}",
        "rerun:component": column,
        "rerun:component_type": f"rerun.components.{component_type}",
    })


class TuidGenerator:
    """Time-ordered unique ids like the SDK's: one start time and a rising increment.

    Give ``start_ns`` for deterministic ids (the demo); by default the start is now and the
    increment starts at a random point, so two producers never collide.
    """

    def __init__(self, start_ns: int | None = None) -> None:
        if start_ns is None:
            self._time_ns = time.time_ns()
            first = int.from_bytes(uuid.uuid4().bytes[:6], "big") << 16
        else:
            self._time_ns, first = start_ns, 1
        self._inc = itertools.count(first)

    def next(self) -> Tuid:
        return Tuid(self._time_ns, next(self._inc))

    def next_block(self, n: int) -> np.ndarray:
        """``n`` consecutive ids as (n, 2) big-endian u64 rows (a RowId column's bytes)."""
        first = next(self._inc)
        self._inc = itertools.count(first + n)
        out = np.empty((n, 2), dtype=">u8")
        out[:, 0] = self._time_ns
        out[:, 1] = np.arange(first, first + n, dtype=np.uint64)
        return out

    def row_id_array(self, n: int) -> pa.Array:
        """A RowId column of ``n`` fresh ids, built without a Python loop."""
        return pa.FixedSizeBinaryArray.from_buffers(
            pa.binary(16), n, [None, pa.py_buffer(self.next_block(n).tobytes())])


def chunk_batch(entity_path: str, chunk_id: Tuid, row_ids: pa.Array,
                indexes: Sequence[tuple[str, pa.Array]], components: Sequence[Component],
                extra_metadata: dict[bytes, bytes] | None = None) -> pa.RecordBatch:
    """One chunk: RowId, index columns (none = static), then data columns."""
    fields = [ROW_ID_FIELD]
    arrays: list[pa.Array] = [row_ids]
    for name, array in indexes:
        fields.append(index_field(name, array.type))
        arrays.append(array)
    for archetype, field_name, component_type, array in components:
        fields.append(data_field(archetype, field_name, component_type, array.type))
        arrays.append(array)
    metadata = {
        b"rerun:entity_path": entity_path.encode(),
        b"rerun:id": f"chunk_{chunk_id}".encode(),
        b"sorbet:version": SORBET_VERSION,
        **(extra_metadata or {}),
    }
    return pa.RecordBatch.from_arrays(arrays, schema=pa.schema(fields, metadata=metadata))
