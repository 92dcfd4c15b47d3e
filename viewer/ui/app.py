"""`run_gui(args)`: the desktop application — hub, live server, window, screenshot mode.

The live server is optional: a busy port is reported in the status bar and as a
notification, and everything else keeps working. On quit the server is stopped and the hub
shut down (every thread joined), whatever happened before.

A window also accepts files handed over by a later ``rrd-viewer FILE`` (`viewer.handover`):
they are opened exactly like files dropped on it.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QEventLoop, QObject, QTimer, Signal
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

from viewer.exit_codes import EXIT_OK, EXIT_UNREADABLE
from viewer.ingest import IngestHub, IngestSettings, IngestStats
from viewer.ingest.settings import settings_overrides
from viewer.runtime import apply_process_settings
from viewer.store.memory import parse_memory_limit
from viewer.ui.main_window import MainWindow
from viewer.ui.settings import AppSettings

RESOURCES = Path(__file__).resolve().parent.parent / "resources"
#: Point the settings at an INI file (tests, portable use) instead of the user's own.
SETTINGS_ENV = "RRD_VIEWER_SETTINGS"
DEFAULT_SIZE = (1600, 960)
SCREENSHOT_LOAD_TIMEOUT_S = 120.0
SCREENSHOT_SETTLE_S = 0.4
#: --stats-json: ring sizes that hold a whole load (~36 min of 60 Hz frames; 1 MB a ring).
STATS_WINDOW_FRAMES = 1 << 17
STATS_WINDOW_SAMPLES = 1 << 16
#: --stats-json: how often the window checks whether every file was applied.
LOAD_POLL_MS = 20


def load_style(app: QApplication) -> None:
    qss = RESOURCES / "style.qss"
    if qss.is_file():
        app.setStyleSheet(qss.read_text(encoding="utf-8"))
    icon = RESOURCES / "icon.svg"
    if icon.is_file():
        app.setWindowIcon(QIcon(str(icon)))


def make_application() -> QApplication:
    app = QApplication.instance()
    if app is None:
        app = QApplication([sys.argv[0] if sys.argv else "viewer"])
    assert isinstance(app, QApplication)
    app.setApplicationName("rrd viewer")
    app.setOrganizationName("rrd-viewer")
    app.setStyle("Fusion")
    load_style(app)
    return app


def start_server(hub: IngestHub, args: argparse.Namespace) -> tuple[object | None, str | None, str | None]:
    """(server, listen url, error): never raises; a busy port is an error message."""
    if getattr(args, "no_serve", False):
        return None, None, None
    try:
        from viewer.net.server import LiveServer, PortInUseError
    except ImportError as exc:  # grpcio missing: the viewer still works for files
        return None, None, f"live server unavailable ({exc})"
    server = LiveServer(hub, args.bind, args.port)
    try:
        server.start()
    except PortInUseError as exc:
        return None, None, str(exc)
    except (OSError, RuntimeError, ValueError) as exc:
        return None, None, f"could not listen on {args.bind}:{args.port}: {exc}"
    return server, server.url, None


def wait(seconds: float) -> None:
    """Run the event loop for ``seconds`` (lets views redraw and timers fire)."""
    loop = QEventLoop()
    QTimer.singleShot(int(seconds * 1000), loop.quit)
    loop.exec()


def take_screenshot(window: MainWindow, path: str | Path, sources: list) -> int:
    """Wait until every given file is applied and drawn, then save the window as PNG."""
    hub = window.hub
    deadline = time.monotonic() + SCREENSHOT_LOAD_TIMEOUT_S
    idle = False
    while time.monotonic() < deadline:
        idle = hub.run_until_idle(min(1.0, deadline - time.monotonic()))
        if idle:
            break
    window.views_area.flush_pending()  # views still waiting for their turn: all of them now
    wait(SCREENSHOT_SETTLE_S)  # coalesced view redraws, layout
    from viewer.ui.views.base import data_redraw_queue

    if data_redraw_queue().flush():  # throttled / split redraws still waiting: all of them now
        wait(0.05)
    if window.overlay.isVisible():
        # Let the overlay's own once-per-second refresh cover the loading period, so the
        # shot shows what a user would see, not a sample of a few idle milliseconds.
        start = window.overlay.refresh_count
        deadline = time.monotonic() + 3.0
        while window.overlay.refresh_count < start + 1 and time.monotonic() < deadline:
            wait(0.05)
    QCoreApplication.processEvents()
    image = window.grab()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if not image.save(str(path), "PNG"):
        print(f"viewer: could not write screenshot {path}", file=sys.stderr)
        return EXIT_UNREADABLE
    failed = [s for s in sources if getattr(s.state, "value", "") == "failed"]
    for err in hub.errors():
        print(f"viewer: {err.source}: {err.message}", file=sys.stderr)
    if not idle:
        print("viewer: screenshot taken before loading finished (timeout)", file=sys.stderr)
    print(f"viewer: screenshot saved to {path} ({image.width()}x{image.height()})", file=sys.stderr)
    # One rule with `inspect` and `ingest`: anything unreadable (a whole file or part of
    # one) makes the exit code 1, after the picture of what could be read is saved.
    return EXIT_UNREADABLE if failed or not idle or hub.errors() else EXIT_OK


class FirstFrameStats(IngestStats):
    """`IngestStats` that also notes when the frame driver counted its first frame."""

    def __init__(self, window_frames: int, window_samples: int) -> None:
        self.first_frame_at: float | None = None
        self._frames = 0
        super().__init__(window_frames=window_frames, window_samples=window_samples)

    @property
    def frames(self) -> int:
        return self._frames

    @frames.setter
    def frames(self, value: int) -> None:
        if self.first_frame_at is None and value > 0:
            self.first_frame_at = time.perf_counter()
        self._frames = value


class LoadStatsRecorder:
    """``--stats-json``: the overlay's statistics from the first frame until every file
    given was applied (or a screenshot saved), written as JSON at exit. The hub's stats are
    swapped for rings big enough for the whole load, so percentiles cover all of it."""

    def __init__(self, hub: IngestHub, path: str | Path) -> None:
        self.hub = hub
        self.path = Path(path)
        self.stats = FirstFrameStats(STATS_WINDOW_FRAMES, STATS_WINDOW_SAMPLES)
        hub.stats = self.stats
        self.result: dict | None = None
        self.written = False
        self._sources: list = []
        self._timer: QTimer | None = None

    def loaded(self) -> bool:
        return all(s.finished for s in self._sources) and self.hub.is_idle()

    def watch(self, sources: list) -> None:
        """Freeze the numbers as soon as ``sources`` are all applied (polled, since the
        last frame that applies something is not the one that finds every queue empty)."""
        self._sources = list(sources)
        self._timer = QTimer(interval=LOAD_POLL_MS)
        self._timer.timeout.connect(self._poll)
        self._timer.start()

    def _poll(self) -> None:
        if self.loaded():
            self.freeze()

    def freeze(self) -> dict:
        """The statistics as they stand now; later calls return the same numbers."""
        if self._timer is not None:
            self._timer.stop()
        if self.result is None:
            now = time.perf_counter()
            stats = self.stats
            start = stats.first_frame_at if stats.first_frame_at is not None else now
            snap = stats.snapshot()

            def ms(summary: dict) -> dict[str, float]:
                return {k: round(float(summary[k]), 3) for k in ("p50", "p99", "max")}

            self.result = {
                "ui_frame_ms": ms(snap["frame_interval_ms"]),
                "ui_ingest_ms": ms(snap["ui_ingest_ms"]),
                "frames": int(snap["frames"]),
                "load_s": round(now - start, 4),
                "loaded": self.loaded(),
                "decode_threads": self.hub.settings.decode_threads,
                "web_mode": self.hub.settings.web_mode,
            }
        return self.result

    def write(self) -> bool:
        """Write the JSON once (frozen now if loading never finished); False on failure."""
        if self.written:
            return True
        self.written = True
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.path.write_text(json.dumps(self.freeze(), indent=2) + "\n", encoding="utf-8")
        except OSError as exc:
            print(f"viewer: could not write the statistics {self.path}: {exc}", file=sys.stderr)
            return False
        return True


#: Signals that close the window like its close button (threads joined, settings saved).
QUIT_SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP")
                     if hasattr(signal, name))


def _quit_on_signals(app: QApplication) -> dict[int, object]:
    """Ctrl+C, SIGTERM and SIGHUP quit cleanly: the event loop ends and the normal shutdown
    runs (Qt's loop would otherwise never let Python see them, and SIGTERM's default kills
    at once). A second signal while shutting down exits immediately. Returns the previous
    handlers."""
    received = 0

    def handler(signum: int, _frame: object) -> None:
        nonlocal received
        received += 1
        if received > 1:
            os._exit(128 + signum)  # the user insists: no more waiting for threads
        app.quit()

    previous = {sig: signal.signal(sig, handler) for sig in QUIT_SIGNALS}
    ticker = QTimer(app, interval=250)
    ticker.timeout.connect(lambda: None)  # give the interpreter a chance to run the handler
    ticker.start()
    return previous


def gui_memory_limit(args: argparse.Namespace, settings: AppSettings) -> int | None:
    """``--memory-limit`` wins; else the value chosen in the window last time; else the
    default (75 % of RAM), which the command line (`viewer.commands.cli`) already parsed
    into ``args.memory_limit_bytes``."""
    saved = settings.memory_limit()
    if getattr(args, "memory_limit", None) is None and saved:
        try:
            return parse_memory_limit(saved)
        except ValueError:
            pass  # a hand-edited settings file: fall back to the default
    return getattr(args, "memory_limit_bytes", None)


class HandoverReceiver(QObject):
    """Brings paths handed over on the listener's thread to the window's thread, where they
    are opened as a drop would open them, and raises the window."""

    paths_received = Signal(list)

    def __init__(self, window: MainWindow) -> None:
        super().__init__()
        self.window = window
        self.paths_received.connect(self._open)

    def _open(self, paths: list) -> None:
        self.window.open_paths(paths)
        self.window.raise_()
        self.window.activateWindow()


def start_handover(window: MainWindow, port: int) -> tuple[object | None, HandoverReceiver]:
    """(listener, receiver) for hand-overs to ``window``; the listener is None when another
    viewer already answers for this port or the socket cannot be made (the window works
    the same, it only cannot be handed files)."""
    from viewer.handover import HandoverListener

    receiver = HandoverReceiver(window)
    listener = HandoverListener(port, receiver.paths_received.emit)
    try:
        listener.start()
    except OSError:
        return None, receiver
    return listener, receiver


def _show_export(window: MainWindow, path: str, rows: int, error: str) -> None:
    if error:
        window.notifications.error("Export failed", f"{path}: {error}")
    else:
        window.notifications.info("Exported", f"{rows:,} rows to {path}")


def run_gui(args: argparse.Namespace) -> int:
    app = make_application()
    tracer = None
    if getattr(args, "profile", None):
        from viewer.tracing import TRACER as tracer

        tracer.start()
    settings_path = os.environ.get(SETTINGS_ENV)
    settings = AppSettings(settings_path) if settings_path else AppSettings()
    hub = IngestHub(IngestSettings(web_mode=bool(getattr(args, "web_mode", False)),
                                   memory_limit_bytes=gui_memory_limit(args, settings),
                                   **settings_overrides(args)))
    stats_json = getattr(args, "stats_json", None)
    recorder = LoadStatsRecorder(hub, stats_json) if stats_json else None
    server = None
    handover = None
    window: MainWindow | None = None
    previous_handlers: dict[int, object] = {}
    try:
        server, url, error = start_server(hub, args)
        screenshot = getattr(args, "screenshot", None)
        size = getattr(args, "window_size", None)
        window = MainWindow(hub, settings, listen_url=url, server_error=error,
                            restore_geometry=size is None and not screenshot)
        window.tree_panel.exported.connect(
            lambda path, rows, error: _show_export(window, path, rows, error))
        if getattr(args, "compare", False):
            window.set_compare_on_open(True)
        if not screenshot and server is not None:
            handover, _receiver = start_handover(window, args.port)
        if size is not None:
            window.resize(*size)
        elif screenshot or settings.geometry() is None:
            window.resize(*DEFAULT_SIZE)
        apply_process_settings(gui=True)  # once, now that start-up objects exist
        hub.start()
        files = list(getattr(args, "files", []) or [])
        if files:
            sources = window.open_paths(files, remember=not screenshot)
        else:
            window.open_demo()
            sources = hub.sources()
            stream = f' · stream with rr.connect_grpc("{url}")' if url else ""
            window.notifications.info(
                "Demo recording", f"Drop .rrd/.rbl files or folders here, or File › Open{stream}")
        window.show()
        if screenshot:
            code = take_screenshot(window, screenshot, sources)
            if recorder is not None:
                recorder.freeze()  # until the picture was saved
                if not recorder.write():
                    code = EXIT_UNREADABLE
            if files and not sources:
                print(f"viewer: no .rrd/.rbl files in {', '.join(files)}", file=sys.stderr)
                code = EXIT_UNREADABLE
            return code
        if recorder is not None:
            recorder.watch(sources)
        previous_handlers = _quit_on_signals(app)  # kept until the shutdown below is done
        return int(app.exec())
    finally:
        if recorder is not None:
            recorder.write()  # at exit (also after SIGTERM); a no-op after a screenshot
        if window is not None:
            if not getattr(args, "screenshot", None):
                window.save_settings()
            window.hide()
        if handover is not None:
            handover.stop()
        if server is not None:
            server.stop()
        hub.shutdown()
        if window is not None:
            window.cleanup()
            window.deleteLater()
        if tracer is not None:
            tracer.stop()
            try:
                tracer.save(args.profile)
            except OSError as exc:
                print(f"viewer: could not write the trace {args.profile}: {exc}", file=sys.stderr)
        QCoreApplication.processEvents()
        for sig, handler in previous_handlers.items():
            signal.signal(sig, handler)
