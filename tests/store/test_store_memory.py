"""Memory limiting in the store layer: `--memory-limit` parsing and the eviction plan.

The plan is checked against an independent brute-force answer: after evicting everything
the policy allows, the chunks left are exactly the static ones plus, for each (entity,
component, timeline), the chunk holding the latest non-null row; and `latest_at` at the
end of every timeline (and static) answers exactly as before eviction.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import psutil
import pytest

sys.path.insert(0, str(Path(__file__).parent))

from store_gen import generated_chunks, make_chunk  # noqa: E402

from viewer.log.arrow import decode_arrow_payload  # noqa: E402
from viewer.log.messages import ArrowMsg, SetStoreInfo, StoreId, StoreKind  # noqa: E402
from viewer.log.reader import read_rrd  # noqa: E402
from viewer.store.chunk import Chunk  # noqa: E402
from viewer.store.entity_db import EntityDb  # noqa: E402
from viewer.store.entity_path import EntityPath  # noqa: E402
from viewer.store.memory import (  # noqa: E402
    CHUNK_OVERHEAD_BYTES,
    StoreUsage,
    chunk_memory_bytes,
    format_bytes,
    parse_memory_limit,
    plan_eviction,
    store_memory_bytes,
)

DATA = Path(__file__).resolve().parents[1] / "data"
I64_MAX = np.iinfo(np.int64).max
GIB = 1024**3
FILES = ["scalars.rrd", "points.rrd", "static.rrd", "mixed.rrd", "unsorted.rrd",
         "textlog.rrd", "two_recordings.rrd", "images.rrd"]


# ---------------------------------------------------------------------- parsing

@pytest.mark.parametrize(("text", "expected"), [
    ("2GB", 2_000_000_000),
    ("500MB", 500_000_000),
    ("500mb", 500_000_000),
    ("1.5GiB", int(1.5 * GIB)),
    ("750M", 750_000_000),
    ("512MiB", 512 * 1024**2),
    ("2Gi", 2 * GIB),
    ("100kB", 100_000),
    (" 3 GB ", 3_000_000_000),
    ("123456", 123456),
    ("1TB", 10**12),
    ("50%", 8 * GIB),
    ("12.5%", 2 * GIB),
    ("100%", 16 * GIB),
])
def test_parse_memory_limit_values(text: str, expected: int) -> None:
    assert parse_memory_limit(text, total_ram=16 * GIB) == expected


@pytest.mark.parametrize("text", ["unlimited", "UNLIMITED", " none ", "off"])
def test_parse_memory_limit_unlimited(text: str) -> None:
    assert parse_memory_limit(text, total_ram=16 * GIB) is None


def test_parse_memory_limit_default_is_three_quarters_of_ram() -> None:
    assert parse_memory_limit(None, total_ram=16 * GIB) == 12 * GIB
    ram = psutil.virtual_memory().total
    assert parse_memory_limit(None) == int(ram * 0.75)
    assert parse_memory_limit("50%") == int(ram * 0.5)


@pytest.mark.parametrize("text", ["", "abc", "2XB", "GB", "-5MB", "0", "0MB", "0%", "150%",
                                  "1e9", "5 M B", "2GB!", "50 %%", "1,5GB"])
def test_parse_memory_limit_rejects_bad_text_naming_it(text: str) -> None:
    with pytest.raises(ValueError, match="--memory-limit") as info:
        parse_memory_limit(text, total_ram=16 * GIB)
    assert repr(text) in str(info.value)


def test_format_bytes() -> None:
    assert format_bytes(48_000_000) == "48 MB"
    assert format_bytes(1_500_000_000) == "1.5 GB"
    assert format_bytes(512) == "512 B"


# ---------------------------------------------------------------------- helpers

def load_file_dbs(name: str) -> dict[StoreId, EntityDb]:
    msgs, errors = read_rrd(DATA / name)
    assert not errors
    dbs: dict[StoreId, EntityDb] = {}
    for msg in msgs:
        db = dbs.get(msg.store_id)
        if db is None:
            db = dbs[msg.store_id] = EntityDb(msg.store_id)
        if isinstance(msg, ArrowMsg):
            db.add_chunk(Chunk.from_record_batch(decode_arrow_payload(msg),
                                                 is_static=msg.is_static))
        elif isinstance(msg, SetStoreInfo):
            db.set_store_info(msg)
    return dbs


def generated_db(seed: int, n_chunks: int = 60, app: str = "gen") -> EntityDb:
    db = EntityDb(StoreId(StoreKind.RECORDING, f"rec{seed}", app))
    for chunk in generated_chunks(seed, n_chunks):
        db.add_chunk(chunk)
    return db


def latest_everywhere(db: EntityDb, ends: dict[str, int]) -> dict:
    """latest_at at t = each timeline's end and at +inf, and the static value."""
    out = {}
    for path in db.entities():
        for comp in db.components(path):
            res = db.latest_static(path, comp)
            out[(str(path), comp)] = None if res is None else (res.row_id, res.value.to_pylist())
            for tl, end in ends.items():
                for t in (end, I64_MAX):
                    r = db.latest_at(path, comp, tl, t)
                    out[(str(path), comp, tl, t)] = (
                        None if r is None else (r.time, r.row_id, r.value.to_pylist()))
    return out


def timeline_ends(db: EntityDb) -> dict[str, int]:
    return {tl: db.time_range(tl)[1] for tl in db.timelines() if db.time_range(tl)}


def brute_force_needed(db: EntityDb) -> set[bytes]:
    """Static chunks + the holder of the greatest (time, RowId) non-null row of every
    (entity, component, timeline), computed row by row."""
    needed: set[bytes] = set()
    best: dict[tuple, tuple] = {}
    for chunk in db.chunks_by_age():
        if chunk.is_static:
            needed.add(chunk.id)
            continue
        for comp, arr in chunk.components.items():
            valid = arr.is_valid().to_pylist()
            for tl, tc in chunk.timelines.items():
                for row in range(chunk.num_rows):
                    if not valid[row]:
                        continue
                    key = (int(tc.times[row]), int(chunk.row_ids[row, 0]),
                           int(chunk.row_ids[row, 1]))
                    k = (chunk.entity_path, comp, tl)
                    if k not in best or key > best[k][0]:
                        best[k] = (key, chunk.id)
    needed.update(cid for _, cid in best.values())
    return needed


def evict_all_possible(dbs: dict[StoreId, EntityDb]) -> int:
    plan = plan_eviction([StoreUsage(sid, db) for sid, db in dbs.items()], 1 << 62)
    freed = 0
    for ev in plan:
        removed = ev.db.remove_chunks(ev.chunk_ids)
        assert [c.id for c in removed] == ev.chunk_ids
        assert sum(chunk_memory_bytes(c) for c in removed) == ev.nbytes
        freed += ev.nbytes
    return freed


# ---------------------------------------------------------------------- the policy

@pytest.mark.parametrize("name", FILES)
def test_evicting_real_files_keeps_latest_values(name: str) -> None:
    dbs = load_file_dbs(name)
    before = {sid: latest_everywhere(db, timeline_ends(db)) for sid, db in dbs.items()}
    ends = {sid: timeline_ends(db) for sid, db in dbs.items()}
    needed = {sid: brute_force_needed(db) for sid, db in dbs.items()}
    total = {sid: store_memory_bytes(db) for sid, db in dbs.items()}
    freed = evict_all_possible(dbs)
    for sid, db in dbs.items():
        kept = {c.id for c in db.chunks_by_age()}
        if sid.kind == StoreKind.BLUEPRINT:
            assert store_memory_bytes(db) == total[sid]  # blueprints are never evicted
            continue
        assert kept == needed[sid]
        assert latest_everywhere(db, ends[sid]) == before[sid]
    assert freed == sum(total.values()) - sum(store_memory_bytes(db) for db in dbs.values())


@pytest.mark.parametrize("seed", range(12))
def test_evicting_generated_data_keeps_exactly_the_latest_holders(seed: int) -> None:
    db = generated_db(seed)
    ends = timeline_ends(db)
    before = latest_everywhere(db, ends)
    needed = brute_force_needed(db)
    assert len(needed) < db.num_chunks  # the scenario has something to evict
    nbytes_before = store_memory_bytes(db)
    freed = evict_all_possible({db.store_id: db})
    assert {c.id for c in db.chunks_by_age()} == needed
    assert latest_everywhere(db, ends) == before
    assert store_memory_bytes(db) == nbytes_before - freed
    assert db.num_rows == sum(c.num_rows for c in db.chunks_by_age())
    # a second pass finds nothing more to drop
    assert plan_eviction([StoreUsage(db.store_id, db)], 1 << 62) == []


def test_plan_frees_just_enough_oldest_first() -> None:
    db = generated_db(3, n_chunks=80)
    protected = set()
    for path in db.entities():
        protected |= db.protected_chunk_ids(path)
    candidates = [c for c in db.evictable_chunks() if c.id not in protected]
    want = sum(chunk_memory_bytes(c) for c in candidates[:10]) - 1
    (ev,) = plan_eviction([StoreUsage(db.store_id, db)], want)
    assert ev.chunk_ids == [c.id for c in candidates[:10]]  # oldest first, no more
    assert ev.nbytes >= want
    assert ev.rows == sum(c.num_rows for c in candidates[:10])
    assert plan_eviction([StoreUsage(db.store_id, db)], 0) == []


def test_least_recently_active_store_goes_first() -> None:
    a, b = generated_db(1, app="a"), generated_db(2, app="b")
    a.add_chunk(generated_chunks(9, 1, first_index=10_000)[0])  # a is now the active one
    assert a.last_active > b.last_active
    stores = [StoreUsage(a.store_id, a), StoreUsage(b.store_id, b)]
    plan = plan_eviction(stores, b.nbytes // 4)
    assert [ev.store_id for ev in plan] == [b.store_id]
    # b cannot give everything: the rest comes from a, oldest first
    plan = plan_eviction(stores, store_memory_bytes(b) + store_memory_bytes(a) // 4)
    assert [ev.store_id for ev in plan] == [b.store_id, a.store_id]
    b.add_chunk(generated_chunks(8, 1, first_index=20_000)[0])
    assert [ev.store_id for ev in plan_eviction(stores, b.nbytes // 4)] == [a.store_id]


def test_blueprint_stores_are_never_planned() -> None:
    dbs = load_file_dbs("blueprint.rrd")
    (bp,) = [sid for sid in dbs if sid.kind == StoreKind.BLUEPRINT]
    plan = plan_eviction([StoreUsage(sid, db) for sid, db in dbs.items()], 1 << 62)
    assert plan and all(ev.store_id != bp for ev in plan)


def test_plan_stops_at_the_deadline() -> None:
    db = EntityDb(StoreId(StoreKind.RECORDING, "big", "gen"))
    for chunk in generated_chunks(5, n_chunks=400):
        db.add_chunk(chunk)
    stores = [StoreUsage(db.store_id, db)]
    full = plan_eviction(stores, 1 << 62)
    late = plan_eviction(stores, 1 << 62, deadline=time.perf_counter() - 1.0)
    assert len(full[0].chunk_ids) > 100
    assert sum(len(ev.chunk_ids) for ev in late) < 16


def test_protected_cache_follows_inserts_and_removals() -> None:
    path = EntityPath.parse("/e")
    db = EntityDb(StoreId(StoreKind.RECORDING, "r", "a"))
    c1 = make_chunk(1, "/e", {"frame": [1, 2]}, {"Scalars:scalars": [[1.0], [2.0]]})
    c2 = make_chunk(2, "/e", {"frame": [3]}, {"Scalars:scalars": [[3.0]]})
    c3 = make_chunk(3, "/e", {"frame": [9]}, {"Scalars:scalars": [None]})  # null: no value
    db.add_chunk(c1)
    assert db.protected_chunk_ids(path) == {c1.id}
    db.add_chunk(c2)
    assert db.protected_chunk_ids(path) == {c2.id}
    db.add_chunk(c3)
    assert db.protected_chunk_ids(path) == {c2.id}  # a null cell is not a latest value
    db.remove_chunks([c1.id])
    assert db.protected_chunk_ids(path) == {c2.id}
    db.remove_chunks([c2.id])  # someone else removed the protected one: recomputed
    assert db.protected_chunk_ids(path) == frozenset()
    assert db.latest_at(path, "Scalars:scalars", "frame", I64_MAX) is None


def test_remove_chunks_matches_one_by_one_removal() -> None:
    a, b = generated_db(7), generated_db(7)
    victims = [c.id for i, c in enumerate(a.chunks_by_age()) if i % 3 == 0]
    removed = a.remove_chunks(victims + [b"\0" * 16])
    assert [c.id for c in removed] == victims
    for cid in victims:
        b.remove_chunks([cid])
    for db in (a, b):
        assert db.num_chunks == 60 - len(victims)
    assert (a.nbytes, a.num_rows, a.num_source_chunks) == (b.nbytes, b.num_rows,
                                                           b.num_source_chunks)
    assert a.entities() == b.entities()
    assert a.timelines() == b.timelines()
    for tl in a.timelines():
        assert a.time_range(tl) == b.time_range(tl)
        for path in a.entities():
            assert a.components(path) == b.components(path)
            for comp in a.components(path):
                ra = a.range(path, comp, tl, -(1 << 40), 1 << 40)
                rb = b.range(path, comp, tl, -(1 << 40), 1 << 40)
                assert ra.times.tolist() == rb.times.tolist()
                assert ra.values.to_pylist() == rb.values.to_pylist()
                sa = a.scalar_series(path, comp, tl)
                sb = b.scalar_series(path, comp, tl)
                assert sa[0].tolist() == sb[0].tolist()
    assert [n.own_rows for n in a.tree.walk()] == [n.own_rows for n in b.tree.walk()]


def test_evictable_chunks_are_temporal_in_age_order() -> None:
    db = generated_db(11)
    ages = [c.id for c in db.chunks_by_age()]
    ev = [c.id for c in db.evictable_chunks()]
    assert ev == [cid for cid in ages if not db.chunk(cid).is_static]
    assert len(ev) < len(ages)  # seed 11 has static chunks


def test_memory_bytes_count_buffers_and_per_chunk_overhead() -> None:
    db = generated_db(12)
    chunks = list(db.chunks_by_age())
    assert store_memory_bytes(db) == db.nbytes + len(chunks) * CHUNK_OVERHEAD_BYTES
    assert sum(chunk_memory_bytes(c) for c in chunks) == store_memory_bytes(db)
    assert StoreUsage(db.store_id, db).nbytes == store_memory_bytes(db)


def test_plan_stops_at_max_chunks() -> None:
    db = generated_db(13, n_chunks=120)
    stores = [StoreUsage(db.store_id, db)]
    full = plan_eviction(stores, 1 << 62)
    capped = plan_eviction(stores, 1 << 62, max_chunks=7)
    assert sum(len(ev.chunk_ids) for ev in full) > 7
    assert capped[0].chunk_ids == full[0].chunk_ids[:7]  # the same oldest ones
    assert plan_eviction(stores, 1 << 62, max_chunks=0) == []


def test_a_long_protected_prefix_does_not_stall_planning() -> None:
    # 3 000 entities logged once (each chunk protected: it holds that entity's latest
    # value), then one entity with evictable history: a spent deadline must still reach it
    db = EntityDb(StoreId(StoreKind.RECORDING, "prefix", "gen"))
    for i in range(3000):
        db.add_chunk(make_chunk(i + 1, f"/once/{i}", {"frame": [i]}, {"Scalars:scalars": [[1.0]]}))
    for i in range(50):
        db.add_chunk(make_chunk(10_000 + i, "/busy", {"frame": [i]}, {"Scalars:scalars": [[2.0]]}))
    late = plan_eviction([StoreUsage(db.store_id, db)], 1 << 62,
                         deadline=time.perf_counter() - 1.0)
    assert late and late[0].chunk_ids and not late.complete
    full = plan_eviction([StoreUsage(db.store_id, db)], 1 << 62)
    # all but /busy's latest row (compaction merged some of its one-row chunks)
    assert full.complete and full[0].rows == 49
