"""Graph nodes drawn as their text labels: one graphics item for all label boxes.

A labelled node is a box around its text, centred on the node, in scene units: it zooms
with the graph like the rest of the drawing. Each box is filled with ``LABEL_FILL``,
outlined in the default text colour, and its text is in the node's colour (the default
text colour when none was logged). When the view is zoomed out so far that text would be
unreadable (less than ``MIN_READABLE_PX`` pixels high), a box shows a filled bar in the
text's colour instead, the way Rerun's graph view does at low zoom. One item paints all
boxes, so a few hundred labels cost one paint call, not one item each; texts are laid out
once (``QStaticText``) and pens made once per colour (500 labels: ~9 ms a paint, ~40
with a text layout and a pen per label per paint).
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QRectF
from PySide6.QtGui import QBrush, QColor, QFont, QFontMetricsF, QPainter, QPen, QStaticText
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

from viewer.scene.graph_data import LABEL_BORDER, LABEL_MARGIN

#: Label text height in scene units (pixels at zoom 1), near Rerun's body text.
FONT_PIXELS = 13
LABEL_FILL = (32, 35, 40)
LABEL_TEXT = (220, 220, 220)
#: Box corner radius (scene units).
CORNER = 3.0
#: Below this text height on screen, a box shows a bar instead of its text.
MIN_READABLE_PX = 4.0


def label_font() -> QFont:
    font = QFont()
    font.setPixelSize(FONT_PIXELS)
    return font


class TextMeasure:
    """Text size in scene units with the labels' font (``collect_graph``'s ``measure``)."""

    def __init__(self, font: QFont) -> None:
        self._metrics = QFontMetricsF(font)
        self._cache: dict[str, tuple[float, float]] = {}

    def __call__(self, text: str) -> tuple[float, float]:
        size = self._cache.get(text)
        if size is None:
            size = self._cache[text] = (self._metrics.horizontalAdvance(text),
                                        self._metrics.height())
        return size


class GraphLabelsItem(QGraphicsItem):
    """Label boxes at node centres; ``set_labels`` replaces them all."""

    def __init__(self, font: QFont) -> None:
        super().__init__()
        self._font = font
        self.texts: list[str] = []
        self.centres = np.empty((0, 2))
        self.sizes = np.empty((0, 2))
        self._pens: list[QPen] = []
        self._bars = False
        self._rects: list[QRectF] = []
        self._texts: dict[str, QStaticText] = {}
        self._bounds = QRectF()
        self._fill = QBrush(QColor(*LABEL_FILL))
        self._border = QPen(QColor(*LABEL_TEXT), LABEL_BORDER)
        self._border.setCosmetic(True)

    def set_labels(self, texts: list[str], centres: np.ndarray, sizes: np.ndarray,
                   colors: list[tuple[int, int, int]], bars: bool = False) -> None:
        """Boxes of ``sizes`` (k, 2) centred on ``centres`` (k, 2), scene units; ``bars``:
        bars instead of text at any zoom (too many labels to paint text)."""
        self.prepareGeometryChange()
        self._bars = bars
        self.texts = list(texts)
        self.centres = np.asarray(centres, dtype=np.float64).reshape(-1, 2)
        self.sizes = np.asarray(sizes, dtype=np.float64).reshape(-1, 2)
        pens: dict[tuple[int, int, int], QPen] = {}
        self._pens = [pens.get(c) or pens.setdefault(c, QPen(QColor(*c))) for c in colors]
        corner = self.centres - 0.5 * self.sizes
        self._rects = [QRectF(x, y, w, h) for (x, y), (w, h)
                       in zip(corner.tolist(), self.sizes.tolist(), strict=True)]
        if len(self._texts) > 4 * len(self.texts) + 64:  # forget texts no longer shown
            self._texts = {}
        if len(self.texts):
            lo = corner.min(axis=0)
            hi = (self.centres + 0.5 * self.sizes).max(axis=0)
            self._bounds = QRectF(lo[0], lo[1], hi[0] - lo[0], hi[1] - lo[1]).adjusted(
                -1.0, -1.0, 1.0, 1.0)
        else:
            self._bounds = QRectF()
        self.update()

    def _static(self, text: str) -> QStaticText:
        st = self._texts.get(text)
        if st is None:
            st = self._texts[text] = QStaticText(text)
            st.prepare(font=self._font)
        return st

    def rects(self) -> list[QRectF]:
        """Each label's box (scene units)."""
        return list(self._rects)

    def boundingRect(self) -> QRectF:  # noqa: N802 (Qt API)
        return self._bounds

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem,
              widget: QWidget | None = None) -> None:
        if not self.texts:
            return
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.setRenderHint(QPainter.RenderHint.TextAntialiasing, True)
        painter.setFont(self._font)
        scale = abs(painter.worldTransform().m22()) or 1.0
        readable = FONT_PIXELS * scale >= MIN_READABLE_PX and not self._bars
        mx, my = LABEL_MARGIN[0] + LABEL_BORDER, LABEL_MARGIN[1] + LABEL_BORDER
        painter.setPen(self._border)
        painter.setBrush(self._fill)
        for rect in self._rects:
            painter.drawRoundedRect(rect, CORNER, CORNER)
        for rect, text, pen in zip(self._rects, self.texts, self._pens, strict=True):
            if readable:
                st = self._static(text)
                size = st.size()
                painter.setPen(pen)
                painter.drawStaticText(QPointF(rect.center().x() - 0.5 * size.width(),
                                               rect.center().y() - 0.5 * size.height()), st)
            else:
                faded = QColor(pen.color())
                faded.setAlphaF(0.5)
                painter.fillRect(rect.adjusted(mx, my, -mx, -my), faded)
