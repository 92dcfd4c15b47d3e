"""LatestAt's Clear semantics on recordings written by rerun-sdk."""

from __future__ import annotations

import rerun as rr

from viewer.scene.query import LatestAt
from viewer.store.entity_path import EntityPath

P = EntityPath.parse
POS = "Points3D:positions"


def _positions(db, entity: str, t: int | None) -> list | None:  # type: ignore[no-untyped-def]
    cell = LatestAt(db, "frame" if t is not None else None, t).cell(P(entity), POS)
    return None if cell is None else cell.to_pylist()


def test_clear_hides_older_data_from_its_time_on(rrd) -> None:
    def log(rec) -> None:
        rec.set_time("frame", sequence=0)
        rec.log("pts", rr.Points3D([[1, 2, 3]]))
        rec.set_time("frame", sequence=5)
        rec.log("pts", rr.Clear(recursive=False))
        rec.set_time("frame", sequence=7)
        rec.log("pts", rr.Points3D([[4, 5, 6]]))

    db = rrd(log)
    assert _positions(db, "pts", 4) == [[1, 2, 3]]
    assert _positions(db, "pts", 5) is None
    assert _positions(db, "pts", 6) is None
    assert _positions(db, "pts", 7) == [[4, 5, 6]]
    # the clear itself stays visible
    assert LatestAt(db, "frame", 6).cell(P("pts"), "Clear:is_recursive").to_pylist() == [False]


def test_only_recursive_clears_reach_descendants(rrd) -> None:
    def log(rec) -> None:
        rec.set_time("frame", sequence=0)
        rec.log("a/flat/pts", rr.Points3D([[1, 1, 1]]))
        rec.log("b/deep/pts", rr.Points3D([[2, 2, 2]]))
        rec.set_time("frame", sequence=3)
        rec.log("a", rr.Clear(recursive=False))
        rec.log("b", rr.Clear(recursive=True))

    db = rrd(log)
    assert _positions(db, "a/flat/pts", 3) == [[1, 1, 1]]
    assert _positions(db, "b/deep/pts", 2) == [[2, 2, 2]]
    assert _positions(db, "b/deep/pts", 3) is None


def test_temporal_clear_hides_static_data(rrd) -> None:
    def log(rec) -> None:
        rec.log("pts", rr.Points3D([[1, 2, 3]]), static=True)
        rec.set_time("frame", sequence=10)
        rec.log("pts", rr.Clear(recursive=False))

    db = rrd(log)
    assert _positions(db, "pts", 9) == [[1, 2, 3]]
    assert _positions(db, "pts", 10) is None
    assert _positions(db, "pts", None) == [[1, 2, 3]]  # static-only query: no temporal clear


def test_data_in_the_same_row_as_a_clear_is_hidden(rrd) -> None:
    def log(rec) -> None:
        rec.set_time("frame", sequence=1)
        rec.log("pts", rr.Clear(recursive=False), rr.Points3D([[1, 2, 3]]))

    db = rrd(log)
    assert _positions(db, "pts", 1) is None


def test_newest_recursive_clear_of_any_ancestor_wins(rrd) -> None:
    def log(rec) -> None:
        rec.set_time("frame", sequence=0)
        rec.log("x/y/z", rr.Points3D([[0, 0, 0]]))
        rec.set_time("frame", sequence=2)
        rec.log("x", rr.Clear(recursive=True))
        rec.set_time("frame", sequence=4)
        rec.log("x/y/z", rr.Points3D([[1, 1, 1]]))
        rec.set_time("frame", sequence=6)
        rec.log("x/y", rr.Clear(recursive=True))

    db = rrd(log)
    query = LatestAt(db, "frame", 5)
    assert query.clear_bound(P("x/y/z"))[0] == 2
    assert _positions(db, "x/y/z", 5) == [[1, 1, 1]]
    assert LatestAt(db, "frame", 6).clear_bound(P("x/y/z"))[0] == 6
    assert _positions(db, "x/y/z", 6) is None
