"""Non-modal notices when the memory limit drops data, at most one every few seconds.

Eviction comes in bursts over many frames; one toast per frame would bury everything else,
so reports are summed and shown as one notice per interval (the first one at once).
"""

from __future__ import annotations

import time
from typing import Any

from PySide6.QtCore import QObject, QTimer

from viewer.store.memory import format_bytes

NOTICE_INTERVAL_S = 10.0


class MemoryNotices(QObject):
    def __init__(self, notifications: Any, interval_s: float = NOTICE_INTERVAL_S,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._notifications = notifications
        self._interval_s = interval_s
        self._last_shown = -1e18
        self._pending: list[Any] = []
        self._stuck_shown = False
        self.shown: list[str] = []
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.flush)

    def add(self, report: Any) -> None:
        """Take one frame's `EvictionReport`; show now, or sum it into the next notice."""
        if report.stuck and not report.stores:
            if not self._stuck_shown:  # "only latest values left": once is enough
                self._stuck_shown = True
                self._show(report.message())
            return
        self._pending.append(report)
        wait = self._last_shown + self._interval_s - time.monotonic()
        if wait <= 0:
            self.flush()
        elif not self._timer.isActive():
            self._timer.start(int(wait * 1000) + 1)

    def flush(self) -> None:
        if not self._pending:
            return
        reports, self._pending = self._pending, []
        if len(reports) == 1:
            self._show(reports[0].message())
            return
        chunks = sum(r.chunks_dropped for r in reports)
        freed = sum(r.bytes_freed for r in reports)
        names = dict.fromkeys(f"{s.store_id.application_id}/{s.store_id.recording_id}"
                              for r in reports for s in r.stores)
        self._show(f"Dropped {chunks} chunks ({format_bytes(freed)}) of {', '.join(names)} "
                   f"to stay under the {format_bytes(reports[-1].limit_bytes)} memory limit")

    def _show(self, text: str) -> None:
        self._last_shown = time.monotonic()
        self.shown.append(text)
        self._notifications.warning("Memory limit", text)
