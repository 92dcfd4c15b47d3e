"""Blueprints: the layout a Rerun user wrote in code, read from a blueprint store.

A blueprint store is an ordinary store (kind BLUEPRINT) whose entities describe the layout
(measured on files written by rerun-sdk 0.41, see docs/blueprints.md):

- ``/viewport``: ``ViewportBlueprint:root_container`` (a 16-byte UUID), ``auto_views``, ...
- ``/container/<uuid>``: ``ContainerBlueprint:container_kind`` (1 tabs, 2 horizontal,
  3 vertical, 4 grid), ``contents`` (``"view/<uuid>"`` / ``"container/<uuid>"`` in order),
  ``col_shares`` / ``row_shares``, ``active_tab``, ``grid_columns``, ``visible``.
- ``/view/<uuid>``: ``ViewBlueprint:class_identifier`` (``"3D"``, ``"TimeSeries"``, ...),
  ``display_name``, ``space_origin``, ``visible``; ``/view/<uuid>/ViewContents``:
  ``ViewContents:query``, lines such as ``+ $origin/**`` or ``- /world/debug``.
- ``/blueprint_panel``, ``/selection_panel``, ``/time_panel``: ``PanelBlueprint:state`` /
  ``TimePanelBlueprint:state`` (1 hidden, 2 collapsed, 3 expanded).

Values are read latest-at at the end of the store's ``blueprint`` timeline (the SDK logs
blueprints there), static data winning as always. Components this module does not apply
are listed in ``Blueprint.unapplied`` so the window can say so once.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from viewer.store.entity_db import EntityDb, LatestAtResult
from viewer.store.entity_path import EntityPath

BLUEPRINT_TIMELINE = "blueprint"

CONTAINER_KINDS = {1: "tabs", 2: "horizontal", 3: "vertical", 4: "grid"}
PANEL_STATES = {1: "hidden", 2: "collapsed", 3: "expanded"}
PANELS = {"/blueprint_panel": "blueprint", "/selection_panel": "selection",
          "/time_panel": "time"}

#: Rerun view class identifiers -> the view kinds of this viewer.
VIEW_KINDS = {
    "3D": "spatial3d", "2D": "spatial2d", "TimeSeries": "time_series", "TextLog": "text_log",
    "TextDocument": "text_document", "BarChart": "bar_chart", "Tensor": "tensor",
    "Graph": "graph", "Map": "map", "Dataframe": "dataframe",
}

#: Components applied by this module; anything else found in the store is "unapplied".
APPLIED = {
    "ViewportBlueprint:root_container", "ViewportBlueprint:auto_views",
    "ContainerBlueprint:container_kind", "ContainerBlueprint:contents",
    "ContainerBlueprint:col_shares", "ContainerBlueprint:row_shares",
    "ContainerBlueprint:active_tab", "ContainerBlueprint:grid_columns",
    "ContainerBlueprint:visible", "ContainerBlueprint:display_name",
    "ViewBlueprint:class_identifier", "ViewBlueprint:display_name",
    "ViewBlueprint:space_origin", "ViewBlueprint:visible", "ViewContents:query",
    "PanelBlueprint:state", "TimePanelBlueprint:state",
}


@dataclass(slots=True)
class BlueprintView:
    id: str  # "view/<uuid>"
    class_identifier: str
    name: str
    origin: EntityPath
    query: list[str]
    visible: bool = True

    @property
    def kind(self) -> str | None:
        """Our view kind, or None for a class this viewer does not know."""
        return VIEW_KINDS.get(self.class_identifier)


@dataclass(slots=True)
class BlueprintContainer:
    id: str  # "container/<uuid>"
    kind: str  # "horizontal", "vertical", "grid", "tabs"
    children: list[BlueprintContainer | BlueprintView] = field(default_factory=list)
    shares: list[float] = field(default_factory=list)  # per child, along the split
    row_shares: list[float] = field(default_factory=list)  # grid rows
    active_tab: str | None = None  # id of the active child of a tabs container
    grid_columns: int | None = None
    visible: bool = True
    name: str | None = None


@dataclass(slots=True)
class Blueprint:
    root: BlueprintContainer | None
    views: list[BlueprintView]  # every view reachable from the root, in layout order
    panels: dict[str, str] = field(default_factory=dict)  # "time" -> "collapsed", ...
    auto_views: bool | None = None
    #: ``Archetype:field`` components present in the store that are not applied.
    unapplied: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # dangling ids, cycles, ...


class _Reader:
    """Latest-at reads at the end of the blueprint timeline."""

    def __init__(self, db: EntityDb) -> None:
        self.db = db
        rng = db.time_range(BLUEPRINT_TIMELINE)
        self.t = rng[1] if rng is not None else None

    def result(self, entity: EntityPath, component: str) -> LatestAtResult | None:
        if component not in self.db.components(entity):
            return None
        if self.t is None:
            return self.db.latest_static(entity, component)
        return self.db.latest_at(entity, component, BLUEPRINT_TIMELINE, self.t)

    def values(self, entity: EntityPath, component: str) -> list | None:
        res = self.result(entity, component)
        return None if res is None else res.value.to_pylist()

    def first(self, entity: EntityPath, component: str) -> object | None:
        values = self.values(entity, component)
        return values[0] if values else None


def _uuid_text(raw: object) -> str | None:
    """A UUID component (16 bytes as a list of ints, or bytes) as canonical text."""
    try:
        data = bytes(raw) if not isinstance(raw, bytes | bytearray) else bytes(raw)
        return str(uuid.UUID(bytes=data)) if len(data) == 16 else None
    except (TypeError, ValueError):
        return None


def is_blueprint_db(db: EntityDb) -> bool:
    return any(str(e) == "/viewport" or str(e).startswith("/container/")
               for e in db.entities())


def read_blueprint(db: EntityDb) -> Blueprint | None:
    """The layout described by a blueprint store, or None when it has no viewport."""
    reader = _Reader(db)
    viewport = EntityPath.parse("/viewport")
    if viewport not in set(db.entities()):
        return None
    problems: list[str] = []
    root_raw = reader.first(viewport, "ViewportBlueprint:root_container")
    auto_views = reader.first(viewport, "ViewportBlueprint:auto_views")
    root_id = _uuid_text(root_raw) if root_raw is not None else None
    views: list[BlueprintView] = []
    visiting: set[str] = set()

    def load(ref: str) -> BlueprintContainer | BlueprintView | None:
        kind, _, _ = ref.partition("/")
        entity = EntityPath.parse("/" + ref)
        if entity not in known:
            problems.append(f"{ref} is named in the layout but not in the blueprint")
            return None
        if kind == "view":
            view = _load_view(reader, ref, entity)
            if view is not None:
                views.append(view)
            return view
        if ref in visiting:
            problems.append(f"{ref} contains itself")
            return None
        visiting.add(ref)
        try:
            return _load_container(reader, ref, entity, load)
        finally:
            visiting.discard(ref)

    known = set(db.entities())
    root = None
    if root_id is not None:
        loaded = load(f"container/{root_id}")
        if isinstance(loaded, BlueprintContainer):
            root = loaded
    panels: dict[str, str] = {}
    for path, name in PANELS.items():
        entity = EntityPath.parse(path)
        if entity in known:
            state = (reader.first(entity, "PanelBlueprint:state")
                     or reader.first(entity, "TimePanelBlueprint:state"))
            if isinstance(state, int) and state in PANEL_STATES:
                panels[name] = PANEL_STATES[state]
    unapplied = sorted({c for e in known for c in db.components(e)} - APPLIED)
    return Blueprint(root, views, panels, None if auto_views is None else bool(auto_views),
                     unapplied, problems)


def _load_view(reader: _Reader, ref: str, entity: EntityPath) -> BlueprintView | None:
    cls = reader.first(entity, "ViewBlueprint:class_identifier")
    if not isinstance(cls, str):
        return None
    name = reader.first(entity, "ViewBlueprint:display_name")
    origin_text = reader.first(entity, "ViewBlueprint:space_origin")
    try:
        origin = EntityPath.parse(origin_text) if isinstance(origin_text, str) else EntityPath.root()
    except ValueError:
        origin = EntityPath.root()
    query = reader.values(entity.join("ViewContents"), "ViewContents:query")
    visible = reader.first(entity, "ViewBlueprint:visible")
    return BlueprintView(ref, cls, name if isinstance(name, str) else str(origin), origin,
                         [q for q in (query if query is not None else ["$origin/**"])
                          if isinstance(q, str)],
                         visible is not False)


def _load_container(reader: _Reader, ref: str, entity: EntityPath, load) -> BlueprintContainer:  # noqa: ANN001
    kind_raw = reader.first(entity, "ContainerBlueprint:container_kind")
    kind = CONTAINER_KINDS.get(kind_raw if isinstance(kind_raw, int) else 0, "horizontal")
    contents = reader.values(entity, "ContainerBlueprint:contents") or []
    children = []
    child_shares: list[float] = []
    share_key = ("ContainerBlueprint:col_shares" if kind in ("horizontal", "grid")
                 else "ContainerBlueprint:row_shares")
    shares = reader.values(entity, share_key) or []
    for i, child_ref in enumerate(c for c in contents if isinstance(c, str)):
        child = load(child_ref)
        if child is None:
            continue
        children.append(child)
        share = shares[i] if i < len(shares) else None
        child_shares.append(float(share) if isinstance(share, int | float) and share > 0
                            else 1.0)
    row_shares = reader.values(entity, "ContainerBlueprint:row_shares") if kind == "grid" else []
    active = reader.first(entity, "ContainerBlueprint:active_tab")
    columns = reader.first(entity, "ContainerBlueprint:grid_columns")
    visible = reader.first(entity, "ContainerBlueprint:visible")
    name = reader.first(entity, "ContainerBlueprint:display_name")
    return BlueprintContainer(
        ref, kind, children, child_shares,
        [float(s) for s in (row_shares or []) if isinstance(s, int | float)],
        active if isinstance(active, str) else None,
        int(columns) if isinstance(columns, int) and columns > 0 else None,
        visible is not False, name if isinstance(name, str) else None)


# ---------------------------------------------------------------------- view contents


@dataclass(frozen=True, slots=True)
class _Rule:
    include: bool
    path: EntityPath
    subtree: bool  # "/**": the path and everything below it


class EntityFilter:
    """Rerun's view contents: lines ``+ /path/**``, ``- /path``, ``$origin`` substituted.

    For an entity the most specific matching rule decides (an exact path beats a subtree,
    a deeper subtree beats a shallower one, and an exclusion beats an inclusion of the same
    specificity); no matching rule means not included."""

    def __init__(self, query: list[str], origin: EntityPath) -> None:
        self.rules: list[_Rule] = []
        for raw in query:
            for line in raw.splitlines():
                rule = _parse_rule(line, origin)
                if rule is not None:
                    self.rules.append(rule)

    def matches(self, entity: EntityPath) -> bool:
        best: tuple[int, int, bool] | None = None  # (specificity, exclusion, include)
        for rule in self.rules:
            if rule.subtree:
                if not (entity == rule.path or entity.is_descendant_of(rule.path)):
                    continue
                spec = 2 * len(rule.path)
            else:
                if entity != rule.path:
                    continue
                spec = 2 * len(rule.path) + 1
            key = (spec, 0 if rule.include else 1, rule.include)
            if best is None or key[:2] > best[:2]:
                best = key
        return best is not None and best[2]


def _parse_rule(line: str, origin: EntityPath) -> _Rule | None:
    text = line.strip()
    if not text:
        return None
    include = True
    if text[0] in "+-":
        include = text[0] == "+"
        text = text[1:].strip()
    text = text.replace("$origin", str(origin) if len(origin) else "")
    subtree = text.endswith("/**") or text == "**"
    if subtree:
        text = text[: -2] if text != "**" else "/"
    text = text.rstrip("/") or "/"
    if not text.startswith("/"):
        text = "/" + text
    try:
        path = EntityPath.parse(text)
    except ValueError:
        return None
    return _Rule(include, path, subtree)
