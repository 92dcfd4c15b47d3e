"""The contract every view follows.

A view shows some entities of one store (``EntityDb``). It never polls: the main window calls
``on_data_changed`` once per frame with the entities that changed (from the frame driver's
``FrameChanges``) and the view subscribes to its ``TimeControl``. A view redraws only when
its data or the cursor changed, and at most once per frame (requests are coalesced).
``schedule_redraw()`` re-checks all of the view's data: call it after changes the view was
not told about (e.g. a store that was in the background).

Redraws caused only by arriving data (new rows, the cursor following them) are throttled:
each view redraws at most every ``DATA_REDRAW_INTERVAL_S``, and the shared `DataRedrawQueue`
runs at most one such redraw per frame tick, so the views of a loading store take turns
instead of all redrawing in the same frame (docs/benchmarks/gui.md: a 2 M-row load kept the
UI thread 100 % busy otherwise). A cursor the user moves, a timeline switch, a view being
shown or ``schedule_redraw()`` redraw promptly, as before.

In web mode the queue's turns also fit the frame's one budget shared with ingestion
(`viewer.ingest.frame_budget.FrameBudget`, set as ``budget`` by the window): a turn waits
for the next frame while less than ``MIN_TURN_S`` is left of it (unless the frame reserved
room for it), at most ``MAX_POSTPONED`` turns in a row, and views that split their work get
at most what is left (``work_budget_s``). Jobs and views that cannot split (view creation, spatial views) are
thereby kept out of frames whose budget is spent, without starving.

A view hidden inside its window (a background tab, a collapsed dock) does not redraw: it
remembers that it is stale and redraws when it is shown again. A view whose window has not
been shown yet still redraws, so off-screen ``grab()`` shows current data.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

import shiboken6
from PySide6.QtCore import QObject, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import QWidget

from viewer.store.entity_db import EntityDb
from viewer.store.entity_path import EntityPath
from viewer.tracing import TRACER
from viewer.ui.time_control import TimeControl

if TYPE_CHECKING:
    from viewer.ingest.frame_budget import FrameBudget

_log = logging.getLogger(__name__)

#: Least time between two redraws of one view caused only by arriving data.
DATA_REDRAW_INTERVAL_S = 0.2
#: How often the queue looks for a due view (one redraw per look: spreads views over frames).
DATA_REDRAW_TICK_MS = 16
#: While the window's frames come (`DataRedrawQueue.on_frame`), the queue's own timer waits
#: this long after each: it only stands in for frames that stopped. At 16 ms it fired
#: before a frame that was a few ms late and put a redraw where that frame's work went.
FRAMES_STOPPED_MS = 40
#: Work a queued redraw may do in one frame before it continues next frame (views that can
#: split their work check ``work_budget_s()``; a prompt or direct redraw does everything).
REDRAW_WORK_BUDGET_S = 0.006
#: Web mode: a turn waits for the next frame while less than this is left of the frame's
#: shared budget (a job or an unsplit redraw takes milliseconds: it would only lengthen a
#: frame whose budget is spent) ...
MIN_TURN_S = 0.002
#: Web mode: queued jobs reserve their frames (off only to measure it:
#: ``scripts/bench_gui.py --ab job-reserve``).
RESERVE_FOR_JOBS = True
#: ... but at most this many turns in a row, then it runs anyway: nothing starves.
MAX_POSTPONED = 2


class DataRedrawQueue(QObject):
    """Runs throttled (data-only) view redraws, one due view per tick, oldest request first,
    and other heavy UI jobs (view creation) in turns of their own."""

    def __init__(self) -> None:
        super().__init__()
        self._waiting: dict[int, View] = {}  # insertion order = request order
        # Other heavy UI work that takes a turn like a redraw (e.g. creating a view).
        self._jobs: list[tuple[QObject, Callable[[], None], bool]] = []
        self._rest = False  # skip the next turn (after a job)
        #: The frame's budget shared with ingestion (web mode; set by the window). None,
        #: or a budget whose ``redraw_allowance_s()`` is None (threaded mode): no waiting.
        self.budget: FrameBudget | None = None
        self._postponed = 0  # turns in a row that waited for the budget
        #: Called before each turn that does work (the window: pause background threads).
        self.before_turn: Callable[[], None] | None = None
        self._timer = QTimer(self)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.setInterval(DATA_REDRAW_TICK_MS)
        self._timer.timeout.connect(self._own_tick)
        self.redraws = 0  # throttled redraws run (tests, benchmarks)
        self.turns = 0  # turns that ran a job or a redraw (tests, benchmarks)
        self.postponed_turns = 0  # turns that waited for the next frame (tests, benchmarks)

    def add(self, view: View) -> None:
        self._waiting.setdefault(id(view), view)
        if not self._timer.isActive():
            self._timer.start()

    def add_job(self, owner: QObject, job: Callable[[], None], rest_after: bool = False) -> None:
        """Run ``job`` in a turn of its own (before waiting redraws); dropped if ``owner``
        is deleted first. ``rest_after``: leave the next turn empty too (a job that adds
        widgets: their first layout and paint come in that frame)."""
        self._jobs.append((owner, job, rest_after))
        self._reserve()
        if not self._timer.isActive():
            self._timer.start()

    def _reserve(self) -> None:
        """Web mode: the next frame's ingestion leaves room for a job's turn or the first
        paint of what it added (a store's activation, a view's creation and docking: at
        the start of a load, 8 ms of ingestion plus these made the longest frames)."""
        if self.budget is not None and RESERVE_FOR_JOBS:
            self.budget.reserve_paint()

    def discard(self, view: View) -> None:
        self._waiting.pop(id(view), None)

    def __contains__(self, view: View) -> bool:
        return id(view) in self._waiting

    def __len__(self) -> int:
        return len(self._waiting) + len(self._jobs)

    def _own_tick(self) -> None:
        if self._timer.interval() != DATA_REDRAW_TICK_MS:  # frames stopped: own pace
            self._timer.setInterval(DATA_REDRAW_TICK_MS)
        self.tick()

    def tick(self) -> None:
        if self._rest:
            # The turn after a job that added widgets (a new view) is left empty: their
            # first layout and paint come in that frame, not on top of a redraw.
            self._rest = False
            if self._jobs:
                self._reserve()  # the next job's frame
            if not self._waiting and not self._jobs:
                self._timer.stop()
            return
        if self._budget_spent() and self._postponed < MAX_POSTPONED and self._turn_due():
            self._postponed += 1  # the whole turn waits a frame: order kept
            self.postponed_turns += 1
            return
        self._postponed = 0
        if (self._jobs or self._waiting) and self.before_turn is not None:
            try:
                self.before_turn()
            except RuntimeError:  # its owner (a window's hub) is gone
                self.before_turn = None
        while self._jobs:
            owner, job, rest_after = self._jobs.pop(0)
            if shiboken6.isValid(owner):
                self.turns += 1
                with TRACER.scope("ui job", "ui",
                                  lambda job=job: {"job": getattr(job, "__name__", "?")}):
                    job()
                self._rest = rest_after
                if rest_after or self._jobs:
                    self._reserve()  # the paint of what it added, or the next job
                if not self._jobs and not self._waiting:
                    self._timer.stop()
                return  # one turn per tick
        now = time.monotonic()
        for key, view in list(self._waiting.items()):
            if not shiboken6.isValid(view):
                del self._waiting[key]
                continue
            if not view._continuing and now - view._last_redraw_at < DATA_REDRAW_INTERVAL_S:
                continue
            del self._waiting[key]
            self.redraws += 1
            self.turns += 1
            view._budgeted = True
            try:
                view._do_redraw()
            finally:
                if shiboken6.isValid(view):
                    view._budgeted = False
            break  # one per tick: the next view's turn is the next frame
        if not self._waiting and not self._jobs:
            self._timer.stop()

    def _budget_spent(self) -> bool:
        """Web mode: less than ``MIN_TURN_S`` is left of this frame's shared budget, and
        the frame has no room reserved for a turn (`FrameBudget.reserve_paint`: the plot's
        hand-over, announced the turn before; waiting would move it into a frame whose
        ingestion took its whole share)."""
        budget = self.budget
        left = budget.redraw_allowance_s() if budget is not None else None
        return left is not None and left < MIN_TURN_S and not budget.paint_reserved

    def _turn_due(self) -> bool:
        """This tick would run something: a job, or a view whose throttle has passed (a
        tick with nothing to do does not count as a wait)."""
        if self._jobs:
            return True
        now = time.monotonic()
        return any(shiboken6.isValid(v)
                   and (v._continuing or now - v._last_redraw_at >= DATA_REDRAW_INTERVAL_S)
                   for v in self._waiting.values())

    def clear(self) -> None:
        """Drop every waiting turn (jobs and redraws) without running it, the
        ``before_turn`` hook and the budget (a window closing; tests)."""
        self._jobs.clear()
        self._waiting.clear()
        self._rest = False
        self._postponed = 0
        self.before_turn = None
        self.budget = None
        self._timer.stop()

    def on_frame(self) -> None:
        """The window's frame tick (data just applied): the queue takes its turn here, so
        one redraw slice runs per frame right after the frame's data, instead of at a
        random phase of its own timer, where two turns, or a turn and a paint, could fall
        into one frame interval. The own timer restarts and runs only when frames stop."""
        if self._waiting or self._jobs:
            self.tick()
            if self._waiting or self._jobs:
                self._timer.start(FRAMES_STOPPED_MS)

    def flush(self) -> int:
        """Run every waiting redraw now and in full (no budget): screenshots, tests.
        Returns how many views redrew."""
        self._rest = False
        self._postponed = 0
        jobs, self._jobs = self._jobs, []
        for owner, job, _rest in jobs:
            if shiboken6.isValid(owner):
                job()
        waiting, self._waiting = list(self._waiting.values()), {}
        self._timer.stop()
        n = 0
        for view in waiting:
            if shiboken6.isValid(view):
                view._continuing = False
                view._do_redraw()
                n += 1
        return n


_queue: DataRedrawQueue | None = None


def data_redraw_queue() -> DataRedrawQueue:
    """The process-wide queue (created on first use, on the UI thread)."""
    global _queue
    if _queue is None or not shiboken6.isValid(_queue):
        _queue = DataRedrawQueue()
    return _queue


class View(QWidget):
    """Base class: subclasses implement ``accepts`` and ``redraw``."""

    #: Human-readable kind, e.g. "Time series".
    kind_name = "View"
    #: One entity could not be drawn (entity, why); the others still are. Emitted once
    #: per distinct problem, so a window can notify without repeating itself.
    entity_failed = Signal(object, str)

    def __init__(self, db: EntityDb, entities: Iterable[EntityPath], time_control: TimeControl,
                 title: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.db = db
        self.entities: list[EntityPath] = list(entities)
        self.time_control = time_control
        self.title = title or (str(self.entities[0]) if self.entities else self.kind_name)
        self.redraw_count = 0
        self._redraw_pending = False
        self._stale = True  # data or cursor changed since the last redraw
        self._last_redraw_at = float("-inf")  # time.monotonic() of the last redraw
        self._continuing = False  # the last redraw left work for the next frame
        self._budgeted = False  # this redraw runs from the data-redraw queue
        self.last_error: str | None = None  # why the last scheduled redraw failed, if it did
        #: Why each entity could not be drawn at the last redraw that tried it.
        self.entity_errors: dict[EntityPath, str] = {}
        time_control.time_changed.connect(self._on_time_changed)
        time_control.timeline_changed.connect(self._on_timeline_changed)

    @classmethod
    def accepts(cls, db: EntityDb, entity: EntityPath) -> bool:
        """Whether this view kind can show ``entity`` (decided from its components)."""
        raise NotImplementedError

    def report_entity_error(self, entity: EntityPath, message: str | None) -> None:
        """Record that ``entity`` failed to draw (None: it drew again); a new problem is
        logged and emitted as `entity_failed`."""
        if message is None:
            self.entity_errors.pop(entity, None)
            return
        if self.entity_errors.get(entity) == message:
            return
        self.entity_errors[entity] = message
        _log.warning("%s %r: %s: %s", self.kind_name, self.title, entity, message)
        self.entity_failed.emit(entity, message)

    def on_data_changed(self, changed_entities: Iterable[EntityPath]) -> None:
        """The frame driver's report: these entities got new (or lost) data."""
        mine = [e for e in changed_entities if e in self.entities]
        if mine:
            self.invalidate(mine)
            self._request_redraw(urgent=False)

    def add_entity(self, entity: EntityPath) -> None:
        if entity not in self.entities:
            self.entities.append(entity)
            self.invalidate([entity])
            self._request_redraw(urgent=False)

    def schedule_redraw(self) -> None:
        """Redraw soon, re-checking all data (e.g. after changes this view was not told
        about); coalesced into one redraw per event-loop turn."""
        self.invalidate(self.entities)
        self._request_redraw()

    def invalidate(self, entities: Iterable[EntityPath]) -> None:
        """Hook: the data of ``entities`` may have changed. Views that cache per entity
        (plots, logs) mark them dirty here; views that look up the cursor rows on every
        redraw need nothing."""

    def _request_redraw(self, urgent: bool = True) -> None:
        """Redraw on the next event-loop turn (``urgent``) or when the data-redraw queue
        gives this view its turn (arriving data only: at most every
        ``DATA_REDRAW_INTERVAL_S``)."""
        self._stale = True
        if self._redraw_pending:
            return
        if not urgent:
            data_redraw_queue().add(self)
            return
        data_redraw_queue().discard(self)  # folded into the prompt redraw
        self._redraw_pending = True
        # The context object cancels the call if the view is deleted before it runs.
        QTimer.singleShot(0, self, self._do_redraw)

    @property
    def redraw_waiting(self) -> bool:
        """A throttled (data-only) redraw is queued."""
        return self in data_redraw_queue()

    def redraw_now(self) -> None:
        """Redraw synchronously (tests, screenshots); pending requests are folded in."""
        self._redraw_pending = False
        self._stale = False
        self._last_redraw_at = time.monotonic()
        self._continuing = False
        data_redraw_queue().discard(self)
        self.redraw_count += 1
        self.redraw()

    def work_budget_s(self) -> float | None:
        """Seconds of work this redraw may do before ``continue_next_frame`` (None: all).
        In web mode at most what is left of the frame's shared budget, but never less than
        its ``views_min_ms`` (a view whose zero budget meant "its default slice" would
        otherwise take that whole slice in a spent frame)."""
        if not self._budgeted:
            return None
        budget = data_redraw_queue().budget
        left = budget.redraw_allowance_s() if budget is not None else None
        if left is None:
            return REDRAW_WORK_BUDGET_S
        return min(REDRAW_WORK_BUDGET_S, max(left, budget.views_min_ms / 1000.0))

    def continue_next_frame(self) -> None:
        """Called by ``redraw`` when it stopped early (a per-frame work budget): the view
        redraws again on the queue's next tick instead of after the throttle interval."""
        self._continuing = True
        self._stale = True
        data_redraw_queue().add(self)

    def _do_redraw(self) -> None:
        self._redraw_pending = False
        if not shiboken6.isValid(self) or not self._stale:
            return
        if self._hidden_in_window():
            return  # stays stale; showEvent redraws
        try:
            with TRACER.scope("redraw", "ui",
                              lambda: {"view": self.kind_name, "title": self.title}):
                self.redraw_now()
            self.last_error = None
        except Exception as exc:  # bad data must not take the viewer down
            self.last_error = f"{type(exc).__name__}: {exc}"
            _log.exception("%s %r could not draw", self.kind_name, self.title)
            self.setToolTip(f"Cannot draw: {self.last_error}")

    def _hidden_in_window(self) -> bool:
        """True when this view or an ancestor below its window is explicitly hidden."""
        widget: QWidget | None = self
        while widget is not None and not widget.isWindow():
            if widget.isHidden():
                return True
            widget = widget.parentWidget()
        return False

    def sizeHint(self) -> QSize:
        return QSize(480, 320)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._stale:
            # A view shown for the first time takes its turn in the data-redraw queue (next
            # tick, within its work budget): not in the frame that created and laid it out.
            self._request_redraw(urgent=self.redraw_count > 0)

    def redraw(self) -> None:
        """Draw the current data at the time cursor."""
        raise NotImplementedError

    def _on_time_changed(self, _t: object) -> None:
        self._request_redraw(urgent=not self.time_control.moved_by_data)

    def _on_timeline_changed(self, _name: str) -> None:
        self._request_redraw()
