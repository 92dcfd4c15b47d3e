"""`FrameDriver`: the ~60 Hz loop on the UI thread that applies ingestion results.

Every tick it takes ready items from the workers' outboxes round-robin and applies them to
their `EntityDb` within ``apply_budget_ms`` (checking the clock every few items), then emits
ONE `FrameChanges` for everything that changed — nothing when nothing changed. In web mode
the same tick then reads files and decodes with the rest of ingestion's allowance, which
bounds all of the frame's ingestion work on the UI thread. That allowance comes from the
frame's one budget shared with the views (`frame_budget.FrameBudget`): at most
``web_budget_ms``, less when the last frame's redraws and paints ran long; the handlers of
the tick's `FrameChanges` (the window's redraw turn) run inside the budget's views turn.

Ordering: items of one store are applied in outbox order, i.e. send order; whatever is
not applied this frame stays at the head of its outbox for the next one. Different stores
share the budget fairly (the starting store rotates every frame).

The UI thread never blocks here: taking from an outbox is a short lock, never a wait.

UI priority (threaded mode): from the start of a tick until the UI thread has handled the
events the tick caused (the `frame_applied` handlers, then the layout and paint events they
posted) the hub's UI gate (`ui_gate.UiGate`) is closed and worker / reader threads pause at
their next message boundary. pyarrow decoding holds the GIL, so without this the UI thread
would wait for the GIL at every Python callback of a paint and frames would stretch. The
gate opens from a zero-delay timer: Qt runs those after the posted events (paints) pending.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QCoreApplication, QEvent, QObject, Qt, QTimer

from viewer.ingest.changes import FrameChanges, StoreChanges
from viewer.ingest.frame_budget import FrameBudget
from viewer.ingest.gc_tuning import GcPacer, UiThreadGc
from viewer.ingest.items import ItemKind, ReadyItem
from viewer.ingest.memory_governor import MemoryGovernor
from viewer.ingest.settings import IngestSettings
from viewer.ingest.state import IngestState
from viewer.ingest.stats import IngestStats
from viewer.ingest.worker import IngestionWorker
from viewer.log.reader import ReadError
from viewer.tracing import TRACER

# Read once: an enum member read from its class costs ~150 ns on Python 3.11
# (docs/platform-facts.md), and items are compared per applied item.
_CHUNK, _STORE_INFO = ItemKind.CHUNK, ItemKind.STORE_INFO
_ACTIVATION, _ERROR = ItemKind.ACTIVATION, ItemKind.ERROR
_TAKE_BATCH = 16  # items taken per outbox visit; the clock is checked after each batch
_WEB_SLICE_S = 0.002  # web mode: one worker / one file for at most this long per turn


class FrameDriver(QObject):
    def __init__(self, state: IngestState, settings: IngestSettings, stats: IngestStats,
                 memory: MemoryGovernor, gc_pacer: GcPacer, ui_gc: UiThreadGc,
                 on_changes: Callable[[FrameChanges], None],
                 parent: QObject | None = None, budget: FrameBudget | None = None) -> None:
        super().__init__(parent)
        self._state = state
        #: Where frame and apply measurements go (replaceable: benchmarks give their own).
        self.stats = stats
        self._memory = memory
        self._gc_pacer = gc_pacer
        self._ui_gc = ui_gc
        self._on_changes = on_changes
        self._apply_budget = settings.apply_budget_ms / 1000.0
        self._web = settings.web_mode
        #: The frame's UI-thread time, shared with the views in web mode.
        self.budget = budget if budget is not None else frame_budget_for(settings)
        self._evict_budget = settings.evict_budget_ms / 1000.0
        self._timer = QTimer(self)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.setInterval(settings.frame_interval_ms)
        self._timer.timeout.connect(self.tick)
        self._last_tick: float | None = None
        self._rr = 0
        self._errors_seen = 0
        self._source_seen: dict[int, tuple[Any, int, int]] = {}
        self._ranges_seen: dict[Any, dict[str, tuple[int, int] | None]] = {}
        self._known_stores: set[Any] = set()
        #: Test/diagnostic hook called for every applied item: ``fn(store_id, item)``.
        self.apply_listener: Callable[[Any, ReadyItem], None] | None = None
        # Opens the UI gate once the events a tick posted (paints) are handled.
        self._gate_timer = QTimer(self)
        self._gate_timer.setSingleShot(True)
        self._gate_timer.setInterval(0)
        self._gate_timer.timeout.connect(self._open_gate)
        self._paint_gate: _PaintGate | None = None  # threaded mode, while the timer runs

    def start(self) -> None:
        if not self._timer.isActive():
            self._last_tick = None
            self._timer.start()
            if not self._web and PAINTS_HOLD_GATE:
                app = QCoreApplication.instance()
                if app is not None and self._paint_gate is None:
                    self._paint_gate = _PaintGate(self)
                    app.installEventFilter(self._paint_gate)

    def hold_gate(self) -> None:
        """Close the UI gate until the events pending on this thread ran (heavy UI work
        outside a tick, e.g. a view redraw from the redraw queue's own timer)."""
        if self._timer.isActive() and not self._web:
            self._state.ui_gate.clear()
            self._gate_timer.start()

    def _open_gate(self) -> None:
        self._state.ui_gate.set()

    def stop(self) -> None:
        self._timer.stop()
        self._gate_timer.stop()
        if self._paint_gate is not None:
            app = QCoreApplication.instance()
            if app is not None:
                app.removeEventFilter(self._paint_gate)
            self._paint_gate = None
        self._state.ui_gate.set()

    @property
    def active(self) -> bool:
        return self._timer.isActive()

    # ------------------------------------------------------------------ one frame
    def tick(self) -> None:
        gate = self._state.ui_gate
        gate.clear()  # threaded mode: workers and readers pause between messages
        try:
            with TRACER.scope("frame", "ui"):  # --profile: one scope per frame
                self._tick()
            TRACER.queue_counters(self._state.workers)  # no-ops unless tracing
            TRACER.sample_memory()
        finally:
            if self._timer.isActive():
                self._gate_timer.start()
            else:  # ticked by hand (tests): no event loop to wait for
                gate.set()

    def _tick(self) -> None:
        t0 = time.perf_counter()
        c0 = time.thread_time()
        self._count_frame(t0)
        changes = FrameChanges()
        # closed before new: a store closed and re-created within a frame is both
        changes.closed_stores.extend(self._state.take_closed())
        self._discover_stores(changes)
        frame_budget = self.budget
        allowance = frame_budget.begin_frame()
        if self._web:
            applied, did_work, apply_ms, work_ms = self._web_frame(t0, changes, allowance)
            budget = allowance
        else:
            applied, apply_ms = self._threaded_frame(t0, changes)
            did_work, work_ms, budget = False, 0.0, self._apply_budget
        if applied:
            self._gc_pacer.after_apply(applied, t0 + budget - time.perf_counter())
        if did_work or applied:
            self._record_ui_time(t0, c0, apply_ms, work_ms)
        self._govern_memory(changes)
        self._collect_reports(changes)
        frame_budget.end_ingest()
        if changes:
            with frame_budget.views_turn():
                self._on_changes(changes)
        frame_budget.end_frame()
        self._ui_gc.tick()  # cyclic GC on this (the UI) thread only: see gc_tuning.UiThreadGc

    def _count_frame(self, t0: float) -> None:
        stats = self.stats
        if self._last_tick is not None:
            stats.frame_interval_ms.add((t0 - self._last_tick) * 1000.0)
        self._last_tick = t0
        stats.frames += 1

    def _discover_stores(self, changes: FrameChanges) -> None:
        """Stores whose worker appeared since the last look: an EntityDb each, reported new."""
        state = self._state
        for w in state.workers:
            if w.store_id not in self._known_stores:
                self._known_stores.add(w.store_id)
                state.ensure_db(w.store_id)
                changes.new_stores.append(w.store_id)

    def _threaded_frame(self, t0: float, changes: FrameChanges) -> tuple[int, float]:
        """Threaded mode: only apply what the workers made ready. (items, apply ms)"""
        workers = self._state.workers
        self.stats.sample_queues(workers)  # what waited for this frame, before applying
        applied = self._apply(workers, t0 + self._apply_budget, changes)
        return applied, (time.perf_counter() - t0) * 1000.0

    def _web_frame(self, t0: float, changes: FrameChanges,
                   allowance: float) -> tuple[int, bool, float, float]:
        """Web mode: the whole frame's ingestion fits ``allowance`` (s, from the frame
        budget). Apply what the last frame decoded first (bounded by apply_budget_ms), then
        read + decode with what is left; those items are applied next frame.
        (items, worked, apply ms, work ms)"""
        workers = self._state.workers
        self.stats.sample_queues(workers)
        applied = self._apply(workers, t0 + min(self._apply_budget, allowance), changes)
        t1 = time.perf_counter()
        with TRACER.scope("web work", "ui", {"allowance_ms": allowance * 1000.0}):
            did_work = self._web_work(t0 + allowance)
        self._discover_stores(changes)  # pulling may have created stores
        t2 = time.perf_counter()
        return applied, did_work, (t1 - t0) * 1000.0, (t2 - t1) * 1000.0

    def _record_ui_time(self, t0: float, c0: float, apply_ms: float, work_ms: float) -> None:
        stats = self.stats
        stats.web_work_ms.add(work_ms)
        stats.apply_ms.add(apply_ms)
        stats.ui_ingest_ms.add((time.perf_counter() - t0) * 1000.0)
        stats.ui_ingest_cpu_ms.add((time.thread_time() - c0) * 1000.0)

    def _govern_memory(self, changes: FrameChanges) -> None:
        """Count stores + queues; over the memory limit, evict within the budget."""
        state = self._state
        queued = 0
        for w in state.workers:
            queued += w.inbox.nbytes + w.outbox.nbytes
        report = self._memory.step(state.dbs, queued, self._evict_budget)
        if report is None:
            return
        changes.memory = report
        for st in report.stores:
            sc = changes.store(st.store_id)
            sc.chunks_evicted += st.chunks_dropped
            sc.rows_evicted += st.rows_dropped

    def _web_work(self, deadline: float) -> bool:
        """Web mode: pull files and decode on this thread, round-robin, until the budget."""
        state = self._state
        monotonic = time.monotonic
        did = False
        # perf_counter and monotonic share a clock on Linux, but do not rely on it
        deadline = monotonic() + (deadline - time.perf_counter())
        while True:
            progressed = False
            for src in state.pull_sources():
                now = monotonic()
                if now >= deadline:
                    return did
                if src.pump(min(deadline, now + _WEB_SLICE_S)):
                    progressed = True
            workers = state.workers
            n = len(workers)
            for i in range(n):
                w = workers[(self._rr + i) % n]
                if not w.can_progress():
                    continue
                now = monotonic()
                if now >= deadline:
                    return did
                if w.process(min(deadline, now + _WEB_SLICE_S)):
                    progressed = True
            if not progressed:
                return did
            did = True

    def _apply(self, workers: tuple[IngestionWorker, ...], deadline: float,
               changes: FrameChanges) -> int:
        n = len(workers)
        if n == 0:
            return 0
        self._rr = (self._rr + 1) % n
        active = [workers[(self._rr + i) % n] for i in range(n)]
        perf = time.perf_counter
        applied = 0
        while active:
            still = []
            for w in active:
                items = w.outbox.take_many(_TAKE_BATCH)
                if not items:
                    continue
                with TRACER.scope("apply", "ui",
                                  lambda w=w, items=items: {"store": str(w.store_id),
                                                            "items": len(items)}):
                    applied += self._apply_items(w, items, changes)
                if len(items) == _TAKE_BATCH:
                    still.append(w)
                if perf() >= deadline:
                    return applied
            active = still
        return applied

    def _apply_items(self, worker: IngestionWorker, items: list[ReadyItem],
                     changes: FrameChanges) -> int:
        state = self._state
        store_id = worker.store_id
        db = state.db(store_id)
        if db is None:  # cannot happen (created before applying); never get stuck on it
            worker.applied_msgs += sum(it.n_msgs for it in items)
            return 0
        sc: StoreChanges = changes.store(store_id)
        stats = self.stats
        lat = stats.latency_ms
        now = time.monotonic()
        listener = self.apply_listener
        msgs = 0
        chunks_before = sc.chunks_added
        for it in items:
            kind = it.kind
            try:
                if kind is _CHUNK:
                    chunk = it.payload
                    added = db.add_chunk(chunk)
                    sc.changed_entities.add(chunk.entity_path)
                    if added.new_entities:
                        sc.new_entities.extend(added.new_entities)
                    if added.new_timelines:
                        sc.new_timelines.extend(added.new_timelines)
                    sc.rows_added += chunk.num_rows
                    sc.chunks_added += 1
                elif kind is _STORE_INFO:
                    db.set_store_info(it.payload)
                    sc.store_info_changed = True
                    sc.store_infos_applied += 1
                elif kind is _ACTIVATION:
                    changes.blueprint_activations.append(it.payload)
                elif kind is _ERROR:
                    src = it.source
                    if src is not None:
                        src.errors.append(it.payload)
                    state.report_error(it.payload)
            except Exception as exc:  # a store bug must not take the UI down
                name = it.source.name if it.source is not None else "?"
                err = ReadError(name, -1, f"store {store_id}: could not apply: {exc!r}")
                if it.source is not None:
                    it.source.errors.append(err)
                state.report_error(err)
            msgs += it.n_msgs
            lat.add((now - it.t_read) * 1000.0)
            if listener is not None:
                listener(store_id, it)
        worker.applied_msgs += msgs
        stats.messages_applied += msgs
        stats.chunks_applied += sc.chunks_added - chunks_before
        return len(items)

    def _collect_reports(self, changes: FrameChanges) -> None:
        state = self._state
        # rows accounting and timeline ranges (once per store per frame, not per chunk)
        for store_id, sc in list(changes.stores.items()):
            if not (sc.chunks_added or sc.store_infos_applied or sc.new_entities
                    or sc.chunks_evicted):
                del changes.stores[store_id]  # only errors/activations: reported elsewhere
                continue
            self.stats.rows_applied += sc.rows_added
            db = state.db(store_id)
            if db is None or not (sc.chunks_added or sc.chunks_evicted):
                continue
            seen = self._ranges_seen.setdefault(store_id, {})
            for tl in db.timelines():
                rng = db.time_range(tl)
                if seen.get(tl) != rng:
                    seen[tl] = rng
                    sc.timelines_changed.append(tl)
        errors = state.errors
        if self._errors_seen < len(errors):
            changes.new_errors.extend(errors[self._errors_seen:])
            self._errors_seen = len(errors)
        for src in state.sources:
            key = (src.state, src.bytes_read, len(src.errors))
            if self._source_seen.get(id(src)) != key:
                self._source_seen[id(src)] = key
                changes.sources_changed.append(src)

    def forget_store(self, store_id: Any) -> None:
        """A store was closed: a later store with the same id is new again."""
        self._known_stores.discard(store_id)
        self._ranges_seen.pop(store_id, None)

    def has_unreported(self) -> bool:
        """Something happened that the next frame would still report."""
        state = self._state
        if self._errors_seen < len(state.errors) or state.has_closed():
            return True
        for w in state.workers:
            if w.store_id not in self._known_stores:
                return True
        for src in state.sources:
            if self._source_seen.get(id(src)) != (src.state, src.bytes_read, len(src.errors)):
                return True
        return False


#: Threaded mode: a window's paint closes the UI gate too (off only to measure it:
#: ``scripts/bench_gui.py --ab paint-gate``).
PAINTS_HOLD_GATE = True
_UPDATE_REQUEST = QEvent.Type.UpdateRequest


class _PaintGate(QObject):
    """Application event filter: an update request (a window about to paint) closes the UI
    gate until the events after it ran (the frame driver's gate timer)."""

    def __init__(self, driver: FrameDriver) -> None:
        super().__init__(driver)
        self._driver = driver

    def eventFilter(self, _obj: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt API)
        if event.type() == _UPDATE_REQUEST:
            self._driver.hold_gate()
        return False


def frame_budget_for(settings: IngestSettings) -> FrameBudget:
    """Web mode: one budget for ingestion (at most ``web_budget_ms``) and the views;
    threaded mode: ingestion's apply budget, nothing shared."""
    if settings.web_mode:
        return FrameBudget(shared=True, ingest_max_ms=settings.web_budget_ms)
    return FrameBudget(shared=False, ingest_max_ms=settings.apply_budget_ms)
