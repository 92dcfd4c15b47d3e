"""The graph a Graph view shows at the time cursor: nodes and edges of all its entities.

Rerun scopes node ids by entity: an edge of ``/net`` from ``"a"`` to ``"b"`` joins the nodes
``"a"`` and ``"b"`` logged by ``GraphNodes`` on ``/net`` itself. An edge end with no such
node still gets drawn as an *implicit* node (small, grey, no label, placed by the layout).
All entities of a view share one drawing and one layout, so logging nodes and edges on the
same entity is what connects them; the same id on two entities names two nodes.

Defaults follow Rerun: labels are shown unless ``show_labels`` is false, a node without a
label is labelled with its id, node radius 4 (scene units), light text-coloured nodes.
Edges go from the source's centre to the target's rim; directed edges end in an arrow head
``ARROW_SIZE`` long whose tip touches the target.
"""

from __future__ import annotations

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

NodeKey = tuple[EntityPath, str]


@dataclass(slots=True)
class GraphData:
    """Nodes (explicit ones in logged order per entity, then implicit ones) and edges."""

    keys: list[NodeKey] = field(default_factory=list)
    positions: np.ndarray = field(default_factory=lambda: np.empty((0, 2)))  # NaN: to place
    colors: np.ndarray = field(default_factory=lambda: np.empty((0, 4), np.uint8))
    radii: np.ndarray = field(default_factory=lambda: np.empty(0))
    labels: list[str | None] = field(default_factory=list)  # None: no label drawn
    explicit: np.ndarray = field(default_factory=lambda: np.empty(0, bool))
    edges: np.ndarray = field(default_factory=lambda: np.empty((0, 2), np.int64))
    directed: np.ndarray = field(default_factory=lambda: np.empty(0, bool))

    def __len__(self) -> int:
        return len(self.keys)

    def layout_key(self) -> tuple:
        """Equal keys: the same layout problem (nodes, logged positions, edges, sizes)."""
        return (tuple(self.keys), self.positions.tobytes(), self.edges.tobytes(),
                self.radii.tobytes())

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


def collect_graph(query: LatestAt, entities: list[EntityPath]) -> GraphData:
    """The nodes and edges of ``entities`` at the query's time cursor (Clear honoured)."""
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
    return GraphData(
        keys=keys,
        positions=np.array(pos, dtype=np.float64).reshape(-1, 2),
        colors=np.array(colors, dtype=np.uint8).reshape(-1, 4),
        radii=np.array(radii, dtype=np.float64),
        labels=labels,
        explicit=np.array(explicit, dtype=bool),
        edges=np.array(edges, dtype=np.int64).reshape(-1, 2),
        directed=np.array(directed, dtype=bool),
    )


def edge_geometry(positions: np.ndarray, radii: np.ndarray, edges: np.ndarray,
                  directed: np.ndarray, arrow: float = ARROW_SIZE
                  ) -> tuple[np.ndarray, np.ndarray]:
    """(segments (m, 2, 2), arrow heads (k, 3, 2)) for the edges between placed nodes.

    A segment runs from the source's centre to the target's rim; an arrow head is a
    triangle with its tip on the rim and its base ``arrow`` back along the edge and
    ``arrow`` wide. Self-edges and edges whose ends coincide are left out (no direction)."""
    if len(edges) == 0:
        return np.empty((0, 2, 2)), np.empty((0, 3, 2))
    src = positions[edges[:, 0]]
    dst = positions[edges[:, 1]]
    d = dst - src
    length = np.hypot(d[:, 0], d[:, 1])
    ok = (edges[:, 0] != edges[:, 1]) & (length > 0) & np.isfinite(length)
    src, dst, d, length = src[ok], dst[ok], d[ok], length[ok]
    unit = d / length[:, None]
    tip = dst - unit * radii[edges[ok, 1]][:, None]
    segments = np.stack([src, tip], axis=1)
    heads = directed[ok]
    u, t = unit[heads], tip[heads]
    perp = np.stack([-u[:, 1], u[:, 0]], axis=1) * (0.5 * arrow)
    base = t - u * arrow
    triangles = np.stack([t, base + perp, base - perp], axis=1)
    return segments, triangles
