"""The application icon as PNGs of the sizes desktops ask for (16 to 256 px).

Rendered from ``resources/icons/rrd-viewer.svg`` with Qt's SVG module when it is installed;
otherwise the same picture is drawn with QPainter (rounded dark tile, blue polyline, grey
time axis, orange cursor dot), so the PNGs can always be made. ``scripts/render_icons.py``
writes them into ``resources/icons``.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPainterPath, QPen

ICON_SIZES = (16, 24, 32, 48, 64, 128, 256)
#: The SVG's own coordinate system (viewBox 0 0 64 64).
_VIEWBOX = 64.0
_LINE = [(10, 42), (18, 30), (26, 36), (34, 18), (42, 28), (50, 14), (56, 20)]


def svg_available() -> bool:
    try:
        from PySide6.QtSvg import QSvgRenderer  # noqa: F401
    except ImportError:
        return False
    return True


def _blank(size: int) -> QImage:
    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    return image


def render_svg(svg: Path, size: int) -> QImage:
    from PySide6.QtSvg import QSvgRenderer

    renderer = QSvgRenderer(str(svg))
    if not renderer.isValid():
        raise ValueError(f"not a valid SVG: {svg}")
    image = _blank(size)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(painter, QRectF(0, 0, size, size))
    painter.end()
    return image


def draw_icon(size: int) -> QImage:
    """The icon drawn with QPainter, shape for shape as the SVG draws it."""
    image = _blank(size)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.scale(size / _VIEWBOX, size / _VIEWBOX)
    tile = QPainterPath()
    tile.addRoundedRect(QRectF(2, 2, 60, 60), 13, 13)
    painter.fillPath(tile, QColor("#1b1f27"))
    painter.setPen(QPen(QColor("#3d4656"), 2))
    painter.drawPath(tile)
    pen = QPen(QColor("#5aa9ff"), 4, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap,
               Qt.PenJoinStyle.RoundJoin)
    painter.setPen(pen)
    painter.drawPolyline([QPointF(x, y) for x, y in _LINE])
    painter.setPen(QPen(QColor("#5c6675"), 3, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap))
    painter.drawLine(QPointF(10, 50), QPointF(54, 50))
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QColor("#ffb454"))
    painter.drawEllipse(QPointF(34, 50), 4.5, 4.5)
    painter.end()
    return image


def render_icon(svg: Path, size: int, *, use_svg: bool | None = None) -> QImage:
    """The icon at ``size`` px: from the SVG when Qt can read SVG, else drawn."""
    if use_svg is None:
        use_svg = svg_available()
    return render_svg(svg, size) if use_svg else draw_icon(size)


def png_name(size: int) -> str:
    return f"rrd-viewer-{size}.png"


def write_pngs(svg: Path, out_dir: Path, sizes: tuple[int, ...] = ICON_SIZES,
               *, use_svg: bool | None = None) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for size in sizes:
        path = out_dir / png_name(size)
        if not render_icon(svg, size, use_svg=use_svg).save(str(path), "PNG"):
            raise OSError(f"could not write {path}")
        written.append(path)
    return written
