"""The 2D view: images with everything logged in their pixel space drawn over them.

It paints a ``viewer.scene.draw.Scene`` with ``dims == 2`` (image pixels, y down) and knows
nothing of how scenes are built: whoever creates the view sets ``scene_source`` and each
redraw asks it for the scene at the current cursor. Images, lines, points and labels are
painted by ``view2d_paint``; pan (drag), zoom around the cursor (wheel) and fit
(double-click) live in ``view2d_camera``; hovering reports the pixel under the mouse
(``view2d_hover``).
"""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import (
    QColor,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QResizeEvent,
    QWheelEvent,
)
from PySide6.QtWidgets import QLabel, QWidget

from viewer.scene.draw import Scene
from viewer.store.entity_db import EntityDb
from viewer.store.entity_path import EntityPath
from viewer.ui.time_control import TimeControl
from viewer.ui.views.spatial.scene_view import SceneView
from viewer.ui.views.spatial.view2d_camera import Camera2D, Rect
from viewer.ui.views.spatial.view2d_hover import pixel_report
from viewer.ui.views.spatial.view2d_paint import (
    DrawnImage,
    ImageCache,
    paint_scene,
    visible_space,
)

#: Archetypes a 2D view shows (an entity with a component of one of them is accepted).
ARCHETYPES_2D = frozenset({"Image", "EncodedImage", "DepthImage", "SegmentationImage",
                           "Points2D", "Boxes2D", "LineStrips2D", "Arrows2D"})
#: Zoom factor of one wheel notch (120 eighths of a degree).
ZOOM_PER_NOTCH = 1.2
ERROR_COLOR = QColor(255, 120, 120)
#: Behind error text: a dark box that keeps it readable over any image.
ERROR_BACKGROUND = QColor(20, 22, 26, 220)
#: Zooming out stops when the fitted space is this many times smaller than the widget
#: (Rerun caps its 2D zoom-out at five times the scene's size the same way).
MAX_ZOOM_OUT = 5.0


def _union(a: Rect | None, b: Rect | None) -> Rect | None:
    if a is None or b is None:
        return b if a is None else a
    return min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3])


#: Behind the images (and where there is none).
BACKGROUND = QColor(24, 26, 30)

class Spatial2DView(SceneView):
    dims = 2
    kind_name = "2D"

    def __init__(self, db: EntityDb, entities: Iterable[EntityPath], time_control: TimeControl,
                 title: str = "", parent: QWidget | None = None, *,
                 origin: EntityPath | None = None) -> None:
        super().__init__(db, entities, time_control, title, parent, origin=origin)
        self.scene = Scene(dims=2, origin=self.origin)
        self.images: list[DrawnImage] = []  # the scene's image layers, in scene order
        self.image_cache = ImageCache()
        self.camera = Camera2D()
        self._space: Rect | None = None  # see visible_space()
        self.hover_text = ""
        self._hover_pos: QPointF | None = None
        self._drag_from: QPointF | None = None
        self._hover_label = QLabel(self)
        self._hover_label.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self._hover_label.setStyleSheet(
            "QLabel { background: rgba(0, 0, 0, 190); color: #e6e6e6; padding: 3px 6px;"
            " border-radius: 3px; }")
        self._hover_label.hide()
        self.setMouseTracking(True)
        self.setMinimumSize(64, 48)

    @classmethod
    def accepts(cls, db: EntityDb, entity: EntityPath) -> bool:
        return any(c.split(":", 1)[0] in ARCHETYPES_2D for c in db.components(entity))

    # -- data ---------------------------------------------------------------------------

    def redraw(self) -> None:
        scene = self.scene_source()
        self.images = self.image_cache.update(scene)
        self.scene = scene
        self._space = _union(self._space, visible_space(scene, self.images))
        self._refit()
        if self._hover_pos is not None:  # the pixel under a still mouse may have changed
            self.hover_at(self._hover_pos)
        self.update()

    def errors(self) -> list[str]:
        """Why entities or images could not be drawn (shown at the top left of the view)."""
        out = [f"{e}: {ed.error}" for e, ed in self.scene.entities.items() if ed.error]
        return out + [d.error for d in self.images if d.error]

    # -- geometry -----------------------------------------------------------------------

    def visible_space(self) -> Rect | None:
        """The image-space rectangle a fitted view shows (None: nothing to show so far):
        the union of every scene's space since the last reset, so points moving over time
        do not make a fitted view jump while scrubbing."""
        return self._space

    def _refit(self) -> None:
        if self.camera.auto_fit and self._space is not None:
            self.camera.fit(self._space, self.width(), self.height())

    def image_to_widget(self, x: float, y: float) -> QPointF:
        """Widget position of image-space point (x, y) (pixel centres are at +0.5)."""
        self._refit()
        return QPointF(*self.camera.to_widget(x, y))

    def widget_to_image(self, pos: QPointF) -> QPointF:
        self._refit()
        return QPointF(*self.camera.to_image(pos.x(), pos.y()))

    def reset_view(self) -> None:
        """Fit the current scene's space again (after pan or zoom, or to forget the space
        of earlier frames)."""
        self._space = visible_space(self.scene, self.images)
        self.camera.reset()
        self._refit()
        self.update()

    def zoom_at(self, pos: QPointF, factor: float) -> None:
        self._refit()
        min_scale = 0.0
        if self._space is not None:  # no further out than MAX_ZOOM_OUT times the space
            min_scale = Camera2D.fit_scale(self._space, self.width(), self.height()) \
                / MAX_ZOOM_OUT
        self.camera.zoom_at(pos.x(), pos.y(), factor, min_scale)
        self.update()

    # -- painting -----------------------------------------------------------------------

    def paintEvent(self, _event: QPaintEvent) -> None:
        self._refit()
        painter = QPainter(self)
        try:
            rect = QRectF(self.rect())
            painter.fillRect(rect, BACKGROUND)
            paint_scene(painter, self.scene, self.images, self.camera, rect)
            self._paint_errors(painter, rect)
        finally:
            painter.end()

    def _paint_errors(self, painter: QPainter, rect: QRectF) -> None:
        """Why some entities are missing, top left on a dark box (the hover report uses
        the bottom left)."""
        errors = self.errors()
        if not errors:
            return
        flags = int(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft
                    | Qt.TextFlag.TextWordWrap)
        area = rect.adjusted(12, 10, -12, -10)
        text = "\n".join(errors)
        used = painter.boundingRect(area, flags, text)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(ERROR_BACKGROUND)
        painter.drawRoundedRect(used.adjusted(-6, -4, 6, 4), 4.0, 4.0)
        painter.setPen(ERROR_COLOR)
        painter.drawText(area, flags, text)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._refit()
        self._place_hover_label()

    # -- hover --------------------------------------------------------------------------

    def hover_at(self, pos: QPointF) -> str:
        """Show (and return) what is under widget position ``pos``."""
        self._hover_pos = QPointF(pos)
        p = self.widget_to_image(pos)
        self.hover_text = pixel_report(self.images, p.x(), p.y())
        self._hover_label.setText(self.hover_text)
        self._hover_label.setVisible(bool(self.hover_text))
        self._place_hover_label()
        return self.hover_text

    def _place_hover_label(self) -> None:
        self._hover_label.adjustSize()
        self._hover_label.move(6, max(0, self.height() - self._hover_label.height() - 6))

    def leaveEvent(self, event: object) -> None:
        super().leaveEvent(event)  # type: ignore[arg-type]
        self._hover_pos = None
        self.hover_text = ""
        self._hover_label.hide()

    # -- pan and zoom -------------------------------------------------------------------

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self._drag_from = event.position()
            self.setCursor(Qt.CursorShape.ClosedHandCursor)
            event.accept()
        else:
            super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        pos = event.position()
        if self._drag_from is not None and event.buttons() & Qt.MouseButton.LeftButton:
            self._refit()
            self.camera.pan(pos.x() - self._drag_from.x(), pos.y() - self._drag_from.y())
            self._drag_from = pos
            self.update()
        self.hover_at(pos)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self._drag_from = None
            self.unsetCursor()
        super().mouseReleaseEvent(event)

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self.reset_view()
            event.accept()
        else:
            super().mouseDoubleClickEvent(event)

    def wheelEvent(self, event: QWheelEvent) -> None:
        notches = event.angleDelta().y() / 120.0
        if notches:
            self.zoom_at(event.position(), ZOOM_PER_NOTCH ** notches)
            self.hover_at(event.position())
        event.accept()
