"""Fuzz the offsets of list columns: real component columns from tests/data whose offsets
buffer gets byte flips. Decoding trusts offsets, so the chunk builder must refuse every
corruption that would make a query read out of bounds (`ChunkError` naming the column),
and what it accepts must hold together under every query."""

from __future__ import annotations

import pyarrow as pa
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from test_store_fuzz import SEEDS, check_chunk

from viewer.store.chunk import Chunk, ChunkError

_LISTS = [(k, i) for k, (batch, _) in enumerate(SEEDS)
          for i, f in enumerate(batch.schema)
          if (f.metadata or {}).get(b"rerun:kind") == b"data"
          and pa.types.is_list(f.type) and batch.num_rows > 0]


@st.composite
def corrupted(draw: st.DrawFn) -> tuple[pa.RecordBatch, bool | None, int]:
    k, i = draw(st.sampled_from(_LISTS))
    batch, is_static = SEEDS[k]
    arr = batch.column(i)
    offsets = bytearray(arr.buffers()[1].to_pybytes())
    for _ in range(draw(st.integers(1, 3))):
        pos = draw(st.integers(0, len(offsets) - 1))
        offsets[pos] ^= draw(st.integers(1, 255))
    try:  # pyarrow itself refuses first/last offsets out of bounds: nothing to test then
        bad = pa.Array.from_buffers(arr.type, len(arr),
                                    [arr.buffers()[0], pa.py_buffer(offsets)],
                                    children=[arr.values], offset=arr.offset)
        cols = list(batch.columns)
        cols[i] = bad
        out = pa.RecordBatch.from_arrays(cols, schema=batch.schema)
    except pa.ArrowInvalid:
        assume(False)
    return out, is_static, i


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(corrupted())
def test_flipped_offsets_are_refused_or_harmless(case) -> None:  # noqa: ANN001
    batch, is_static, column = case
    try:
        chunk = Chunk.from_record_batch(batch, is_static=is_static)
    except ChunkError as exc:
        assert batch.schema.field(column).name in str(exc)
        return
    batch.column(column).validate(full=True)  # accepted only when really valid
    check_chunk(chunk, batch)
