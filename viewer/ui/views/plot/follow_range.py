"""'Follow the data' for a pyqtgraph ViewBox, set by the view instead of pyqtgraph's auto-range.

pyqtgraph computes its auto-range lazily, at the start of the next paint, from the items'
display data; for clipped, downsampled curves that data changes again while painting, and Qt
then paints the whole plot a second time (axes and curves: ~5-10 ms more per plot update
while data streams in; docs/benchmarks/gui.md). Here the view sets the range once, from
bounds it already knows, before anything paints. As with pyqtgraph's auto-range, a user pan
or zoom stops following on that axis, and the plot's auto button ("A") or an axis menu's
"Auto" turn it back on.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import pyqtgraph as pg
from PySide6.QtCore import QObject, QTimer


class FollowRange(QObject):
    """Per axis (x, y): whether the view range follows the data."""

    def __init__(self, vb: pg.ViewBox, on_follow: Callable[[], None]) -> None:
        super().__init__(vb)
        self.vb = vb
        self.follow = [True, True]
        self._on_follow = on_follow  # following was switched back on: the view re-applies
        vb.disableAutoRange()
        vb.sigRangeChangedManually.connect(self._on_manual)
        vb.sigStateChanged.connect(self._on_state)

    def reset(self) -> None:
        self.follow = [True, True]

    def apply(self, x: tuple[float, float] | None, y: tuple[float, float] | None) -> bool:
        """Show these data bounds on the followed axes (pyqtgraph's default padding).
        An axis whose range would move by less than ``SETTLE`` of its span keeps it: a new
        range redraws that axis' ticks and labels (2-5 ms a repaint), and a stream whose
        values stay in the same band would otherwise redo them on every update.
        Returns whether anything was set."""
        wanted = [_widen(x) if self.follow[0] else None, _widen(y) if self.follow[1] else None]
        current = self.vb.viewRange()
        for axis, bounds in enumerate(wanted):
            if bounds is not None and _same(self._padded(axis, bounds), current[axis]):
                wanted[axis] = None
        if wanted[0] is None and wanted[1] is None:
            return False
        self.vb.setRange(xRange=wanted[0], yRange=wanted[1], padding=None,
                         disableAutoRange=False)
        return True

    def _padded(self, axis: int, bounds: tuple[float, float]) -> tuple[float, float]:
        pad = (bounds[1] - bounds[0]) * self.vb.suggestPadding(axis)
        return bounds[0] - pad, bounds[1] + pad

    def _on_manual(self, mask: Sequence[bool]) -> None:
        for axis, moved in enumerate(list(mask)[:2]):
            if moved:
                self.follow[axis] = False

    def _on_state(self, *_args: object) -> None:
        wanted = [a is not False for a in self.vb.autoRangeEnabled()]
        if any(wanted):
            # pyqtgraph's auto-range was switched on (auto button, axis menu): take it over.
            # Deferred: the auto button emits a "manual" range change right after.
            self.vb.disableAutoRange()
            QTimer.singleShot(0, self, lambda: self._take_over(wanted))

    def _take_over(self, wanted: list[bool]) -> None:
        for axis, on in enumerate(wanted):
            if on:
                self.follow[axis] = True
        self._on_follow()


#: Relative change of an axis range (per end, of its span) too small to apply.
SETTLE = 0.002


def _same(a: tuple[float, float], b: Sequence[float]) -> bool:
    span = max(abs(a[1] - a[0]), abs(b[1] - b[0]), 1e-300)
    return abs(a[0] - b[0]) <= SETTLE * span and abs(a[1] - b[1]) <= SETTLE * span


def _widen(bounds: tuple[float, float] | None) -> tuple[float, float] | None:
    """Bounds that can be shown: finite, and not empty (a single value gets a unit span)."""
    if bounds is None:
        return None
    lo, hi = float(bounds[0]), float(bounds[1])
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return None
    if hi < lo:
        lo, hi = hi, lo
    if hi == lo:
        return lo - 0.5, hi + 0.5
    return lo, hi
