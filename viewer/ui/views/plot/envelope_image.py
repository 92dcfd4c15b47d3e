"""A dense min/max envelope painted as one image instead of ~2 000 vertical lines.

The time-series plot hands long series to pyqtgraph as vertical min-max segments, one per
pixel column (`PeakEnvelope.segments`, `merge_columns`). Qt strokes each as a cosmetic line,
and the cost is the pixels filled: 4 full-height curves of a 1054 px plot took 17-25 ms
of the UI thread per paint while a 2 M-row file loaded, the longest frames of the load
(docs/benchmarks/gui.md, rounds 5-7). Here the same pixels are computed per device pixel
column with numpy (one span per column) into an ARGB buffer and drawn with one
``drawImage`` (~0.5 ms a curve). The spans follow Qt's rasterization of an aliased 1-px
cosmetic line (measured, `tests/ui/test_ui_views_plot_envelope_image.py`): a segment from
device y0 to y1 at device x lights column ``floor(x)``, rows ``floor(min)..floor(max)``.

A curve keeps its image (from its second paint on) while its data, the view's transform,
the device and the pen's colour stay: the time cursor moving repaints the whole plot, and
while a file loads it moves every frame (the four curves' images were ~6 ms of each such
frame). When only the data changed (new data handed over while the followed x range keeps
its step, `follow_range.py`), the kept image is extended: only the pixel columns whose span
changed are filled again (the new data's columns, ~0.1 ms instead of ~1 ms a curve).

Anything else (wider or translucent pens, antialiasing, fills, markers, connected lines,
a rotated view) is drawn by pyqtgraph as before.
"""

from __future__ import annotations

import math
import weakref
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QImage, QPainter, QTransform

#: Off only to measure what the image saves (``scripts/bench_gui.py --ab envelope-image``).
ENABLED = True
#: Pixels above which the image is not worth it (a huge device: lines as before).
MAX_PIXELS = 1 << 24
#: A curve keeps its image until its data, transform, device or colour change (off only to
#: measure it: ``scripts/bench_gui.py --ab envelope-cache``).
CACHE_IMAGE = True
#: A kept image whose transform, device and colour stay is extended by the columns whose
#: span changed, not made anew (off only to measure it: ``bench_gui.py --ab envelope-extend``).
EXTEND_IMAGE = True


def column_spans(dx: np.ndarray, dy0: np.ndarray, dy1: np.ndarray, width: int,
                 height: int) -> tuple[int, np.ndarray, np.ndarray] | None:
    """Per device pixel column, the rows Qt lights for vertical segments at device x ``dx``
    from ``dy0`` to ``dy1`` (``dx`` sorted): (first column, top rows, bottom rows), with
    columns and rows clipped to the ``width`` x ``height`` device; None if nothing shows.
    A column's segments merge into one span (min of tops, max of bottoms). A zero-length
    segment lights its pixel (Qt draws nothing for it: a flat series was invisible)."""
    cols = np.floor(dx)
    lo = np.floor(np.minimum(dy0, dy1))
    hi = np.floor(np.maximum(dy0, dy1))
    keep = (cols >= 0) & (cols < width) & (hi >= 0) & (lo < height)
    if not keep.all():
        cols, lo, hi = cols[keep], lo[keep], hi[keep]
    if not len(cols):
        return None
    starts = np.flatnonzero(np.concatenate(([True], cols[1:] != cols[:-1])))
    if len(starts) < len(cols):
        lo = np.minimum.reduceat(lo, starts)
        hi = np.maximum.reduceat(hi, starts)
        cols = cols[starts]
    first = int(cols[0])
    n = int(cols[-1]) - first + 1
    top = np.full(n, height, np.int64)  # columns without a segment: empty spans
    bottom = np.full(n, -1, np.int64)
    idx = cols.astype(np.int64) - first
    top[idx] = np.maximum(lo, 0)
    bottom[idx] = np.minimum(hi, height - 1)
    return first, top, bottom


class _Scratch:
    """Buffers reused by every paint (UI thread only): fresh multi-megabyte arrays cost
    page faults on first touch, ~2 ms of a paint (measured in the window while loading)."""

    def __init__(self) -> None:
        self.pixels = np.empty(0, np.uint32)
        self.mask = np.empty(0, np.bool_)
        self.rows = np.empty(0, np.int16)

    def take(self, h: int, w: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        n = h * w
        if len(self.pixels) < n:
            self.pixels = np.empty(n + n // 4, np.uint32)
            self.mask = np.empty(n + n // 4, np.bool_)
            self.rows = np.empty(n + n // 4, np.int16)
        return (self.pixels[:n].reshape(h, w), self.mask[:n].reshape(h, w),
                self.rows[:n].reshape(h, w))

    def pixels_for(self, h: int, w: int) -> np.ndarray:
        return self.take(h, w)[0]


_scratch = _Scratch()


def _fill(pixels: np.ndarray, top: np.ndarray, bottom: np.ndarray, r0: int,
          argb: int) -> None:
    """Fill ``pixels`` (rows from ``r0`` on, one column per span) with ``argb`` where a
    column's span covers the row, 0 elsewhere."""
    h, w = pixels.shape
    lit = bottom >= top
    # One unsigned compare per pixel: row - top (wrapping to huge above top) <= bottom -
    # top; an empty column's top is below every row, so nothing passes. In 16 bits
    # (rows counted from r0) while the image is shorter than 32 768 rows: a third less
    # time than 32 (0.6 vs 0.9 ms for 1054 x 800).
    narrow = h <= 1 << 15 and w and int(top.max()) - r0 < 1 << 15 \
        and int(top.min()) - r0 >= -(1 << 15)
    itype, utype = (np.int16, np.uint16) if narrow else (np.int32, np.uint32)
    rows = np.arange(0, h, dtype=itype)[:, None]
    span = np.where(lit, bottom - top, 0).astype(utype)
    _, inside, diff = _scratch.take(h, w)
    if not narrow:
        diff = pixels.view(np.int32)  # (the output, overwritten last)
    np.subtract(rows, (top - r0).astype(itype), out=diff)
    np.less_equal(diff.view(utype), span, out=inside)
    np.multiply(inside, np.uint32(argb), out=pixels)


def _image_of(pixels: np.ndarray, width: int) -> QImage:
    """The first ``width`` columns of ``pixels`` (rows of any stride) as a QImage reading
    them (no copy)."""
    h, stride = pixels.shape
    return QImage(pixels.data, width, h, 4 * stride, QImage.Format.Format_ARGB32_Premultiplied)


def spans_image(first: int, top: np.ndarray, bottom: np.ndarray, argb: int,
                own: list[np.ndarray] | None = None, stride: int = 0) -> tuple[QImage, int]:
    """The spans as a premultiplied ARGB image of only the rows they cover: (image, its
    first row). The image reads a shared buffer (draw it before the next call), or with
    ``own`` (a one-item list, reused from call to call) a buffer of the caller's, whose
    rows are ``stride`` columns long (room to extend the image to the right)."""
    lit = bottom >= top
    r0 = int(top[lit].min())
    r1 = int(bottom[lit].max())
    h, w = r1 - r0 + 1, len(top)
    if own is None:
        pixels = _scratch.pixels_for(h, w)
    else:
        stride = max(stride, w)
        n = h * stride
        if len(own[0]) < n:
            own[0] = np.empty(n + n // 4, np.uint32)
        pixels = own[0][:n].reshape(h, stride)[:, :w]
    _fill(pixels, top, bottom, r0, argb)
    return _image_of(pixels if own is None else own[0][:h * stride].reshape(h, stride), w), r0


#: Bytes all curves' kept images may hold (beyond it, a curve draws from the shared buffer
#: at every paint, as without keeping): many dense curves must not cost 3 MB each.
KEPT_BYTES_MAX = 48 << 20
_keepers: weakref.WeakSet = weakref.WeakSet()


def _room_for(curve: EnvelopeCurveItem, pixels: int) -> bool:
    """Whether ``curve`` may grow its own buffer to ``pixels`` (and count it)."""
    held = sum(4 * len(c._own[0]) for c in _keepers if c is not curve)
    if held + 5 * pixels > KEPT_BYTES_MAX:  # (its buffer gets 1/4 slack)
        return False
    _keepers.add(curve)
    return True


def _pixel_count(top: np.ndarray, bottom: np.ndarray) -> int:
    """Pixels of the image `spans_image` makes of these spans."""
    lit = bottom >= top
    return (int(bottom[lit].max()) - int(top[lit].min()) + 1) * len(top)


class EnvelopeCurveItem(pg.PlotCurveItem):
    """A `pg.PlotCurveItem` that paints vertical-segment data (``connect="pairs"``, each
    pair at one x) with a plain 1-px pen as an image of per-column spans."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        #: (what the image was made for, the image, where it goes)
        self._image: tuple[tuple, QImage, QPointF] | None = None
        #: What the own buffer holds, to extend it: (transform, device and colour; first
        #: column, tops, bottoms, first row, rows, stride)
        self._held: tuple[tuple, int, np.ndarray, np.ndarray, int, int, int] | None = None
        self._seen: tuple | None = None  # what the last paint was for
        self._own: list[np.ndarray] = [np.empty(0, np.uint32)]  # the image's pixels
        super().__init__(*args, **kwargs)

    def updateData(self, *args: Any, **kwargs: Any) -> None:  # noqa: N802 (pyqtgraph API)
        self._image = self._seen = None  # (``_held`` stays: the next paint may extend it)
        super().updateData(*args, **kwargs)

    def paint(self, p: QPainter, opt: Any, widget: Any) -> None:
        if not (ENABLED and self._paint_image(p)):
            super().paint(p, opt, widget)

    def _paint_image(self, p: QPainter) -> bool:
        """Paint as an image; False when this curve or painter needs pyqtgraph's lines."""
        opts = self.opts
        pen = opts["pen"]
        if (opts["connect"] != "pairs" or opts["antialias"] or self._exportOpts is not False
                or opts["fillLevel"] is not None or opts["stepMode"]
                or opts["compositionMode"] is not None or opts["shadowPen"] is not None
                or pen is None or pen.style() != Qt.PenStyle.SolidLine
                or not pen.isCosmetic() or pen.widthF() > 1.0 or not pen.isSolid()
                or pen.color().alpha() != 255):
            return False
        tr = p.transform()
        if tr.m12() or tr.m21() or tr.m13() or tr.m23():
            return False  # rotated, sheared or projected: lines
        x, y = self.getData()
        if x is None or len(x) < 2 or len(x) % 2:
            return False
        device = p.device()
        dpr = device.devicePixelRatioF() if device is not None else 1.0
        if dpr != math.floor(dpr):
            return False  # fractional scaling: Qt's own rounding, lines as before
        width, height = round(device.width() * dpr), round(device.height() * dpr)
        if width * height > MAX_PIXELS:
            return False
        key = (id(x), id(y), len(x), tr.m11(), tr.m22(), tr.dx(), tr.dy(), dpr, width,
               height, pen.color().rgba())
        if CACHE_IMAGE and self._image is not None and self._image[0] == key:
            # The same pixels as last time (e.g. only the time cursor moved, which
            # repaints the whole plot: 4 curves were ~6 ms per frame while a file loaded).
            _, image, at = self._image
            self._draw(p, image, at)
            return True
        self._image = None
        if not np.array_equal(x[0::2], x[1::2]):
            return False  # not vertical segments
        sx, sy = tr.m11() * dpr, tr.m22() * dpr
        xs = x[0::2] * sx + tr.dx() * dpr
        if len(xs) > 1 and not bool((np.diff(xs) >= 0).all()):
            return False
        spans = column_spans(xs, y[0::2] * sy + tr.dy() * dpr,
                             y[1::2] * sy + tr.dy() * dpr, width, height)
        if spans is None:
            return True  # nothing inside the device
        first, top, bottom = spans
        if not bool((bottom >= top).any()):
            return True
        look = key[3:]  # the transform, device and colour (not the data)
        extended = self._extend(look, first, top, bottom) if EXTEND_IMAGE and CACHE_IMAGE \
            else None
        if extended is not None:
            self._seen = key
            self._image = (key, *extended)
            self._draw(p, *extended)
            return True
        # Kept from the second paint for the same key on: a first paint (a hand-over, the
        # plot's first paint) uses the shared buffer unless the curve's own one fits, so
        # that one is first touched in a repaint (fresh memory costs ~1-2 ms of page
        # faults a curve). Its rows reach to the device's right edge: room to extend.
        stride = width - first
        needed = _pixel_count(top, bottom) // len(top) * stride
        fits = len(self._own[0]) >= needed
        keep = CACHE_IMAGE and (fits or (self._seen == key and _room_for(self, needed)))
        self._seen = key  # (a buffer touched before that fits: kept at once)
        self._held = None
        image, r0 = spans_image(first, top, bottom, pen.color().rgba(),
                                self._own if keep else None, stride)
        image.setDevicePixelRatio(dpr)
        at = QPointF(first / dpr, r0 / dpr)
        if keep:
            self._image = (key, image, at)
            self._held = (look, first, top, bottom, r0, image.height(), stride)
        self._draw(p, image, at)
        return True

    def _extend(self, look: tuple, first: int, top: np.ndarray,
                bottom: np.ndarray) -> tuple[QImage, QPointF] | None:
        """The kept image brought to these spans by filling only the columns whose span
        changed (new data at the right end, while the transform stays); None when it
        cannot be: nothing kept for this transform, device and colour, another first
        column, more columns than its rows hold, or spans outside its rows."""
        held = self._held
        if held is None or held[0] != look or held[1] != first:
            return None
        _, _, top0, bottom0, r0, h, stride = held
        n, n0 = len(top), len(top0)
        lit = bottom >= top
        if n > stride or int(top[lit].min()) < r0 or int(bottom[lit].max()) >= r0 + h:
            return None
        m = min(n, n0)
        changed = np.flatnonzero((top[:m] != top0[:m]) | (bottom[:m] != bottom0[:m]))
        lo = int(changed[0]) if len(changed) else m  # columns past the old ones: new
        hi = n if n > n0 else (int(changed[-1]) + 1 if len(changed) else lo)
        pixels = self._own[0][:h * stride].reshape(h, stride)
        if hi > lo:
            _fill(pixels[:, lo:hi], top[lo:hi], bottom[lo:hi], r0, self.opts["pen"].color().rgba())
        self._held = (look, first, top, bottom, r0, h, stride)
        image = _image_of(pixels, n)
        dpr = look[4]  # (m11, m22, dx, dy, dpr, width, height, colour)
        image.setDevicePixelRatio(dpr)
        return image, QPointF(first / dpr, r0 / dpr)

    @staticmethod
    def _draw(p: QPainter, image: QImage, at: QPointF) -> None:
        p.save()
        p.setTransform(QTransform())
        p.drawImage(at, image)
        p.restore()


class EnvelopePlotDataItem(pg.PlotDataItem):
    """`pg.PlotDataItem` whose line is an `EnvelopeCurveItem`."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        old = self.curve
        old.sigClicked.disconnect(self.sigClicked)
        old.setParentItem(None)
        curve = EnvelopeCurveItem()
        curve.setParentItem(self)
        curve.sigClicked.connect(self.sigClicked)
        curve.setVisible(old.isVisible())
        self.curve = curve
        self.updateItems(styleUpdate=True)  # the new curve takes the style and data
