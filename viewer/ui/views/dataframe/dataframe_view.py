"""The Dataframe view: entities' component values over a time range as a sortable table.

Rows follow Rerun: one per distinct time on the current timeline, the entities' component
columns side by side (see ``frame_table``).

A ``QAbstractTableModel`` over a ``FrameTable`` (numpy indices into the store's chunks): Qt
asks only for the visible cells, and only those are converted to text. Sorting reorders a
numpy permutation of the rows (``FrameTable.sort_key``); Ctrl+C copies the selected cells
as tab-separated lines. The table is rebuilt when an entity's data or the timeline changes
(at most once per throttled redraw while data streams in); the time cursor does not matter
(the range is the whole timeline unless ``set_time_range`` narrows it).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt
from PySide6.QtGui import QAction, QGuiApplication, QKeySequence
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView, QVBoxLayout, QWidget

from viewer.store.entity_db import EntityDb
from viewer.store.entity_path import EntityPath
from viewer.ui.time_control import TimeControl
from viewer.ui.views.base import View
from viewer.ui.views.dataframe.frame_table import FrameTable

_Index = QModelIndex | QPersistentModelIndex


class DataframeModel(QAbstractTableModel):
    """Rows of a ``FrameTable`` in ``order`` (natural, or sorted by a column)."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.table: FrameTable | None = None
        self.order = np.empty(0, dtype=np.int64)
        self.sort_column = -1
        self.sort_order = Qt.SortOrder.AscendingOrder

    def set_table(self, table: FrameTable) -> None:
        self.beginResetModel()
        self.table = table
        self.order = table.order
        if 0 <= self.sort_column < len(table.columns):
            self.order = self._sorted(self.sort_column, self.sort_order)
        else:
            self.sort_column = -1
        self.endResetModel()

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() or self.table is None else len(self.order)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() or self.table is None else len(self.table.columns)

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if (orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole
                and self.table is not None and 0 <= section < len(self.table.columns)):
            return self.table.columns[section].title
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if self.table is None or not index.isValid() or index.row() >= len(self.order):
            return None
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return self.table.cell_text(int(self.order[index.row()]), index.column())
        return None

    def text(self, row: int, col: int) -> str:
        assert self.table is not None
        return self.table.cell_text(int(self.order[row]), col)

    def _sorted(self, column: int, order: Qt.SortOrder) -> np.ndarray:
        assert self.table is not None
        missing, key = self.table.sort_key(column)
        natural = np.empty(len(self.table), dtype=np.int64)
        natural[self.table.order] = np.arange(len(self.table))  # ties keep the natural order
        if order == Qt.SortOrder.DescendingOrder:  # ranks: negating int64 times may overflow
            key = -np.unique(key, return_inverse=True)[1].astype(np.int64)
        return np.lexsort((natural, key, missing)).astype(np.int64)

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        if self.table is None:
            return
        self.layoutAboutToBeChanged.emit()
        self.sort_column, self.sort_order = column, order
        self.order = self._sorted(column, order) if column >= 0 else self.table.order
        self.layoutChanged.emit()


class DataframeView(View):
    """A table of the view's entities, one row per time on the current timeline."""

    kind_name = "Dataframe"

    def __init__(self, db: EntityDb, entities: Iterable[EntityPath], time_control: TimeControl,
                 title: str = "", parent: QWidget | None = None) -> None:
        super().__init__(db, entities, time_control, title or "Dataframe", parent)
        self.model = DataframeModel(self)
        self.table_view = QTableView(self)
        self.table_view.setModel(self.model)
        self.table_view.setSortingEnabled(True)
        self.table_view.horizontalHeader().setSortIndicator(-1, Qt.SortOrder.AscendingOrder)
        self.table_view.setWordWrap(False)
        self.table_view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table_view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        vheader = self.table_view.verticalHeader()
        vheader.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        vheader.setDefaultSectionSize(20)
        vheader.setVisible(False)
        self.table_view.horizontalHeader().setDefaultSectionSize(140)
        self.copy_action = QAction("Copy", self.table_view)
        self.copy_action.setShortcut(QKeySequence.StandardKey.Copy)
        self.copy_action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.copy_action.triggered.connect(self.copy_selection)
        self.table_view.addAction(self.copy_action)
        self.table_view.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.table_view)
        self.time_range: tuple[int | None, int | None] = (None, None)
        self._shown_key: tuple | None = None

    @classmethod
    def accepts(cls, db: EntityDb, entity: EntityPath) -> bool:
        return bool(db.components(entity))

    def set_time_range(self, lo: int | None, hi: int | None) -> None:
        """Rows with lo <= time <= hi on the current timeline (None: unbounded)."""
        self.time_range = (lo, hi)
        self.schedule_redraw()

    def redraw(self) -> None:
        timeline = self.time_control.timeline
        key = (timeline, self.time_range, tuple(self.entities),
               tuple(self.db.entity_generation(e) for e in self.entities))
        if key == self._shown_key:
            return  # the cursor moved: the rows do not depend on it
        self._shown_key = key
        self.model.set_table(FrameTable(self.db, list(self.entities), timeline, self.time_range))

    def _on_time_changed(self, _t: object) -> None:
        pass  # the table shows a time range, not the cursor

    def copy_selection(self) -> str:
        """The selected cells as lines of tab-separated text (also put on the clipboard):
        one line per selected row, one field per column that has a selected cell."""
        indexes = self.table_view.selectionModel().selectedIndexes()
        if not indexes:
            return ""
        cells = {(i.row(), i.column()) for i in indexes}
        rows = sorted({r for r, _ in cells})
        cols = sorted({c for _, c in cells})
        text = "\n".join("\t".join(self.model.text(r, c) if (r, c) in cells else ""
                                   for c in cols) for r in rows)
        QGuiApplication.clipboard().setText(text)
        return text
