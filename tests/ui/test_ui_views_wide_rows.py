"""A time series whose rows hold thousands of scalars: a bounded number of curves plus one
min/max band of the other instances, read once (not once per instance)."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPointF
from ui_views_support import write_recording

from viewer.store.entity_path import EntityPath
from viewer.ui.time_control import TimeControl
from viewer.ui.views.plot.timeseries import TimeSeriesView
from viewer.ui.views.plot.wide_band import MAX_CURVES, reduce_band

W = 2000
ROWS = 40
WIDE = EntityPath.parse("/wide")
NARROW = EntityPath.parse("/narrow")


def _row(step: int) -> np.ndarray:
    vals = np.arange(W, dtype=np.float64) - step  # instance i: i - step
    vals[MAX_CURVES + step] = 10_000.0 + step  # a spike in the band: its max
    return vals


@pytest.fixture
def wide_db(tmp_path):
    def log(rr, rec):
        for step in range(ROWS):
            rec.set_time("step", sequence=step)
            rec.log("wide", rr.Scalars(_row(step)))
            rec.log("narrow", rr.Scalars([float(step), 2.0 * step]))
    return write_recording(tmp_path / "wide.rrd", tmp_path, log)


def _make_view(qtbot, db, entities):
    tc = TimeControl()
    tc.set_timeline("step")
    view = TimeSeriesView(db, entities, tc)
    qtbot.addWidget(view)
    view.resize(640, 400)
    return view


def test_wide_entity_draws_first_curves_and_a_band(qtbot, wide_db):
    view = _make_view(qtbot, wide_db, [WIDE, NARROW])
    view.redraw_now()
    wide_keys = sorted(i for e, i in view.curves if e == WIDE)
    assert wide_keys == list(range(MAX_CURVES))
    assert sorted(i for e, i in view.curves if e == NARROW) == [0, 1]
    # curve i holds instance i of every row
    x, y = view.curve_data(WIDE, 5)
    np.testing.assert_array_equal(x, np.arange(ROWS, dtype=np.float64))
    np.testing.assert_array_equal(y, 5.0 - np.arange(ROWS))
    # the band: per-row min and max of instances MAX_CURVES..W-1
    bx, lo, hi = view.band_data(WIDE)
    np.testing.assert_array_equal(bx, np.arange(ROWS, dtype=np.float64))
    expected_lo = [min(_row(s)[MAX_CURVES:]) for s in range(ROWS)]
    expected_hi = [max(_row(s)[MAX_CURVES:]) for s in range(ROWS)]
    assert lo.tolist() == expected_lo
    assert hi.tolist() == expected_hi
    assert hi[3] == 10_003.0 and lo[0] == 17.0  # by hand: the spike; instance 17 at step 0
    assert NARROW not in view.run_bands()
    # the legend: the curves of both entities plus the band, named with its instances
    names = [label.text for _, label in view.legend.items]
    assert len(names) == MAX_CURVES + 2 + 1
    assert f"/wide[{MAX_CURVES}..{W - 1}] (min..max)" in names
    # the y range covers the band's spikes
    assert view.plot_item.getViewBox().viewRange()[1][1] >= 10_000.0 + ROWS - 1


def test_wide_redraw_reads_a_bounded_number_of_series(qtbot, wide_db, monkeypatch):
    reads: list[int] = []
    bands: list[int] = []
    real_series, real_band = wide_db.scalar_series, wide_db.scalar_band

    def series(*args, **kwargs):
        reads.append(kwargs.get("instance", 0))
        return real_series(*args, **kwargs)

    def band(*args, **kwargs):
        bands.append(args[3])
        return real_band(*args, **kwargs)

    monkeypatch.setattr(wide_db, "scalar_series", series)
    monkeypatch.setattr(wide_db, "scalar_band", band)
    view = _make_view(qtbot, wide_db, [WIDE])
    view.redraw_now()
    assert sorted(reads) == list(range(MAX_CURVES))  # not one read per instance (2000)
    assert bands == [(0, MAX_CURVES)]
    items = [i for i in view.plot_item.items if i is not view.cursor_line]
    assert len(items) <= MAX_CURVES + 3  # curves + band (lines and fill)


def test_band_paints_between_min_and_max(qtbot, tmp_path):
    """Pixel check: a band of constant min 0 and max 10 fills the plot between them."""
    def log(rr, rec):
        for step in range(20):
            rec.set_time("step", sequence=step)
            vals = np.full(W, 5.0)
            vals[0] = 20.0  # curve 0 above the band; the rest from 0 to 10
            vals[MAX_CURVES], vals[MAX_CURVES + 1] = 0.0, 10.0
            rec.log("wide", rr.Scalars(vals))
    db = write_recording(tmp_path / "band.rrd", tmp_path, log)
    view = _make_view(qtbot, db, [WIDE])
    view.legend.setVisible(False)
    view.redraw_now()
    vb = view.plot_item.getViewBox()
    image = view.plot_widget.grab().toImage()
    background = image.pixelColor(2, 2)

    def pixel(x: float, y: float):
        scene = vb.mapViewToScene(QPointF(x, y))
        pos = view.plot_widget.mapFromScene(scene)
        return image.pixelColor(pos.x(), pos.y())

    # filled inside the band (the band's colour over the background), not above it
    # (grid lines shade the background a little: compare with a tolerance)
    def close(a, b) -> bool:
        return all(abs(p - q) <= 12 for p, q in zip(a.getRgb()[:3], b.getRgb()[:3], strict=True))

    for y in (2.5, 7.5):
        assert not close(pixel(10.3, y), background)
    for y in (12.5, 17.5):
        assert close(pixel(10.3, y), background)


def test_reduce_band_keeps_extremes():
    x = np.arange(10.0)
    lo = np.array([5, 4, 3, 2, 1, 0, 1, 2, 3, 4], dtype=float)
    hi = lo + 10
    rx, rlo, rhi = reduce_band(x, lo, hi, 3)  # runs of 4: [0..3], [4..7], [8, 9]
    assert rx.tolist() == [0.0, 4.0, 8.0]
    assert rlo.tolist() == [2.0, 0.0, 3.0]
    assert rhi.tolist() == [15.0, 12.0, 14.0]


def test_moving_the_window_of_curves(qtbot, wide_db):
    view = _make_view(qtbot, wide_db, [WIDE])
    view.redraw_now()
    view.set_curve_window(WIDE, 100)
    view.redraw_now()
    assert view.curve_window(WIDE) == (100, 116)
    assert sorted(i for e, i in view.curves if e == WIDE) == list(range(100, 116))
    x, y = view.curve_data(WIDE, 105)
    np.testing.assert_array_equal(y, 105.0 - np.arange(ROWS))
    # the band now holds 0..99 and 116..1999: the spike at 16 + step and instance 0
    _, lo, hi = view.band_data(WIDE)
    assert lo.tolist() == [-float(s) for s in range(ROWS)]
    assert hi.tolist() == [10_000.0 + s for s in range(ROWS)]
    names = [label.text for _, label in view.legend.items]
    assert len(names) == MAX_CURVES + 1
    assert "/wide[0..99, 116..1999] (min..max)" in names and "/wide[0]" not in names
    # the context menu offers the neighbouring windows; "Next" moves to 116..131
    view._wide_menu.aboutToShow.emit()
    (sub,) = [a.menu() for a in view._wide_menu.actions()]
    assert sub.title() == "/wide: curves [100..115] of 2000"
    nxt = next(a for a in sub.actions() if a.text().startswith("Next"))
    nxt.trigger()
    view.redraw_now()
    assert view.curve_window(WIDE) == (116, 132)
    # past the end it clamps to the last window
    view.set_curve_window(WIDE, 5000)
    view.redraw_now()
    assert view.curve_window(WIDE) == (W - MAX_CURVES, W)
    assert f"/wide[0..{W - MAX_CURVES - 1}] (min..max)" in [
        label.text for _, label in view.legend.items]


def test_live_wide_rows_extend_curves_and_band(qtbot):
    """Rows of W values arriving one chunk at a time (live): each update reads the 16
    curves and the band's new chunk only, and the band grows by appending."""
    import pyarrow as pa

    from viewer.demo import build_chunk
    from viewer.log.messages import StoreId, StoreKind
    from viewer.log.sorbet import TuidGenerator
    from viewer.store.chunk import Chunk
    from viewer.store.entity_db import EntityDb

    ids = TuidGenerator(1_700_000_000_000_000_000)
    db = EntityDb(StoreId(StoreKind.RECORDING, "wide-live", "tests"))
    tc = TimeControl()
    tc.set_timeline("frame")
    view = TimeSeriesView(db, [WIDE], tc)
    qtbot.addWidget(view)
    view.resize(640, 400)
    view._budgeted = True  # as the frame driver's queue runs it: within a work budget
    reads: list[int] = []
    real_series = db.scalar_series

    def series(*args, **kwargs):
        reads.append(kwargs.get("instance", 0))
        return real_series(*args, **kwargs)

    db.scalar_series = series  # type: ignore[method-assign]
    for step in range(5):
        column = pa.array([_row(step).tolist()], pa.list_(pa.float64()))
        chunk = Chunk.from_record_batch(build_chunk(
            ids, str(WIDE), [step], None, [("Scalars", "scalars", "Scalar", column)]))
        db.add_chunk(chunk)
        view.on_data_changed([WIDE])
        reads.clear()
        for _ in range(5):  # budgeted: may take a few frames
            view.redraw_now()
            if len(view.band_data(WIDE)[0]) == step + 1:
                break
        assert len(reads) <= 2 * MAX_CURVES
    _, lo, hi = view.band_data(WIDE)
    assert hi.tolist() == [10_000.0 + s for s in range(5)]
    assert lo.tolist() == [17.0, 15.0, 14.0, 13.0, 12.0]  # by hand: min past the spike
    assert len(view.curve_data(WIDE, 15)[1]) == 5


def test_compared_runs_each_get_a_band(qtbot, wide_db, tmp_path):
    from viewer.ui.views.plot.runs import CompareRun

    def log(rr, rec):
        for step in range(3):
            rec.set_time("step", sequence=step)
            rec.log("wide", rr.Scalars(np.full(W, 2.0 * step)))
    other = write_recording(tmp_path / "other.rrd", tmp_path, log)
    view = _make_view(qtbot, wide_db, [WIDE])
    view.redraw_now()
    view.set_compare_runs([CompareRun(other, "other")], own_label="mine")
    view.redraw_now()
    _, lo, hi = view.band_data(WIDE, store_id=other.store_id)
    assert lo.tolist() == hi.tolist() == [0.0, 2.0, 4.0]
    names = [label.text for _, label in view.legend.items]
    assert f"/wide[{MAX_CURVES}..{W - 1}] (min..max) · mine" in names
    assert f"/wide[{MAX_CURVES}..{W - 1}] (min..max) · other" in names
    view.set_compare_runs([])  # the compared run's band goes with it
    view.redraw_now()
    names = [label.text for _, label in view.legend.items]
    assert [n for n in names if "min..max" in n] == [f"/wide[{MAX_CURVES}..{W - 1}] (min..max)"]
