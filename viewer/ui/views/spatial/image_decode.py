"""Encoded images (PNG, JPEG, ...) to QImages: the one image decoding step that needs Qt.

Raw buffers (``Image:format`` + ``Image:buffer``) are decoded once, Qt-free, by
`viewer.scene.images`; its `ImageDecodeError` is re-exported here so callers catch one type
whichever decoder failed.
"""

from __future__ import annotations

from PySide6.QtGui import QImage

from viewer.scene.images import ImageDecodeError

__all__ = ["ImageDecodeError", "encoded_to_qimage"]


def encoded_to_qimage(blob: bytes, media_type: str | None = None) -> QImage:
    """Decode PNG/JPEG/... with Qt's image readers; the media type is a hint, the bytes
    decide (a wrong hint still decodes)."""
    hint = None
    if media_type and media_type.startswith("image/"):
        hint = media_type.split("/", 1)[1].upper()
    image = QImage.fromData(blob, hint) if hint else QImage.fromData(blob)
    if image.isNull() and hint:
        image = QImage.fromData(blob)
    if image.isNull():
        raise ImageDecodeError(
            f"cannot decode {len(blob)} bytes of {media_type or 'unknown media type'}")
    return image
