"""Annotation contexts: class id / keypoint id to label, colour and keypoint connections.

An entity uses the nearest ``AnnotationContext`` on itself or an ancestor, latest-at the
cursor (Clear-aware). Lookups resolve as Rerun does: a keypoint's label and colour come
from its keypoint annotation, else from its class; a class with no colour gets the default
colour of its id (a keypoint annotation without any colour: the default of the keypoint
id). A class id the context does not describe has no label, and ``class_color`` gives None
so the caller can use ``colors.class_color`` (``color_for_class`` does both).

The same context row (often static, on ``/``) is asked for by every entity of a scene, so
parsed contexts are cached per row id; nearest-context lookups are memoized per query.
"""

from __future__ import annotations

import weakref
from collections import OrderedDict
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from viewer.scene.colors import RGBA, auto_colors, class_color, unpack_rgba
from viewer.scene.query import LatestAt
from viewer.store.entity_path import EntityPath

CONTEXT = "AnnotationContext:context"
_PARSED_ROWS = 256  # parsed context rows kept


@dataclass(frozen=True, slots=True)
class _Info:
    label: str | None
    color: RGBA | None


@dataclass(slots=True)
class _Class:
    info: _Info
    keypoints: dict[int, _Info] = field(default_factory=dict)
    connections: list[tuple[int, int]] = field(default_factory=list)


class Annotations:
    """One parsed annotation context (empty when an entity has none)."""

    __slots__ = ("_classes", "source", "row_id")

    def __init__(
        self,
        classes: dict[int, _Class] | None = None,
        source: EntityPath | None = None,
        row_id: tuple[int, int] | None = None,
    ) -> None:
        self._classes = classes or {}
        self.source = source  # the entity the context was logged on
        self.row_id = row_id  # (time_ns, inc) of its row: a cache key for callers

    def __bool__(self) -> bool:
        return bool(self._classes)

    def class_ids(self) -> list[int]:
        return sorted(self._classes)

    def class_label(self, class_id: int) -> str | None:
        desc = self._classes.get(int(class_id))
        return None if desc is None else desc.info.label

    def class_color(self, class_id: int) -> RGBA | None:
        """The annotated colour; for a described class without one, the default colour of
        its id; None for a class the context does not describe."""
        desc = self._classes.get(int(class_id))
        if desc is None:
            return None
        return desc.info.color or class_color(int(class_id))

    def color_for_class(self, class_id: int) -> RGBA:
        """The colour Rerun draws a class id with: annotated, else the default of the id."""
        return self.class_color(class_id) or class_color(int(class_id))

    def colors_for_classes(self, class_ids: np.ndarray) -> np.ndarray:
        """(n, 4) uint8 ``color_for_class`` of each id, vectorized over the unique ids."""
        ids = np.asarray(class_ids, dtype=np.int64).ravel()
        if not self._classes:
            return auto_colors(ids)
        unique, inverse = np.unique(ids, return_inverse=True)
        table = np.array([self.color_for_class(int(c)) for c in unique], dtype=np.uint8)
        return table.reshape(-1, 4)[inverse.ravel()]

    def keypoint(self, class_id: int, keypoint_id: int) -> tuple[str | None, RGBA | None]:
        """(label, colour) of a keypoint: its own annotation, else its class's; (None, None)
        when the class is not described."""
        desc = self._classes.get(int(class_id))
        if desc is None:
            return None, None
        kp = desc.keypoints.get(int(keypoint_id))
        if kp is None:
            return desc.info.label, desc.info.color or class_color(int(class_id))
        label = kp.label if kp.label is not None else desc.info.label
        color = kp.color or desc.info.color or class_color(int(keypoint_id))
        return label, color

    def connections(self, class_id: int) -> list[tuple[int, int]]:
        desc = self._classes.get(int(class_id))
        return list(desc.connections) if desc is not None else []


EMPTY = Annotations()

_parsed: OrderedDict[tuple[int, int], dict[int, _Class]] = OrderedDict()
_per_query: weakref.WeakKeyDictionary[LatestAt, dict[EntityPath, Annotations]] = (
    weakref.WeakKeyDictionary()
)


def _info(row: dict | None) -> _Info:
    if not row:
        return _Info(None, None)
    color = row.get("color")
    rgba = None
    if color is not None:
        r, g, b, a = unpack_rgba([color])[0]
        rgba = (int(r), int(g), int(b), int(a))
    return _Info(row.get("label"), rgba)


def parse_context(cell: pa.Array) -> dict[int, _Class]:
    """class id -> description, from one ``AnnotationContext:context`` cell (one instance:
    the list of class descriptions)."""
    classes: dict[int, _Class] = {}
    items = [item for instance in cell.to_pylist() for item in instance or ()]
    for item in items:
        if not item:
            continue
        desc = item.get("class_description") or {}
        class_id = int(item["class_id"])
        keypoints: dict[int, _Info] = {}
        for kp in desc.get("keypoint_annotations") or []:
            if kp is not None:
                keypoints[int(kp["id"])] = _info(kp)
        connections = [
            (int(c["keypoint0"]), int(c["keypoint1"]))
            for c in desc.get("keypoint_connections") or []
            if c is not None
        ]
        classes[class_id] = _Class(_info(desc.get("info")), keypoints, connections)
    return classes


def _classes_of_row(row_id: tuple[int, int], cell: pa.Array) -> dict[int, _Class]:
    hit = _parsed.get(row_id)
    if hit is None:
        hit = _parsed[row_id] = parse_context(cell)
        while len(_parsed) > _PARSED_ROWS:
            _parsed.popitem(last=False)
    else:
        _parsed.move_to_end(row_id)
    return hit


def annotations_for(query: LatestAt, entity: EntityPath) -> Annotations:
    """The nearest annotation context on ``entity`` or an ancestor at the query's cursor."""
    memo = _per_query.get(query)
    if memo is None:
        memo = _per_query[query] = {}
    found = memo.get(entity)
    if found is not None:
        return found
    walked: list[EntityPath] = []
    path: EntityPath | None = entity
    found = EMPTY
    while path is not None:
        known = memo.get(path)
        if known is not None:
            found = known
            break
        walked.append(path)
        if CONTEXT in query.db.components(path):
            res = query.result(path, CONTEXT)
            if res is not None:
                row_id = (int(res.row_id.time_ns), int(res.row_id.inc))
                found = Annotations(_classes_of_row(row_id, res.value), path, row_id)
                break
        path = path.parent
    for p in walked:
        memo[p] = found
    return found
