"""Compaction on insert (`viewer.store.compaction`): one-row chunks written by rerun-sdk end
up in a few chunks, and every query answers exactly as an uncompacted store of the same
chunks does (out-of-order times, a Clear, static data, plot series read while rows arrive),
and the memory governor still drops the oldest rows first."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from viewer.log.messages import ArrowMsg, StoreId, StoreKind
from viewer.log.reader import read_rrd
from viewer.store.chunk import Chunk
from viewer.store.compaction import MERGE_BUDGET, CompactionPolicy, EntityCompactor
from viewer.store.decode import chunk_from_msg
from viewer.store.entity_db import EntityDb
from viewer.store.entity_path import EntityPath
from viewer.store.memory import store_memory_bytes
from viewer.store.summary import summarize_db

UNBOUNDED = CompactionPolicy(budget_s=None)  # merge whenever due (no frame budget)
# tiny tiers (1 -> 4 -> 16 -> 64 rows): every tier merges, and final chunks form
DEEP = CompactionPolicy(fan_in=4, max_rows=64, budget_s=None)
SCALARS = ("sensors/a", "sensors/b")


def _write_live(path: Path, n: int, *, backwards: bool) -> None:
    """rerun-sdk with a batcher flushing every row, as ``rr.log`` at 100 Hz over gRPC sends:
    two Scalars entities and a TextLog; ``backwards``: the frame timeline steps back now and
    then, and a Clear and a static value are logged midway."""
    import rerun as rr

    rec = rr.RecordingStream(
        "compaction_tests", recording_id=path.stem,
        batcher_config=rr.ChunkBatcherConfig(flush_tick=1e6, flush_num_bytes=1 << 40,
                                             flush_num_rows=1),
    )
    rec.save(str(path))
    for i in range(n):
        frame = i - 7 if backwards and i % 10 == 9 else i
        rec.set_time("frame", sequence=frame)
        rec.set_time("sim_time", duration=frame * 0.01)
        rec.log(SCALARS[i % 2], rr.Scalars([float(i % 17), float(-i)]))
        if i % 5 == 0:
            rec.log("log", rr.TextLog(f"row {i}", level="INFO"))
        if backwards and i == n // 2:
            rec.log(SCALARS[0], rr.Clear(recursive=False))
            rec.log("log", rr.TextLog("static", level="WARN"), static=True)
    rec.flush()
    rec.disconnect()


def _chunks(path: Path) -> list[Chunk]:
    msgs, errors = read_rrd(path)
    assert not errors
    return [chunk_from_msg(m) for m in msgs if isinstance(m, ArrowMsg)]


@pytest.fixture(scope="module")
def live_chunks(rerun_home: Path, tmp_path_factory: pytest.TempPathFactory) -> list[Chunk]:
    path = tmp_path_factory.mktemp("compaction") / "live.rrd"
    _write_live(path, 1200, backwards=False)
    return _chunks(path)


@pytest.fixture(scope="module")
def messy_chunks(rerun_home: Path, tmp_path_factory: pytest.TempPathFactory) -> list[Chunk]:
    path = tmp_path_factory.mktemp("compaction") / "messy.rrd"
    _write_live(path, 700, backwards=True)
    return _chunks(path)


@pytest.fixture
def fresh_budget() -> Iterator[None]:
    """The process-wide merge budget, starting a new window (and left in a fresh one)."""
    MERGE_BUDGET.window_start = float("-inf")
    yield
    MERGE_BUDGET.window_start = float("-inf")
    MERGE_BUDGET.spent = 0.0


def _db(compaction: CompactionPolicy | bool) -> EntityDb:
    return EntityDb(StoreId(StoreKind.RECORDING, "compaction", "test"), compaction=compaction)


def _fill(chunks: list[Chunk], compaction: CompactionPolicy | bool) -> EntityDb:
    db = _db(compaction)
    for chunk in chunks:
        db.add_chunk(chunk)
    return db


def test_one_row_chunks_end_up_in_few_chunks(live_chunks) -> None:
    assert max(c.num_rows for c in live_chunks) == 1
    plain = _fill(live_chunks, False)
    db = _fill(live_chunks, UNBOUNDED)
    assert db.num_rows == plain.num_rows == len(live_chunks)
    # 600 rows per scalar entity: 18 chunks of 32 rows, 24 one-row chunks still waiting
    for name in SCALARS:
        entity = EntityPath.parse(name)
        assert len(db.chunks_of(entity)) == 18 + 24
        assert len(plain.chunks_of(entity)) == 600
        assert db.source_chunks_of(entity) == 600  # inspect / ingest count what was sent
    assert db.num_chunks < plain.num_chunks / 10
    assert summarize_db(db) == summarize_db(plain)
    assert db.num_source_chunks == plain.num_source_chunks
    stats = db.compaction_stats
    assert stats.merges > 0 and stats.chunks_absorbed == plain.num_chunks - db.num_chunks
    # what the memory limit counts follows the chunks held
    assert store_memory_bytes(db) < store_memory_bytes(plain) / 5


def test_merged_chunks_keep_the_first_id_and_its_age(live_chunks) -> None:
    db = _fill(live_chunks, UNBOUNDED)
    entity = EntityPath.parse(SCALARS[0])
    mine = [c for c in live_chunks if c.entity_path == entity]
    merged = db.chunks_of(entity)[0]
    assert merged.num_rows == 32 and merged.id == mine[0].id
    assert db.chunk(mine[0].id) is merged and db.chunk(mine[1].id) is None
    assert np.array_equal(merged.row_ids, np.concatenate([c.row_ids for c in mine[:32]]))
    # age = the first part's: it stays before every chunk inserted after that part
    order = [c.id for c in db.chunks_by_age()]
    assert order.index(mine[0].id) < order.index(db.chunks_of(EntityPath.parse("log"))[-1].id)
    # written back with its id and its rows' ids
    batch = merged.to_record_batch()
    assert batch.schema.metadata[b"rerun:id"] == merged.chunk_id_str.encode()
    assert Chunk.from_record_batch(batch).row_ids.tolist() == merged.row_ids.tolist()


def _all_queries(db: EntityDb) -> list[object]:
    """Every latest-at (at many times), range and scalar series of every entity, as plain
    values: equal lists mean equal answers."""
    out: list[object] = []
    for entity in db.entities():
        for component in db.components(entity):
            out.append(("static", str(entity), component, _latest(db.latest_static(entity, component))))
            for timeline in db.timelines_of(entity):
                lo, hi = db.time_range(timeline)  # type: ignore[misc]
                for t in np.linspace(lo - 1, hi + 1, 41).astype(np.int64).tolist():
                    hit = db.latest_at(entity, component, timeline, t)
                    out.append(("at", str(entity), component, timeline, t, _latest(hit)))
                for t0, t1 in ((lo, hi), (lo + (hi - lo) // 3, hi - (hi - lo) // 3)):
                    r = db.range(entity, component, timeline, t0, t1, include_shadowed=True)
                    out.append(("range", str(entity), component, timeline, r.times.tolist(),
                                r.row_ids.tolist(), r.values.to_pylist()))
                if component == "Scalars:scalars":
                    for instance in (0, 1):
                        times, values = db.scalar_series(entity, component, timeline,
                                                         instance=instance)
                        out.append(("series", str(entity), timeline, instance, times.tolist(),
                                    values.tolist()))
    return out


def _latest(hit: object) -> object:
    if hit is None:
        return None
    return (hit.time, str(hit.row_id), hit.value.to_pylist())  # type: ignore[attr-defined]


@pytest.mark.parametrize("policy", [UNBOUNDED, DEEP], ids=["default", "deep"])
def test_queries_answer_as_without_compaction(messy_chunks, policy) -> None:
    frames = [c.timelines["frame"].min for c in messy_chunks
              if str(c.entity_path) == "/" + SCALARS[1]]
    assert any(b < a for a, b in zip(frames, frames[1:], strict=False))  # out of order
    plain = _fill(messy_chunks, False)
    db = _fill(messy_chunks, policy)
    assert db.num_chunks < plain.num_chunks / 4
    entity = EntityPath.parse(SCALARS[0])
    assert "Clear:is_recursive" in db.components(entity)  # the Clear merged with the rows
    assert _all_queries(db) == _all_queries(plain)
    assert db.time_range("frame") == plain.time_range("frame")
    assert db.rows_per_entity == plain.rows_per_entity


@pytest.mark.parametrize(("every", "policy"), [(1, UNBOUNDED), (7, UNBOUNDED), (1, DEEP),
                                               (3, DEEP)])
def test_series_read_while_rows_arrive_match(messy_chunks, live_chunks, every: int,
                                             policy: CompactionPolicy) -> None:
    """A plot reads its series (a few chunks per frame, `max_chunks`) while rows arrive and
    merges replace the chunks it has read, half read or not read yet."""
    for chunks in (live_chunks, messy_chunks):
        plain = _db(False)
        db = _db(policy)
        entity = EntityPath.parse(SCALARS[1])
        for i, chunk in enumerate(chunks):
            plain.add_chunk(chunk)
            db.add_chunk(chunk)
            if i % every == 0:
                db.scalar_series(entity, "Scalars:scalars", "frame", max_chunks=3)
                db.scalar_band(entity, "Scalars:scalars", "frame", (0, 1), max_chunks=2)
        for _ in range(len(chunks)):  # finish the paced reads
            if not db.scalar_series_pending(entity, "Scalars:scalars", "frame"):
                break
            db.scalar_series(entity, "Scalars:scalars", "frame", max_chunks=3)
        for a, b in zip(db.scalar_series(entity, "Scalars:scalars", "frame"),
                        plain.scalar_series(entity, "Scalars:scalars", "frame"), strict=True):
            assert a.tolist() == b.tolist()
        band = db.scalar_band(entity, "Scalars:scalars", "frame", (0, 1))
        ref = plain.scalar_band(entity, "Scalars:scalars", "frame", (0, 1))
        for a, b in zip(band[:3], ref[:3], strict=True):
            assert a.tolist() == b.tolist()


@pytest.mark.parametrize("policy", [UNBOUNDED, DEEP], ids=["default", "deep"])
def test_merges_keep_a_live_series_appending(live_chunks, policy) -> None:
    """Rows only arrive after the newest: merging must not make the plot rebuild (its serial
    stays the same) while the series grows row by row."""
    db = _db(policy)
    entity = EntityPath.parse(SCALARS[0])
    serials = set()
    for chunk in live_chunks:
        db.add_chunk(chunk)
        if chunk.entity_path == entity:
            times, _ = db.scalar_series(entity, "Scalars:scalars", "frame")
            serials.add(db.scalar_series_serial(entity, "Scalars:scalars", "frame"))
    assert db.compaction_stats.merges > 20
    assert len(serials) == 1 and len(times) == 600


def test_memory_governor_still_drops_the_oldest(live_chunks) -> None:
    from viewer.ingest.memory_governor import MemoryGovernor

    db = _fill(live_chunks, UNBOUNDED)
    plain = _fill(live_chunks, False)
    latest = {(str(e), c): _latest(db.latest_at(e, c, "frame", 1 << 40))
              for e in db.entities() for c in db.components(e)}
    governor = MemoryGovernor(store_memory_bytes(db) // 2, headroom=0.0)
    for _ in range(200):  # one step per frame, each within its budget
        governor.step({db.store_id: db}, 0, 0.002)
        if store_memory_bytes(db) <= governor.limit_bytes and not governor.busy:
            break
    assert governor.dropped_rows_total > 0
    assert store_memory_bytes(db) <= governor.limit_bytes
    # what is left of each entity is its newest rows: everything after some time
    for entity in db.entities():
        left = db.range(entity, db.components(entity)[0], "frame", -(1 << 40), 1 << 40)
        full = plain.range(entity, plain.components(entity)[0], "frame", -(1 << 40), 1 << 40)
        if len(left) == 0:
            continue
        assert left.times.tolist() == full.times[len(full) - len(left):].tolist()
    # and the latest values are kept
    assert {(str(e), c): _latest(db.latest_at(e, c, "frame", 1 << 40))
            for e in db.entities() for c in db.components(e)} == latest
    # merging goes on after eviction
    before = db.compaction_stats.merges
    for chunk in _shifted(live_chunks[-80:]):
        db.add_chunk(chunk)
    assert db.compaction_stats.merges > before


def _shifted(chunks: list[Chunk]) -> list[Chunk]:
    """The same rows again under new chunk ids (a live stream keeps sending)."""
    out = []
    for k, chunk in enumerate(chunks):
        batch = chunk.to_record_batch()
        meta = dict(batch.schema.metadata)
        meta[b"rerun:id"] = ("chunk_" + f"{0xFFFF0000 + k:016X}" + "0" * 16).encode()
        out.append(Chunk.from_record_batch(batch.replace_schema_metadata(meta)))
    return out


def test_big_and_incompatible_chunks_are_left_alone(live_chunks) -> None:
    policy = CompactionPolicy(fan_in=4, small_rows=1, budget_s=None)
    compactor = EntityCompactor(policy)
    entity = EntityPath.parse(SCALARS[0])
    ones = [c for c in live_chunks if c.entity_path == entity][:12]
    for chunk in ones[:3]:
        compactor.offer(chunk)
    assert compactor.due() is None and compactor.tracked == 3
    big = Chunk.concat(ones[3:5])  # 2 rows > small_rows: seals what waits
    compactor.offer(big)
    assert compactor.tracked == 0
    for chunk in ones[5:9]:
        compactor.offer(chunk)
    tier, parts = compactor.due()  # type: ignore[misc]
    assert tier == 0 and parts == ones[5:9]
    text = [c for c in live_chunks if str(c.entity_path) == "/log"][0]
    assert not Chunk.can_concat(text, ones[0])
    compactor.offer(text)  # other columns' types... another entity even: seals
    assert compactor.tracked == 1 and compactor.due() is None


def test_the_merge_budget_bounds_the_work_per_insert(live_chunks, fresh_budget) -> None:
    """With the window's budget spent, inserts merge nothing more (they run later)."""
    huge_window = CompactionPolicy(budget_s=1e-9, window_s=1e9)
    db = _fill(live_chunks[:200], huge_window)
    assert db.compaction_stats.merges == 1  # the first merge spent the budget
    assert db.num_chunks == 200 - 31


def test_merges_left_by_the_budget_run_once_the_stream_stops(live_chunks, fresh_budget) -> None:
    """A burst spends the budget; after it, the per-frame catch-up (`compact_pending`, as
    `MemoryGovernor.step` runs it every frame) merges what waited, a budget at a time."""
    from viewer.ingest.memory_governor import MemoryGovernor

    policy = CompactionPolicy(budget_s=1e-9, window_s=1e9)  # one merge, then out of budget
    db = _fill(live_chunks, policy)
    assert db.compaction_stats.merges == 1 and db.compaction_backlog == 3
    governor = MemoryGovernor(None)
    frames = 0
    while db.compaction_backlog and frames < 100:
        MERGE_BUDGET.window_start = float("-inf")  # the next frame: a fresh window
        governor.step({db.store_id: db}, 0, 0.002)
        frames += 1
    assert db.compaction_backlog == 0 and frames > 3  # a merge per frame, not all at once
    assert len(db.chunks_of(EntityPath.parse(SCALARS[0]))) == 18 + 24
    assert _all_queries(db) == _all_queries(_fill(live_chunks, False))
