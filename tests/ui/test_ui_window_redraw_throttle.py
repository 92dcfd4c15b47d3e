"""Data-only redraws are throttled and spread over frames; user actions redraw promptly.

Behaviour, not timing: the throttle interval is set far longer than the test runs, so
"no redraw yet" cannot be an accident of a slow machine.
"""

from __future__ import annotations

import numpy as np
import pytest

from viewer.demo import demo_batches
from viewer.log.messages import StoreId, StoreKind
from viewer.store.chunk import Chunk
from viewer.store.entity_db import EntityDb
from viewer.store.entity_path import EntityPath
from viewer.ui.time_control import TimeControl
from viewer.ui.views import base
from viewer.ui.views.plot.timeseries import TimeSeriesView
from viewer.ui.views.registry import PlannedView, create_view
from viewer.ui.views.spatial.view3d import Spatial3DView
from viewer.ui.views.text.textlog import TextLogView, collect_log

SIN, COS, DAMPED = (EntityPath.parse(f"/plots/{n}") for n in ("sin", "cos", "damped"))
LOGS = EntityPath.parse("/logs")
SPIRAL = EntityPath.parse("/world/spiral")


def demo_chunks(frames: int = 600) -> list[Chunk]:
    return [Chunk.from_record_batch(b) for b in demo_batches(1_700_000_000_000_000_000, frames)]


def spiral_view(db: EntityDb, tc: TimeControl) -> Spatial3DView:
    """A 3D view of the spiral as the window makes it (scene source from the registry)."""
    planned = PlannedView(("Spatial3DView", "spiral"), Spatial3DView, [SPIRAL], "spiral")
    return create_view(planned, db, tc)


def new_db() -> EntityDb:
    return EntityDb(StoreId(StoreKind.RECORDING, "throttle", "tests"))


@pytest.fixture
def slow_throttle(monkeypatch):
    """Data-only redraws at most every 10 minutes: only user actions may redraw now."""
    monkeypatch.setattr(base, "DATA_REDRAW_INTERVAL_S", 600.0)


def _feed(db: EntityDb, chunks: list[Chunk], views, tc: TimeControl) -> None:  # noqa: ANN001
    """Apply chunks one by one like the frame driver: report them and follow the data."""
    for chunk in chunks:
        db.add_chunk(chunk)
        for view in views:
            view.on_data_changed([chunk.entity_path])
        rng = db.time_range("frame")
        if rng is not None:
            tc.set_time(rng[1], by_data=True)


def test_burst_of_data_changes_is_bounded_and_user_cursor_redraws(qtbot, slow_throttle):
    chunks = demo_chunks()
    db = new_db()
    tc = TimeControl()
    tc.set_timeline("frame")
    plot = TimeSeriesView(db, [SIN], tc)
    cloud = spiral_view(db, tc)
    for view in (plot, cloud):
        qtbot.addWidget(view)
    half = len(chunks) // 2
    _feed(db, chunks[:half], (plot, cloud), tc)
    # The first data of a view is drawn without waiting for the interval (in one or, on a
    # slow machine, several budgeted slices).
    qtbot.waitUntil(lambda: plot.redraw_count >= 1 and cloud.redraw_count >= 1
                    and not plot.redraw_waiting and not cloud.redraw_waiting, timeout=2000)
    first = (plot.redraw_count, cloud.redraw_count)
    shown = len(plot.curve_data(SIN)[0])
    assert shown == len(db.scalar_series(SIN, "Scalars:scalars", "frame")[0])

    _feed(db, chunks[half:], (plot, cloud), tc)  # a burst: dozens of reports + cursor moves
    qtbot.wait(150)  # several frame ticks of the redraw queue
    assert (plot.redraw_count, cloud.redraw_count) == first  # throttled: nothing yet
    assert plot.redraw_waiting and cloud.redraw_waiting
    assert len(plot.curve_data(SIN)[0]) == shown

    tc.set_time(5)  # the user moves the cursor: both redraw now, with all the new data
    after = (first[0] + 1, first[1] + 1)
    qtbot.waitUntil(lambda: (plot.redraw_count, cloud.redraw_count) == after, timeout=2000)
    full = len(db.scalar_series(SIN, "Scalars:scalars", "frame")[0])
    assert full > shown
    assert len(plot.curve_data(SIN)[0]) == full
    assert plot.cursor_line.value() == pytest.approx(5)
    assert not plot.redraw_waiting and not cloud.redraw_waiting
    qtbot.wait(50)
    assert (plot.redraw_count, cloud.redraw_count) == after  # folded: no extra redraw


def test_cursor_following_data_waits_for_the_throttle(qtbot, slow_throttle):
    db = new_db()
    for chunk in demo_chunks(240):
        db.add_chunk(chunk)
    tc = TimeControl()
    tc.set_timeline("frame")
    tc.set_time(0)
    view = spiral_view(db, tc)
    qtbot.addWidget(view)
    view.schedule_redraw()
    qtbot.waitUntil(lambda: view.redraw_count == 1, timeout=2000)
    for t in range(4, 200, 4):
        tc.set_time(t, by_data=True)
    qtbot.wait(100)
    assert view.redraw_count == 1 and view.redraw_waiting
    tc.set_time(200)  # by the user
    qtbot.waitUntil(lambda: view.redraw_count == 2, timeout=2000)


def test_queue_redraws_one_view_per_tick(qtbot, monkeypatch):
    monkeypatch.setattr(base, "DATA_REDRAW_INTERVAL_S", 0.0)
    db = new_db()
    for chunk in demo_chunks(120):
        db.add_chunk(chunk)
    tc = TimeControl()
    tc.set_timeline("frame")
    views = [TimeSeriesView(db, [e], tc) for e in (SIN, COS, DAMPED)]
    for view in views:
        qtbot.addWidget(view)
        view.on_data_changed([view.entities[0]])  # queued, not drawn yet
    monkeypatch.setattr(base, "REDRAW_WORK_BUDGET_S", 10.0)  # each in one turn, even if slow
    queue = base.data_redraw_queue()
    assert [v.redraw_count for v in views] == [0, 0, 0]
    for ticks in (1, 2, 3):
        queue.tick()
        assert sum(v.redraw_count for v in views) == ticks  # exactly one view per tick
    assert [v.redraw_count for v in views] == [1, 1, 1]
    assert not any(v.redraw_waiting for v in views)


def test_budgeted_redraws_continue_until_everything_is_shown(qtbot, monkeypatch):
    """With no per-frame budget at all, a queued redraw still makes progress each tick
    (one curve / one log chunk) and continues on the next ticks until complete."""
    monkeypatch.setattr(base, "REDRAW_WORK_BUDGET_S", 0.0)
    db = new_db()
    for chunk in demo_chunks(600):
        db.add_chunk(chunk)
    tc = TimeControl()
    tc.set_timeline("frame")
    plot = TimeSeriesView(db, [SIN, COS, DAMPED], tc)
    log = TextLogView(db, [LOGS], tc)
    for view in (plot, log):
        qtbot.addWidget(view)
        view.on_data_changed(view.entities)
    queue = base.data_redraw_queue()
    queue.tick()  # the plot's turn: one curve only
    queue.tick()  # the log's turn: one chunk only
    assert sum(len(plot.curve_data(e)[0]) > 0 for e in (SIN, COS, DAMPED)) == 1
    expected = len(collect_log(db, [LOGS], "frame"))
    assert 0 < log.model.rowCount() < expected
    assert plot.redraw_waiting and log.redraw_waiting
    qtbot.waitUntil(lambda: not plot.redraw_waiting and not log.redraw_waiting, timeout=5000)
    for e in (SIN, COS, DAMPED):
        times, values = db.scalar_series(e, "Scalars:scalars", "frame")
        np.testing.assert_array_equal(plot.curve_data(e)[1], values)
    assert log.model.rowCount() == expected
    # A direct redraw (screenshots, tests) is never split.
    other = TimeSeriesView(db, [SIN, COS, DAMPED], tc)
    qtbot.addWidget(other)
    other.redraw_now()
    assert all(len(other.curve_data(e)[0]) > 0 for e in (SIN, COS, DAMPED))


def test_flush_runs_waiting_redraws_in_full(qtbot, slow_throttle, monkeypatch):
    """Screenshots flush the queue: every waiting view shows all of its data at once."""
    monkeypatch.setattr(base, "REDRAW_WORK_BUDGET_S", 0.0)
    chunks = demo_chunks(600)
    db = new_db()
    tc = TimeControl()
    tc.set_timeline("frame")
    plot = TimeSeriesView(db, [SIN, COS, DAMPED], tc)
    log = TextLogView(db, [LOGS], tc)
    for view in (plot, log):
        qtbot.addWidget(view)
    _feed(db, chunks, (plot, log), tc)
    assert plot.redraw_waiting and log.redraw_waiting
    assert base.data_redraw_queue().flush() == 2
    assert not plot.redraw_waiting and not log.redraw_waiting
    for e in (SIN, COS, DAMPED):
        _, values = db.scalar_series(e, "Scalars:scalars", "frame")
        np.testing.assert_array_equal(plot.curve_data(e)[1], values)
    assert log.model.rowCount() == len(collect_log(db, [LOGS], "frame"))


def test_streaming_data_does_not_keep_a_split_plot_update_going(qtbot, slow_throttle,
                                                                 monkeypatch):
    """A plot update split over frames covers the curves dirty when it started; data that
    arrives meanwhile waits for the next throttled update (it used to extend the update
    while data kept coming, so a loading plot redrew on nearly every frame)."""
    monkeypatch.setattr(base, "REDRAW_WORK_BUDGET_S", 0.0)  # one curve per frame
    chunks = demo_chunks(600)
    db = new_db()
    tc = TimeControl()
    tc.set_timeline("frame")
    plot = TimeSeriesView(db, [SIN, COS, DAMPED], tc)
    qtbot.addWidget(plot)
    half = len(chunks) // 2
    _feed(db, chunks[:half], (plot,), tc)
    first = {e: len(db.scalar_series(e, "Scalars:scalars", "frame")[0]) for e in (SIN, COS, DAMPED)}
    queue = base.data_redraw_queue()
    for chunk in chunks[half:]:  # data keeps arriving between the frames
        queue.tick()
        _feed(db, [chunk], (plot,), tc)
    # Three curves read one per frame, then handed to pyqtgraph together in a fourth.
    assert plot.redraw_count == 4
    assert plot.redraw_waiting  # the newer data: next update, after the interval
    for e in (SIN, COS, DAMPED):
        shown = plot.curves[(e, 0)].getData()[0]
        assert len(plot.curve_data(e)[0]) == first[e] and shown is not None and len(shown) > 0
    assert queue.flush() == 1
    for e in (SIN, COS, DAMPED):
        _, values = db.scalar_series(e, "Scalars:scalars", "frame")
        assert len(values) > first[e]
        np.testing.assert_array_equal(plot.curve_data(e)[1], values)


def test_streaming_data_does_not_keep_a_split_log_update_going(qtbot, slow_throttle,
                                                                monkeypatch):
    """Like the plot: a split text-log update decodes the chunks present when it started;
    log chunks arriving meanwhile wait for the next throttled update (they used to extend
    the update, so a loading text log redrew on nearly every frame)."""
    monkeypatch.setattr(base, "REDRAW_WORK_BUDGET_S", 0.0)  # one new chunk per frame
    chunks = [c for c in demo_chunks(600) if c.entity_path == LOGS]
    assert len(chunks) >= 6
    db = new_db()
    tc = TimeControl()
    tc.set_timeline("frame")
    log = TextLogView(db, [LOGS], tc)
    qtbot.addWidget(log)
    half = len(chunks) // 2
    for chunk in chunks[:half]:
        db.add_chunk(chunk)
    log.on_data_changed([LOGS])
    queue = base.data_redraw_queue()
    for chunk in chunks[half:]:  # a new log chunk arrives before every frame
        _feed(db, [chunk], (log,), tc)
        queue.tick()
    for _ in range(half):  # let the started update finish
        queue.tick()
    # The update starts at the first tick, after one more chunk arrived: one redraw per
    # chunk present then, however many arrived meanwhile.
    assert log.redraw_count == half + 1
    assert log.model.rowCount() == len(collect_log(db, [LOGS], "frame")) - \
        len(collect_log_of(chunks[half + 1:]))
    assert log.redraw_waiting  # the newer chunks: their own update, after the interval
    queue.flush()
    assert log.model.rowCount() == len(collect_log(db, [LOGS], "frame"))


def collect_log_of(chunks: list[Chunk]):  # noqa: ANN201
    db = new_db()
    for chunk in chunks:
        db.add_chunk(chunk)
    return collect_log(db, [LOGS], "frame")


def test_data_left_for_the_next_cycle_is_drawn_when_the_stream_stops(qtbot, monkeypatch):
    """A chunk that arrives for a curve already read by a split plot update waits for the
    next cycle; if the stream then stops, that next cycle still comes (no new report)."""
    monkeypatch.setattr(base, "DATA_REDRAW_INTERVAL_S", 0.0)
    monkeypatch.setattr(base, "REDRAW_WORK_BUDGET_S", 0.0)  # one read per turn
    chunks = demo_chunks(60)
    sin_chunks = [c for c in chunks if c.entity_path == SIN]
    late = sin_chunks.pop()  # SIN's newest chunk arrives mid-update
    db = new_db()
    tc = TimeControl()
    tc.set_timeline("frame")
    plot = TimeSeriesView(db, [SIN, COS, DAMPED], tc)
    qtbot.addWidget(plot)
    _feed(db, [c for c in chunks if c is not late], (plot,), tc)
    queue = base.data_redraw_queue()
    queue.tick()  # the update starts: reads SIN
    assert plot.redraw_waiting  # COS and DAMPED next turns
    _feed(db, [late], (plot,), tc)  # new SIN data while the update runs
    for _ in range(50):  # no more data: only the queue's turns from here on
        if not plot.redraw_waiting:
            break
        queue.tick()
    assert not plot.redraw_waiting
    times, _ = db.scalar_series(SIN, "Scalars:scalars", "frame")
    assert plot.curves[(SIN, 0)].xData.max() == float(times[-1])  # the late chunk is drawn
