"""3D point clouds at the time cursor, drawn without OpenGL.

``redraw`` gathers the latest-at positions/colors/radii of every entity into flat arrays (only
when a row changed); ``paintEvent`` projects them with an ``OrbitCamera``, sorts far to near
and splats them into an image with numpy (``splat.py``: QPainter strokes points one by one,
far too slow for big clouds). Colours are drawn opaque. Drag to orbit (left) or pan
(right/middle), wheel to zoom, double-click to fit.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QColor, QImage, QMouseEvent, QPainter, QPaintEvent, QPen, QWheelEvent
from PySide6.QtWidgets import QVBoxLayout, QWidget

from viewer.store.entity_db import EntityDb
from viewer.store.entity_path import EntityPath
from viewer.ui.time_control import TimeControl
from viewer.ui.views.arrow_values import changed_point_clouds, per_instance
from viewer.ui.views.base import View
from viewer.ui.views.plot.timeseries import auto_color
from viewer.ui.views.spatial.orbit_camera import OrbitCamera
from viewer.ui.views.spatial.splat import pack_rgb32, splat

POSITIONS = "Points3D:positions"


def _default_rgba(entity: EntityPath) -> tuple[int, int, int, int]:
    return (*auto_color(entity, 0), 255)

DEFAULT_RADIUS_PX = 2.0
MAX_DIAMETER_PX = 256.0
BACKGROUND = QColor(24, 26, 30)


class _Canvas(QWidget):
    """Paints the projected cloud; owns no data, asks its view."""

    def __init__(self, view: Points3DView) -> None:
        super().__init__(view)
        self._view = view
        self._drag_button: Qt.MouseButton | None = None
        self._last = QPointF()
        self.setMinimumSize(80, 60)
        self.setMouseTracking(False)

    def paintEvent(self, _event: QPaintEvent) -> None:
        painter = QPainter(self)
        try:
            self._view.paint_scene(painter, self.width(), self.height())
        finally:
            painter.end()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        self._drag_button = event.button()
        self._last = event.position()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._drag_button is None:
            return
        pos = event.position()
        dx, dy = pos.x() - self._last.x(), pos.y() - self._last.y()
        self._last = pos
        cam = self._view.camera
        if self._drag_button == Qt.MouseButton.LeftButton:
            cam.orbit(dx, dy)
        else:
            cam.pan(dx, dy, self.height())
        self._view.user_moved_camera()

    def mouseReleaseEvent(self, _event: QMouseEvent) -> None:
        self._drag_button = None

    def mouseDoubleClickEvent(self, _event: QMouseEvent) -> None:
        self._view.fit_camera()

    def wheelEvent(self, event: QWheelEvent) -> None:
        self._view.camera.zoom(event.angleDelta().y() / 120.0)
        self._view.user_moved_camera()


class Points3DView(View):
    kind_name = "3D points"

    def __init__(self, db: EntityDb, entities: Iterable[EntityPath], time_control: TimeControl,
                 title: str = "", parent: QWidget | None = None) -> None:
        super().__init__(db, entities, time_control, title, parent)
        self.camera = OrbitCamera()
        self.auto_fit = True  # until the user moves the camera
        # Bounding box of everything shown so far: the camera fits it and only backs off when
        # it grows, so scrubbing through time does not make the view jump.
        self.seen_bounds: tuple[np.ndarray, np.ndarray] | None = None
        self.canvas = _Canvas(self)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.canvas)
        self._shown: dict[EntityPath, tuple[object, object, object]] = {}
        self._parts: dict[EntityPath, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
        self.points = np.empty((0, 3))
        self.rgba = np.empty((0, 4), dtype=np.uint8)
        self.radii = np.empty(0)  # Rerun semantics: >0 scene units, <0 UI points

    @classmethod
    def accepts(cls, db: EntityDb, entity: EntityPath) -> bool:
        return POSITIONS in db.components(entity)

    # ------------------------------------------------------------------ data

    def redraw(self) -> None:
        timeline, t = self.time_control.timeline, self.time_control.time
        changed = False
        for entity, xyz, rgba, radii_cell in changed_point_clouds(
                self.db, self.entities, "Points3D", 3, timeline, t, self._shown, _default_rgba):
            changed = True
            radii = per_instance(radii_cell, len(xyz), -DEFAULT_RADIUS_PX)
            self._parts[entity] = (xyz, rgba, radii)
        if not changed:
            return
        parts = [self._parts[e] for e in self.entities if e in self._parts]
        if parts:
            self.points = np.concatenate([p[0] for p in parts])
            self.rgba = np.concatenate([p[1] for p in parts])
            self.radii = np.concatenate([p[2] for p in parts])
        if self._grow_seen_bounds() and self.auto_fit:
            self._fit_seen()
        self.canvas.update()

    def _grow_seen_bounds(self) -> bool:
        finite = self.points[np.isfinite(self.points).all(axis=1)]
        if len(finite) == 0:
            return False
        lo, hi = finite.min(axis=0), finite.max(axis=0)
        if self.seen_bounds is None:
            self.seen_bounds = (lo, hi)
            return True
        old_lo, old_hi = self.seen_bounds
        if (lo >= old_lo).all() and (hi <= old_hi).all():
            return False
        self.seen_bounds = (np.minimum(lo, old_lo), np.maximum(hi, old_hi))
        return True

    def _fit_seen(self) -> None:
        if self.seen_bounds is not None:
            self.camera.fit(np.stack(self.seen_bounds))

    def point_count(self) -> int:
        return len(self.points)

    # ------------------------------------------------------------------ camera

    def user_moved_camera(self) -> None:
        self.auto_fit = False
        self.canvas.update()

    def fit_camera(self) -> None:
        """Fit what is shown now (double-click), and follow the data again."""
        self.auto_fit = True
        finite = self.points[np.isfinite(self.points).all(axis=1)]
        self.seen_bounds = (finite.min(axis=0), finite.max(axis=0)) if len(finite) else None
        self._fit_seen()
        self.canvas.update()

    # ------------------------------------------------------------------ drawing

    def projected(self, width: int | None = None, height: int | None = None
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(xy, rgba, diameter_px) of the visible points in canvas pixels, far to near."""
        w = self.canvas.width() if width is None else width
        h = self.canvas.height() if height is None else height
        if len(self.points) == 0:
            return np.empty((0, 2)), np.empty((0, 4), np.uint8), np.empty(0)
        proj = self.camera.project(self.points, w, h)
        diam = np.where(self.radii > 0, 2.0 * self.radii * proj.px_per_unit,
                        2.0 * np.abs(self.radii))
        diam = np.clip(diam, 1.0, MAX_DIAMETER_PX)
        margin = diam / 2.0
        xy = proj.xy
        keep = (proj.visible & np.isfinite(xy).all(axis=1)
                & (xy[:, 0] > -margin) & (xy[:, 0] < w + margin)
                & (xy[:, 1] > -margin) & (xy[:, 1] < h + margin))
        idx = np.flatnonzero(keep)
        idx = idx[np.argsort(-proj.depth[idx], kind="stable")]
        return xy[idx], self.rgba[idx], diam[idx]

    def render(self, width: int, height: int) -> QImage:
        """The scene as an image: background, axes, then the points splatted far to near."""
        image = QImage(max(width, 1), max(height, 1), QImage.Format.Format_RGB32)
        image.fill(BACKGROUND)
        painter = QPainter(image)
        try:
            self._paint_axes(painter, width, height)
        finally:
            painter.end()
        xy, rgba, diam = self.projected(width, height)
        if len(xy):
            pixels = np.frombuffer(image.bits(), dtype=np.uint32)
            pixels = pixels.reshape(image.height(), image.bytesPerLine() // 4)[:, : image.width()]
            splat(pixels, xy, pack_rgb32(rgba), diam)
        return image

    def paint_scene(self, painter: QPainter, width: int, height: int) -> None:
        painter.drawImage(0, 0, self.render(width, height))

    def _paint_axes(self, painter: QPainter, width: int, height: int) -> None:
        """World axes at the origin (X red, Y green, Z blue), scaled to the scene."""
        length = max(self.camera.distance * 0.25, 1e-6)
        ends = np.array([[0.0, 0.0, 0.0], [length, 0, 0], [0, length, 0], [0, 0, length]])
        proj = self.camera.project(ends, width, height)
        if not proj.visible[0]:
            return
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        origin = QPointF(*proj.xy[0])
        for i, color in ((1, QColor(220, 60, 60)), (2, QColor(60, 200, 60)),
                         (3, QColor(70, 110, 230))):
            if proj.visible[i]:
                painter.setPen(QPen(color, 1.5))
                painter.drawLine(origin, QPointF(*proj.xy[i]))
