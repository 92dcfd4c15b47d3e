"""EntityDb bookkeeping: counters, timelines, store info, removal, duplicates."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from viewer.log.messages import SetStoreInfo, StoreId, StoreInfo, StoreKind, Tuid
from viewer.store.chunk import ROW_ID_COLUMN, Chunk, TimelineKind
from viewer.store.entity_db import EntityDb
from viewer.store.entity_path import EntityPath

SID = StoreId(StoreKind.RECORDING, "rec", "app")


def scalar_chunk(index: int, entity: str, frames: list[int]) -> Chunk:
    n = len(frames)
    fields = [
        pa.field(ROW_ID_COLUMN, pa.binary(16), metadata={"rerun:kind": "control"}),
        pa.field("frame", pa.int64(), metadata={"rerun:kind": "index", "rerun:index_name": "frame"}),
        pa.field("Scalars:scalars", pa.list_(pa.float64()), metadata={"rerun:kind": "data"}),
    ]
    times = np.asarray(frames, dtype=np.int64)
    rid = np.zeros((n, 2), dtype=">u8")
    rid[:, 0] = index * 10_000_000 + np.arange(n)
    arrays = [
        pa.FixedSizeBinaryArray.from_buffers(pa.binary(16), n, [None, pa.py_buffer(rid.tobytes())]),
        pa.array(times),
        pa.ListArray.from_arrays(pa.array(np.arange(n + 1, dtype=np.int32)), pa.array(times * 1.0)),
    ]
    meta = {"rerun:entity_path": entity, "rerun:id": "chunk_" + str(Tuid(index, 0))}
    return Chunk.from_record_batch(
        pa.RecordBatch.from_arrays(arrays, schema=pa.schema(fields, metadata=meta))
    )


def test_counters_and_tree(mixed_chunks) -> None:
    db = EntityDb(SID)
    new_entities: list[EntityPath] = []
    new_timelines: list[str] = []
    chunks = []
    for rr_chunk in mixed_chunks:
        chunk = Chunk.from_record_batch(rr_chunk.to_record_batch(), is_static=rr_chunk.is_static)
        chunks.append(chunk)
        added = db.add_chunk(chunk)
        assert added.chunk is chunk and not added.duplicate
        new_entities.extend(added.new_entities)
        new_timelines.extend(added.new_timelines)
    assert db.num_chunks == len(mixed_chunks)
    assert db.num_rows == sum(c.num_rows for c in mixed_chunks)
    assert db.nbytes == sum(c.nbytes for c in chunks)
    assert sorted(new_timelines) == ["elapsed", "frame", "log_time", "sim_time"]
    assert db.timelines()["sim_time"] is TimelineKind.TIMESTAMP
    assert db.timelines()["elapsed"] is TimelineKind.DURATION
    assert db.timelines()["frame"] is TimelineKind.SEQUENCE
    assert db.time_range("frame") == (0, 15)
    assert db.time_range("elapsed") == (0, 15 * 500_000_000)
    assert db.time_range("nope") is None
    assert sorted(new_entities) == sorted(set(new_entities))  # each reported once
    assert set(db.tree.paths()) == set(new_entities)
    assert EntityPath.parse("/world") in new_entities  # ancestors are created too
    assert db.tree.root.subtree_rows == db.num_rows
    rows = db.rows_per_entity
    assert rows[EntityPath.parse("/plots/sine")] == 16
    assert db.components(EntityPath.parse("/world/points")) == [
        "Points3D:colors", "Points3D:positions",
    ]
    assert list(db.timelines_of(EntityPath.parse("/world/origin"))) == []
    assert list(db.timelines_of(EntityPath.parse("/logs"))) == [
        "elapsed", "frame", "log_time", "sim_time",
    ]
    assert EntityPath.parse("/world") not in db.entities()  # no data of its own


def test_duplicate_chunk_is_ignored() -> None:
    db = EntityDb(SID)
    chunk = scalar_chunk(1, "/a", [1, 2])
    db.add_chunk(chunk)
    gen, entity_gen = db.generation, db.entity_generation(EntityPath.parse("/a"))
    again = db.add_chunk(scalar_chunk(1, "/a", [1, 2]))
    assert again.duplicate
    assert (db.generation, db.entity_generation(EntityPath.parse("/a"))) == (gen, entity_gen)
    db.add_chunk(scalar_chunk(2, "/a", [3]))
    assert db.generation == gen + 1
    assert db.entity_generation(EntityPath.parse("/a")) == entity_gen + 1
    assert db.entity_generation(EntityPath.parse("/b")) == -1
    db.remove_chunks([chunk.id])
    assert db.generation == gen + 2
    assert db.num_rows == 1 and db.num_chunks == 1


def test_store_info_latest_wins_and_is_counted() -> None:
    db = EntityDb(SID)
    assert db.store_info is None and db.store_info_count == 0
    first = StoreInfo(SID, store_version=1)
    second = StoreInfo(StoreId(StoreKind.RECORDING, "rec", "renamed"), store_version=2)
    db.set_store_info(first)
    db.set_store_info(SetStoreInfo(second, Tuid(1, 2)))
    assert db.store_info == second and db.store_info_count == 2


def test_out_of_order_inserts_and_removal() -> None:
    db = EntityDb(SID)
    chunks = [scalar_chunk(i, "/a/b", list(range(10 * i, 10 * i + 10))) for i in range(6)]
    for i in [3, 0, 5, 1, 4, 2]:
        db.add_chunk(chunks[i])
    path = EntityPath.parse("/a/b")
    times, values = db.scalar_series(path, "Scalars:scalars", "frame")
    assert times.tolist() == list(range(60))
    assert values.tolist() == [float(t) for t in range(60)]
    assert not times.flags.writeable

    assert [c.id for c in db.chunks_by_age()] == [chunks[i].id for i in [3, 0, 5, 1, 4, 2]]
    assert db.remove_chunks([chunks[5].id]) == [chunks[5]]
    assert db.remove_chunks([chunks[5].id]) == []  # already gone
    assert db.time_range("frame") == (0, 49)
    times, _ = db.scalar_series(path, "Scalars:scalars", "frame")
    assert times.tolist() == list(range(50))
    assert db.latest_at(path, "Scalars:scalars", "frame", 100).time == 49
    assert db.num_rows == 50 and db.tree.node(path).own_rows == 50

    dropped = db.remove_chunks(c.id for c in list(db.chunks_by_age())[:2])  # the oldest two
    assert [c.id for c in dropped] == [chunks[3].id, chunks[0].id]
    assert db.time_range("frame") == (10, 49)
    assert db.latest_at(path, "Scalars:scalars", "frame", 5) is None
    res = db.range(path, "Scalars:scalars", "frame", 0, 100)
    assert res.times.tolist() == [t for t in range(10, 50) if not 30 <= t < 40]

    for chunk in list(db.chunks_by_age()):
        db.remove_chunks([chunk.id])
    assert db.entities() == [] and db.num_rows == 0 and db.nbytes == 0
    assert db.time_range("frame") is None
    assert path in db.tree  # nodes stay for the UI


def test_queries_on_unknown_things_are_empty() -> None:
    db = EntityDb(SID)
    db.add_chunk(scalar_chunk(1, "/a", [1, 2, 3]))
    a = EntityPath.parse("/a")
    assert db.latest_at(EntityPath.parse("/x"), "Scalars:scalars", "frame", 5) is None
    assert db.latest_at(a, "Nope:nope", "frame", 5) is None
    assert db.latest_at(a, "Scalars:scalars", "other", 5) is None
    assert len(db.range(a, "Scalars:scalars", "other", 0, 5)) == 0
    empty = db.range(a, "Scalars:scalars", "frame", 10, 20)
    assert len(empty) == 0 and empty.values.type == pa.list_(pa.float64())
    t, v = db.scalar_series(a, "Nope:nope", "frame")
    assert len(t) == len(v) == 0


def test_scalar_series_large_is_vectorized() -> None:
    """Many rows in few chunks: the result is right and arrives as flat numpy arrays."""
    db = EntityDb(SID)
    n = 200_000
    for i in range(4):
        db.add_chunk(scalar_chunk(i, "/big", list(range(i * n, (i + 1) * n))))
    times, values = db.scalar_series(EntityPath.parse("/big"), "Scalars:scalars", "frame")
    assert times.dtype == np.int64 and values.dtype == np.float64
    assert len(times) == 4 * n
    np.testing.assert_array_equal(times, np.arange(4 * n))
    np.testing.assert_array_equal(values, np.arange(4 * n, dtype=np.float64))


def _list_chunk(index: int, frames: list[int], values: pa.Array) -> Chunk:
    n = len(frames)
    fields = [
        pa.field(ROW_ID_COLUMN, pa.binary(16), metadata={"rerun:kind": "control"}),
        pa.field("frame", pa.int64(), metadata={"rerun:kind": "index", "rerun:index_name": "frame"}),
        pa.field("v", values.type, metadata={"rerun:kind": "data"}),
    ]
    arrays = [
        pa.array([Tuid(index, i).to_bytes() for i in range(n)], pa.binary(16)),
        pa.array(frames, pa.int64()),
        values,
    ]
    meta = {"rerun:entity_path": "/m", "rerun:id": "chunk_" + str(Tuid(index, 99))}
    return Chunk.from_record_batch(
        pa.RecordBatch.from_arrays(arrays, schema=pa.schema(fields, metadata=meta))
    )


def test_scalar_series_mixed_numeric_types() -> None:
    db = EntityDb(SID)
    db.add_chunk(_list_chunk(1, [0, 1], pa.array([[1], [2, 20]], pa.list_(pa.int64()))))
    db.add_chunk(_list_chunk(2, [2, 3], pa.array([[3.5], None], pa.list_(pa.float32()))))
    db.add_chunk(_list_chunk(3, [4], pa.array([[4.0, 40.0]], pa.list_(pa.float64()))))
    m = EntityPath.parse("/m")
    times, values = db.scalar_series(m, "v", "frame")
    assert times.tolist() == [0, 1, 2, 4]
    assert values.tolist() == [1.0, 2.0, 3.5, 4.0]
    times, values = db.scalar_series(m, "v", "frame", instance=1)
    assert (times.tolist(), values.tolist()) == ([1, 4], [20.0, 40.0])


def test_scalar_series_refuses_text() -> None:
    db = EntityDb(SID)
    db.add_chunk(_list_chunk(1, [0], pa.array([["hello"]], pa.list_(pa.string()))))
    with pytest.raises(ValueError, match="not numbers"):
        db.scalar_series(EntityPath.parse("/m"), "v", "frame")


def test_range_over_chunks_of_different_list_types() -> None:
    db = EntityDb(SID)
    db.add_chunk(_list_chunk(1, [0, 1], pa.array([[1.0], [2.0]], pa.list_(pa.float64()))))
    db.add_chunk(_list_chunk(2, [2], pa.array([[3.0]], pa.list_(pa.float32()))))
    res = db.range(EntityPath.parse("/m"), "v", "frame", 0, 5)
    assert res.values.type == pa.list_(pa.float64())
    assert res.values.to_pylist() == [[1.0], [2.0], [3.0]]
