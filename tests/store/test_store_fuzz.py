"""Fuzz the chunk builder: real batches from tests/data, mutated by hypothesis.

`Chunk.from_record_batch` must either build a chunk that holds together (and can be inserted
and queried) or raise `ChunkError` naming the problem; never any other exception.
Mutations: dropped / renamed / duplicated columns, wrong types (incl. other timestamp
units), changed field and schema metadata, nulls, sliced and empty batches, list columns
whose offsets disagree with their child length, and non-ASCII / garbage metadata.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from viewer.log.arrow import decode_arrow_payload
from viewer.log.messages import ArrowMsg, StoreId, StoreKind
from viewer.log.reader import read_rrd
from viewer.store.chunk import ROW_ID_COLUMN, Chunk, ChunkError
from viewer.store.entity_db import EntityDb

DATA = Path(__file__).resolve().parents[1] / "data"
I64_MAX = np.iinfo(np.int64).max


def _seed_batches() -> list[tuple[pa.RecordBatch, bool | None]]:
    out = []
    for path in sorted(DATA.glob("*.rrd")):
        msgs, _ = read_rrd(path)
        for msg in msgs:
            if isinstance(msg, ArrowMsg):
                out.append((decode_arrow_payload(msg), msg.is_static))
    return out


SEEDS = _seed_batches()

_TYPES = [
    pa.int64(), pa.int32(), pa.float64(), pa.string(), pa.binary(), pa.binary(16),
    pa.binary(8), pa.null(), pa.bool_(), pa.timestamp("s"), pa.timestamp("ms"),
    pa.timestamp("us", tz="UTC"), pa.duration("ms"), pa.date32(),
    pa.list_(pa.float64()), pa.large_list(pa.int32()), pa.list_(pa.string()),
    pa.struct([("x", pa.float32())]), pa.dictionary(pa.int8(), pa.string()),
    pa.list_(pa.list_(pa.uint8())), pa.list_(pa.float32(), 3),
]
_KINDS = [b"data", b"index", b"control", b"", b"bogus", b"\xff\xfe"]
_META_KEYS = [b"rerun:kind", b"rerun:index_name", b"rerun:is_sorted", b"rerun:component",
              b"ARROW:extension:name"]
_SCHEMA_KEYS = [b"rerun:entity_path", b"rerun:id", b"rerun:is_static", b"sorbet:version"]
_TEXTS = [b"", b"/", b"/a/b", b"//x", b"\xff\xfe", b"chunk_", b"chunk_" + b"0" * 32,
          b"chunk_" + b"z" * 32, b"0123456789abcdef", b"a" * 300, b"/with space/\\n"]


def _random_array(draw: st.DrawFn, type_: pa.DataType, n: int) -> pa.Array:
    """An array of ``type_`` and length n: nulls, or values drawn to fit the type."""
    if draw(st.booleans()) or pa.types.is_null(type_):
        return pa.nulls(n, type_)
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    try:
        if pa.types.is_fixed_size_binary(type_):
            return pa.array([rng.bytes(type_.byte_width) for _ in range(n)], type=type_)
        if pa.types.is_integer(type_) or pa.types.is_temporal(type_):
            ints = rng.integers(-(2**40), 2**40, n)
            base = pa.array(ints, type=pa.int64()).cast(pa.int32(), safe=False) \
                if type_.bit_width == 32 else pa.array(ints, type=pa.int64())
            return base.view(type_) if type_.bit_width in (32, 64) else pa.nulls(n, type_)
        if pa.types.is_list(type_) or pa.types.is_large_list(type_):
            return pa.array([[1] * int(k) for k in rng.integers(0, 3, n)]).cast(type_)
        return pa.array([None] * n, type=type_)
    except (pa.ArrowException, ValueError, TypeError):
        return pa.nulls(n, type_)


def _bad_offsets_list(draw: st.DrawFn, n: int) -> pa.Array:
    """A list<float64> with non-monotonic offsets: pyarrow's basic validation (what an IPC
    read does) accepts it, only a full validation would not."""
    size = draw(st.integers(0, 5))
    child = pa.array(np.arange(size, dtype=np.float64))
    offsets = [draw(st.integers(0, size)) for _ in range(n + 1)]
    try:
        return pa.ListArray.from_arrays(pa.array(offsets, type=pa.int32()), child)
    except (pa.ArrowException, ValueError):
        return pa.nulls(n, pa.list_(pa.float64()))


@st.composite
def mutated_batches(draw: st.DrawFn) -> tuple[pa.RecordBatch, bool | None]:
    batch, is_static = SEEDS[draw(st.integers(0, len(SEEDS) - 1))]
    fields = list(batch.schema)
    arrays = list(batch.columns)
    meta = dict(batch.schema.metadata or {})
    n = batch.num_rows
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from([
            "drop", "rename", "retype", "kind", "field_meta", "schema_meta", "nulls",
            "slice", "empty", "duplicate", "bad_offsets", "static_flag", "length",
        ]))
        i = draw(st.integers(0, max(0, len(fields) - 1)))
        if op == "drop" and fields:
            del fields[i], arrays[i]
        elif op == "rename" and fields:
            name = draw(st.sampled_from([ROW_ID_COLUMN, "frame", "time", "", "x", "é"]))
            fields[i] = fields[i].with_name(name)
        elif op == "retype" and fields:
            type_ = draw(st.sampled_from(_TYPES))
            arrays[i] = _random_array(draw, type_, n)
            fields[i] = pa.field(fields[i].name, type_, metadata=fields[i].metadata)
        elif op == "kind" and fields:
            fm = dict(fields[i].metadata or {})
            fm[b"rerun:kind"] = draw(st.sampled_from(_KINDS))
            fields[i] = fields[i].with_metadata(fm)
        elif op == "field_meta" and fields:
            fm = dict(fields[i].metadata or {})
            key = draw(st.sampled_from(_META_KEYS))
            if draw(st.booleans()) and key in fm:
                del fm[key]
            else:
                fm[key] = draw(st.sampled_from(_TEXTS + [b"frame", b"time", b"true"]))
            fields[i] = fields[i].with_metadata(fm)
        elif op == "schema_meta":
            key = draw(st.sampled_from(_SCHEMA_KEYS))
            if draw(st.booleans()):
                meta.pop(key, None)
            else:
                meta[key] = draw(st.sampled_from(_TEXTS))
        elif op == "nulls" and fields:
            mask = pa.array(np.array([draw(st.booleans()) for _ in range(n)], dtype=bool))
            try:
                # an array an earlier step corrupted (offsets) can make pyarrow's kernels
                # abort the process instead of raising: only valid arrays go through if_else
                arrays[i].validate(full=True)
                arrays[i] = pc.if_else(mask, pa.nulls(n, arrays[i].type), arrays[i])
            except (pa.ArrowException, ValueError, TypeError):
                arrays[i] = pa.nulls(n, fields[i].type)
        elif op in ("slice", "empty") and n:
            start = draw(st.integers(0, n))
            length = 0 if op == "empty" else draw(st.integers(0, n - start))
            arrays = [a.slice(start, length) for a in arrays]
            n = length
        elif op == "duplicate" and fields:
            fields.append(fields[i])
            arrays.append(arrays[i])
        elif op == "bad_offsets":
            fields.append(pa.field("Bad:offsets", pa.list_(pa.float64()),
                                   metadata={b"rerun:kind": b"data"}))
            arrays.append(_bad_offsets_list(draw, n))
        elif op == "static_flag":
            is_static = draw(st.sampled_from([None, True, False]))
        elif op == "length" and fields and n:
            arrays[i] = arrays[i].slice(0, n - 1)  # one column shorter than the rest
    schema = pa.schema(fields, metadata=meta)
    try:
        out = pa.RecordBatch.from_arrays(arrays, schema=schema)
    except (pa.ArrowException, ValueError, TypeError):
        out = batch  # pyarrow refused the mutation itself: fuzz the seed then
    return out, is_static


def check_chunk(chunk: Chunk, batch: pa.RecordBatch) -> None:
    """A built chunk holds together and can be stored and queried."""
    n = chunk.num_rows
    assert n == batch.num_rows and chunk.row_ids.shape == (n, 2)
    assert chunk.nbytes >= 0 and chunk.is_static == (not chunk.timelines)
    for tc in chunk.timelines.values():
        assert len(tc.times) == n and len(tc.sorted_times) == n
        if n:
            assert tc.min <= tc.max and tc.min == int(tc.sorted_times[0])
    for arr in chunk.components.values():
        assert len(arr) == n
    db = EntityDb(StoreId(StoreKind.RECORDING, "fuzz", "fuzz"))
    db.add_chunk(chunk)
    path = chunk.entity_path
    for comp in chunk.components:
        db.latest_static(path, comp)
        for tl in chunk.timelines:
            db.latest_at(path, comp, tl, I64_MAX)
            db.range(path, comp, tl, -I64_MAX, I64_MAX)
            try:
                db.scalar_series(path, comp, tl)
            except ValueError as exc:  # documented: not a numeric list column
                assert "not" in str(exc)
    db.protected_chunk_ids(path)
    db.remove_chunks([chunk.id])
    assert db.num_rows == 0 and db.nbytes == 0


@settings(max_examples=300, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(mutated_batches())
def test_chunk_builder_builds_or_raises_chunk_error(case: tuple[pa.RecordBatch, bool | None]
                                                    ) -> None:
    batch, is_static = case
    try:
        chunk = Chunk.from_record_batch(batch, is_static=is_static)
    except ChunkError as exc:
        assert str(exc)  # names the problem
        return
    check_chunk(chunk, batch)


@pytest.mark.parametrize("k", range(len(SEEDS)))
def test_every_seed_batch_builds(k: int) -> None:
    batch, is_static = SEEDS[k]
    check_chunk(Chunk.from_record_batch(batch, is_static=is_static), batch)


# ---------------------------------------------------------------------- regressions found

def _scalar_batch(field_meta: dict[bytes, bytes], index_meta: dict[bytes, bytes]) -> pa.RecordBatch:
    fields = [
        pa.field(ROW_ID_COLUMN, pa.binary(16), metadata={b"rerun:kind": b"control"}),
        pa.field("frame", pa.int64(), metadata={b"rerun:kind": b"index", **index_meta}),
        pa.field("Scalars:scalars", pa.list_(pa.float64()),
                 metadata={b"rerun:kind": b"data", **field_meta}),
    ]
    arrays = [pa.array([bytes(16)], type=pa.binary(16)), pa.array([3], type=pa.int64()),
              pa.array([[1.5]], type=pa.list_(pa.float64()))]
    return pa.RecordBatch.from_arrays(
        arrays, schema=pa.schema(fields, metadata={b"rerun:entity_path": b"/e"}))


def test_non_utf8_component_metadata_keeps_the_data() -> None:
    # found by the fuzzer: UnicodeDecodeError escaped from the descriptor parsing
    batch = _scalar_batch({b"rerun:component": b"\xff\xfe", b"rerun:archetype": b"A\xff"}, {})
    chunk = Chunk.from_record_batch(batch)
    desc = chunk.descriptors["Scalars:scalars"]
    assert desc.component == "\ufffd\ufffd" and desc.archetype == "A\ufffd"
    check_chunk(chunk, batch)


def test_non_utf8_timeline_name_is_a_chunk_error() -> None:
    # found by the fuzzer: UnicodeDecodeError escaped from rerun:index_name
    batch = _scalar_batch({}, {b"rerun:index_name": b"\xff\xfe"})
    with pytest.raises(ChunkError, match="timeline name that is not UTF-8"):
        Chunk.from_record_batch(batch)


def test_non_monotonic_list_offsets_do_not_crash_queries() -> None:
    values = pa.ListArray.from_arrays(pa.array([0, 3, 1], type=pa.int32()),
                                      pa.array([1.0, 2.0, 3.0]))
    batch = _scalar_batch({}, {})
    batch = pa.RecordBatch.from_arrays(
        [pa.array([bytes(16), bytes(15) + b"\x01"], type=pa.binary(16)),
         pa.array([1, 2], type=pa.int64()), values], schema=batch.schema)
    try:
        chunk = Chunk.from_record_batch(batch)
    except ChunkError:
        return
    check_chunk(chunk, batch)
