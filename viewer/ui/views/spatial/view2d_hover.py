"""What hovering a pixel of a 2D view reports: its coordinates and, for every image under
it (top first), the value there: colour channels, depth in metres, or class id and label."""

from __future__ import annotations

import math

import numpy as np

from viewer.ui.views.spatial.view2d_paint import DrawnImage

_CHANNEL_NAMES = {1: "L", 2: "LA", 3: "RGB", 4: "RGBA"}


def _number(v: object) -> str:
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    f = float(v)  # type: ignore[arg-type]
    return f"{f:.4g}" if math.isfinite(f) else str(f)


def _at(array: np.ndarray, px: int, py: int) -> np.ndarray | None:
    if array.ndim < 2 or not (0 <= py < array.shape[0] and 0 <= px < array.shape[1]):
        return None
    return np.atleast_1d(array[py, px])


def value_text(drawn: DrawnImage, px: int, py: int) -> str | None:
    """The value of image pixel (px, py), or None when the pixel is outside the image."""
    layer = drawn.layer
    if layer.archetype == "DepthImage" and layer.values is not None:
        # The scene gives depth in metres; ``meter`` (raw units per metre) recovers the
        # logged value, shown too when it differs.
        v = _at(layer.values, px, py)
        if v is None:
            return None
        metres = float(v[0])
        text = f"depth {_number(metres)} m"
        meter = float(layer.meter) if layer.meter else 1.0
        return text if meter == 1.0 else f"{text} (raw {_number(metres * meter)})"
    if layer.archetype == "SegmentationImage" and layer.values is not None:
        v = _at(layer.values, px, py)
        if v is None:
            return None
        class_id = int(v[0])
        label = layer.class_labels.get(class_id)
        return f"class {class_id}" + (f" {label}" if label else "")
    source = layer.values if layer.values is not None else layer.rgba
    if source is not None:
        v = _at(source, px, py)
        if v is None:
            return None
        name = _CHANNEL_NAMES.get(len(v), f"{len(v)} channels")
        return f"{name} " + ", ".join(_number(x) for x in v.tolist())
    image = drawn.image
    if image is None or not (0 <= px < image.width() and 0 <= py < image.height()):
        return None
    c = image.pixelColor(px, py)
    if image.hasAlphaChannel():
        return f"RGBA {c.red()}, {c.green()}, {c.blue()}, {c.alpha()}"
    return f"RGB {c.red()}, {c.green()}, {c.blue()}"


def pixel_report(images: list[DrawnImage], x: float, y: float) -> str:
    """Lines for the overlay: the pixel under view point (x, y) and each image's value
    there, topmost (highest draw order) first; off every image, the point itself.
    An image placed differently from the topmost one names its own pixel."""
    if not (math.isfinite(x) and math.isfinite(y)):
        return ""
    header: tuple[int, int] | None = None
    values: list[str] = []
    ordered = sorted(enumerate(images), key=lambda p: (p[1].layer.draw_order, p[0]))
    for _i, drawn in reversed(ordered):
        local = drawn.local(x, y)
        if local is None:
            continue
        px, py = math.floor(local[0]), math.floor(local[1])
        text = value_text(drawn, px, py)
        if text is None:
            continue
        if header is None:
            header = (px, py)
        where = "" if header == (px, py) else f" at pixel x {px}  y {py}"
        values.append(f"{drawn.layer.entity}{where}: {text}")
    if header is None:
        return f"x {x:.1f}  y {y:.1f}"
    return "\n".join([f"pixel x {header[0]}  y {header[1]}", *values])
