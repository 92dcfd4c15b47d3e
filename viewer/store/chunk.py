"""One Rerun chunk: rows of one entity, decoded once into numpy-friendly columns.

`Chunk.from_record_batch` does all the heavy work up front (row ids, per-timeline times,
sortedness, min/max, a sort permutation for unsorted timelines) so that inserting into the
store and querying it later are cheap. The original RecordBatch is kept for writing back.
"""

from __future__ import annotations

import enum
import itertools
import sys
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from viewer.log.messages import Tuid
from viewer.log.sorbet import (
    ARCHETYPE_KEY,
    CHUNK_ID_KEY,
    COMPONENT_KEY,
    COMPONENT_TYPE_KEY,
    ENTITY_PATH_KEY,
    INDEX_NAME_KEY,
    IS_SORTED_KEY,
    KIND_KEY,
    ROW_ID_COLUMN,
    SORBET_VERSION,
    SORBET_VERSION_KEY,
    parse_chunk_id,
    run_key,
)
from viewer.store.entity_path import EntityPath

_NS_PER_UNIT = {"s": 1_000_000_000, "ms": 1_000_000, "us": 1_000, "ns": 1}


class ChunkError(ValueError):
    """A RecordBatch that is not a valid Rerun chunk; the message names the problem."""


class TimelineKind(enum.Enum):
    SEQUENCE = "sequence"
    TIMESTAMP = "timestamp"
    DURATION = "duration"

    def arrow_type(self) -> pa.DataType:
        if self is TimelineKind.SEQUENCE:
            return pa.int64()
        if self is TimelineKind.TIMESTAMP:
            return pa.timestamp("ns")
        return pa.duration("ns")


def timeline_kind_of(arrow_type: pa.DataType) -> TimelineKind | None:
    """The timeline kind an index column's arrow type stands for, or None if unsupported."""
    if arrow_type == pa.int64():
        return TimelineKind.SEQUENCE
    if pa.types.is_timestamp(arrow_type):
        return TimelineKind.TIMESTAMP
    if pa.types.is_duration(arrow_type):
        return TimelineKind.DURATION
    return None


@dataclass(frozen=True, slots=True)
class ComponentDescriptor:
    """What a data column holds, from its field metadata (any part may be missing)."""

    column: str
    component: str
    archetype: str | None = None
    component_type: str | None = None


class TimeColumn:
    """The times of one timeline in a chunk, in the chunk's row order (int64 ns or sequence)."""

    __slots__ = ("is_sorted", "kind", "max", "min", "name", "order", "sorted_times", "times")

    def __init__(self, name: str, kind: TimelineKind, times: np.ndarray) -> None:
        self.name = name
        self.kind = kind
        self.times = times
        n = len(times)
        if n < 2:
            self.is_sorted = True
        else:
            # no descent anywhere; count_nonzero is ~2x cheaper than `.all()` at 500 rows
            self.is_sorted = not np.count_nonzero(times[1:] < times[:-1])
        if self.is_sorted:
            self.order: np.ndarray | None = None
            self.sorted_times = times
            self.min = int(times[0]) if n else 0
            self.max = int(times[-1]) if n else -1
        else:
            self.order = np.argsort(times, kind="stable").astype(np.int64, copy=False)
            self.sorted_times = times[self.order]
            self.min = int(self.sorted_times[0])
            self.max = int(self.sorted_times[-1])

    def rows_in_order(self, lo: int, hi: int) -> np.ndarray:
        """Row indices of sorted positions lo..hi (exclusive)."""
        if self.order is None:
            return np.arange(lo, hi, dtype=np.int64)
        return self.order[lo:hi]

    @property
    def nbytes(self) -> int:
        extra = 0 if self.order is None else self.order.nbytes + self.sorted_times.nbytes
        return int(self.times.nbytes) + extra

    @property
    def nbytes_beyond_column(self) -> int:
        """Bytes held beyond the Arrow index column the times were read from: a converted
        copy (times in another unit) and the sort order. A chunk counts that column with its
        other columns, so adding `nbytes` would count the times twice."""
        own = 0 if self.times.base is not None else int(self.times.nbytes)
        return own + (0 if self.order is None else
                      int(self.order.nbytes) + int(self.sorted_times.nbytes))

    def __repr__(self) -> str:
        return (
            f"TimeColumn({self.name!r}, {self.kind.value}, rows={len(self.times)}, "
            f"min={self.min}, max={self.max}, sorted={self.is_sorted})"
        )


_fallback_ids = itertools.count(1)


def chunk_id_to_str(chunk_id: bytes) -> str:
    """The ``chunk_<TIME><inc>`` spelling rerun-sdk uses."""
    if len(chunk_id) == 16:  # same text as str(Tuid.from_bytes(...)), without the object
        digits = chunk_id.hex()
        return "chunk_" + digits[:16].upper() + digits[16:]
    return "chunk_" + str(Tuid.from_bytes(chunk_id))


def _fallback_chunk_id() -> bytes:
    """A process-unique id for batches without a usable ``rerun:id`` (so nothing is lost)."""
    return Tuid(0, next(_fallback_ids)).to_bytes()


def _fixed_binary_storage(array: pa.Array) -> pa.Array:
    return array.storage if isinstance(array, pa.ExtensionArray) else array


def _row_id_storage(array: pa.Array) -> pa.Array:
    """The RowId column's fixed_size_binary[16] storage; `ChunkError` if it is not one or
    has nulls."""
    storage = _fixed_binary_storage(array)
    if not (pa.types.is_fixed_size_binary(storage.type) and storage.type.byte_width == 16):
        raise ChunkError(f"{ROW_ID_COLUMN} must be fixed_size_binary[16], got {storage.type}")
    if storage.null_count:
        raise ChunkError(f"{ROW_ID_COLUMN} has {storage.null_count} null row ids")
    return storage


def row_ids_from_arrow(array: pa.Array) -> np.ndarray:
    """RowId column (fixed_size_binary[16], big-endian TUIDs) -> (n, 2) native uint64."""
    array = _row_id_storage(array)
    n = len(array)
    if n == 0:
        return np.empty((0, 2), dtype=np.uint64)
    data = np.frombuffer(array.buffers()[1], dtype=">u8", count=(array.offset + n) * 2)
    return data[array.offset * 2 :].reshape(n, 2).astype(np.uint64)


def row_ids_to_arrow(row_ids: np.ndarray, type_: pa.DataType | None = None) -> pa.Array:
    """(n, 2) native uint64 -> fixed_size_binary[16] big-endian TUIDs (of ``type_``, which
    may be an extension type over it; default ``binary(16)``)."""
    raw = np.ascontiguousarray(row_ids.astype(">u8")).tobytes()
    storage = pa.FixedSizeBinaryArray.from_buffers(
        pa.binary(16), len(row_ids), [None, pa.py_buffer(raw)]
    )
    if isinstance(type_, pa.ExtensionType):
        return type_.wrap_array(storage)
    return storage


def native_row_id_column(row_ids: np.ndarray, type_: pa.DataType | None = None) -> pa.Array:
    """A row-id column over (n, 2) native uint64 ``row_ids`` without a copy, bytes in native
    order: only a placeholder that keeps a chunk's columns complete (a chunk built with
    ``native_row_ids`` writes big-endian ids back, `Chunk.to_record_batch`). Keeping a
    big-endian copy next to the native ids would cost 16 bytes per row."""
    storage = pa.FixedSizeBinaryArray.from_buffers(
        pa.binary(16), len(row_ids), [None, pa.py_buffer(np.ascontiguousarray(row_ids))])
    if isinstance(type_, pa.ExtensionType):
        return type_.wrap_array(storage)
    return storage


def _row_ids_in_place(array: pa.Array, owned: pa.Buffer) -> np.ndarray | None:
    """The row-id column as (n, 2) native uint64, byte-swapped in place inside ``owned``;
    None (nothing changed) when that is not possible: not a plain valid column, not inside
    ``owned``, a big-endian machine. Validates like `row_ids_from_arrow`."""
    storage = _row_id_storage(array)
    n = len(storage)
    if n == 0 or sys.byteorder != "little" or not owned.is_mutable:
        return None
    data = storage.buffers()[1]
    start = data.address + storage.offset * 16 - owned.address
    if start < 0 or start + n * 16 > owned.size or start % 8:
        return None
    view = np.frombuffer(owned, dtype=np.uint64, count=n * 2, offset=start)
    view.byteswap(inplace=True)
    return view.reshape(n, 2)


def rows_sorted(*keys: np.ndarray) -> bool:
    """True if the rows are in lexicographic order of ``keys`` (equal rows allowed), e.g.
    ``rows_sorted(times, row_ids[:, 0], row_ids[:, 1])`` for (time, RowId) order. Later
    keys are compared only where all earlier ones tie."""
    first = keys[0]
    if len(first) < 2:
        return True
    ok = first[1:] > first[:-1]
    ties = first[1:] == first[:-1]
    for key in keys[1:]:
        if not (ok | ties).all():
            return False
        if not ties.any():
            return True
        ok |= ties & (key[1:] > key[:-1])
        ties &= key[1:] == key[:-1]
    return bool((ok | ties).all())


def _times_from_arrow(array: pa.Array, kind: TimelineKind) -> np.ndarray:
    n = len(array)
    if n == 0:
        return np.empty(0, dtype=np.int64)
    times = np.frombuffer(array.buffers()[1], dtype=np.int64, count=array.offset + n)
    times = times[array.offset :]
    if kind is not TimelineKind.SEQUENCE:
        factor = _NS_PER_UNIT[array.type.unit]
        if factor != 1:
            times = times * factor
    return times


class _SchemaPlan:
    """Everything `Chunk.from_record_batch` derives from a schema alone (field roles,
    timeline names and kinds, descriptors, the parsed entity path), computed once per
    distinct schema: the chunks of one entity share it, and iterating fields and their
    metadata costs more than the per-chunk numpy work (docs/benchmarks/chunk-cost.md).
    A plain class, not a dataclass: it is built rarely and must not add import time."""

    __slots__ = ("components", "descriptors", "entity_path", "meta_keys", "names",
                 "row_id_index", "shared_schema", "timelines")

    def __init__(self, entity_path: EntityPath, names: tuple[str, ...], row_id_index: int,
                 timelines: tuple[tuple[int, str, TimelineKind], ...],
                 components: tuple[tuple[int, str], ...],
                 descriptors: dict[str, ComponentDescriptor]) -> None:
        self.entity_path = entity_path
        self.names = names
        self.row_id_index = row_id_index
        self.timelines = timelines  # (column, timeline name, kind)
        self.components = components  # (column, name)
        self.descriptors = descriptors  # copied per chunk: chunks may edit theirs
        #: Keyed plans only: the schema every chunk of the key has, minus its ``rerun:id``
        #: (one schema object for all of them instead of one per chunk, ~2.4 KB each), and
        #: the schema metadata keys in order, to put the chunk's own id back.
        self.shared_schema: pa.Schema | None = None
        self.meta_keys: tuple[bytes, ...] = ()

    def share(self, schema: pa.Schema, meta: dict[bytes, bytes]) -> None:
        self.meta_keys = tuple(meta)
        self.shared_schema = schema.with_metadata(
            {k: v for k, v in meta.items() if k != CHUNK_ID_KEY})

    def metadata_with_id(self, raw_id: bytes | None) -> dict[bytes, bytes]:
        """The schema metadata of the chunk whose ``rerun:id`` was ``raw_id``."""
        shared = self.shared_schema.metadata or {}  # type: ignore[union-attr]
        return {k: (raw_id if k == CHUNK_ID_KEY else shared[k]) for k in self.meta_keys
                if k != CHUNK_ID_KEY or raw_id is not None}


# Schema message bytes without the chunk's ``rerun:id`` -> plan. Chunks of one entity share
# their schema message except for that id, so the key is exact: equal keys mean equal field
# names, types and metadata and the same entity path. (Comparing pyarrow schemas instead
# costs ~11 µs on a fresh schema, as much as the work it would save.) Dict get/set are
# atomic, so decoder threads share it without a lock.
_PLAN_CACHE: dict[bytes, _SchemaPlan] = {}
_PLAN_CACHE_MAX = 4096


def _plan_key(meta: dict[bytes, bytes], schema_key: bytes | None) -> bytes | None:
    """The schema message without the chunk's ``rerun:id`` (the whole message when it has
    none); None when there is no key or the id text is ambiguous."""
    raw_id = meta.get(CHUNK_ID_KEY)
    return run_key(schema_key, raw_id) if raw_id else schema_key


def _schema_plan(schema: pa.Schema, meta: dict[bytes, bytes],
                 schema_key: bytes | None) -> _SchemaPlan:
    raw_path = meta.get(ENTITY_PATH_KEY)
    if raw_path is None:
        raise ChunkError("chunk schema has no 'rerun:entity_path' metadata")
    key = _plan_key(meta, schema_key)
    if key is None:
        return _build_plan(schema, raw_path)
    plan = _PLAN_CACHE.get(key)
    if plan is None:
        plan = _build_plan(schema, raw_path)  # raises ChunkError: bad schemas are not cached
        plan.share(schema, meta)
        if len(_PLAN_CACHE) >= _PLAN_CACHE_MAX:
            _PLAN_CACHE.clear()
        _PLAN_CACHE[key] = plan
    return plan


def _build_plan(schema: pa.Schema, raw_path: bytes) -> _SchemaPlan:
    """Classify and validate the fields of a chunk schema (no per-row work)."""
    try:
        entity_path = EntityPath.parse(raw_path.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise ChunkError(f"bad entity path {raw_path!r}: {exc}") from exc
    row_id_index: int | None = None
    timelines: list[tuple[int, str, TimelineKind]] = []
    tl_names: set[str] = set()
    components: list[tuple[int, str]] = []
    descriptors: dict[str, ComponentDescriptor] = {}
    for idx, field in enumerate(schema):
        name = field.name
        fmeta = field.metadata
        kind = fmeta.get(KIND_KEY) if fmeta else None
        if kind is None:
            kind = _infer_kind(name, field.type)
        if kind == b"data":
            if not (pa.types.is_list(field.type) or pa.types.is_large_list(field.type)):
                raise ChunkError(f"data column {name!r} must be a list array, got {field.type}")
            components.append((idx, name))
            if fmeta:
                comp = fmeta.get(COMPONENT_KEY)
                arch = fmeta.get(ARCHETYPE_KEY)
                ctype = fmeta.get(COMPONENT_TYPE_KEY)
                descriptors[name] = ComponentDescriptor(
                    name,
                    _text(comp) if comp else name,
                    _text(arch) if arch else None,
                    _text(ctype) if ctype else None,
                )
            else:
                descriptors[name] = ComponentDescriptor(name, name)
        elif kind == b"index":
            tl_kind = timeline_kind_of(field.type)
            if tl_kind is None:
                raise ChunkError(
                    f"index column {name!r} has type {field.type}; expected int64, "
                    "timestamp or duration"
                )
            raw_tl = fmeta.get(INDEX_NAME_KEY) if fmeta else None
            try:
                tl_name = raw_tl.decode() if raw_tl else name
            except UnicodeDecodeError:
                raise ChunkError(
                    f"index column {name!r} has a timeline name that is not UTF-8: {raw_tl!r}"
                ) from None
            if tl_name in tl_names:
                raise ChunkError(f"timeline {tl_name!r} appears twice")
            tl_names.add(tl_name)
            timelines.append((idx, tl_name, tl_kind))
        elif kind == b"control":
            if name != ROW_ID_COLUMN:
                continue  # unknown control columns are carried in `batch` only
            if row_id_index is not None:
                raise ChunkError(f"{ROW_ID_COLUMN} appears twice")
            row_id_index = idx
        else:
            raise ChunkError(f"column {name!r} has unknown rerun:kind {kind!r}")
    if row_id_index is None:
        raise ChunkError(f"chunk of {entity_path} has no {ROW_ID_COLUMN} column")
    return _SchemaPlan(entity_path, tuple(schema.names), row_id_index, tuple(timelines),
                       tuple(components), descriptors)


class Chunk:
    """Rows of one entity: row ids, zero or more timelines, and component list columns."""

    __slots__ = (
        "_batch",
        "_columns",
        "_native_row_id_column",
        "_plan",
        "_raw_id",
        "_valid_cache",
        "chunk_id_str",
        "components",
        "descriptors",
        "entity_path",
        "id",
        "is_static",
        "nbytes",
        "num_rows",
        "row_ids",
        "source_chunks",
        "timelines",
    )

    id: bytes
    chunk_id_str: str
    entity_path: EntityPath
    row_ids: np.ndarray
    timelines: dict[str, TimeColumn]
    components: dict[str, pa.Array]
    descriptors: dict[str, ComponentDescriptor]
    is_static: bool
    num_rows: int
    nbytes: int
    source_chunks: int

    # ------------------------------------------------------------------ building

    @classmethod
    def from_record_batch(
        cls,
        batch: pa.RecordBatch,
        *,
        is_static: bool | None = None,
        chunk_id: bytes | Tuid | None = None,
        schema_key: bytes | None = None,
        owned_buffer: pa.Buffer | None = None,
        native_row_ids: np.ndarray | None = None,
        source_chunks: int = 1,
    ) -> Chunk:
        """Decode a chunk. ``is_static`` (from the ArrowMsg) overrides the schema's view;
        ``chunk_id`` is used only when the schema has no parseable ``rerun:id``.
        ``schema_key``: the IPC schema message the batch was decoded from
        (`decode_arrow_payload_keyed`); with it the schema work is done once per entity.
        ``owned_buffer``: the private, writable buffer ``batch`` was decoded into, which
        nothing else will read (`viewer.store.decode.chunk_from_msg`). The row ids are then
        byte-swapped to native order in place instead of copied (16 bytes per row less,
        docs/benchmarks/vs-rerun.md notes); ``batch`` must not be used afterwards.
        ``native_row_ids``: the row ids in native order when the batch's row-id column is
        only a placeholder over them (`native_row_id_column`, used by `concat`).
        ``source_chunks``: how many chunks of the sender the batch holds (a run the decode
        helper combined).

        A chunk without timelines is static whatever ``is_static`` says (Rerun semantics);
        a chunk flagged static ignores its timelines for queries.
        """
        if not isinstance(batch, pa.RecordBatch):
            raise ChunkError(f"expected a pyarrow.RecordBatch, got {type(batch).__name__}")
        schema = batch.schema
        meta = schema.metadata or {}
        plan = _schema_plan(schema, meta, schema_key)  # once per distinct schema if keyed
        entity_path = plan.entity_path

        parsed_id = parse_chunk_id(meta.get(CHUNK_ID_KEY))
        if parsed_id is None:
            if isinstance(chunk_id, Tuid):
                chunk_id = chunk_id.to_bytes()
            parsed_id = chunk_id if chunk_id is not None else _fallback_chunk_id()

        n = batch.num_rows
        columns = batch.columns
        for i, column in enumerate(columns):
            if len(column) != n:
                raise ChunkError(
                    f"column {plan.names[i]!r} has {len(column)} rows, the chunk has {n}"
                )
        row_ids = None
        native_rid = -1
        if native_row_ids is not None:
            _row_id_storage(columns[plan.row_id_index])  # same checks as the other paths
            row_ids, native_rid = native_row_ids, plan.row_id_index
        elif owned_buffer is not None:
            row_ids = _row_ids_in_place(columns[plan.row_id_index], owned_buffer)
            if row_ids is not None:
                native_rid = plan.row_id_index
        if row_ids is None:
            row_ids = row_ids_from_arrow(columns[plan.row_id_index])
        static = (is_static is True) or not plan.timelines
        timelines: dict[str, TimeColumn] = {}
        for idx, tl_name, tl_kind in plan.timelines:
            column = columns[idx]
            if column.null_count:
                raise ChunkError(
                    f"index column {plan.names[idx]!r} has {column.null_count} nulls"
                )
            if not static:  # a static chunk ignores its timelines: skip the sort check
                timelines[tl_name] = TimeColumn(tl_name, tl_kind, _times_from_arrow(column, tl_kind))
        components = {name: columns[idx] for idx, name in plan.components}
        for name, column in components.items():
            _validate_column(entity_path, name, column)
        descriptors = dict(plan.descriptors)

        nbytes = batch.get_total_buffer_size()
        if native_rid < 0:
            nbytes += row_ids.nbytes
        self = cls._assemble(parsed_id, entity_path, row_ids, timelines, components,
                             descriptors, static, n, native_rid, source_chunks, nbytes)
        if plan.shared_schema is not None:
            # keep the columns, not the batch: its schema is a copy of the entity's one
            # (the batch is rebuilt on write-back; building it here would compare the
            # fresh types, ~15 µs per chunk)
            self._batch = None
            self._columns = columns
            self._plan = plan
            self._raw_id = meta.get(CHUNK_ID_KEY)
        else:
            self._batch = batch
            self._columns = None
            self._plan = None
        return self

    @classmethod
    def _assemble(cls, parsed_id: bytes, entity_path: EntityPath, row_ids: np.ndarray,
                  timelines: dict[str, TimeColumn], components: dict[str, pa.Array],
                  descriptors: dict[str, ComponentDescriptor], static: bool, n: int,
                  native_rid: int, source_chunks: int, column_bytes: int) -> Chunk:
        """A chunk from its parts (``column_bytes``: what its columns and row ids hold); the
        caller then says how it writes back (``_batch``, or ``_columns`` and ``_plan``)."""
        self = object.__new__(cls)
        self.id = parsed_id
        self.chunk_id_str = chunk_id_to_str(parsed_id)
        self.entity_path = entity_path
        self.row_ids = row_ids
        self.timelines = timelines
        self.components = components
        self.descriptors = descriptors
        self.is_static = static
        self.num_rows = n
        self._native_row_id_column = native_rid
        self.source_chunks = source_chunks
        self._valid_cache = {}
        self.nbytes = int(column_bytes + sum(tc.nbytes_beyond_column
                                             for tc in timelines.values()))
        return self

    @classmethod
    def from_table(cls, table: pa.Table, schema_key: bytes, *,
                   is_static: bool | None = None) -> Chunk:
        """One chunk from a table whose record batches are consecutive chunks of one entity
        with equal `run_key`s (`viewer.log.arrow.read_joined_table`).

        A run of small chunks costs one build instead of one per chunk plus a merge
        (docs/benchmarks/vs-rerun.md notes): every column is combined once in C++, with no
        Python work per part, and the row ids are swapped to native order inside the
        combined buffer. The parts are fully validated first, so a corrupt offset is refused
        before anything indexes with it (`ChunkError`; build the parts one by one to learn
        which is bad). The result keeps the table's ``rerun:id`` (the first part's) and counts
        the parts in `source_chunks`. ``schema_key``: the first part's schema message.
        """
        meta = table.schema.metadata or {}
        plan = _schema_plan(table.schema, meta, schema_key)
        if plan.shared_schema is None:
            raise ChunkError("a run of chunks needs a shared schema key")
        entity_path = plan.entity_path
        try:
            table.validate(full=True)
        except (pa.ArrowInvalid, pa.ArrowException) as exc:
            raise ChunkError(f"{entity_path}: a part of a run is corrupt: {exc}") from None
        parsed_id = parse_chunk_id(meta.get(CHUNK_ID_KEY)) or _fallback_chunk_id()
        static = (is_static is True) or not plan.timelines
        n = table.num_rows
        # one C++ call with the GIL released (per-column `combine_chunks` wraps every part
        # in a Python object first)
        columns = [column.chunk(0) if column.num_chunks == 1 else column.combine_chunks()
                   for column in table.combine_chunks().columns]
        rid = plan.row_id_index
        storage = _row_id_storage(columns[rid])
        data = storage.buffers()[1]
        if n and data.is_mutable and sys.byteorder == "little" and not storage.offset:
            row_ids = np.frombuffer(data, dtype=np.uint64, count=n * 2).reshape(n, 2)
            row_ids.byteswap(inplace=True)  # a fresh buffer: native order in place
        else:  # one part (combine copied nothing) or a big-endian machine
            row_ids = row_ids_from_arrow(storage)
            columns[rid] = native_row_id_column(row_ids, columns[rid].type)
        timelines: dict[str, TimeColumn] = {}
        for idx, tl_name, tl_kind in plan.timelines:
            column = columns[idx]
            if column.null_count:
                raise ChunkError(f"index column {plan.names[idx]!r} has {column.null_count} nulls")
            if not static:
                timelines[tl_name] = TimeColumn(tl_name, tl_kind, _times_from_arrow(column, tl_kind))
        components = {name: columns[idx] for idx, name in plan.components}

        self = cls._assemble(parsed_id, entity_path, row_ids, timelines, components,
                             dict(plan.descriptors), static, n, rid,
                             table.column(0).num_chunks,
                             sum(column.get_total_buffer_size() for column in columns))
        self._batch = None
        self._columns = columns
        self._plan = plan
        self._raw_id = meta.get(CHUNK_ID_KEY)
        return self

    def arrow_columns(self) -> list[pa.Array]:
        """The Arrow columns the chunk keeps (row ids, times and components), to check which
        buffers it holds (`JoinedStream.release`)."""
        if self._batch is not None:
            return self._batch.columns
        return list(self._columns)  # type: ignore[arg-type]

    def to_record_batch(self) -> pa.RecordBatch:
        """The batch to write back to a .rrd (schema metadata included).

        The decoded batch itself, unless its row ids were swapped to native order in place
        (``owned_buffer``): then a batch with a big-endian copy of them (a write-back or a
        re-sort is rare; keeping both all the time would cost 16 bytes per row)."""
        batch = self._batch
        if batch is None:
            plan = self._plan
            schema = plan.shared_schema.with_metadata(  # type: ignore[union-attr]
                plan.metadata_with_id(self._raw_id))  # type: ignore[union-attr]
            batch = pa.RecordBatch.from_arrays(self._columns, schema=schema)
        idx = self._native_row_id_column
        if idx < 0:
            return batch
        field = batch.schema.field(idx)
        return batch.set_column(idx, field, row_ids_to_arrow(self.row_ids, field.type))

    @property
    def batch(self) -> pa.RecordBatch:
        """Same as `to_record_batch()`."""
        return self.to_record_batch()

    @property
    def schema(self) -> pa.Schema:
        """The batch's fields and schema metadata, without building a batch; the
        ``rerun:id`` may be missing from the metadata (`id` / `chunk_id_str` have it)."""
        if self._batch is None:
            return self._plan.shared_schema  # type: ignore[union-attr,return-value]
        return self._batch.schema

    # ------------------------------------------------------------------ merging

    @staticmethod
    def can_concat(a: Chunk, b: Chunk) -> bool:
        """True when `concat([a, b])` is possible: same entity, same staticness, the same
        timelines (names and kinds), and no column name with two different types."""
        if a.entity_path != b.entity_path or a.is_static != b.is_static:
            return False
        if a.timelines.keys() != b.timelines.keys():
            return False
        for name, tc in a.timelines.items():
            if b.timelines[name].kind is not tc.kind:
                return False
        for name, arr in a.components.items():
            other = b.components.get(name)
            if other is not None and other.type != arr.type:
                return False
        return True

    @classmethod
    def concat(cls, chunks: Sequence[Chunk]) -> Chunk:
        """Merge chunks of one entity into one (rows in the given order).

        Component columns missing from some chunks become null lists for their rows. The
        result keeps the first chunk's id and counts its `source_chunks`. Raises ChunkError
        if the chunks cannot be merged (see `can_concat`).
        """
        if not chunks:
            raise ChunkError("concat needs at least one chunk")
        if len(chunks) == 1:
            return chunks[0]
        first = chunks[0]
        for other in chunks[1:]:
            if not cls.can_concat(first, other):
                raise ChunkError(
                    f"cannot merge chunk {other.chunk_id_str} ({other.entity_path}) into "
                    f"{first.chunk_id_str} ({first.entity_path}): different entity, "
                    "staticness, timelines or column types"
                )
        # Component columns must also agree pairwise between later chunks.
        comp_types: dict[str, pa.DataType] = {}
        comp_fields: dict[str, pa.Field] = {}
        for c in chunks:
            for field in c.schema:
                if field.name in c.components and field.name not in comp_fields:
                    comp_fields[field.name] = field
            for name, arr in c.components.items():
                known = comp_types.setdefault(name, arr.type)
                if known != arr.type:
                    raise ChunkError(f"column {name!r} has types {known} and {arr.type}")

        row_ids = np.concatenate([c.row_ids for c in chunks])
        fields: list[pa.Field] = []
        arrays: list[pa.Array] = []

        rid_meta = {
            KIND_KEY: b"control",
            b"ARROW:extension:name": b"rerun.datatypes.TUID",
            b"ARROW:extension:metadata": b'{"namespace":"row"}',
        }
        if rows_sorted(row_ids[:, 0], row_ids[:, 1]):
            rid_meta[IS_SORTED_KEY] = b"true"
        fields.append(pa.field(ROW_ID_COLUMN, pa.binary(16), nullable=False, metadata=rid_meta))
        arrays.append(native_row_id_column(row_ids))

        for name in sorted(first.timelines):
            kind = first.timelines[name].kind
            times = np.concatenate([c.timelines[name].times for c in chunks])
            tl_meta = {KIND_KEY: b"index", INDEX_NAME_KEY: name.encode()}
            if len(times) < 2 or bool((times[1:] >= times[:-1]).all()):
                tl_meta[IS_SORTED_KEY] = b"true"
            fields.append(pa.field(name, kind.arrow_type(), metadata=tl_meta))
            arrays.append(pa.array(times, type=pa.int64()).view(kind.arrow_type()))

        for name, field in comp_fields.items():
            parts = []
            for c in chunks:
                arr = c.components.get(name)
                parts.append(arr if arr is not None else pa.nulls(c.num_rows, field.type))
            fields.append(field)
            arrays.append(pa.concat_arrays(parts))

        meta = dict(first.schema.metadata or {})
        meta[ENTITY_PATH_KEY] = str(first.entity_path).encode()
        meta[CHUNK_ID_KEY] = first.chunk_id_str.encode()
        meta.setdefault(SORBET_VERSION_KEY, SORBET_VERSION)
        batch = pa.RecordBatch.from_arrays(arrays, schema=pa.schema(fields, metadata=meta))
        merged = cls.from_record_batch(batch, is_static=first.is_static, native_row_ids=row_ids)
        merged.source_chunks = sum(c.source_chunks for c in chunks)
        return merged

    def sorted_by(self, timeline: str) -> Chunk:
        """A copy with rows sorted by (time on `timeline`, row id); self if already sorted."""
        tc = self.timelines.get(timeline)
        if tc is None:
            raise ChunkError(f"chunk {self.chunk_id_str} has no timeline {timeline!r}")
        order = np.lexsort((self.row_ids[:, 1], self.row_ids[:, 0], tc.times))
        if (order == np.arange(self.num_rows)).all():
            return self
        batch = self.to_record_batch().take(pa.array(order))
        schema = batch.schema
        for i, field in enumerate(schema):
            if (field.metadata or {}).get(INDEX_NAME_KEY, b"").decode() == timeline or (
                field.name == timeline and not field.metadata
            ):
                meta = dict(field.metadata or {})
                meta[IS_SORTED_KEY] = b"true"
                schema = schema.set(i, field.with_metadata(meta))
        batch = pa.RecordBatch.from_arrays(batch.columns, schema=schema)
        out = Chunk.from_record_batch(batch, is_static=self.is_static)
        out.source_chunks = self.source_chunks
        return out

    # ------------------------------------------------------------------ queries

    def valid_rows(self, column: str) -> np.ndarray | None:
        """Bool mask of rows whose cell in `column` is not null; None when all are valid."""
        try:
            return self._valid_cache[column]
        except KeyError:
            pass
        arr = self.components[column]
        mask = None if arr.null_count == 0 else arr.is_valid().to_numpy(zero_copy_only=False)
        self._valid_cache[column] = mask
        return mask

    def latest_static_row(self, column: str) -> int | None:
        """Row with the greatest row id among non-null cells of `column`."""
        if column not in self.components or self.num_rows == 0:
            return None
        valid = self.valid_rows(column)
        rows = np.arange(self.num_rows) if valid is None else np.flatnonzero(valid)
        if len(rows) == 0:
            return None
        return int(_max_row_id_row(self.row_ids, rows))

    def latest_row(self, timeline: str, column: str, t: int) -> int | None:
        """Row with the greatest (time <= t, row id) among non-null cells of `column`."""
        tc = self.timelines.get(timeline)
        if tc is None or column not in self.components or t < tc.min:
            return None
        st = tc.sorted_times
        hi = int(np.searchsorted(st, t, side="right"))
        if hi == 0:
            return None
        valid = self.valid_rows(column)
        if valid is None:
            tmax = st[hi - 1]
            lo = int(np.searchsorted(st, tmax, side="left"))
            rows = tc.rows_in_order(lo, hi)
        else:
            cand = tc.rows_in_order(0, hi)
            cand = cand[valid[cand]]
            if len(cand) == 0:
                return None
            tmax = tc.times[cand[-1]]
            rows = cand[tc.times[cand] == tmax]
        if len(rows) == 1:
            return int(rows[0])
        return int(_max_row_id_row(self.row_ids, rows))

    def range_rows(self, timeline: str, column: str, t0: int, t1: int) -> np.ndarray:
        """Row indices (in time order) with t0 <= time <= t1 and a non-null cell."""
        tc = self.timelines.get(timeline)
        if tc is None or column not in self.components or t1 < tc.min or t0 > tc.max:
            return np.empty(0, dtype=np.int64)
        st = tc.sorted_times
        lo = int(np.searchsorted(st, t0, side="left"))
        hi = int(np.searchsorted(st, t1, side="right"))
        rows = tc.rows_in_order(lo, hi)
        valid = self.valid_rows(column)
        if valid is not None:
            rows = rows[valid[rows]]
        return rows

    def __repr__(self) -> str:
        return (
            f"Chunk({self.chunk_id_str}, {self.entity_path}, rows={self.num_rows}, "
            f"static={self.is_static}, timelines={list(self.timelines)}, "
            f"components={list(self.components)})"
        )


def _validate_column(entity: EntityPath, name: str, column: pa.Array) -> None:
    """Offsets and lengths of a component column checked before anything indexes into it:
    IPC decoding trusts them, and a flipped byte in an offsets buffer made queries read out
    of bounds or wrong rows. A full check costs ~1 µs for a 500-row scalar column and
    ~0.8 ns per value beyond (the "validate" row of ``scripts/bench_chunk_cost.py``)."""
    try:
        column.validate(full=True)
    except (pa.ArrowInvalid, pa.ArrowException) as exc:
        raise ChunkError(f"{entity}: component column {name!r} is corrupt: {exc}") from None


def _max_row_id_row(row_ids: np.ndarray, rows: np.ndarray) -> int:
    sub = row_ids[rows]
    best = np.lexsort((sub[:, 1], sub[:, 0]))[-1]
    return int(rows[best])


def _text(raw: bytes) -> str:
    """Descriptive metadata (component, archetype, type names): a bad byte must not cost
    the data, so it is replaced rather than rejected."""
    return raw.decode("utf-8", "replace")


def _infer_kind(name: str, arrow_type: pa.DataType) -> bytes:
    """Kind of a column without ``rerun:kind`` metadata (older or hand-made batches)."""
    if name == ROW_ID_COLUMN:
        return b"control"
    if pa.types.is_list(arrow_type) or pa.types.is_large_list(arrow_type):
        return b"data"
    if timeline_kind_of(arrow_type) is not None:
        return b"index"
    raise ChunkError(f"column {name!r} ({arrow_type}) has no rerun:kind and is not a list")
