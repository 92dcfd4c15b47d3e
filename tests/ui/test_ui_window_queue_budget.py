"""Web mode: the redraw queue's turns (view creation, unsplit redraws) fit the frame budget.

A real window (offscreen) loads a rerun-sdk file with a 3D point cloud, a scalar signal and
text log lines (three views). In web mode with a frame budget that is always spent, every
turn of the redraw queue (a job such as creating a view, or a redraw such as the spatial
view's, which cannot split its work) waits exactly ``MAX_POSTPONED`` turns and then runs:
nothing starves, the order is kept, and every view ends up showing all its data. Views
that split their work are given the budget's floor, not their own 6 ms. A frame that
reserved room for a turn (`FrameBudget.reserve_paint`) runs it without waiting. In threaded
mode the budget has no say: nothing waits.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from viewer.ingest import IngestHub, IngestSettings
from viewer.ingest.frame_budget import FrameBudget
from viewer.log.arrow import decode_arrow_payload
from viewer.log.messages import ArrowMsg, SetStoreInfo, StoreKind
from viewer.log.reader import read_rrd
from viewer.store.chunk import Chunk
from viewer.store.entity_db import EntityDb
from viewer.store.entity_path import EntityPath
from viewer.ui.main_window import MainWindow
from viewer.ui.settings import AppSettings
from viewer.ui.time_control import TimeControl
from viewer.ui.views import base
from viewer.ui.views.base import (
    MAX_POSTPONED,
    MIN_TURN_S,
    REDRAW_WORK_BUDGET_S,
    View,
    data_redraw_queue,
)
from viewer.ui.views.plot.timeseries import TimeSeriesView
from viewer.ui.views.registry import PlannedView, create_view
from viewer.ui.views.spatial.view3d import Spatial3DView
from viewer.ui.views.text.textlog import TextLogView

FRAMES = 40
POINTS = 500


@pytest.fixture(scope="module")
def recording(rerun_home: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    import rerun as rr

    path = tmp_path_factory.mktemp("queue_budget") / "mixed.rrd"
    rec = rr.RecordingStream("queue_budget_tests", recording_id="queue-budget")
    rec.save(str(path))
    rng = np.random.default_rng(7)
    for f in range(FRAMES):
        rec.set_time("frame", sequence=f)
        rec.log("world/points", rr.Points3D(rng.normal(size=(POINTS, 3))))
        rec.log("signals/sine", rr.Scalars(np.sin(f / 5.0)))
        rec.log("logs", rr.TextLog(f"line {f}"))
    rec.flush()
    rec.disconnect()
    return path


def _open_window(qtbot, tmp_path: Path, web: bool) -> MainWindow:  # noqa: ANN001
    hub = IngestHub(IngestSettings(web_mode=web))
    if web:
        # Always spent: ingestion has already taken more than the whole frame, so every
        # turn finds less than MIN_TURN_S left (the views' floor, 1 ms, is all it gets).
        hub.frame_budget.total_ms = 0.0
    window = MainWindow(hub, AppSettings(tmp_path / "settings.ini"), restore_geometry=False)
    qtbot.addWidget(window)
    window.resize(1280, 800)
    window.show()
    hub.start()
    return window


def _views(window: MainWindow) -> list[View]:
    return [v for host in window.views_area.hosts.values() for v in host.all_views()]


def _one(window: MainWindow, kind: type[View]) -> View | None:
    found = [v for v in _views(window) if isinstance(v, kind)]
    return found[0] if found else None


def _record_log_budgets(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Every non-None ``work_budget_s()`` a text log's redraws ask for (it splits its work)."""
    seen: list[float] = []

    def recording(view: View) -> float | None:
        budget = View.work_budget_s(view)
        if budget is not None:
            seen.append(budget)
        return budget

    monkeypatch.setattr(TextLogView, "work_budget_s", recording)
    return seen


def _load(window: MainWindow, recording: Path, qtbot) -> dict[str, View]:  # noqa: ANN001
    """Open the file; wait until its three views exist and show all of its data, and the
    redraw queue has nothing left."""
    queue = data_redraw_queue()

    def loaded() -> bool:
        log, plot = _one(window, TextLogView), _one(window, TimeSeriesView)
        spatial = _one(window, Spatial3DView)
        return (window.hub.is_idle() and len(queue) == 0 and len(_views(window)) == 3
                and log is not None and log.model.rowCount() == FRAMES
                and spatial is not None and spatial.prepared.n_points == POINTS
                and plot is not None and len(plot.curve_data(plot.entities[0])[0]) == FRAMES)

    window.open_paths([recording], remember=False)
    qtbot.waitUntil(loaded, timeout=20000)
    return {"log": _one(window, TextLogView), "spatial": _one(window, Spatial3DView),
            "plot": _one(window, TimeSeriesView)}


def _jobs_in_order(window: MainWindow, qtbot) -> list[tuple[str, int, int]]:  # noqa: ANN001
    """Three jobs queued at once: (name, postponed turns so far, turns so far) as each ran."""
    queue = data_redraw_queue()
    ran: list[tuple[str, int, int]] = []
    for name in ("a", "b", "c"):
        queue.add_job(window, lambda name=name: ran.append(
            (name, queue.postponed_turns, queue.turns)))
    qtbot.waitUntil(lambda: len(ran) == 3, timeout=5000)
    return ran


def _spatial_redraw(window: MainWindow, spatial: View, qtbot) -> tuple[int, int]:  # noqa: ANN001
    """A data-only redraw of the spatial view (the queue's kind of redraw), counted when it
    runs: (turns that waited, turns that ran, this one included) since it was requested."""
    queue = data_redraw_queue()
    p0, t0 = queue.postponed_turns, queue.turns
    seen: list[tuple[int, int]] = []
    own = spatial.redraw

    def redraw() -> None:
        seen.append((queue.postponed_turns - p0, queue.turns - t0))
        own()

    spatial.redraw = redraw  # type: ignore[method-assign]
    spatial.on_data_changed(list(spatial.entities))
    assert spatial.redraw_waiting
    qtbot.waitUntil(lambda: bool(seen), timeout=5000)
    return seen[0]


def test_web_turns_wait_for_a_spent_budget_at_most_max_postponed(qtbot, tmp_path, recording,
                                                                  monkeypatch):
    budgets = _record_log_budgets(monkeypatch)
    window = _open_window(qtbot, tmp_path, web=True)
    hub = window.hub
    # The plot's hand-over reserves its frame, whose turn never waits (tested below): off
    # here, so that every turn of the load waits.
    monkeypatch.setattr(hub.frame_budget, "reserve_paint", lambda: None)
    queue = data_redraw_queue()
    turns0, postponed0 = queue.turns, queue.postponed_turns  # the queue is process-wide
    try:
        assert queue.budget is hub.frame_budget and hub.frame_budget.shared
        views = _load(window, recording, qtbot)
        turns, postponed = queue.turns - turns0, queue.postponed_turns - postponed0
        # The load's turns (activating the store, creating and docking each view, their
        # redraws) all ran, each after at most MAX_POSTPONED waits; a wait whose turn was
        # taken by a prompt redraw carries over to the next turn, so at most one turn's
        # waits are not followed by a turn.
        assert turns >= 4
        assert MAX_POSTPONED * turns <= postponed <= MAX_POSTPONED * (turns + 1)
        # The text log splits its work: in a spent frame it is given the budget's floor.
        floor = hub.frame_budget.views_min_ms / 1000.0
        assert budgets and all(b == pytest.approx(floor) for b in budgets)

        # Jobs queued together run in order, one per turn, each after exactly
        # MAX_POSTPONED waits (the first after at most that many).
        queue_before_jobs = queue.postponed_turns
        ran = _jobs_in_order(window, qtbot)
        assert [name for name, _p, _t in ran] == ["a", "b", "c"]
        at = [t - ran[0][2] for _n, _p, t in ran]
        assert at == [0, 1, 2]
        waits = [p - ran[0][1] for _n, p, _t in ran]
        assert waits == [0, MAX_POSTPONED, 2 * MAX_POSTPONED]
        assert ran[0][1] - queue_before_jobs <= MAX_POSTPONED
        # So does the spatial view's redraw, which cannot split its work.
        # Other turns may come first (e.g. the views host's periodic sync): each waited
        # MAX_POSTPONED times too.
        waited, turns = _spatial_redraw(window, views["spatial"], qtbot)
        assert turns >= 1 and waited == MAX_POSTPONED * turns
    finally:
        hub.shutdown()
        window.close()
    assert queue.budget is None, "a closed window's budget does not stay with the queue"


def test_threaded_turns_never_wait(qtbot, tmp_path, recording, monkeypatch):
    budgets = _record_log_budgets(monkeypatch)
    window = _open_window(qtbot, tmp_path, web=False)
    hub = window.hub
    queue = data_redraw_queue()
    turns0, postponed0 = queue.turns, queue.postponed_turns  # the queue is process-wide
    try:
        assert queue.budget is hub.frame_budget
        assert hub.frame_budget.redraw_allowance_s() is None
        views = _load(window, recording, qtbot)
        assert queue.turns - turns0 >= 4 and queue.postponed_turns == postponed0
        # Views that split their work keep their own per-redraw budget.
        assert budgets
        assert all(b == REDRAW_WORK_BUDGET_S for b in budgets)
        ran = _jobs_in_order(window, qtbot)
        assert [name for name, _p, _t in ran] == ["a", "b", "c"]
        assert {p for _n, p, _t in ran} == {postponed0}
        waited, turns = _spatial_redraw(window, views["spatial"], qtbot)
        assert turns >= 1 and waited == 0
    finally:
        hub.shutdown()
        window.close()
    assert queue.budget is None


def _db_of(path: Path) -> EntityDb:
    """The file's recording in an EntityDb, chunk by chunk as the frame driver applies it."""
    msgs, errors = read_rrd(path)
    assert not errors
    db: EntityDb | None = None
    for msg in msgs:
        if isinstance(msg, SetStoreInfo) and msg.info.store_id.kind == StoreKind.RECORDING:
            db = EntityDb(msg.info.store_id)
        elif isinstance(msg, ArrowMsg) and db is not None:
            db.add_chunk(Chunk.from_record_batch(decode_arrow_payload(msg)))
    assert db is not None and db.num_rows > 0
    return db


def test_only_a_turn_that_would_run_waits(qtbot, recording, monkeypatch):
    """A spent budget (web mode, between two ticks) holds back only a turn that has
    something to run: ticks while the spatial view's throttle has not passed are not
    counted as waits, so its redraw still gets its MAX_POSTPONED waits once it is due,
    and then runs."""
    db = _db_of(recording)
    tc = TimeControl()
    tc.set_timeline("frame")
    tc.set_time(db.time_range("frame")[1])
    points = EntityPath.parse("world/points")
    planned = PlannedView(("Spatial3DView", "points"), Spatial3DView, [points], "points")
    view = create_view(planned, db, tc)
    qtbot.addWidget(view)
    view.redraw_now()
    assert view.prepared.n_points == POINTS
    budget = FrameBudget(shared=True, total_ms=0.0)
    assert budget.redraw_allowance_s() < MIN_TURN_S  # spent: only the views' floor left
    queue = data_redraw_queue()
    queue.budget = budget
    p0, n0 = queue.postponed_turns, view.redraw_count
    monkeypatch.setattr(base, "DATA_REDRAW_INTERVAL_S", 600.0)  # throttled: nothing due
    view.on_data_changed([points])
    for _ in range(2 * MAX_POSTPONED):
        queue.tick()
    assert view.redraw_waiting and view.redraw_count == n0
    assert queue.postponed_turns == p0
    monkeypatch.setattr(base, "DATA_REDRAW_INTERVAL_S", 0.0)  # due now
    for _ in range(MAX_POSTPONED):
        queue.tick()
        assert view.redraw_count == n0
    queue.tick()
    assert view.redraw_count == n0 + 1 and not view.redraw_waiting
    assert queue.postponed_turns == p0 + MAX_POSTPONED

    # A frame that reserved room for a turn (the plot's hand-over, announced the turn
    # before) runs it at once, spent or not.
    budget.reserve_paint()
    budget.begin_frame()
    assert budget.paint_reserved and budget.redraw_allowance_s() < MIN_TURN_S
    view.on_data_changed([points])
    queue.tick()
    assert view.redraw_count == n0 + 2 and queue.postponed_turns == p0 + MAX_POSTPONED


@pytest.mark.parametrize("shared", [True, False])
def test_a_queued_job_reserves_its_frame_and_the_one_after(qtbot, shared):
    """Web mode: a job (a store's activation, a view's creation) reserves the next frame,
    and a job that adds widgets the frame of their first paint too, so ingestion leaves
    room for them; threaded mode reserves nothing."""
    queue = base.DataRedrawQueue()
    budget = FrameBudget(shared=shared)
    queue.budget = budget
    owner = queue  # any live QObject owns the jobs
    ran: list[str] = []
    queue.add_job(owner, lambda: ran.append("first"), rest_after=True)
    queue.add_job(owner, lambda: ran.append("second"))
    reserved = []
    for _ in range(4):
        budget.begin_frame()
        budget.end_ingest()
        reserved.append(budget.paint_reserved)
        with budget.views_turn():
            queue.on_frame()
        budget.end_frame()
    assert ran == ["first", "second"]
    # frame 0: reserved by add_job; 1: the rest turn (first paint); 2: the second job
    assert reserved == ([True, True, True, False] if shared else [False] * 4)
    queue.clear()
