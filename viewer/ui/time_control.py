"""The time cursor shared by every view of a store: timeline, time, playback, follow.

A model object (QObject with signals, no widgets) so views and the time panel only subscribe.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal


class TimeControl(QObject):
    """Which timeline is shown and where the cursor is.

    ``time`` is in the timeline's native integer units (sequence number, or ns for
    timestamp/duration timelines). ``None`` means "no data yet".
    """

    timeline_changed = Signal(str)
    time_changed = Signal(object)  # int | None
    playback_changed = Signal()  # playing / speed / loop / follow

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._timeline: str | None = None
        self._time: int | None = None
        self.playing = False
        self.speed = 1.0
        self.loop = False
        self.follow = False

    @property
    def timeline(self) -> str | None:
        return self._timeline

    @property
    def time(self) -> int | None:
        return self._time

    def set_timeline(self, name: str | None) -> None:
        if name != self._timeline:
            self._timeline = name
            self.timeline_changed.emit(name or "")

    def set_time(self, t: int | None) -> None:
        if t != self._time:
            self._time = t
            self.time_changed.emit(t)

    def set_playback(self, *, playing: bool | None = None, speed: float | None = None,
                     loop: bool | None = None, follow: bool | None = None) -> None:
        changed = False
        for name, value in (("playing", playing), ("speed", speed), ("loop", loop), ("follow", follow)):
            if value is not None and getattr(self, name) != value:
                setattr(self, name, value)
                changed = True
        if changed:
            self.playback_changed.emit()
