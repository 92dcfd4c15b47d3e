"""`FrameBudget`: one frame's UI-thread time, shared by ingestion and the views.

Web mode reads, decodes and applies on the UI thread, where the views also redraw and
paint. With a budget for each, a frame was ingestion's budget plus a redraw plus its paint
(web frame p99 24-50 ms, docs/benchmarks/gui.md). Here a web frame has ONE budget
(``total_ms``, UI-thread CPU time) and three parts, measured on the UI thread's CPU clock
(a preempted thread spends no budget):

- **ingest**: the frame driver's apply + read + decode, first in the tick. It may use the
  budget minus what the views and paints took in the previous frame (they are assumed to
  need about as much again), clamped to ``ingest_min_ms`` (ingestion never stops) ..
  ``ingest_max_ms`` (`IngestSettings.web_budget_ms`). So ingestion gets less right after
  redraws ran long.
- **views**: the handling of the tick's `FrameChanges` (the window's panels and the redraw
  queue's turn). A redraw asks `redraw_allowance_s()`: the budget minus this frame's
  ingestion minus the last frame's paint, at least ``views_min_ms`` (a view always makes
  some progress); a view that splits its work (the time-series plot) stops there and
  continues in the next turn. The UI's redraw queue asks it too: with less than 2 ms left a
  turn (a view to create, a spatial view's redraw: work that cannot split) waits for the
  next frame, at most two in a row, unless the frame has a paint reserved for it.
- **other**: the UI thread's work between two ticks (paints, queue turns from its own
  timer, input), charged to the frame it follows.

A paint comes after the tick that caused it, so the budget cannot see it coming: a view
that knows its next turn will change what is drawn (the plot's hand-over of new curves)
calls `reserve_paint()` the turn before. The next frame's ingestion then leaves room for
what such a frame took last time (views + other, smoothed; at first half the budget).

Threaded mode decodes on other threads: ingestion keeps its apply budget, redraws their
own (`redraw_allowance_s()` is None) and the split is only recorded.

Every frame's split is kept (`splits`, the last ``history`` frames) for the overlay, the
benchmarks and the tests.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

#: Web mode: UI-thread CPU per 16 ms frame for ingestion + redraws + paints; the other
#: ~2 ms go to the event loop and what is not measured (gui.md, "frame budget").
WEB_FRAME_BUDGET_MS = 14.0
#: Least ingestion time per web frame, however long the views took (loads keep moving).
INGEST_MIN_MS = 2.0
#: Least time a redraw turn gets (the view at the head of the queue always progresses).
VIEWS_MIN_MS = 1.0


@dataclass(frozen=True, slots=True)
class FrameSplit:
    """One frame's UI-thread CPU time in ms: what each part was allowed and took."""

    budget_ms: float  # the shared budget (0: threaded mode, nothing shared)
    ingest_allowed_ms: float
    ingest_ms: float
    views_allowed_ms: float  # 0 in threaded mode (views keep their own budget)
    views_ms: float
    other_ms: float  # after the tick until the next one (paints, timers, input)
    paint_reserved: bool = False  # a view asked room for a paint in this frame

    @property
    def total_ms(self) -> float:
        return self.ingest_ms + self.views_ms + self.other_ms


class FrameBudget:
    """The frame driver calls `begin_frame`, `end_ingest`, `views_turn` (around the
    `FrameChanges` handlers) and `end_frame` on every tick; views ask
    `redraw_allowance_s()`. UI thread only."""

    def __init__(self, *, shared: bool, total_ms: float = WEB_FRAME_BUDGET_MS,
                 ingest_max_ms: float = 8.0, ingest_min_ms: float = INGEST_MIN_MS,
                 views_min_ms: float = VIEWS_MIN_MS, history: int = 600) -> None:
        self.shared = shared
        self.total_ms = total_ms if shared else 0.0
        self.ingest_max_ms = ingest_max_ms
        self.ingest_min_ms = min(ingest_min_ms, ingest_max_ms)
        self.views_min_ms = views_min_ms
        self.splits: deque[FrameSplit] = deque(maxlen=max(1, history))
        self._cpu_end: float | None = None  # thread_time() when the last tick ended
        self._cpu0 = 0.0
        self._ingest_allowed = 0.0
        self._ingest_ms = 0.0
        self._views_allowed = 0.0
        self._views_ms = 0.0
        self._views_deadline: float | None = None  # perf_counter(); set during views_turn
        self._last_ui_ms = 0.0  # views + other of the last frame
        self._last_other_ms = 0.0
        self._open = False
        self._reserve_next = False  # a view asked room for its paint in the next frame
        self._reserved = False  # this frame has that room
        #: What a frame with a reserved paint took in views + other (ms, smoothed).
        self.paint_estimate_ms = self.total_ms / 2

    # -- the frame driver --------------------------------------------------------------
    def begin_frame(self) -> float:
        """A tick starts: the last frame is closed (its "other" part is the UI thread's CPU
        since that tick ended). Returns ingestion's allowance in seconds."""
        cpu = time.thread_time()
        if self._open:
            self._close(cpu)
        self._cpu0 = cpu
        self._open = True
        self._views_ms = 0.0
        self._views_allowed = 0.0
        self._reserved, self._reserve_next = self._reserve_next, False
        if self.shared:
            ui_ms = self._last_ui_ms
            if self._reserved:
                ui_ms = max(ui_ms, self.paint_estimate_ms)
            allowed = self.total_ms - ui_ms
            allowed = min(self.ingest_max_ms, max(self.ingest_min_ms, allowed))
        else:
            allowed = self.ingest_max_ms
        self._ingest_allowed = allowed
        return allowed / 1000.0

    def end_ingest(self) -> None:
        """Ingestion's part of the tick is done (called before the changes are handled)."""
        self._ingest_ms = (time.thread_time() - self._cpu0) * 1000.0

    @contextmanager
    def views_turn(self) -> Iterator[None]:
        """Around the handling of the tick's changes: redraws inside see their allowance."""
        if self.shared:
            allowed = self.total_ms - self._ingest_ms - self._last_other_ms
            self._views_allowed = max(self.views_min_ms, allowed)
            self._views_deadline = time.perf_counter() + self._views_allowed / 1000.0
        c0 = time.thread_time()
        try:
            yield
        finally:
            self._views_deadline = None
            self._views_ms += (time.thread_time() - c0) * 1000.0

    def end_frame(self) -> None:
        """The tick is over; what the UI thread does until the next one is "other"."""
        self._cpu_end = time.thread_time()

    def _close(self, cpu_now: float) -> None:
        other = 0.0 if self._cpu_end is None else max(0.0, (cpu_now - self._cpu_end) * 1000.0)
        self.splits.append(FrameSplit(self.total_ms, self._ingest_allowed, self._ingest_ms,
                                      self._views_allowed, self._views_ms, other,
                                      self._reserved))
        self._last_ui_ms = self._views_ms + other
        self._last_other_ms = other
        if self._reserved:
            self.paint_estimate_ms = 0.5 * self.paint_estimate_ms + 0.5 * self._last_ui_ms

    # -- the views ---------------------------------------------------------------------
    def reserve_paint(self) -> None:
        """The caller's next turn changes what is drawn (a paint follows): the next frame's
        ingestion leaves room for it (web mode; a no-op in threaded mode)."""
        if self.shared:
            self._reserve_next = True

    @property
    def paint_reserved(self) -> bool:
        """This frame's ingestion left room for the turn a view announced with
        `reserve_paint()` (the redraw queue runs that turn even if the rest is spent)."""
        return self._reserved

    def redraw_allowance_s(self) -> float | None:
        """Seconds a redraw may still work in this frame: web mode, inside the tick's views
        turn, what is left of the frame's budget (0 once spent); web mode outside a tick,
        the budget less the last frame's paint (a queue turn from its own timer: nothing
        ingests meanwhile, and its cost is charged to the next frame's ingestion). None in
        threaded mode: views keep their own per-redraw budget."""
        if not self.shared:
            return None
        deadline = self._views_deadline
        if deadline is not None:
            return max(0.0, deadline - time.perf_counter())
        return max(self.views_min_ms, self.total_ms - self._last_other_ms) / 1000.0
