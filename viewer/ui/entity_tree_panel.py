"""The active store's entity hierarchy with row counts, a search filter and selection.

Updated once per frame in batches (docs/platform-facts.md: many single-row inserts cost
more than one batched insert): new entities are appended with one ``beginInsertRows`` per parent per frame, and
row counts are refreshed with one ``dataChanged`` per parent. The model appends in arrival
order; a proxy sorts by name and filters, so an insert never moves existing rows.

One model + view per store in a stack, so switching stores keeps each store's expansion
and scroll state.

The context menu exports an entity (or its subtree) to Parquet, CSV or Arrow with the same
code as ``rrd-viewer export`` (`viewer.commands.export`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from pathlib import Path

from PySide6.QtCore import (
    QAbstractItemModel,
    QModelIndex,
    QPersistentModelIndex,
    QPoint,
    QSortFilterProxyModel,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QFileDialog,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMenu,
    QStackedWidget,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from viewer.log.messages import StoreId
from viewer.store.entity_db import EntityDb
from viewer.store.entity_path import EntityPath
from viewer.ui.views.base import data_redraw_queue

ModelIndex = QModelIndex | QPersistentModelIndex
PATH_ROLE = Qt.ItemDataRole.UserRole + 1
COUNT_REFRESH_MS = 250
EXPORT_FILTER = "Parquet (*.parquet);;CSV (*.csv);;Arrow IPC (*.arrow)"


class _Node:
    __slots__ = ("children", "parent", "path", "row")

    def __init__(self, path: EntityPath, parent: _Node | None, row: int) -> None:
        self.path = path
        self.parent = parent
        self.row = row
        self.children: list[_Node] = []


class EntityTreeModel(QAbstractItemModel):
    """Entity paths of one store; column 0 the name, column 1 the rows below it."""

    HEADERS = ("Entity", "Rows")

    def __init__(self, db: EntityDb) -> None:
        super().__init__()
        self.db = db
        self.root = _Node(EntityPath.root(), None, 0)
        self._nodes: dict[EntityPath, _Node] = {self.root.path: self.root}
        self.insert_batches = 0  # how many beginInsertRows calls (tests check batching)
        self.sync_from_db()

    # -- updates ------------------------------------------------------------------------------
    def sync_from_db(self, changed: Iterable[EntityPath] = ()) -> list[EntityPath]:
        """Add every tree path of the db we do not show yet, then refresh counts of
        ``changed`` entities (and their ancestors). Returns the added paths."""
        missing = [p for p in self.db.tree.paths() if p not in self._nodes]
        self._add_paths(missing)
        self.refresh_counts([*changed, *missing])
        return missing

    def _add_paths(self, paths: list[EntityPath]) -> None:
        """Insert paths level by level, one insert batch per parent."""
        by_depth: dict[int, list[EntityPath]] = defaultdict(list)
        for p in paths:
            by_depth[len(p)].append(p)
        for depth in sorted(by_depth):
            by_parent: dict[EntityPath, list[EntityPath]] = defaultdict(list)
            for p in by_depth[depth]:
                if p not in self._nodes:
                    by_parent[p.parent or EntityPath.root()].append(p)
            for parent_path, children in by_parent.items():
                parent = self._nodes.get(parent_path)
                if parent is None:  # a parent the tree skipped (cannot happen with EntityTree)
                    self._add_paths([parent_path])
                    parent = self._nodes[parent_path]
                first = len(parent.children)
                self.beginInsertRows(self._index_of(parent), first, first + len(children) - 1)
                for i, child_path in enumerate(children):
                    node = _Node(child_path, parent, first + i)
                    parent.children.append(node)
                    self._nodes[child_path] = node
                self.endInsertRows()
                self.insert_batches += 1

    def refresh_counts(self, paths: Iterable[EntityPath]) -> None:
        """One dataChanged per parent, spanning its changed children (ancestors included,
        since a parent shows the rows of its whole subtree)."""
        spans: dict[int, list] = {}  # id(parent) -> [parent, first row, last row]
        seen: set[int] = set()
        for p in paths:
            node = self._nodes.get(p)
            while node is not None and node.parent is not None and id(node) not in seen:
                seen.add(id(node))
                span = spans.get(id(node.parent))
                if span is None:
                    spans[id(node.parent)] = [node.parent, node.row, node.row]
                else:
                    span[1], span[2] = min(span[1], node.row), max(span[2], node.row)
                node = node.parent
        for parent, lo, hi in spans.values():
            pidx = self._index_of(parent)
            self.dataChanged.emit(self.index(lo, 1, pidx), self.index(hi, 1, pidx),
                                  [Qt.ItemDataRole.DisplayRole])

    def _index_of(self, node: _Node) -> QModelIndex:
        if node.parent is None:
            return QModelIndex()
        return self.createIndex(node.row, 0, node)

    def index_of_path(self, path: EntityPath) -> QModelIndex:
        node = self._nodes.get(path)
        return QModelIndex() if node is None else self._index_of(node)

    def __contains__(self, path: EntityPath) -> bool:
        return path in self._nodes

    # -- QAbstractItemModel -------------------------------------------------------------------
    def _node(self, index: ModelIndex) -> _Node:
        return index.internalPointer() if index.isValid() else self.root

    def index(self, row: int, column: int, parent: ModelIndex = QModelIndex()) -> QModelIndex:  # noqa: B008
        node = self._node(parent)
        if 0 <= row < len(node.children) and 0 <= column < len(self.HEADERS):
            return self.createIndex(row, column, node.children[row])
        return QModelIndex()

    def parent(self, index: ModelIndex = QModelIndex()) -> QModelIndex:  # type: ignore[override]  # noqa: B008
        if not index.isValid():
            return QModelIndex()
        node: _Node = index.internalPointer()
        parent = node.parent
        if parent is None or parent.parent is None:
            return QModelIndex()
        return self.createIndex(parent.row, 0, parent)

    def rowCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: N802, B008
        if parent.isValid() and parent.column() != 0:
            return 0
        return len(self._node(parent).children)

    def columnCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: N802, B008
        return len(self.HEADERS)

    def headerData(self, section: int, orientation: Qt.Orientation,  # noqa: N802
                   role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.HEADERS[section]
        return None

    def data(self, index: ModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid():
            return None
        node: _Node = index.internalPointer()
        if role == Qt.ItemDataRole.DisplayRole:
            if index.column() == 0:
                return node.path.name
            tree_node = self.db.tree.node(node.path)
            return f"{tree_node.subtree_rows:,}" if tree_node is not None else "0"
        if role == PATH_ROLE:
            return str(node.path)
        if role == Qt.ItemDataRole.ToolTipRole:
            comps = self.db.components(node.path)
            tip = str(node.path)
            if comps:
                tip += "\n" + "\n".join(f"  {c}" for c in comps)
            return tip
        if role == Qt.ItemDataRole.TextAlignmentRole and index.column() == 1:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None


class _PathFilterProxy(QSortFilterProxyModel):
    """Sorts by name; keeps rows whose full path contains the filter text (and their parents)."""

    def __init__(self) -> None:
        super().__init__()
        self.setRecursiveFilteringEnabled(True)
        self.setDynamicSortFilter(True)
        self.setSortCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self._needle = ""

    def set_needle(self, text: str) -> None:
        self.beginFilterChange()
        self._needle = text.strip().lower()
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def filterAcceptsRow(self, source_row: int, source_parent: ModelIndex) -> bool:  # noqa: N802
        if not self._needle:
            return True
        idx = self.sourceModel().index(source_row, 0, source_parent)
        return self._needle in str(idx.data(PATH_ROLE) or "").lower()


class _StoreTree:
    """A store's model, proxy and view, kept while the store is open."""

    def __init__(self, db: EntityDb) -> None:
        self.model = EntityTreeModel(db)
        self.proxy = _PathFilterProxy()
        self.proxy.setSourceModel(self.model)
        self.proxy.sort(0, Qt.SortOrder.AscendingOrder)
        self.view = QTreeView()
        self.view.setModel(self.proxy)
        self.view.setUniformRowHeights(True)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.view.setSortingEnabled(False)
        self.view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        header = self.view.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)


class EntityTreePanel(QWidget):
    """Shows the tree of the active store; emits ``entity_selected`` on click."""

    entity_selected = Signal(object, object)  # StoreId, EntityPath
    #: An export from the context menu ended: (output path, rows written, error or "").
    exported = Signal(str, int, str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        self.search = QLineEdit()
        self.search.setPlaceholderText("Filter entities…")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(self._on_filter)
        layout.addWidget(self.search)
        self.stack = QStackedWidget()
        self.empty = QLabel("No recording")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setObjectName("placeholder")
        self.stack.addWidget(self.empty)
        layout.addWidget(self.stack, 1)
        self._trees: dict[StoreId, _StoreTree] = {}
        self.active: StoreId | None = None
        # Row counts change every frame while data streams in; refreshing them a few times
        # a second is enough for the eye and keeps the proxy and view from re-laying out.
        self._pending_counts: dict[StoreId, set[EntityPath]] = {}
        self._count_timer = QTimer(self, singleShot=True, interval=COUNT_REFRESH_MS)
        # The refresh (and the tree repaint it causes, ~3-4 ms) takes a turn of the redraw
        # queue: not on top of a plot update in the same frame (docs/benchmarks/gui.md).
        self._count_timer.timeout.connect(
            lambda: data_redraw_queue().add_job(self, self.flush_counts))
        #: Asks where to write an export (suggested path -> chosen path, "" to cancel);
        #: a file dialog, replaceable so that tests need no dialog.
        self.ask_export_path: Callable[[str], str] = self._export_dialog

    def flush_counts(self) -> None:
        """Refresh the row counts of entities that got rows since the last refresh."""
        pending, self._pending_counts = self._pending_counts, {}
        for store_id, paths in pending.items():
            tree = self._trees.get(store_id)
            if tree is not None and paths:
                tree.model.refresh_counts(paths)

    def tree_for(self, store_id: StoreId) -> _StoreTree | None:
        return self._trees.get(store_id)

    def add_store(self, db: EntityDb) -> _StoreTree:
        tree = self._trees.get(db.store_id)
        if tree is None:
            tree = self._trees[db.store_id] = _StoreTree(db)
            if self.search.text():  # (an empty needle re-filters for nothing)
                tree.proxy.set_needle(self.search.text())
            tree.view.clicked.connect(lambda idx, sid=db.store_id: self._on_clicked(sid, idx))
            tree.view.customContextMenuRequested.connect(
                lambda pos, sid=db.store_id: self._on_context_menu(sid, pos))
            tree.view.expandToDepth(0)
            self.stack.addWidget(tree.view)
        return tree

    def remove_store(self, store_id: StoreId) -> None:
        tree = self._trees.pop(store_id, None)
        self._pending_counts.pop(store_id, None)
        if tree is not None:
            self.stack.removeWidget(tree.view)
            tree.view.deleteLater()
        if self.active == store_id:
            self.set_active(None)

    def set_active(self, db: EntityDb | None) -> None:
        if db is None:
            self.active = None
            self.stack.setCurrentWidget(self.empty)
            return
        tree = self.add_store(db)
        self.active = db.store_id
        self.stack.setCurrentWidget(tree.view)

    def on_frame(self, db: EntityDb, changed: Iterable[EntityPath]) -> None:
        """Apply one frame's changes of a store: new paths in batches, refreshed counts."""
        tree = self._trees.get(db.store_id)
        if tree is None:
            return
        added = tree.model.sync_from_db()
        pending = self._pending_counts.setdefault(db.store_id, set())
        pending.update(changed)
        if not self._count_timer.isActive():
            self._count_timer.start()
        if added:
            # Newly created top-level branches open one level so data is visible at once.
            for path in added:
                if len(path) == 1:
                    tree.view.expand(tree.proxy.mapFromSource(tree.model.index_of_path(path)))
            if self.search.text():
                tree.view.expandAll()

    def select_path(self, store_id: StoreId, path: EntityPath) -> bool:
        """Select ``path`` in the store's view (as a click would), returns False if unknown."""
        tree = self._trees.get(store_id)
        if tree is None or path not in tree.model:
            return False
        idx = tree.proxy.mapFromSource(tree.model.index_of_path(path))
        tree.view.setCurrentIndex(idx)
        tree.view.scrollTo(idx)
        self.entity_selected.emit(store_id, path)
        return True

    def _on_clicked(self, store_id: StoreId, proxy_index: QModelIndex) -> None:
        text = proxy_index.siblingAtColumn(0).data(PATH_ROLE)
        if text:
            self.entity_selected.emit(store_id, EntityPath.parse(text))

    # -- export -------------------------------------------------------------------------------
    def context_menu(self, store_id: StoreId, path: EntityPath) -> QMenu:
        """The entity's menu: export it, and (when it has children) its whole subtree."""
        menu = QMenu(self)
        tree = self._trees.get(store_id)
        if tree is None:
            return menu
        db = tree.model.db
        node = db.tree.node(path)
        if db.components(path):
            menu.addAction(QAction(f"Export {path}…", menu, triggered=lambda _=False:
                                   self.export_entity(store_id, str(path))))
        if node is not None and node.children:
            pattern = "/**" if path.is_root else f"{path}/**"
            menu.addAction(QAction(f"Export {pattern}…", menu, triggered=lambda _=False:
                                   self.export_entity(store_id, pattern)))
        return menu

    def export_entity(self, store_id: StoreId, pattern: str) -> str | None:
        """Ask for a file and export ``pattern`` (``/a`` or ``/a/**``) of the store into it;
        returns the path written (None: cancelled or failed, ``exported`` says why)."""
        from viewer.commands.export import ExportError, export_dbs

        tree = self._trees.get(store_id)
        if tree is None:
            return None
        name = pattern.removesuffix("/**").strip("/").replace("/", "_") or "recording"
        out = self.ask_export_path(str(Path.home() / f"{name}.parquet"))
        if not out:
            return None
        QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            table, _ = export_dbs([tree.model.db], pattern, out)
        except (ExportError, OSError, ValueError) as exc:
            self.exported.emit(out, 0, str(exc))
            return None
        finally:
            QApplication.restoreOverrideCursor()
        self.exported.emit(out, table.num_rows, "")
        return out

    def _export_dialog(self, suggested: str) -> str:
        out, _ = QFileDialog.getSaveFileName(self, "Export entity", suggested, EXPORT_FILTER)
        return out

    def _on_context_menu(self, store_id: StoreId, pos: QPoint) -> None:
        tree = self._trees.get(store_id)
        if tree is None:
            return
        text = tree.view.indexAt(pos).siblingAtColumn(0).data(PATH_ROLE)
        if not text:
            return
        menu = self.context_menu(store_id, EntityPath.parse(text))
        if not menu.isEmpty():
            menu.exec(tree.view.viewport().mapToGlobal(pos))
        menu.deleteLater()

    def _on_filter(self, text: str) -> None:
        for tree in self._trees.values():
            tree.proxy.set_needle(text)
            if text:
                tree.view.expandAll()
