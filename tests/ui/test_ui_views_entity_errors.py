"""One entity's bad data leaves the other entities of its view drawn, and the window says
which entity failed, once."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from viewer.demo import build_chunk
from viewer.log.messages import StoreId, StoreKind
from viewer.log.sorbet import TuidGenerator
from viewer.store.chunk import Chunk
from viewer.store.entity_db import EntityDb
from viewer.store.entity_path import EntityPath
from viewer.ui.time_control import TimeControl
from viewer.ui.views.plot.timeseries import TimeSeriesView

GOOD, BAD = EntityPath.parse("/plots/good"), EntityPath.parse("/plots/bad")


def _db() -> EntityDb:
    """Scalars on /plots/good, and /plots/bad whose scalars are strings (no number)."""
    db = EntityDb(StoreId(StoreKind.RECORDING, "bad", "app"))
    ids = TuidGenerator(1_700_000_000_000_000_000)
    frames = list(range(20))
    good = pa.array([[float(np.sin(f))] for f in frames], pa.list_(pa.float64()))
    bad = pa.array([["not a number"] for _ in frames], pa.list_(pa.string()))
    for path, values in (("/plots/good", good), ("/plots/bad", bad)):
        db.add_chunk(Chunk.from_record_batch(build_chunk(
            ids, path, frames, None, [("Scalars", "scalars", "Scalar", values)])))
    return db


def test_a_failing_entity_leaves_the_others_drawn_and_is_reported_once(qtbot) -> None:
    db = _db()
    tc = TimeControl()
    tc.set_timeline("frame")
    tc.set_time(19)
    view = TimeSeriesView(db, [BAD, GOOD], tc, "/plots")
    qtbot.addWidget(view)
    failures = []
    view.entity_failed.connect(lambda entity, message: failures.append((entity, message)))
    view.redraw_now()
    assert view.last_error is None
    np.testing.assert_allclose(view.curve_data(GOOD)[1], np.sin(np.arange(20)))
    assert list(view.entity_errors) == [BAD]
    assert failures and failures[0][0] == BAD
    view.schedule_redraw()
    view.redraw_now()
    assert len(failures) == 1  # the same problem is not reported again


def test_the_window_notifies_which_entity_failed(qtbot, tmp_path) -> None:
    from test_ui_window_main import make_window

    from viewer.log.arrow import encode_record_batch
    from viewer.log.messages import SetStoreInfo, StoreInfo
    from viewer.log.writer import RrdWriter

    db = _db()
    path = tmp_path / "bad.rrd"
    with RrdWriter(path) as writer:
        writer.write(SetStoreInfo(StoreInfo(db.store_id)))
        for chunk in db.chunks_by_age():
            writer.write(encode_record_batch(chunk.to_record_batch(), db.store_id))
    window = make_window(qtbot, tmp_path)
    try:
        window.open_paths([path], remember=False)
        assert window.hub.run_until_idle(20)
        qtbot.waitUntil(lambda: any("/plots/bad" in n.text
                                    for n in window.notifications.notifications), timeout=10000)
        host = window.views_area.host(window.active)
        (plot,) = host.all_views()
        qtbot.waitUntil(lambda: len(plot.curve_data(GOOD)[1]) == 20, timeout=5000)
        assert GOOD not in plot.entity_errors
    finally:
        window.hub.shutdown()
        window.cleanup()
