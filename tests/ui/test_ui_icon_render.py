"""The icon PNGs: the shipped ones are today's SVG rendering, and the QPainter fallback (no
Qt SVG module) draws the same picture."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtGui import QImage

from viewer.ui.icon_render import ICON_SIZES, draw_icon, png_name, render_svg, svg_available

ICONS = Path(__file__).resolve().parents[2] / "resources" / "icons"
SVG = ICONS / "rrd-viewer.svg"


def rgba(image: QImage) -> np.ndarray:
    image = image.convertToFormat(QImage.Format.Format_RGBA8888)
    raw = np.frombuffer(image.constBits(), np.uint8, image.sizeInBytes())
    return raw.reshape(image.height(), image.bytesPerLine())[:, : image.width() * 4] \
        .reshape(image.height(), image.width(), 4).astype(int)


def test_shipped_pngs_match_the_svg(qapp) -> None:
    assert svg_available()
    for size in ICON_SIZES:
        shipped = QImage(str(ICONS / png_name(size)))
        assert (shipped.width(), shipped.height()) == (size, size)
        diff = np.abs(rgba(shipped) - rgba(render_svg(SVG, size)))
        assert diff.max() <= 2, (size, diff.max())  # re-run scripts/render_icons.py


def test_painter_fallback_draws_the_same_icon(qapp) -> None:
    size = 128
    drawn, rendered = rgba(draw_icon(size)), rgba(render_svg(SVG, size))
    assert np.abs(drawn - rendered).mean() < 3.0
    s = size / 64
    px = lambda x, y: tuple(drawn[int(y * s), int(x * s)])  # noqa: E731
    assert px(0.5, 0.5)[3] == 0  # outside the rounded corner: transparent
    assert px(20, 58)[:3] == (0x1B, 0x1F, 0x27)  # the dark tile
    assert px(34, 18)[:3] == (0x5A, 0xA9, 0xFF)  # a vertex of the blue line
    assert px(34, 50)[:3] == (0xFF, 0xB4, 0x54)  # the orange cursor dot
