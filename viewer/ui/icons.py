"""Small playback icons drawn with QPainter: light on dark, crisp at any scale.

The platform's standard media icons are dark grey and vanish on a dark theme.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPixmap, QPolygonF

_SIZE = 32
_COLOR = QColor("#d7dce3")
_DISABLED = QColor("#5c6675")


def _triangle(p: QPainter, x0: float, x1: float, pointing_right: bool) -> None:
    top, bottom, mid = 7.0, _SIZE - 7.0, _SIZE / 2
    if pointing_right:
        pts = [QPointF(x0, top), QPointF(x1, mid), QPointF(x0, bottom)]
    else:
        pts = [QPointF(x1, top), QPointF(x0, mid), QPointF(x1, bottom)]
    p.drawPolygon(QPolygonF(pts))


def _draw(kind: str, color: QColor) -> QPixmap:
    pm = QPixmap(_SIZE, _SIZE)
    pm.fill(Qt.GlobalColor.transparent)
    p = QPainter(pm)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(color)
    if kind == "play":
        _triangle(p, 10, 25, True)
    elif kind == "pause":
        p.drawRect(QRectF(9, 7, 5, _SIZE - 14))
        p.drawRect(QRectF(18, 7, 5, _SIZE - 14))
    elif kind == "step_forward":
        _triangle(p, 8, 20, True)
        p.drawRect(QRectF(21, 7, 3.5, _SIZE - 14))
    elif kind == "step_back":
        p.drawRect(QRectF(7.5, 7, 3.5, _SIZE - 14))
        _triangle(p, 12, 24, False)
    p.end()
    return pm


def playback_icon(kind: str) -> QIcon:
    """``play``, ``pause``, ``step_forward`` or ``step_back``."""
    icon = QIcon()
    icon.addPixmap(_draw(kind, _COLOR), QIcon.Mode.Normal)
    icon.addPixmap(_draw(kind, _DISABLED), QIcon.Mode.Disabled)
    return icon
