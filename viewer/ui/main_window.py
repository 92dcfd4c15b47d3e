"""The main window: panels around the views, menus, drag-and-drop, per-frame updates.

Everything that changes with data is driven by the hub's ``frame_applied`` (one
`FrameChanges` per frame): panels and views update in one batch per frame and never poll.
Each store gets its own `TimeControl`, entity tree and views layout, kept while it is open,
so switching the active store is instant and keeps its state.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QDragEnterEvent, QDropEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QApplication,
    QDockWidget,
    QFileDialog,
    QInputDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QWidget,
)

from viewer.ingest.changes import FrameChanges
from viewer.ingest.hub import IngestHub
from viewer.log.messages import StoreId, StoreKind
from viewer.scene.layout import default_timeline
from viewer.store.entity_db import EntityDb
from viewer.store.entity_path import EntityPath
from viewer.store.memory import format_bytes, parse_memory_limit
from viewer.tracing import TRACER
from viewer.ui.blueprint_layouts import BlueprintLayouts
from viewer.ui.entity_tree_panel import EntityTreePanel
from viewer.ui.memory_notice import MemoryNotices
from viewer.ui.notifications import NotificationCenter
from viewer.ui.overlay import PerformanceOverlay
from viewer.ui.paths import drop_accepts, expand_recording_paths, local_paths_from_urls
from viewer.ui.recordings_panel import RecordingsPanel, source_status
from viewer.ui.selection_panel import SelectionPanel
from viewer.ui.settings import AppSettings
from viewer.ui.time_control import TimeControl
from viewer.ui.time_panel import TimePanel
from viewer.ui.views.base import data_redraw_queue
from viewer.ui.views.plot.compare import RunComparisons, fill_compare_menu, short_id
from viewer.ui.views_area import ViewsArea

FILE_FILTER = "Rerun recordings (*.rrd *.rbl);;All files (*)"
#: A first recording's tree is shown in the activation's second turn, not with the switch
#: (off only to measure it: ``scripts/bench_gui.py --ab tree-early``).
TREE_SHOWN_IN_FILL_TURN = True


@dataclass
class StoreUi:
    """What the window keeps per open store."""

    db: EntityDb
    time_control: TimeControl
    live: bool
    cursor_touched: bool = False  # the user moved the cursor: stop auto-placing it


def welcome_html(listen_url: str | None) -> str:
    stream = (
        f"<p>Stream from Python (rerun-sdk):<br><code>import rerun as rr<br>"
        f"rr.init(\"my_app\")<br>rr.connect_grpc(\"{listen_url}\")</code></p>"
        if listen_url else "<p>Live streaming is off (<code>--no-serve</code> or port busy).</p>"
    )
    return ("<h2>No recording open</h2>"
            "<p>Drop <b>.rrd</b> / <b>.rbl</b> files or folders here, or use <b>File › Open</b> "
            "(Ctrl+O).</p>" + stream)


class MainWindow(QMainWindow):
    """Panels, views and menus around one `IngestHub`.

    ``listen_url``: where the live server listens (shown in hints), ``server_error``: why
    it does not (shown in the status bar and as a notification).
    """

    active_store_changed = Signal(object)  # StoreId | None

    def __init__(self, hub: IngestHub, settings: AppSettings | None = None, *,
                 listen_url: str | None = None, server_error: str | None = None,
                 restore_geometry: bool = True) -> None:
        super().__init__()
        self.hub = hub
        self.settings = settings or AppSettings()
        self.listen_url = listen_url
        self.stores: dict[StoreId, StoreUi] = {}
        self.active: StoreId | None = None
        self._user_choices = 0  # stores the user picked in the recordings panel
        self.frames_handled = 0
        self._demo_dir: tempfile.TemporaryDirectory | None = None
        self.setWindowTitle("rrd viewer")
        self.setAcceptDrops(True)
        self.setDockNestingEnabled(True)

        self.views_area = ViewsArea()
        # Web mode: views that split their redraws spend what ingestion left of the frame.
        self.views_area.frame_budget = hub.frame_budget
        self.views_area.set_welcome_text(welcome_html(listen_url))
        self.views_area.entity_failed.connect(
            lambda title, text: self.notifications.error(f"View {title}", text))
        self.setCentralWidget(self.views_area)
        # Compare runs: which recordings each recording's time-series views also draw.
        self.runs = RunComparisons(lambda: {s: ui.db for s, ui in self.stores.items()},
                                   self.run_label, self)
        self.runs.changed.connect(self._apply_comparison)
        self.views_area.compare_menu_filler = (
            lambda menu: fill_compare_menu(menu, self.runs, self.active))
        self.recordings_panel = RecordingsPanel()
        self.tree_panel = EntityTreePanel()
        self.selection_panel = SelectionPanel()
        self.time_panel = TimePanel()
        self.notifications = NotificationCenter(self)
        self._memory_notices = MemoryNotices(self.notifications, parent=self)
        self.recordings_dock = self._dock("Recordings", self.recordings_panel, Qt.DockWidgetArea.LeftDockWidgetArea)
        self.tree_dock = self._dock("Entities", self.tree_panel, Qt.DockWidgetArea.LeftDockWidgetArea)
        self.selection_dock = self._dock("Selection", self.selection_panel, Qt.DockWidgetArea.RightDockWidgetArea)
        self.time_dock = self._dock("Time", self.time_panel, Qt.DockWidgetArea.BottomDockWidgetArea)
        self.time_dock.setTitleBarWidget(QWidget())  # a toolbar-like strip, no title
        self.notifications_dock = self._dock("Notifications", self.notifications.list_widget,
                                             Qt.DockWidgetArea.RightDockWidgetArea)
        self.splitDockWidget(self.recordings_dock, self.tree_dock, Qt.Orientation.Vertical)
        self.resizeDocks([self.recordings_dock, self.tree_dock], [220, 400], Qt.Orientation.Vertical)
        self.resizeDocks([self.recordings_dock, self.selection_dock], [300, 240], Qt.Orientation.Horizontal)
        self.notifications_dock.hide()
        self.overlay = PerformanceOverlay(hub, self)
        self.blueprints = BlueprintLayouts(
            self.views_area, hub.db,
            {"blueprint": self.tree_dock, "selection": self.selection_dock,
             "time": self.time_dock},
            self.notifications.info)

        self.server_label = QLabel()
        self.server_label.setObjectName("serverLabel")
        self.statusBar().addPermanentWidget(self.server_label)
        self.set_server_status(listen_url, server_error)

        self._build_menus()
        self._build_shortcuts()

        self.recordings_panel.store_activated.connect(self._on_store_chosen)
        # Redraws and jobs the queue runs outside a frame tick get the UI priority too.
        data_redraw_queue().before_turn = hub.hold_background
        # Web mode: the queue's turns wait while the frame's shared budget is spent.
        data_redraw_queue().budget = hub.frame_budget
        self.recordings_panel.close_requested.connect(self.close_store)
        self.tree_panel.entity_selected.connect(self._on_entity_selected)
        self.time_panel.user_moved_cursor.connect(self._on_user_moved_cursor)
        hub.frame_applied.connect(self._on_frame)

        if restore_geometry:
            geometry, state = self.settings.geometry(), self.settings.window_state()
            if geometry is not None:
                self.restoreGeometry(geometry)
            if state is not None:
                self.restoreState(state)
        if self.settings.overlay_visible():
            QTimer.singleShot(0, lambda: self.set_overlay_visible(True))
        self._refresh_recent_menu()

    # -- construction -------------------------------------------------------------------------
    def _dock(self, title: str, widget: QWidget, area: Qt.DockWidgetArea) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(f"dock:{title}")
        dock.setWidget(widget)
        self.addDockWidget(area, dock)
        return dock

    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        self.open_action = QAction("&Open…", self, shortcut=QKeySequence.StandardKey.Open,
                                   triggered=self.open_dialog)
        file_menu.addAction(self.open_action)
        self.recent_menu = file_menu.addMenu("Open &Recent")
        file_menu.addAction(QAction("Open &demo recording", self, triggered=self.open_demo))
        file_menu.addSeparator()
        self.save_action = QAction("&Save recording as…", self, shortcut=QKeySequence.StandardKey.SaveAs,
                                   triggered=self.save_dialog)
        file_menu.addAction(self.save_action)
        self.close_action = QAction("&Close recording", self, shortcut=QKeySequence("Ctrl+W"),
                                    triggered=lambda: self.active and self.close_store(self.active))
        file_menu.addAction(self.close_action)
        file_menu.addSeparator()
        file_menu.addAction(QAction("&Quit", self, shortcut=QKeySequence.StandardKey.Quit,
                                    triggered=self.close))

        view_menu = self.menuBar().addMenu("&View")
        self.overlay_action = QAction("Performance &overlay", self, checkable=True,
                                      shortcut=QKeySequence(Qt.Key.Key_F12))
        self.overlay_action.toggled.connect(self.set_overlay_visible)
        view_menu.addAction(self.overlay_action)
        view_menu.addAction(QAction("&Memory limit…", self, triggered=self._ask_memory_limit))
        self.reset_layout_action = QAction("&Reset to default layout", self,
                                           triggered=self.reset_layout)
        view_menu.addAction(self.reset_layout_action)
        self.compare_menu = view_menu.addMenu("&Compare runs")
        self.compare_menu.aboutToShow.connect(
            lambda: fill_compare_menu(self.compare_menu, self.runs, self.active))
        view_menu.addSeparator()
        for dock in (self.recordings_dock, self.tree_dock, self.selection_dock, self.time_dock,
                     self.notifications_dock):
            view_menu.addAction(dock.toggleViewAction())

        # Also on the window itself, so the shortcuts work whatever has focus.
        self.addActions([self.open_action, self.save_action, self.close_action, self.overlay_action])

        help_menu = self.menuBar().addMenu("&Help")
        help_menu.addAction(QAction("How to &stream from rerun-sdk…", self, triggered=self._show_stream_help))
        self._update_actions()

    def _ask_memory_limit(self) -> None:
        limit = self.hub.memory.limit_bytes
        current = format_bytes(limit).replace(" ", "") if limit else "unlimited"
        text, ok = QInputDialog.getText(
            self, "Memory limit", "Memory for recordings (e.g. 2GB, 500MB, 50%, unlimited):",
            text=current)
        if ok:
            self.set_memory_limit(text)

    def set_memory_limit(self, text: str) -> bool:
        """Apply a ``--memory-limit``-style value now and remember it for the next start."""
        try:
            limit = parse_memory_limit(text.strip())
        except ValueError as exc:
            self.notifications.error("Memory limit", str(exc))
            return False
        self.hub.memory.limit_bytes = limit
        self.settings.set_memory_limit(text.strip())
        shown = format_bytes(limit) if limit else "unlimited"
        self.statusBar().showMessage(f"Memory limit: {shown}", 5000)
        return True

    def _build_shortcuts(self) -> None:
        for key, slot in ((Qt.Key.Key_Space, self.time_panel.toggle_play),
                          (Qt.Key.Key_Left, lambda: self.time_panel.step(-1)),
                          (Qt.Key.Key_Right, lambda: self.time_panel.step(1))):
            QShortcut(QKeySequence(key), self, activated=slot)

    def set_server_status(self, listen_url: str | None, error: str | None) -> None:
        if error:
            self.server_label.setText(f"⚠ live streaming off: {error}")
            self.server_label.setProperty("error", True)
            self.notifications.warning("Live server not started", error)
        elif listen_url:
            self.server_label.setText(f"listening on {listen_url}")
            self.server_label.setToolTip(f'rr.connect_grpc("{listen_url}")')
        else:
            self.server_label.setText("live streaming off")
        self.server_label.style().polish(self.server_label)

    # -- opening ------------------------------------------------------------------------------
    def open_paths(self, paths: list[str | Path], *, remember: bool = True) -> list:
        """Open files (folders: the recordings inside) in the background; returns sources."""
        expanded = expand_recording_paths(paths)
        if not expanded:
            shown = ", ".join(str(p) for p in paths) or "nothing"
            self.notifications.warning("Nothing to open", f"no .rrd/.rbl files in {shown}")
            return []
        sources = []
        for path in expanded:
            src = self.hub.open_file(path)
            sources.append(src)
            self.recordings_panel.update_source(src)
            if remember and path.exists():
                self.settings.add_recent_file(path)
        if remember:
            self.settings.set_last_open_dir(expanded[-1].resolve().parent)
            self._refresh_recent_menu()
        self.statusBar().showMessage(f"Opening {len(expanded)} file(s)…", 3000)
        return sources

    def open_dialog(self) -> None:
        files, _ = QFileDialog.getOpenFileNames(self, "Open recordings", self.settings.last_open_dir(),
                                                FILE_FILTER)
        if files:
            self.open_paths(files)

    def open_demo(self) -> None:
        """Write the built-in demo recording to a temporary file and open it."""
        from viewer.demo import write_demo_recording

        if self._demo_dir is None:
            self._demo_dir = tempfile.TemporaryDirectory(prefix="rrd-viewer-demo-")
        path = Path(self._demo_dir.name) / f"demo-{time.strftime('%H%M%S')}.rrd"
        try:
            write_demo_recording(path)
        except Exception as exc:  # never crash on our own demo
            self.notifications.error("Demo recording", f"could not be written: {exc}")
            return
        self.open_paths([path], remember=False)

    def _refresh_recent_menu(self) -> None:
        self.recent_menu.clear()
        recent = self.settings.recent_files()
        for path in recent:
            self.recent_menu.addAction(QAction(path, self, triggered=lambda _=False, p=path: self.open_paths([p])))
        if recent:
            self.recent_menu.addSeparator()
            self.recent_menu.addAction(QAction("Clear list", self, triggered=self._clear_recent))
        self.recent_menu.setEnabled(bool(recent))

    def _clear_recent(self) -> None:
        self.settings.clear_recent_files()
        self._refresh_recent_menu()

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802 (Qt API)
        mime = event.mimeData()
        if mime.hasUrls() and drop_accepts(mime.urls()):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event) -> None:  # noqa: N802, ANN001 (Qt API)
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802 (Qt API)
        mime = event.mimeData()
        paths = local_paths_from_urls(mime.urls()) if mime.hasUrls() else []
        if not paths:
            event.ignore()
            return
        event.acceptProposedAction()
        self.open_paths(paths)

    # -- saving -------------------------------------------------------------------------------
    def save_dialog(self) -> None:
        ui = self.stores.get(self.active) if self.active else None
        if ui is None:
            return
        suggested = str(Path(self.settings.last_open_dir() or ".") / f"{ui.db.store_id.recording_id}.rrd")
        path, _ = QFileDialog.getSaveFileName(self, "Save recording as", suggested, FILE_FILTER)
        if path:
            self.save_active_store(path)

    def save_active_store(self, path: str | Path) -> bool:
        from viewer.ui.store_saver import save_store

        ui = self.stores.get(self.active) if self.active else None
        if ui is None:
            return False
        QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            n = save_store(ui.db, path)
        except OSError as exc:
            self.notifications.error("Save failed", f"{path}: {exc}")
            return False
        finally:
            QApplication.restoreOverrideCursor()
        self.statusBar().showMessage(f"Saved {n} chunks to {path}", 5000)
        return True

    # -- stores -------------------------------------------------------------------------------
    def _add_store(self, store_id: StoreId) -> StoreUi | None:
        db = self.hub.db(store_id)
        if db is None:
            return None
        ui = self.stores.get(store_id)
        if ui is not None:
            return ui
        live = any(src.kind == "stream" and store_id in src.store_ids for src in self.hub.sources())
        tc = TimeControl(self)
        tc.set_playback(follow=live)
        ui = self.stores[store_id] = StoreUi(db, tc, live)
        self.recordings_panel.add_store(db)
        if store_id.kind != StoreKind.BLUEPRINT:
            self.views_area.add_store(db, tc)
        self.blueprints.add_store(store_id)
        self.runs.store_added(store_id)
        if store_id.kind != StoreKind.BLUEPRINT:
            # The newest recording becomes active, with its tree built, in a turn of the
            # redraw queue of its own: the frame that found the store is busy enough
            # (the two together blocked the UI for 25-30 ms, docs/benchmarks/gui.md).
            choice = self._user_choices
            data_redraw_queue().add_job(self, lambda: self._activate_new_store(store_id, choice),
                                        rest_after=True)
        return ui

    def _activate_new_store(self, store_id: StoreId, choice: int) -> None:
        """The first of three turns making a new store active: its tree, what arrived
        before the tree existed, then the switch (panels, views). In one turn they took
        16-35 ms (docs/benchmarks/gui.md, round 7); each turn leaves the next empty for the
        paint of what it changed."""
        ui = self.stores.get(store_id)
        if ui is None:
            return  # closed meanwhile
        self.tree_panel.add_store(ui.db)
        data_redraw_queue().add_job(self, lambda: self._fill_new_tree(store_id, choice),
                                    rest_after=True)

    def _fill_new_tree(self, store_id: StoreId, choice: int) -> None:
        ui = self.stores.get(store_id)
        if ui is None:
            return
        self.tree_panel.on_frame(ui.db, [])  # what arrived before the tree existed
        if TREE_SHOWN_IN_FILL_TURN and self.active is None and choice == self._user_choices:
            # Nothing shown yet: the tree's first show (~8 ms: polish, header sizing) in
            # this turn, not in the switch's (docs/benchmarks/gui.md, round 8).
            self.tree_panel.set_active(ui.db)
        data_redraw_queue().add_job(self, lambda: self._switch_to_new_store(store_id, choice),
                                    rest_after=True)

    def _switch_to_new_store(self, store_id: StoreId, choice: int) -> None:
        if store_id in self.stores and choice == self._user_choices:
            self.set_active_store(store_id)  # the user has not picked a store since it came

    def _on_store_chosen(self, store_id: StoreId) -> None:
        self._user_choices += 1
        self.set_active_store(store_id)

    def set_active_store(self, store_id: StoreId | None) -> None:
        ui = self.stores.get(store_id) if store_id is not None else None
        if ui is not None and store_id.kind == StoreKind.BLUEPRINT:
            return  # blueprints are listed, not shown as recordings
        if self.active is not None and self.active in self.stores and self.active != store_id:
            self.stores[self.active].time_control.set_playback(playing=False)
        self.active = store_id if ui is not None else None
        self.recordings_panel.set_active(self.active)
        self.tree_panel.set_active(ui.db if ui else None)
        self.views_area.set_active(self.active)
        host = self.views_area.host(self.active) if self.active is not None else None
        if host is not None and host.stale:
            # Existing views redraw at once; new ones are made one per frame tick and draw
            # in their turn (a new store's first frame has its panels to build already).
            host.sync(limit=0)
            host.stale = False
            for view in host.all_views():
                view.schedule_redraw()
        self.time_panel.bind(ui.db if ui else None, ui.time_control if ui else None)
        if self.selection_panel.db is not None and (ui is None or self.selection_panel.db is not ui.db):
            self.selection_panel.clear()
        title = f"{store_id.recording_id} — rrd viewer" if ui else "rrd viewer"
        self.setWindowTitle(title)
        self._update_actions()
        self.active_store_changed.emit(self.active)

    def close_store(self, store_id: StoreId) -> None:
        """Close a store (also while it loads): the hub stops its worker and drops its data."""
        self.hub.close_store(store_id)
        self._remove_store_ui(store_id)

    def _remove_store_ui(self, store_id: StoreId) -> None:
        ui = self.stores.pop(store_id, None)
        if ui is None:
            return
        ui.time_control.set_playback(playing=False)
        self.runs.store_removed(store_id)
        if self.selection_panel.db is ui.db:
            self.selection_panel.clear()
        self.recordings_panel.remove_store(store_id)
        self.tree_panel.remove_store(store_id)
        self.views_area.remove_store(store_id)
        self.blueprints.remove_store(store_id)
        if self.active == store_id:
            recordings = [s for s in self.stores if s.kind != StoreKind.BLUEPRINT]
            self.set_active_store(recordings[-1] if recordings else None)
        ui.time_control.deleteLater()

    def _update_actions(self) -> None:
        has = self.active is not None
        self.save_action.setEnabled(has)
        self.close_action.setEnabled(has)
        self.reset_layout_action.setEnabled(has)

    def reset_layout(self) -> None:
        """The active recording's views as its default blueprint lays them out (without
        one: the heuristic layout), undoing the user's rearrangements."""
        if self.active is not None:
            self.blueprints.reset(self.active.application_id)

    # -- per-frame updates --------------------------------------------------------------------
    def _on_frame(self, changes: FrameChanges) -> None:
        with TRACER.scope("window frame", "ui", lambda: {"stores": len(changes.stores)}):
            self._handle_frame(changes)

    def _handle_frame(self, changes: FrameChanges) -> None:
        self.frames_handled += 1
        # The previous frame's queued redraws and jobs (e.g. creating the views it found)
        # take their turn first: not in the same tick as the work that queued them.
        data_redraw_queue().on_frame()
        for sid in changes.closed_stores:
            self._remove_store_ui(sid)
        for sid in changes.new_stores:
            self._add_store(sid)
        for sid, sc in changes.stores.items():
            ui = self.stores.get(sid) or self._add_store(sid)
            if ui is None:
                continue
            changed = list(sc.changed_entities)
            changed.extend(e for e in sc.new_entities if e not in sc.changed_entities)
            self._apply_store_changes(ui, sc, changed)
            if sid.kind == StoreKind.BLUEPRINT and sc.chunks_added:
                self.blueprints.on_blueprint_data(sid)
        for cmd in changes.blueprint_activations:
            self.blueprints.on_activation(cmd)
        for src in changes.sources_changed:
            self.recordings_panel.update_source(src)
            if src.finished and src.kind == "file":
                self.statusBar().showMessage(f"{Path(src.name).name}: {source_status(src)}", 5000)
        if changes.memory is not None:
            self._memory_notices.add(changes.memory)
        for err in changes.new_errors:
            name = Path(err.source).name if err.source else "?"
            where = f" (byte {err.offset})" if err.offset is not None and err.offset >= 0 else ""
            self.notifications.error(name, f"{err.message}{where}")

    def _apply_store_changes(self, ui: StoreUi, sc, changed: list[EntityPath]) -> None:  # noqa: ANN001
        db, tc = ui.db, ui.time_control
        sid = db.store_id
        self.recordings_panel.refresh_store(db)
        if sid.kind == StoreKind.BLUEPRINT:
            return
        self.tree_panel.on_frame(db, changed)
        host = self.views_area.host(sid)
        if host is not None:
            if sid != self.active:
                host.stale = True  # views of hidden stores catch up when shown
            else:
                if sc.new_entities or host.stale:
                    # The plan is made again in a turn of its own (coalesced while entities
                    # keep arriving) and new views one per tick, not in this frame (which
                    # may also be the store's first: panels, tree, time panel).
                    host.request_sync()
                    host.stale = False
                host.on_data_changed(changed)
        if changed:
            self.views_area.on_store_data(sid, changed)  # views comparing with this run
        if sc.timelines_changed or sc.new_timelines:
            if tc.timeline is None:
                tc.set_timeline(default_timeline(db.timelines()))
            rng = db.time_range(tc.timeline) if tc.timeline else None
            if rng is not None and (tc.follow or tc.time is None or (not ui.cursor_touched and not ui.live)):
                tc.set_time(rng[1], by_data=True)
            if sid == self.active:
                self.time_panel.on_data()
        if changed:
            self.selection_panel.on_data_changed(db, changed)

    # -- comparing runs -----------------------------------------------------------------------
    def run_label(self, store_id: StoreId) -> str:
        """How legends and menus name a run: its file's name when it came from one file,
        else its (shortened) recording id."""
        files = {Path(src.name).stem for src in self.hub.sources()
                 if src.kind == "file" and store_id in src.store_ids}
        return files.pop() if len(files) == 1 else short_id(store_id.recording_id)

    def set_compare_on_open(self, on: bool) -> None:
        """Every recording opened (and each open one) compares with the other runs of its
        application (``rrd-viewer --compare``)."""
        self.runs.compare_on_open = on
        if on:
            for sid in self.runs.recordings():
                if not self.runs.is_comparing(sid):
                    self.runs.set_enabled(sid, True)

    def _apply_comparison(self, store_id: StoreId) -> None:
        host = self.views_area.host(store_id)
        if host is not None:
            host.set_compare(self.runs.runs(store_id), self.runs.align(store_id),
                             self.run_label(store_id))

    def _on_user_moved_cursor(self) -> None:
        if self.active in self.stores:
            self.stores[self.active].cursor_touched = True

    def _on_entity_selected(self, store_id: StoreId, path: EntityPath) -> None:
        ui = self.stores.get(store_id)
        if ui is not None:
            self.selection_panel.select(ui.db, path, ui.time_control)
            self.selection_dock.show()

    # -- overlay, help, lifecycle -------------------------------------------------------------
    def set_overlay_visible(self, on: bool) -> None:
        if self.overlay_action.isChecked() != on:
            self.overlay_action.setChecked(on)  # re-enters through toggled
            return
        self.overlay.set_active(on)
        self.settings.set_overlay_visible(on)

    def _show_stream_help(self) -> None:
        box = QMessageBox(self)
        box.setWindowTitle("Stream from rerun-sdk")
        box.setTextFormat(Qt.TextFormat.RichText)
        box.setText(welcome_html(self.listen_url))
        box.setWindowModality(Qt.WindowModality.NonModal)
        box.show()

    def resizeEvent(self, event) -> None:  # noqa: N802, ANN001 (Qt API)
        super().resizeEvent(event)
        if self.overlay.isVisible():
            self.overlay.reposition()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt API)
        self.save_settings()
        for ui in self.stores.values():
            ui.time_control.set_playback(playing=False)
        if self.overlay.isVisible():
            self.overlay.set_active(False)
            self.settings.set_overlay_visible(True)  # remember it was on
        self._release_redraw_queue()
        super().closeEvent(event)

    def _release_redraw_queue(self) -> None:
        """The process-wide redraw queue stops using this window's hub (its budget and its
        pause hook), so a later window does not inherit them."""
        queue = data_redraw_queue()
        if queue.budget is self.hub.frame_budget:
            queue.budget = None
        if queue.before_turn == self.hub.hold_background:
            queue.before_turn = None

    def save_settings(self) -> None:
        self.settings.save_window(self.saveGeometry(), self.saveState())
        self.settings.sync()

    def cleanup(self) -> None:
        """Drop the temporary demo file and let go of the redraw queue (call after the
        hub is shut down)."""
        self._release_redraw_queue()
        if self._demo_dir is not None:
            self._demo_dir.cleanup()
            self._demo_dir = None
