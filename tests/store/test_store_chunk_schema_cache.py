"""The per-schema plan cache in `Chunk.from_record_batch` must never hand one schema's
field roles to another: chunks of one entity share a plan only when their IPC schema
messages are equal apart from ``rerun:id`` (which differs per chunk). Batches go through a
real encode/decode round trip so the cache is keyed as in the ingest worker."""

from __future__ import annotations

import pyarrow as pa
import pytest

from viewer.log.arrow import decode_arrow_payload_keyed, encode_record_batch
from viewer.log.messages import StoreId, StoreKind, Tuid
from viewer.store import chunk as chunk_module
from viewer.store.chunk import ROW_ID_COLUMN, Chunk, ChunkError, chunk_id_to_str

CONTROL = {"rerun:kind": "control"}
DATA = {"rerun:kind": "data", "rerun:component": "Points:x"}


def _index(name: str) -> dict[str, str]:
    return {"rerun:kind": "index", "rerun:index_name": name}


def _batch(n: int, chunk_inc: int, columns: dict[str, tuple[pa.Array, dict]],
           path: str = "/cache/e") -> pa.RecordBatch:
    rid = pa.array([Tuid(100 * chunk_inc + i, i).to_bytes() for i in range(n)], pa.binary(16))
    cols = {ROW_ID_COLUMN: (rid, CONTROL), **columns}
    fields = [pa.field(k, a.type, metadata=m) for k, (a, m) in cols.items()]
    meta = {"rerun:entity_path": path, "rerun:id": "chunk_" + str(Tuid(7, chunk_inc))}
    return pa.RecordBatch.from_arrays([a for a, _ in cols.values()],
                                      schema=pa.schema(fields, metadata=meta))


STORE = StoreId(StoreKind.RECORDING, "rec", "app")


def _chunk(batch: pa.RecordBatch, **kwargs: object) -> Chunk:
    decoded, key = decode_arrow_payload_keyed(encode_record_batch(batch, STORE))
    assert key is not None
    return Chunk.from_record_batch(decoded, schema_key=key, **kwargs)


def test_chunks_sharing_a_schema_keep_their_own_ids_rows_and_times() -> None:
    chunks = [
        _chunk(_batch(3, k, {
            "frame": (pa.array([k, k + 2, k + 1], pa.int64()), _index("frame")),
            "x": (pa.array([[float(k)], None, [1.0]]), DATA),
        }))
        for k in range(1, 4)
    ]
    for k, c in enumerate(chunks, start=1):
        assert c.id == Tuid(7, k).to_bytes()
        assert c.chunk_id_str == chunk_id_to_str(c.id) == "chunk_" + str(Tuid(7, k))
        assert c.timelines["frame"].times.tolist() == [k, k + 2, k + 1]
        assert (c.timelines["frame"].min, c.timelines["frame"].max) == (k, k + 2)
        assert c.timelines["frame"].order.tolist() == [0, 2, 1]
        assert c.row_ids[:, 0].tolist() == [100 * k, 100 * k + 1, 100 * k + 2]
        assert c.components["x"].to_pylist()[0] == [float(k)]
        assert c.descriptors["x"].component == "Points:x"
    # one plan for all three (a fourth schema key would mean the id leaked into the key)
    assert sum(1 for p in chunk_module._PLAN_CACHE.values()
               if str(p.entity_path) == "/cache/e" and len(p.names) == 3) == 1
    # descriptors are per chunk: changing one chunk's dict does not leak into the others
    chunks[0].descriptors.pop("x")
    assert "x" in chunks[1].descriptors


def test_same_entity_with_a_different_schema_gets_its_own_plan() -> None:
    a = _chunk(_batch(2, 1, {
        "frame": (pa.array([1, 2], pa.int64()), _index("frame")),
        "x": (pa.array([[1.0], [2.0]]), DATA),
    }))
    # same column names, but the index column now names another timeline, and the data
    # column carries another component: field metadata differs only
    b = _chunk(_batch(2, 2, {
        "frame": (pa.array([1, 2], pa.int64()), _index("tick")),
        "x": (pa.array([[1.0], [2.0]]), {"rerun:kind": "data", "rerun:component": "Other"}),
    }))
    # a different type for the same name, and an extra column
    c = _chunk(_batch(2, 3, {
        "frame": (pa.array([1, 2], pa.timestamp("ms")), _index("frame")),
        "x": (pa.array([[1.0], [2.0]]), DATA),
        "y": (pa.array([["a"], ["b"]]), DATA),
    }))
    assert list(a.timelines) == ["frame"] and list(b.timelines) == ["tick"]
    assert b.descriptors["x"].component == "Other"
    assert c.timelines["frame"].times.tolist() == [1_000_000, 2_000_000]
    assert set(c.components) == {"x", "y"}
    # and the first schema still maps to its own plan afterwards
    again = _chunk(_batch(2, 4, {
        "frame": (pa.array([5, 6], pa.int64()), _index("frame")),
        "x": (pa.array([[1.0], [2.0]]), DATA),
    }))
    assert list(again.timelines) == ["frame"] and again.descriptors["x"].component == "Points:x"


def test_per_chunk_checks_still_run_on_a_cached_schema() -> None:
    cols = {"frame": (pa.array([1, 2], pa.int64()), _index("frame"))}
    _chunk(_batch(2, 1, cols))  # plan now cached
    bad = {"frame": (pa.array([1, None], pa.int64()), _index("frame"))}
    with pytest.raises(ChunkError, match="nulls"):
        _chunk(_batch(2, 2, bad))


def test_static_flag_on_a_cached_schema() -> None:
    cols = {"frame": (pa.array([2, 1], pa.int64()), _index("frame")),
            "x": (pa.array([[1.0], [2.0]]), DATA)}
    timed = _chunk(_batch(2, 1, cols, path="/cache/static"))
    static = _chunk(_batch(2, 2, cols, path="/cache/static"), is_static=True)
    assert not timed.is_static and list(timed.timelines) == ["frame"]
    assert static.is_static and static.timelines == {}
