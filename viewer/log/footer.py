"""The footer index of an `.rrd` stream: one manifest per store, listing its chunks.

rerun-sdk's reader trusts this index to enumerate stores and chunks (an End message with an
empty index makes it see no chunks at all), so a writer that adds a footer must fill it in.
Per store it holds the union ("sorbet") schema of its columns and an LZ4-compressed Arrow IPC
table with one row per chunk: where the chunk is, its entity, rows, staticness and, per
timeline and per component, the covered index range.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.compute as pc

from viewer.log.messages import StoreId
from viewer.log.protobuf import encode_store_id, len_field, varint_field
from viewer.log.sorbet import (
    ARCHETYPE_KEY,
    COMPONENT_KEY,
    COMPONENT_TYPE_KEY,
    ENTITY_PATH_KEY,
    INDEX_NAME_KEY,
    IS_SORTED_KEY,
    KIND_KEY,
)

__all__ = ["ChunkEntry", "chunk_entry", "encode_footer_index"]

_LZ4 = pa.Codec("lz4_raw")
_PB_COMPRESSION_LZ4 = 2  # same numbering as ArrowMsg.compression
_PROPERTIES = "/__properties"
_COMPONENT_META_KEYS = (ARCHETYPE_KEY, COMPONENT_KEY, COMPONENT_TYPE_KEY)


@dataclass(slots=True)
class _ComponentRange:
    num_rows: int
    start: object = None  # a pyarrow scalar of the index type, or None
    end: object = None


@dataclass(slots=True)
class ChunkEntry:
    """What the footer index needs to know about one chunk written to the stream."""

    entity_path: str
    chunk_id: bytes
    is_static: bool
    num_rows: int
    byte_offset: int
    byte_size: int
    byte_size_uncompressed: int
    # timeline -> (index field, start scalar, end scalar)
    timelines: dict[str, tuple[pa.Field, object, object]] = field(default_factory=dict)
    # component -> its field in the store schema (renamed, with entity metadata)
    components: dict[str, pa.Field] = field(default_factory=dict)
    # (timeline, component) -> range of the rows that hold that component
    ranges: dict[tuple[str, str], _ComponentRange] = field(default_factory=dict)
    control: pa.Field | None = None


def _strip(meta: dict[bytes, bytes] | None, *keys: bytes) -> dict[bytes, bytes]:
    return {k: v for k, v in (meta or {}).items() if k not in keys}


def chunk_entry(
    batch: pa.RecordBatch,
    *,
    chunk_id: bytes,
    is_static: bool,
    byte_offset: int,
    byte_size: int,
    byte_size_uncompressed: int,
) -> ChunkEntry:
    """Summarize a decoded chunk for the footer index (min/max per timeline and component)."""
    meta = batch.schema.metadata or {}
    entity = meta.get(ENTITY_PATH_KEY, b"/").decode("utf-8", "replace")
    entry = ChunkEntry(
        entity, chunk_id, is_static, batch.num_rows, byte_offset, byte_size,
        byte_size_uncompressed,
    )
    indexes: list[tuple[str, pa.Array]] = []
    data: list[tuple[str, pa.Array]] = []
    for fld, column in zip(batch.schema, batch.columns, strict=True):
        fmeta = fld.metadata or {}
        kind = fmeta.get(KIND_KEY)
        if kind == b"index":
            name = fmeta.get(INDEX_NAME_KEY, fld.name.encode()).decode()
            start, end = _min_max(column)
            index_field = pa.field(name, fld.type, fld.nullable, _strip(fmeta, IS_SORTED_KEY))
            entry.timelines[name] = (index_field, start, end)
            indexes.append((name, column))
        elif kind == b"control":
            entry.control = pa.field(fld.name, fld.type, fld.nullable, _strip(fmeta, IS_SORTED_KEY))
        elif kind == b"data":
            component = fmeta.get(COMPONENT_KEY, fld.name.encode()).decode()
            column_meta = dict(fmeta)
            column_meta[ENTITY_PATH_KEY] = entity.encode()
            if is_static:
                column_meta[b"rerun:is_static"] = b"true"
            if entity == _PROPERTIES:
                column_name = f"property:{component}"
            else:
                column_name = f"{entity}:{component}"
            entry.components[component] = pa.field(column_name, fld.type, True, column_meta)
            data.append((component, column))
    for timeline, index in indexes:
        for component, column in data:
            present = column.is_valid()
            rows = pc.sum(present).as_py() or 0
            if rows == batch.num_rows:
                start, end = entry.timelines[timeline][1:]
            elif rows:
                start, end = _min_max(index.filter(present))
            else:
                start = end = None
            entry.ranges[(timeline, component)] = _ComponentRange(rows, start, end)
    return entry


def _min_max(column: pa.Array) -> tuple[object, object]:
    """Min and max as plain ints/floats (temporal indexes as their int64 nanoseconds)."""
    if len(column) == 0:
        return None, None
    if pa.types.is_temporal(column.type):
        column = column.cast(pa.int64())
    result = pc.min_max(column)
    return result["min"].as_py(), result["max"].as_py()


def _ipc_stream(schema: pa.Schema, batch: pa.RecordBatch | None = None) -> bytes:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, schema) as writer:
        if batch is not None:
            writer.write_batch(batch)
    return sink.getvalue().to_pybytes()


def _store_schema(chunks: list[ChunkEntry]) -> pa.Schema:
    """The union of every chunk's columns, as the store-wide ("sorbet") schema."""
    control: pa.Field | None = None
    timelines: dict[str, pa.Field] = {}
    columns: dict[str, pa.Field] = {}
    for c in chunks:
        control = control or c.control
        for name, (fld, _s, _e) in c.timelines.items():
            timelines.setdefault(name, fld)
        for fld in c.components.values():
            columns.setdefault(fld.name, fld)
    fields = [control] if control is not None else []
    fields += [timelines[k] for k in sorted(timelines)]
    fields += [columns[k] for k in sorted(columns)]
    return pa.schema(fields)


def _index_table(chunks: list[ChunkEntry]) -> pa.RecordBatch:
    arrays: list[pa.Array] = [
        pa.array([c.entity_path for c in chunks], pa.string()),
        pa.array([c.chunk_id for c in chunks], pa.binary(16)),
        pa.array([c.is_static for c in chunks], pa.bool_()),
        pa.array([c.num_rows for c in chunks], pa.uint64()),
        pa.array([c.byte_offset for c in chunks], pa.uint64()),
        pa.array([c.byte_size for c in chunks], pa.uint64()),
        pa.array([c.byte_size_uncompressed for c in chunks], pa.uint64()),
    ]
    fields = [
        pa.field("chunk_entity_path", pa.string(), False),
        pa.field("chunk_id", pa.binary(16), False),
        pa.field("chunk_is_static", pa.bool_(), False),
        pa.field("chunk_num_rows", pa.uint64(), False),
        pa.field("chunk_byte_offset", pa.uint64(), False),
        pa.field("chunk_byte_size", pa.uint64(), False),
        pa.field("chunk_byte_size_uncompressed", pa.uint64(), False),
    ]
    component_meta: dict[str, dict[bytes, bytes]] = {}
    timeline_types: dict[str, pa.DataType] = {}
    for c in chunks:
        for comp, fld in c.components.items():
            meta = fld.metadata or {}
            component_meta.setdefault(comp, {k: meta[k] for k in _COMPONENT_META_KEYS if k in meta})
        for name, (fld, _s, _e) in c.timelines.items():
            timeline_types.setdefault(name, fld.type)
    for comp in sorted(component_meta):
        meta = {**component_meta[comp], b"rerun:index": b"rerun:static"}
        fields.append(pa.field(f"{comp}:has_static_data", pa.bool_(), False, meta))
        arrays.append(pa.array([c.is_static and comp in c.components for c in chunks], pa.bool_()))
    for name in sorted(timeline_types):
        typ = timeline_types[name]
        for side, pick in (("start", 1), ("end", 2)):
            fields.append(pa.field(f"{name}:{side}", typ, True, {b"rerun:index": name.encode()}))
            values = [c.timelines[name][pick] if name in c.timelines else None for c in chunks]
            arrays.append(_index_array(values, typ))
    # only (timeline, component) pairs that occur together in some chunk get range columns
    pairs = sorted({key for c in chunks for key in c.ranges})
    for name, comp in pairs:
        typ = timeline_types[name]
        meta = {**component_meta[comp], b"rerun:index": name.encode()}
        ranges = [c.ranges.get((name, comp)) for c in chunks]
        for side in ("start", "end"):
            fields.append(pa.field(f"{name}:{comp}:{side}", typ, True, meta))
            values = [getattr(r, side) if r else None for r in ranges]
            arrays.append(_index_array(values, typ))
        fields.append(pa.field(f"{name}:{comp}:num_rows", pa.uint64(), True, meta))
        arrays.append(pa.array([r.num_rows if r else 0 for r in ranges], pa.uint64()))
    return pa.RecordBatch.from_arrays(arrays, schema=pa.schema(fields))


def _index_array(values: list, typ: pa.DataType) -> pa.Array:
    if pa.types.is_temporal(typ):
        return pa.array(values, pa.int64()).cast(typ)
    return pa.array(values, typ)


def _manifest(store_id: StoreId, chunks: list[ChunkEntry]) -> bytes:
    schema_ipc = _ipc_stream(_store_schema(chunks))
    table = _index_table(chunks)
    data_ipc = _ipc_stream(table.schema, table)
    data = (
        varint_field(1, 1)  # encoder version
        + len_field(2, _LZ4.compress(data_ipc).to_pybytes())
        + varint_field(3, _PB_COMPRESSION_LZ4)
        + varint_field(4, len(data_ipc))
    )
    return (
        len_field(1, encode_store_id(store_id))
        + len_field(2, len_field(1, schema_ipc))
        + len_field(3, hashlib.sha256(schema_ipc).digest())
        + len_field(4, data)
    )


def encode_footer_index(stores: dict[StoreId, list[ChunkEntry]]) -> bytes:
    """The End message body: one manifest per store that has chunks, in first-seen order."""
    return b"".join(len_field(1, _manifest(s, chunks)) for s, chunks in stores.items() if chunks)
