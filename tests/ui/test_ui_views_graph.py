"""GraphView on graphs written by rerun-sdk: logged positions, arrow heads, labelled nodes
drawn as label boxes with edges ending at their sides, a layout that settles over several
redraws without overlapping labels, entities sharing the view, Clear."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPointF
from PySide6.QtGui import QColor, QImage, QPainter
from PySide6.QtWidgets import QStyleOptionGraphicsItem
from ui_views_support import write_recording

from viewer.scene.graph_data import ARROW_SIZE
from viewer.store.entity_path import EntityPath
from viewer.ui.time_control import TimeControl
from viewer.ui.views.graph.graph_labels import LABEL_FILL, GraphLabelsItem, label_font
from viewer.ui.views.graph.graph_view import GraphView

RED, GREEN, BLUE = (255, 0, 0), (0, 200, 0), (0, 0, 255)


def _log(rr, rec):
    rec.set_time("frame", sequence=0)
    # Pinned nodes: one directed edge p -> q, one undirected edge r - s, same geometry.
    rec.log("pinned", rr.GraphNodes(["p", "q", "r", "s"],
                                    positions=[[0, 0], [100, 0], [0, 60], [100, 60]],
                                    radii=[6, 6, 6, 6], colors=[RED, GREEN, RED, GREEN],
                                    show_labels=False),
            rr.GraphEdges([("p", "q")], graph_type="directed"))
    rec.log("undirected", rr.GraphNodes(["r", "s"], positions=[[0, 60], [100, 60]],
                                        radii=[6], colors=[BLUE], show_labels=False),
            rr.GraphEdges([("r", "s")], graph_type="undirected"))
    rec.log("free", rr.GraphNodes(["a", "b", "c", "d"], labels=["A", "B", "C", "D"]),
            rr.GraphEdges([("a", "b"), ("b", "c"), ("c", "d"), ("d", "a")]))
    rec.log("boxes", rr.GraphNodes(["l", "r"], positions=[[0, 0], [200, 0]],
                                   labels=["left", "right"], colors=[RED, GREEN]),
            rr.GraphEdges([("l", "r")], graph_type="directed"))
    rec.set_time("frame", sequence=5)
    rec.log("free", rr.Clear(recursive=False))


@pytest.fixture
def graph_db(tmp_path):
    return write_recording(tmp_path / "graph.rrd", tmp_path, _log)


def _view(qtbot, db, entities, t=0):
    tc = TimeControl()
    tc.set_timeline("frame")
    tc.set_time(t)
    view = GraphView(db, [EntityPath.parse(e) for e in entities], tc)
    qtbot.addWidget(view)
    view.resize(500, 400)
    view.show()
    return view, tc


def _pixel(view: GraphView, x: float, y: float) -> tuple[int, int]:
    """Widget pixel of scene point (x, y)."""
    scene = view.plot_item.getViewBox().mapViewToScene(QPointF(x, y))
    p = view.plot_widget.mapTo(view, view.plot_widget.mapFromScene(scene))
    return p.x(), p.y()


def _rgb(img: QImage, xy: tuple[int, int]) -> tuple[int, int, int]:
    c = QColor(img.pixel(*xy))
    return c.red(), c.green(), c.blue()


def _brightest_near(img: QImage, xy: tuple[int, int]) -> int:
    """The brightest channel minimum within one pixel of ``xy`` (a 1-px line may round
    to the neighbouring row)."""
    x, y = xy
    return max(min(_rgb(img, (x, y + dy))) for dy in (-1, 0, 1))


def _settle(qtbot, view):
    view.redraw_now()
    qtbot.waitUntil(lambda: view.layout_converged, timeout=5000)
    view.plot_item.getViewBox().autoRange(padding=0.1)
    qtbot.waitUntil(lambda: not view.redraw_waiting, timeout=2000)


def test_pinned_nodes_at_logged_positions_with_arrow_head(qtbot, graph_db):
    view, _ = _view(qtbot, graph_db, ["/pinned", "/undirected"])
    _settle(qtbot, view)
    pos = view.node_positions()
    assert pos[(EntityPath.parse("/pinned"), "p")] == (0.0, 0.0)
    assert pos[(EntityPath.parse("/pinned"), "q")] == (100.0, 0.0)
    img = view.grab().toImage()
    # y grows downwards: p (y=0) is drawn above r (y=60).
    assert _pixel(view, 0, 0)[1] < _pixel(view, 0, 60)[1]
    assert _rgb(img, _pixel(view, 0, 0)) == RED
    assert _rgb(img, _pixel(view, 100, 0)) == GREEN
    # /undirected logs its own r and s (ids are per entity): blue over /pinned's r and s.
    assert _rgb(img, _pixel(view, 0, 60)) == BLUE
    # Arrow head of p -> q: its tip on q's rim (x = 94); a point inside the head, off the
    # line, is edge-coloured; the same point on the undirected edge is background.
    assert len(view.arrow_heads) == 1
    np.testing.assert_allclose(view.arrow_heads[0][0], (94.0, 0.0))
    inside_x, off = 94.0 - ARROW_SIZE + 2.0, ARROW_SIZE * 0.3
    head = _rgb(img, _pixel(view, inside_x, off))
    assert min(head) > 150, head
    assert _rgb(img, _pixel(view, inside_x, 60 + off)) == (0, 0, 0)
    # The lines themselves are drawn in both cases.
    assert _brightest_near(img, _pixel(view, 50, 0)) > 100
    assert _brightest_near(img, _pixel(view, 50, 60)) > 100


def test_free_nodes_settle_over_several_redraws_and_separate(qtbot, graph_db):
    view, _ = _view(qtbot, graph_db, ["/free"])
    view.redraw_now()
    assert view.layout is not None and view.layout.ticks > 0
    first_ticks = view.layout.ticks
    qtbot.waitUntil(lambda: view.layout_converged, timeout=5000)
    assert view.layout.ticks > first_ticks  # finished in later redraws
    assert view.redraw_count > 1
    # Labelled nodes are their label boxes (was: circles with the text beside them), and
    # no two boxes overlap once settled.
    assert len(view.node_item.data) == 0
    assert sorted(view.labels_item.texts) == ["A", "B", "C", "D"]
    rects = view.labels_item.rects()
    for i, a in enumerate(rects):
        for b in rects[i + 1:]:
            assert not a.intersects(b), (a, b)
    # A converged layout with unchanged data does not move on redraw.
    before = dict(view.node_positions())
    view.redraw_now()
    assert view.node_positions() == before


def test_labelled_nodes_are_boxes_with_edges_ending_at_their_sides(qtbot, graph_db):
    view, _ = _view(qtbot, graph_db, ["/boxes"])
    _settle(qtbot, view)
    (wl, hl), (wr, _) = view.graph.sizes
    assert wl > hl > 10 and wr > wl  # boxes around "left" and "right"
    # The edge runs from the right side of "left" to the left side of "right".
    np.testing.assert_allclose(view.segments[0], [[wl / 2, 0], [200 - wr / 2, 0]])
    np.testing.assert_allclose(view.arrow_heads[0][0], (200 - wr / 2, 0))
    img = view.grab().toImage()
    assert _brightest_near(img, _pixel(view, 100, 0)) > 100  # the edge between the boxes
    # Inside the box, between the text and the side the edge meets: box fill, no line.
    assert _rgb(img, _pixel(view, wl / 2 - 3, 0)) == LABEL_FILL
    assert _rgb(img, _pixel(view, 0, hl / 2 - 2.5)) == LABEL_FILL
    # The outline is drawn in the light text colour, the text in the node's colour.
    assert _brightest_near(img, _pixel(view, 0, -hl / 2)) > 120
    x0, y0 = _pixel(view, -wl / 2 + 7, -hl / 2 + 5)
    x1, y1 = _pixel(view, wl / 2 - 7, hl / 2 - 5)
    text = [_rgb(img, (x, y)) for x in range(x0, x1) for y in range(y0, y1)]
    assert sum(r > 150 and g < 80 and b < 80 for r, g, b in text) > 10  # red text
    # Not a red circle at the centre any more.
    assert sum(c == RED for c in text) < len(text) // 4


def test_clear_empties_the_graph(qtbot, graph_db):
    view, tc = _view(qtbot, graph_db, ["/free"])
    view.redraw_now()
    assert len(view.graph) == 4
    tc.set_time(5)
    view.redraw_now()
    assert len(view.graph) == 0
    assert len(view.segments) == 0


def test_accepts_graph_entities_only(graph_db):
    assert GraphView.accepts(graph_db, EntityPath.parse("/pinned"))
    assert GraphView.accepts(graph_db, EntityPath.parse("/free"))
    assert not GraphView.accepts(graph_db, EntityPath.parse("/nothing"))


def test_zoomed_out_labels_show_bars_instead_of_text(qapp):
    item = GraphLabelsItem(label_font())
    item.set_labels(["a wide label"], np.array([[0.0, 0.0]]), np.array([[100.0, 30.0]]),
                    [RED])
    img = QImage(200, 100, QImage.Format.Format_RGB32)
    img.fill(QColor(0, 0, 0))
    painter = QPainter(img)
    painter.translate(100, 50)
    painter.scale(0.3, 0.3)  # 13 px text would be ~4 px high: unreadable
    item.paint(painter, QStyleOptionGraphicsItem())
    painter.end()
    # The box's middle is a half-transparent red bar over the box fill.
    r, g, b = _rgb(img, (100, 50))
    assert r > 120 and g < 40 and b < 40, (r, g, b)
    assert _rgb(img, (86, 50)) == LABEL_FILL  # the margin between outline and bar
