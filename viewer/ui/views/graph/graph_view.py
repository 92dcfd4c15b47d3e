"""The Graph view: nodes and edges of GraphNodes / GraphEdges entities, in one drawing.

What is drawn comes from ``viewer.scene.graph_data`` (node ids scoped per entity, implicit
nodes for edge ends nobody logged, Rerun's defaults); where free nodes go comes from
``viewer.scene.graph_layout.ForceLayout``. The layout advances a bounded slice per redraw
(at most ``MAX_TICKS_PER_REDRAW`` ticks, within ``LAYOUT_SLICE_S`` or the redraw's work
budget, but at least one tick) and asks for the next frame until it has converged, so a
graph settles over a few frames instead of blocking the UI (a tick: ~1 ms for 200 nodes,
~10-20 ms for 1 000; see graph_layout.py). A layout restarts only when the layout problem
changes (nodes, logged positions, edges, sizes), from where the nodes are now; new colours
or labels only repaint.

Like Rerun, a labelled node is drawn as its label (a box around the text, centred on the
node; ``graph_labels.py``) and only a node without a shown label as a circle; edges end at
the boxes' outlines, and the layout's collision radius encloses each box, so labels do not
overlap once it settles. The boxes are measured with the labels' font.

Coordinates are scene units with y down, like Rerun's graph view; the view keeps one unit
equally long on both axes and fits the graph until the user pans or zooms.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor, QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsPathItem, QWidget

from viewer.scene.graph_data import (
    EDGE_COLOR,
    EDGES,
    NODE_IDS,
    GraphData,
    collect_graph,
    collision_radii,
    edge_geometry,
)
from viewer.scene.graph_layout import ForceLayout
from viewer.scene.query import LatestAt
from viewer.store.entity_db import EntityDb
from viewer.store.entity_path import EntityPath
from viewer.ui.time_control import TimeControl
from viewer.ui.views.base import View
from viewer.ui.views.graph.graph_labels import GraphLabelsItem, TextMeasure, label_font
from viewer.ui.views.plot.plot_axes import embed_plot

#: Layout time per redraw when the redraw has no budget of its own (a prompt redraw).
LAYOUT_SLICE_S = 0.004
#: Layout ticks per redraw at most (a small graph settles over a few frames too, so the
#: user sees it unfold rather than jump).
MAX_TICKS_PER_REDRAW = 50
#: Label texts painted at most (beyond this the boxes show bars, as when zoomed out).
MAX_LABELS = 500


class GraphView(View):
    """All GraphNodes / GraphEdges entities of the view in one graph."""

    kind_name = "Graph"

    def __init__(self, db: EntityDb, entities: Iterable[EntityPath], time_control: TimeControl,
                 title: str = "", parent: QWidget | None = None) -> None:
        super().__init__(db, entities, time_control, title or "Graph", parent)
        self.plot_widget, self.plot_item = embed_plot(self)
        for side in ("left", "bottom"):
            self.plot_item.hideAxis(side)
        vb = self.plot_item.getViewBox()
        vb.invertY(True)
        vb.setAspectLocked(True)
        self.edge_item = pg.PlotCurveItem(pen=pg.mkPen(EDGE_COLOR[:3], width=1))
        self.arrow_item = QGraphicsPathItem()
        self.arrow_item.setPen(QPen(Qt.PenStyle.NoPen))
        self.arrow_item.setBrush(QBrush(QColor(*EDGE_COLOR)))
        self.node_item = pg.ScatterPlotItem(pxMode=False, pen=None)
        self.plot_item.addItem(self.edge_item)
        self.plot_item.addItem(self.arrow_item)
        self.plot_item.addItem(self.node_item)
        font = label_font()
        self._measure = TextMeasure(font)
        self.labels_item = GraphLabelsItem(font)
        self.plot_item.addItem(self.labels_item)
        self._brushes: dict[tuple[int, ...], QBrush] = {}
        self.graph = GraphData()
        self.layout: ForceLayout | None = None
        self._layout_key: tuple | None = None
        self._drawn_key: tuple | None = None
        #: What was drawn last (tests, tooltips): node centres, edge segments, arrow heads.
        self.segments = np.empty((0, 2, 2))
        self.arrow_heads = np.empty((0, 3, 2))

    @classmethod
    def accepts(cls, db: EntityDb, entity: EntityPath) -> bool:
        comps = db.components(entity)
        return NODE_IDS in comps or EDGES in comps

    @property
    def layout_converged(self) -> bool:
        return self.layout is None or self.layout.converged

    def node_positions(self) -> dict[tuple[EntityPath, str], tuple[float, float]]:
        """Where each node is drawn now (scene units)."""
        if self.layout is None:
            return {}
        return {k: (float(p[0]), float(p[1]))
                for k, p in zip(self.graph.keys, self.layout.positions, strict=True)}

    def redraw(self) -> None:
        query = LatestAt(self.db, self.time_control.timeline, self.time_control.time)
        graph = collect_graph(query, self.entities, self._measure)
        key = graph.layout_key()
        if key != self._layout_key:
            initial = None
            if self.layout is not None and len(graph):
                old = dict(zip(self.graph.keys, self.layout.positions, strict=True))
                initial = np.array([old.get(k, (np.nan, np.nan)) for k in graph.keys],
                                   dtype=np.float64).reshape(-1, 2)
            self.layout = ForceLayout(graph.positions, graph.edges,
                                      collision_radii(graph.sizes, graph.boxed), initial)
            self._layout_key = key
        self.graph = graph
        assert self.layout is not None
        moved = not self.layout.converged
        if moved:
            allowed = self.work_budget_s()
            budget = LAYOUT_SLICE_S if allowed is None else allowed
            self.layout.step(MAX_TICKS_PER_REDRAW, deadline=time.perf_counter() + budget)
        drawn_key = (key, graph.colors.tobytes(), tuple(graph.labels))
        if moved or drawn_key != self._drawn_key:
            self._draw()
            self._drawn_key = drawn_key
        if not self.layout.converged:
            self.continue_next_frame()

    # ------------------------------------------------------------------ drawing

    def _brush(self, rgba: np.ndarray) -> QBrush:
        key = tuple(int(c) for c in rgba)
        brush = self._brushes.get(key)
        if brush is None:
            brush = self._brushes[key] = QBrush(QColor(*key))
        return brush

    def _draw(self) -> None:
        graph, layout = self.graph, self.layout
        assert layout is not None
        pos = layout.positions
        boxed = graph.boxed
        circles = np.flatnonzero(~boxed)
        if len(circles):
            self.node_item.setData(pos=pos[circles], size=graph.sizes[circles, 0],
                                   brush=[self._brush(graph.colors[i]) for i in circles])
        else:
            self.node_item.setData([], [])
        self.segments, self.arrow_heads = edge_geometry(pos, graph.sizes, boxed, graph.edges,
                                                        graph.directed)
        if len(self.segments):
            self.edge_item.setData(self.segments[:, :, 0].ravel(),
                                   self.segments[:, :, 1].ravel(), connect="pairs")
        else:
            self.edge_item.setData([], [])
        heads = self.arrow_heads
        if len(heads):  # one sub-path per head (filling closes each one)
            connect = np.tile(np.array([1, 1, 0], dtype=np.int32), len(heads))
            path = pg.arrayToQPath(heads[:, :, 0].ravel(), heads[:, :, 1].ravel(), connect)
        else:
            path = QPainterPath()
        self.arrow_item.setPath(path)
        shown = np.flatnonzero(boxed)
        self.labels_item.set_labels(
            [graph.labels[i] or "" for i in shown], pos[shown], graph.sizes[shown],
            [tuple(int(c) for c in graph.colors[i][:3]) for i in shown],
            bars=len(shown) > MAX_LABELS)
