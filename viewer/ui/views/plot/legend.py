"""A plot legend that sizes itself once per batch of entries, not once per entry.

pyqtgraph's ``LegendItem.addItem`` and ``removeItem`` each call ``updateSize``, which walks
every entry of the legend: a plot that gains n series one by one pays for n²/2 entry
measurements (a plot of 2 000 scalar entities: 2 million). This legend marks its size stale
instead and sizes itself once, on the next turn of the event loop (before the next paint),
however many entries came or went in between. Results in docs/benchmarks/growth.md.
"""

from __future__ import annotations

from typing import Any

import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer


class BatchedLegend(pg.LegendItem):
    """``pg.LegendItem`` whose size follows its entries once per event-loop turn."""

    _size_stale = False
    #: How many times the legend measured its entries (tests check the batching).
    size_passes = 0

    def updateSize(self) -> None:  # noqa: N802 - pyqtgraph's name
        if self.size is not None or self._size_stale:
            return  # a fixed size, or a pass already scheduled
        self._size_stale = True
        # the legend is the timer's context: a legend deleted before the pass cancels it
        QTimer.singleShot(0, self, self.apply_size)

    def apply_size(self) -> None:
        """Take the size the entries ask for now (the deferred pass). pyqtgraph sums the
        entries' current sizes, which after removals still hold the old, taller layout;
        the layout's preferred size (one pass in Qt) is what its per-entry updates
        converge to, equal to it after additions."""
        self._size_stale = False
        self.size_passes += 1
        hint = self.layout.effectiveSizeHint(Qt.SizeHint.PreferredSize)
        self.setGeometry(0, 0, hint.width(), hint.height())


def add_batched_legend(plot_item: pg.PlotItem, **kwargs: Any) -> BatchedLegend:
    """``plot_item.addLegend(**kwargs)`` with a `BatchedLegend`: series added to the plot
    with a name get their entry in it, as with pyqtgraph's own legend."""
    if isinstance(plot_item.legend, BatchedLegend):
        return plot_item.legend
    legend = BatchedLegend(**kwargs)
    legend.setParentItem(plot_item.vb)
    plot_item.legend = legend
    return legend
