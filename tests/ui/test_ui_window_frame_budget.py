"""Web mode: ONE per-frame budget for ingestion and the views' redraws.

A real window (offscreen) loads rerun-sdk files of one recording in web mode: first a small
part (the plot view is made), then a big part while the plot keeps redrawing. Each frame's
split (`FrameBudget.splits`, UI-thread CPU time, so a preempted test machine does not count)
must stay within the budget, a long redraw must cut the next frame's ingestion, and the
plot must end up drawing every row.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

from viewer.ingest import IngestHub, IngestSettings
from viewer.store.entity_path import EntityPath
from viewer.ui.main_window import MainWindow
from viewer.ui.settings import AppSettings
from viewer.ui.views.base import data_redraw_queue
from viewer.ui.views.plot.timeseries import TimeSeriesView

ENTITIES = [f"signals/s{i}" for i in range(4)]
ROWS_PER_CHUNK = 500
#: A small budget, so that ingestion and a redraw, each within a budget of its own (8 and
#: 6 ms before), would overrun it.
BUDGET_MS, INGEST_MAX_MS, INGEST_MIN_MS = 8.0, 6.0, 1.0
#: What a frame may exceed the budget by: work that is not split finer (one decoded
#: message past ingestion's deadline, one read slice of the plot, the window's panels).
SLACK_MS = 2.0
#: ... and what no frame may exceed it by (the curves' hand-over, which is not split).
HARD_SLACK_MS = 8.0


def _write_part(path: Path, first_chunk: int, chunks: int) -> None:
    """``chunks`` chunks of 500 rows per entity, one recording id for every part."""
    import rerun as rr

    rec = rr.RecordingStream("frame_budget_tests", recording_id="budget-run")
    rec.save(str(path))
    for c in range(first_chunk, first_chunk + chunks):
        frames = np.arange(c * ROWS_PER_CHUNK, (c + 1) * ROWS_PER_CHUNK)
        for i, entity in enumerate(ENTITIES):
            rec.send_columns(entity, indexes=[rr.TimeColumn("frame", sequence=frames)],
                             columns=rr.Scalars.columns(scalars=np.sin(frames / 500.0 + i)))
    rec.flush()
    rec.disconnect()


@pytest.fixture(scope="module")
def parts(rerun_home: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("budget")
    small, big = folder / "part1.rrd", folder / "part2.rrd"
    _write_part(small, 0, 1)
    _write_part(big, 1, 120)
    return small, big


@pytest.fixture
def gui_allocation():
    """Allocate as the window does (`viewer.runtime`): pyarrow on malloc, numpy in 4 KB
    pages; jemalloc stalls ~1 % of decodes for ~5 ms, which no budget can split. Restored
    afterwards, so other tests keep the process as it was."""
    import pyarrow as pa

    from viewer.runtime import no_numpy_huge_pages, use_system_arrow_allocator

    pool = pa.default_memory_pool()
    core = getattr(np, "_core", None)
    setter = getattr(getattr(core, "multiarray", None), "_set_madvise_hugepage", None)
    use_system_arrow_allocator()
    huge = setter(False) if setter is not None else None
    no_numpy_huge_pages()
    yield
    pa.set_memory_pool(pool)
    if setter is not None and huge is not None:
        setter(huge)


@pytest.fixture
def web_window(qtbot, tmp_path, gui_allocation):
    hub = IngestHub(IngestSettings(web_mode=True))
    budget = hub.frame_budget
    budget.total_ms, budget.ingest_max_ms, budget.ingest_min_ms = (
        BUDGET_MS, INGEST_MAX_MS, INGEST_MIN_MS)
    window = MainWindow(hub, AppSettings(tmp_path / "settings.ini"), restore_geometry=False)
    qtbot.addWidget(window)
    window.resize(1280, 800)
    window.show()
    hub.start()
    yield window
    hub.shutdown()
    window.cleanup()


def _plot(window: MainWindow) -> TimeSeriesView | None:
    for host in window.views_area.hosts.values():
        for view in host.all_views():
            if isinstance(view, TimeSeriesView):
                return view
    return None


def _burn_cpu(ms: float) -> None:
    """UI-thread CPU work of a known size (a redraw that cannot be split)."""
    end = time.thread_time() + ms / 1000.0
    while time.thread_time() < end:
        pass


def test_web_frames_share_one_budget_and_every_row_is_drawn(web_window, parts, qtbot):
    window, hub = web_window, web_window.hub
    budget = hub.frame_budget
    assert budget.shared and window.views_area.frame_budget is budget
    small, big = parts
    window.open_paths([small], remember=False)
    qtbot.waitUntil(lambda: _plot(window) is not None and _plot(window).redraw_count > 0,
                    timeout=10000)
    plot = _plot(window)
    assert plot is not None and plot.frame_budget is budget

    before = len(budget.splits)
    window.open_paths([big], remember=False)
    # Once the load is under way, a redraw-queue job of 12 ms of CPU (more than the whole
    # budget) runs in one frame: the next frame's ingestion must get only its minimum.
    burned: list[bool] = []
    db = plot.db
    qtbot.waitUntil(lambda: db.num_rows > 20 * ROWS_PER_CHUNK, timeout=10000)
    data_redraw_queue().add_job(window, lambda: (_burn_cpu(12.0), burned.append(True)))
    assert hub.run_until_idle(30)
    store_rows = {EntityPath.parse(e): 121 * ROWS_PER_CHUNK for e in ENTITIES}
    qtbot.waitUntil(lambda: all(len(plot.curve_data(e)[0]) == n for e, n in store_rows.items())
                    and not plot.redraw_waiting, timeout=10000)
    assert burned

    splits = list(budget.splits)[before:]
    assert len(splits) >= 10, "the big part loads over many frames"
    long_frames = [i for i, s in enumerate(splits) if s.views_ms + s.other_ms >= 12.0]
    assert long_frames, "the 12 ms job shows in some frame's split"
    for i in long_frames:
        if i + 1 < len(splits):
            assert splits[i + 1].ingest_allowed_ms == INGEST_MIN_MS
    busy = [s for s in splits if s.ingest_ms > 0.5 and s.views_ms < 12.0]  # not the job's
    assert len(busy) >= 10
    within = [s for s in busy if s.ingest_ms + s.views_ms <= BUDGET_MS + SLACK_MS]
    # most frames within the budget (+2 ms); with ~25 busy frames one CI run had 3 over
    # (24 of 27), so the soft share is 85 %; every frame stays within the hard slack below
    assert len(within) >= 0.85 * len(busy), busy
    for s in busy:
        assert s.budget_ms == BUDGET_MS
        assert s.ingest_ms <= s.ingest_allowed_ms + HARD_SLACK_MS / 2, s
        assert s.ingest_ms + s.views_ms <= BUDGET_MS + HARD_SLACK_MS, s
    # The plot hands its curves over in frames of their own, announced the turn before:
    # those frames' ingestion leaves room for the paint that follows.
    reserved = [s for s in splits if s.paint_reserved]
    assert reserved
    assert all(s.ingest_allowed_ms < INGEST_MAX_MS for s in reserved)
    # Ingestion ran short after long UI frames, and at its maximum when the UI was quick.
    allowed = [s.ingest_allowed_ms for s in splits]
    assert min(allowed) == INGEST_MIN_MS and max(allowed) == INGEST_MAX_MS
    # The overlay shows the split (web mode).
    window.overlay.refresh()
    assert window.overlay.numbers["budget_ms"] == BUDGET_MS
    assert window.overlay.numbers["budget_frames"] >= 1
    assert "frame budget 8 ms" in window.overlay.text.text()
    # Every row of every entity is drawn, as the store has it.
    for entity in store_rows:
        x, y = plot.curve_data(entity)
        values = db.scalar_series(entity, "Scalars:scalars", "frame")[1]
        assert np.array_equal(y, values)
        shown_x, _ = plot.curves[(entity, 0)].getData()  # an envelope: to the last column
        vb = plot.plot_item.getViewBox()
        (x0, x1), width = vb.viewRange()[0], vb.width()
        assert len(shown_x) > 0 and x.max() - shown_x.max() <= (x1 - x0) / width


def test_threaded_mode_shares_nothing(qtbot, tmp_path):
    """Threaded mode: ingestion keeps its apply budget and views their own redraw budget."""
    hub = IngestHub(IngestSettings(web_mode=False))
    window = MainWindow(hub, AppSettings(tmp_path / "settings.ini"), restore_geometry=False)
    qtbot.addWidget(window)
    window.overlay.refresh()
    assert "frame budget" not in window.overlay.text.text()
    assert "budget_ms" not in window.overlay.numbers
    try:
        budget = hub.frame_budget
        assert not budget.shared
        assert budget.redraw_allowance_s() is None
        assert budget.begin_frame() == pytest.approx(hub.settings.apply_budget_ms / 1000.0)
        with budget.views_turn():
            assert budget.redraw_allowance_s() is None
    finally:
        hub.shutdown()
