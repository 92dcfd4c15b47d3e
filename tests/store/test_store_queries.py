"""latest_at / range / scalar_series against a brute-force reference on random chunks.

The reference applies Rerun's rules row by row: static data of a component wins; otherwise
the greatest (time, RowId) with time <= t; null cells do not count as values.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from viewer.log.messages import StoreId, StoreKind, Tuid
from viewer.store.chunk import ROW_ID_COLUMN, Chunk
from viewer.store.entity_db import EntityDb
from viewer.store.entity_path import EntityPath

ENTITY = EntityPath.parse("/e")
COMP = "Scalars:scalars"
OTHER = "Other:thing"
TL = "frame"


@dataclass(frozen=True)
class Row:
    static: bool
    time: int
    rid: tuple[int, int]
    value: list[float] | None  # None = null cell
    has_comp: bool


def build_chunk(index: int, rows: list[Row], static: bool, has_comp: bool) -> Chunk:
    fields = [pa.field(ROW_ID_COLUMN, pa.binary(16), metadata={"rerun:kind": "control"})]
    arrays: list[pa.Array] = [
        pa.array([Tuid(*r.rid).to_bytes() for r in rows], type=pa.binary(16))
    ]
    if not static:
        fields.append(
            pa.field(TL, pa.int64(), metadata={"rerun:kind": "index", "rerun:index_name": TL})
        )
        arrays.append(pa.array([r.time for r in rows], type=pa.int64()))
    if has_comp:
        fields.append(pa.field(COMP, pa.list_(pa.float64()), metadata={"rerun:kind": "data"}))
        arrays.append(pa.array([r.value for r in rows], type=pa.list_(pa.float64())))
    fields.append(pa.field(OTHER, pa.list_(pa.int32()), metadata={"rerun:kind": "data"}))
    arrays.append(pa.array([[i] for i in range(len(rows))], type=pa.list_(pa.int32())))
    meta = {"rerun:entity_path": str(ENTITY), "rerun:id": "chunk_" + str(Tuid(index, index))}
    batch = pa.RecordBatch.from_arrays(arrays, schema=pa.schema(fields, metadata=meta))
    return Chunk.from_record_batch(batch, is_static=static)


@st.composite
def scenarios(draw):  # type: ignore[no-untyped-def]
    n_chunks = draw(st.integers(1, 7))
    total = draw(st.lists(st.integers(1, 6), min_size=n_chunks, max_size=n_chunks))
    rids = draw(
        st.lists(
            st.tuples(st.integers(0, 4), st.integers(0, 10**6)),
            min_size=sum(total),
            max_size=sum(total),
            unique=True,
        )
    )
    chunks: list[tuple[Chunk, list[Row]]] = []
    k = 0
    for ci, n in enumerate(total):
        static = draw(st.booleans()) and draw(st.booleans())  # ~25 %
        has_comp = draw(st.integers(0, 9)) > 0
        rows = []
        for _ in range(n):
            value = draw(
                st.one_of(
                    st.none(),
                    st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=0, max_size=2),
                )
            )
            time = 0 if static else draw(st.integers(0, 12))
            rows.append(Row(static, time, rids[k], value if has_comp else None, has_comp))
            k += 1
        chunks.append((build_chunk(ci + 1, rows, static, has_comp), rows))
    order = draw(st.permutations(range(n_chunks)))
    return [chunks[i] for i in order]


def _valid(rows: list[Row]) -> list[Row]:
    return [r for r in rows if r.has_comp and r.value is not None]


def ref_static(rows: list[Row]) -> Row | None:
    static = [r for r in _valid(rows) if r.static]
    return max(static, key=lambda r: r.rid) if static else None


def ref_latest_at(rows: list[Row], t: int) -> Row | None:
    static = ref_static(rows)
    if static is not None:
        return static
    hits = [r for r in _valid(rows) if not r.static and r.time <= t]
    return max(hits, key=lambda r: (r.time, r.rid)) if hits else None


def ref_range(rows: list[Row], t0: int, t1: int) -> list[Row]:
    hits = [r for r in _valid(rows) if not r.static and t0 <= r.time <= t1]
    return sorted(hits, key=lambda r: (r.time, r.rid))


def make_db(scenario) -> tuple[EntityDb, list[Row]]:  # type: ignore[no-untyped-def]
    db = EntityDb(StoreId(StoreKind.RECORDING, "r", "a"))
    rows: list[Row] = []
    for chunk, chunk_rows in scenario:
        db.add_chunk(chunk)
        rows.extend(chunk_rows)
    return db, rows


def check_all(db: EntityDb, rows: list[Row]) -> None:
    for t in range(-1, 14):
        got = db.latest_at(ENTITY, COMP, TL, t)
        want = ref_latest_at(rows, t)
        if want is None:
            assert got is None, t
            continue
        assert got is not None, t
        assert (got.row_id.time_ns, got.row_id.inc) == want.rid
        assert got.value.to_pylist() == want.value
        assert got.time == (None if want.static else want.time)

    static = ref_static(rows)
    for t0, t1 in [(0, 12), (3, 7), (5, 5), (-5, 2), (10, 40), (8, 2)]:
        got = db.range(ENTITY, COMP, TL, t0, t1, include_shadowed=True)
        want = ref_range(rows, t0, t1) if t0 <= t1 else []
        assert got.times.tolist() == [r.time for r in want]
        assert [tuple(map(int, x)) for x in got.row_ids] == [r.rid for r in want]
        assert got.values.to_pylist() == [r.value for r in want]
        assert (got.static is None) == (static is None)
        shadowed = db.range(ENTITY, COMP, TL, t0, t1)
        assert len(shadowed) == (0 if static is not None else len(want))

    series_rows = [r for r in ref_range(rows, -(10**9), 10**9) if len(r.value) > 0]
    times, values = db.scalar_series(ENTITY, COMP, TL)
    assert times.tolist() == [r.time for r in series_rows]
    assert values.tolist() == [r.value[0] for r in series_rows]
    second = [r for r in series_rows if len(r.value) > 1]
    times, values = db.scalar_series(ENTITY, COMP, TL, instance=1)
    assert values.tolist() == [r.value[1] for r in second]
    times, values = db.scalar_series(ENTITY, COMP, TL, 3, 8)
    assert times.tolist() == [r.time for r in series_rows if 3 <= r.time <= 8]


SETTINGS = settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


@SETTINGS
@given(scenarios())
def test_queries_match_reference(scenario) -> None:  # type: ignore[no-untyped-def]
    db, rows = make_db(scenario)
    check_all(db, rows)


@SETTINGS
@given(scenarios(), st.data())
def test_queries_stay_right_while_inserting_and_removing(scenario, data) -> None:  # type: ignore[no-untyped-def]
    db = EntityDb(StoreId(StoreKind.RECORDING, "r", "a"))
    rows: list[Row] = []
    for chunk, chunk_rows in scenario:  # query between inserts: caches must follow
        db.add_chunk(chunk)
        rows.extend(chunk_rows)
        check_all(db, rows)
    victim, victim_rows = scenario[data.draw(st.integers(0, len(scenario) - 1))]
    assert db.remove_chunks([victim.id]) == [victim]
    rows = [r for r in rows if r not in victim_rows]
    check_all(db, rows)
    assert db.num_rows == len(rows)


def test_real_recording_latest_at_matches_reference(mixed_chunks) -> None:
    db = EntityDb(StoreId(StoreKind.RECORDING, "r", "a"))
    by_entity: dict[str, list[tuple[int | None, tuple[int, int], object]]] = {}
    for rr_chunk in mixed_chunks:
        chunk = Chunk.from_record_batch(rr_chunk.to_record_batch(), is_static=rr_chunk.is_static)
        db.add_chunk(chunk)
        if "Points3D:positions" not in chunk.components:
            continue
        for row in range(chunk.num_rows):
            time = None if chunk.is_static else int(chunk.timelines["frame"].times[row])
            rid = (int(chunk.row_ids[row, 0]), int(chunk.row_ids[row, 1]))
            value = chunk.components["Points3D:positions"][row].as_py()
            by_entity.setdefault(str(chunk.entity_path), []).append((time, rid, value))

    points = EntityPath.parse("/world/points")
    static = [r for r in by_entity["/world/points"] if r[0] is None]
    assert len(static) == 1
    for t in range(-1, 17):  # the static value shadows every temporal row
        res = db.latest_at(points, "Points3D:positions", "frame", t)
        assert res is not None and res.is_static and res.value.to_pylist() == static[0][2]
    temporal = [r for r in by_entity["/world/points"] if r[0] is not None]
    got = db.range(points, "Points3D:positions", "frame", 0, 100, include_shadowed=True)
    assert got.times.tolist() == sorted(r[0] for r in temporal)
    assert got.values.to_pylist() == [r[2] for r in sorted(temporal, key=lambda r: (r[0], r[1]))]

    sine = EntityPath.parse("/plots/sine")
    for t in range(16):
        res = db.latest_at(sine, "Scalars:scalars", "frame", t)
        assert res is not None and res.time == t
        assert res.value.to_pylist() == [float(np.sin(t))]
    times, values = db.scalar_series(sine, "Scalars:scalars", "frame")
    assert times.tolist() == list(range(16))
    np.testing.assert_allclose(values, np.sin(np.arange(16)))
    times, values = db.scalar_series(EntityPath.parse("/plots/pair"), "Scalars:scalars", "frame",
                                     instance=1)
    assert values.tolist() == [-float(t) for t in range(16)]


@SETTINGS
@given(scenarios(), st.integers(1, 3), st.data())
def test_bounded_series_reads_end_where_one_read_does(scenario, max_chunks, data) -> None:  # type: ignore[no-untyped-def]
    """`scalar_series(max_chunks=...)` called until nothing is pending (with chunks, some in
    the past, arriving between calls) gives the series one unbounded read gives; the serial
    stays while rows are only appended and changes when the series is rebuilt."""
    db = EntityDb(StoreId(StoreKind.RECORDING, "r", "a"))
    rows: list[Row] = []
    last: tuple[int | None, list[int]] = (None, [])
    for chunk, chunk_rows in scenario:
        db.add_chunk(chunk)
        rows.extend(chunk_rows)
        if data.draw(st.booleans()):  # read a little now, leave the rest pending
            times, _ = db.scalar_series(ENTITY, COMP, TL, max_chunks=max_chunks)
            serial = db.scalar_series_serial(ENTITY, COMP, TL)
            if serial is not None and serial == last[0]:  # it only grew at its end
                assert times[:len(last[1])].tolist() == last[1]
            last = (serial, times.tolist())
    guard = 0
    while db.scalar_series_pending(ENTITY, COMP, TL):
        pending = db.scalar_series_pending(ENTITY, COMP, TL)
        db.scalar_series(ENTITY, COMP, TL, max_chunks=max_chunks)
        assert db.scalar_series_pending(ENTITY, COMP, TL) == max(0, pending - max_chunks)
        guard += 1
        assert guard < 100
    bounded = [a.tolist() for a in db.scalar_series(ENTITY, COMP, TL, max_chunks=max_chunks)]
    series_rows = [r for r in ref_range(rows, -(10**9), 10**9) if len(r.value) > 0]
    assert bounded == [[r.time for r in series_rows], [r.value[0] for r in series_rows]]
    # the read also counted the most values in a row: one curve per instance
    widths = [len(r.value) for r in rows if not r.static and r.has_comp and r.value is not None]
    assert db.scalar_series_width(ENTITY, COMP, TL) == max(widths, default=0)
