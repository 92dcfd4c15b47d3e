"""Timeline selector, time slider and playback controls for the active store.

The panel edits the active store's `TimeControl` (one per store) and only reads the store
for timelines and time ranges. It is told about new data once per frame (`on_data`).
"""

from __future__ import annotations

import time

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QSlider,
    QToolButton,
    QWidget,
)

from viewer.scene.layout import AUTOMATIC_TIMELINES, default_timeline
from viewer.store.chunk import TimelineKind
from viewer.store.entity_db import EntityDb
from viewer.ui.icons import playback_icon
from viewer.ui.time_control import TimeControl
from viewer.ui.time_format import format_span, format_time

SLIDER_STEPS = 10_000  # slider resolution for wide (ns) ranges
SPEEDS = (0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 10.0)


class TimePanel(QWidget):
    """Controls bound to one (EntityDb, TimeControl) pair at a time."""

    user_moved_cursor = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("timePanel")
        self.db: EntityDb | None = None
        self.tc: TimeControl | None = None
        self._range: tuple[int, int] | None = None
        self._updating = False

        self.timeline_combo = QComboBox()
        self.timeline_combo.setToolTip("Timeline")
        self.timeline_combo.setMinimumWidth(140)
        self.timeline_combo.currentIndexChanged.connect(self._on_timeline_picked)
        self.step_back = self._button(playback_icon("step_back"),
                                      "Step back (Left arrow)", lambda: self.step(-1))
        self.play_button = self._button(playback_icon("play"),
                                        "Play / pause (Space)", self.toggle_play)
        self.step_fwd = self._button(playback_icon("step_forward"),
                                     "Step forward (Right arrow)", lambda: self.step(1))
        self.loop_button = QToolButton(text="Loop", checkable=True, toolTip="Loop playback")
        self.loop_button.toggled.connect(lambda on: self.tc and self.tc.set_playback(loop=on))
        self.follow_button = QToolButton(text="Follow", checkable=True,
                                         toolTip="Keep the cursor on the newest data")
        self.follow_button.toggled.connect(self._on_follow_toggled)
        self.speed_combo = QComboBox()
        self.speed_combo.setToolTip("Playback speed")
        for s in SPEEDS:
            self.speed_combo.addItem(f"{s:g}×", s)
        self.speed_combo.setCurrentIndex(SPEEDS.index(1.0))
        self.speed_combo.currentIndexChanged.connect(
            lambda i: self.tc and self.tc.set_playback(speed=float(self.speed_combo.itemData(i))))
        self.time_label = QLabel("–")
        self.time_label.setObjectName("timeLabel")
        self.time_label.setMinimumWidth(190)
        self.time_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.slider.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # keys belong to the window shortcuts
        self.slider.valueChanged.connect(self._on_slider)
        self.range_label = QLabel("")
        self.range_label.setObjectName("rangeLabel")

        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 4)
        for w in (self.timeline_combo, self.step_back, self.play_button, self.step_fwd,
                  self.loop_button, self.follow_button, self.speed_combo, self.time_label):
            layout.addWidget(w)
        layout.addWidget(self.slider, 1)
        layout.addWidget(self.range_label)

        self._timer = QTimer(self, interval=16)
        self._timer.timeout.connect(self._tick)
        self._last_tick = time.perf_counter()
        self._set_enabled(False)

    def _button(self, icon, tip: str, slot) -> QToolButton:  # noqa: ANN001
        b = QToolButton(icon=icon, toolTip=tip)
        b.clicked.connect(slot)
        return b

    # -- binding ------------------------------------------------------------------------------
    def bind(self, db: EntityDb | None, tc: TimeControl | None) -> None:
        """Show ``db``'s timelines and drive ``tc`` (None: nothing to show)."""
        if self.tc is not None:
            self.tc.time_changed.disconnect(self._on_time_changed)
            self.tc.playback_changed.disconnect(self._on_playback_changed)
        self.db, self.tc = db, tc
        if tc is not None:
            tc.time_changed.connect(self._on_time_changed)
            tc.playback_changed.connect(self._on_playback_changed)
        self._refresh_timelines()
        self._on_playback_changed()
        self._refresh_range()

    def on_data(self) -> None:
        """New data in the bound store: new timelines, a longer range."""
        if self.db is None:
            return
        if self.timeline_combo.count() != len(self.db.timelines()):
            self._refresh_timelines()
        self._refresh_range()

    @property
    def kind(self) -> TimelineKind | None:
        if self.db is None or self.tc is None or self.tc.timeline is None:
            return None
        return self.db.timelines().get(self.tc.timeline)

    @property
    def time_range(self) -> tuple[int, int] | None:
        if self.db is None or self.tc is None or self.tc.timeline is None:
            return None
        return self.db.time_range(self.tc.timeline)

    # -- actions ------------------------------------------------------------------------------
    def toggle_play(self) -> None:
        if self.tc is None:
            return
        rng = self.time_range
        if not self.tc.playing and rng is not None and self.tc.time is not None \
                and self.tc.time >= rng[1] and not self.tc.follow:
            self.tc.set_time(rng[0])  # play again from the start
        self.tc.set_playback(playing=not self.tc.playing, follow=False)

    def step(self, direction: int) -> None:
        if self.tc is None:
            return
        self.tc.set_playback(playing=False, follow=False)
        self.tc.step(direction, self.time_range, self.kind is TimelineKind.SEQUENCE)
        self.user_moved_cursor.emit()

    def seek(self, t: int) -> None:
        """Move the cursor as the user would (turns follow off)."""
        if self.tc is None:
            return
        self.tc.set_playback(follow=False)
        self.tc.set_time(t)
        self.user_moved_cursor.emit()

    # -- internals ----------------------------------------------------------------------------
    def _set_enabled(self, on: bool) -> None:
        for w in (self.timeline_combo, self.step_back, self.play_button, self.step_fwd,
                  self.loop_button, self.follow_button, self.speed_combo, self.slider):
            w.setEnabled(on)

    def _refresh_timelines(self) -> None:
        self._updating = True
        try:
            self.timeline_combo.clear()
            timelines = self.db.timelines() if self.db is not None else {}
            names = sorted(timelines, key=lambda n: (n in AUTOMATIC_TIMELINES, n))
            for name in names:
                self.timeline_combo.addItem(f"{name}  ({timelines[name].value})", name)
            if self.tc is not None and self.tc.timeline is None:
                self.tc.set_timeline(default_timeline(timelines))
            current = self.tc.timeline if self.tc is not None else None
            if current in names:
                self.timeline_combo.setCurrentIndex(names.index(current))
        finally:
            self._updating = False
        self._set_enabled(bool(self.timeline_combo.count()))

    def _on_timeline_picked(self, i: int) -> None:
        if self._updating or self.tc is None or i < 0:
            return
        name = self.timeline_combo.itemData(i)
        if name != self.tc.timeline:
            self.tc.set_timeline(name)
            rng = self.time_range
            if rng is not None:
                self.tc.set_time(rng[1])  # the newest data of that timeline
            self._refresh_range()

    def _refresh_range(self) -> None:
        rng = self.time_range
        self._range = rng
        self._updating = True
        try:
            if rng is None:
                self.slider.setRange(0, 0)
                self.range_label.setText("")
            else:
                lo, hi = rng
                self.slider.setRange(0, min(hi - lo, SLIDER_STEPS))
                self.range_label.setText(format_span(self.kind, lo, hi))
                self.range_label.setToolTip(
                    f"{format_time(self.kind, lo)} … {format_time(self.kind, hi)}")
            self._sync_slider()
        finally:
            self._updating = False
        self._update_label()

    def _time_to_slider(self, t: int) -> int:
        assert self._range is not None
        lo, hi = self._range
        steps = self.slider.maximum()
        if hi <= lo or steps == 0:
            return 0
        return round((min(max(t, lo), hi) - lo) * steps / (hi - lo))

    def _slider_to_time(self, pos: int) -> int:
        assert self._range is not None
        lo, hi = self._range
        steps = self.slider.maximum()
        if steps == 0:
            return lo
        return lo + round(pos * (hi - lo) / steps)

    def _sync_slider(self) -> None:
        if self._range is None or self.tc is None or self.tc.time is None:
            return
        was = self._updating
        self._updating = True
        try:
            self.slider.setValue(self._time_to_slider(self.tc.time))
        finally:
            self._updating = was

    def _on_slider(self, pos: int) -> None:
        if self._updating or self._range is None:
            return
        self.seek(self._slider_to_time(pos))

    def _on_time_changed(self, _t: object) -> None:
        self._sync_slider()
        self._update_label()

    def _update_label(self) -> None:
        t = self.tc.time if self.tc is not None else None
        self.time_label.setText(format_time(self.kind, t))

    def _on_follow_toggled(self, on: bool) -> None:
        if self._updating or self.tc is None:
            return
        self.tc.set_playback(follow=on, playing=False if on else None)
        rng = self.time_range
        if on and rng is not None:
            self.tc.set_time(rng[1])

    def _on_playback_changed(self) -> None:
        tc = self.tc
        self._updating = True
        try:
            playing = bool(tc and tc.playing)
            self.play_button.setIcon(playback_icon("pause" if playing else "play"))
            self.loop_button.setChecked(bool(tc and tc.loop))
            self.follow_button.setChecked(bool(tc and tc.follow))
            if tc is not None and tc.speed in SPEEDS:
                self.speed_combo.setCurrentIndex(SPEEDS.index(tc.speed))
        finally:
            self._updating = False
        if tc is not None and tc.playing:
            if not self._timer.isActive():
                self._last_tick = time.perf_counter()
                self._timer.start()
        else:
            self._timer.stop()

    def _tick(self) -> None:
        now = time.perf_counter()
        elapsed, self._last_tick = now - self._last_tick, now
        if self.tc is not None:
            self.tc.advance(elapsed, self.time_range, self.kind is TimelineKind.SEQUENCE)
