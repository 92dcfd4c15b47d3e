"""Images at the time cursor: raw ``Image`` / ``DepthImage`` buffers and ``EncodedImage`` blobs.

The latest-at rows are looked up on every cursor move, but an image is decoded only when
its row changed. The picture is scaled to the widget keeping its aspect ratio (nearest
neighbour when enlarging, so pixels stay pixels); hovering shows the pixel under the mouse.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QImage, QMouseEvent, QPainter, QPaintEvent
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from viewer.store.entity_db import EntityDb
from viewer.store.entity_path import EntityPath
from viewer.ui.time_control import TimeControl
from viewer.ui.views.arrow_values import flat_values, latest, row_key
from viewer.ui.views.base import View
from viewer.ui.views.spatial.image_decode import (
    ImageDecodeError,
    ImageFormat,
    encoded_to_qimage,
    raw_to_qimage,
)

#: (buffer column, format column) of raw image archetypes.
RAW_KINDS = (("Image:buffer", "Image:format"), ("DepthImage:buffer", "DepthImage:format"))
BLOB = "EncodedImage:blob"
MEDIA_TYPE = "EncodedImage:media_type"
BACKGROUND = QColor(24, 26, 30)


def is_image_entity(components: Iterable[str]) -> bool:
    comps = set(components)
    return BLOB in comps or any(b in comps and f in comps for b, f in RAW_KINDS)


@dataclass(slots=True)
class DecodedImage:
    entity: EntityPath
    image: QImage | None
    description: str
    error: str | None = None


def _bytes_of(cell: pa.Array) -> np.ndarray:
    """The bytes of a one-instance blob/buffer cell (``list<list<uint8>>`` slice), as a
    uint8 array (a view of the Arrow buffer when it has no nulls: no copy)."""
    if len(cell) == 0:
        return np.empty(0, dtype=np.uint8)
    return np.asarray(flat_values(cell[0:1]).to_numpy(zero_copy_only=False), dtype=np.uint8)


def image_rows(db: EntityDb, entity: EntityPath, timeline: str | None, t: int | None
               ) -> tuple[object, tuple]:
    """Cheap lookup of the latest-at rows that make up the image (no decoding)."""
    comps = set(db.components(entity))
    for buffer_col, format_col in RAW_KINDS:
        if buffer_col in comps:
            buf = latest(db, entity, buffer_col, timeline, t)
            fmt = latest(db, entity, format_col, timeline, t)
            key = ("raw", row_key(buf), row_key(fmt)) if buf is not None else None
            return key, (buf, fmt)
    if BLOB in comps:
        blob = latest(db, entity, BLOB, timeline, t)
        media = latest(db, entity, MEDIA_TYPE, timeline, t)
        key = ("encoded", row_key(blob), row_key(media)) if blob is not None else None
        return key, (blob, media)
    return None, ()


def decode_rows(entity: EntityPath, rows: tuple[object, tuple]) -> DecodedImage:
    key, (main, extra) = rows
    try:
        if key is not None and key[0] == "raw":
            if extra is None or len(extra.value) == 0:
                raise ImageDecodeError("image buffer has no format")
            fmt = ImageFormat.from_dict(extra.value[0].as_py())
            data = _bytes_of(main.value)
            return DecodedImage(entity, raw_to_qimage(data, fmt), fmt.describe())
        media = None
        if extra is not None and len(extra.value):
            media = extra.value[0].as_py()
        blob = _bytes_of(main.value).tobytes()
        image = encoded_to_qimage(blob, media)
        desc = f"{image.width()}×{image.height()} {media or 'encoded'} ({len(blob)} bytes)"
        return DecodedImage(entity, image, desc)
    except ImageDecodeError as exc:
        return DecodedImage(entity, None, "", f"{entity}: {exc}")


class _ImageCanvas(QWidget):
    def __init__(self, view: ImageView) -> None:
        super().__init__(view)
        self._view = view
        self.setMinimumSize(64, 48)
        self.setMouseTracking(True)

    def image_rect(self) -> QRectF:
        """Where the first image is drawn: fitted into the widget, aspect ratio kept."""
        image = self._view.current_image()
        if image is None or image.width() == 0 or image.height() == 0:
            return QRectF()
        scale = min(self.width() / image.width(), self.height() / image.height())
        w, h = image.width() * scale, image.height() * scale
        return QRectF((self.width() - w) / 2.0, (self.height() - h) / 2.0, w, h)

    def paintEvent(self, _event: QPaintEvent) -> None:
        painter = QPainter(self)
        try:
            painter.fillRect(self.rect(), BACKGROUND)
            target = self.image_rect()
            first = self._view.current_image()
            if first is not None and first.width() > target.width():
                painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
            for decoded in self._view.decoded:
                if decoded.image is not None and not target.isEmpty():
                    painter.drawImage(target, decoded.image)
            errors = [d.error for d in self._view.decoded if d.error]
            if errors:
                painter.setPen(QColor(255, 120, 120))
                painter.drawText(self.rect().adjusted(8, 8, -8, -8),
                                 Qt.AlignmentFlag.AlignBottom | Qt.TextFlag.TextWordWrap,
                                 "\n".join(errors))
        finally:
            painter.end()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        self._view.show_pixel_at(event.position())


class ImageView(View):
    kind_name = "Image"

    def __init__(self, db: EntityDb, entities: Iterable[EntityPath], time_control: TimeControl,
                 title: str = "", parent: QWidget | None = None) -> None:
        super().__init__(db, entities, time_control, title, parent)
        self.canvas = _ImageCanvas(self)
        self.info = QLabel(self)
        self.info.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.canvas, 1)
        layout.addWidget(self.info)
        self.decoded: list[DecodedImage] = []
        self._keys: dict[EntityPath, object] = {}
        self._by_entity: dict[EntityPath, DecodedImage] = {}
        self.decode_count = 0

    @classmethod
    def accepts(cls, db: EntityDb, entity: EntityPath) -> bool:
        return is_image_entity(db.components(entity))

    def redraw(self) -> None:
        timeline, t = self.time_control.timeline, self.time_control.time
        changed = False
        for entity in self.entities:
            rows = image_rows(self.db, entity, timeline, t)
            key = rows[0]
            if entity in self._keys and self._keys[entity] == key:
                continue
            self._keys[entity] = key
            changed = True
            if key is None:
                self._by_entity.pop(entity, None)
            else:
                self._by_entity[entity] = decode_rows(entity, rows)
                self.decode_count += 1
        if not changed:
            return
        self.decoded = [self._by_entity[e] for e in self.entities if e in self._by_entity]
        self.info.setText("   ".join(f"{d.entity}: {d.description}" for d in self.decoded
                                     if d.image is not None))
        self.canvas.update()

    def current_image(self) -> QImage | None:
        """The first decoded image at the cursor (the one that sets the drawing rectangle)."""
        for decoded in self.decoded:
            if decoded.image is not None:
                return decoded.image
        return None

    def widget_to_pixel(self, pos: QPointF) -> tuple[int, int] | None:
        image = self.current_image()
        rect = self.canvas.image_rect()
        if image is None or rect.isEmpty() or not rect.contains(pos):
            return None
        x = int((pos.x() - rect.left()) * image.width() / rect.width())
        y = int((pos.y() - rect.top()) * image.height() / rect.height())
        return min(x, image.width() - 1), min(y, image.height() - 1)

    def show_pixel_at(self, pos: QPointF) -> None:
        pixel = self.widget_to_pixel(pos)
        image = self.current_image()
        if pixel is None or image is None:
            self.canvas.setToolTip("")
            return
        c = image.pixelColor(*pixel)
        self.canvas.setToolTip(f"x={pixel[0]} y={pixel[1]}  rgba=({c.red()}, {c.green()}, "
                               f"{c.blue()}, {c.alpha()})")
