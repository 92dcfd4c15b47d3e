"""The selected entity's component values at the time cursor.

Refreshes when the selection, the cursor or the entity's data changes; formatting of the
values is the views package's job (`component_values_at`), this panel only lays them out.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from viewer.store.entity_db import EntityDb
from viewer.store.entity_path import EntityPath
from viewer.ui.time_control import TimeControl
from viewer.ui.time_format import format_time

MAX_TEXT = 2000


def values_at(db: EntityDb, entity: EntityPath, timeline: str | None,
              t: int | None) -> list[tuple[str, str]]:
    """(component, text) pairs; uses the views package's formatter when it is available."""
    try:
        from viewer.ui.views.selection import component_values_at
    except ImportError:  # views package not there (yet): a plain rendering
        component_values_at = _plain_values_at
    return component_values_at(db, entity, timeline, t)


def _plain_values_at(db: EntityDb, entity: EntityPath, timeline: str | None,
                     t: int | None) -> list[tuple[str, str]]:
    out = []
    for comp in db.components(entity):
        if timeline is None or t is None:
            res = db.latest_static(entity, comp)
        else:
            res = db.latest_at(entity, comp, timeline, t)
        out.append((comp, "–" if res is None else str(res.value.to_pylist())[:MAX_TEXT]))
    return out


class SelectionPanel(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        self.header = QLabel("Nothing selected")
        self.header.setObjectName("selectionHeader")
        self.header.setWordWrap(True)
        self.header.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.header)
        self.table = QTableWidget(0, 2)
        self.table.setHorizontalHeaderLabels(["Component", "Value"])
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setWordWrap(True)
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        layout.addWidget(self.table, 1)
        self.db: EntityDb | None = None
        self.entity: EntityPath | None = None
        self.tc: TimeControl | None = None
        self.refresh_count = 0

    def select(self, db: EntityDb | None, entity: EntityPath | None, tc: TimeControl | None) -> None:
        if self.tc is not None:
            self.tc.time_changed.disconnect(self._on_cursor)
            self.tc.timeline_changed.disconnect(self._on_cursor)
        self.db, self.entity, self.tc = db, entity, tc
        if tc is not None:
            tc.time_changed.connect(self._on_cursor)
            tc.timeline_changed.connect(self._on_cursor)
        self.refresh()

    def clear(self) -> None:
        self.select(None, None, None)

    def on_data_changed(self, db: EntityDb, changed: list[EntityPath]) -> None:
        if db is self.db and self.entity is not None and self.entity in changed:
            self.refresh()

    def _on_cursor(self, *_: object) -> None:
        self.refresh()

    def refresh(self) -> None:
        self.refresh_count += 1
        if self.db is None or self.entity is None:
            self.header.setText("Nothing selected")
            self.table.setRowCount(0)
            return
        timeline = self.tc.timeline if self.tc is not None else None
        t = self.tc.time if self.tc is not None else None
        kind = self.db.timelines().get(timeline) if timeline else None
        where = f"{timeline} = {format_time(kind, t)}" if timeline else "static"
        self.header.setText(f"<b>{self.entity}</b><br>at {where}")
        try:
            rows = values_at(self.db, self.entity, timeline, t)
        except Exception as exc:  # a formatter bug must not take the window down
            rows = [("error", f"could not read values: {exc}")]
        self.table.setRowCount(len(rows))
        for i, (name, text) in enumerate(rows):
            short = name.split(":", 1)[-1] if ":" in name else name
            name_item = QTableWidgetItem(short)
            name_item.setToolTip(name)
            value_item = QTableWidgetItem(text[:MAX_TEXT])
            value_item.setToolTip(text[:MAX_TEXT])
            self.table.setItem(i, 0, name_item)
            self.table.setItem(i, 1, value_item)
        self.table.resizeRowsToContents()

    def values(self) -> list[tuple[str, str]]:
        """What the table shows (for tests)."""
        return [(self.table.item(i, 0).toolTip(), self.table.item(i, 1).text())
                for i in range(self.table.rowCount())]
