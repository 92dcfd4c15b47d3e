"""Playback stepping of `TimeControl` and time formatting (no widgets)."""

from __future__ import annotations

from viewer.scene.layout import default_timeline
from viewer.store.chunk import TimelineKind
from viewer.ui.time_control import TimeControl
from viewer.ui.time_format import format_time


def test_ui_window_advance_sequence_and_stop_at_end(qtbot):
    tc = TimeControl()
    tc.set_time(0)
    tc.set_playback(playing=True)
    tc.advance(0.5, (0, 100), is_sequence=True)  # 30 steps/s
    assert tc.time == 15
    tc.set_playback(speed=0.1)
    for _ in range(10):
        tc.advance(0.1, (0, 100), is_sequence=True)  # 0.3 steps each: fractions carry over
    assert tc.time == 18
    tc.set_playback(speed=1.0)
    tc.advance(10.0, (0, 100), is_sequence=True)
    assert tc.time == 100 and not tc.playing


def test_ui_window_advance_loops_and_temporal_real_time(qtbot):
    tc = TimeControl()
    tc.set_time(90)
    tc.set_playback(playing=True, loop=True)
    tc.advance(0.5, (0, 99), is_sequence=True)  # 90 + 15 -> wraps past 99
    assert tc.time == 5 and tc.playing
    tc.set_time(1_000_000_000)
    tc.set_playback(loop=False)
    tc.advance(0.25, (0, 10_000_000_000), is_sequence=False)
    assert tc.time == 1_250_000_000


def test_ui_window_step_clamps_or_wraps(qtbot):
    tc = TimeControl()
    tc.set_time(10)
    tc.step(1, (0, 10), is_sequence=True)
    assert tc.time == 10
    tc.set_playback(loop=True)
    tc.step(1, (0, 10), is_sequence=True)
    assert tc.time == 0
    tc.step(-1, (0, 10), is_sequence=True)
    assert tc.time == 10


def test_ui_window_time_formats_and_default_timeline():
    assert format_time(TimelineKind.SEQUENCE, 42) == "#42"
    assert format_time(TimelineKind.TIMESTAMP, 1_700_000_000_123_000_000) == "2023-11-14 22:13:20.123Z"
    assert format_time(TimelineKind.DURATION, 62_500_000_000) == "+1m 02.500s"
    assert format_time(TimelineKind.DURATION, 1_500_000_000) == "+1.500s"
    assert format_time(None, None) == "–"
    kinds = {"log_time": TimelineKind.TIMESTAMP, "time": TimelineKind.TIMESTAMP,
             "frame": TimelineKind.SEQUENCE}
    assert default_timeline(kinds) == "frame"
    assert default_timeline({"log_time": TimelineKind.TIMESTAMP}) == "log_time"
    assert default_timeline({}) is None
