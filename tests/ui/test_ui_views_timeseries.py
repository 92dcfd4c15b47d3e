"""TimeSeriesView on real rerun-sdk data: curves, cursor line, axes, setData economy."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyqtgraph as pg
import pytest
from ui_views_support import load_db, write_recording

from viewer.store.chunk import Chunk
from viewer.store.entity_path import EntityPath
from viewer.ui.time_control import TimeControl
from viewer.ui.views.plot.timeseries import TimeSeriesView


def _expected_series(path, entity: str, timeline: str, instance: int = 0):
    """(times, values) straight from rerun-sdk's reader, sorted by time (the oracle)."""
    from rerun.chunk import RrdReader

    reader = RrdReader(str(path))
    times, values = [], []
    for chunk in reader.stream(store=reader.recordings()[0]).to_chunks():
        if chunk.entity_path != entity or chunk.is_static:
            continue
        batch = chunk.to_record_batch()
        t = batch.column(timeline).cast(pa.int64()).to_pylist()
        for ti, cell in zip(t, batch.column("Scalars:scalars").to_pylist(), strict=True):
            if cell is not None and len(cell) > instance:
                times.append(ti)
                values.append(cell[instance])
    order = np.argsort(times, kind="stable")
    return np.array(times)[order], np.array(values)[order]


@pytest.fixture
def scalars_db(data_dir, tmp_path):
    return load_db(data_dir / "scalars.rrd", tmp_path)


def _make_view(qtbot, db, entities, timeline="frame", t=None):
    tc = TimeControl()
    tc.set_timeline(timeline)
    tc.set_time(t)
    view = TimeSeriesView(db, entities, tc)
    qtbot.addWidget(view)
    view.resize(640, 400)
    view.redraw_now()
    return view, tc


def test_curve_data_equals_logged_values(qtbot, scalars_db, data_dir):
    sin, cos = EntityPath.parse("/plots/sin"), EntityPath.parse("/plots/cos")
    view, _ = _make_view(qtbot, scalars_db, [sin, cos])
    for entity in (sin, cos):
        x, y = view.curve_data(entity)
        times, values = _expected_series(data_dir / "scalars.rrd", str(entity), "frame")
        assert len(x) == 300
        np.testing.assert_array_equal(x, times.astype(np.float64))
        np.testing.assert_array_equal(y, values)


def test_downsampling_and_clip_are_on_the_items(qtbot, scalars_db):
    view, _ = _make_view(qtbot, scalars_db, [EntityPath.parse("/plots/sin")])
    curve = view.curves[(EntityPath.parse("/plots/sin"), 0)]
    assert curve.opts["autoDownsample"] is True
    assert curve.opts["downsampleMethod"] == "peak"
    assert curve.opts["clipToView"] is True


def test_timestamp_timeline_uses_seconds_and_date_axis(qtbot, scalars_db, data_dir):
    sin = EntityPath.parse("/plots/sin")
    view, _ = _make_view(qtbot, scalars_db, [sin], timeline="time")
    x, _ = view.curve_data(sin)
    times, _ = _expected_series(data_dir / "scalars.rrd", "/plots/sin", "time")
    np.testing.assert_allclose(x, times / 1e9)
    assert isinstance(view.plot_item.getAxis("bottom"), pg.DateAxisItem)
    view.time_control.set_timeline("elapsed")
    view.redraw_now()
    assert not isinstance(view.plot_item.getAxis("bottom"), pg.DateAxisItem)
    x, _ = view.curve_data(sin)
    times, _ = _expected_series(data_dir / "scalars.rrd", "/plots/sin", "elapsed")
    np.testing.assert_allclose(x, times / 1e9)


def test_moving_cursor_moves_line_without_set_data(qtbot, scalars_db, monkeypatch):
    sin = EntityPath.parse("/plots/sin")
    view, tc = _make_view(qtbot, scalars_db, [sin], t=10)
    assert view.cursor_line.value() == pytest.approx(10)
    calls = []
    original = pg.PlotDataItem.setData
    monkeypatch.setattr(pg.PlotDataItem, "setData",
                        lambda self, *a, **k: (calls.append(1), original(self, *a, **k))[1])
    for t in (20, 150, 299):
        tc.set_time(t)
        qtbot.wait(1)
        assert view.cursor_line.value() == pytest.approx(t)
    view.redraw_now()
    assert calls == []
    # Dragging the line moves the shared cursor.
    view.cursor_line.setValue(42.4)
    view.cursor_line.sigDragged.emit(view.cursor_line)
    assert tc.time == 42


def test_set_data_only_for_changed_entities(qtbot, tmp_path, monkeypatch):
    def log(rr, rec):
        for i in range(20):
            rec.set_time("frame", sequence=i)
            rec.log("a/x", rr.Scalars(float(i)))
            rec.log("a/y", rr.Scalars(-float(i)))

    db = write_recording(tmp_path / "two.rrd", tmp_path, log)
    ax, ay = EntityPath.parse("/a/x"), EntityPath.parse("/a/y")
    view, _ = _make_view(qtbot, db, [ax, ay])
    calls = []
    original = pg.PlotDataItem.setData
    monkeypatch.setattr(pg.PlotDataItem, "setData",
                        lambda self, *a, **k: (calls.append(self.name()), original(self, *a, **k))[1])
    view.on_data_changed([ax])  # reported but nothing new in the store: no setData
    view.redraw_now()
    assert calls == []
    # Append a chunk to /a/x only: exactly that curve is set again, with the new point.
    first = db.chunks_of(ax)[0]
    batch = first.to_record_batch()
    rows = batch.slice(0, 1)
    times = pa.array([100], pa.int64())
    idx = batch.schema.get_field_index("frame")
    rows = rows.set_column(idx, batch.schema.field(idx), times)
    rid_idx = batch.schema.get_field_index("rerun.controls.RowId")
    new_rid = pa.FixedSizeBinaryArray.from_buffers(
        pa.binary(16), 1, [None, pa.py_buffer(b"\xff" * 8 + b"\x00" * 7 + b"\x01")])
    rows = rows.set_column(rid_idx, batch.schema.field(rid_idx),
                           pa.ExtensionArray.from_storage(batch.column(rid_idx).type, new_rid)
                           if isinstance(batch.column(rid_idx).type, pa.ExtensionType) else new_rid)
    meta = dict(rows.schema.metadata)
    meta[b"rerun:id"] = b"chunk_" + b"f" * 32
    rows = rows.replace_schema_metadata(meta)
    db.add_chunk(Chunk.from_record_batch(rows))
    view.on_data_changed([ax])
    view.redraw_now()
    assert calls == [str(ax)]
    x, _ = view.curve_data(ax)
    assert x[-1] == 100 and len(x) == 21


def test_multi_instance_scalars_get_one_curve_each(qtbot, tmp_path):
    def log(rr, rec):
        for i in range(10):
            rec.set_time("frame", sequence=i)
            rec.log("vec", rr.Scalars([i, 2 * i, 3 * i]))

    db = write_recording(tmp_path / "vec.rrd", tmp_path, log)
    vec = EntityPath.parse("/vec")
    view, _ = _make_view(qtbot, db, [vec])
    for k in range(3):
        _, y = view.curve_data(vec, k)
        np.testing.assert_array_equal(y, np.arange(10) * (k + 1))


@pytest.mark.slow
def test_million_points_are_fast(qtbot, monkeypatch):
    """1e6 points: setData + repaint stays far below a second (measured ~30 ms here)."""
    import time

    from viewer.log.messages import StoreId, StoreKind
    from viewer.store.entity_db import EntityDb

    n = 1_000_000
    t = np.arange(n, dtype=np.int64)
    values = pa.array(np.sin(t / 1000.0))
    cells = pa.ListArray.from_arrays(pa.array(np.arange(n + 1, dtype=np.int32)), values)
    rid = pa.FixedSizeBinaryArray.from_buffers(
        pa.binary(16), n, [None, pa.py_buffer(np.stack(
            [np.full(n, 1, ">u8"), np.arange(n, dtype=">u8")], axis=1).tobytes())])
    schema = pa.schema([
        pa.field("rerun.controls.RowId", pa.binary(16), metadata={"rerun:kind": "control"}),
        pa.field("frame", pa.int64(), metadata={"rerun:kind": "index"}),
        pa.field("Scalars:scalars", cells.type, metadata={"rerun:kind": "data"}),
    ], metadata={"rerun:entity_path": "/big"})
    db = EntityDb(StoreId(StoreKind.RECORDING, "big", "big"))
    db.add_chunk(Chunk.from_record_batch(pa.RecordBatch.from_arrays(
        [rid, pa.array(t), cells], schema=schema)))
    tc = TimeControl()
    tc.set_timeline("frame")
    view = TimeSeriesView(db, [EntityPath.parse("/big")], tc)
    qtbot.addWidget(view)
    view.resize(1280, 720)
    start = time.perf_counter()
    view.redraw_now()
    view.grab()
    elapsed = time.perf_counter() - start
    assert len(view.curve_data(EntityPath.parse("/big"))[0]) == n
    assert elapsed < 1.5, f"1e6 points took {elapsed:.3f} s"
    start = time.perf_counter()
    for k in range(10):
        tc.set_time(k * 1000)
        view.grab()
    assert (time.perf_counter() - start) / 10 < 0.5


def test_schedule_redraw_catches_up_on_unreported_changes(qtbot, tmp_path):
    """A background store's views are not told about new data; schedule_redraw re-checks."""
    def log(rr, rec):
        for i in range(5):
            rec.set_time("frame", sequence=i)
            rec.log("s", rr.Scalars(float(i)))

    full = write_recording(tmp_path / "s.rrd", tmp_path, log)
    s = EntityPath.parse("/s")
    from viewer.log.messages import StoreId, StoreKind
    from viewer.store.entity_db import EntityDb

    db = EntityDb(StoreId(StoreKind.RECORDING, "s", "s"))
    chunks = full.chunks_of(s)
    view, _ = _make_view(qtbot, db, [s])
    assert len(view.curve_data(s)[0]) == 0
    for chunk in chunks:
        db.add_chunk(chunk)
    view.schedule_redraw()
    qtbot.waitUntil(lambda: len(view.curve_data(s)[0]) == 5, timeout=1000)


def test_max_list_length_matches_pyarrow_on_slices_nulls_and_large_lists():
    import pyarrow.compute as pc

    from viewer.store.scalar_series import list_width as _max_list_length

    rows = [[1.0], [1.0, 2.0, 3.0], [], [4.0, 5.0], [6.0]]
    for typ in (pa.list_(pa.float64()), pa.large_list(pa.float64())):
        arr = pa.array(rows, typ)
        for part in (arr, arr.slice(2), arr.slice(3, 2), arr.slice(0, 1),
                     pa.array([[1.0], None, [1.0, 2.0]], typ)):
            assert _max_list_length(part) == pc.max(pc.list_value_length(part)).as_py()
