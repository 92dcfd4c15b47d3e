"""TextLogView on real rerun-sdk logs: rows, level filter, search, cursor, batched updates."""

from __future__ import annotations

import pytest
from ui_views_support import load_db

from viewer.store.chunk import Chunk
from viewer.store.entity_path import EntityPath
from viewer.ui.time_control import TimeControl
from viewer.ui.views.text.textlog import TextLogView


def _logged_rows(path):
    """(frame, entity, level, text) of every TextLog row, from rerun-sdk's reader."""
    from rerun.chunk import RrdReader

    reader = RrdReader(str(path))
    rows = []
    for chunk in reader.stream(store=reader.recordings()[0]).to_chunks():
        batch = chunk.to_record_batch()
        if "TextLog:text" not in batch.schema.names or chunk.is_static:
            continue
        for f, lvl, txt in zip(batch.column("frame").to_pylist(),
                               batch.column("TextLog:level").to_pylist(),
                               batch.column("TextLog:text").to_pylist(), strict=True):
            rows.append((f, chunk.entity_path, lvl[0] if lvl else None, txt[0]))
    return rows


@pytest.fixture
def log_view(qtbot, data_dir, tmp_path):
    db = load_db(data_dir / "textlog.rrd", tmp_path)
    entities = [e for e in db.entities() if "TextLog:text" in db.components(e)]
    tc = TimeControl()
    tc.set_timeline("frame")
    view = TextLogView(db, entities, tc)
    qtbot.addWidget(view)
    view.resize(600, 400)
    view.redraw_now()
    return view, tc, db


def test_all_rows_in_time_order(log_view, data_dir):
    view, _, _ = log_view
    expected = _logged_rows(data_dir / "textlog.rrd")
    model = view.model
    assert model.rowCount() == len(expected)
    frames = [int(model.table.times[i]) for i in model.rows]
    assert frames == sorted(f for f, *_ in expected)
    shown = {(model.index(r, 1).data(), model.index(r, 2).data(), model.index(r, 3).data())
             for r in range(model.rowCount())}
    assert shown == {(e, lvl, txt) for _, e, lvl, txt in expected}


def test_level_filter_and_search_change_row_count(log_view, data_dir):
    view, _, _ = log_view
    expected = _logged_rows(data_dir / "textlog.rrd")
    levels = {lvl for _, _, lvl, _ in expected}
    assert set(view.level_actions) == levels
    view.set_level_enabled("DEBUG", False)
    assert not view.level_actions["DEBUG"].isChecked()
    assert view.model.rowCount() == sum(1 for r in expected if r[2] != "DEBUG")
    view.level_actions["DEBUG"].setChecked(True)  # the menu action drives the filter too
    assert view.model.rowCount() == len(expected)
    # A word that some rows have and others do not, searched in upper case.
    words = {w for r in expected for w in r[3].lower().split()}
    word = next(w for w in sorted(words)
                if 0 < sum(w in r[3].lower() for r in expected) < len(expected))
    view.set_search(word.upper())
    assert view.model.rowCount() == sum(1 for r in expected if word in r[3].lower())
    view.set_search("no such text anywhere")
    assert view.model.rowCount() == 0
    view.set_search("")
    assert view.model.rowCount() == len(expected)


def test_cursor_highlights_and_limits_rows(qtbot, log_view, data_dir):
    view, tc, _ = log_view
    expected = sorted(_logged_rows(data_dir / "textlog.rrd"), key=lambda r: r[0])
    t = expected[len(expected) // 2][0]
    tc.set_time(t)
    view.redraw_now()
    model = view.model
    upto = sum(1 for r in expected if r[0] <= t)
    assert model.highlight_row == upto - 1
    view.up_to_cursor.setChecked(True)
    assert model.rowCount() == upto
    tc.set_time(expected[-1][0])
    view.redraw_now()
    assert model.rowCount() == len(expected)
    view.up_to_cursor.setChecked(False)
    tc.set_time(-1)
    view.redraw_now()
    assert model.rowCount() == len(expected) and model.highlight_row == -1


def test_appended_rows_are_one_batched_insert(qtbot, data_dir, tmp_path):
    """Feeding the chunks one by one: appends become row inserts, never per-row resets."""
    from rerun.chunk import RrdReader

    from viewer.log.messages import StoreId, StoreKind
    from viewer.store.entity_db import EntityDb

    reader = RrdReader(str(data_dir / "textlog.rrd"))
    chunks = [Chunk.from_record_batch(c.to_record_batch(), is_static=c.is_static)
              for c in reader.stream(store=reader.recordings()[0]).to_chunks()]
    app = EntityPath.parse("/logs/app")
    app_chunks = sorted((c for c in chunks if c.entity_path == app),
                        key=lambda c: c.timelines["frame"].min)
    db = EntityDb(StoreId(StoreKind.RECORDING, "x", "y"))
    tc = TimeControl()
    tc.set_timeline("frame")
    view = TextLogView(db, [app], tc)
    qtbot.addWidget(view)
    inserted = []
    view.model.rowsInserted.connect(lambda _p, first, last: inserted.append(last - first + 1))
    total = 0
    for chunk in app_chunks:
        db.add_chunk(chunk)
        total += chunk.num_rows
        view.on_data_changed([app])
        view.redraw_now()
        assert view.model.rowCount() == total
    assert view.model.reset_count == 1  # only the first (timeline) load resets
    assert inserted == [c.num_rows for c in app_chunks[1:]]
