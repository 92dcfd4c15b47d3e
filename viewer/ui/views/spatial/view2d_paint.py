"""Paint a 2D ``Scene`` (pixel space, y down) with QPainter.

Images, triangles, line segments and points are painted in ``draw_order`` (higher on top;
ties keep the kind order images, triangles, lines, points, then scene order); labels come
last, above everything, like the UI text they are. Coordinates are mapped with numpy and
drawn with an identity painter transform, so widths in UI points stay widths in widget
pixels while widths in image pixels grow with the zoom (Rerun's radius convention: positive
= scene units, negative = UI points).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRect, QRectF, Qt
from PySide6.QtGui import (
    QColor,
    QFontMetrics,
    QImage,
    QPainter,
    QPainterPath,
    QPen,
    QPolygonF,
    QTransform,
)

from viewer.scene.draw import ImageLayer, Label, LineBatch, PointBatch, Scene, TriangleBatch
from viewer.store.entity_path import EntityPath
from viewer.ui.views.spatial.image_decode import ImageDecodeError, encoded_to_qimage
from viewer.ui.views.spatial.splat import pack_rgb32, splat
from viewer.ui.views.spatial.view2d_camera import Camera2D, Rect

#: Above this many points in one batch, discs are splatted with numpy into one image
#: (QPainter costs ~2 µs per ellipse plus the Python call).
SPLAT_MIN_POINTS = 2000
#: Above this many segments in one colour/width group, lines are drawn without
#: antialiasing (10 k long antialiased segments took ~300 ms offscreen, ~35 ms without).
ANTIALIAS_MAX_SEGMENTS = 2000
#: Up to this many segments in one colour/width group, the path is built call by call;
#: above, from arrays (pyqtgraph's ``arrayToQPath``: 10 k segments in ~4 ms).
ARRAY_PATH_MIN_SEGMENTS = 64
#: Widest line or point drawn, in widget pixels.
MAX_WIDTH_PX = 8192.0
#: Labels whose anchor is further than this outside the widget are not drawn.
LABEL_CULL_MARGIN = 100.0
#: Rerun's label box: its secondary button grey at half opacity.
LABEL_BACKGROUND = QColor(0x2C, 0x2B, 0x2B, 128)
#: The text's top is this far below the anchor; the box is this much larger around it.
LABEL_OFFSET = 5.0
LABEL_PAD_X, LABEL_PAD_Y = 6.0, 4.0
#: A box's label is wrapped to the box's width less 4 px, never narrower than this.
LABEL_MIN_WRAP = 60.0
#: Fraction of the data extent added around data bounds when there is no image.
DATA_PADDING = 0.05

# Qt enum lookups cost ~1 µs each in PySide6: looked up once.
_ANTIALIAS = QPainter.RenderHint.Antialiasing
_NO_PEN = Qt.PenStyle.NoPen
_NO_BRUSH = Qt.BrushStyle.NoBrush
_SOLID = Qt.PenStyle.SolidLine
_ROUND_CAP = Qt.PenCapStyle.RoundCap
_ROUND_JOIN = Qt.PenJoinStyle.RoundJoin


_IDENTITY_2D = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])


def affine_2d(origin_from_entity: np.ndarray | None) -> np.ndarray:
    """The 2D part (2, 3) of an entity's 4x4 transform: view pixels from its pixels."""
    m = np.asarray(origin_from_entity, dtype=np.float64) if origin_from_entity is not None \
        else None
    if m is None or m.shape != (4, 4) or not np.isfinite(m).all():
        return _IDENTITY_2D.copy()
    return m[np.ix_([0, 1], [0, 1, 3])]


@dataclass(slots=True)
class DrawnImage:
    """An image layer ready to paint: its QImage (decoded, or wrapping ``rgba``) and where
    its pixel (0, 0) corner goes (``affine``: view pixels from image pixels, (2, 3); the
    identity unless the entity has a 2D transform)."""

    layer: ImageLayer
    image: QImage | None
    error: str | None = None
    affine: np.ndarray = field(default_factory=lambda: _IDENTITY_2D.copy())

    @property
    def size(self) -> tuple[int, int] | None:
        if self.image is not None and not self.image.isNull():
            return self.image.width(), self.image.height()
        return self.layer.size

    def view_rect(self) -> Rect | None:
        """Bounds of the placed image in view pixels."""
        size = self.size
        if size is None:
            return None
        w, h = size
        corners = np.array([[0.0, 0.0, 1.0], [w, 0.0, 1.0], [0.0, h, 1.0], [w, h, 1.0]])
        xy = corners @ self.affine.T
        lo, hi = xy.min(axis=0), xy.max(axis=0)
        return float(lo[0]), float(lo[1]), float(hi[0]), float(hi[1])

    def local(self, x: float, y: float) -> tuple[float, float] | None:
        """Image pixel coordinates of view point (x, y); None for a degenerate placement."""
        a = self.affine[:, :2]
        det = float(np.linalg.det(a))
        if not math.isfinite(det) or abs(det) < 1e-12:
            return None
        u, v = np.linalg.solve(a, np.array([x, y]) - self.affine[:, 2])
        return float(u), float(v)

    def qtransform(self) -> QTransform:
        (a, b, c), (d, e, f) = self.affine.tolist()
        return QTransform(a, d, b, e, c, f)


class ImageCache:
    """QImages of the scene's image layers, rebuilt only when a layer's pixels changed
    (a new ``rgba`` array or different encoded bytes): scrubbing within one frame of data
    and repainting on pan/zoom convert nothing."""

    def __init__(self) -> None:
        # key -> (source object kept alive, QImage or None, error)
        self._cache: dict[tuple[EntityPath, str, int], tuple[object, QImage | None, str | None]] = {}
        self.conversions = 0  # images converted or decoded (tests)

    def update(self, scene: Scene) -> list[DrawnImage]:
        fresh: dict[tuple[EntityPath, str, int], tuple[object, QImage | None, str | None]] = {}
        out: list[DrawnImage] = []
        for entity, ed in scene.entities.items():
            for i, layer in enumerate(ed.images):
                key = (entity, layer.archetype, i)
                source: object = layer.rgba if layer.rgba is not None else layer.encoded
                old = self._cache.get(key)
                if old is not None and _same_source(old[0], source):
                    entry = old
                else:
                    entry = _convert(layer)
                    self.conversions += 1
                fresh[key] = entry
                out.append(DrawnImage(layer, entry[1], entry[2], affine_2d(ed.transform)))
        self._cache = fresh
        return out


def _same_source(old: object, new: object) -> bool:
    if old is new:
        return True
    if isinstance(old, bytes) and isinstance(new, bytes):
        return old == new
    return False


def _convert(layer: ImageLayer) -> tuple[object, QImage | None, str | None]:
    """(source, QImage, error). A raw QImage wraps the array's memory: the cache keeps the
    array alive as long as the QImage."""
    if layer.rgba is not None:
        rgba = np.ascontiguousarray(layer.rgba, dtype=np.uint8)
        if rgba.ndim != 3 or rgba.shape[2] != 4:
            return layer.rgba, None, f"{layer.entity}: rgba of shape {rgba.shape}"
        h, w = rgba.shape[:2]
        image = QImage(rgba.data, w, h, w * 4, QImage.Format.Format_RGBA8888)
        return rgba, image, None
    if layer.encoded is not None:
        try:
            return layer.encoded, encoded_to_qimage(layer.encoded, layer.media_type), None
        except ImageDecodeError as exc:
            return layer.encoded, None, f"{layer.entity}: {exc}"
    return None, None, None


def visible_space(scene: Scene, images: list[DrawnImage]) -> Rect | None:
    """What a fitted view shows: the union of the image rectangles (each from its pixel
    (0, 0), placed by its entity's transform), or the padded bounds of the drawn data when
    there is no image."""
    rects = [r for r in (d.view_rect() for d in images) if r is not None]
    if rects:
        return (min(r[0] for r in rects), min(r[1] for r in rects),
                max(r[2] for r in rects), max(r[3] for r in rects))
    bounds = scene.bounds()
    if bounds is None:
        return None
    lo, hi = bounds[0][:2].astype(float), bounds[1][:2].astype(float)
    largest = float((hi - lo).max())
    pad = largest * DATA_PADDING if largest > 0 else 1.0  # a single point: one unit around
    lo, hi = lo - pad, hi + pad
    return float(lo[0]), float(lo[1]), float(hi[0]), float(hi[1])


def widths_px(radii: np.ndarray, scale: float) -> np.ndarray:
    """Diameters in widget pixels from Rerun radii at this zoom (at least one pixel, at
    most ``MAX_WIDTH_PX``: a huge zoom must not make Qt stroke a kilometre-wide pen)."""
    r = np.asarray(radii, dtype=np.float64)
    d = np.where(r > 0, 2.0 * r * scale, 2.0 * np.abs(r))
    return np.clip(np.nan_to_num(d, nan=1.0), 1.0, MAX_WIDTH_PX)


def _color_keys(rgba: np.ndarray) -> np.ndarray:
    c = rgba.astype(np.uint32)
    return (c[:, 0] << 24) | (c[:, 1] << 16) | (c[:, 2] << 8) | c[:, 3]


def _qcolor(key: int) -> QColor:
    return QColor((key >> 24) & 255, (key >> 16) & 255, (key >> 8) & 255, key & 255)


def _group_order(rgba: np.ndarray, widths: np.ndarray
                 ) -> tuple[np.ndarray, list[int], list[int], list[float]]:
    """Items grouped by (colour, width), each group in its original order: (order, starts,
    colour keys, widths); group ``g`` is ``order[starts[g]:starts[g + 1]]``."""
    combo = np.stack([_color_keys(rgba).astype(np.int64),
                      np.round(widths * 64.0).astype(np.int64)], axis=1)
    uniq, inverse = np.unique(combo, axis=0, return_inverse=True)
    inverse = inverse.reshape(-1)
    order = np.argsort(inverse, kind="stable")
    starts = np.searchsorted(inverse[order], np.arange(len(uniq) + 1)).tolist()
    return order, starts, uniq[:, 0].tolist(), (uniq[:, 1] / 64.0).tolist()


def _paint_image(painter: QPainter, drawn: DrawnImage, camera: Camera2D) -> None:
    image = drawn.image
    if image is None or image.isNull():
        return
    painter.save()
    try:
        painter.setTransform(drawn.qtransform() * QTransform(
            camera.scale, 0.0, 0.0, camera.scale, camera.offset_x, camera.offset_y))
        painter.setOpacity(max(0.0, min(1.0, float(drawn.layer.opacity))))
        # Enlarged pixels stay pixels; a shrunk image is filtered (class ids never are).
        scale = camera.scale * abs(float(np.linalg.det(drawn.affine[:, :2]))) ** 0.5
        smooth = scale < 1.0 and drawn.layer.archetype != "SegmentationImage"
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, smooth)
        painter.drawImage(QRectF(0.0, 0.0, image.width(), image.height()), image)
    finally:
        painter.restore()


def _strip_path(seg: np.ndarray) -> QPainterPath:
    """Segments (m, 2, 2) in widget pixels as one path; a segment starting where the
    previous one ended continues it (so box corners and strips get joins, not caps)."""
    m = len(seg)
    joined = np.zeros(m, dtype=bool)
    if m > 1:
        joined[1:] = (seg[1:, 0] == seg[:-1, 1]).all(axis=1)
    keep = np.ones(2 * m, dtype=bool)
    keep[0::2] = ~joined
    # pyqtgraph's connect array says whether a vertex joins the *next* one: every kept
    # vertex but a segment's last one joins the next, unless the next segment continues it.
    to_next = np.zeros(2 * m, dtype=np.int32)
    to_next[0::2] = 1
    to_next[1::2][:-1] = joined[1:]
    pts = seg.reshape(-1, 2)[keep]
    return pg.arrayToQPath(pts[:, 0], pts[:, 1], connect=to_next[keep], finiteCheck=False)


def _small_path(flat: list[list[float]], joined: list[bool], a: int, b: int) -> QPainterPath:
    """Segments ``a:b`` (x0, y0, x1, y1 each) as one path, built call by call (cheaper than
    the array route for a few segments); a run that ends where it began is closed."""
    path = QPainterPath()
    sx = sy = 0.0
    for i in range(a, b):
        x0, y0, x1, y1 = flat[i]
        if not joined[i]:
            path.moveTo(x0, y0)
            sx, sy = x0, y0
        path.lineTo(x1, y1)
        if x1 == sx and y1 == sy and i > a and joined[i]:
            path.closeSubpath()
    return path


def _paint_lines(painter: QPainter, batch: LineBatch, camera: Camera2D) -> None:
    seg = np.asarray(batch.segments, dtype=np.float64)
    if seg.size == 0:
        return
    seg = camera.map_array(seg[:, :, :2])
    finite = np.isfinite(seg).all(axis=(1, 2))
    colors, widths = batch.colors, widths_px(batch.radii, camera.scale)
    if not finite.all():
        seg, colors, widths = seg[finite], colors[finite], widths[finite]
    if not len(seg):
        return
    order, starts, keys, group_widths = _group_order(colors, widths)
    seg = seg[order]
    group = np.repeat(np.arange(len(keys)), np.diff(starts))
    joined = np.zeros(len(seg), dtype=bool)
    joined[1:] = (group[1:] == group[:-1]) & (seg[1:, 0] == seg[:-1, 1]).all(axis=1)
    flat = seg.reshape(-1, 4).tolist()
    joined_list = joined.tolist()
    painter.setBrush(_NO_BRUSH)
    pen = QPen(_qcolor(keys[0]), group_widths[0], _SOLID, _ROUND_CAP, _ROUND_JOIN)
    antialias: bool | None = None
    for g, key in enumerate(keys):
        a, b = starts[g], starts[g + 1]
        if (b - a <= ANTIALIAS_MAX_SEGMENTS) != antialias:
            antialias = b - a <= ANTIALIAS_MAX_SEGMENTS
            painter.setRenderHint(_ANTIALIAS, antialias)
        path = (_small_path(flat, joined_list, a, b) if b - a <= ARRAY_PATH_MIN_SEGMENTS
                else _strip_path(seg[a:b]))
        pen.setColor(_qcolor(key))
        pen.setWidthF(group_widths[g])
        painter.setPen(pen)
        painter.drawPath(path)


def _paint_points(painter: QPainter, batch: PointBatch, camera: Camera2D,
                  clip: QRectF) -> None:
    pos = np.asarray(batch.positions, dtype=np.float64)
    if pos.size == 0:
        return
    xy = camera.map_array(pos[:, :2])
    diam = widths_px(batch.radii, camera.scale)
    half = diam / 2.0
    keep = (np.isfinite(xy).all(axis=1) & (xy[:, 0] + half >= clip.left())
            & (xy[:, 0] - half <= clip.right()) & (xy[:, 1] + half >= clip.top())
            & (xy[:, 1] - half <= clip.bottom()))
    xy, diam, colors = xy[keep], diam[keep], batch.colors[keep]
    if not len(xy):
        return
    if len(xy) > SPLAT_MIN_POINTS:
        _splat_points(painter, xy, diam, colors, clip)
        return
    painter.setRenderHint(_ANTIALIAS, True)
    painter.setPen(_NO_PEN)
    last = -1
    # Batch order is kept (later points on top); the brush changes only with the colour.
    for (x, y), r, key in zip(xy.tolist(), (diam / 2.0).tolist(),
                              _color_keys(colors).tolist(), strict=True):
        if key != last:
            painter.setBrush(_qcolor(key))
            last = key
        painter.drawEllipse(QPointF(x, y), r, r)


def pack_premultiplied(rgba: np.ndarray) -> np.ndarray:
    """(n, 4) uint8 -> premultiplied 0xAARRGGBB (``Format_ARGB32_Premultiplied``), so
    translucent splatted points stay translucent (an overlapping later point replaces an
    earlier one rather than blending with it)."""
    c = rgba.astype(np.uint32)
    a = c[:, 3]
    if (a == 255).all():
        return pack_rgb32(rgba)
    r, g, b = ((c[:, i] * a + 127) // 255 for i in range(3))
    return ((a << 24) | (r << 16) | (g << 8) | b).astype(np.uint32)


def _splat_points(painter: QPainter, xy: np.ndarray, diam: np.ndarray, colors: np.ndarray,
                  clip: QRectF) -> None:
    """Many points: discs written into one transparent image with numpy, drawn once (the
    image is at device resolution)."""
    dpr = painter.device().devicePixelRatioF() if painter.device() is not None else 1.0
    w, h = math.ceil(clip.width() * dpr), math.ceil(clip.height() * dpr)
    if w <= 0 or h <= 0:
        return
    image = QImage(w, h, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(0)
    pixels = np.frombuffer(image.bits(), dtype=np.uint32)
    buffer = pixels.reshape(h, image.bytesPerLine() // 4)[:, :w]
    local = (xy - [clip.left(), clip.top()]) * dpr
    splat(buffer, local, pack_premultiplied(colors), diam * dpr)
    image.setDevicePixelRatio(dpr)
    painter.drawImage(clip.topLeft(), image)


def _paint_triangles(painter: QPainter, batch: TriangleBatch, camera: Camera2D) -> None:
    """Filled triangles in the colour of their first vertex (2D arrow heads, solid shapes)."""
    if len(batch.triangles) == 0:
        return
    verts = camera.map_array(np.asarray(batch.vertices, dtype=np.float64)[:, :2])
    tris = np.asarray(batch.triangles, dtype=np.int64)
    corners = verts[tris]  # (t, 3, 2)
    finite = np.isfinite(corners).all(axis=(1, 2))
    colors = batch.colors[tris[:, 0]]
    corners, colors = corners[finite], colors[finite]
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    painter.setPen(Qt.PenStyle.NoPen)
    order, starts, keys, _widths = _group_order(colors, np.ones(len(colors)))
    for g, key in enumerate(keys):
        path = QPainterPath()
        path.setFillRule(Qt.FillRule.WindingFill)
        for tri in corners[order[starts[g]:starts[g + 1]]].tolist():
            path.addPolygon(QPolygonF([QPointF(x, y) for x, y in tri]))
            path.closeSubpath()
        painter.fillPath(path, _qcolor(key))


def label_rect(metrics: QFontMetrics, anchor: QPointF, text: str,
               wrap: float = math.inf) -> tuple[QRectF, QRectF]:
    """(text rect, background rect) of a label as Rerun lays it out: centred under its
    anchor, its top 5 px below it, wrapped to ``wrap`` widget pixels; the background 6 px
    wider and 4 px taller on each side."""
    width = int(min(wrap, 100000.0))
    flags = int(Qt.AlignmentFlag.AlignHCenter)
    if math.isfinite(wrap):
        flags |= int(Qt.TextFlag.TextWordWrap)
    size = metrics.boundingRect(QRect(0, 0, width, 100000), flags, text).size()
    text_rect = QRectF(anchor.x() - size.width() / 2.0, anchor.y() + LABEL_OFFSET,
                       size.width(), size.height())
    return text_rect, text_rect.adjusted(-LABEL_PAD_X, -LABEL_PAD_Y, LABEL_PAD_X, LABEL_PAD_Y)


def label_wrap(rect_width_px: float) -> float:
    """Rerun's wrap width of a label under a rectangle this wide on screen (inf: none)."""
    if rect_width_px <= 0.0 or not math.isfinite(rect_width_px):
        return math.inf
    return max(rect_width_px - 4.0, LABEL_MIN_WRAP)


def label_text_color(rgba: tuple[int, int, int, int]) -> QColor:
    """The label's colour, lifted when it would vanish on the dark background."""
    r, g, b = rgba[:3]
    if 0.2126 * r + 0.7152 * g + 0.0722 * b < 90:
        return QColor(220, 220, 220)
    return QColor(r, g, b)


def paint_label(painter: QPainter, metrics: QFontMetrics, anchor: QPointF, text: str,
                rgba: tuple[int, int, int, int], wrap: float = math.inf) -> None:
    """One label on its rounded box, centred under ``anchor`` (widget pixels); the 2D and
    3D views both paint their labels with it."""
    flags = int(Qt.AlignmentFlag.AlignHCenter)
    if math.isfinite(wrap):
        flags |= int(Qt.TextFlag.TextWordWrap)
    text_rect, bg = label_rect(metrics, anchor, text, wrap)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(LABEL_BACKGROUND)
    painter.drawRoundedRect(bg, 4.0, 4.0)
    painter.setPen(label_text_color(rgba))
    painter.drawText(text_rect, flags, text)


def _paint_labels(painter: QPainter, labels: list[Label], camera: Camera2D,
                  clip: QRectF) -> None:
    if not labels:
        return
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    metrics = QFontMetrics(painter.font())
    around = clip.adjusted(-LABEL_CULL_MARGIN, -LABEL_CULL_MARGIN,
                           LABEL_CULL_MARGIN, LABEL_CULL_MARGIN)
    for label in labels:
        x, y = camera.to_widget(float(label.position[0]), float(label.position[1]))
        anchor = QPointF(x, y)
        if not (math.isfinite(x) and math.isfinite(y)) or not around.contains(anchor):
            continue
        paint_label(painter, metrics, anchor, label.text, label.color,
                    label_wrap(label.wrap_width * camera.scale))


def draw_items(scene: Scene, images: list[DrawnImage]) -> list[object]:
    """Everything but labels, bottom first: by draw order, then kind, then scene order."""
    keyed: list[tuple[float, int, int, object]] = []
    seq = 0
    by_layer = {id(d.layer): d for d in images}
    for ed in scene.entities.values():
        for layer in ed.images:
            keyed.append((float(layer.draw_order), 0, seq, by_layer.get(id(layer), layer)))
            seq += 1
        for kind, batches in ((1, ed.triangles), (2, ed.lines), (3, ed.points)):
            for batch in batches:
                keyed.append((float(batch.draw_order), kind, seq, batch))
                seq += 1
    keyed.sort(key=lambda k: (k[0], k[1], k[2]))
    return [k[3] for k in keyed]


def paint_scene(painter: QPainter, scene: Scene, images: list[DrawnImage], camera: Camera2D,
                clip: QRectF) -> None:
    """Paint ``scene`` into ``clip`` (the widget rectangle) through ``camera``."""
    for item in draw_items(scene, images):
        if isinstance(item, DrawnImage):
            _paint_image(painter, item, camera)
        elif isinstance(item, LineBatch):
            _paint_lines(painter, item, camera)
        elif isinstance(item, PointBatch):
            _paint_points(painter, item, camera, clip)
        elif isinstance(item, TriangleBatch):
            _paint_triangles(painter, item, camera)
    labels = [label for ed in scene.entities.values() for label in ed.labels]
    _paint_labels(painter, labels, camera, clip)
