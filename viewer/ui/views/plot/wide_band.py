"""The instances of a wide Scalars entity past its first curves, drawn as one band.

A row of thousands of scalars would otherwise be thousands of curves and legend entries,
each read by its own walk over every chunk (seconds to minutes for a few hundred rows).
The plot draws `MAX_CURVES` instances as curves (the first ones, or a window the user moves
from the plot's context menu) and the rest as the per-row min and max of those instances
(`EntityDb.scalar_band`), filled between: one read, three graphics items and one legend
entry, whatever the width.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg

from viewer.store.chunk import TimelineKind
from viewer.ui.views.arrow_values import time_to_x

#: Instances drawn as curves; the ones past them form the band.
MAX_CURVES = 16
#: Bands longer than this are reduced to this many runs of rows (min of mins, max of maxes).
BAND_POINTS = 4000


def band_name(entity: object, window: tuple[int, int], width: int) -> str:
    """The legend entry: which instances the band holds (all but the curves' window)."""
    start, stop = window
    parts = [f"{a}..{b - 1}" if b - a > 1 else f"{a}"
             for a, b in ((0, start), (stop, width)) if b > a]
    return f"{entity}[{', '.join(parts)}] (min..max)"


def reduce_band(x: np.ndarray, lo: np.ndarray, hi: np.ndarray,
                points: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """At most ``points`` samples: each run of rows as its first x, least min, greatest max."""
    size = -(-len(x) // points)
    if size <= 1:
        return x, lo, hi
    starts = np.arange(0, len(x), size)
    return x[starts], np.fmin.reduceat(lo, starts), np.fmax.reduceat(hi, starts)


class WideBand:
    """Min and max lines of one entity's band with the area between them filled."""

    def __init__(self, plot_item: pg.PlotItem, name: str, rgb: tuple[int, int, int]) -> None:
        self.plot_item = plot_item
        self.serial: int | None = None
        self.base = name  # legend name without the run's label
        self.x = np.empty(0)
        self.lo = np.empty(0)
        self.hi = np.empty(0)
        pen = pg.mkPen((*rgb, 160), width=1)
        self.hi_curve = pg.PlotDataItem(name=name, pen=pen)
        self.lo_curve = pg.PlotDataItem(pen=pen)
        self.fill = pg.FillBetweenItem(self.hi_curve, self.lo_curve, brush=pg.mkBrush((*rgb, 60)))
        for item in (self.fill, self.lo_curve, self.hi_curve):
            plot_item.addItem(item)
        # The fill follows the lines' drawn data: no clipping to the view (the fill made
        # while the range was still empty would stay clipped) and no downsampling (the
        # band is reduced to at most BAND_POINTS runs already).
        for curve in (self.lo_curve, self.hi_curve):
            curve.setClipToView(False)
            curve.setDownsampling(auto=False)

    @property
    def name(self) -> str:
        return str(self.hi_curve.opts.get("name") or "")

    def set_name(self, name: str) -> None:
        self.hi_curve.opts["name"] = name
        legend = self.plot_item.legend
        if legend is not None:
            for sample, label in legend.items:
                if sample.item is self.hi_curve:
                    label.setText(name)

    def update(self, serial: int, times: np.ndarray, lo: np.ndarray, hi: np.ndarray,
               kind: TimelineKind | None, offset: int) -> bool:
        """Take the store's band; False if it is the one held already."""
        if serial == self.serial and len(times) == len(self.x):
            return False
        self.serial = serial
        self.x = time_to_x(times - offset if offset else times, kind)
        self.lo, self.hi = lo, hi
        return True

    @property
    def y_range(self) -> tuple[float, float]:
        if not len(self.x):
            return np.nan, np.nan
        return float(np.fmin.reduce(self.lo)), float(np.fmax.reduce(self.hi))

    def show(self) -> None:
        x, lo, hi = reduce_band(self.x, self.lo, self.hi, BAND_POINTS)
        self.hi_curve.setData(x, hi, connect="finite")
        self.lo_curve.setData(x, lo, connect="finite")

    def clear(self) -> None:
        self.serial = None
        self.x, self.lo, self.hi = np.empty(0), np.empty(0), np.empty(0)
        self.show()

    def remove(self) -> None:
        for item in (self.fill, self.lo_curve, self.hi_curve):
            self.plot_item.removeItem(item)
