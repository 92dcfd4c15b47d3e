"""The 'Average' parameter list of a plot's Plot Options menu, refreshed when the menu opens.

pyqtgraph's ``PlotItem.addItem`` and ``removeItem`` call ``updateParamList``, which walks
every curve of the plot to refresh the list of curve parameters the menu's 'Average' group
offers: a plot that gains n series one by one pays n²/2 steps (one plot of 10 000 scalar
entities: 50 million, minutes). Nothing but that menu reads the list, so a plot set up by
`defer_param_list` refreshes it only when the menu is about to show. Numbers in
docs/benchmarks/growth.md.
"""

from __future__ import annotations

import weakref

import pyqtgraph as pg


def defer_param_list(item: pg.PlotItem) -> None:
    """Skip ``item``'s per-series walk; refresh the list when its Plot Options menu opens."""
    walk = type(item).updateParamList  # pyqtgraph's walk
    plot = weakref.ref(item)  # the menu's connection must not keep the plot alive

    def refresh() -> None:
        if (alive := plot()) is not None:
            walk(alive)

    # addItem / removeItem call it by name on the plot (a plain function: PySide would
    # resolve a connected bound method by name too, and reach the skip)
    item.updateParamList = _skip  # type: ignore[method-assign]
    item.ctrlMenu.aboutToShow.connect(refresh)


def _skip() -> None:
    """The walk, skipped: nothing shows the list until the menu opens."""
