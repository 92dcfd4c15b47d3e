"""Plot updates: the time-series range follows the data as the view sets it (not pyqtgraph's
auto-range), one plot update paints once, the ViewBox menu is built lazily, and new views of
a store are created one per turn of the redraw queue."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np
import pyarrow as pa
import pytest
import shiboken6
from PySide6.QtCore import QEvent, QObject

from viewer.demo import build_chunk, demo_batches
from viewer.log.messages import StoreId, StoreKind
from viewer.log.sorbet import TuidGenerator
from viewer.store.chunk import Chunk
from viewer.store.entity_db import EntityDb
from viewer.store.entity_path import EntityPath
from viewer.ui.time_control import TimeControl
from viewer.ui.views.base import data_redraw_queue
from viewer.ui.views.plot.timeseries import SCALARS, TimeSeriesView
from viewer.ui.views.registry import heuristic_plan
from viewer.ui.views_area import ViewsHost

START_NS = 1_700_000_000_000_000_000
CURVE = EntityPath.parse("/plots/a")


def new_db() -> EntityDb:
    return EntityDb(StoreId(StoreKind.RECORDING, "plot-updates", "tests"))


class ScalarFeed:
    """Chunks of one scalar entity on the "frame" timeline, with chosen values."""

    def __init__(self) -> None:
        self.ids = TuidGenerator(START_NS)

    def chunk(self, frames: Sequence[int], values: Sequence[float]) -> Chunk:
        column = pa.array([[float(v)] for v in values], pa.list_(pa.float64()))
        return Chunk.from_record_batch(build_chunk(
            self.ids, str(CURVE), list(frames), None, [("Scalars", "scalars", "Scalar", column)]))


def append(view: TimeSeriesView, chunk: Chunk) -> None:
    """Like the frame driver: store the chunk, report it, then draw in full (no budget)."""
    view.db.add_chunk(chunk)
    view.on_data_changed([chunk.entity_path])
    view.redraw_now()


def data_bounds(db: EntityDb) -> tuple[float, float, float, float]:
    times, values = db.scalar_series(CURVE, SCALARS, "frame")
    return float(times[0]), float(times[-1]), float(values.min()), float(values.max())


def assert_covers(view: TimeSeriesView, x: bool = True, y: bool = True) -> None:
    """The view range holds all data on the given axes, with no more than a small margin."""
    x0, x1, y0, y1 = data_bounds(view.db)
    (vx0, vx1), (vy0, vy1) = view.plot_item.getViewBox().viewRange()
    if x:
        assert vx0 <= x0 and vx1 >= x1
        assert vx1 - vx0 <= 1.25 * (x1 - x0)  # fitted (padding <= 10 % a side)
    if y:
        assert vy0 <= y0 and vy1 >= y1
        assert vy1 - vy0 <= 1.25 * (y1 - y0)


@pytest.fixture
def plot(qtbot) -> Iterator[tuple[TimeSeriesView, ScalarFeed]]:
    """A time-series view with frames 0..99 of values in [-1, 1] drawn."""
    data_redraw_queue().flush()  # nothing left over from other tests takes a turn here
    feed = ScalarFeed()
    db = new_db()
    tc = TimeControl()
    tc.set_timeline("frame")
    view = TimeSeriesView(db, [CURVE], tc)
    qtbot.addWidget(view)
    view.resize(640, 400)
    frames = np.arange(100)
    append(view, feed.chunk(frames, np.sin(frames / 10)))
    yield view, feed


# ------------------------------------------------------------------ following the data


def test_range_covers_the_data_without_pyqtgraph_auto_range(plot):
    view, _ = plot
    vb = view.plot_item.getViewBox()
    assert len(view.curve_data(CURVE)[0]) == 100
    assert view.follow.follow == [True, True]
    assert not any(vb.autoRangeEnabled())
    assert_covers(view)


def test_range_grows_with_appended_data(plot):
    view, feed = plot
    vb = view.plot_item.getViewBox()
    before = vb.viewRange()[0]
    frames = np.arange(100, 200)
    append(view, feed.chunk(frames, 3 * np.cos(frames / 10)))
    assert len(view.curve_data(CURVE)[0]) == 200
    after = vb.viewRange()[0]
    assert after[1] > before[1] and after[1] >= 199
    assert_covers(view)
    assert not any(vb.autoRangeEnabled())


def test_user_zoom_stops_x_following_but_y_still_follows(plot):
    view, feed = plot
    vb = view.plot_item.getViewBox()
    vb.sigRangeChangedManually.emit([True, False])  # as a mouse zoom on x reports it
    vb.setRange(xRange=(10, 20), padding=0)
    assert view.follow.follow == [False, True]
    frames = np.arange(100, 200)
    append(view, feed.chunk(frames, 5 * np.sin(frames / 7)))  # wider in x and y
    assert len(view.curve_data(CURVE)[0]) == 200
    assert vb.viewRange()[0] == pytest.approx([10, 20])
    assert_covers(view, x=False, y=True)
    assert vb.viewRange()[1][1] >= 4.9  # y followed to the new, larger values
    assert not any(vb.autoRangeEnabled())


@pytest.mark.parametrize("how", ["auto button", "enableAutoRange"])
def test_auto_button_turns_following_back_on(qtbot, plot, how):
    view, feed = plot
    vb = view.plot_item.getViewBox()
    vb.sigRangeChangedManually.emit([True, True])
    vb.setRange(xRange=(10, 20), yRange=(0, 0.1), padding=0)
    frames = np.arange(100, 200)
    append(view, feed.chunk(frames, 2 * np.cos(frames / 10)))
    assert view.follow.follow == [False, False]
    assert vb.viewRange()[0] == pytest.approx([10, 20])

    if how == "auto button":
        assert view.plot_item.autoBtn.mode == "auto"
        view.plot_item.autoBtnClicked()
    else:
        vb.enableAutoRange()
    qtbot.waitUntil(lambda: view.follow.follow == [True, True], timeout=1000)
    assert not any(vb.autoRangeEnabled())  # taken over, not left to pyqtgraph
    assert_covers(view)
    frames = np.arange(200, 260)
    append(view, feed.chunk(frames, np.zeros(len(frames))))
    assert_covers(view)  # and it keeps following
    assert not any(vb.autoRangeEnabled())


# ------------------------------------------------------------------ paints per update


class PaintCounter(QObject):
    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt API)
        if event.type() == QEvent.Type.Paint:
            self.count += 1
        return False


def test_one_paint_per_plot_update_and_cursor_moves_without_set_data(qtbot, plot):
    view, feed = plot
    view.show()
    qtbot.waitExposed(view)
    # A first update to integer-only y ticks: the left axis narrows to fit its labels, and
    # that relayout (pyqtgraph sizing the axis to its text) repaints the plot again, whatever
    # the view does. The counted updates below keep labels of that width ("-4" .. "5").
    frames = np.arange(100, 150)
    append(view, feed.chunk(frames, 3 * np.sin(frames / 9)))
    qtbot.wait(100)  # layout and paints settle
    viewport = view.plot_widget.viewport()
    counter = PaintCounter()
    viewport.installEventFilter(counter)
    try:
        for i in range(3):
            first = 150 + 50 * i
            frames = np.arange(first, first + 50)
            counter.count = 0
            append(view, feed.chunk(frames, (i + 4) * np.sin(frames / 9)))  # x and y grow
            qtbot.wait(100)
            assert_covers(view)
            assert counter.count == 1, f"update {i}: {counter.count} paints"

        curve = view.curves[(CURVE, 0)]
        x_before, y_before = curve.xData, curve.yData
        set_data_calls = []
        original = curve.setData
        curve.setData = lambda *a, **k: (set_data_calls.append(1), original(*a, **k))[1]
        redraws = view.redraw_count
        counter.count = 0
        view.time_control.set_time(150)  # the user moves the cursor
        qtbot.wait(100)
        assert view.cursor_line.value() == pytest.approx(150)
        assert counter.count >= 1  # the line moved on screen
        assert set_data_calls == []
        assert curve.xData is x_before and curve.yData is y_before
        assert view.redraw_count == redraws  # no redraw of the curves at all
    finally:
        viewport.removeEventFilter(counter)


# ------------------------------------------------------------------ lazy ViewBox menu


def test_viewbox_menu_is_built_on_first_use(plot):
    view, _ = plot
    vb = view.plot_item.getViewBox()
    assert vb.menu is None
    assert vb.menuEnabled()
    menu = vb.getMenu(None)
    assert menu is not None and vb.menu is menu
    texts = [a.text() for a in menu.actions()]
    assert "View All" in texts
    assert vb.getMenu(None) is menu  # built once
    assert vb.getContextMenus(None) == menu.actions()


# ------------------------------------------------------------------ views one per turn


@pytest.fixture
def demo_db() -> EntityDb:
    db = new_db()
    for batch in demo_batches(START_NS, 120):
        db.add_chunk(Chunk.from_record_batch(batch))
    return db


def _host(qtbot, db: EntityDb) -> ViewsHost:
    data_redraw_queue().flush()  # an empty queue: only this host's jobs take turns
    tc = TimeControl()
    tc.set_timeline("frame")
    host = ViewsHost(db, tc)
    qtbot.addWidget(host)
    return host


def test_views_are_created_one_per_queue_turn(qtbot, demo_db):
    expected = [v.key for v in heuristic_plan(demo_db).views]
    assert len(expected) >= 4 and len({k[0] for k in expected}) >= 4  # several view kinds
    host = _host(qtbot, demo_db)
    queue = data_redraw_queue()
    assert host.sync(limit=0) == []
    assert host.views == {} and host.views_pending
    for n in range(1, len(expected) + 1):
        queue.tick()
        assert list(host.views) == expected[:n]  # exactly one more, in suggestion order
        assert host.views_pending == (n < len(expected))
        assert len(host.docks) == n - 1  # built; its dock comes in a turn of its own
        queue.tick()
        assert len(host.docks) == n
        queue.tick()  # the turn after docking is left to its layout and first paint
        assert list(host.views) == expected[:n] and len(host.docks) == n
    assert len(queue) == 0  # nothing more queued
    queue.tick()
    assert list(host.views) == expected


def test_flush_pending_creates_all_remaining_views(qtbot, demo_db):
    expected = [v.key for v in heuristic_plan(demo_db).views]
    host = _host(qtbot, demo_db)
    queue = data_redraw_queue()
    host.sync(limit=0)
    queue.tick()
    assert len(host.views) == 1 and not host.docks
    host.flush_pending()
    assert list(host.views) == expected and not host.views_pending
    assert len(host.docks) == len(expected)  # the built one docked too
    for _ in range(3):  # the turns queued before the flush find nothing left to do
        queue.tick()
    assert list(host.views) == expected and len(host.docks) == len(expected)
    assert len(queue) == 0


def test_job_of_a_deleted_host_is_dropped(qtbot, demo_db):
    data_redraw_queue().flush()
    tc = TimeControl()
    tc.set_timeline("frame")
    host = ViewsHost(demo_db, tc)
    host.sync(limit=0)
    queue = data_redraw_queue()
    assert len(queue) == 1
    shiboken6.delete(host)
    queue.tick()  # must not touch the deleted host
    assert len(queue) == 0
    ran: list[int] = []
    owner = QObject()
    queue.add_job(owner, lambda: ran.append(1))
    shiboken6.delete(owner)
    queue.tick()
    assert ran == [] and len(queue) == 0
