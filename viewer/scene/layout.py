"""What ``viewer layout --json`` prints: each recording's default views at one time cursor.

For every view of `heuristics.default_views`, each entity it draws with its archetypes, the
instances drawn at the cursor (0 when cleared or not yet logged) and, in spatial views, its
origin-from-entity transform. Spatial numbers come from `build.build_scene`, the function
the window's views draw from, so this output is what the window shows.

Also here, because the window needs the same rules: which timeline a recording opens on
(`default_timeline`) and how a time typed by a user is read (`parse_time`).
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any

import numpy as np

from viewer.scene.blueprint import Blueprint
from viewer.scene.blueprint_views import blueprint_views, unshown_by_blueprint
from viewer.scene.build import build_scene
from viewer.scene.heuristics import (
    MAP_COMPONENTS,
    PER_ENTITY_KINDS,
    SCALARS_COMPONENT,
    TEXT_COMPONENT,
    ViewSpec,
    default_views,
    unshown,
    view_archetypes,
)
from viewer.scene.query import LatestAt
from viewer.scene.transforms import TransformResolver
from viewer.store.chunk import TimelineKind
from viewer.store.entity_db import EntityDb

#: Timelines rerun-sdk adds by itself: chosen only when a recording has no other.
AUTOMATIC_TIMELINES = ("log_time", "log_tick")
SPATIAL_DIMS = {"spatial3d": 3, "spatial2d": 2}
#: The components whose latest-at instances a non-spatial view shows.
_PRIMARY: dict[str, tuple[str, ...]] = {
    "time_series": (SCALARS_COMPONENT,),
    "text_log": (TEXT_COMPONENT,),
    "map": MAP_COMPONENTS,
    **{kind: (component,) for kind, (component, _) in PER_ENTITY_KINDS.items()},
}
_NS = 1_000_000_000


class TimeParseError(ValueError):
    """A time that does not fit its timeline; the message says what was expected."""


def default_timeline(timelines: dict[str, TimelineKind]) -> str | None:
    """The timeline a recording opens on: the user's own before the SDK's automatic ones,
    sequences before temporal timelines, then by name (as the window's time panel)."""
    if not timelines:
        return None

    def rank(name: str) -> tuple[int, int, str]:
        automatic = name in AUTOMATIC_TIMELINES
        return (int(automatic), 0 if timelines[name] is TimelineKind.SEQUENCE else 1, name)

    return min(timelines, key=rank)


_DURATION = re.compile(
    r"^(?P<sign>[-+])?P(?:(?P<d>\d+(?:\.\d+)?)D)?"
    r"(?:T(?:(?P<h>\d+(?:\.\d+)?)H)?(?:(?P<m>\d+(?:\.\d+)?)M)?(?:(?P<s>\d+(?:\.\d+)?)S)?)?$"
)
_FRACTION = re.compile(r"^(?P<head>[^.,]*T\d\d:\d\d:\d\d)[.,](?P<frac>\d+)(?P<tail>.*)$")


def parse_time(text: str, kind: TimelineKind) -> int:
    """A user's time on a timeline of ``kind``: a sequence number; on temporal timelines
    an integer of nanoseconds, or ISO-8601 (``2023-11-14T22:13:23.5Z`` for timestamps, naive
    means UTC; ``PT3.5S`` for durations), to the nanosecond."""
    text = text.strip()
    if re.fullmatch(r"[-+]?\d+", text):
        return int(text)
    if kind is TimelineKind.SEQUENCE:
        raise TimeParseError(f"{text!r} is not a sequence number (an integer)")
    if kind is TimelineKind.DURATION:
        return _parse_duration(text)
    return _parse_timestamp(text)


def _parse_duration(text: str) -> int:
    match = _DURATION.match(text.upper())
    if match is None or not any(match.group(k) for k in "dhms"):
        raise TimeParseError(
            f"{text!r} is neither nanoseconds nor an ISO-8601 duration such as PT3.5S")
    seconds = Decimal(0)
    for key, unit in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if match.group(key):
            seconds += Decimal(match.group(key)) * unit
    ns = int(seconds * _NS)
    return -ns if match.group("sign") == "-" else ns


def _parse_timestamp(text: str) -> int:
    extra_ns = 0
    frac = _FRACTION.match(text)
    if frac is not None:  # datetime keeps microseconds: carry the digits beyond by hand
        digits = frac.group("frac")[:9].ljust(9, "0")
        extra_ns = int(digits)
        text = frac.group("head") + frac.group("tail")
    try:
        stamp = dt.datetime.fromisoformat(text)
    except ValueError:
        raise TimeParseError(
            f"{text!r} is neither nanoseconds nor an ISO-8601 date-time such as "
            "2023-11-14T22:13:23.5Z") from None
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=dt.UTC)
    seconds = int((stamp - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)) // dt.timedelta(seconds=1))
    return seconds * _NS + extra_ns


def time_cursor(db: EntityDb, timeline: str | None,
                time_text: str | None) -> tuple[str | None, int | None]:
    """(timeline, t) for one recording: the named or default timeline, at the given time or
    at its end. A recording without that timeline (or any) gets static data only."""
    timelines = db.timelines()
    name = timeline if timeline is not None else default_timeline(timelines)
    if name is None or name not in timelines:
        return None, None
    if time_text is not None:
        return name, parse_time(time_text, timelines[name])
    span = db.time_range(name)
    return name, None if span is None else span[1]


def _matrix(m: np.ndarray) -> list[float]:
    """Row-major floats, rounded to 12 decimals (no ``6e-17`` noise, no ``-0.0``)."""
    return [round(float(v), 12) + 0.0 for v in np.asarray(m, np.float64).reshape(16)]


def view_layout(db: EntityDb, view: ViewSpec, timeline: str | None, t: int | None,
                resolver: TransformResolver,
                errors: dict[str, str] | None = None) -> dict[str, Any]:
    """One view's JSON: kind, name, origin and, per entity, archetypes, instances and (in
    spatial views) the origin-from-entity transform (null when not connected). Why an
    entity could not be drawn goes into ``errors`` (path -> message), not the JSON."""
    entities: dict[str, Any] = {}
    dims = SPATIAL_DIMS.get(view.kind)
    if dims is not None:
        scene = build_scene(db, view.origin, view.entities, dims, timeline, t, resolver)
        resolved = resolver.resolve(LatestAt(db, timeline, t), view.origin, view.entities)
        for entity in view.entities:
            draw = scene.entities.get(entity)
            placed = resolved.get(entity)
            if errors is not None and draw is not None and draw.error:
                errors[str(entity)] = draw.error
            transform = None if placed is None else (
                draw.transform if draw is not None else placed.origin_from_entity)
            entities[str(entity)] = {
                "archetypes": view_archetypes(db, view, entity),
                "instances": 0 if draw is None else int(draw.instances),
                "transform": None if transform is None else _matrix(transform),
            }
    else:
        query = LatestAt(db, timeline, t)
        for entity in view.entities:
            cells = [query.cell(entity, c) for c in _PRIMARY.get(view.kind, ())]
            entities[str(entity)] = {
                "archetypes": view_archetypes(db, view, entity),
                "instances": sum(len(cell) for cell in cells if cell is not None),
            }
    return {"kind": view.kind, "name": view.name, "origin": str(view.origin),
            "entities": entities}


def recording_layout(db: EntityDb, timeline: str | None, t: int | None,
                     errors: list[str] | None = None,
                     blueprint: tuple[str, Blueprint] | None = None) -> dict[str, Any]:
    """One recording's JSON: ids, ``blueprint`` (null: the heuristic views; "recording":
    the blueprint the recording carries; else the ``.rbl`` file it came from), views and
    the entities no view shows. Drawing errors are appended to ``errors`` as
    ``"view 'name': /path: message"``."""
    if blueprint is not None:
        placed = blueprint_views(db, blueprint[1])
        views = [p.spec for p in placed if p.spec is not None]
        hidden = unshown_by_blueprint(db, placed)
        if errors is not None:
            errors.extend(f"view {p.view.name!r}: kind {p.view.class_identifier!r} is not "
                          "drawn by this viewer" for p in placed
                          if p.spec is None and p.view.visible)
    else:
        views = default_views(db)
        hidden = unshown(db, views)
    resolver = TransformResolver(db)
    store = db.store_id
    out_views = []
    for view in views:
        failed: dict[str, str] = {}
        out_views.append(view_layout(db, view, timeline, t, resolver, failed))
        if errors is not None:
            errors.extend(f"view {view.name!r}: {path}: {msg}" for path, msg in failed.items())
    return {
        "application_id": store.application_id,
        "recording_id": store.recording_id,
        "blueprint": None if blueprint is None else blueprint[0],
        "views": out_views,
        "unshown": {str(e): reason for e, reason in hidden.items()},
    }
