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
        self._play_pos: float | None = None  # sub-step playback position
        #: True while ``time_changed`` is emitted for a move made by arriving data (follow /
        #: auto-placing), not by the user: views may then redraw at a throttled rate.
        self.moved_by_data = False

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

    def set_time(self, t: int | None, *, by_data: bool = False) -> None:
        """Move the cursor; ``by_data``: the move follows arriving data (see ``moved_by_data``)."""
        if t != self._time:
            self._time = t
            self.moved_by_data = by_data
            try:
                self.time_changed.emit(t)
            finally:
                self.moved_by_data = False

    def set_playback(self, *, playing: bool | None = None, speed: float | None = None,
                     loop: bool | None = None, follow: bool | None = None) -> None:
        changed = False
        for name, value in (("playing", playing), ("speed", speed), ("loop", loop), ("follow", follow)):
            if value is not None and getattr(self, name) != value:
                setattr(self, name, value)
                changed = True
        if changed:
            self.playback_changed.emit()

    # -- playback (pure logic, driven by the time panel's timer) ------------------------------

    #: Sequence timelines play at this many steps per second at speed 1.
    SEQUENCE_STEPS_PER_SECOND = 30.0

    def advance(self, elapsed_s: float, time_range: tuple[int, int] | None,
                is_sequence: bool) -> None:
        """Move the cursor forward by ``elapsed_s`` of playback (scaled by ``speed``).

        Sequence timelines advance ``SEQUENCE_STEPS_PER_SECOND`` steps per second, temporal
        ones in real time. At the end: wrap to the start with ``loop``, else stop playing.
        Fractions of a step are carried over so slow speeds still move.
        """
        if not self.playing or time_range is None:
            return
        lo, hi = time_range
        rate = self.SEQUENCE_STEPS_PER_SECOND if is_sequence else 1e9
        pos = self._play_pos
        if pos is None or self._time is None or int(pos) != self._time:
            pos = float(self._time if self._time is not None else lo)
        if pos >= hi and not self.loop and elapsed_s > 0:
            self.set_playback(playing=False)
            return
        pos += elapsed_s * self.speed * rate
        if pos > hi:
            if self.loop:
                span = hi - lo + (1 if is_sequence else 0)
                pos = lo + ((pos - lo) % span) if span > 0 else float(lo)
            else:
                pos = float(hi)
                self.set_playback(playing=False)
        self._play_pos = pos
        self.set_time(int(pos))

    def step(self, direction: int, time_range: tuple[int, int] | None, is_sequence: bool) -> None:
        """One step back (-1) or forward (+1): a sequence step, or 1/30 s on temporal ones."""
        if time_range is None:
            return
        lo, hi = time_range
        delta = 1 if is_sequence else int(1e9 / self.SEQUENCE_STEPS_PER_SECOND)
        t = (self._time if self._time is not None else lo) + direction * delta
        if t > hi:
            t = lo if self.loop else hi
        elif t < lo:
            t = hi if self.loop else lo
        self.set_time(t)
