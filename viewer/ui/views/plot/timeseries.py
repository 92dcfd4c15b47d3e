"""Time-series plot of Scalars entities, fast for millions of points.

Peak downsampling and clip-to-view are set on the PlotItem (pyqtgraph 0.14 overwrites item
options in ``addItem``). Curves get ``setData`` only for entities the frame driver reported
as changed (and only when the cached series really is a new array); moving the time cursor
moves an InfiniteLine and touches no curve.

Long series (more than ``DECIMATE_ABOVE`` points) are handed to pyqtgraph already reduced to
a min/max envelope of ~2 points per pixel column of the shown x range: pyqtgraph re-derives
its clipped, downsampled copy of *every* curve on each view-range change, and while data
streams in and the range follows the data that is every setData (measured: ~2 ms per 500 k-point curve
per change, the largest UI cost of a 2 M-row load, docs/benchmarks/gui.md). When the user
zooms or pans (the x range stops following) the envelope is rebuilt for the new range.

Comparing runs: the view may also draw the same entities of other recordings (`runs.py`:
one `PlotRun` per recording, the view's own store first). Every run is read on the same
incremental, budgeted path (one `PlotSeries` per recording, entity and instance); an update
cycle walks (run, entity) pairs, and the window reports a compared store's new data with
`on_store_data_changed`.
"""

from __future__ import annotations

import logging
import time
import zlib
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF
from PySide6.QtGui import QPainterPath, QTransform
from PySide6.QtWidgets import QMenu, QWidget

from viewer.store.chunk import TimelineKind
from viewer.store.entity_db import EntityDb
from viewer.store.entity_path import EntityPath
from viewer.ui.time_control import TimeControl
from viewer.ui.views.arrow_values import scalar_to_x
from viewer.ui.views.base import View
from viewer.ui.views.plot.envelope_image import EnvelopePlotDataItem
from viewer.ui.views.plot.follow_range import FollowRange
from viewer.ui.views.plot.legend import add_batched_legend
from viewer.ui.views.plot.plot_axes import FastAxisItem, FastDateAxisItem, embed_plot
from viewer.ui.views.plot.plot_series import (
    PlotSeries,
    SeriesStyle,
    merge_columns,
    series_style,
)
from viewer.ui.views.plot.runs import (
    Align,
    CompareRun,
    CurveKey,
    PlotRun,
    Shown,
    family_color,
    short_id,
)
from viewer.ui.views.plot.wide_band import MAX_CURVES, WideBand, band_name

if TYPE_CHECKING:
    from viewer.ingest.frame_budget import FrameBudget as FrameBudgetLike

_log = logging.getLogger(__name__)

SCALARS = "Scalars:scalars"

#: Distinct, readable-on-dark colours; an entity keeps its colour across runs (path hash).
PALETTE = [
    (31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189),
    (140, 86, 75), (227, 119, 194), (188, 189, 34), (23, 190, 207), (127, 127, 127),
]


def _asterisk() -> QPainterPath:
    """Three thin bars crossing at the centre (pyqtgraph has no asterisk symbol); symbol
    paths span -0.5..0.5 and are scaled to the symbol size."""
    path = QPainterPath()
    bar = QPainterPath()
    bar.addRect(QRectF(-0.5, -0.07, 1.0, 0.14))
    for angle in (90.0, 30.0, -30.0):
        path = path.united(QTransform().rotate(angle).map(bar))
    return path


#: Rerun's marker shapes as pyqtgraph symbols.
MARKER_SYMBOLS: dict[str, str | QPainterPath] = {
    "circle": "o", "diamond": "d", "square": "s", "cross": "x", "plus": "+", "up": "t1",
    "down": "t", "left": "t3", "right": "t2", "asterisk": _asterisk(),
}


def marker_symbol(name: str) -> str | QPainterPath:
    return MARKER_SYMBOLS.get(name, "o")


def auto_color(entity: EntityPath, instance: int) -> tuple[int, int, int]:
    return PALETTE[(zlib.crc32(str(entity).encode()) + instance) % len(PALETTE)]


#: Series longer than this are given to pyqtgraph as a min/max envelope of the shown range.
DECIMATE_ABOVE = 20_000
#: Envelope buckets per pixel of plot width (each bucket gives a min and a max point).
MIN_BUCKETS = 1000
#: Time one read of new chunks may take in a budgeted (split) update: the chunks per read
#: follow from the measured cost per chunk (within ``READ_CHUNKS_MIN``..``MAX``), so a
#: slice stays at a few ms however large the backlog (docs/benchmarks/gui.md). A cycle
#: reads the backlog an entity had when the cycle began; what arrives meanwhile waits.
READ_SLICE_S = 0.004
READ_CHUNKS_MIN, READ_CHUNKS_MAX = 16, 512
#: A followed envelope is drawn as one segment per pixel column (`merge_columns`); off
#: only to measure what it saves (``scripts/bench_gui.py --ab columns``).
MERGE_COLUMNS = True
#: Web mode: curves are handed over only in a frame reserved for their paint (off only to
#: measure it: ``scripts/bench_gui.py --ab reserved-handover``).
HANDOVER_IN_RESERVED_FRAME = True
#: A view whose x range is stepped waits in the redraw queue, so that a flush (a screenshot)
#: ends the step (off only to measure it: ``scripts/bench_gui.py --ab step-wait``).
WAIT_WHILE_STEPPED = True


def peak_envelope(x: np.ndarray, y: np.ndarray, buckets: int) -> tuple[np.ndarray, np.ndarray]:
    """(x, y) with each run of samples replaced by its min and max (NaN ignored unless the
    whole run is NaN); the samples that do not fill a whole run are kept as they are."""
    n = len(x)
    size = max(1, -(-n // max(1, buckets)))
    if size == 1:
        return x, y
    full = n // size * size
    runs = y[:full].reshape(-1, size)
    lo = np.fmin.reduce(runs, axis=1)
    hi = np.fmax.reduce(runs, axis=1)
    xs = x[:full:size]
    out_x = np.empty(2 * len(xs) + (n - full))
    out_y = np.empty_like(out_x)
    out_x[0:2 * len(xs):2] = xs
    out_x[1:2 * len(xs):2] = xs
    out_y[0:2 * len(xs):2] = lo
    out_y[1:2 * len(xs):2] = hi
    out_x[2 * len(xs):] = x[full:]
    out_y[2 * len(xs):] = y[full:]
    return out_x, out_y


class TimeSeriesView(View):
    """One curve per (entity, scalar instance); a draggable line marks the time cursor.

    With runs compared (`set_compare_runs`), the same entities of other recordings are drawn
    too, each recording in shades of its own hue and named in the legend, aligned on the
    shared timeline or on time since each recording's start (`set_align`)."""

    kind_name = "Time series"

    def __init__(self, db: EntityDb, entities: Iterable[EntityPath], time_control: TimeControl,
                 title: str = "", parent: QWidget | None = None) -> None:
        super().__init__(db, entities, time_control, title, parent)
        self.plot_widget, self.plot_item = embed_plot(self)
        self.plot_item.setDownsampling(auto=True, mode="peak")
        self.plot_item.setClipToView(True)
        self.plot_item.showGrid(x=True, y=True, alpha=0.25)
        self.legend = add_batched_legend(self.plot_item, offset=(10, 10))
        self.cursor_line = pg.InfiniteLine(
            angle=90, movable=True, pen=pg.mkPen((255, 204, 0), width=1.5),
            hoverPen=pg.mkPen((255, 230, 120), width=3))
        self.cursor_line.setZValue(100)
        self.cursor_line.setVisible(False)
        self.plot_item.addItem(self.cursor_line, ignoreBounds=True)
        self.cursor_line.sigDragged.connect(self._on_cursor_dragged)
        # Run 0 is this view's own store; compared recordings follow (``set_compare_runs``).
        # Each run keeps x and envelope per curve, updated by converting only appended rows.
        self._runs: list[PlotRun] = [PlotRun(db, dirty=set(self.entities))]
        #: How compared runs share the x axis (only while comparing).
        self.align = Align.TIMELINE
        self._range_pending = False
        self._arriving = False  # this redraw follows arriving data (a queued one)
        # The range follows the data as set here (not pyqtgraph's auto-range: follow_range.py).
        self.follow = FollowRange(self.plot_item.getViewBox(), self._on_follow_again)
        self.plot_item.getViewBox().sigXRangeChanged.connect(self._on_x_range_changed)
        # (run, entity) of the update cycle still to read.
        self._cycle: list[tuple[PlotRun, EntityPath]] = []
        self._chunk_cost = READ_SLICE_S / 96  # seconds per chunk read (measured, smoothed)
        self._handover_waited = False  # web mode: a hand-over waited a turn for its frame
        self._axis_state: tuple[str | None, TimelineKind | None, Align] | None = None
        self._kind: TimelineKind | None = None
        #: Fills the plot context menu's "Compare runs" submenu (the window sets it).
        self.compare_menu_filler: Callable[[QMenu], None] | None = None
        self._compare_menu: QMenu | None = None
        #: Wide entities: the first instance drawn as a curve (`set_curve_window`).
        self._curve_start: dict[EntityPath, int] = {}
        #: Context menu to move a wide entity's window of curves along its instances; made
        #: when the first wide entity is drawn (a plot without one never builds it).
        self._wide_menu: QMenu | None = None
        #: The frame's shared budget (web mode: what ingestion left of the frame); given by
        #: the views host (`set_frame_budget`). None: the queue's own per-redraw budget.
        self.frame_budget: FrameBudgetLike | None = None

    @classmethod
    def accepts(cls, db: EntityDb, entity: EntityPath) -> bool:
        return SCALARS in db.components(entity)

    def set_frame_budget(self, budget: FrameBudgetLike | None) -> None:
        """Budgeted updates spend at most what ``budget`` says is left of the frame."""
        self.frame_budget = budget

    def work_budget_s(self) -> float | None:
        """The queue's per-redraw budget, cut to what is left of the frame's shared budget
        (web mode: ingestion ran first in the tick). At least one read slice still runs per
        turn (``redraw``), so the view never starves; the rest continues next turn."""
        own = super().work_budget_s()
        budget = self.frame_budget
        if own is None or budget is None:
            return own
        left = budget.redraw_allowance_s()
        return own if left is None else min(own, left)

    @property
    def curves(self) -> dict[CurveKey, pg.PlotDataItem]:
        """The curves of the view's own store, by (entity, instance)."""
        return self._runs[0].curves

    # ------------------------------------------------------------------ comparing runs

    @property
    def comparing(self) -> bool:
        return len(self._runs) > 1

    @property
    def compared_runs(self) -> list[PlotRun]:
        """The other recordings drawn in this view, in the order given."""
        return self._runs[1:]

    @property
    def effective_align(self) -> Align:
        return self.align if self.comparing else Align.TIMELINE

    def set_compare_runs(self, runs: Sequence[CompareRun], own_label: str = "") -> None:
        """Draw these other recordings' curves of the same entities too (none: one run
        again), the view's own named ``own_label`` in the legend (default: its recording
        id). Runs compared already keep what they read; dropped ones lose their curves."""
        if not runs and not self.comparing:
            return  # one run, as before (no restyle, no redraw of a view just made)
        old = {id(r.db): r for r in self._runs[1:]}
        runs_now = [self._runs[0]]
        own_label = own_label or short_id(self.db.store_id.recording_id)
        renamed = own_label != runs_now[0].label
        for spec in runs:
            if spec.db is self.db or any(r.db is spec.db for r in runs_now):
                continue
            run = old.pop(id(spec.db), None) or PlotRun(spec.db, dirty=set(self.entities))
            family = len(runs_now)
            renamed |= (run.label, run.family) != (spec.label, family)
            run.label, run.family = spec.label, family
            runs_now.append(run)
        if not renamed and not old and len(runs_now) == len(self._runs):
            return  # the same runs as now
        for run in old.values():
            for curve in run.curves.values():
                self.plot_item.removeItem(curve)
            for band in run.bands.values():
                band.remove()
        self._runs = runs_now
        self._cycle = [(r, e) for r, e in self._cycle if any(r is x for x in runs_now)]
        self._runs[0].label = own_label
        self._restyle_all()
        if old:
            self._apply_range()
        self._redraw_if_drawn()

    def set_align(self, align: Align) -> None:
        """Compared runs on the shared timeline or on time since each one's start."""
        if align is not self.align:
            self.align = align
            if self.comparing:
                self._redraw_if_drawn()

    def _redraw_if_drawn(self) -> None:
        """Redraw promptly after a change of runs; a view not drawn yet draws in its own
        turn (as any new view: not in the frame that made it)."""
        if self.redraw_count > 0:
            self._request_redraw()

    def set_compare_menu_filler(self, filler: Callable[[QMenu], None] | None) -> None:
        """Add a "Compare runs" submenu to the plot's context menu, filled by ``filler``
        each time it opens (the window knows which recordings there are)."""
        self.compare_menu_filler = filler
        if self._compare_menu is None and filler is not None:
            menu = self._compare_menu = QMenu("Compare runs", self)
            menu.aboutToShow.connect(self._fill_compare_menu)
            self.plot_widget.scene().contextMenu.append(menu)

    @property
    def compare_menu(self) -> QMenu | None:
        return self._compare_menu

    def _fill_compare_menu(self) -> None:
        menu = self._compare_menu
        if menu is None:
            return
        menu.clear()
        if self.compare_menu_filler is not None:
            self.compare_menu_filler(menu)

    def on_store_data_changed(self, store_id: object, entities: Iterable[EntityPath]) -> None:
        """A compared recording got new (or lost) data for ``entities``."""
        for run in self._runs[1:]:
            if run.db.store_id == store_id:
                mine = [e for e in entities if e in self.entities]
                if mine:
                    run.dirty.update(mine)
                    self._request_redraw(urgent=False)

    def _legend_name(self, run: PlotRun, base: str) -> str:
        return f"{base} · {run.label}" if self.comparing else base

    def _restyle_all(self) -> None:
        """Colours and legend names follow whether runs are compared (families) or not."""
        for run in self._runs:
            for key, curve in run.curves.items():
                style = run.styles[key[0]][1] if key[0] in run.styles else SeriesStyle()
                self._apply_style(run, curve, key, style)
                name = self._legend_name(run, run.names.get(key, str(key[0])))
                curve.opts["name"] = name
                for sample, label in self.legend.items:
                    if sample.item is curve:
                        label.setText(name)
            for band in run.bands.values():
                band.set_name(self._legend_name(run, band.base))

    # ------------------------------------------------------------------ updates

    def invalidate(self, entities: Iterable[EntityPath]) -> None:
        # Dirty entities re-read their series; setData follows only if the store's cached
        # series is a new array (so a spurious report costs a lookup, not a setData).
        self._runs[0].dirty.update(entities)

    def add_entity(self, entity: EntityPath) -> None:
        if entity not in self.entities:
            for run in self._runs[1:]:  # compared runs draw it too
                run.dirty.add(entity)
        super().add_entity(entity)

    def schedule_redraw(self) -> None:
        for run in self._runs[1:]:  # compared runs re-check their data too
            run.dirty.update(self.entities)
        super().schedule_redraw()

    def _any_dirty(self) -> bool:
        return any(run.dirty for run in self._runs)

    def _any_unshown(self) -> bool:
        return any(run.unshown for run in self._runs)

    def redraw(self) -> None:
        timeline = self.time_control.timeline
        kind = self.db.timelines().get(timeline) if timeline else None
        align = self.effective_align
        if self._axis_state != (timeline, kind, align):
            self._set_timeline(timeline, kind, align)
        self._sync_offsets(timeline, align)
        budget = self.work_budget_s()
        # Queued redraws follow arriving data: the x range may grow in steps (follow_range);
        # a redraw of everything at once (a flush, a direct redraw) shows exact bounds.
        self._arriving = budget is not None
        if budget is None or not (self._cycle or self._any_unshown()):
            self._start_cycle(timeline, budgeted=budget is not None)
        deadline = None if budget is None else time.perf_counter() + budget
        prepared = 0
        while self._cycle:
            if prepared and deadline is not None and time.perf_counter() >= deadline:
                self.continue_next_frame()  # the other curves next frame
                return
            run, entity = self._cycle.pop(0)
            if entity not in self.entities:
                continue
            try:
                if budget is None:
                    self._refresh_entity(run, entity, timeline)
                else:
                    left = deadline - time.perf_counter()
                    self._read_slice(run, entity, timeline, min(READ_SLICE_S, max(0.0, left)))
            except Exception as exc:  # one entity's bad data must not blank the others
                self._report(run, entity, f"{type(exc).__name__}: {exc}")
            else:
                self._report(run, entity, None)
            prepared += 1
        shared = self.frame_budget is not None and self.frame_budget.shared
        if prepared and deadline is not None and self._any_unshown() \
                and (shared or time.perf_counter() >= deadline - budget / 2):
            # Hand the curves over (setData, range, and the repaint that follows: 10-15 ms
            # for long series) in a frame of its own, not on top of this frame's reading;
            # with a shared frame budget (web mode) always, and that frame's ingestion
            # leaves room for the paint.
            if self.frame_budget is not None:
                self.frame_budget.reserve_paint()
            self.continue_next_frame()
            return
        if shared and HANDOVER_IN_RESERVED_FRAME and self._any_unshown() \
                and not self.frame_budget.paint_reserved and not self._handover_waited:
            # Web mode: a hand-over only in a frame whose ingestion left room for its
            # paint. A turn can reach it unannounced (its reading ended in a turn of the
            # queue's own timer, after the announced frame): announce it now, hand over
            # next turn (once: without ticks no frame is ever reserved).
            self._handover_waited = True
            self.frame_budget.reserve_paint()
            self.continue_next_frame()
            return
        self._handover_waited = False
        # All curves of the cycle change in one go: one repaint of the plot per cycle.
        handed = False
        for run in self._runs:
            keys = [k for k in run.curves if k in run.unshown and k in run.series]
            for key in keys:
                self._show(run, key, run.unshown[key])
            run.unshown.clear()
            handed = handed or bool(keys) or bool(run.bands_unshown)
            for entity in run.bands_unshown:
                if entity in run.bands:
                    run.bands[entity].show()
            run.bands_unshown.clear()
        # everything at once (a flush, a direct redraw): a stepped x range ends here
        settled = not self._arriving and self.follow.settle()
        if handed or settled:
            self._apply_range(settled)
        for run in self._runs:
            run.dirty.intersection_update(self.entities)
        if self._range_pending:
            self._range_pending = False
            for run in self._runs:
                for key in [k for k in run.decimated if k in run.series]:
                    self._show(run, key)
        self._move_cursor()
        self._settle_for_paint()
        if self._any_dirty():
            # Backlog left for the next cycle (or data that arrived during this one): a
            # throttled redraw picks it up even if no more data comes.
            self._request_redraw(urgent=False)
        elif self.follow.stepping and WAIT_WHILE_STEPPED:
            # Waiting in the queue while the x range is stepped: a flush (a screenshot
            # once loading ended) then redraws it at once, with the exact bounds.
            self._request_redraw(urgent=False)

    def _report(self, run: PlotRun, entity: EntityPath, message: str | None) -> None:
        """Errors of the view's own store are the view's; a compared run's are kept on the
        run (and logged once) so they never clear or mask the view's own."""
        if run is self._runs[0]:
            self.report_entity_error(entity, message)
        elif message is None:
            run.errors.pop(entity, None)
        elif run.errors.get(entity) != message:
            run.errors[entity] = message
            _log.warning("%s %r, run %s: %s: %s", self.kind_name, self.title, run.label,
                         entity, message)

    def _sync_offsets(self, timeline: str | None, align: Align) -> None:
        """Each run's x shift: its first time on the timeline when aligned on the start of
        each recording (a run whose first time moved, e.g. older data arrived, is read
        again), else none."""
        for run in self._runs:
            offset = 0
            if align is Align.START and timeline is not None:
                rng = run.db.time_range(timeline)
                offset = rng[0] if rng is not None else 0
            if offset != run.offset:
                run.offset = offset
                run.forget_series()
                run.dirty.update(self.entities)
                self._cycle = [(r, e) for r, e in self._cycle if r is not run]

    def _start_cycle(self, timeline: str | None, budgeted: bool) -> None:
        """A new update cycle takes the entities dirty now; ones that get data while the
        cycle is split over frames wait for the next (throttled) cycle, so a stream does
        not keep the plot redrawing every frame."""
        queued = {(id(r), e) for r, e in self._cycle}
        for run in self._runs:
            run.backlog.clear()
            taken = [e for e in self.entities if e in run.dirty and (id(run), e) not in queued]
            self._cycle.extend((run, e) for e in taken)
            run.dirty.difference_update(taken)
        if budgeted and timeline is not None:
            for run, e in self._cycle:  # the backlog each entity has now
                run.backlog[e] = self._pending(run, e, timeline)

    def _read_slice(self, run: PlotRun, entity: EntityPath, timeline: str | None,
                    slice_s: float = READ_SLICE_S) -> None:
        """One budgeted read: ~``slice_s`` worth of ``entity``'s new chunks (from the
        measured cost per chunk); the entity stays in the cycle until the backlog it had
        when the cycle began is read."""
        limit = min(READ_CHUNKS_MAX, max(READ_CHUNKS_MIN, int(slice_s / self._chunk_cost)))
        before, t0 = self._pending(run, entity, timeline), time.perf_counter()
        more = self._refresh_entity(run, entity, timeline, limit)
        done = before - self._pending(run, entity, timeline)
        if done > 0:  # cost per chunk read, smoothed
            self._chunk_cost = 0.7 * self._chunk_cost + 0.3 * (time.perf_counter() - t0) / done
        left = run.backlog[entity] = run.backlog.get(entity, 0) - done
        if more and left > 0:
            self._cycle.insert(0, (run, entity))  # the rest of its backlog, next slice
        elif more:
            run.dirty.add(entity)  # left for the next cycle

    def _settle_for_paint(self) -> None:
        """Apply a new view range's transform now. pyqtgraph applies it at the start of the
        next paint, where the curves and the cursor line then change geometry and Qt paints
        the plot a second time (~5-15 ms more per plot update; docs/benchmarks/gui.md)."""
        self.plot_item.getViewBox().prepareForPaint()
        self.cursor_line.boundingRect()

    def _set_timeline(self, timeline: str | None, kind: TimelineKind | None,
                      align: Align) -> None:
        """New x axis: timestamps as dates on the shared timeline; time since the start
        (and durations) in seconds."""
        self._axis_state = (timeline, kind, align)
        self._kind = kind
        if kind is TimelineKind.TIMESTAMP and align is Align.TIMELINE:
            axis: pg.AxisItem = FastDateAxisItem(orientation="bottom")
        else:
            axis = FastAxisItem(orientation="bottom")
            if kind in (TimelineKind.DURATION, TimelineKind.TIMESTAMP):
                axis.setLabel(units="s")
        self.plot_item.setAxisItems({"bottom": axis})
        label = timeline or ""
        if timeline and align is Align.START:
            label = f"{timeline} since each run's start"
        self.plot_item.setLabel("bottom", label)
        for run in self._runs:
            run.forget_series()
            run.dirty.update(self.entities)
        self._cycle.clear()
        self.follow.reset()

    def _pending(self, run: PlotRun, entity: EntityPath, timeline: str | None) -> int:
        """New chunks of ``entity`` not read into its (first) series yet."""
        return run.db.scalar_series_pending(entity, SCALARS, timeline) if timeline else 0

    def _style(self, run: PlotRun, entity: EntityPath) -> tuple[SeriesStyle, bool]:
        """The entity's series style, and whether it changed since its curves were styled
        (a few lookups, only for entities with SeriesLines / SeriesPoints components)."""
        key, style = series_style(run.db, entity, self.time_control.timeline)
        old = run.styles.get(entity)
        if old is not None and old[0] == key:
            return old[1], False
        run.styles[entity] = (key, style)
        return style, old is not None

    def _new_curve(self, run: PlotRun, entity: EntityPath, i: int, count: int,
                   style: SeriesStyle) -> pg.PlotDataItem:
        base = style.name(i) or (str(entity) if count == 1 else f"{entity}[{i}]")
        run.names[(entity, i)] = base
        curve = EnvelopePlotDataItem(name=self._legend_name(run, base))
        self._apply_style(run, curve, (entity, i), style)
        self.plot_item.addItem(curve)
        return curve

    def _apply_style(self, run: PlotRun, curve: pg.PlotDataItem, key: CurveKey,
                     style: SeriesStyle) -> None:
        """Lines: the logged width in pixels; points: markers of the logged shape and size
        (a radius in UI points, so twice that across) and no line between them; a hidden
        series (``visible_series`` false) is not drawn but keeps its legend entry. While
        runs are compared the colour is a shade of the run's family (a logged colour would
        paint every run the same)."""
        entity, i = key
        rgba = style.color(i)
        if self.comparing:
            shade = (self.entities.index(entity) if entity in self.entities else 0) + i
            rgb = family_color(run.family, shade)
        elif rgba is not None:
            rgb = tuple(int(c) for c in rgba[:3])
        else:
            rgb = auto_color(entity, i)
        if style.points:
            run.scatter.add(key)
            curve.setPen(None)
            curve.setSymbol(marker_symbol(style.marker(i)))
            curve.setSymbolSize(2.0 * style.marker_size(i))
            curve.setSymbolBrush(pg.mkBrush(rgb))
            curve.setSymbolPen(None)
        else:
            run.scatter.discard(key)
            curve.setSymbol(None)
            curve.setPen(pg.mkPen(rgb, width=style.width(i)))
        curve.setVisible(style.is_visible(i))

    def _refresh_entity(self, run: PlotRun, entity: EntityPath, timeline: str | None,
                        limit: int | None = None) -> bool:
        """Read the entity's new data (at most ``limit`` new chunks); True if more is left."""
        db = run.db
        first: tuple[np.ndarray, np.ndarray] | None = None
        count = 0
        if timeline is not None:  # instance 0 first: its read counts the values per row
            first = db.scalar_series(entity, SCALARS, timeline, max_chunks=limit)
            count = db.scalar_series_width(entity, SCALARS, timeline)
        more = False
        style, restyle = self._style(run, entity)
        # A wide entity: a window of its instances as curves, the others as one band
        # (wide_band.py); curves that left the window go.
        window = self.curve_window(entity, count)
        if count > MAX_CURVES:  # a walk over the run's curves: only for wide entities
            self._drop_curves(run, entity, window)
        for i in range(window[0], max(window[1], 1)):
            key = (entity, i)
            curve = run.curves.get(key)
            if timeline is None or i >= count:
                if curve is not None:
                    curve.setData([], [])
                    run.series.pop(key, None)
                    run.decimated.discard(key)
                    run.unshown.pop(key, None)
                continue
            times, values = first if i == 0 else db.scalar_series(
                entity, SCALARS, timeline, instance=i, max_chunks=limit)
            if limit is not None and db.scalar_series_pending(
                    entity, SCALARS, timeline, instance=i):
                more = True
            if curve is None:
                curve = run.curves[key] = self._new_curve(run, entity, i, count, style)
            elif restyle:
                self._apply_style(run, curve, key, style)
            series = run.series.get(key)
            if series is None:
                series = run.series[key] = PlotSeries(self._kind, run.offset)
            serial = db.scalar_series_serial(entity, SCALARS, timeline, instance=i)
            if not series.update(serial, times, values):
                continue  # the store's cached series did not change
            run.unshown[key] = self._display_data(run, key)
        return self._refresh_band(run, entity, timeline, count, window, limit) or more

    def curve_window(self, entity: EntityPath, count: int | None = None) -> tuple[int, int]:
        """(start, stop): the instances of ``entity`` drawn as curves, ``count`` values per
        row (default: as read so far); every instance when it has ``MAX_CURVES`` or fewer,
        else ``MAX_CURVES`` of them from the start the user picked (`set_curve_window`)."""
        if count is None:
            timeline = self.time_control.timeline
            count = self.db.scalar_series_width(entity, SCALARS, timeline) if timeline else 0
        if count <= MAX_CURVES:
            return 0, count
        start = max(0, min(self._curve_start.get(entity, 0), count - MAX_CURVES))
        return start, start + MAX_CURVES

    def set_curve_window(self, entity: EntityPath, start: int) -> None:
        """Draw instances ``start``.. of a wide entity as its curves (``MAX_CURVES`` of
        them, clamped to its width); the others join its band."""
        start = max(0, int(start))
        if self._curve_start.get(entity, 0) == start:
            return
        self._curve_start[entity] = start
        for run in self._runs:
            run.dirty.add(entity)
        self._request_redraw()

    def _drop_curves(self, run: PlotRun, entity: EntityPath, window: tuple[int, int]) -> None:
        """Remove ``entity``'s curves outside ``window`` (and their legend entries)."""
        start, stop = window
        gone = [k for k in run.curves if k[0] == entity and not start <= k[1] < max(stop, 1)]
        for key in gone:
            self.plot_item.removeItem(run.curves.pop(key))
            for kept in (run.series, run.unshown, run.names):
                kept.pop(key, None)
            run.decimated.discard(key)
            run.scatter.discard(key)

    def _ensure_wide_menu(self) -> None:
        if self._wide_menu is None:
            self._wide_menu = QMenu("Wide series", self)
            self._wide_menu.aboutToShow.connect(self._fill_wide_menu)
            self.plot_widget.scene().contextMenu.append(self._wide_menu)

    def _fill_wide_menu(self) -> None:
        """One entry per wide entity: move its window of curves along its instances."""
        menu = self._wide_menu
        if menu is None:
            return
        menu.clear()
        timeline = self.time_control.timeline
        for entity in self.entities:
            count = self.db.scalar_series_width(entity, SCALARS, timeline) if timeline else 0
            if count <= MAX_CURVES:
                continue
            start, stop = self.curve_window(entity, count)
            sub = menu.addMenu(f"{entity}: curves [{start}..{stop - 1}] of {count}")
            for label, to in (("First", 0), ("Previous", start - MAX_CURVES),
                              ("Next", start + MAX_CURVES), ("Last", count - MAX_CURVES)):
                to = max(0, min(to, count - MAX_CURVES))
                action = sub.addAction(f"{label} {MAX_CURVES}: [{to}..{to + MAX_CURVES - 1}]")
                action.setEnabled(to != start)
                action.triggered.connect(
                    lambda _=False, e=entity, t=to: self.set_curve_window(e, t))
        if menu.isEmpty():
            menu.addAction("No entity here has more than "
                           f"{MAX_CURVES} values per row").setEnabled(False)

    def _refresh_band(self, run: PlotRun, entity: EntityPath, timeline: str | None,
                      count: int, window: tuple[int, int], limit: int | None) -> bool:
        """Read the band of the instances outside ``window`` of a wide entity (one read
        for all of them); True if more chunks are left for it."""
        band = run.bands.get(entity)
        if timeline is None or count <= MAX_CURVES:
            if band is not None and band.serial is not None:
                band.clear()
            return False
        self._ensure_wide_menu()
        db = run.db
        base = band_name(entity, window, count)
        name = self._legend_name(run, base)
        if band is None:
            band = run.bands[entity] = WideBand(self.plot_item, name, auto_color(entity, MAX_CURVES))
        elif band.name != name:
            band.set_name(name)
        band.base = base
        times, lo, hi, serial = db.scalar_band(entity, SCALARS, timeline, window,
                                               max_chunks=limit)
        if band.update(serial, times, lo, hi, self._kind, run.offset):
            run.bands_unshown.add(entity)
        return limit is not None and db.scalar_band_pending(
            entity, SCALARS, timeline, window) > 0

    def _display_data(self, run: PlotRun, key: CurveKey) -> Shown:
        """What the curve is given: all of its data, or the envelope of the shown x range
        (whether that is all finite, and how to connect the points)."""
        series = run.series[key]
        x, y = series.x, series.values
        if len(x) > DECIMATE_ABOVE:
            vb = self.plot_item.getViewBox()
            width = max(1, int(vb.width()) if vb.width() else 0)
            buckets = max(MIN_BUCKETS, 2 * width)
            if self.follow.follow[0] and key not in run.scatter:  # extend the envelope
                x, y = series.envelope(buckets)
                if bool(np.isfinite(y).all()):
                    if MERGE_COLUMNS:  # the x range the view will follow to (padded)
                        x0, x1 = self.follow.x_target(float(series.x[0]), float(series.x[-1]),
                                                      self._arriving)
                        x, y = merge_columns(x, y, x0, x1, width)
                    return x, y, True, "pairs"  # vertical segments (PeakEnvelope.segments)
                x, y = peak_envelope(series.x, series.values, buckets)  # NaN: break the line
            else:  # markers keep real samples: the min and max of each run
                if not self.follow.follow[0]:  # zoomed / panned: the shown range, plus a margin
                    x0, x1 = vb.viewRange()[0]
                    span = x1 - x0
                    lo = int(np.searchsorted(x, x0 - span, side="left"))
                    hi = int(np.searchsorted(x, x1 + span, side="right"))
                    x, y = x[max(0, lo - 1):hi + 1], y[max(0, lo - 1):hi + 1]
                x, y = peak_envelope(x, y, buckets)
        finite = bool(np.isfinite(y).all())
        return x, y, finite, "all" if finite else "finite"

    def _show(self, run: PlotRun, key: CurveKey, shown: Shown | None = None) -> None:
        """Give the curve its data (``shown``: prepared by ``_display_data`` before)."""
        x, y, finite, connect = shown if shown is not None else self._display_data(run, key)
        if len(run.series[key].x) > DECIMATE_ABOVE:
            run.decimated.add(key)
        else:
            run.decimated.discard(key)
        run.curves[key].setData(x, y, skipFiniteCheck=finite, connect=connect)

    def _apply_range(self, settled: bool = False) -> None:
        """Followed axes show the bounds of all curves (before anything paints); ``settled``:
        a stepped x range just ended, so envelopes made for it are made again."""
        shown = [(s.x[0], s.x[-1], *s.y_range)
                 for run in self._runs for k, s in run.series.items()
                 if k in run.curves and len(s.x)]
        shown += [(b.x[0], b.x[-1], *b.y_range)
                  for run in self._runs for b in run.bands.values() if len(b.x)]
        if not shown:
            return
        b = np.array(shown)
        was_stepping = self.follow.stepping or settled
        self.follow.apply((b[:, 0].min(), b[:, 1].max()),
                          (np.fmin.reduce(b[:, 2]), np.fmax.reduce(b[:, 3])), self._arriving)
        if was_stepping and not self.follow.stepping:
            # envelopes prepared for the stepped range: made again for the exact one
            self._range_pending |= any(run.decimated for run in self._runs)

    def _on_follow_again(self) -> None:
        """The auto button / menu switched following back on: fit, and rebuild envelopes."""
        self._apply_range()
        if any(run.decimated for run in self._runs):
            self._range_pending = True
            self._request_redraw()

    def _on_x_range_changed(self, *_args: object) -> None:
        """The user zoomed or panned: rebuild the envelopes for the new range (coalesced).
        While x follows the data the envelope covers all of it already: nothing to do."""
        if self.follow.follow[0] or not any(run.decimated for run in self._runs):
            return
        self._range_pending = True
        self._request_redraw()

    # ------------------------------------------------------------------ cursor

    def _move_cursor(self) -> None:
        t = self.time_control.time
        if t is None or self.time_control.timeline is None:
            self.cursor_line.setVisible(False)
            return
        self.cursor_line.setVisible(True)
        self.cursor_line.setPos(scalar_to_x(t - self._runs[0].offset, self._kind))

    def _on_time_changed(self, _t: object) -> None:
        # Only the line moves: no redraw of curves, no coalescing delay. A cursor that only
        # follows arriving data moves with the throttled redraw instead (every move repaints
        # the whole plot: axes and curves, ~20 ms for millions of points).
        if self.time_control.moved_by_data:
            self._request_redraw(urgent=False)
        elif self._axis_state == (self.time_control.timeline, self._kind, self.effective_align) \
                and not self._any_dirty():
            self._move_cursor()
        else:
            self._request_redraw()

    def _on_cursor_dragged(self) -> None:
        x = float(self.cursor_line.value())
        if self._kind in (TimelineKind.TIMESTAMP, TimelineKind.DURATION):
            t = int(round(x * 1e9))
        else:
            t = int(round(x))
        self.time_control.set_time(t + self._runs[0].offset)

    def curve_data(self, entity: EntityPath, instance: int = 0,
                   store_id: object = None) -> tuple[np.ndarray, np.ndarray]:
        """The full (x, y) data of a curve (before downsampling), for tests and tooltips:
        of the view's own store, or of the compared recording ``store_id``."""
        run = self._run_of(store_id)
        key = (entity, instance)
        series = run.series.get(key) if run is not None else None
        if series is None or key not in run.curves:
            return np.empty(0), np.empty(0)
        return series.x, series.values

    def band_data(self, entity: EntityPath,
                  store_id: object = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(x, min, max) of a wide entity's band (before reduction), for tests."""
        run = self._run_of(store_id)
        band = run.bands.get(entity) if run is not None else None
        if band is None:
            return np.empty(0), np.empty(0), np.empty(0)
        return band.x, band.lo, band.hi

    def run_bands(self, store_id: object = None) -> dict[EntityPath, WideBand]:
        """The bands of one recording drawn here (default: the view's own store)."""
        run = self._run_of(store_id)
        return dict(run.bands) if run is not None else {}

    def run_curves(self, store_id: object = None) -> dict[CurveKey, pg.PlotDataItem]:
        """The curves of one recording drawn here (default: the view's own store)."""
        run = self._run_of(store_id)
        return dict(run.curves) if run is not None else {}

    def _run_of(self, store_id: object) -> PlotRun | None:
        if store_id is None:
            return self._runs[0]
        return next((r for r in self._runs if r.db.store_id == store_id), None)
