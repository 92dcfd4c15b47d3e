"""The 3D view: a whole ``viewer.scene.draw.Scene`` (dims 3) drawn by the numpy rasterizer.

Whoever creates the view sets ``scene_source``; each redraw asks it for the scene at the
cursor, so the view knows nothing of how scenes are built. The same pixels come out in a
window and offscreen (``raster3d``: OpenGL draws nothing offscreen). Labels are painted
with QPainter over the image, centred under their anchors as in Rerun.

Left-drag orbits, right/middle-drag pans, the wheel zooms, double-click focuses the entity
under the cursor (empty space: reset), R / Home or the right-click menu reset the view.
The camera follows the scene's bounds until the user moves it. A scene too heavy to draw
in full at interactive rates is drawn as a preview (half resolution, a quarter of the
points, half of the segments when there are over 20 000, see-through closed shapes by
their silhouette) while the mouse moves, then in full once it rests.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import (
    QAction,
    QColor,
    QContextMenuEvent,
    QFontMetrics,
    QImage,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QResizeEvent,
    QWheelEvent,
)
from PySide6.QtWidgets import QMenu, QWidget

from viewer.scene.draw import Scene
from viewer.store.entity_db import EntityDb
from viewer.store.entity_path import EntityPath
from viewer.ui.time_control import TimeControl
from viewer.ui.views.spatial.orbit_camera import OrbitCamera, up_vector
from viewer.ui.views.spatial.raster3d import (
    Frame,
    PreparedScene,
    decimated,
    prepare,
    project_labels,
    render,
)
from viewer.ui.views.spatial.scene_view import SceneView
from viewer.ui.views.spatial.view2d_paint import LABEL_CULL_MARGIN, paint_label

#: Archetypes a 3D view shows (an entity with a component of one of them is accepted).
ARCHETYPES_3D = frozenset({
    "Points3D", "LineStrips3D", "Boxes3D", "Arrows3D", "Ellipsoids3D", "Capsules3D",
    "Cylinders3D", "Mesh3D", "Asset3D", "Transform3D", "InstancePoses3D", "Pinhole",
    "ViewCoordinates"})
#: Labels beyond this many on screen are not drawn (text is slow and unreadable anyway).
MAX_LABELS = 200
#: A full frame slower than this is replaced by a preview while the mouse moves.
PREVIEW_ABOVE_S = 0.025
#: The preview draws one point in this many,
PREVIEW_POINT_STRIDE = 4
#: and one line segment in this many when the scene has more than PREVIEW_SEGMENTS_ABOVE
#: (about half of a preview's time is per-segment work at any resolution).
PREVIEW_SEGMENT_STRIDE = 2
PREVIEW_SEGMENTS_ABOVE = 20_000
#: After the last mouse move or wheel step, this long without input draws the full frame.
SETTLE_MS = 150
#: A focused entity is framed at least this fraction of the scene's radius wide.
FOCUS_LEAST_FRACTION = 0.05
ERROR_COLOR = QColor(255, 120, 120)


class Spatial3DView(SceneView):
    dims = 3
    kind_name = "3D"
    #: The entity a double-click focused (None: empty space, the view was reset).
    focused = Signal(object)

    def __init__(self, db: EntityDb, entities: Iterable[EntityPath], time_control: TimeControl,
                 title: str = "", parent: QWidget | None = None, *,
                 origin: EntityPath | None = None) -> None:
        super().__init__(db, entities, time_control, title, parent, origin=origin)
        self.camera = OrbitCamera()
        self.auto_fit = True  # until the user moves the camera
        #: Bounds of everything shown so far: the camera backs off only when they grow,
        #: so scrubbing through time does not make the view jump.
        self.seen_bounds: tuple[np.ndarray, np.ndarray] | None = None
        self.scene = Scene(dims=3, origin=self.origin)
        self.prepared: PreparedScene = prepare(self.scene)
        self._preview_scene: PreparedScene | None = None
        self._frame: Frame | None = None
        self._frame_key: tuple | None = None
        self.last_full_render_s = 0.0
        self.last_paint_s = 0.0
        self.last_paint_preview = False
        self._interacting = False
        self._settle = QTimer(self)
        self._settle.setSingleShot(True)
        self._settle.setInterval(SETTLE_MS)
        self._settle.timeout.connect(self._settled)
        self._drag_button: Qt.MouseButton | None = None
        self._press_pos = QPointF()
        self._last_pos = QPointF()
        self._dragged = False
        self.reset_action = QAction("Reset view  (R, Home)", self)
        self.reset_action.triggered.connect(self.reset_view)
        self.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)  # the image covers all
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.DefaultContextMenu)
        self.setMinimumSize(64, 48)

    @classmethod
    def accepts(cls, db: EntityDb, entity: EntityPath) -> bool:
        return any(c.split(":", 1)[0] in ARCHETYPES_3D for c in db.components(entity))

    # -- data ---------------------------------------------------------------------------

    def redraw(self) -> None:
        self.set_scene(self.scene_source())

    def set_scene(self, scene: Scene) -> None:
        """Show ``scene`` (redraw does this with ``scene_source()``). A scene made of the
        very draws shown now (the scene layer's cache hands back an unchanged entity's
        draw object) keeps the prepared arrays and the rendered frame."""
        same = (scene.up == self.scene.up and len(scene.entities) == len(self.scene.entities)
                and all(a == b and da is db for (a, da), (b, db)
                        in zip(scene.entities.items(), self.scene.entities.items(),
                               strict=False)))
        self.scene = scene
        if same:
            return
        up = up_vector(scene.up)
        if not np.array_equal(up, self.camera.up):
            self.camera.up = up
            self.seen_bounds = None
        self.prepared = prepare(scene)
        self._preview_scene = None
        self._frame = None
        if self._grow_seen_bounds() and self.auto_fit:
            self._fit_seen()
        self.update()

    def errors(self) -> list[str]:
        return [f"{e}: {ed.error}" for e, ed in self.scene.entities.items() if ed.error]

    def _grow_seen_bounds(self) -> bool:
        bounds = self.prepared.bounds
        if bounds is None:
            return False
        lo, hi = (np.asarray(b, np.float64) for b in bounds)
        if self.seen_bounds is None:
            self.seen_bounds = (lo, hi)
            return True
        old_lo, old_hi = self.seen_bounds
        if (lo >= old_lo).all() and (hi <= old_hi).all():
            return False
        self.seen_bounds = (np.minimum(lo, old_lo), np.maximum(hi, old_hi))
        return True

    def _aspect(self) -> float:
        return self.width() / max(self.height(), 1)

    def _fit_seen(self) -> None:
        if self.seen_bounds is not None:
            self.camera.fit_bounds(*self.seen_bounds, aspect=self._aspect())

    # -- camera -------------------------------------------------------------------------

    def reset_view(self) -> None:
        """Default angles, fitted to what is shown now, and follow the data again."""
        fresh = OrbitCamera()
        self.camera.yaw, self.camera.pitch = fresh.yaw, fresh.pitch
        self.auto_fit = True
        self.seen_bounds = self.prepared.bounds
        self._fit_seen()
        self.update()

    def focus_entity(self, entity: EntityPath) -> bool:
        """Fit the camera to what ``entity`` draws (the user chose the framing)."""
        bounds = self.prepared.entity_bounds(entity)
        if bounds is None:
            return False
        lo, hi = bounds
        # A single point (or a flat thing) gets a frame of a few % of the scene around it.
        least = FOCUS_LEAST_FRACTION * self.prepared.radius
        grow = np.maximum(least - (hi - lo), 0.0) / 2.0
        self.camera.fit_bounds(lo - grow, hi + grow, aspect=self._aspect())
        self.auto_fit = False
        self.update()
        return True

    def user_moved_camera(self) -> None:
        self.auto_fit = False
        self._interacting = True
        self._settle.start()
        self.update()

    def _settled(self) -> None:
        self._interacting = False
        self.update()

    # -- rendering ----------------------------------------------------------------------

    def _camera_key(self) -> tuple:
        c = self.camera
        return (tuple(c.target.tolist()), c.yaw, c.pitch, c.distance, c.fov_y,
                tuple(c.up.tolist()))

    def wants_preview(self) -> bool:
        return self._interacting and self.last_full_render_s > PREVIEW_ABOVE_S

    def frame(self, preview: bool = False) -> Frame:
        """The scene rendered at the widget's size (cached until the camera, size or scene
        change); ``preview``: half resolution, a quarter of the points (and half of the
        segments of a scene with very many), see-through closed shapes by their front
        faces at the opacity of front and back."""
        dpr = self.devicePixelRatioF()
        scale = 0.5 if preview else 1.0
        w = max(1, int(round(self.width() * dpr * scale)))
        h = max(1, int(round(self.height() * dpr * scale)))
        key = (self._camera_key(), w, h, preview, id(self.prepared))
        if self._frame is not None and self._frame_key == key:
            return self._frame
        scene = self.prepared
        if preview:
            if self._preview_scene is None:
                many = self.prepared.n_segments > PREVIEW_SEGMENTS_ABOVE
                self._preview_scene = decimated(
                    self.prepared, PREVIEW_POINT_STRIDE,
                    PREVIEW_SEGMENT_STRIDE if many else 1)
            scene = self._preview_scene
        t0 = time.perf_counter()
        frame = render(scene, self.camera, w, h, px_per_point=dpr * scale)
        if not preview:
            self.last_full_render_s = time.perf_counter() - t0
        self._frame, self._frame_key = frame, key
        return frame

    def entity_at(self, pos: QPointF) -> EntityPath | None:
        """The entity drawn under widget position ``pos`` (a full frame is used)."""
        dpr = self.devicePixelRatioF()
        return self.frame(preview=False).entity_at(pos.x() * dpr, pos.y() * dpr,
                                                   reach=int(math.ceil(3 * dpr)))

    def visible_labels(self) -> list[tuple[float, float, str, tuple[int, int, int, int]]]:
        """(x, y, text, colour) in widget coordinates of the labels drawn now."""
        return project_labels(self.prepared, self.camera, self.width(), self.height(),
                              limit=MAX_LABELS, margin=LABEL_CULL_MARGIN)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if self.auto_fit:  # a narrower view needs the camera further back to show it all
            self._fit_seen()

    def paintEvent(self, _event: QPaintEvent) -> None:
        t0 = time.perf_counter()
        preview = self.wants_preview()
        frame = self.frame(preview)
        # Opaque 0xFFRRGGBB is also valid premultiplied ARGB: the format the backing store
        # uses, so the blit needs no conversion.
        image = QImage(frame.rgb32.data, frame.width, frame.height, frame.width * 4,
                       QImage.Format.Format_ARGB32_Premultiplied)
        painter = QPainter(self)
        try:
            painter.drawImage(QRectF(self.rect()), image,
                              QRectF(0, 0, frame.width, frame.height))
            self._paint_labels(painter)
            errors = self.errors()
            if errors:
                painter.setPen(ERROR_COLOR)
                painter.drawText(QRectF(self.rect()).adjusted(8, 8, -8, -8),
                                 int(Qt.AlignmentFlag.AlignBottom | Qt.TextFlag.TextWordWrap),
                                 "\n".join(errors))
        finally:
            painter.end()
        self.last_paint_preview = preview
        self.last_paint_s = time.perf_counter() - t0

    def _paint_labels(self, painter: QPainter) -> None:
        labels = self.visible_labels()
        if not labels:
            return
        # As in Rerun: centred under the projected anchor, the nearest painted last.
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        metrics = QFontMetrics(painter.font())
        for x, y, text, rgba in labels:
            paint_label(painter, metrics, QPointF(x, y), text, rgba)

    # -- interaction --------------------------------------------------------------------

    def mousePressEvent(self, event: QMouseEvent) -> None:
        self._drag_button = event.button()
        self._press_pos = self._last_pos = event.position()
        self._dragged = False

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._drag_button is None:
            return
        pos = event.position()
        dx, dy = pos.x() - self._last_pos.x(), pos.y() - self._last_pos.y()
        self._last_pos = pos
        if (pos - self._press_pos).manhattanLength() > 2:
            self._dragged = True
        if self._drag_button == Qt.MouseButton.LeftButton:
            self.camera.orbit(dx, dy)
        else:
            self.camera.pan(dx, dy, self.height())
        self.user_moved_camera()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        button, self._drag_button = self._drag_button, None
        if button == Qt.MouseButton.RightButton and not self._dragged:
            self._show_menu(event.globalPosition().toPoint())
        if self._interacting:
            self._settle.stop()
            self._settled()

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:
        # A right button press may start a pan: the menu opens on a release without drag.
        if event.reason() != QContextMenuEvent.Reason.Mouse:
            self._show_menu(event.globalPos())

    def _show_menu(self, global_pos) -> None:
        menu = QMenu(self)
        menu.addAction(self.reset_action)
        menu.popup(global_pos)

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        entity = self.entity_at(event.position())
        if entity is None or not self.focus_entity(entity):
            entity = None
            self.reset_view()
        self.focused.emit(entity)

    def wheelEvent(self, event: QWheelEvent) -> None:
        self.camera.zoom(event.angleDelta().y() / 120.0)
        self.user_moved_camera()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_R, Qt.Key.Key_Home):
            self.reset_view()
            return
        super().keyPressEvent(event)

