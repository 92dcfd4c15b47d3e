"""The views of each store, as dock widgets the user can drag, stack, float and close.

Each store has its own nested `QMainWindow` (a `ViewsHost`) in a stack, so switching stores
keeps each store's layout. Views come from a `LayoutPlan` (`views.registry`: the heuristic
default views, or a blueprint's views and container tree); when new entities arrive the plan
is made again and new views added, existing ones gain the new entities.

New views are created one per frame tick (a turn of the redraw queue), not all in the frame
that found them: building a pyqtgraph plot and its first layout cost 10-30 ms each under the
app style sheet, and a store's first frame with five of them blocked the UI for ~100 ms
(docs/benchmarks/gui.md).

Compare runs: a host's time-series views may also draw other recordings
(`ViewsHost.set_compare`, given to views made later too); `ViewsArea.on_store_data` routes a
store's changes to the hosts that compare with it.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterable

import shiboken6
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QDockWidget, QLabel, QMainWindow, QStackedWidget, QWidget

from viewer.log.messages import StoreId
from viewer.store.entity_db import EntityDb
from viewer.store.entity_path import EntityPath
from viewer.tracing import TRACER
from viewer.ui.dock_layout import place_docks
from viewer.ui.time_control import TimeControl
from viewer.ui.views.base import View, data_redraw_queue
from viewer.ui.views.registry import LayoutPlan, PlannedView, create_view

ViewKey = tuple[str, str]
#: Least time between two plan updates of one host while entities keep arriving.
SYNC_INTERVAL_S = 0.25  # (view class name, title)



def heuristic_plan(db: EntityDb) -> LayoutPlan:
    from viewer.ui.views.registry import heuristic_plan as plan

    return plan(db)


class ViewsHost(QMainWindow):
    """One store's views as docks in a two-column grid the user can rearrange."""

    #: (view title, what failed): an entity of a view could not be drawn.
    entity_failed = Signal(str, str)

    def __init__(self, db: EntityDb, time_control: TimeControl, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowFlags(Qt.WindowType.Widget)
        self.setObjectName("viewsHost")
        self.db = db
        self.time_control = time_control
        self.setDockNestingEnabled(True)
        # No AnimatedDocks: each new view's dock animated in, relayouting and repainting the
        # views for ~200 ms of frames while a recording loads (gui.md).
        self.setDockOptions(QMainWindow.DockOption.AllowNestedDocks
                            | QMainWindow.DockOption.AllowTabbedDocks)
        self.views: dict[ViewKey, View] = {}
        self.stale = True  # data arrived since the last sync (the main window syncs lazily)
        self.docks: dict[ViewKey, QDockWidget] = {}
        self._columns: list[list[QDockWidget]] = [[], []]
        self.placeholder = QLabel("Waiting for data…")
        self.placeholder.setObjectName("placeholder")
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setCentralWidget(self.placeholder)
        self.views_pending = False  # suggestions not made into views yet (see ``sync``)
        self._create_queued = False
        self._undocked: list[tuple[ViewKey, View]] = []  # made, waiting for their dock turn
        #: Where this store's plan comes from (the window swaps in a blueprint's).
        self.planner: Callable[[EntityDb], LayoutPlan] = heuristic_plan
        self._plan_source: object = None  # the source of the plan the docks are laid out for
        self._plan: LayoutPlan | None = None
        self._tree_placed = False  # a blueprint tree's docks were placed as it says
        self._sync_queued = False  # a coalesced sync is waiting (`request_sync`)
        self._last_sync = float("-inf")
        # Compared runs (other recordings) its time-series views also draw, and how they
        # are aligned; set by the window (``set_compare``), given to views made later too.
        self.compare_runs: list = []
        self.compare_align: object = None
        self.compare_label = ""  # how legends name this store's own run
        self.compared_ids: set[StoreId] = set()
        #: Fills a plot's "Compare runs" context submenu (the window's; None: no submenu).
        self.compare_menu_filler: Callable | None = None
        #: The hub's frame budget, given to every view that splits its redraws
        #: (``set_frame_budget``): in web mode they spend what ingestion left of the frame.
        self.frame_budget: object = None

    def sync(self, limit: int | None = None, dock_later: bool = False) -> list[View]:
        """Give existing views their new entities and create views for new suggestions:
        at most ``limit`` now (None: all), the rest one per turn of the redraw queue (one
        heavy UI job per frame tick). ``dock_later``: the new view goes into its dock in a
        turn of its own (building a plot and laying out its dock are ~12 and ~8 ms).
        A plan from another source (a blueprint arrived, or was reset) first removes the
        views it does not have. Returns the views created now."""
        plan = self.planner(self.db)
        if plan.source != self._plan_source:
            self._switch_plan(plan)
        self._plan = plan
        created: list[View] = []
        waiting = False
        for planned in plan.views:
            key = planned.key
            view = self.views.get(key)
            if view is not None:
                for e in planned.entities:
                    view.add_entity(e)
                continue
            if limit is not None and len(created) >= limit:
                waiting = True
                continue
            view = self._create(planned)
            if view is None:
                continue
            self.views[key] = view
            if dock_later and plan.tree is None:
                self._undocked.append((key, view))
                data_redraw_queue().add_job(self, self._dock_next, rest_after=True)
            else:
                self._add_dock(key, view)
            created.append(view)
        self.views_pending = waiting
        if waiting and not self._create_queued:
            self._create_queued = True
            data_redraw_queue().add_job(self, self._create_next)
        if plan.tree is not None and not waiting and (created or not self._tree_placed):
            self._place_tree(plan)
        elif created and plan.tree is None:
            self.equalize()
            QTimer.singleShot(0, self, self.equalize)  # again once the host has its real size
        return created

    def request_sync(self) -> None:
        """Sync in a redraw-queue turn of its own, at most every ``SYNC_INTERVAL_S`` while
        entities keep arriving: making the plan walks every entity of the store (65 ms for
        3 000 entities), too much for each frame that applies new ones."""
        if self._sync_queued:
            return
        self._sync_queued = True
        wait = max(0.0, SYNC_INTERVAL_S - (time.monotonic() - self._last_sync))
        QTimer.singleShot(int(wait * 1000), self,
                          lambda: data_redraw_queue().add_job(self, self._sync_job))

    def _sync_job(self) -> None:
        self._sync_queued = False
        self._last_sync = time.monotonic()
        self.sync(limit=0)

    def force_relayout(self) -> None:
        """Lay the views out anew at the next sync, as the plan says (a user's "reset")."""
        self._plan_source = object()

    def _create(self, planned: PlannedView) -> View | None:
        try:
            with TRACER.scope("create view", "ui", {"view": planned.title}):
                view = create_view(planned, self.db, self.time_control)
            view.entity_failed.connect(
                lambda entity, message, title=planned.title:
                self.entity_failed.emit(title, f"{entity}: {message}"))
            self._compare_view(view)
            set_budget = getattr(view, "set_frame_budget", None)
            if set_budget is not None:
                set_budget(self.frame_budget)
            return view
        except Exception as exc:  # one broken view must not stop the others
            self.placeholder.setText(f"Could not create view {planned.title!r}: {exc}")
            return None

    def _switch_plan(self, plan: LayoutPlan) -> None:
        """Drop the views and docks the new plan does not have; lay out again."""
        keep = {p.key for p in plan.views}
        for key in [k for k in self.views if k not in keep]:
            view = self.views.pop(key)
            dock = self.docks.pop(key, None)
            if dock is not None:
                self.removeDockWidget(dock)
                dock.deleteLater()
            elif shiboken6.isValid(view):
                view.deleteLater()
        self._undocked = [(k, v) for k, v in self._undocked if k in keep]
        self._columns = [[d for d in c if d in self.docks.values()] for c in self._columns]
        self._plan_source = plan.source
        self._tree_placed = False
        if plan.tree is None and self.docks:
            # Back to the heuristic layout: the columns it would have made.
            self._columns = [[], []]
            for dock in list(self.docks.values()):
                self.removeDockWidget(dock)
                self._place_in_column(dock)
                dock.show()

    def _place_tree(self, plan: LayoutPlan) -> None:
        by_id = {p.view_id: self.docks[p.key] for p in plan.views
                 if p.view_id is not None and p.key in self.docks}
        if plan.tree is None:
            return
        if self.centralWidget() is self.placeholder and by_id:
            self.takeCentralWidget()
            self.placeholder.hide()
        place_docks(self, plan.tree, by_id)
        self._tree_placed = True
        QTimer.singleShot(0, self, lambda: self._replace_tree_later(plan))

    def _replace_tree_later(self, plan: LayoutPlan) -> None:
        """Shares are in pixels of the host: apply them again once it has its real size."""
        if self._plan is plan and plan.tree is not None:
            by_id = {p.view_id: self.docks[p.key] for p in plan.views
                     if p.view_id is not None and p.key in self.docks}
            place_docks(self, plan.tree, by_id)

    def flush_pending(self) -> None:
        """Create and dock every waiting view now (screenshots, tests)."""
        while self._undocked:
            self._dock_next()
        if self.views_pending:
            self.sync()

    def _create_next(self) -> None:
        self._create_queued = False
        if not self.views_pending:
            return
        stack = self.parentWidget()
        if isinstance(stack, QStackedWidget) and stack.currentWidget() is not self:
            self.stale = True  # a background store: its views are made when it is shown
            return
        self.sync(limit=1, dock_later=True)

    def _dock_next(self) -> None:
        if not self._undocked:
            return
        key, view = self._undocked.pop(0)
        if shiboken6.isValid(view) and self.views.get(key) is view:
            self._add_dock(key, view)
            self.equalize()
            QTimer.singleShot(0, self, self.equalize)

    def equalize(self) -> None:
        """Share the space evenly: columns side by side, views within a column."""
        for column in self._columns:
            live = [d for d in column
                    if shiboken6.isValid(d) and not d.isFloating() and d.parent() is self]
            if len(live) > 1:
                self.resizeDocks(live, [max(1, self.height() // len(live))] * len(live),
                                 Qt.Orientation.Vertical)
        tops = [c[0] for c in self._columns if c and shiboken6.isValid(c[0])]
        if len(tops) == 2:
            self.resizeDocks(tops, [max(1, self.width() // 2)] * 2, Qt.Orientation.Horizontal)

    def _add_dock(self, key: ViewKey, view: View) -> None:
        if self.centralWidget() is self.placeholder:
            # With no central widget the docks share all the space.
            self.takeCentralWidget()
            self.placeholder.hide()
        dock = QDockWidget(view.title, self)
        dock.setObjectName(f"view:{key[0]}:{key[1]}")
        dock.setWidget(view)
        dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable
                         | QDockWidget.DockWidgetFeature.DockWidgetFloatable
                         | QDockWidget.DockWidgetFeature.DockWidgetClosable)
        self.docks[key] = dock
        if self._plan is not None and self._plan.tree is not None:
            # Placed with the others by the tree once every view of the plan exists.
            self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, dock)
            return
        self._place_in_column(dock)

    def _place_in_column(self, dock: QDockWidget) -> None:
        col = 0 if len(self._columns[0]) <= len(self._columns[1]) else 1
        column = self._columns[col]
        if column:
            self.splitDockWidget(column[-1], dock, Qt.Orientation.Vertical)
        else:
            area = Qt.DockWidgetArea.LeftDockWidgetArea if col == 0 else Qt.DockWidgetArea.RightDockWidgetArea
            self.addDockWidget(area, dock)
        column.append(dock)

    def on_data_changed(self, changed: Iterable[EntityPath]) -> None:
        changed = list(changed)
        for view in self.views.values():
            view.on_data_changed(changed)

    def set_compare(self, runs: list, align: object, own_label: str = "") -> None:
        """Time-series views also draw these other recordings (`CompareRun`s; none: one
        run), aligned as ``align`` says (a plot `Align`); legends name this store's own
        run ``own_label``."""
        self.compare_runs = list(runs)
        self.compare_align = align
        self.compare_label = own_label
        self.compared_ids = {run.db.store_id for run in self.compare_runs}
        for view in self.views.values():
            self._compare_view(view)

    def _compare_view(self, view: View) -> None:
        set_runs = getattr(view, "set_compare_runs", None)
        if set_runs is None:
            return  # not a plot of runs
        set_runs(self.compare_runs, self.compare_label)
        if self.compare_align is not None:
            view.set_align(self.compare_align)
        view.set_compare_menu_filler(self.compare_menu_filler)

    def on_compared_data_changed(self, store_id: StoreId, changed: list[EntityPath]) -> None:
        """A recording these views compare with got new data."""
        for view in self.views.values():
            notify = getattr(view, "on_store_data_changed", None)
            if notify is not None:
                notify(store_id, changed)

    def all_views(self) -> list[View]:
        return list(self.views.values())


def _warm_up_plots(owner: QWidget) -> None:
    """While the window is idle: plots for the first plot views to take (building one is
    9-15 ms, and the first of a process pays ~8 ms of one-time set-up on top), so the
    frames of a recording's first load do not."""
    with contextlib.suppress(ImportError):
        from viewer.ui.views.plot.plot_axes import build_spare_plots

        build_spare_plots(owner)


class ViewsArea(QStackedWidget):
    """A `ViewsHost` per store; shows the active one."""

    #: (view title, what failed) from any host (the window turns it into a notification).
    entity_failed = Signal(str, str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.hosts: dict[StoreId, ViewsHost] = {}
        #: Given to every host: fills a plot's "Compare runs" context submenu.
        self.compare_menu_filler: Callable | None = None
        #: Given to every host: the hub's `FrameBudget` (the window sets it).
        self.frame_budget: object = None
        self.empty = QLabel()
        self.empty.setObjectName("welcome")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setWordWrap(True)
        self.addWidget(self.empty)
        with contextlib.suppress(ImportError):  # now, not in the first frame of a load (~20 ms)
            import viewer.ui.views.registry  # noqa: F401
        QTimer.singleShot(0, self, lambda: _warm_up_plots(self))

    def set_welcome_text(self, html: str) -> None:
        self.empty.setText(html)

    def add_store(self, db: EntityDb, tc: TimeControl) -> ViewsHost:
        host = self.hosts.get(db.store_id)
        if host is None:
            host = self.hosts[db.store_id] = ViewsHost(db, tc)
            host.compare_menu_filler = self.compare_menu_filler
            host.frame_budget = self.frame_budget
            host.entity_failed.connect(self.entity_failed)
            self.addWidget(host)
        return host

    def remove_store(self, store_id: StoreId) -> None:
        host = self.hosts.pop(store_id, None)
        if host is not None:
            self.removeWidget(host)
            host.deleteLater()

    def set_active(self, store_id: StoreId | None) -> None:
        host = self.hosts.get(store_id) if store_id is not None else None
        self.setCurrentWidget(host if host is not None else self.empty)

    def host(self, store_id: StoreId) -> ViewsHost | None:
        return self.hosts.get(store_id)

    def on_store_data(self, store_id: StoreId, changed: list[EntityPath]) -> None:
        """Route a store's changes to the views of other stores that compare with it
        (a host's own changes reach it through the window as before)."""
        for host in self.hosts.values():
            if store_id in host.compared_ids:
                host.on_compared_data_changed(store_id, changed)

    def flush_pending(self) -> None:
        """Create every view still waiting for its turn, in every host."""
        for host in self.hosts.values():
            host.flush_pending()
