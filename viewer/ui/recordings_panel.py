"""Open recordings grouped by application id, blueprints apart, and the sources feeding them.

Clicking a recording makes it active; its × closes it (the hub stops its worker). Sources
show their progress (bytes read of total), live streams their state, and every read error
gets its own red entry under the source that hit it.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QToolButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from viewer.log.messages import StoreId, StoreKind
from viewer.store.entity_db import EntityDb
from viewer.store.memory import format_bytes

STORE_ROLE = Qt.ItemDataRole.UserRole + 1
ERROR_COLOR = QColor("#ff6b6b")
LIVE_COLOR = QColor("#5ad17a")
MAX_ERRORS_SHOWN = 50


def source_status(source) -> str:  # noqa: ANN001 - viewer.ingest.sources.Source
    """``42% of 12.0 MB``, ``live``, ``done, 3 errors``…: one line for the panel."""
    state = getattr(source.state, "value", str(source.state))
    errors = len(source.errors)
    if source.kind == "file":
        total = source.total_bytes or 0
        if state == "loading" and total:
            text = f"{100 * source.bytes_read / total:.0f}% of {format_bytes(total)}"
        elif state == "done":
            text = f"loaded, {format_bytes(total or source.bytes_read)}"
        else:
            text = state
    else:
        text = {"live": "connected", "done": "finished", "failed": "disconnected with error",
                "closed": "closed"}.get(state, state)
    if errors:
        text += f", {errors} error{'s' if errors > 1 else ''}"
    return text


class RecordingsPanel(QWidget):
    store_activated = Signal(object)  # StoreId
    close_requested = Signal(object)  # StoreId

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        self.tree = QTreeWidget()
        self.tree.setColumnCount(3)
        self.tree.setHeaderHidden(True)
        self.tree.setRootIsDecorated(True)
        self.tree.setIndentation(12)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        header = self.tree.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Fixed)
        header.resizeSection(2, 24)
        self.tree.itemClicked.connect(self._on_clicked)
        layout.addWidget(self.tree)

        self.recordings_root = self._section("Recordings")
        self.blueprints_root = self._section("Blueprints")
        self.sources_root = self._section("Sources")
        self._apps: dict[str, QTreeWidgetItem] = {}
        self._stores: dict[StoreId, QTreeWidgetItem] = {}
        self._sources: dict[int, QTreeWidgetItem] = {}
        self.active: StoreId | None = None

    def _section(self, title: str) -> QTreeWidgetItem:
        item = QTreeWidgetItem(self.tree, [title])
        font = QFont(item.font(0))
        font.setBold(True)
        item.setFont(0, font)
        item.setFlags(Qt.ItemFlag.ItemIsEnabled)
        item.setExpanded(True)
        item.setHidden(True)
        return item

    # -- stores -------------------------------------------------------------------------------
    def add_store(self, db: EntityDb) -> QTreeWidgetItem:
        sid = db.store_id
        item = self._stores.get(sid)
        if item is not None:
            return item
        if sid.kind == StoreKind.BLUEPRINT:
            parent = self.blueprints_root
        else:
            parent = self._apps.get(sid.application_id)
            if parent is None:
                parent = QTreeWidgetItem(self.recordings_root, [sid.application_id or "(no app id)"])
                parent.setFlags(Qt.ItemFlag.ItemIsEnabled)
                parent.setExpanded(True)
                parent.setToolTip(0, f"application id: {sid.application_id}")
                self._apps[sid.application_id] = parent
        root = self.blueprints_root if sid.kind == StoreKind.BLUEPRINT else self.recordings_root
        root.setHidden(False)
        item = QTreeWidgetItem(parent, [sid.recording_id or "(no recording id)", ""])
        item.setData(0, STORE_ROLE, sid)
        item.setToolTip(0, str(sid))
        self._stores[sid] = item
        close = QToolButton(text="×", toolTip="Close this recording", autoRaise=True)
        close.setObjectName("closeStore")
        close.clicked.connect(lambda _=False, s=sid: self.close_requested.emit(s))
        self.tree.setItemWidget(item, 2, close)
        self.refresh_store(db)
        return item

    def refresh_store(self, db: EntityDb) -> None:
        item = self._stores.get(db.store_id)
        if item is not None:
            item.setText(1, f"{db.num_rows:,} rows")
            item.setToolTip(1, f"{len(db.entities())} entities, {db.num_chunks} chunks, "
                               f"{format_bytes(db.nbytes)}")

    def remove_store(self, store_id: StoreId) -> None:
        item = self._stores.pop(store_id, None)
        if item is None:
            return
        parent = item.parent()
        parent.removeChild(item)
        if parent is not self.blueprints_root and parent.childCount() == 0:
            self._apps.pop(store_id.application_id, None)
            self.recordings_root.removeChild(parent)
        for root in (self.recordings_root, self.blueprints_root):
            root.setHidden(root.childCount() == 0)
        if self.active == store_id:
            self.active = None

    def set_active(self, store_id: StoreId | None) -> None:
        """Highlight the active store (bold and selected)."""
        for sid, item in self._stores.items():
            font = QFont(item.font(0))
            font.setBold(sid == store_id)
            item.setFont(0, font)
        self.active = store_id
        item = self._stores.get(store_id) if store_id is not None else None
        self.tree.setCurrentItem(item) if item is not None else self.tree.clearSelection()

    def store_ids(self) -> list[StoreId]:
        return list(self._stores)

    def _on_clicked(self, item: QTreeWidgetItem, _column: int) -> None:
        sid = item.data(0, STORE_ROLE)
        if isinstance(sid, StoreId):
            self.store_activated.emit(sid)

    # -- sources ------------------------------------------------------------------------------
    def update_source(self, source) -> None:  # noqa: ANN001 - viewer.ingest.sources.Source
        """Add or refresh one source's line and its error entries."""
        item = self._sources.get(id(source))
        if item is None:
            name = source.name.rsplit("/", 1)[-1] if source.kind == "file" else source.name
            item = QTreeWidgetItem(self.sources_root, [name, ""])
            item.setToolTip(0, source.name)
            item.setFlags(Qt.ItemFlag.ItemIsEnabled)
            self._sources[id(source)] = item
            self.sources_root.setHidden(False)
        state = getattr(source.state, "value", str(source.state))
        item.setText(1, source_status(source))
        color = ERROR_COLOR if state == "failed" else LIVE_COLOR if state == "live" else None
        item.setForeground(1, QBrush(color) if color is not None else QBrush())
        shown = item.childCount()
        for err in source.errors[shown:MAX_ERRORS_SHOWN]:
            where = f" at byte {err.offset}" if getattr(err, "offset", -1) >= 0 else ""
            child = QTreeWidgetItem(item, [f"error{where}: {err.message}"])
            child.setToolTip(0, f"{source.name}{where}:\n{err.message}")
            child.setForeground(0, QBrush(ERROR_COLOR))
            child.setFirstColumnSpanned(True)
            child.setFlags(Qt.ItemFlag.ItemIsEnabled)
            item.setExpanded(True)

    def source_item(self, source) -> QTreeWidgetItem | None:  # noqa: ANN001
        return self._sources.get(id(source))
