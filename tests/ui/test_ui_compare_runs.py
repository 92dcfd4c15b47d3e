"""Compare runs: one time-series view draws the same entities of two recordings of one
application (written with rerun-sdk), each in its own colour family, aligned on time since
each run's start or on the shared timeline; the window's "Compare runs" menu turns it on
and off, and new data of the compared run reaches the plot."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6.QtGui import QColor, QImage
from ui_views_support import write_recording

from viewer.ingest import IngestHub
from viewer.log.messages import StoreKind
from viewer.store.entity_path import EntityPath
from viewer.ui.main_window import MainWindow
from viewer.ui.settings import AppSettings
from viewer.ui.time_control import TimeControl
from viewer.ui.views.plot.compare import RunComparisons, fill_compare_menu
from viewer.ui.views.plot.runs import FAMILY_HUES, MAX_SHADE_SHIFT, Align, CompareRun
from viewer.ui.views.plot.timeseries import SCALARS, TimeSeriesView, auto_color

SIN, COS = EntityPath.parse("/plots/sin"), EntityPath.parse("/plots/cos")
T0_A, T0_B = 1_700_000_000.0, 1_800_000_000.5  # seconds: the runs start at different times


def _log_run(first: int, last: int, t0: float, gain: float):
    """Frames first..last-1, timestamps t0 + 0.1 s per frame (relative to ``first``)."""
    def log(rr, rec) -> None:  # noqa: ANN001
        for f in range(first, last):
            rec.set_time("frame", sequence=f)
            rec.set_time("time", timestamp=t0 + 0.1 * (f - first))
            rec.log("plots/sin", rr.Scalars(gain * np.sin(f / 5.0)))
            rec.log("plots/cos", rr.Scalars(gain * np.cos(f / 5.0) + 1.0))
    return log


@pytest.fixture
def runs(tmp_path: Path):
    """Run A: frames 10..59; run B: frames 100..179 (other values, later start); B's
    continuation (frames 180..199, same recording id) in a second file."""
    home = tmp_path / "home"
    a = write_recording(tmp_path / "run_a.rrd", home, _log_run(10, 60, T0_A, 1.0))
    b = write_recording(tmp_path / "run_b.rrd", home, _log_run(100, 180, T0_B, 3.0))
    (tmp_path / "more").mkdir()
    write_recording(tmp_path / "more" / "run_b.rrd", home, _log_run(180, 200, T0_B + 8.0, 3.0))
    return tmp_path, a, b


def _hue(curve: pg.PlotDataItem) -> float:
    return QColor(curve.opts["pen"].color()).hueF() * 360.0


def _hue_near(hue: float, family: int) -> bool:
    d = abs((hue - FAMILY_HUES[family] + 180.0) % 360.0 - 180.0)
    return d <= MAX_SHADE_SHIFT + 1.0


def _compared_view(qtbot, a, b, timeline: str = "frame") -> TimeSeriesView:
    tc = TimeControl()
    tc.set_timeline(timeline)
    tc.set_time(None)
    view = TimeSeriesView(a, [SIN, COS], tc)
    qtbot.addWidget(view)
    view.resize(640, 400)
    view.set_compare_runs([CompareRun(b, "run B")])
    view.set_align(Align.START)
    view.redraw_now()
    return view


def test_compared_view_draws_each_runs_series_aligned_on_start(qtbot, runs):
    _, a, b = runs
    view = _compared_view(qtbot, a, b)
    for db, first in ((a, 10), (b, 100)):
        for entity in (SIN, COS):
            times, values = db.scalar_series(entity, SCALARS, "frame")
            x, y = view.curve_data(entity, store_id=db.store_id)
            assert len(x) == (50 if db is a else 80)
            np.testing.assert_array_equal(x, (times - first).astype(np.float64))
            np.testing.assert_array_equal(y, values)
            assert x[0] == 0.0  # both runs start at x = 0
    # B's values are 3x A's: different data, not the same curve drawn twice.
    assert np.abs(view.curve_data(SIN, store_id=b.store_id)[1]).max() > 2.5
    assert np.abs(view.curve_data(SIN)[1]).max() <= 1.0
    # One colour family per run; the legend names the run.
    own, other = view.run_curves(), view.run_curves(b.store_id)
    assert set(own) == set(other) == {(SIN, 0), (COS, 0)}
    assert all(_hue_near(_hue(c), 0) for c in own.values())
    assert all(_hue_near(_hue(c), 1) for c in other.values())
    assert _hue(own[(SIN, 0)]) != _hue(own[(COS, 0)])  # shades within a family differ
    names = [label.text for _sample, label in view.legend.items]
    assert "/plots/sin · run B" in names and f"/plots/sin · {a.store_id.recording_id}" in names
    # The range covers both runs: 0..79 frames since start, values of both.
    (x0, x1), (y0, y1) = view.plot_item.getViewBox().viewRange()
    assert x0 <= 0 and x1 >= 79 and x1 < 100
    assert y0 <= -2.9 and y1 >= 3.9


def test_shared_timeline_and_time_since_start_switch(qtbot, runs):
    _, a, b = runs
    view = _compared_view(qtbot, a, b, timeline="time")
    ta, _ = a.scalar_series(SIN, SCALARS, "time")
    tb, _ = b.scalar_series(SIN, SCALARS, "time")
    np.testing.assert_allclose(view.curve_data(SIN)[0], (ta - ta[0]) / 1e9)
    np.testing.assert_allclose(view.curve_data(SIN, store_id=b.store_id)[0], (tb - tb[0]) / 1e9)
    assert view.curve_data(SIN, store_id=b.store_id)[0][-1] == pytest.approx(7.9)
    assert not isinstance(view.plot_item.getAxis("bottom"), pg.DateAxisItem)  # seconds
    # The cursor sits at its time since the view's own run's start.
    view.time_control.set_time(int(ta[5]))
    view.redraw_now()
    assert view.cursor_line.value() == pytest.approx(0.5)
    view.set_align(Align.TIMELINE)
    view.redraw_now()
    np.testing.assert_allclose(view.curve_data(SIN)[0], ta / 1e9)
    np.testing.assert_allclose(view.curve_data(SIN, store_id=b.store_id)[0], tb / 1e9)
    assert isinstance(view.plot_item.getAxis("bottom"), pg.DateAxisItem)
    assert view.cursor_line.value() == pytest.approx(ta[5] / 1e9)


def _pixels_of(view: TimeSeriesView, rgb: tuple[int, int, int]) -> int:
    """How many pixels of the rendered view have exactly this colour."""
    image = view.grab().toImage().convertToFormat(QImage.Format.Format_RGB32)
    raw = np.frombuffer(image.constBits(), np.uint8).reshape(image.height(), -1)
    bgra = raw[:, :4 * image.width()].reshape(image.height(), image.width(), 4)
    return int(np.all(bgra[:, :, 2::-1] == rgb, axis=2).sum())


def test_stop_comparing_removes_the_other_run(qtbot, runs):
    _, a, b = runs
    view = _compared_view(qtbot, a, b)
    other = list(view.run_curves(b.store_id).values())
    assert all(c in view.plot_item.items for c in other)
    b_sin = QColor(view.run_curves(b.store_id)[(SIN, 0)].opts["pen"].color()).getRgb()[:3]
    assert _pixels_of(view, b_sin) > 100  # run B's sine is on screen
    view.set_compare_runs([])
    view.redraw_now()
    assert _pixels_of(view, b_sin) == 0
    assert not any(c in view.plot_item.items for c in other)
    assert view.run_curves(b.store_id) == {}
    names = [label.text for _sample, label in view.legend.items]
    assert sorted(names) == ["/plots/cos", "/plots/sin"]
    # One run again: its own colours and its own timeline values (no shift).
    curve = view.curves[(SIN, 0)]
    assert QColor(curve.opts["pen"].color()).getRgb()[:3] == auto_color(SIN, 0)
    times, _ = a.scalar_series(SIN, SCALARS, "frame")
    np.testing.assert_array_equal(view.curve_data(SIN)[0], times.astype(np.float64))


def test_run_comparisons_follow_the_application(qtbot, runs):
    """The toggle takes the other runs of the application; runs of that application opened
    later join; a closed run leaves; other applications are offered after them."""
    _, a, b = runs
    from viewer.log.messages import StoreId
    from viewer.store.entity_db import EntityDb

    c = EntityDb(StoreId(StoreKind.RECORDING, "run_c", a.store_id.application_id))
    other_app = EntityDb(StoreId(StoreKind.RECORDING, "x", "another_app"))
    dbs = {a.store_id: a, other_app.store_id: other_app, b.store_id: b}
    comps = RunComparisons(lambda: dbs, lambda sid: sid.recording_id)
    seen: list = []
    comps.changed.connect(seen.append)
    assert comps.candidates(a.store_id) == [b.store_id, other_app.store_id]
    comps.set_enabled(a.store_id, True)
    assert comps.compared(a.store_id) == [b.store_id] and seen == [a.store_id]
    dbs[c.store_id] = c
    comps.store_added(c.store_id)
    assert comps.compared(a.store_id) == [b.store_id, c.store_id]
    assert [r.db for r in comps.runs(a.store_id)] == [b, c]
    del dbs[b.store_id]
    comps.store_removed(b.store_id)
    assert comps.compared(a.store_id) == [c.store_id]
    comps.set_enabled(a.store_id, False)
    assert comps.compared(a.store_id) == []


# ------------------------------------------------------------------------- the window


def _wait_loaded(window: MainWindow, qtbot, n: int) -> list:
    assert window.hub.run_until_idle(20)
    qtbot.waitUntil(lambda: len([s for s in window.stores if s.kind == StoreKind.RECORDING]) == n
                    and window.active is not None, timeout=5000)
    return [s for s in window.stores if s.kind == StoreKind.RECORDING]


def _plot_of(window: MainWindow, qtbot) -> TimeSeriesView:
    host = window.views_area.host(window.active)
    qtbot.waitUntil(lambda: any(isinstance(v, TimeSeriesView) for v in host.all_views()),
                    timeout=5000)
    return next(v for v in host.all_views() if isinstance(v, TimeSeriesView))


def _menu_action(menu, text: str):
    return next(a for a in menu.actions() if a.text().startswith(text))


@pytest.fixture
def window(qtbot, tmp_path):
    hub = IngestHub()
    w = MainWindow(hub, AppSettings(tmp_path / "settings.ini"), restore_geometry=False)
    qtbot.addWidget(w)
    w.resize(1200, 700)
    w.show()
    hub.start()
    yield w
    hub.shutdown()
    w.cleanup()


def test_window_compare_runs_menu_live_data_and_off(window, qtbot, runs):
    folder, a, b = runs
    window.open_paths([folder / "run_a.rrd", folder / "run_b.rrd"], remember=False)
    sids = _wait_loaded(window, qtbot, 2)
    sid_a = next(s for s in sids if s.recording_id == "run_a")
    sid_b = next(s for s in sids if s.recording_id == "run_b")
    window._on_store_chosen(sid_a)
    plot = _plot_of(window, qtbot)
    assert not plot.comparing
    # View › Compare runs: the toggle takes the other run of the application.
    window.compare_menu.aboutToShow.emit()
    toggle = _menu_action(window.compare_menu, "Compare with other runs")
    assert toggle.isEnabled() and not toggle.isChecked()
    listed = [a.text() for a in window.compare_menu.actions() if a.data() is not None
              and a.isCheckable() and a.text() == "run_b"]
    assert listed == ["run_b"]  # named by its file
    toggle.trigger()
    assert window.runs.compared(sid_a) == [sid_b]
    assert plot.comparing and plot.effective_align is Align.START
    qtbot.waitUntil(lambda: len(plot.curve_data(SIN, store_id=sid_b)[0]) == 80, timeout=5000)
    times, values = b.scalar_series(SIN, SCALARS, "frame")
    np.testing.assert_array_equal(plot.curve_data(SIN, store_id=sid_b)[0], times - 100.0)
    np.testing.assert_array_equal(plot.curve_data(SIN, store_id=sid_b)[1], values)
    # The legend names both runs by their files.
    assert plot.run_curves(sid_b)[(SIN, 0)].name() == "/plots/sin · run_b"
    assert plot.run_curves()[(SIN, 0)].name() == "/plots/sin · run_a"
    # The plot's context menu offers the same menu, now checked.
    assert plot.compare_menu in plot.plot_widget.scene().contextMenu
    plot.compare_menu.aboutToShow.emit()
    assert _menu_action(plot.compare_menu, "Compare with other runs").isChecked()
    # New data of the compared run (its continuation, frames 180..199) reaches the plot.
    window.open_paths([folder / "more" / "run_b.rrd"], remember=False)
    assert window.hub.run_until_idle(20)
    qtbot.waitUntil(lambda: len(plot.curve_data(SIN, store_id=sid_b)[0]) == 100, timeout=5000)
    x, y = plot.curve_data(SIN, store_id=sid_b)
    assert x[-1] == 99.0 and y[-1] == pytest.approx(3.0 * np.sin(199 / 5.0))
    assert window.active == sid_a
    # The list in the plot's menu: unchecking run_b leaves one run, checking brings it back.
    plot.compare_menu.aboutToShow.emit()
    _menu_action(plot.compare_menu, "run_b").trigger()
    assert window.runs.compared(sid_a) == [] and not plot.comparing
    plot.compare_menu.aboutToShow.emit()
    _menu_action(plot.compare_menu, "run_b").trigger()
    assert plot.compared_runs[0].db is window.stores[sid_b].db
    # Aligned on the shared timeline instead: B keeps its own frame numbers.
    plot.compare_menu.aboutToShow.emit()
    _menu_action(plot.compare_menu, "The shared timeline").trigger()
    assert plot.effective_align is Align.TIMELINE
    qtbot.waitUntil(lambda: plot.curve_data(SIN, store_id=sid_b)[0][:1].tolist() == [100.0],
                    timeout=5000)
    # Off (View › Compare runs): back to one run.
    window.compare_menu.aboutToShow.emit()
    _menu_action(window.compare_menu, "Compare with other runs").trigger()
    assert not plot.comparing and plot.run_curves(sid_b) == {}
    qtbot.waitUntil(lambda: plot.curve_data(SIN)[0][:1].tolist() == [10.0], timeout=5000)


def test_window_closing_a_compared_run_drops_it(window, qtbot, runs):
    folder, _a, _b = runs
    window.set_compare_on_open(True)  # rrd-viewer --compare
    window.open_paths([folder / "run_a.rrd", folder / "run_b.rrd"], remember=False)
    sids = _wait_loaded(window, qtbot, 2)
    sid_a = next(s for s in sids if s.recording_id == "run_a")
    sid_b = next(s for s in sids if s.recording_id == "run_b")
    assert window.runs.compared(sid_a) == [sid_b] and window.runs.compared(sid_b) == [sid_a]
    window._on_store_chosen(sid_a)
    plot = _plot_of(window, qtbot)
    qtbot.waitUntil(lambda: len(plot.curve_data(COS, store_id=sid_b)[0]) == 80, timeout=5000)
    window.close_store(sid_b)
    assert window.runs.compared(sid_a) == [] and not plot.comparing


def test_fill_compare_menu_without_a_recording(qtbot):
    from PySide6.QtWidgets import QMenu

    menu = QMenu()
    fill_compare_menu(menu, RunComparisons(dict, str), None)
    assert [a.text() for a in menu.actions()] == ["No recording open"]
