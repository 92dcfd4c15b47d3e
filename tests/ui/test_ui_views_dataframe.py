"""DataframeView on a recording written by rerun-sdk: one row per distinct time (Rerun's
rule; entities side by side, static values in every row), timeline columns then component
columns, sorting, time range, Ctrl+C copies tab-separated cells,
only visible cells converted."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QItemSelection, QItemSelectionModel, Qt
from PySide6.QtGui import QGuiApplication
from ui_views_support import write_recording

from viewer.store.entity_path import EntityPath
from viewer.ui.time_control import TimeControl
from viewer.ui.views.dataframe.dataframe_view import DataframeView
from viewer.ui.views.dataframe.frame_table import FrameTable

VALUES = [3.5, -1.0, 7.25, 0.0, 2.0]  # Scalars logged at frames 10, 11, ... (unsorted)


def _log(rr, rec):
    rec.log("pts", rr.Points2D([[0, 0]], colors=[255, 0, 0]), static=True)
    for i, v in enumerate(VALUES):
        rec.set_time("frame", sequence=10 + i)
        rec.log("val", rr.Scalars(v))
        if i % 2 == 0:
            rec.log("pts", rr.Points2D([[i, 1], [i, 2]]))
    rec.reset_time()  # a row without the frame timeline
    rec.set_time("other", sequence=1)
    rec.log("val", rr.Scalars(99.0))


@pytest.fixture
def df_db(tmp_path):
    return write_recording(tmp_path / "df.rrd", tmp_path, _log)


def _view(qtbot, db, entities):
    tc = TimeControl()
    tc.set_timeline("frame")
    tc.set_time(10)
    view = DataframeView(db, [EntityPath.parse(e) for e in entities], tc)
    qtbot.addWidget(view)
    view.resize(900, 400)
    view.redraw_now()
    return view, tc


def _headers(view):
    m = view.model
    return [m.headerData(c, Qt.Orientation.Horizontal) for c in range(m.columnCount())]


def _column(view, title):
    col = _headers(view).index(title)
    return [view.model.text(r, col) for r in range(view.model.rowCount())]


def test_rows_and_columns_of_one_entity(qtbot, df_db):
    view, _ = _view(qtbot, df_db, ["/val"])
    # Timelines of the entity first (log_time is rerun-sdk's own), then its components.
    assert _headers(view) == ["frame", "log_time", "other", "Scalars:scalars"]
    # One row per logged row on "frame" (the row logged only on "other" is out of range).
    assert view.model.rowCount() == len(VALUES)
    assert _column(view, "frame") == [f"#{10 + i}" for i in range(len(VALUES))]
    assert _column(view, "Scalars:scalars") == ["3.5", "-1", "7.25", "0", "2"]
    assert _column(view, "other") == [""] * len(VALUES)


def test_several_entities_and_static_rows(qtbot, df_db):
    view, _ = _view(qtbot, df_db, ["/pts", "/val"])
    heads = _headers(view)
    assert heads[:3] == ["frame", "log_time", "other"]
    assert heads[3:] == ["/pts\nPoints2D:colors", "/pts\nPoints2D:positions",
                         "/val\nScalars:scalars"]
    # One row per frame 10..14 (was: a static row + 3 point rows + 5 scalar rows).
    assert _column(view, "frame") == [f"#{10 + i}" for i in range(len(VALUES))]
    # Static data fills every row, and overrides the positions logged later on "frame".
    assert _column(view, "/pts\nPoints2D:colors") == ["#FF0000FF"] * len(VALUES)
    assert _column(view, "/pts\nPoints2D:positions") == ["(0, 0)"] * len(VALUES)
    assert _column(view, "/val\nScalars:scalars") == ["3.5", "-1", "7.25", "0", "2"]


def _log_samples(rr, rec):
    for step in range(3):
        rec.set_time("step", sequence=step)
        rec.set_time("other", sequence=2 * step)
        rec.log("samples/mean", rr.Scalars(10.0 + step))
        rec.set_time("other", sequence=2 * step + 1)
        rec.log("samples/std", rr.Scalars(0.5 * step))
    rec.set_time("step", sequence=1)
    rec.set_time("other", sequence=50)
    rec.log("samples/mean", rr.Scalars(-4.0))  # again at step 1: the later one is shown
    rec.set_time("step", sequence=7)
    rec.set_time("other", sequence=70)
    rec.log("samples/std", rr.Scalars(9.0))  # only std at step 7


def test_two_entities_at_the_same_steps_share_one_row_per_step(qtbot, tmp_path):
    db = write_recording(tmp_path / "samples.rrd", tmp_path, _log_samples)
    tc = TimeControl()
    tc.set_timeline("step")
    view = DataframeView(db, [EntityPath.parse("/samples/mean"),
                              EntityPath.parse("/samples/std")], tc)
    qtbot.addWidget(view)
    view.redraw_now()
    assert _column(view, "step") == ["#0", "#1", "#2", "#7"]
    assert _column(view, "/samples/mean\nScalars:scalars") == ["10", "-4", "12", ""]
    assert _column(view, "/samples/std\nScalars:scalars") == ["0", "0.5", "1", "9"]
    # Another timeline shows the greatest of the row's cells' times on it.
    assert _column(view, "other") == ["#1", "#50", "#5", "#70"]
    # Sorting by a column of the second entity reorders whole rows.
    col = _headers(view).index("/samples/std\nScalars:scalars")
    view.table_view.sortByColumn(col, Qt.SortOrder.DescendingOrder)
    assert _column(view, "step") == ["#7", "#2", "#1", "#0"]
    assert _column(view, "/samples/mean\nScalars:scalars") == ["", "12", "-4", "10"]


def test_sort_by_value_both_ways_and_by_time(qtbot, df_db):
    view, _ = _view(qtbot, df_db, ["/val"])
    col = _headers(view).index("Scalars:scalars")
    view.table_view.sortByColumn(col, Qt.SortOrder.AscendingOrder)
    assert _column(view, "Scalars:scalars") == ["-1", "0", "2", "3.5", "7.25"]
    assert _column(view, "frame") == ["#11", "#13", "#14", "#10", "#12"]
    view.table_view.sortByColumn(col, Qt.SortOrder.DescendingOrder)
    assert _column(view, "Scalars:scalars") == ["7.25", "3.5", "2", "0", "-1"]
    view.table_view.sortByColumn(0, Qt.SortOrder.DescendingOrder)
    assert _column(view, "frame") == ["#14", "#13", "#12", "#11", "#10"]


def test_time_range_narrows_rows(qtbot, df_db):
    view, _ = _view(qtbot, df_db, ["/val"])
    view.set_time_range(11, 13)
    view.redraw_now()
    assert _column(view, "frame") == ["#11", "#12", "#13"]


def test_ctrl_c_copies_selected_cells_tab_separated(qtbot, df_db):
    view, _ = _view(qtbot, df_db, ["/val"])
    view.show()
    m = view.model
    col = _headers(view).index("Scalars:scalars")
    sel = QItemSelection(m.index(1, 0), m.index(2, 0))
    sel.select(m.index(1, col), m.index(2, col))
    view.table_view.selectionModel().select(sel, QItemSelectionModel.SelectionFlag.Select)
    view.table_view.setFocus()
    qtbot.waitUntil(view.table_view.hasFocus, timeout=2000)
    QGuiApplication.clipboard().clear()
    qtbot.keyClick(view.table_view, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    assert QGuiApplication.clipboard().text() == "#11\t-1\n#12\t7.25"


def test_only_visible_cells_are_converted(qtbot, df_db, monkeypatch):
    view, _ = _view(qtbot, df_db, ["/val"])
    asked: list[tuple[int, int]] = []
    original = FrameTable.cell_text

    def counting(self, i, col):
        asked.append((i, col))
        return original(self, i, col)

    monkeypatch.setattr(FrameTable, "cell_text", counting)
    view.resize(300, 70)  # a couple of rows and columns visible
    view.show()
    view.grab()
    assert asked
    total = view.model.rowCount() * view.model.columnCount()
    assert len(set(asked)) < total


def test_cursor_moves_do_not_rebuild(qtbot, df_db):
    view, tc = _view(qtbot, df_db, ["/val"])
    table = view.model.table
    tc.set_time(12)
    view.redraw_now()
    assert view.model.table is table


def test_without_a_timeline_one_row_of_static_values(df_db):
    table = FrameTable(df_db, [EntityPath.parse("/pts"), EntityPath.parse("/val")], None)
    titles = [c.title for c in table.columns]
    assert len(table) == 1
    assert table.cell_text(0, titles.index("frame")) == "static"
    assert table.cell_text(0, titles.index("/pts\nPoints2D:colors")) == "#FF0000FF"
    assert table.cell_text(0, titles.index("/val\nScalars:scalars")) == ""
