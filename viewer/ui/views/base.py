"""The contract every view follows.

A view shows some entities of one store (``EntityDb``). It never polls: the main window calls
``on_data_changed`` once per frame with the entities that changed (from the frame driver's
``FrameChanges``) and the view subscribes to its ``TimeControl``. A view redraws only when
its data or the cursor changed, and at most once per frame (``schedule_redraw`` coalesces).
"""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QWidget

from viewer.store.entity_db import EntityDb
from viewer.store.entity_path import EntityPath
from viewer.ui.time_control import TimeControl


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
        time_control.time_changed.connect(self._on_time_changed)
        time_control.timeline_changed.connect(self._on_timeline_changed)

    @classmethod
    def accepts(cls, db: EntityDb, entity: EntityPath) -> bool:
        """Whether this view kind can show ``entity`` (decided from its components)."""
        raise NotImplementedError

    def on_data_changed(self, changed_entities: Iterable[EntityPath]) -> None:
        if any(e in self.entities for e in changed_entities):
            self.schedule_redraw()

    def add_entity(self, entity: EntityPath) -> None:
        if entity not in self.entities:
            self.entities.append(entity)
            self.schedule_redraw()

    def schedule_redraw(self) -> None:
        """Coalesce redraw requests into one per event-loop turn."""
        if not self._redraw_pending:
            self._redraw_pending = True
            QTimer.singleShot(0, self._do_redraw)

    def _do_redraw(self) -> None:
        self._redraw_pending = False
        self.redraw_count += 1
        self.redraw()

    def redraw(self) -> None:
        """Draw the current data at the time cursor."""
        raise NotImplementedError

    def _on_time_changed(self, _t: object) -> None:
        self.schedule_redraw()

    def _on_timeline_changed(self, _name: str) -> None:
        self.schedule_redraw()
