"""Chunk building on real rerun-sdk batches, and clear errors on bad ones."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from viewer.log.messages import Tuid
from viewer.log.sorbet import parse_chunk_id
from viewer.store.chunk import ROW_ID_COLUMN, Chunk, ChunkError, TimelineKind
from viewer.store.entity_path import EntityPath

KINDS = {
    pa.int64(): TimelineKind.SEQUENCE,
    pa.timestamp("ns"): TimelineKind.TIMESTAMP,
    pa.duration("ns"): TimelineKind.DURATION,
}


def _field_meta(field: pa.Field) -> dict[str, str]:
    return {k.decode(): v.decode() for k, v in (field.metadata or {}).items()}


def test_chunks_match_rerun_sdk(mixed_chunks) -> None:
    seen_entities = set()
    for rr_chunk in mixed_chunks:
        batch = rr_chunk.to_record_batch()
        chunk = Chunk.from_record_batch(batch, is_static=rr_chunk.is_static)
        seen_entities.add(str(chunk.entity_path))

        assert chunk.chunk_id_str == rr_chunk.id
        assert chunk.id == Tuid.from_bytes(chunk.id).to_bytes()
        assert chunk.chunk_id_str == "chunk_" + str(Tuid.from_bytes(chunk.id))
        assert chunk.entity_path == EntityPath.parse(rr_chunk.entity_path)
        assert chunk.num_rows == rr_chunk.num_rows == batch.num_rows
        assert chunk.is_static == rr_chunk.is_static
        assert set(chunk.timelines) == set(rr_chunk.timeline_names)
        assert chunk.to_record_batch() is batch
        assert chunk.nbytes >= batch.nbytes

        raw_ids = batch.column(ROW_ID_COLUMN).to_pylist()
        expected = [(Tuid.from_bytes(r).time_ns, Tuid.from_bytes(r).inc) for r in raw_ids]
        assert [tuple(map(int, r)) for r in chunk.row_ids] == expected

        for field, column in zip(batch.schema, batch.columns, strict=True):
            meta = _field_meta(field)
            if meta.get("rerun:kind") == "index":
                tc = chunk.timelines[meta["rerun:index_name"]]
                times = column.cast(pa.int64()).to_pylist()
                assert tc.kind is KINDS[field.type]
                assert tc.times.tolist() == times
                assert tc.is_sorted == (times == sorted(times))
                assert (tc.min, tc.max) == (min(times), max(times))
                if tc.is_sorted:
                    assert tc.order is None
                else:
                    assert tc.times[tc.order].tolist() == sorted(times)
                    assert tc.sorted_times.tolist() == sorted(times)
            elif meta.get("rerun:kind") == "data":
                assert chunk.components[field.name].equals(column)
                desc = chunk.descriptors[field.name]
                assert desc.component == meta["rerun:component"]
                assert desc.archetype == meta["rerun:archetype"]
                assert desc.component_type == meta["rerun:component_type"]
    assert {"/plots/sine", "/plots/pair", "/world/points", "/camera/image", "/logs"} <= seen_entities


def test_unsorted_frames_are_detected(mixed_chunks) -> None:
    chunks = [Chunk.from_record_batch(c.to_record_batch()) for c in mixed_chunks]
    sine = [c for c in chunks if str(c.entity_path) == "/plots/sine"]
    assert any(not c.timelines["frame"].is_sorted for c in sine)
    assert all(c.timelines["log_time"].is_sorted for c in sine)
    all_frames = np.concatenate([c.timelines["frame"].times for c in sine])
    assert sorted(all_frames.tolist()) == list(range(16))


def test_static_chunks_have_no_timelines(mixed_chunks) -> None:
    static = [c for c in mixed_chunks if c.is_static]
    assert {c.entity_path for c in static} >= {"/world/origin", "/world/points", "/__properties"}
    for rr_chunk in static:
        chunk = Chunk.from_record_batch(rr_chunk.to_record_batch())  # no flag: inferred
        assert chunk.is_static
        assert chunk.timelines == {}


def test_image_and_text_columns(mixed_chunks) -> None:
    chunks = [Chunk.from_record_batch(c.to_record_batch()) for c in mixed_chunks]
    image = next(c for c in chunks if str(c.entity_path) == "/camera/image")
    assert {"Image:buffer", "Image:format"} <= set(image.components)
    fmt = image.components["Image:format"][0].values[0].as_py()
    assert (fmt["width"], fmt["height"]) == (6, 4)
    assert len(image.components["Image:buffer"][0].values[0]) == 4 * 6 * 3
    logs = next(c for c in chunks if str(c.entity_path) == "/logs")
    assert logs.components["TextLog:text"][0].as_py() == ["frame 0"]
    assert logs.descriptors["TextLog:level"].component_type == "rerun.components.TextLogLevel"


def test_is_static_flag_overrides_timelines(mixed_chunks) -> None:
    batch = next(c for c in mixed_chunks if not c.is_static).to_record_batch()
    chunk = Chunk.from_record_batch(batch, is_static=True)
    assert chunk.is_static and chunk.timelines == {}


def test_chunk_id_parsing() -> None:
    tuid = Tuid(0x18EC3CB3F9BCDC99, 0x2D1FC7D84CECA86C)
    assert parse_chunk_id(b"chunk_18EC3CB3F9BCDC992d1fc7d84ceca86c") == tuid.to_bytes()
    assert parse_chunk_id(tuid.to_bytes()) == tuid.to_bytes()
    assert parse_chunk_id(b"chunk_nothex") is None
    assert parse_chunk_id(None) is None


def _batch(columns: dict[str, tuple[pa.Array, dict[str, str] | None]], meta: dict | None):
    fields = [pa.field(name, arr.type, metadata=m) for name, (arr, m) in columns.items()]
    return pa.RecordBatch.from_arrays(
        [arr for arr, _ in columns.values()], schema=pa.schema(fields, metadata=meta)
    )


def _row_ids(n: int) -> pa.Array:
    return pa.array([Tuid(1000 + i, i).to_bytes() for i in range(n)], type=pa.binary(16))


GOOD_META = {"rerun:entity_path": "/a/b", "rerun:id": "chunk_" + str(Tuid(5, 6))}
CONTROL = {"rerun:kind": "control"}
INDEX = {"rerun:kind": "index", "rerun:index_name": "frame"}
DATA = {"rerun:kind": "data"}


def test_hand_made_batch_without_descriptors() -> None:
    batch = _batch(
        {
            ROW_ID_COLUMN: (_row_ids(3), CONTROL),
            "frame": (pa.array([3, 1, 2], pa.int64()), INDEX),
            "x": (pa.array([[1.0], None, [3.0, 4.0]]), DATA),
        },
        GOOD_META,
    )
    chunk = Chunk.from_record_batch(batch)
    assert chunk.id == Tuid(5, 6).to_bytes()
    assert chunk.entity_path == EntityPath.parse("/a/b")
    assert chunk.descriptors["x"].component == "x"
    assert chunk.timelines["frame"].order.tolist() == [1, 2, 0]
    assert chunk.valid_rows("x").tolist() == [True, False, True]


@pytest.mark.parametrize(
    ("columns", "meta", "message"),
    [
        ({ROW_ID_COLUMN: (_row_ids(1), CONTROL)}, {"rerun:id": "x"}, "rerun:entity_path"),
        (
            {
                ROW_ID_COLUMN: (_row_ids(1), CONTROL),
                "frame": (pa.array([1.5]), INDEX),
            },
            GOOD_META,
            "expected int64, timestamp or duration",
        ),
        ({"x": (pa.array([[1]]), DATA)}, GOOD_META, "no rerun.controls.RowId"),
        (
            {ROW_ID_COLUMN: (_row_ids(1), CONTROL), "x": (pa.array([1]), DATA)},
            GOOD_META,
            "must be a list array",
        ),
        (
            {ROW_ID_COLUMN: (pa.array([b"short"], pa.binary(5)), CONTROL)},
            GOOD_META,
            "fixed_size_binary[16]",
        ),
        (
            {
                ROW_ID_COLUMN: (_row_ids(2), CONTROL),
                "frame": (pa.array([1, None], pa.int64()), INDEX),
            },
            GOOD_META,
            "nulls",
        ),
        (
            {ROW_ID_COLUMN: (_row_ids(1), CONTROL), "x": (pa.array([[1]]), {"rerun:kind": "?"})},
            GOOD_META,
            "unknown rerun:kind",
        ),
    ],
)
def test_bad_batches_raise_chunk_error(columns, meta, message) -> None:
    with pytest.raises(ChunkError, match=message.replace("[", r"\[").replace("]", r"\]")):
        Chunk.from_record_batch(_batch(columns, meta))


def test_not_a_record_batch() -> None:
    with pytest.raises(ChunkError, match="RecordBatch"):
        Chunk.from_record_batch("nope")  # type: ignore[arg-type]


def test_missing_chunk_id_gets_a_unique_fallback() -> None:
    cols = {ROW_ID_COLUMN: (_row_ids(1), CONTROL), "x": (pa.array([[1]]), DATA)}
    a = Chunk.from_record_batch(_batch(cols, {"rerun:entity_path": "/a"}))
    b = Chunk.from_record_batch(_batch(cols, {"rerun:entity_path": "/a"}))
    assert a.id != b.id and len(a.id) == 16
    given = Tuid(9, 9).to_bytes()
    c = Chunk.from_record_batch(_batch(cols, {"rerun:entity_path": "/a"}), chunk_id=given)
    assert c.id == given
    d = Chunk.from_record_batch(_batch(cols, {"rerun:entity_path": "/a"}), chunk_id=Tuid(9, 9))
    assert d.id == given


def test_sliced_columns_are_read_at_their_offset(mixed_chunks) -> None:
    rr_chunk = next(c for c in mixed_chunks if c.entity_path == "/plots/sine" and c.num_rows > 3)
    batch = rr_chunk.to_record_batch()
    full = Chunk.from_record_batch(batch)
    part = Chunk.from_record_batch(batch.slice(2, 2))
    assert part.row_ids.tolist() == full.row_ids[2:4].tolist()
    for name, tc in part.timelines.items():
        assert tc.times.tolist() == full.timelines[name].times[2:4].tolist()


def test_batch_read_back_from_ipc_builds_the_same_chunk(mixed_chunks) -> None:
    """Our decoder hands over batches read from Arrow IPC: same chunk as from the SDK."""
    for rr_chunk in mixed_chunks:
        batch = rr_chunk.to_record_batch()
        sink = pa.BufferOutputStream()
        with pa.ipc.new_stream(sink, batch.schema) as writer:
            writer.write_batch(batch)
        (decoded,) = list(pa.ipc.open_stream(sink.getvalue()))
        a = Chunk.from_record_batch(batch)
        b = Chunk.from_record_batch(decoded)
        assert (a.id, a.entity_path, a.is_static) == (b.id, b.entity_path, b.is_static)
        assert a.row_ids.tolist() == b.row_ids.tolist()
        assert {k: v.times.tolist() for k, v in a.timelines.items()} == {
            k: v.times.tolist() for k, v in b.timelines.items()
        }
        assert all(a.components[k].equals(b.components[k]) for k in a.components)


def test_rows_sorted_is_lexicographic_over_its_keys() -> None:
    from viewer.store.chunk import rows_sorted

    rng = np.random.default_rng(3)
    for _ in range(2000):
        n = int(rng.integers(0, 6))
        t, hi, lo = (rng.integers(0, 3, n) for _ in range(3))
        rows = list(zip(t.tolist(), hi.tolist(), lo.tolist(), strict=True))
        assert rows_sorted(t, hi, lo) == (rows == sorted(rows))
        pairs = [r[1:] for r in rows]
        assert rows_sorted(hi, lo) == (pairs == sorted(pairs))
    # a tie on the first key is decided by the second, a tie on both by the third
    assert rows_sorted(np.array([1, 1, 2]), np.array([5, 4, 0]), np.array([0, 0, 0])) is False
    assert rows_sorted(np.array([1, 1]), np.array([4, 4]), np.array([1, 0])) is False
    assert rows_sorted(np.array([1, 1]), np.array([4, 4]), np.array([0, 0])) is True
