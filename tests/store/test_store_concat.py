"""Chunk.concat: merged chunks hold exactly the rows of their parts."""

from __future__ import annotations

import pyarrow as pa
import pytest

from viewer.store.chunk import ROW_ID_COLUMN, Chunk, ChunkError


def _by_entity(mixed_chunks, path: str) -> list[Chunk]:
    return [
        Chunk.from_record_batch(c.to_record_batch(), is_static=c.is_static)
        for c in mixed_chunks
        if c.entity_path == path and not c.is_static
    ]


def test_concat_real_chunks_keeps_every_row(mixed_chunks) -> None:
    parts = _by_entity(mixed_chunks, "/plots/sine")
    assert len(parts) >= 3
    merged = Chunk.concat(parts)
    assert merged.id == parts[0].id and merged.chunk_id_str == parts[0].chunk_id_str
    assert merged.source_chunks == len(parts)
    assert merged.num_rows == sum(p.num_rows for p in parts)
    assert merged.row_ids.tolist() == [r for p in parts for r in p.row_ids.tolist()]
    for name, tc in merged.timelines.items():
        expected = [t for p in parts for t in p.timelines[name].times.tolist()]
        assert tc.times.tolist() == expected
        assert tc.is_sorted == (expected == sorted(expected))
        assert tc.kind is parts[0].timelines[name].kind
    values = [v for p in parts for v in p.components["Scalars:scalars"].to_pylist()]
    assert merged.components["Scalars:scalars"].to_pylist() == values
    assert merged.descriptors == parts[0].descriptors

    batch = merged.to_record_batch()
    meta = batch.schema.metadata
    assert meta[b"rerun:entity_path"] == b"/plots/sine"
    assert meta[b"rerun:id"] == parts[0].chunk_id_str.encode()
    frame_field = batch.schema.field("frame")
    assert frame_field.metadata[b"rerun:kind"] == b"index"
    assert (frame_field.metadata.get(b"rerun:is_sorted") == b"true") == merged.timelines[
        "frame"
    ].is_sorted
    assert batch.schema.field("sim_time").type == pa.timestamp("ns")
    assert batch.schema.field("elapsed").type == pa.duration("ns")
    # A merged chunk rebuilds to the same chunk.
    again = Chunk.from_record_batch(batch)
    assert again.row_ids.tolist() == merged.row_ids.tolist()


def test_concat_of_merged_counts_sources(mixed_chunks) -> None:
    parts = _by_entity(mixed_chunks, "/plots/sine")
    left = Chunk.concat(parts[:2])
    both = Chunk.concat([left, *parts[2:]])
    assert both.source_chunks == len(parts)
    assert Chunk.concat([parts[0]]) is parts[0]


def test_missing_component_columns_become_null(mixed_chunks) -> None:
    (points,) = [p for p in _by_entity(mixed_chunks, "/world/points")][:1]
    batch = points.to_record_batch()
    keep = [i for i, f in enumerate(batch.schema) if f.name != "Points3D:colors"]
    no_colors = Chunk.from_record_batch(
        pa.RecordBatch.from_arrays(
            [batch.column(i) for i in keep], schema=pa.schema([batch.schema.field(i) for i in keep],
                                                             metadata=batch.schema.metadata)
        )
    )
    merged = Chunk.concat([no_colors, points])
    colors = merged.components["Points3D:colors"]
    n = no_colors.num_rows
    assert colors.to_pylist()[:n] == [None] * n
    assert colors.to_pylist()[n:] == points.components["Points3D:colors"].to_pylist()
    assert merged.valid_rows("Points3D:colors").tolist() == [False] * n + [True] * points.num_rows


def test_incompatible_chunks_are_refused(mixed_chunks) -> None:
    sine = _by_entity(mixed_chunks, "/plots/sine")[0]
    pair = _by_entity(mixed_chunks, "/plots/pair")[0]
    assert not Chunk.can_concat(sine, pair)  # different entity
    with pytest.raises(ChunkError, match="cannot merge"):
        Chunk.concat([sine, pair])

    static = Chunk.from_record_batch(sine.to_record_batch(), is_static=True)
    assert not Chunk.can_concat(sine, static)

    batch = sine.to_record_batch()
    keep = [i for i, f in enumerate(batch.schema) if f.name != "frame"]
    fewer = Chunk.from_record_batch(
        pa.RecordBatch.from_arrays(
            [batch.column(i) for i in keep],
            schema=pa.schema([batch.schema.field(i) for i in keep], metadata=batch.schema.metadata),
        )
    )
    assert not Chunk.can_concat(sine, fewer)  # missing timeline

    idx = batch.schema.get_field_index("Scalars:scalars")
    field = batch.schema.field(idx)
    as_float32 = batch.set_column(
        idx, field.with_type(pa.list_(pa.float32())), batch.column(idx).cast(pa.list_(pa.float32()))
    )
    other_type = Chunk.from_record_batch(as_float32)
    assert not Chunk.can_concat(sine, other_type)
    assert Chunk.can_concat(sine, sine)


def test_sorted_by_sorts_rows(mixed_chunks) -> None:
    unsorted = next(c for c in _by_entity(mixed_chunks, "/plots/sine")
                    if not c.timelines["frame"].is_sorted)
    fixed = unsorted.sorted_by("frame")
    assert fixed.timelines["frame"].is_sorted
    assert fixed.timelines["frame"].times.tolist() == sorted(unsorted.timelines["frame"].times)
    pairs = sorted(zip(unsorted.timelines["frame"].times.tolist(),
                       unsorted.components["Scalars:scalars"].to_pylist(), strict=True))
    assert fixed.components["Scalars:scalars"].to_pylist() == [v for _, v in pairs]
    assert fixed.id == unsorted.id
    assert fixed.to_record_batch().schema.field("frame").metadata[b"rerun:is_sorted"] == b"true"
    assert fixed.to_record_batch().schema.field(ROW_ID_COLUMN).type == pa.binary(16)
