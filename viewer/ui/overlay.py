"""The performance overlay (F12): is the UI thread blocked, and by what?

Shows, refreshed once per second:
- UI-thread busy time, split into ingestion (decode in web mode + apply) and everything
  else (panels, views, painting). Busy time is the UI thread's CPU clock, so it covers all
  work on the UI thread, not only our slots (the event dispatcher's awake/aboutToBlock
  signals cannot measure it: Qt's glib dispatcher emits ``awake`` only after dispatching,
  right before ``aboutToBlock``, so they read ~0 % busy; time waiting for the GIL or a core
  is not CPU time and shows in the frame intervals instead).
- frame interval p50/p99/max with a sparkline: the GIL wait of the UI thread only shows
  there (docs/platform-facts.md), never in slot durations;
- per-store queue depth (messages, bytes), worker busy fraction, ingestion latency;
- "web mode" when ingestion runs on the UI thread; how many threads decode otherwise.

Measuring starts when the overlay is shown and stops when hidden, so it costs nothing off.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QObject, QPointF, QRectF, Qt, QTimer
from PySide6.QtGui import QColor, QPainter, QPen
from PySide6.QtWidgets import (
    QFrame,
    QLabel,
    QSizePolicy,
    QStyle,
    QStyleOption,
    QVBoxLayout,
    QWidget,
)

from viewer.store.memory import format_bytes

REFRESH_MS = 1000
SPARK_SAMPLES = 300  # ~5 s of frames at 60 Hz


def ring_tail(ring: Any, count: int) -> np.ndarray:
    """The last ``count`` samples of an `IngestStats` ring, oldest first."""
    values = np.asarray(ring.values())
    size = len(getattr(ring, "_buf", values))
    if len(values) == size:  # full: the oldest sample is at the write position
        values = np.roll(values, -int(getattr(ring, "_i", 0)))
    return values[-count:] if count > 0 else values[:0]


class UiThreadMeter(QObject):
    """CPU time the UI thread spends working (``time.thread_time`` of the thread that
    calls ``start`` and ``take_busy_s``: create and read it on the UI thread)."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._cpu_at: float | None = None

    def start(self) -> None:
        if self._cpu_at is None:
            self._cpu_at = time.thread_time()

    def stop(self) -> None:
        self._cpu_at = None

    def take_busy_s(self) -> float:
        """Busy (CPU) seconds of the UI thread since the last call (0 while stopped)."""
        if self._cpu_at is None:
            return 0.0
        now = time.thread_time()
        busy, self._cpu_at = now - self._cpu_at, now
        return max(0.0, busy)


class Sparkline(QWidget):
    """Frame intervals as a line, with the 16.7 ms (60 Hz) and 33 ms marks."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.samples = np.zeros(0)
        self.setMinimumSize(240, 44)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

    def set_samples(self, samples: np.ndarray) -> None:
        self.samples = np.asarray(samples, dtype=np.float64)
        self.update()

    def paintEvent(self, _event) -> None:  # noqa: N802, ANN001 (Qt API)
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        rect = QRectF(self.rect()).adjusted(1, 1, -1, -1)
        p.fillRect(rect, QColor(0, 0, 0, 90))
        top = max(50.0, float(self.samples.max()) if len(self.samples) else 0.0)

        def y(ms: float) -> float:
            return rect.bottom() - min(ms, top) / top * rect.height()

        for mark, color in ((16.7, QColor(90, 200, 120, 140)), (33.3, QColor(230, 180, 60, 140))):
            p.setPen(QPen(color, 1, Qt.PenStyle.DashLine))
            p.drawLine(QPointF(rect.left(), y(mark)), QPointF(rect.right(), y(mark)))
        n = len(self.samples)
        if n >= 2:
            # A 1-px pen: Qt's fast thin-line path. The 1.3-px antialiased pen this had took
            # 2.0 ms for 300 samples (0.05 ms now; scripts/bench_plot_paint.py).
            xs = np.linspace(rect.left(), rect.right(), n)
            ys = rect.bottom() - np.minimum(self.samples, top) / top * rect.height()
            p.setPen(QPen(QColor(120, 190, 255), 1.0))
            p.drawPath(pg.arrayToQPath(xs, ys, connect="all"))
        p.setPen(QColor(200, 200, 200))
        p.drawText(rect.adjusted(4, 2, -4, -2), Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop,
                   f"{top:.0f} ms")
        p.end()


class PerformanceOverlay(QFrame):
    """An opaque panel in the top-right corner of ``host``."""

    def __init__(self, hub: Any, host: QWidget) -> None:
        super().__init__(host)
        self.hub = hub
        self.host = host
        self.setObjectName("perfOverlay")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        # Opaque (``paintEvent`` fills it with style.qss's solid background): a see-through
        # panel made each of its refreshes repaint the plot beneath it too (5-10 ms, gui.md).
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent, True)
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents, True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 8, 10, 8)
        layout.setSpacing(4)
        self.title = QLabel("<b>Performance</b>")
        self.text = QLabel()
        self.text.setTextFormat(Qt.TextFormat.RichText)
        self.sparkline = Sparkline()
        for w in (self.title, self.text, self.sparkline):
            layout.addWidget(w)
        self.meter = UiThreadMeter(self)
        self._timer = QTimer(self, interval=REFRESH_MS)
        self._timer.timeout.connect(self.refresh)
        self._last: tuple[float, int, int] | None = None  # (time, frames, ingest samples)
        self.refresh_count = 0
        self.numbers: dict[str, float] = {}
        self.hide()

    def paintEvent(self, event) -> None:  # noqa: N802, ANN001 (Qt API)
        # An opaque widget gets no background from Qt: fill every pixel (the palette's
        # window colour, then the style sheet's background and border where there is one).
        p = QPainter(self)
        p.fillRect(self.rect(), self.palette().window())
        opt = QStyleOption()
        opt.initFrom(self)
        self.style().drawPrimitive(QStyle.PrimitiveElement.PE_Widget, opt, p, self)
        p.end()
        super().paintEvent(event)

    # -- visibility ----------------------------------------------------------------------------
    def set_active(self, on: bool) -> None:
        if on:
            self.meter.start()
            self.meter.take_busy_s()
            self._last = None
            self.refresh()
            self._timer.start()
            self.show()
            self.raise_()
            self.reposition()
        else:
            self._timer.stop()
            self.meter.stop()
            self.hide()

    def reposition(self) -> None:
        self.adjustSize()
        margin = 10
        top = margin
        menu = self.host.menuBar() if hasattr(self.host, "menuBar") else None
        if menu is not None and menu.isVisible():
            top += menu.height()
        self.move(self.host.width() - self.width() - margin, top)

    # -- numbers -------------------------------------------------------------------------------
    def refresh(self) -> None:
        """Read the counters (once per second) and redraw the text and sparkline."""
        self.refresh_count += 1
        stats = self.hub.stats
        snap = stats.snapshot()
        now = time.perf_counter()
        frames = int(snap.get("frames", 0))
        # CPU time, like the busy meter, so "other" = busy - ingest compares like with like
        ingest_ring = getattr(stats, "ui_ingest_cpu_ms", stats.ui_ingest_ms)
        ingest_total = int(ingest_ring.total)
        busy_s = self.meter.take_busy_s()
        if self._last is None:
            elapsed, new_frames, new_ingest = 0.0, 0, 0
        else:
            elapsed = now - self._last[0]
            new_frames = frames - self._last[1]
            new_ingest = ingest_total - self._last[2]
        self._last = (now, frames, ingest_total)
        ingest_ms = float(ring_tail(ingest_ring, min(new_ingest, len(ingest_ring.values()))).sum())
        busy_ms = busy_s * 1000.0
        other_ms = max(0.0, busy_ms - ingest_ms)
        per_frame = max(new_frames, 1)
        fi = snap.get("frame_interval_ms", {})
        ui = snap.get("ui_ingest_ms", {})
        lat = snap.get("latency_ms", {})
        self.numbers = {
            "busy_fraction": busy_ms / (elapsed * 1000.0) if elapsed > 0 else 0.0,
            "ingest_ms_per_frame": ingest_ms / per_frame,
            "other_ms_per_frame": other_ms / per_frame,
            "ingest_p99_ms": float(ui.get("p99", 0.0)),
            "frame_p50_ms": float(fi.get("p50", 0.0)),
            "frame_p99_ms": float(fi.get("p99", 0.0)),
            "frame_max_ms": float(fi.get("max", 0.0)),
            "latency_p50_ms": float(lat.get("p50", 0.0)),
            "latency_p99_ms": float(lat.get("p99", 0.0)),
            "frames_per_s": new_frames / elapsed if elapsed > 0 else 0.0,
        }
        lines = []
        if getattr(self.hub.settings, "web_mode", False):
            lines.append("<span style='color:#ffb454'><b>web mode</b>: ingestion on the UI thread</span>")
        lines.append(decode_threads_line(self.hub.settings))
        n = self.numbers
        lines.append(f"UI thread busy <b>{100 * n['busy_fraction']:.0f}%</b> "
                     f"({n['frames_per_s']:.0f} frames/s)")
        lines.append(f"per frame: ingest <b>{n['ingest_ms_per_frame']:.2f} ms</b> "
                     f"(p99 {n['ingest_p99_ms']:.1f}) · other <b>{n['other_ms_per_frame']:.2f} ms</b>")
        lines.append(f"frame interval p50 <b>{n['frame_p50_ms']:.1f}</b> · p99 "
                     f"<b>{n['frame_p99_ms']:.1f}</b> · max {n['frame_max_ms']:.1f} ms")
        budget_line = self._budget_line(max(new_frames, 1))
        if budget_line:
            lines.append(budget_line)
        if lat.get("n"):
            lines.append(f"ingest latency p50 {n['latency_p50_ms']:.1f} · p99 {n['latency_p99_ms']:.1f} ms")
        memory = getattr(self.hub, "memory", None)
        if memory is not None:
            mem = memory.snapshot()
            limit = mem.get("limit_bytes")
            used = int(mem.get("used_bytes") or 0)
            self.numbers["memory_used_bytes"] = used
            self.numbers["memory_limit_bytes"] = limit or 0
            text = f"memory <b>{format_bytes(used)}</b> of " + (
                format_bytes(limit) if limit else "unlimited")
            if limit:
                text += f" ({100 * used / limit:.0f}%)"
            dropped = int(mem.get("dropped_chunks_total") or 0)
            if dropped:
                text += f" · dropped {dropped} chunks ({format_bytes(int(mem['dropped_bytes_total'] or 0))})"
            lines.append(text)
        for store in snap.get("stores", []):
            name = str(store.get("store", "?")).split("/", 1)[-1]
            msgs = int(store.get("inbox_messages", 0)) + int(store.get("outbox_items", 0))
            nbytes = int(store.get("inbox_bytes", 0)) + int(store.get("outbox_bytes", 0))
            lines.append(f"&nbsp;&nbsp;{_esc(name[:28])}: queue {msgs} msg / {format_bytes(nbytes)}, "
                         f"worker {100 * float(store.get('busy_fraction', 0.0)):.0f}% busy")
        self.text.setText("<br>".join(lines))
        self.sparkline.set_samples(ring_tail(stats.frame_interval_ms, SPARK_SAMPLES))
        if self.isVisible():
            self.reposition()

    def _budget_line(self, frames: int) -> str:
        """Web mode: how the last ``frames`` frames split the one frame budget between
        ingestion, the views' turn and the paints after it (`FrameBudget`)."""
        budget = getattr(self.hub, "frame_budget", None)
        if budget is None or not budget.shared or not budget.splits:
            return ""
        splits = list(budget.splits)[-frames:]
        n = len(splits)
        ingest = sum(s.ingest_ms for s in splits) / n
        views = sum(s.views_ms for s in splits) / n
        other = sum(s.other_ms for s in splits) / n
        over = sum(s.total_ms > s.budget_ms for s in splits)
        self.numbers.update({"budget_ms": budget.total_ms, "budget_ingest_ms": ingest,
                             "budget_views_ms": views, "budget_other_ms": other,
                             "budget_over_frames": over, "budget_frames": n})
        return (f"frame budget {budget.total_ms:.0f} ms: ingest <b>{ingest:.1f}</b> · views "
                f"<b>{views:.1f}</b> · paint/other <b>{other:.1f}</b> ms; {over} of {n} "
                "frames over")


def decode_threads_line(settings: Any) -> str:
    """How many threads decode in the background (``--decode-threads``), so a measurement
    read off the overlay says which pipeline shape it measured."""
    n = int(getattr(settings, "decode_threads", 1))
    text = f"decode threads: {n} (0 = one per recording)"
    if getattr(settings, "web_mode", False):
        return text + ", unused in web mode"
    least = getattr(settings, "decode_helper_min_bytes", None)
    if least is not None:  # ``--decode-helper``
        text += ("; helper process for every file" if least == 0
                 else f"; helper process for files of {least >> 20} MB or more")
    return text


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")

