"""The graph a Graph view shows at the time cursor: nodes and edges of all its entities.

Rerun scopes node ids by entity: an edge of ``/net`` from ``"a"`` to ``"b"`` joins the nodes
``"a"`` and ``"b"`` logged by ``GraphNodes`` on ``/net`` itself. An edge end with no such
node still gets drawn as an *implicit* node (small, grey, no label, placed by the layout).
All entities of a view share one drawing and one layout, so logging nodes and edges on the
same entity is what connects them; the same id on two entities names two nodes.

Defaults and shapes follow Rerun: labels are shown unless ``show_labels`` is false, a node
without a label is labelled with its id. A labelled node *is* its label: a box around the
text (``LABEL_MARGIN`` inside, a ``LABEL_BORDER`` outline) centred on the node; only a node
without a shown label is a circle (radius 4 scene units unless logged). Edges run between
the two nodes' outlines (a box's edge, a circle's rim) along the line joining their
centres, and are left out while the two shapes overlap; directed edges end in an arrow head
``ARROW_SIZE`` long whose tip touches the target. The layout keeps nodes apart by a
collision radius that encloses each shape (``collision_radii``).

Text size needs a font, which this layer does not have: ``collect_graph`` takes a
``measure`` function (the view passes its font metrics); ``approx_text_size`` is a
font-free estimate for callers without one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from viewer.scene.query import LatestAt
from viewer.store.entity_path import EntityPath

NODE_IDS = "GraphNodes:node_ids"
NODE_POSITIONS = "GraphNodes:positions"
NODE_COLORS = "GraphNodes:colors"
NODE_LABELS = "GraphNodes:labels"
NODE_RADII = "GraphNodes:radii"
NODE_SHOW_LABELS = "GraphNodes:show_labels"
EDGES = "GraphEdges:edges"
GRAPH_TYPE = "GraphEdges:graph_type"
#: GraphType enum values as rerun-sdk writes them.
UNDIRECTED, DIRECTED = 1, 2

DEFAULT_RADIUS = 4.0
IMPLICIT_RADIUS = 4.0
DEFAULT_NODE_COLOR = (220, 220, 220, 255)
IMPLICIT_NODE_COLOR = (140, 140, 140, 255)
EDGE_COLOR = (200, 200, 200, 255)
ARROW_SIZE = 10.0
#: Space between a label's text and its box (x, y, each side) and the box's outline width.
LABEL_MARGIN = (6.0, 4.0)
LABEL_BORDER = 1.0

TextMeasure = Callable[[str], tuple[float, float]]

NodeKey = tuple[EntityPath, str]


@dataclass(slots=True)
class GraphData:
    """Nodes (explicit ones in logged order per entity, then implicit ones) and edges."""

    keys: list[NodeKey] = field(default_factory=list)
    positions: np.ndarray = field(default_factory=lambda: np.empty((0, 2)))  # NaN: to place
    colors: np.ndarray = field(default_factory=lambda: np.empty((0, 4), np.uint8))
    radii: np.ndarray = field(default_factory=lambda: np.empty(0))  # of circle nodes
    labels: list[str | None] = field(default_factory=list)  # None: a circle, no label
    #: (n, 2) width and height of each node's shape: its label box, or 2r x 2r.
    sizes: np.ndarray = field(default_factory=lambda: np.empty((0, 2)))
    explicit: np.ndarray = field(default_factory=lambda: np.empty(0, bool))
    edges: np.ndarray = field(default_factory=lambda: np.empty((0, 2), np.int64))
    directed: np.ndarray = field(default_factory=lambda: np.empty(0, bool))

    def __len__(self) -> int:
        return len(self.keys)

    def layout_key(self) -> tuple:
        """Equal keys: the same layout problem (nodes, logged positions, edges, sizes)."""
        return (tuple(self.keys), self.positions.tobytes(), self.edges.tobytes(),
                self.sizes.tobytes())

    @property
    def boxed(self) -> np.ndarray:
        """(n,) True for nodes drawn as a label box, False for circles."""
        return np.array([text is not None for text in self.labels], dtype=bool)

    def index(self) -> dict[NodeKey, int]:
        return {k: i for i, k in enumerate(self.keys)}


def _flat(cell: pa.Array | None) -> pa.Array | None:
    if cell is None:
        return None
    while pa.types.is_list(cell.type) or pa.types.is_large_list(cell.type):
        cell = cell.flatten()
    return cell


def _broadcast(values: list, n: int, default: object) -> list:
    """Rerun's clamping: a shorter list repeats its last value, an empty one the default."""
    if not values:
        return [default] * n
    return (values + [values[-1]] * n)[:n]


def _rgba(packed: int | None, default: tuple[int, int, int, int]) -> tuple[int, int, int, int]:
    if packed is None:
        return default
    p = int(packed)
    return ((p >> 24) & 0xFF, (p >> 16) & 0xFF, (p >> 8) & 0xFF, p & 0xFF)


def approx_text_size(text: str) -> tuple[float, float]:
    """A font-free guess at a text's size (scene units) in a ~13 px sans-serif font."""
    return 7.0 * len(text), 16.0


def label_box_size(text_size: tuple[float, float]) -> tuple[float, float]:
    """The outer size of a label box around text of ``text_size``."""
    pad = 2.0 * LABEL_BORDER
    return (text_size[0] + 2.0 * LABEL_MARGIN[0] + pad,
            text_size[1] + 2.0 * LABEL_MARGIN[1] + pad)


def collision_radii(sizes: np.ndarray, boxed: np.ndarray) -> np.ndarray:
    """Per node the radius of a circle enclosing its shape: half a box's diagonal (so
    circles that do not overlap mean boxes that do not), a circle's own radius."""
    sizes = np.asarray(sizes, dtype=np.float64).reshape(-1, 2)
    return np.where(boxed, 0.5 * np.hypot(sizes[:, 0], sizes[:, 1]), 0.5 * sizes[:, 0])


def collect_graph(query: LatestAt, entities: list[EntityPath],
                  measure: TextMeasure = approx_text_size) -> GraphData:
    """The nodes and edges of ``entities`` at the query's time cursor (Clear honoured);
    ``measure`` gives a label text's size, for the label boxes."""
    keys: list[NodeKey] = []
    pos: list[tuple[float, float]] = []
    colors: list[tuple[int, int, int, int]] = []
    radii: list[float] = []
    labels: list[str | None] = []
    explicit: list[bool] = []
    index: dict[NodeKey, int] = {}
    for entity in entities:
        ids_cell = _flat(query.cell(entity, NODE_IDS))
        if ids_cell is None or len(ids_cell) == 0:
            continue
        ids = [str(v) for v in ids_cell.to_pylist()]
        n = len(ids)
        pcell = _flat(query.cell(entity, NODE_POSITIONS))
        if pcell is not None and len(pcell):
            xy = np.asarray(pcell.flatten().to_numpy(zero_copy_only=False),
                            dtype=np.float64).reshape(-1, 2)
            given = _broadcast([tuple(p) for p in xy], n, (np.nan, np.nan))
        else:
            given = [(np.nan, np.nan)] * n
        ccell = _flat(query.cell(entity, NODE_COLORS))
        cols = _broadcast(ccell.to_pylist() if ccell is not None else [], n, None)
        rcell = _flat(query.cell(entity, NODE_RADII))
        rads = _broadcast(rcell.to_pylist() if rcell is not None else [], n, DEFAULT_RADIUS)
        lcell = _flat(query.cell(entity, NODE_LABELS))
        labs = _broadcast(lcell.to_pylist() if lcell is not None else [], n, None)
        scell = _flat(query.cell(entity, NODE_SHOW_LABELS))
        show = scell is None or len(scell) == 0 or bool(scell[0].as_py())
        for i, node in enumerate(ids):
            key = (entity, node)
            if key in index:  # a repeated id: the first one counts
                continue
            index[key] = len(keys)
            keys.append(key)
            pos.append(given[i])
            colors.append(_rgba(cols[i], DEFAULT_NODE_COLOR))
            radii.append(abs(float(rads[i])) if rads[i] is not None else DEFAULT_RADIUS)
            labels.append((labs[i] if labs[i] is not None else node) if show else None)
            explicit.append(True)
    edges: list[tuple[int, int]] = []
    directed: list[bool] = []
    for entity in entities:
        ecell = _flat(query.cell(entity, EDGES))
        if ecell is None or len(ecell) == 0:
            continue
        tcell = _flat(query.cell(entity, GRAPH_TYPE))
        is_directed = (tcell is not None and len(tcell) > 0
                       and tcell[0].as_py() == DIRECTED)
        firsts = ecell.field("first").to_pylist()
        seconds = ecell.field("second").to_pylist()
        for a, b in zip(firsts, seconds, strict=True):
            ends = []
            for node in (str(a), str(b)):
                key = (entity, node)
                if key not in index:  # an implicit node
                    index[key] = len(keys)
                    keys.append(key)
                    pos.append((np.nan, np.nan))
                    colors.append(IMPLICIT_NODE_COLOR)
                    radii.append(IMPLICIT_RADIUS)
                    labels.append(None)
                    explicit.append(False)
                ends.append(index[key])
            edges.append((ends[0], ends[1]))
            directed.append(is_directed)
    sizes = [label_box_size(measure(text)) if text is not None else (2.0 * r, 2.0 * r)
             for text, r in zip(labels, radii, strict=True)]
    return GraphData(
        keys=keys,
        positions=np.array(pos, dtype=np.float64).reshape(-1, 2),
        colors=np.array(colors, dtype=np.uint8).reshape(-1, 4),
        radii=np.array(radii, dtype=np.float64),
        labels=labels,
        sizes=np.array(sizes, dtype=np.float64).reshape(-1, 2),
        explicit=np.array(explicit, dtype=bool),
        edges=np.array(edges, dtype=np.int64).reshape(-1, 2),
        directed=np.array(directed, dtype=bool),
    )


def _outline_distance(half: np.ndarray, boxed: np.ndarray, unit: np.ndarray) -> np.ndarray:
    """How far from a node's centre its outline is along ``unit``: where the ray leaves
    the box (the nearer of its vertical and horizontal sides), or a circle's radius."""
    with np.errstate(divide="ignore"):
        tx = np.where(unit[:, 0] != 0, half[:, 0] / np.abs(unit[:, 0]), np.inf)
        ty = np.where(unit[:, 1] != 0, half[:, 1] / np.abs(unit[:, 1]), np.inf)
    return np.where(boxed, np.minimum(tx, ty), half[:, 0])


def edge_geometry(positions: np.ndarray, sizes: np.ndarray, boxed: np.ndarray,
                  edges: np.ndarray, directed: np.ndarray, arrow: float = ARROW_SIZE
                  ) -> tuple[np.ndarray, np.ndarray]:
    """(segments (m, 2, 2), arrow heads (k, 3, 2)) for the edges between placed nodes.

    A segment runs along the line between the two centres, from the source's outline to
    the target's (``sizes``: (n, 2) box or circle extents, ``boxed``: which are boxes). An
    arrow head is a triangle with its tip on the target's outline and its base ``arrow``
    back along the edge and ``arrow`` wide. Left out: self-edges, and edges whose ends
    coincide or overlap (no room for a line)."""
    if len(edges) == 0:
        return np.empty((0, 2, 2)), np.empty((0, 3, 2))
    sizes = np.asarray(sizes, dtype=np.float64).reshape(-1, 2)
    boxed = np.asarray(boxed, dtype=bool).reshape(-1)
    s, t = edges[:, 0], edges[:, 1]
    src, dst = positions[s], positions[t]
    d = dst - src
    length = np.hypot(d[:, 0], d[:, 1])
    half_s, half_t = 0.5 * sizes[s], 0.5 * sizes[t]
    reach = half_s + half_t
    either_box = boxed[s] | boxed[t]
    overlap = np.where(either_box, (np.abs(d) < reach).all(axis=1), length < reach[:, 0])
    ok = (s != t) & (length > 0) & np.isfinite(length) & ~overlap
    src, dst, d, length = src[ok], dst[ok], d[ok], length[ok]
    unit = d / length[:, None]
    start = src + unit * _outline_distance(half_s[ok], boxed[s[ok]], unit)[:, None]
    tip = dst - unit * _outline_distance(half_t[ok], boxed[t[ok]], unit)[:, None]
    segments = np.stack([start, tip], axis=1)
    heads = directed[ok]
    u, tp = unit[heads], tip[heads]
    perp = np.stack([-u[:, 1], u[:, 0]], axis=1) * (0.5 * arrow)
    base = tp - u * arrow
    triangles = np.stack([tp, base + perp, base - perp], axis=1)
    return segments, triangles
