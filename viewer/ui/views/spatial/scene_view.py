"""What the 2D and 3D views share: an origin, and a scene source set by whoever makes them.

A spatial view knows nothing of how scenes are built (`viewer.ui.views.registry` gives it
`scene_source`, a `build_scene` at the time cursor); tests hand it scenes directly.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from PySide6.QtWidgets import QWidget

from viewer.scene.draw import Scene
from viewer.store.entity_db import EntityDb
from viewer.store.entity_path import EntityPath
from viewer.ui.time_control import TimeControl
from viewer.ui.views.base import View


class SceneView(View):
    """A view drawing a `Scene` of ``dims`` dimensions seen from ``origin``."""

    dims = 3

    def __init__(self, db: EntityDb, entities: Iterable[EntityPath], time_control: TimeControl,
                 title: str = "", parent: QWidget | None = None, *,
                 origin: EntityPath | None = None) -> None:
        super().__init__(db, entities, time_control, title, parent)
        self.origin = origin if origin is not None else EntityPath.root()
        if not title:
            self.title = str(self.origin)
        #: Gives the scene at the current cursor; set by whoever creates the view.
        self.scene_source: Callable[[], Scene] = lambda: Scene(dims=self.dims, origin=self.origin)
