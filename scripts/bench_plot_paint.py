#!/usr/bin/env python3
"""Paint costs behind two drawing choices of the views, offscreen, medians of 20 paints.

- A dense min/max envelope (4 curves, 500 k samples each, ~2 runs per pixel of a 1054 px
  plot) drawn as a zigzag through the min/max points (``connect="all"``) vs as vertical
  min-max segments (``connect="pairs"``, `PeakEnvelope.segments`) vs those segments as
  per-column spans in one image per curve (`envelope_image`, what the plot paints when
  its data or range changed) vs those images kept (what a repaint draws when only the
  time cursor moved).
- The vertical grid drawn as stretched image rows vs kept as an image (`plot_axes`).
- The bottom axis' tick layout: pyqtgraph's vs `plot_axes.fast_draw_specs`.
- The overlay's sparkline (300 frame intervals) with the 1.3 px antialiased pen it had vs
  the 1 px pen it has.

    QT_QPA_PLATFORM=offscreen .venv/bin/python scripts/bench_plot_paint.py
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import pyqtgraph as pg  # noqa: E402
from PySide6.QtGui import QColor, QImage, QPainter, QPen  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from viewer.ui.views.plot.envelope_image import column_spans, spans_image  # noqa: E402
from viewer.ui.views.plot.plot_axes import _fill_columns  # noqa: E402
from viewer.ui.views.plot.plot_series import PeakEnvelope  # noqa: E402

WIDTH, HEIGHT, SAMPLES, CURVES = 1054, 700, 500_000, 4


def median_ms(target: QImage, draw: Callable[[QPainter], None], runs: int = 20) -> float:
    times = []
    for _ in range(runs):
        target.fill(0)
        p = QPainter(target)
        t0 = time.perf_counter()
        draw(p)
        times.append((time.perf_counter() - t0) * 1000)
        p.end()
    return statistics.median(times)


def envelope_paths() -> tuple[list, list, list]:
    x = np.arange(SAMPLES, dtype=np.float64)
    zigzags, pairs, segments = [], [], []
    for i in range(CURVES):
        y = np.sin(x * 0.001 * (i + 1)) + 0.1 * i
        env = PeakEnvelope()
        env.extend(x, y, 2 * WIDTH)
        sx, sy = env.segments(x, y)
        # device coordinates: the same transform for both forms
        dx, dy = sx / SAMPLES * WIDTH, HEIGHT / 2 - sy * HEIGHT / 3
        pairs.append(pg.arrayToQPath(dx, dy, connect="pairs"))
        segments.append((dx[0::2], dy[0::2], dy[1::2]))
        n = env.buckets  # the zigzag through the same runs' min and max points
        zx = np.repeat(env.x0, 2) / SAMPLES * WIDTH
        zy = np.empty(2 * n)
        zy[0::2], zy[1::2] = env.lo, env.hi
        zigzags.append(pg.arrayToQPath(zx, HEIGHT / 2 - zy * HEIGHT / 3, connect="all"))
    return zigzags, pairs, segments


def tick_layout_rows() -> list[tuple[str, float]]:
    """The bottom axis' tick layout of a 1054x700 plot whose x range grows (as at each
    curve hand-over of a loading file): pyqtgraph's ``generateDrawSpecs`` vs
    `fast_draw_specs` (the same specs)."""
    from PySide6.QtGui import QPicture

    from viewer.ui.views.plot import plot_axes

    widget = plot_axes._new_plot_widget()
    widget.resize(WIDTH, HEIGHT)
    widget.show()
    QApplication.processEvents()
    item = widget.getPlotItem()
    item.showGrid(x=True, y=True, alpha=0.3)
    axis = item.getAxis("bottom")
    out = []
    for fast in (False, True):
        plot_axes.FAST_SPECS = fast
        times = []
        for i in range(40):
            item.setRange(xRange=(0, 100_000 + 3_000 * i), yRange=(-1.2, 1.5), padding=0)
            QApplication.processEvents()
            picture = QPicture()
            p = QPainter(picture)
            t0 = time.perf_counter()
            axis.generateDrawSpecs(p)
            times.append((time.perf_counter() - t0) * 1000)
            p.end()
        name = "fast_draw_specs" if fast else "pyqtgraph's generateDrawSpecs"
        out.append((f"bottom axis tick layout, growing x range: {name}",
                    statistics.median(times)))
    plot_axes.FAST_SPECS = True
    widget.close()
    return out


def main() -> int:
    _app = QApplication.instance() or QApplication([])
    target = QImage(WIDTH, HEIGHT, QImage.Format.Format_ARGB32_Premultiplied)
    zigzags, pairs, segments = envelope_paths()

    def curves(paths: list) -> Callable[[QPainter], None]:
        def draw(p: QPainter) -> None:
            for i, path in enumerate(paths):
                pen = QPen(QColor.fromHsv(60 * i, 200, 230))
                pen.setCosmetic(True)
                pen.setWidth(1)
                p.setPen(pen)
                p.drawPath(path)
        return draw

    def images(p: QPainter) -> None:  # the spans computed at paint time, as the plot does
        for i, (dx, dy0, dy1) in enumerate(segments):
            spans = column_spans(dx, dy0, dy1, WIDTH, HEIGHT)
            if spans is not None:
                image, r0 = spans_image(*spans, QColor.fromHsv(60 * i, 200, 230).rgba())
                p.drawImage(spans[0], r0, image)

    kept = []  # each curve's image kept (a repaint where only the time cursor moved)
    for i, (dx, dy0, dy1) in enumerate(segments):
        spans = column_spans(dx, dy0, dy1, WIDTH, HEIGHT)
        if spans is not None:
            own = [np.empty(0, np.uint32)]
            image, r0 = spans_image(*spans, QColor.fromHsv(60 * i, 200, 230).rgba(), own)
            kept.append((spans[0], r0, image, own))

    def kept_images(p: QPainter) -> None:
        for x, y, image, _ in kept:
            p.drawImage(x, y, image)

    # The vertical grid (53 translucent 1-px lines): stretched image rows vs a kept image.
    grid = [(40 + 19.7 * i, QColor(255, 255, 255, 77 if i % 5 else 128)) for i in range(53)]
    grid_image = QImage(WIDTH, HEIGHT, QImage.Format.Format_ARGB32_Premultiplied)
    grid_image.fill(0)
    gp = QPainter(grid_image)
    _fill_columns(gp, 0, HEIGHT, grid)
    gp.end()

    spark = QImage(300, 44, QImage.Format.Format_ARGB32_Premultiplied)
    samples = np.random.default_rng(1).uniform(14, 40, 300)
    spark_path = pg.arrayToQPath(np.linspace(1, 299, 300), 43 - samples, connect="all")

    def sparkline(width: float) -> Callable[[QPainter], None]:
        def draw(p: QPainter) -> None:
            p.setRenderHint(QPainter.RenderHint.Antialiasing)
            p.setPen(QPen(QColor(120, 190, 255), width))
            p.drawPath(spark_path)
        return draw

    rows = [
        *tick_layout_rows(),
        (f"{CURVES} dense envelopes, zigzag (connect=all)", median_ms(target, curves(zigzags))),
        (f"{CURVES} dense envelopes, vertical segments (pairs)", median_ms(target, curves(pairs))),
        (f"{CURVES} dense envelopes, per-column spans as images", median_ms(target, images)),
        (f"{CURVES} dense envelopes, kept images (repaint)", median_ms(target, kept_images)),
        ("vertical grid, 53 lines as stretched image rows",
         median_ms(target, lambda p: _fill_columns(p, 0, HEIGHT, grid))),
        ("vertical grid, kept image (repaint)",
         median_ms(target, lambda p: p.drawImage(0, 0, grid_image))),
        ("sparkline, 1.3 px antialiased pen", median_ms(spark, sparkline(1.3))),
        ("sparkline, 1 px antialiased pen", median_ms(spark, sparkline(1.0))),
    ]
    print("| drawing | median ms |\n|---|---|")
    for name, ms in rows:
        print(f"| {name} | {ms:.2f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
