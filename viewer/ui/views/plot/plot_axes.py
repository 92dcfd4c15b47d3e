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

import numpy as np
import pyqtgraph as pg
import shiboken6
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPen, QPicture, QTransform
from PySide6.QtWidgets import QVBoxLayout, QWidget

#: The vertical grid drawn beside the axis' QPicture, not replayed from it (off only to
#: measure it: ``scripts/bench_gui.py --ab grid-direct``).
GRID_OUTSIDE_PICTURE = True
#: The axes' tick layout by `fast_draw_specs` instead of pyqtgraph's ``generateDrawSpecs``
#: (off only to measure it: ``scripts/bench_gui.py --ab fast-specs``).
FAST_SPECS = True
#: The vertical grid kept as a device-sized image while the ticks and the plot's geometry
#: stay (off only to measure it: ``scripts/bench_gui.py --ab grid-cache``).
GRID_CACHE = True


class _RectTicksMixin:
    """Overrides ``AxisItem.drawPicture``: thin cosmetic axis-aligned ticks become fills.

    Also: the label space only grows. pyqtgraph shrinks an axis whose labels got shorter
    (e.g. "1.5" after "-0.25"), which re-lays out the plot and paints it a second time in
    the same frame; while data streams in, that happened on early plot updates.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._grid_columns: list[tuple[float, float, list[tuple[float, QColor]]]] = []
        self._label_html: str | None = None  # what the label item was last given
        self._grid_seen: tuple | None = None  # the geometry of the grid's last paint
        self._grid_image: tuple[tuple, QImage, int, int] | None = None
        self._grid_buffer: QImage | None = None  # reused: fresh memory costs page faults
        super().__init__(*args, **kwargs)
        self.setStyle(autoReduceTextSpace=False)  # type: ignore[attr-defined]
        self._text_sizes: dict[tuple[str, str], tuple[float, float]] = {}

    def _updateLabel(self) -> None:  # noqa: N802 (pyqtgraph API)
        """pyqtgraph's, but the label's HTML is set only when it changed: this runs at
        every range change (``updateAutoSIPrefix``), i.e. at every curve hand-over of a
        loading file, and ``setHtml`` lays the text out again (~0.15 ms an axis)."""
        html = self.labelString()  # type: ignore[attr-defined]
        if html != self._label_html:
            self.label.setHtml(html)  # type: ignore[attr-defined]
            self._label_html = html
        self._adjustSize()  # type: ignore[attr-defined]
        self.picture = None
        self.update()  # type: ignore[attr-defined]

    def generateDrawSpecs(self, p: QPainter) -> Any:  # noqa: N802 (pyqtgraph API)
        if not FAST_SPECS:
            return super().generateDrawSpecs(p)  # type: ignore[misc]
        if self.style["tickFont"] is not None:  # type: ignore[attr-defined]
            p.setFont(self.style["tickFont"])  # type: ignore[attr-defined]
        if isinstance(self, pg.DateAxisItem):
            self.fontMetrics = p.fontMetrics()  # what its tickSpacing reads
        found = fast_draw_specs(self, p, self._text_sizes,  # type: ignore[arg-type]
                                self._tickLevels)  # type: ignore[attr-defined]
        if found is None:
            return None
        specs, text_size = found
        self._updateMaxTextSize(text_size)  # type: ignore[attr-defined]
        return specs

    def paint(self, p: QPainter, opt: Any, widget: Any) -> None:
        """pyqtgraph's paint (the ticks recorded once into a QPicture, then replayed), but
        the vertical grid lines are drawn directly, before the replay: a QPicture replays
        the stretched image row through Qt's transformed-image path, 3.3 ms per repaint of
        a 1054x800 plot (0.2 ms drawn directly, measured offscreen), and the bottom axis
        repaints with every repaint of the plot."""
        if self.picture is None:  # type: ignore[attr-defined]
            self._grid_columns = []
            self._grid_seen = self._grid_image = None
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
            self._paint_grid(p)
        self.picture.play(p)

    def _paint_grid(self, p: QPainter) -> None:
        """The vertical grid: drawn directly the first time, kept as an image of its
        device rect from the second paint with the same ticks and geometry on (the time
        cursor moving repaints the plot every frame while a file loads; the stretched
        rows cost ~0.9 ms per repaint at 1054x800, the kept image ~0.2 ms)."""
        tr = p.transform()
        device = p.device()
        key = (tr.m11(), tr.m12(), tr.m21(), tr.m22(), tr.dx(), tr.dy(),
               device.width() if device is not None else 0,
               device.height() if device is not None else 0)
        cached = self._grid_image
        if GRID_CACHE and cached is not None and cached[0] == key:
            _, image, x0, y0 = cached
        elif (GRID_CACHE and self._grid_seen == key and device is not None
              and device.devicePixelRatioF() == 1.0 and not (tr.m12() or tr.m21())):
            self._grid_image = self._grid_as_image(key, tr, device.width(), device.height())
            _, image, x0, y0 = self._grid_image
        else:
            self._grid_seen = key
            p.save()
            p.setRenderHint(QPainter.RenderHint.Antialiasing, False)
            p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
            for top, bottom, xs in self._grid_columns:
                _fill_columns(p, top, bottom, xs)
            p.restore()
            return
        p.save()
        p.setTransform(QTransform())
        p.drawImage(x0, y0, image)
        p.restore()

    def _grid_as_image(self, key: tuple, tr: QTransform, width: int,
                       height: int) -> tuple[tuple, QImage, int, int]:
        """The grid drawn as ``_paint_grid`` draws it, into a transparent image of the
        device (the same pixels once drawn over it). The image is reused while the device
        keeps its size: a fresh 3 MB one costs ~1-2 ms of page faults at every range
        change."""
        image = self._grid_buffer
        if image is None or image.width() != width or image.height() != height:
            image = self._grid_buffer = QImage(
                width, height, QImage.Format.Format_ARGB32_Premultiplied)
        image.fill(0)
        painter = QPainter(image)
        try:
            painter.setTransform(tr)
            painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
            painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
            for top, bottom, xs in self._grid_columns:
                _fill_columns(painter, top, bottom, xs)
        finally:
            painter.end()
        return key, image, 0, 0

    def drawPicture(self, p: QPainter, axisSpec: Any, tickSpecs: list, textSpecs: list) -> None:  # noqa: N802, N803 (pyqtgraph API)
        p.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        lines = []
        columns: dict[tuple[float, float], list[tuple[float, QColor]]] = {}
        thin_pens: dict[int, bool] = {}  # a tick level's ticks share one pen
        for pen, p1, p2 in tickSpecs:
            thin = thin_pens.get(id(pen))
            if thin is None:
                thin = thin_pens[id(pen)] = (pen.style() == Qt.PenStyle.SolidLine
                                             and pen.isCosmetic() and pen.widthF() <= 1.0)
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


def fast_draw_specs(axis: pg.AxisItem, p: QPainter,
                    text_sizes: dict[tuple[str, str], tuple[float, float]],
                    fixed_levels: Any = None) -> tuple[Any, float] | None:
    """pyqtgraph's ``AxisItem.generateDrawSpecs`` (0.13.7) with the same result, ~2x faster:
    2-4 ms of every paint of an axis whose range changed, e.g. the bottom axis at every
    curve hand-over while a file loads, and both axes in a plot's first paint
    (docs/benchmarks/gui.md, round 8). The time went to per-tick ``Point`` objects (plain
    ``QPointF`` here), one text measurement per tick label per paint (remembered per font
    and string in ``text_sizes``: the same labels come back while the tick spacing stays),
    and the axis' bounding rect recomputed per label. ``fixed_levels``: the axis' own tick
    levels when set (``setTicks``). Returns the specs and the widest label size, which the
    caller reports to the axis (pyqtgraph's ``_updateMaxTextSize``); None when the axis has
    no length on the device."""
    ax: Any = axis
    style = ax.style
    bounds = ax.mapRectFromParent(ax.geometry())
    linked = ax.linkedView()
    if linked is None or ax.grid is False:
        tick_bounds = bounds
    else:
        tick_bounds = linked.mapRectToItem(ax, linked.boundingRect())
    orientation = ax.orientation
    if orientation == "left":
        span = (bounds.topRight() + QPointF(-1.0, -1.0), bounds.bottomRight() + QPointF(-1.0, 1.0))
        tick_start, tick_stop, tick_dir, axis_i = tick_bounds.right(), bounds.right(), -1, 0
    elif orientation == "right":
        span = (bounds.topLeft() + QPointF(1.0, -1.0), bounds.bottomLeft() + QPointF(1.0, 1.0))
        tick_start, tick_stop, tick_dir, axis_i = tick_bounds.left(), bounds.left(), 1, 0
    elif orientation == "top":
        span = (bounds.bottomLeft() + QPointF(-1.0, -1.0), bounds.bottomRight() + QPointF(1.0, -1.0))
        tick_start, tick_stop, tick_dir, axis_i = tick_bounds.bottom(), bounds.bottom(), -1, 1
    elif orientation == "bottom":
        span = (bounds.topLeft() + QPointF(-1.0, 1.0), bounds.topRight() + QPointF(1.0, 1.0))
        tick_start, tick_stop, tick_dir, axis_i = tick_bounds.top(), bounds.top(), 1, 1
    else:
        raise ValueError("orientation must be in {'left', 'right', 'top', 'bottom'}")
    p0, p1 = ax.mapToDevice(span[0]), ax.mapToDevice(span[1])
    if p0 is None or p1 is None:
        return None
    length = math.hypot(p1.x() - p0.x(), p1.y() - p0.y())
    if length == 0:
        return None

    if fixed_levels is None:
        tick_levels = ax.tickValues(ax.range[0], ax.range[1], length)
        tick_strings = None
    else:
        tick_levels, tick_strings = [], []
        for level in fixed_levels:
            tick_levels.append((None, [v for v, _ in level]))
            tick_strings.append([s for _, s in level])

    dif = ax.range[1] - ax.range[0]
    if dif == 0:
        scale, offset = 1, 0
    elif axis_i == 0:
        scale = -bounds.height() / dif
        offset = ax.range[0] * scale - bounds.height()
    else:
        scale = bounds.width() / dif
        offset = ax.range[0] * scale
    x_range = [x * scale - offset for x in ax.range]
    x_min, x_max = min(x_range), max(x_range)

    positions: list[list[float | None]] = []
    tick_specs = []
    for i, (_, ticks) in enumerate(tick_levels):
        level_pos: list[float | None] = []
        positions.append(level_pos)
        tick_length = style["tickLength"] / ((i * 0.5) + 1.0)
        alpha = style["tickAlpha"]
        if alpha is None:
            alpha = 255 / (i + 1)
            if ax.grid is not False:
                alpha *= ax.grid / 255. * pg.functions.clip_scalar(
                    (0.05 * length / (len(ticks) + 1)), 0., 1.)
        elif isinstance(alpha, float):
            alpha = min(255, max(0, int(round(alpha * 255))))
        elif isinstance(alpha, int):
            if alpha > 255 or alpha < 0:
                raise ValueError("lineAlpha should be [0..255]")
        else:
            raise TypeError("Line Alpha should be of type None, float or int")
        pen = ax.tickPen()
        if pen.brush().style() == Qt.BrushStyle.SolidPattern:
            pen = QPen(pen)
            color = QColor(pen.color())
            color.setAlpha(int(alpha))
            pen.setColor(color)
        end = tick_stop if ax.grid is not False else tick_stop + tick_length * tick_dir
        for v in ticks:
            x = (v * scale) - offset
            if x < x_min or x > x_max:
                level_pos.append(None)
                continue
            level_pos.append(x)
            if axis_i == 0:
                tick_specs.append((pen, QPointF(tick_start, x), QPointF(end, x)))
            else:
                tick_specs.append((pen, QPointF(x, tick_start), QPointF(x, end)))

    stop_at = style["stopAxisAtTick"]
    if stop_at[0] is True:
        lowest = min(map(min, positions))
        if axis_i == 0:
            span[0].setY(max(span[0].y(), lowest))
        else:
            span[0].setX(max(span[0].x(), lowest))
    if stop_at[1] is True:
        highest = max(map(max, positions))
        if axis_i == 0:
            span[1].setY(min(span[1].y(), highest))
        else:
            span[1].setX(min(span[1].x(), highest))
    axis_spec = (ax.pen(), span[0], span[1])

    text_offset = style["tickTextOffset"][axis_i]
    last_size2 = 0
    text_sizes_seen: list[tuple[float, float]] = []
    text_specs: list = []
    if not style["showValues"]:
        return axis_spec, tick_specs, text_specs
    font_key = p.font().key()
    item_rect = ax.boundingRect()
    label_offset = max(0, style["tickLength"]) + text_offset
    for i in range(min(len(tick_levels), style["maxTextLevel"] + 1)):
        if tick_strings is None:
            spacing, values = tick_levels[i]
            strings = ax.tickStrings(values, ax.autoSIPrefixScale * ax.scale, spacing)
        else:
            strings = tick_strings[i]
        if len(strings) == 0:
            continue
        sizes: list[tuple[float, float] | None] = []
        for j, s in enumerate(strings):
            if positions[i][j] is None:
                sizes.append(None)
                continue
            size = text_sizes.get((font_key, s))
            if size is None:
                br = p.boundingRect(QRectF(0, 0, 100, 100), Qt.AlignmentFlag.AlignCenter, s)
                size = (br.width(), br.height() * 0.8)
                if len(text_sizes) > 4096:
                    text_sizes.clear()
                text_sizes[(font_key, s)] = size
            sizes.append(size)
            text_sizes_seen.append(size)
        if text_sizes_seen:
            if axis_i == 0:
                text_size = float(np.sum([h for _, h in text_sizes_seen]))
                text_size2 = float(np.max([w for w, _ in text_sizes_seen]))
            else:
                text_size = float(np.sum([w for w, _ in text_sizes_seen]))
                text_size2 = float(np.max([h for _, h in text_sizes_seen]))
        else:
            text_size = text_size2 = 0
        if i > 0:  # the top level always gets its text; the others while not crowded
            fill = text_size / length
            if any(len(text_specs) >= n and fill >= limit
                   for n, limit in style["textFillLimits"]):
                break
        last_size2 = text_size2
        for j, s in enumerate(strings):
            size = sizes[j]
            if size is None:
                continue
            x = positions[i][j]
            width, height = size
            if orientation == "left":
                flags = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
                rect = QRectF(tick_stop - label_offset - width, x - height / 2, width, height)
            elif orientation == "right":
                flags = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
                rect = QRectF(tick_stop + label_offset, x - height / 2, width, height)
            elif orientation == "top":
                flags = Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignBottom
                rect = QRectF(x - width / 2., tick_stop - label_offset - height, width, height)
            else:
                flags = Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop
                rect = QRectF(x - width / 2., tick_stop + label_offset, width, height)
            if item_rect & rect != rect:
                continue
            text_specs.append((rect, flags | Qt.TextFlag.TextDontClip, s))
    return (axis_spec, tick_specs, text_specs), last_size2


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
