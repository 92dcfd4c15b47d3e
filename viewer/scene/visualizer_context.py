"""What a visualizer gets besides its entity (apart from `build`, which runs the
visualizers, so that they never import it back)."""

from __future__ import annotations

from dataclasses import dataclass, field

from viewer.scene.annotations import Annotations, annotations_for
from viewer.scene.query import LatestAt
from viewer.scene.transforms import EntityTransform
from viewer.store.entity_path import EntityPath


@dataclass
class VisualizerContext:
    """What a visualizer needs besides its entity: the query, the view's dims, and the
    entity's transform (`transform`) and the archetype being drawn (`archetype`), both
    set per call by `build_scene`."""

    query: LatestAt
    dims: int
    origin: EntityPath
    transform: EntityTransform
    archetype: str = ""
    _annotations: dict[EntityPath, Annotations] = field(default_factory=dict)

    def annotations_for(self, entity: EntityPath) -> Annotations:
        """The nearest annotation context of ``entity`` (memoized for this build)."""
        ann = self._annotations.get(entity)
        if ann is None:
            ann = self._annotations[entity] = annotations_for(self.query, entity)
        return ann
