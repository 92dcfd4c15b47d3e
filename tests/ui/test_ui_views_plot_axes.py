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


def _specs(axis, fast: bool, monkeypatch) -> tuple:  # noqa: ANN001
    from PySide6.QtGui import QPainter, QPicture

    from viewer.ui.views.plot import plot_axes

    monkeypatch.setattr(plot_axes, "FAST_SPECS", fast)
    picture = QPicture()
    painter = QPainter(picture)
    try:
        axis_spec, ticks, texts = axis.generateDrawSpecs(painter)
    finally:
        painter.end()
    return ((axis_spec[1].x(), axis_spec[1].y(), axis_spec[2].x(), axis_spec[2].y()),
            [(pen.color().rgba(), a.x(), a.y(), b.x(), b.y()) for pen, a, b in ticks],
            [(rect.getRect(), int(flags), text) for rect, flags, text in texts])


def test_fast_tick_layout_is_pyqtgraphs(qtbot, monkeypatch):
    """`fast_draw_specs` gives the ticks, grid lines and labels pyqtgraph's own layout
    gives, for a growing x range (a loading file) and ranges of any scale, on a numeric
    and a date axis, also when its remembered label sizes are reused."""
    from viewer.ui.views.plot.plot_axes import FastDateAxisItem

    widget = pg.PlotWidget(axisItems={"left": FastAxisItem(orientation="left"),
                                      "bottom": FastDateAxisItem(orientation="bottom")})
    qtbot.addWidget(widget)
    widget.resize(900, 500)
    widget.show()
    item = widget.getPlotItem()
    item.showGrid(x=True, y=True, alpha=0.3)
    rng = np.random.default_rng(7)
    ranges = [((0.0, 1e3 + 250.0 * i), (-1.0, 1.0 + 0.1 * i)) for i in range(12)]
    ranges += [((lo, lo + w), (-w, lo)) for lo, w in zip(
        rng.uniform(-1e6, 1e9, 12) * 10.0 ** rng.integers(-6, 2, 12),
        rng.uniform(1e-3, 1e6, 12) * 10.0 ** rng.integers(-4, 3, 12), strict=True)]
    labels = 0
    for x_range, y_range in ranges:
        item.setRange(xRange=x_range, yRange=y_range, padding=0)
        widget.grab()
        for name in ("left", "bottom"):
            axis = item.getAxis(name)
            pyqtgraphs = _specs(axis, False, monkeypatch)
            assert _specs(axis, True, monkeypatch) == pyqtgraphs
            labels += len(pyqtgraphs[2])
    assert labels > 200  # the layouts compared had labels


def test_kept_grid_image_paints_the_same_pixels(qtbot, monkeypatch):
    """From the second repaint with the same ticks and geometry the vertical grid is a
    kept image: the same pixels as drawing it, and made again when the range changes."""
    from viewer.ui.views.plot import plot_axes

    widget = pg.PlotWidget(axisItems={"left": FastAxisItem(orientation="left"),
                                      "bottom": FastAxisItem(orientation="bottom")})
    qtbot.addWidget(widget)
    widget.resize(700, 450)
    item = widget.getPlotItem()
    item.showGrid(x=True, y=True, alpha=0.3)
    axis = item.getAxis("bottom")
    for x_range in ((0, 1000), (3.3, 1270.7)):
        item.setRange(xRange=x_range, yRange=(-1, 1), padding=0)
        first = widget.grab().toImage()
        assert axis._grid_image is None  # first paint of this geometry: drawn
        kept = widget.grab().toImage()
        assert axis._grid_image is not None  # from the second on: the image
        monkeypatch.setattr(plot_axes, "GRID_CACHE", False)
        drawn = widget.grab().toImage()
        monkeypatch.setattr(plot_axes, "GRID_CACHE", True)
        assert kept == drawn == first
        assert widget.grab().toImage() == drawn


def test_axis_label_follows_its_text_not_every_range_change(qtbot, monkeypatch):
    """A range change no longer sets the label's HTML again (it re-lays out the text);
    a new label text, units or SI prefix still shows."""
    widget = pg.PlotWidget(axisItems={"bottom": FastAxisItem(orientation="bottom")})
    qtbot.addWidget(widget)
    widget.resize(600, 400)
    item = widget.getPlotItem()
    axis = item.getAxis("bottom")
    item.setLabel("bottom", "time", units="s")
    widget.grab()
    calls: list[str] = []
    original = axis.label.setHtml
    monkeypatch.setattr(axis.label, "setHtml", lambda html: (calls.append(html), original(html)))
    for hi in (10.0, 20.0, 30.0):
        item.setRange(xRange=(0, hi), padding=0)
    assert calls == []
    assert "(s)" in axis.label.toHtml()
    item.setRange(xRange=(0, 0.002), padding=0)  # milliseconds: the prefix changes
    assert len(calls) == 1 and "(ms)" in axis.label.toHtml()
    item.setLabel("bottom", "elapsed", units="s")
    assert "elapsed" in axis.label.toPlainText()
