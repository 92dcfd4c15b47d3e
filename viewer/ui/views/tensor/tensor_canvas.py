"""Paints a colormapped tensor slice fitted into the widget (aspect ratio kept, nearest
neighbour when enlarging so cells stay cells) and maps the mouse to a slice cell."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QImage, QMouseEvent, QPainter, QPaintEvent
from PySide6.QtWidgets import QWidget

BACKGROUND = QColor(24, 26, 30)
TEXT = QColor(200, 200, 200)


class TensorCanvas(QWidget):
    def __init__(self, on_hover: Callable[[tuple[int, int] | None], None],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.image: QImage | None = None
        self.message = ""
        self._on_hover = on_hover
        self.setMinimumSize(64, 48)
        self.setMouseTracking(True)

    def set_image(self, image: QImage | None, message: str = "") -> None:
        self.image = image
        self.message = message
        self.update()

    def image_rect(self) -> QRectF:
        """Where the slice is drawn: fitted into the widget, aspect ratio kept."""
        image = self.image
        if image is None or image.width() == 0 or image.height() == 0:
            return QRectF()
        scale = min(self.width() / image.width(), self.height() / image.height())
        w, h = image.width() * scale, image.height() * scale
        return QRectF((self.width() - w) / 2.0, (self.height() - h) / 2.0, w, h)

    def cell_at(self, pos: QPointF) -> tuple[int, int] | None:
        """(row, column) of the slice cell under a widget position, None outside."""
        rect = self.image_rect()
        if self.image is None or rect.isEmpty() or not rect.contains(pos):
            return None
        col = int((pos.x() - rect.left()) * self.image.width() / rect.width())
        row = int((pos.y() - rect.top()) * self.image.height() / rect.height())
        return min(row, self.image.height() - 1), min(col, self.image.width() - 1)

    def paintEvent(self, _event: QPaintEvent) -> None:
        painter = QPainter(self)
        try:
            painter.fillRect(self.rect(), BACKGROUND)
            target = self.image_rect()
            if self.image is not None and not target.isEmpty():
                smooth = self.image.width() > target.width()
                painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, smooth)
                painter.drawImage(target, self.image)
            if self.message:
                painter.setPen(TEXT)
                painter.drawText(self.rect().adjusted(8, 8, -8, -8),
                                 Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap,
                                 self.message)
        finally:
            painter.end()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        self._on_hover(self.cell_at(event.position()))

    def leaveEvent(self, event: object) -> None:
        self._on_hover(None)
        super().leaveEvent(event)
