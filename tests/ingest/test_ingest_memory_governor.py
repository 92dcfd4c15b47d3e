"""`MemoryGovernor` on real EntityDbs (fixture files and generated chunks), without Qt."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "store"))

from store_gen import generated_chunks  # noqa: E402
from test_store_memory import (  # noqa: E402
    brute_force_needed,
    generated_db,
    latest_everywhere,
    load_file_dbs,
    timeline_ends,
)

from viewer.ingest.memory_governor import MemoryGovernor  # noqa: E402
from viewer.log.messages import StoreKind  # noqa: E402
from viewer.store.memory import chunk_memory_bytes  # noqa: E402
from viewer.store.memory import store_memory_bytes as mem  # noqa: E402


def test_unlimited_only_counts() -> None:
    db = generated_db(1)
    gov = MemoryGovernor(None)
    assert gov.step({db.store_id: db}, 1234, 0.01) is None
    assert gov.used_bytes == mem(db) + 1234
    assert gov.store_bytes == mem(db) and gov.queued_bytes == 1234
    assert gov.dropped_chunks_total == 0 and gov.limit_bytes is None


def test_bad_limits_are_rejected() -> None:
    with pytest.raises(ValueError, match="limit_bytes"):
        MemoryGovernor(0)
    with pytest.raises(ValueError, match="headroom"):
        MemoryGovernor(100, headroom=1.0)


def test_over_the_limit_frees_down_to_the_target_and_reports() -> None:
    db = generated_db(2, n_chunks=200)
    dbs = {db.store_id: db}
    full = mem(db)
    limit = full // 2
    gov = MemoryGovernor(limit, headroom=0.1)
    ends = timeline_ends(db)
    before = latest_everywhere(db, ends)
    report = gov.step(dbs, 0, 1.0)
    assert report is not None and not report.stuck
    assert mem(db) <= gov.target_bytes < limit
    assert report.used_bytes_before == full and report.used_bytes_after == mem(db)
    (st,) = report.stores
    assert st.store_id == db.store_id
    assert st.bytes_freed == full - mem(db) == report.bytes_freed
    assert st.chunks_dropped == report.chunks_dropped == gov.dropped_chunks_total > 0
    assert st.oldest_kept == {tl: db.time_range(tl)[0] for tl in db.timelines()}
    assert latest_everywhere(db, ends) == before
    msg = report.message()
    assert msg.startswith(f"Dropped {st.chunks_dropped} chunks (")
    assert "of gen/rec2 to stay under the" in msg and "memory limit" in msg
    # under the limit again: nothing happens
    assert gov.step(dbs, 0, 1.0) is None
    assert gov.used_bytes == mem(db) and gov.dropped_bytes_total == full - mem(db)


def test_hysteresis_waits_for_the_limit_then_frees_the_headroom() -> None:
    db = generated_db(3, n_chunks=50)
    dbs = {db.store_id: db}
    gov = MemoryGovernor(mem(db) * 2, headroom=0.2)
    more = generated_chunks(4, n_chunks=400, first_index=1000)
    reports = []
    for chunk in more:
        db.add_chunk(chunk)
        report = gov.step(dbs, 0, 1.0)
        assert mem(db) <= gov.limit_bytes + chunk_memory_bytes(chunk)
        if report is not None:
            reports.append(report)
            assert report.used_bytes_after <= gov.target_bytes
    assert 1 < len(reports) < 60  # bursts, not one eviction per insert
    assert gov.dropped_chunks_total == sum(r.chunks_dropped for r in reports)


def test_queued_bytes_count_against_the_limit() -> None:
    db = generated_db(5, n_chunks=120)
    gov = MemoryGovernor(mem(db) + 1000)
    assert gov.step({db.store_id: db}, 0, 1.0) is None
    queued = mem(db) // 2
    report = gov.step({db.store_id: db}, queued, 1.0)
    assert report is not None and report.chunks_dropped > 0
    assert mem(db) + queued <= gov.target_bytes or report.stuck
    assert gov.queued_bytes == queued == report.used_bytes_after - mem(db)


def test_only_protected_data_left_reports_once() -> None:
    db = generated_db(6, n_chunks=80)
    dbs = {db.store_id: db}
    needed = brute_force_needed(db)
    gov = MemoryGovernor(1000)  # below what the latest values alone take
    first = gov.step(dbs, 0, 1.0)
    assert first is not None and first.stuck
    assert {c.id for c in db.chunks_by_age()} == needed
    assert "only latest values left" in first.message()
    assert gov.step(dbs, 0, 1.0) is None  # nothing new: no rescan, no repeated notice
    assert not gov.busy  # stuck is not busy: the hub can still become idle
    # data arrives and becomes the latest: the old latest holders can go now
    for chunk in generated_chunks(7, n_chunks=40, first_index=5000):
        db.add_chunk(chunk)
    again = gov.step(dbs, 0, 1.0)
    assert again is not None and again.chunks_dropped > 0
    assert {c.id for c in db.chunks_by_age()} == brute_force_needed(db)


def test_a_zero_budget_still_converges_over_frames() -> None:
    db = generated_db(8, n_chunks=300)
    dbs = {db.store_id: db}
    gov = MemoryGovernor(mem(db) // 3)
    frames = 0
    while mem(db) > gov.target_bytes:
        gov.step(dbs, 0, 0.0)
        assert gov.busy or mem(db) <= gov.target_bytes  # never idle while still over
        frames += 1
        assert frames < 200, "eviction made no progress"
    assert frames > 1  # the budget did split the work
    while gov.pending_release:
        gov.step(dbs, 0, 0.0)
    gov.step(dbs, 0, 0.0)
    assert not gov.busy


def test_real_files_least_recently_active_store_first() -> None:
    dbs = {}
    for name in ("scalars.rrd", "points.rrd", "blueprint.rrd", "mixed.rrd"):
        dbs.update(load_file_dbs(name))
    bp = [sid for sid in dbs if sid.kind == StoreKind.BLUEPRINT]
    bp_bytes = sum(mem(dbs[sid]) for sid in bp)
    recordings = [sid for sid in dbs if sid.kind != StoreKind.BLUEPRINT]
    ends = {sid: timeline_ends(dbs[sid]) for sid in recordings}
    before = {sid: latest_everywhere(dbs[sid], ends[sid]) for sid in recordings}
    oldest = min(recordings, key=lambda sid: dbs[sid].last_active)
    total = sum(mem(db) for db in dbs.values())
    gov = MemoryGovernor(total - mem(dbs[oldest]) // 4, headroom=0.0)
    report = gov.step(dbs, 0, 1.0)
    assert report is not None
    assert [s.store_id for s in report.stores] == [oldest]
    assert gov.used_bytes <= gov.limit_bytes
    # squeeze hard: every recording gives up all but its latest values; blueprints stay
    gov2 = MemoryGovernor(1 << 10)
    gov2.step(dbs, 0, 5.0)
    assert sum(mem(dbs[sid]) for sid in bp) == bp_bytes
    for sid in recordings:
        assert latest_everywhere(dbs[sid], ends[sid]) == before[sid]
        assert {c.id for c in dbs[sid].chunks_by_age()} == brute_force_needed(dbs[sid])


def test_evicted_chunks_are_freed_over_the_next_frames() -> None:
    import sys as _sys

    db = generated_db(9, n_chunks=400)
    dbs = {db.store_id: db}
    victim = next(db.evictable_chunks())
    gov = MemoryGovernor(mem(db) // 4)
    assert gov.step(dbs, 0, 0.0) is not None
    assert db.chunk(victim.id) is None  # out of the store at once (and out of the count)
    frames = 0
    while gov.pending_release:
        gov.step(dbs, 0, 0.0)
        frames += 1
        assert frames < 100
    # neither the store nor the governor holds it: only this test's variable (+ the call's)
    assert _sys.getrefcount(victim) == 2
