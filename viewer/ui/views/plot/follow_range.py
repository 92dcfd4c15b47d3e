"""'Follow the data' for a pyqtgraph ViewBox, set by the view instead of pyqtgraph's auto-range.

pyqtgraph computes its auto-range lazily, at the start of the next paint, from the items'
display data; for clipped, downsampled curves that data changes again while painting, and Qt
then paints the whole plot a second time (axes and curves: ~5-10 ms more per plot update
while data streams in; docs/benchmarks/gui.md). Here the view sets the range once, from
bounds it already knows, before anything paints. As with pyqtgraph's auto-range, a user pan
or zoom stops following on that axis, and the plot's auto button ("A") or an axis menu's
"Auto" turn it back on.

While data keeps arriving past the shown x range (a file loading, a live stream: the view's
queued redraws), the x range grows in steps instead of with every update: to a rounded span with headroom
(`stepped_span`), so the view's transform, the bottom axis' layout and the curves' kept
images stay valid for several updates (a new x range made every hand-over of a 2 M-row load
the longest frame of it: four envelope images made anew and the bottom axis laid out again,
docs/benchmarks/gui.md, round 8). When no x growth has arrived for ``REST_S``, or a redraw
draws everything at once (a screenshot's flush, a direct redraw), the range is the data's
exact bounds (with pyqtgraph's usual padding), as without steps.
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
        # following was switched back on, or the stepped x range came to rest: the view
        # applies its bounds again and rebuilds envelopes made for the old range
        self._on_follow = on_follow
        self._shown_x: tuple[float, float] | None = None  # x bounds last shown (unpadded)
        self._step: tuple[float, float] | None = None  # the stepped x bounds, while growing
        self._rest = QTimer(self)
        self._rest.setSingleShot(True)
        self._rest.timeout.connect(self._on_rest)
        vb.disableAutoRange()
        vb.sigRangeChangedManually.connect(self._on_manual)
        vb.sigStateChanged.connect(self._on_state)

    def reset(self) -> None:
        self.follow = [True, True]
        self._shown_x = self._step = None
        self._rest.stop()

    @property
    def stepping(self) -> bool:
        """Whether the x range is a stepped one (data still growing into it)."""
        return self._step is not None

    def x_target(self, x0: float, x1: float, step: bool) -> tuple[float, float]:
        """The padded x range that ``apply`` would show for data bounds ``x0..x1`` now (what
        an envelope is merged to pixel columns for before the range is set)."""
        bounds = _widen((x0, x1))
        if bounds is None:
            return x0, x1
        return self._padded(0, self._x_bounds(bounds, step)[0])

    def _x_bounds(self, bounds: tuple[float, float],
                  step: bool) -> tuple[tuple[float, float], bool]:
        """(the x bounds to show for data ``bounds``, whether they are stepped)."""
        if not (GROW_IN_STEPS and step):
            return bounds, False
        step, shown = self._step, self._shown_x
        if step is not None and bounds[0] == step[0] and step[0] <= bounds[1] <= step[1]:
            return step, True  # still inside the step
        base = step if step is not None else shown
        if base is not None and bounds[0] == base[0] and bounds[1] > base[1]:
            return (bounds[0], bounds[0] + stepped_span(bounds[1] - bounds[0])), True
        return bounds, False  # the first data, data that shrank or moved: exact

    def apply(self, x: tuple[float, float] | None, y: tuple[float, float] | None,
              step: bool = False) -> bool:
        """Show these data bounds on the followed axes (pyqtgraph's default padding); with
        ``step`` (data arriving) x in steps while it keeps growing (`_x_bounds`), exact
        once it rests.
        An axis whose range would move by less than ``SETTLE`` of its span keeps it: a new
        range redraws that axis' ticks and labels (2-5 ms a repaint), and a stream whose
        values stay in the same band would otherwise redo them on every update.
        Returns whether anything was set."""
        wanted = [_widen(x) if self.follow[0] else None, _widen(y) if self.follow[1] else None]
        if wanted[0] is not None:
            wanted[0], stepped = self._x_bounds(wanted[0], step)
            self._shown_x = wanted[0]
            self._step = wanted[0] if stepped else None
            if stepped:
                self._rest.start(int(REST_S * 1000))  # (again) after each growth
            else:
                self._rest.stop()
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
        if not self.follow[0]:
            self._shown_x = self._step = None
            self._rest.stop()

    def settle(self) -> bool:
        """End a stepped x range now (the view applies the exact bounds next); returns
        whether it was stepped."""
        if self._step is None:
            return False
        self._step = self._shown_x = None
        self._rest.stop()
        return True

    def _on_rest(self) -> None:
        """No x growth for ``REST_S``: the view shows the data's exact bounds again."""
        if self._step is None or not self.follow[0]:
            return
        self._step = None
        self._shown_x = None  # the next apply is exact (data up to the step's end: not growth)
        self._on_follow()

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
#: While data keeps growing past the shown x range, the range grows in steps (off only to
#: measure it: ``scripts/bench_gui.py --ab range-steps``).
GROW_IN_STEPS = True
#: A step's span: the data's span plus at least this fraction, rounded up (`stepped_span`).
HEADROOM = 0.25
#: Seconds without x growth after which a stepped range settles on the data's bounds.
REST_S = 1.0
#: Rounded spans a step takes, times a power of ten.
_NICE = (1.0, 2.0, 5.0, 10.0)


def stepped_span(span: float) -> float:
    """The span a growing x range steps to: ``span`` plus ``HEADROOM``, rounded up to 1, 2 or
    5 times a power of ten (so a range that keeps growing changes a few times per decade)."""
    want = span * (1.0 + HEADROOM)
    if not (math.isfinite(want) and want > 0):
        return span
    decade = 10.0 ** math.floor(math.log10(want))
    return next(decade * m for m in _NICE if decade * m >= want * (1 - 1e-12))


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
