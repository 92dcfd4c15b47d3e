"""Text log entries of all TextLog entities in one table, filtered by level and search text.

The model keeps the whole log as column arrays (numpy times, pyarrow strings) and a numpy
index of the rows that pass the filters; cells are converted to Python only when Qt asks
for a visible one. A row's ``TextLog:color`` colours its text (cached brushes); the level
column is as wide as the longest level present. Updates are batched: new rows appended at the end are one
``beginInsertRows``, anything else one model reset (docs/platform-facts.md: single-row inserts
stall views). The row at the time cursor is highlighted and scrolled to.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt
from PySide6.QtGui import QAction, QBrush, QColor, QResizeEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QMenu,
    QStyle,
    QTableView,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from viewer.store.chunk import Chunk, TimelineKind
from viewer.store.entity_db import EntityDb
from viewer.store.entity_path import EntityPath
from viewer.ui.time_control import TimeControl
from viewer.ui.time_format import format_time
from viewer.ui.views.base import View

TEXT = "TextLog:text"
LEVEL = "TextLog:level"
COLOR = "TextLog:color"
KNOWN_LEVELS = ("TRACE", "DEBUG", "INFO", "WARN", "ERROR", "CRITICAL")
LEVEL_COLORS = {
    "TRACE": QColor(130, 130, 130), "DEBUG": QColor(150, 150, 170),
    "WARN": QColor(230, 170, 40), "ERROR": QColor(235, 80, 80),
    "CRITICAL": QColor(255, 60, 160),
}
STATIC_TIME = np.iinfo(np.int64).min  # static entries sort first
HIGHLIGHT = QBrush(QColor(255, 204, 0, 70))
COLUMNS = ("Time", "Entity", "Level", "Text")


class LogPart:
    """The text rows of one chunk (or of an entity's static value) on one timeline, decoded
    once and cached: a new chunk costs only its own rows, not the whole log again."""

    __slots__ = ("_level_set", "_mask", "colors", "entity", "levels", "row_hi", "row_lo",
                 "texts", "times")

    def __init__(self, entity: EntityPath, times: np.ndarray, row_hi: np.ndarray,
                 row_lo: np.ndarray, texts: pa.Array, levels: pa.Array,
                 colors: pa.Array | None = None) -> None:
        self.entity = entity
        self.times, self.row_hi, self.row_lo = times, row_hi, row_lo
        self.texts, self.levels = texts, levels
        self.colors = colors  # uint32 0xRRGGBBAA per text row (null: default), or None
        self._mask: tuple[object, np.ndarray] | None = None
        self._level_set: set[str] | None = None

    def __len__(self) -> int:
        return len(self.times)

    def mask(self, disabled_levels: frozenset[str], search: str) -> np.ndarray:
        """Rows passing the filters (cached for the last filter setting)."""
        key = (disabled_levels, search)
        if self._mask is not None and self._mask[0] == key:
            return self._mask[1]
        mask = np.ones(len(self), dtype=bool)
        if len(self) and disabled_levels:
            hit = pc.is_in(pc.fill_null(self.levels, ""),
                           value_set=pa.array(sorted(disabled_levels), pa.string()))
            mask &= ~hit.to_numpy(zero_copy_only=False)
        if len(self) and search:
            found = pc.match_substring(pc.fill_null(self.texts, ""), search, ignore_case=True)
            mask &= found.to_numpy(zero_copy_only=False)
        self._mask = (key, mask)
        return mask

    def level_set(self) -> set[str]:
        if self._level_set is None:
            self._level_set = {v for v in pc.unique(self.levels).to_pylist() if v}
        return self._level_set


def _first_strings(column: pa.Array | None, n: int, type_: pa.DataType | None = None
                   ) -> pa.Array:
    """The first value of each row of a list column as ``type_`` (default: string; null
    if none)."""
    type_ = type_ or pa.string()
    if column is None:
        return pa.nulls(n, type_)
    offsets = column.offsets.to_numpy()
    has = (offsets[1:] - offsets[:-1]) > 0
    if column.null_count:
        has &= column.is_valid().to_numpy(zero_copy_only=False)
    child = column.values.cast(type_)
    if len(child) == 0:
        return pa.nulls(n, type_)
    first = child.take(pa.array(np.where(has, offsets[:-1], 0)))
    return pc.if_else(pa.array(has), first, pa.scalar(None, type_))


def chunk_log_part(chunk: Chunk, timeline: str) -> LogPart | None:
    """The text rows of a temporal chunk on ``timeline`` (None if it has none)."""
    tc = chunk.timelines.get(timeline)
    texts = chunk.components.get(TEXT)
    if tc is None or texts is None or len(texts) == 0:
        return None
    parents = pc.list_parent_indices(texts).to_numpy(zero_copy_only=False).astype(np.int64)
    if len(parents) == 0:
        return None
    flat = pc.list_flatten(texts).cast(pa.string())
    levels = _first_strings(chunk.components.get(LEVEL), chunk.num_rows).take(pa.array(parents))
    color_column = chunk.components.get(COLOR)
    colors = None if color_column is None else _first_strings(
        color_column, chunk.num_rows, pa.uint32()).take(pa.array(parents))
    return LogPart(chunk.entity_path, tc.times[parents], chunk.row_ids[parents, 0],
                   chunk.row_ids[parents, 1], flat, levels, colors)


def static_log_part(db: EntityDb, entity: EntityPath) -> LogPart | None:
    static = db.latest_static(entity, TEXT)
    if static is None or len(static.value) == 0:
        return None
    n = len(static.value)
    lvl = db.latest_static(entity, LEVEL)
    level = lvl.value[0].as_py() if lvl is not None and len(lvl.value) else None
    col = db.latest_static(entity, COLOR)
    color = col.value[0].as_py() if col is not None and len(col.value) else None
    return LogPart(entity, np.full(n, STATIC_TIME, dtype=np.int64),
                   np.full(n, static.row_id.time_ns, dtype=np.uint64),
                   np.full(n, static.row_id.inc, dtype=np.uint64),
                   static.value.cast(pa.string()), pa.array([level] * n, pa.string()),
                   None if color is None else pa.array([color] * n, pa.uint32()))


class LogTable:
    """The whole log, sorted by (time, row id): global sorted keys plus, for each row, the
    part and the row inside it where its strings live."""

    __slots__ = ("entities", "order", "part_idx", "parts", "row_hi", "row_idx", "row_lo",
                 "times")

    def __init__(self, parts: list[LogPart], entities: list[EntityPath]) -> None:
        self.parts = parts
        self.entities = entities
        if parts:
            times = np.concatenate([p.times for p in parts])
            hi = np.concatenate([p.row_hi for p in parts])
            lo = np.concatenate([p.row_lo for p in parts])
            part_idx = np.repeat(np.arange(len(parts), dtype=np.int32), [len(p) for p in parts])
            row_idx = np.concatenate([np.arange(len(p), dtype=np.int64) for p in parts])
            order = np.lexsort((lo, hi, times))
            self.order = order  # sorted position -> position in the concatenated parts
            self.times, self.row_hi, self.row_lo = times[order], hi[order], lo[order]
            self.part_idx, self.row_idx = part_idx[order], row_idx[order]
        else:
            self.order = np.empty(0, dtype=np.int64)
            self.times = np.empty(0, dtype=np.int64)
            self.row_hi = self.row_lo = np.empty(0, dtype=np.uint64)
            self.part_idx = np.empty(0, dtype=np.int32)
            self.row_idx = np.empty(0, dtype=np.int64)

    @classmethod
    def empty(cls) -> LogTable:
        return cls([], [])

    def __len__(self) -> int:
        return len(self.times)

    def text(self, i: int) -> str:
        return self.parts[self.part_idx[i]].texts[int(self.row_idx[i])].as_py() or ""

    def level(self, i: int) -> str:
        return self.parts[self.part_idx[i]].levels[int(self.row_idx[i])].as_py() or ""

    def entity(self, i: int) -> EntityPath:
        return self.parts[self.part_idx[i]].entity

    def color(self, i: int) -> int | None:
        """The row's 0xRRGGBBAA text colour, None for the default."""
        colors = self.parts[self.part_idx[i]].colors
        return None if colors is None else colors[int(self.row_idx[i])].as_py()

    def mask(self, disabled_levels: frozenset[str], search: str) -> np.ndarray:
        if not self.parts or (not disabled_levels and not search):
            return np.ones(len(self), dtype=bool)
        return np.concatenate([p.mask(disabled_levels, search) for p in self.parts])[self.order]

    def levels_present(self) -> set[str]:
        out: set[str] = set()
        for part in self.parts:
            out |= part.level_set()
        return out

    def starts_with(self, other: LogTable) -> bool:
        """True if ``other`` is a prefix of this table (only rows were appended)."""
        n = len(other)
        return n <= len(self) and bool(
            np.array_equal(self.times[:n], other.times)
            and np.array_equal(self.row_hi[:n], other.row_hi)
            and np.array_equal(self.row_lo[:n], other.row_lo))


class LogCollector:
    """Builds ``LogTable``s for a set of entities, reusing the parts of chunks seen before."""

    def __init__(self) -> None:
        self._parts: dict[tuple[bytes, str], LogPart | None] = {}
        self.complete = True  # the last collect decoded every chunk (no deadline hit)

    def collect(self, db: EntityDb, entities: list[EntityPath], timeline: str | None,
                deadline: float | None = None, known: set[bytes] | None = None) -> LogTable:
        """``deadline`` (perf_counter): stop decoding new chunks once passed; the table then
        lacks their rows and ``complete`` is False (call again to continue). ``known``: only
        these chunk ids may be decoded now (a split update finishes what it started; chunks
        that arrived meanwhile wait for the next update and do not make it incomplete)."""
        parts: list[LogPart] = []
        seen: set[tuple[bytes, str]] = set()
        self.complete = True
        decoded = 0  # at least one new chunk per call, so a tiny budget still progresses
        for entity in entities:
            static = static_log_part(db, entity)
            if static is not None:
                parts.append(static)
            if timeline is None:
                continue
            for chunk in db.chunks_of(entity):
                if chunk.is_static or TEXT not in chunk.components:
                    continue
                key = (chunk.id, timeline)
                if key not in self._parts:
                    if known is not None and chunk.id not in known:
                        continue
                    if decoded and deadline is not None and time.perf_counter() >= deadline:
                        self.complete = False
                        continue
                    self._parts[key] = chunk_log_part(chunk, timeline)
                    decoded += 1
                seen.add(key)
                part = self._parts[key]
                if part is not None:
                    parts.append(part)
        for key in [k for k in self._parts if k not in seen]:
            del self._parts[key]  # chunks dropped or merged away
        return LogTable(parts, list(entities))


def collect_log(db: EntityDb, entities: list[EntityPath], timeline: str | None) -> LogTable:
    """All text rows of ``entities`` on ``timeline`` (static ones first), one row per text."""
    return LogCollector().collect(db, entities, timeline)


class TextLogModel(QAbstractTableModel):
    """Rows of a ``LogTable`` that pass the level and search filters."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.table = LogTable.empty()
        self.kind: TimelineKind | None = None
        self.disabled_levels: set[str] = set()
        self.search = ""
        self.rows = np.empty(0, dtype=np.int64)  # table indices passing the filters, in order
        self._row_times = np.empty(0, dtype=np.int64)  # times of `rows`, for cursor lookups
        self.time_limit: int | None = None
        self._count = 0  # rows shown: a prefix of `rows` (all, or up to `time_limit`)
        self.highlight_row = -1  # model row at the time cursor
        self.reset_count = 0
        self.insert_count = 0
        self._brushes: dict[int, QBrush] = {}

    # -------------------------------------------------------------- filtering

    def _mask(self, table: LogTable, start: int) -> np.ndarray:
        return table.mask(frozenset(self.disabled_levels), self.search)[start:]

    def set_table(self, table: LogTable, kind: TimelineKind | None) -> None:
        """New data: appended rows become one batched insert, anything else a reset."""
        if kind is self.kind and table.starts_with(self.table):
            start = len(self.table)
            self.table = table
            new_rows = start + np.flatnonzero(self._mask(table, start))
            if len(new_rows):
                self.rows = np.concatenate([self.rows, new_rows])
                self._row_times = np.concatenate([self._row_times, table.times[new_rows]])
                self._sync_count()
            return
        self.kind = kind
        self.table = table
        self.refilter()

    def refilter(self) -> None:
        self.beginResetModel()
        self.rows = np.flatnonzero(self._mask(self.table, 0)).astype(np.int64)
        self._row_times = self.table.times[self.rows]
        self._count = self._target_count()
        self.highlight_row = -1
        self.endResetModel()
        self.reset_count += 1

    def _target_count(self) -> int:
        if self.time_limit is None:
            return len(self.rows)
        return self.row_at_time(self.time_limit) + 1

    def _sync_count(self) -> None:
        """Show the rows the filters and the time limit allow: one insert or one removal
        (the shown rows are always a prefix of the filtered rows, which are time-sorted)."""
        target, count = self._target_count(), self._count
        if target > count:
            self.beginInsertRows(QModelIndex(), count, target - 1)
            self._count = target
            self.endInsertRows()
            self.insert_count += 1
        elif target < count:
            self.beginRemoveRows(QModelIndex(), target, count - 1)
            self._count = target
            if self.highlight_row >= target:
                self.highlight_row = -1
            self.endRemoveRows()

    def set_time_limit(self, t: int | None) -> None:
        """Show only rows with time <= t (None: all rows)."""
        self.time_limit = t
        self._sync_count()

    def set_level_enabled(self, level: str, enabled: bool) -> None:
        if enabled == (level not in self.disabled_levels):
            return
        if enabled:
            self.disabled_levels.discard(level)
        else:
            self.disabled_levels.add(level)
        self.refilter()

    def set_search(self, text: str) -> None:
        if text != self.search:
            self.search = text
            self.refilter()

    def levels_present(self) -> list[str]:
        present = self.table.levels_present()
        known = [lv for lv in KNOWN_LEVELS if lv in present]
        return known + sorted(present - set(KNOWN_LEVELS))

    def row_at_time(self, t: int | None) -> int:
        """Last shown row with time <= t (-1 if none)."""
        if t is None or len(self.rows) == 0:
            return -1
        return int(np.searchsorted(self._row_times, t, side="right")) - 1

    def set_highlight(self, row: int) -> None:
        old, self.highlight_row = self.highlight_row, row
        last = len(COLUMNS) - 1
        for r in {old, row}:
            if 0 <= r < self._count:
                self.dataChanged.emit(self.index(r, 0), self.index(r, last),
                                      [Qt.ItemDataRole.BackgroundRole])

    def _brush(self, packed: int) -> QBrush:
        brush = self._brushes.get(packed)
        if brush is None:
            brush = self._brushes[packed] = QBrush(QColor(
                (packed >> 24) & 0xFF, (packed >> 16) & 0xFF, (packed >> 8) & 0xFF,
                packed & 0xFF))
        return brush

    # -------------------------------------------------------------- Qt model

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else self._count

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        return None

    def data(self, index: QModelIndex | QPersistentModelIndex,
             role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid() or index.row() >= self._count:
            return None
        i = int(self.rows[index.row()])
        col = index.column()
        table = self.table
        if role == Qt.ItemDataRole.DisplayRole or role == Qt.ItemDataRole.ToolTipRole:
            if col == 0:
                t = int(table.times[i])
                return "static" if t == STATIC_TIME else format_time(self.kind, t)
            if col == 1:
                return str(table.entity(i))
            if col == 2:
                return table.level(i)
            return table.text(i)
        if role == Qt.ItemDataRole.ForegroundRole and col == 2:
            color = LEVEL_COLORS.get(table.level(i))
            return QBrush(color) if color is not None else None
        if role == Qt.ItemDataRole.ForegroundRole and col == 3:
            packed = table.color(i)
            return None if packed is None else self._brush(packed)
        if role == Qt.ItemDataRole.BackgroundRole and index.row() == self.highlight_row:
            return HIGHLIGHT
        return None


class TextLogView(View):
    kind_name = "Text log"

    def __init__(self, db: EntityDb, entities: Iterable[EntityPath], time_control: TimeControl,
                 title: str = "", parent: QWidget | None = None) -> None:
        super().__init__(db, entities, time_control, title or "Text log", parent)
        self.model = TextLogModel(self)
        self.table_view = QTableView(self)
        self.table_view.setModel(self.model)
        self.table_view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table_view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table_view.setWordWrap(False)
        self.table_view.verticalHeader().setVisible(False)
        self.table_view.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.table_view.verticalHeader().setDefaultSectionSize(20)
        header = self.table_view.horizontalHeader()
        header.setStretchLastSection(True)
        for col, width in enumerate((190, 120, 60)):
            header.resizeSection(col, width)
        self.search_box = QLineEdit(self)
        self.search_box.setPlaceholderText("Search text…")
        self.search_box.setClearButtonEnabled(True)
        self.search_box.textChanged.connect(self.model.set_search)
        self.levels_button = QToolButton(self)
        self.levels_button.setText("Levels")
        self.levels_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.levels_menu = QMenu(self.levels_button)
        self.levels_button.setMenu(self.levels_menu)
        self.level_actions: dict[str, QAction] = {}
        self.up_to_cursor = QCheckBox("Only up to cursor", self)
        self.up_to_cursor.toggled.connect(lambda _on: self._apply_cursor(force=True))
        bar = QHBoxLayout()
        bar.setContentsMargins(0, 0, 0, 0)
        bar.addWidget(self.search_box, 1)
        bar.addWidget(self.levels_button)
        bar.addWidget(self.up_to_cursor)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addLayout(bar)
        layout.addWidget(self.table_view, 1)
        self.model.modelReset.connect(lambda: self._apply_cursor(force=True))
        self.model.rowsInserted.connect(lambda *_: self._apply_cursor())
        self.collector = LogCollector()
        self._data_dirty = True
        self._shown_timeline: str | None = None
        # A split update (per-frame budget) decodes only the chunks present when it started;
        # data arriving meanwhile sets _newer_data and gets its own (throttled) update.
        self._update_ids: set[bytes] | None = None
        self._newer_data = False

    @classmethod
    def accepts(cls, db: EntityDb, entity: EntityPath) -> bool:
        return TEXT in db.components(entity)

    def invalidate(self, entities: Iterable[EntityPath]) -> None:
        # Re-collecting reuses the decoded rows of known chunks; an unchanged log becomes
        # an empty append (no model signal at all).
        self._data_dirty = True
        if self._update_ids is not None:
            self._newer_data = True

    def redraw(self) -> None:
        timeline = self.time_control.timeline
        if self._data_dirty or timeline != self._shown_timeline:
            self._data_dirty = False
            self._shown_timeline = timeline
            kind = self.db.timelines().get(timeline) if timeline else None
            if kind is not self.model.kind:
                width = 80 if kind in (TimelineKind.SEQUENCE, None) else 190
                self.table_view.horizontalHeader().resizeSection(0, width)
            budget = self.work_budget_s()
            deadline = None if budget is None else time.perf_counter() + budget
            if budget is None:
                self._update_ids = None  # a full redraw takes everything there is
            elif self._update_ids is None:
                self._update_ids = {c.id for e in self.entities for c in self.db.chunks_of(e)}
            self.model.set_table(self.collector.collect(
                self.db, self.entities, timeline, deadline, self._update_ids), kind)
            self._sync_level_actions()
            if not self.collector.complete:
                self._data_dirty = True
                self.continue_next_frame()  # the remaining chunks next frame
            else:
                self._update_ids = None
                if self._newer_data:  # arrived during the split update: next turn
                    self._newer_data = False
                    self._data_dirty = True
                    self._request_redraw(urgent=False)
        self._apply_cursor()

    def _sync_level_actions(self) -> None:
        for level in self.model.levels_present():
            if level in self.level_actions:
                continue
            self._fit_level_column(level)
            action = QAction(level, self.levels_menu)
            action.setCheckable(True)
            action.setChecked(level not in self.model.disabled_levels)
            action.toggled.connect(lambda on, lv=level: self.set_level_enabled(lv, on))
            self.levels_menu.addAction(action)
            self.level_actions[level] = action

    def _fit_level_column(self, level: str) -> None:
        """Widen the level column to show ``level`` uncut (it never shrinks): measured
        from the font, not from the rows, so no pass over the log."""
        header = self.table_view.horizontalHeader()
        metrics = self.table_view.fontMetrics()
        # Cell text margins: the style's focus frame margin on each side, plus one pixel.
        margin = 2 * (self.table_view.style().pixelMetric(
            QStyle.PixelMetric.PM_FocusFrameHMargin, None, self.table_view) + 1) + 2
        needed = max(metrics.horizontalAdvance(level) + margin, header.sectionSizeHint(2))
        if header.sectionSize(2) < needed:
            header.resizeSection(2, needed)

    def set_level_enabled(self, level: str, enabled: bool) -> None:
        action = self.level_actions.get(level)
        if action is not None and action.isChecked() != enabled:
            action.setChecked(enabled)  # re-enters through toggled
            return
        self.model.set_level_enabled(level, enabled)

    def set_search(self, text: str) -> None:
        self.search_box.setText(text)

    def _apply_cursor(self, force: bool = False) -> None:
        """Highlight (and scroll to) the row at the cursor; cut later rows if asked."""
        model = self.model
        t = self.time_control.time
        limit = t if self.up_to_cursor.isChecked() else None
        if limit != model.time_limit:
            model.set_time_limit(limit)
        row = min(model.row_at_time(t), model.rowCount() - 1)
        if row != model.highlight_row or force:
            model.set_highlight(row)
            if row >= 0:
                self.table_view.scrollTo(model.index(row, 0),
                                         QAbstractItemView.ScrollHint.EnsureVisible)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        # The first scroll may happen before the table has its size: keep the cursor row shown.
        if self.model.highlight_row >= 0:
            self.table_view.scrollTo(self.model.index(self.model.highlight_row, 0),
                                     QAbstractItemView.ScrollHint.EnsureVisible)
