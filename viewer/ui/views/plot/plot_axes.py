"""pyqtgraph axes whose grid lines are cheap to paint.

Qt's raster engine draws a translucent 1-px line up to ~50x slower than it fills the same
pixels as a rectangle (measured offscreen: 43 horizontal grid lines of a 1 200 px wide plot,
10 ms as lines, 0.2 ms as ``fillRect``; 53 vertical ones 7 ms either way, 0.9 ms as one
image row stretched over their height). pyqtgraph draws the grid as translucent tick lines
of the axis, and the axis replays them on every repaint of the plot below it (e.g. each
time the cursor line moves), so the left axis' horizontal grid was most of a plot repaint
(docs/benchmarks/gui.md). These axes draw thin axis-aligned tick lines that way instead:
the same pixels, without the slow paths.
"""

from __future__ import annotations

import math
from typing import Any

import pyqtgraph as pg
import shiboken6
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPicture
from PySide6.QtWidgets import QVBoxLayout, QWidget

#: The vertical grid drawn beside the axis' QPicture, not replayed from it (off only to
#: measure it: ``scripts/bench_gui.py --ab grid-direct``).
GRID_OUTSIDE_PICTURE = True


class _RectTicksMixin:
    """Overrides ``AxisItem.drawPicture``: thin cosmetic axis-aligned ticks become fills.

    Also: the label space only grows. pyqtgraph shrinks an axis whose labels got shorter
    (e.g. "1.5" after "-0.25"), which re-lays out the plot and paints it a second time in
    the same frame; while data streams in, that happened on early plot updates.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._grid_columns: list[tuple[float, float, list[tuple[float, QColor]]]] = []
        super().__init__(*args, **kwargs)
        self.setStyle(autoReduceTextSpace=False)  # type: ignore[attr-defined]

    def paint(self, p: QPainter, opt: Any, widget: Any) -> None:
        """pyqtgraph's paint (the ticks recorded once into a QPicture, then replayed), but
        the vertical grid lines are drawn directly, before the replay: a QPicture replays
        the stretched image row through Qt's transformed-image path, 3.3 ms per repaint of
        a 1054x800 plot (0.2 ms drawn directly, measured offscreen), and the bottom axis
        repaints with every repaint of the plot."""
        if self.picture is None:  # type: ignore[attr-defined]
            self._grid_columns = []
            picture = QPicture()
            painter = QPainter(picture)
            try:
                if self.style["tickFont"]:  # type: ignore[attr-defined]
                    painter.setFont(self.style["tickFont"])  # type: ignore[attr-defined]
                specs = self.generateDrawSpecs(painter)  # type: ignore[attr-defined]
                if specs is not None:
                    self.drawPicture(painter, *specs)
            finally:
                painter.end()
            self.picture = picture
        if self._grid_columns:
            p.save()
            p.setRenderHint(QPainter.RenderHint.Antialiasing, False)
            p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
            for y0, y1, xs in self._grid_columns:
                _fill_columns(p, y0, y1, xs)
            p.restore()
        self.picture.play(p)

    def drawPicture(self, p: QPainter, axisSpec: Any, tickSpecs: list, textSpecs: list) -> None:  # noqa: N802, N803 (pyqtgraph API)
        p.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        lines = []
        columns: dict[tuple[float, float], list[tuple[float, QColor]]] = {}
        for pen, p1, p2 in tickSpecs:
            thin = (pen.style() == Qt.PenStyle.SolidLine and pen.isCosmetic()
                    and pen.widthF() <= 1.0)
            if thin and p1.y() == p2.y():
                x0, x1 = sorted((p1.x(), p2.x()))
                p.fillRect(QRectF(x0, p1.y() - 0.5, x1 - x0, 1.0), pen.color())
            elif thin and p1.x() == p2.x():
                span = tuple(sorted((p1.y(), p2.y())))
                columns.setdefault(span, []).append((p1.x(), pen.color()))
            else:
                lines.append((pen, p1, p2))
        # drawn by ``paint``, not recorded (see there)
        self._grid_columns = [(y0, y1, xs) for (y0, y1), xs in columns.items()]
        if not GRID_OUTSIDE_PICTURE:
            for y0, y1, xs in self._grid_columns:
                _fill_columns(p, y0, y1, xs)
            self._grid_columns = []
        super().drawPicture(p, axisSpec, lines, textSpecs)  # type: ignore[misc]


def _fill_columns(p: QPainter, y0: float, y1: float, xs: list[tuple[float, QColor]]) -> None:
    """Vertical 1-px lines from ``y0`` to ``y1``: one image row holding a pixel per line,
    stretched over the span (a per-row span each for lines or rects: ~8x slower)."""
    first = math.floor(min(x for x, _ in xs))
    width = math.floor(max(x for x, _ in xs)) - first + 1
    if width > 1 << 15:  # absurd ranges: plain rectangles
        for x, color in xs:
            p.fillRect(QRectF(x - 0.5, y0, 1.0, y1 - y0), color)
        return
    row = QImage(width, 1, QImage.Format.Format_ARGB32_Premultiplied)
    row.fill(0)
    for x, color in xs:
        row.setPixelColor(math.floor(x) - first, 0, color)
    p.drawImage(QRectF(first, y0, width, y1 - y0), row)


class FastAxisItem(_RectTicksMixin, pg.AxisItem):
    """`pg.AxisItem` with cheap grid lines."""


class FastDateAxisItem(_RectTicksMixin, pg.DateAxisItem):
    """`pg.DateAxisItem` with cheap grid lines."""


def _new_plot_widget() -> pg.PlotWidget:
    from viewer.ui.views.plot.lazy_menu import LazyMenuViewBox
    from viewer.ui.views.plot.param_list import defer_param_list

    plot = pg.PlotWidget(viewBox=LazyMenuViewBox(), axisItems={
        "left": FastAxisItem(orientation="left"), "bottom": FastAxisItem(orientation="bottom")})
    defer_param_list(plot.getPlotItem())  # adding n series: O(n), not O(n²)
    return plot


#: Plots built while the window was idle, for the next views (see ``build_spare_plots``).
_spares: list[pg.PlotWidget] = []


def build_spare_plots(owner: QWidget, n: int = 2) -> None:
    """Build up to ``n`` plots now (while idle), kept hidden under ``owner`` (which ends
    their life with its own if no view took them): a pyqtgraph plot costs 9-15 ms to build
    (its menus, axes, scene), which otherwise lands in a frame of a recording's load."""
    _spares[:] = [w for w in _spares if shiboken6.isValid(w)]
    while len(_spares) < n:
        plot = _new_plot_widget()
        plot.setParent(owner)
        plot.hide()
        _spares.append(plot)


def embed_plot(view: QWidget) -> tuple[pg.PlotWidget, pg.PlotItem]:
    """A PlotWidget with the fast axes and a lazily built context menu filling ``view``
    (the 2D views' common set-up); a spare one if there is one."""
    plot_widget = None
    while _spares and plot_widget is None:
        spare = _spares.pop()
        if shiboken6.isValid(spare):
            plot_widget = spare
    if plot_widget is None:
        plot_widget = _new_plot_widget()
    plot_widget.setParent(view)
    plot_widget.show()
    layout = QVBoxLayout(view)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.addWidget(plot_widget)
    return plot_widget, plot_widget.getPlotItem()
