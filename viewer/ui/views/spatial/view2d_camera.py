"""Pan and zoom of a 2D view: image pixels (y down) to widget pixels and back.

The mapping is a uniform scale plus an offset (``widget = image * scale + offset``), so an
image keeps its aspect ratio at every zoom. A camera that the user has not moved fits the
visible space into the widget on every paint (it follows a growing scene and the widget's
size); panning or zooming stops that until ``reset()``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Zoom limits, in widget pixels per image pixel.
MIN_SCALE = 1e-4
MAX_SCALE = 1e4

Rect = tuple[float, float, float, float]  # x0, y0, x1, y1


@dataclass(slots=True)
class Camera2D:
    scale: float = 1.0
    offset_x: float = 0.0
    offset_y: float = 0.0
    #: True until the user pans or zooms: ``fit`` then places the space in the widget.
    auto_fit: bool = True

    @staticmethod
    def fit_scale(space: Rect, width: float, height: float) -> float:
        """The scale at which ``space`` just fits a widget of this size."""
        x0, y0, x1, y1 = space
        sw, sh = max(x1 - x0, 1e-9), max(y1 - y0, 1e-9)
        return min(max(min(width / sw, height / sh), MIN_SCALE), MAX_SCALE)

    def fit(self, space: Rect, width: float, height: float) -> None:
        """Show ``space`` as large as the widget allows, centred, aspect ratio kept."""
        x0, y0, x1, y1 = space
        sw, sh = max(x1 - x0, 1e-9), max(y1 - y0, 1e-9)
        if width <= 0 or height <= 0:
            return
        self.scale = self.fit_scale(space, width, height)
        self.offset_x = (width - sw * self.scale) / 2.0 - x0 * self.scale
        self.offset_y = (height - sh * self.scale) / 2.0 - y0 * self.scale

    def to_widget(self, x: float, y: float) -> tuple[float, float]:
        return x * self.scale + self.offset_x, y * self.scale + self.offset_y

    def to_image(self, wx: float, wy: float) -> tuple[float, float]:
        return (wx - self.offset_x) / self.scale, (wy - self.offset_y) / self.scale

    def map_array(self, xy: np.ndarray) -> np.ndarray:
        """(..., 2) image coordinates to widget coordinates."""
        out = np.empty(xy.shape, dtype=np.float64)
        out[..., 0] = xy[..., 0] * self.scale + self.offset_x
        out[..., 1] = xy[..., 1] * self.scale + self.offset_y
        return out

    def zoom_at(self, wx: float, wy: float, factor: float, min_scale: float = MIN_SCALE
                ) -> None:
        """Zoom by ``factor`` keeping the image point under widget point (wx, wy) fixed;
        zooming out stops at ``min_scale`` (a camera already below it stays where it is)."""
        ix, iy = self.to_image(wx, wy)
        floor = max(min(min_scale, self.scale), MIN_SCALE)
        self.scale = min(max(self.scale * factor, floor), MAX_SCALE)
        self.offset_x = wx - ix * self.scale
        self.offset_y = wy - iy * self.scale
        self.auto_fit = False

    def pan(self, dx: float, dy: float) -> None:
        """Move the picture by (dx, dy) widget pixels."""
        self.offset_x += dx
        self.offset_y += dy
        self.auto_fit = False

    def reset(self) -> None:
        """Back to fitting the visible space (double-click)."""
        self.auto_fit = True
