"""The chunk shape rerun-sdk 0.41.0 writes ("sorbet" 0.1.4 batches): its metadata keys, and
builders for chunks in that shape.

The keys below are the one definition the reader side (`viewer.store.chunk`, the footer,
`viewer.log.arrow`) and the writer side share. The builders are used by our own producers
(the demo recording, the live sender's demo stream, benchmarks), so everything we generate
is read by rerun-sdk's reader exactly like the SDK's own files.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Sequence

import numpy as np
import pyarrow as pa

from viewer.log.messages import Tuid

# -- schema metadata (of the whole batch)
ENTITY_PATH_KEY = b"rerun:entity_path"
CHUNK_ID_KEY = b"rerun:id"  # "chunk_" + 32 hex digits (the chunk's Tuid)
SORBET_VERSION_KEY = b"sorbet:version"
# -- field metadata (of one column)
KIND_KEY = b"rerun:kind"  # b"control" (row ids), b"index" (a timeline) or b"data"
INDEX_NAME_KEY = b"rerun:index_name"
IS_SORTED_KEY = b"rerun:is_sorted"
COMPONENT_KEY = b"rerun:component"
ARCHETYPE_KEY = b"rerun:archetype"
COMPONENT_TYPE_KEY = b"rerun:component_type"
#: The column holding each row's RowId.
ROW_ID_COLUMN = "rerun.controls.RowId"

SORBET_VERSION = b"0.1.4"
#: store_version bits as rerun-sdk 0.41.0 writes them (version bytes 00 29 00 00 as a LE i32).
STORE_VERSION_0_41 = 0x2900
#: StoreSource kind "other": the official viewer accepts it when ``extra`` is non-empty.
SOURCE_KIND_OTHER = 6

ROW_ID_FIELD = pa.field(ROW_ID_COLUMN, pa.binary(16), nullable=False, metadata={
    KIND_KEY: b"control",
    IS_SORTED_KEY: b"true",
    "ARROW:extension:name": "rerun.datatypes.TUID",
    "ARROW:extension:metadata": '{"namespace":"row"}',
})

#: (archetype, field, component type, list array): one data column of a chunk.
Component = tuple[str, str, str, pa.Array]


def index_field(name: str, arrow_type: pa.DataType) -> pa.Field:
    """A timeline column (int64 sequence, timestamp[ns] or duration[ns]), sorted."""
    return pa.field(name, arrow_type, metadata={
        KIND_KEY: b"index",
        INDEX_NAME_KEY: name.encode(),
        IS_SORTED_KEY: b"true",
    })


def data_field(archetype: str, field_name: str, component_type: str,
               arrow_type: pa.DataType) -> pa.Field:
    column = f"{archetype}:{field_name}"
    return pa.field(column, arrow_type, metadata={
        KIND_KEY: b"data",
        ARCHETYPE_KEY: f"rerun.archetypes.{archetype}".encode(),
        COMPONENT_KEY: column.encode(),
        COMPONENT_TYPE_KEY: f"rerun.components.{component_type}".encode(),
    })


class TuidGenerator:
    """Time-ordered unique ids like the SDK's: one start time and a rising increment.

    Give ``start_ns`` for deterministic ids (the demo); by default the start is now and the
    increment starts at a random point, so two producers never collide.
    """

    def __init__(self, start_ns: int | None = None) -> None:
        if start_ns is None:
            import uuid  # ~10 ms to import (docs/platform-facts.md): only random ids pay it

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
        ENTITY_PATH_KEY: entity_path.encode(),
        CHUNK_ID_KEY: raw_chunk_id(chunk_id),
        SORBET_VERSION_KEY: SORBET_VERSION,
        **(extra_metadata or {}),
    }
    return pa.RecordBatch.from_arrays(arrays, schema=pa.schema(fields, metadata=metadata))


def raw_chunk_id(chunk_id: Tuid) -> bytes:
    """The ``rerun:id`` text of a chunk id, as rerun-sdk writes it ("chunk_" + 32 hex)."""
    return f"chunk_{chunk_id}".encode()


def run_key(schema_key: bytes | None, raw_id: bytes | None) -> bytes | None:
    """What chunks must share to become one (a run): their IPC schema message without the
    ``rerun:id`` text ``raw_id`` (then equal keys mean the same fields, types, metadata and
    entity path). None when there is no key or the id is missing or ambiguous (its text
    appears elsewhere in the schema too): such a chunk stands alone."""
    if schema_key is None or not raw_id or schema_key.count(raw_id) != 1:
        return None
    return schema_key.replace(raw_id, b"")


def parse_chunk_id(raw: bytes | str | None) -> bytes | None:
    """The 16 id bytes of a ``rerun:id`` value: rerun-sdk writes ``chunk_`` + 32 hex digits
    (time_ns, inc); a raw 16-byte value is accepted too. None when it cannot be parsed."""
    if raw is None:
        return None
    if isinstance(raw, str):
        raw = raw.encode()
    if len(raw) == 16 and not raw.startswith(b"chunk_"):
        return bytes(raw)
    text = raw[6:] if raw.startswith(b"chunk_") else raw
    if len(text) != 32:
        return None
    try:
        return bytes.fromhex(text.decode("ascii"))
    except (ValueError, UnicodeDecodeError):
        return None
