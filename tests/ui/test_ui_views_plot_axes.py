"""The fast-grid axes paint the same grid as pyqtgraph's own axes (only faster)."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg

from viewer.ui.views.plot.plot_axes import FastAxisItem


def _render(qtbot, fast: bool, grid: bool = True) -> np.ndarray:  # noqa: ANN001
    axes = {"left": FastAxisItem(orientation="left"),
            "bottom": FastAxisItem(orientation="bottom")} if fast else {}
    widget = pg.PlotWidget(axisItems=axes)
    qtbot.addWidget(widget)
    widget.resize(600, 400)
    item = widget.getPlotItem()
    item.showGrid(x=grid, y=grid, alpha=0.25)
    item.setRange(xRange=(0, 1000), yRange=(-1, 1), padding=0)
    image = widget.grab().toImage()
    bits = np.array(image.constBits()).reshape(image.height(), image.bytesPerLine())
    return bits[:, :image.width() * 4].reshape(image.height(), image.width(), 4).astype(int)


def test_fast_axes_paint_the_same_grid(qtbot):
    plain, fast, no_grid = _render(qtbot, False), _render(qtbot, True), _render(qtbot, True, False)
    grid_pixels = (np.abs(plain - no_grid).max(axis=2) > 0).sum()
    assert grid_pixels > 20_000  # both grids are there: many lines across the plot
    differ = np.abs(plain - fast).max(axis=2)
    # Same pixels up to the end pixel of a few short tick marks.
    assert (differ > 0).sum() < 0.01 * grid_pixels


def test_vertical_grid_is_drawn_on_every_repaint(qtbot):
    """The vertical grid lines are drawn beside the axis' cached QPicture (replaying them
    from it was slow): a repaint that replays the picture draws them again."""
    widget = pg.PlotWidget(axisItems={"left": FastAxisItem(orientation="left"),
                                      "bottom": FastAxisItem(orientation="bottom")})
    qtbot.addWidget(widget)
    widget.resize(600, 400)
    item = widget.getPlotItem()
    item.showGrid(x=True, y=False, alpha=0.25)
    item.setRange(xRange=(0, 1000), yRange=(-1, 1), padding=0)
    first = widget.grab().toImage()
    axis = item.getAxis("bottom")
    picture = axis.picture
    assert picture is not None and axis._grid_columns  # the columns live outside it
    again = widget.grab().toImage()
    assert axis.picture is picture  # replayed, not rebuilt
    assert again == first
    item.showGrid(x=False, y=False)
    bare = widget.grab().toImage()
    assert bare != first  # the grid was there
