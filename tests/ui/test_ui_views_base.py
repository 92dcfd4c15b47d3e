"""The View contract: coalesced redraws, no redraw without a change, hidden views, deletion."""

from __future__ import annotations

import shiboken6
from PySide6.QtWidgets import QTabWidget
from ui_views_support import load_db

from viewer.store.entity_db import EntityDb
from viewer.store.entity_path import EntityPath
from viewer.ui.time_control import TimeControl
from viewer.ui.views.plot.timeseries import TimeSeriesView
from viewer.ui.views.registry import PlannedView, create_view
from viewer.ui.views.spatial.view3d import Spatial3DView

SIN = EntityPath.parse("/plots/sin")
SPIRAL = EntityPath.parse("/world/spiral")


def spiral_view(db: EntityDb, tc: TimeControl) -> Spatial3DView:
    """A 3D view of the spiral as the window makes it (scene source from the registry)."""
    planned = PlannedView(("Spatial3DView", "spiral"), Spatial3DView, [SPIRAL], "spiral")
    return create_view(planned, db, tc)


def point_count(view: Spatial3DView) -> int:
    return sum(len(b.positions) for d in view.scene.entities.values() for b in d.points)


def test_no_redraw_when_nothing_changed(qtbot, data_dir, tmp_path):
    db = load_db(data_dir / "mixed.rrd", tmp_path)
    tc = TimeControl()
    view = TimeSeriesView(db, [SIN], tc)
    qtbot.addWidget(view)
    tc.set_timeline("frame")
    tc.set_time(3)
    qtbot.waitUntil(lambda: view.redraw_count == 1, timeout=1000)
    qtbot.wait(30)
    assert view.redraw_count == 1  # both signals coalesced into one redraw
    tc.set_time(3)  # same time: TimeControl emits nothing
    view.on_data_changed([EntityPath.parse("/not/mine")])
    qtbot.wait(30)
    assert view.redraw_count == 1
    view.on_data_changed([SIN])
    view.on_data_changed([SIN])
    qtbot.waitUntil(lambda: view.redraw_count == 2, timeout=1000)
    qtbot.wait(30)
    assert view.redraw_count == 2


def test_hidden_view_redraws_when_shown(qtbot, data_dir, tmp_path):
    db = load_db(data_dir / "mixed.rrd", tmp_path)
    tc = TimeControl()
    tc.set_timeline("frame")
    tabs = QTabWidget()
    qtbot.addWidget(tabs)
    first = spiral_view(db, tc)
    second = TimeSeriesView(db, [SIN], tc)
    tabs.addTab(first, "3d")
    tabs.addTab(second, "plot")
    tabs.show()
    qtbot.waitExposed(tabs)
    qtbot.waitUntil(lambda: first.redraw_count >= 1, timeout=1000)
    count_hidden = second.redraw_count
    for t in (10, 20, 30):
        tc.set_time(t)
        qtbot.wait(5)
    assert point_count(first) > 0
    # The background tab did not redraw the curves; it catches up once shown.
    assert second.redraw_count == count_hidden
    tabs.setCurrentIndex(1)
    # Shown for the first time, it draws in its turns of the redraw queue (maybe split).
    qtbot.waitUntil(lambda: second.redraw_count > count_hidden and not second.redraw_waiting,
                    timeout=1000)
    assert second.cursor_line.value() == 30


def test_deleted_view_is_never_redrawn(qtbot, data_dir, tmp_path):
    db = load_db(data_dir / "mixed.rrd", tmp_path)
    tc = TimeControl()
    tc.set_timeline("frame")
    view = spiral_view(db, tc)
    view.schedule_redraw()  # pending when the widget goes away
    shiboken6.delete(view)
    assert not shiboken6.isValid(view)
    for t in range(5):
        tc.set_time(t)  # the time control outlives its views
    qtbot.wait(20)


def test_bad_data_reports_an_error_instead_of_raising(qtbot):
    import numpy as np
    import pyarrow as pa

    from viewer.log.messages import StoreId, StoreKind
    from viewer.store.chunk import Chunk
    from viewer.store.entity_db import EntityDb

    cells = pa.array([["not a number"], ["nope"]], pa.list_(pa.string()))
    rid = pa.FixedSizeBinaryArray.from_buffers(pa.binary(16), 2, [None, pa.py_buffer(
        np.array([[1, 1], [1, 2]], dtype=">u8").tobytes())])
    schema = pa.schema([
        pa.field("rerun.controls.RowId", pa.binary(16), metadata={"rerun:kind": "control"}),
        pa.field("frame", pa.int64(), metadata={"rerun:kind": "index"}),
        pa.field("Scalars:scalars", cells.type, metadata={"rerun:kind": "data"}),
    ], metadata={"rerun:entity_path": "/bad"})
    db = EntityDb(StoreId(StoreKind.RECORDING, "bad", "bad"))
    db.add_chunk(Chunk.from_record_batch(
        pa.RecordBatch.from_arrays([rid, pa.array([0, 1], pa.int64()), cells], schema=schema)))
    tc = TimeControl()
    tc.set_timeline("frame")
    view = TimeSeriesView(db, [EntityPath.parse("/bad")], tc)
    qtbot.addWidget(view)
    view.schedule_redraw()
    bad = EntityPath.parse("/bad")
    qtbot.waitUntil(lambda: bad in view.entity_errors, timeout=5000)
    assert "not numbers" in view.entity_errors[bad]
    assert view.last_error is None  # the view itself drew (its other entities would show)
