"""The contract every view follows.

A view shows some entities of one store (``EntityDb``). It never polls: the main window calls
``on_data_changed`` once per frame with the entities that changed (from the frame driver's
``FrameChanges``) and the view subscribes to its ``TimeControl``. A view redraws only when
its data or the cursor changed, and at most once per frame (requests are coalesced).
``schedule_redraw()`` re-checks all of the view's data: call it after changes the view was
not told about (e.g. a store that was in the background).

A view hidden inside its window (a background tab, a collapsed dock) does not redraw: it
remembers that it is stale and redraws when it is shown again. A view whose window has not
been shown yet still redraws, so off-screen ``grab()`` shows current data.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

import shiboken6
from PySide6.QtCore import QSize, QTimer
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import QWidget

from viewer.store.entity_db import EntityDb
from viewer.store.entity_path import EntityPath
from viewer.ui.time_control import TimeControl

_log = logging.getLogger(__name__)


class View(QWidget):
    """Base class: subclasses implement ``accepts`` and ``redraw``."""

    #: Human-readable kind, e.g. "Time series".
    kind_name = "View"

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
        self.last_error: str | None = None  # why the last scheduled redraw failed, if it did
        time_control.time_changed.connect(self._on_time_changed)
        time_control.timeline_changed.connect(self._on_timeline_changed)

    @classmethod
    def accepts(cls, db: EntityDb, entity: EntityPath) -> bool:
        """Whether this view kind can show ``entity`` (decided from its components)."""
        raise NotImplementedError

    def on_data_changed(self, changed_entities: Iterable[EntityPath]) -> None:
        """The frame driver's report: these entities got new (or lost) data."""
        mine = [e for e in changed_entities if e in self.entities]
        if mine:
            self.invalidate(mine)
            self._request_redraw()

    def add_entity(self, entity: EntityPath) -> None:
        if entity not in self.entities:
            self.entities.append(entity)
            self.invalidate([entity])
            self._request_redraw()

    def schedule_redraw(self) -> None:
        """Redraw soon, re-checking all data (e.g. after changes this view was not told
        about); coalesced into one redraw per event-loop turn."""
        self.invalidate(self.entities)
        self._request_redraw()

    def invalidate(self, entities: Iterable[EntityPath]) -> None:
        """Hook: the data of ``entities`` may have changed. Views that cache per entity
        (plots, logs) mark them dirty here; views that look up the cursor rows on every
        redraw need nothing."""

    def _request_redraw(self) -> None:
        self._stale = True
        if not self._redraw_pending:
            self._redraw_pending = True
            # The context object cancels the call if the view is deleted before it runs.
            QTimer.singleShot(0, self, self._do_redraw)

    def redraw_now(self) -> None:
        """Redraw synchronously (tests, screenshots); pending requests are folded in."""
        self._redraw_pending = False
        self._stale = False
        self.redraw_count += 1
        self.redraw()

    def _do_redraw(self) -> None:
        self._redraw_pending = False
        if not shiboken6.isValid(self) or not self._stale:
            return
        if self._hidden_in_window():
            return  # stays stale; showEvent redraws
        try:
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
            self._request_redraw()

    def redraw(self) -> None:
        """Draw the current data at the time cursor."""
        raise NotImplementedError

    def _on_time_changed(self, _t: object) -> None:
        self._request_redraw()

    def _on_timeline_changed(self, _name: str) -> None:
        self._request_redraw()
