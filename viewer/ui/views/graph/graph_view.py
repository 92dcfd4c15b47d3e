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
    edge_geometry,
)
from viewer.scene.graph_layout import ForceLayout
from viewer.scene.query import LatestAt
from viewer.store.entity_db import EntityDb
from viewer.store.entity_path import EntityPath
from viewer.ui.time_control import TimeControl
from viewer.ui.views.base import View
from viewer.ui.views.plot.plot_axes import embed_plot

#: Layout time per redraw when the redraw has no budget of its own (a prompt redraw).
LAYOUT_SLICE_S = 0.004
#: Layout ticks per redraw at most (a small graph settles over a few frames too, so the
#: user sees it unfold rather than jump).
MAX_TICKS_PER_REDRAW = 50
#: Labels drawn at most (each is a text item; beyond this the graph shows none).
MAX_LABELS = 500
LABEL_COLOR = (220, 220, 220)


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
        self._labels: list[pg.TextItem] = []
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
        graph = collect_graph(query, self.entities)
        key = graph.layout_key()
        if key != self._layout_key:
            initial = None
            if self.layout is not None and len(graph):
                old = dict(zip(self.graph.keys, self.layout.positions, strict=True))
                initial = np.array([old.get(k, (np.nan, np.nan)) for k in graph.keys],
                                   dtype=np.float64).reshape(-1, 2)
            self.layout = ForceLayout(graph.positions, graph.edges, graph.radii, initial)
            self._layout_key = key
        self.graph = graph
        assert self.layout is not None
        moved = not self.layout.converged
        if moved:
            budget = self.work_budget_s() or LAYOUT_SLICE_S
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
        if len(graph):
            self.node_item.setData(pos=pos, size=2.0 * graph.radii,
                                   brush=[self._brush(c) for c in graph.colors])
        else:
            self.node_item.setData([], [])
        self.segments, self.arrow_heads = edge_geometry(pos, graph.radii, graph.edges,
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
        self._draw_labels(pos)

    def _draw_labels(self, pos: np.ndarray) -> None:
        shown = [i for i, text in enumerate(self.graph.labels) if text is not None]
        if len(shown) > MAX_LABELS:
            shown = []
        while len(self._labels) < len(shown):
            item = pg.TextItem(anchor=(0.0, 0.5))
            self.plot_item.addItem(item, ignoreBounds=True)
            self._labels.append(item)
        for item, i in zip(self._labels, shown, strict=False):
            text = self.graph.labels[i] or ""
            if item.toPlainText() != text:
                item.setText(text)
            rgba = self.graph.colors[i] if self.graph.explicit[i] else LABEL_COLOR
            item.setColor(tuple(int(c) for c in rgba[:3]))
            item.setPos(float(pos[i, 0] + self.graph.radii[i]), float(pos[i, 1]))
            item.setVisible(True)
        for item in self._labels[len(shown):]:
            item.setVisible(False)
