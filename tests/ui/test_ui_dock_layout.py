"""A blueprint's container tree laid out as docks: splits with shares, grids, tabs."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QDockWidget, QTabBar

from viewer.log.messages import StoreId, StoreKind
from viewer.scene.blueprint import BlueprintContainer, BlueprintView
from viewer.store.entity_db import EntityDb
from viewer.store.entity_path import EntityPath
from viewer.ui.time_control import TimeControl
from viewer.ui.views.base import View
from viewer.ui.views.registry import LayoutPlan, PlannedView
from viewer.ui.views_area import ViewsHost


class BlankView(View):
    kind_name = "Blank"

    @classmethod
    def accepts(cls, db, entity) -> bool:  # noqa: ANN001
        return False

    def redraw(self) -> None:
        pass


def _view(name: str) -> BlueprintView:
    return BlueprintView(f"view/{name}", "TextLog", name, EntityPath.root(), ["$origin/**"])


def _plan(tree: BlueprintContainer, source: object = "bp") -> LayoutPlan:
    views = []

    def walk(node) -> None:  # noqa: ANN001
        if isinstance(node, BlueprintView):
            views.append(PlannedView(("BlankView", node.id), BlankView, [], node.name,
                                     view_id=node.id))
        else:
            for c in node.children:
                walk(c)

    walk(tree)
    return LayoutPlan(views, tree, source)


def _host(qtbot, tree: BlueprintContainer) -> ViewsHost:
    db = EntityDb(StoreId(StoreKind.RECORDING, "r", "app"))
    tc = TimeControl()
    host = ViewsHost(db, tc)
    host.planner = lambda _db: _plan(tree)
    qtbot.addWidget(host)
    host.resize(1000, 600)
    host.show()
    qtbot.waitExposed(host)
    host.sync()
    return host


def _dock(host: ViewsHost, name: str) -> QDockWidget:
    return host.docks[("BlankView", f"view/{name}")]


def test_horizontal_shares_then_vertical_shares(qtbot) -> None:
    tree = BlueprintContainer("container/root", "horizontal", [
        _view("a"),
        BlueprintContainer("container/right", "vertical", [_view("b"), _view("c")], [2.0, 1.0]),
    ], [3.0, 1.0])
    host = _host(qtbot, tree)
    a, b, c = (_dock(host, n) for n in "abc")

    def laid_out() -> bool:
        ga, gb, gc = a.geometry(), b.geometry(), c.geometry()
        return (ga.right() < gb.left() and gb.bottom() < gc.top()
                and 2.4 < ga.width() / gb.width() < 3.6 and 1.6 < gb.height() / gc.height() < 2.5)

    qtbot.waitUntil(laid_out, timeout=3000)
    assert abs(b.geometry().left() - c.geometry().left()) <= 2  # b over c, one column


@pytest.mark.parametrize("active", ["t1", "t2"])
def test_tabs_stack_with_the_active_tab_raised_and_grid_rows(qtbot, active: str) -> None:
    tabs = BlueprintContainer("container/tabs", "tabs", [_view("t1"), _view("t2")], [1, 1],
                              active_tab=f"view/{active}")
    grid = BlueprintContainer("container/grid", "grid",
                              [_view("g1"), _view("g2"), _view("g3"), _view("g4")],
                              [1, 1, 1, 1], grid_columns=2)
    tree = BlueprintContainer("container/root", "vertical", [tabs, grid], [1.0, 1.0])
    host = _host(qtbot, tree)
    t1, t2 = _dock(host, "t1"), _dock(host, "t2")
    assert t2 in host.tabifiedDockWidgets(t1)

    def current_tab() -> str | None:
        for bar in host.findChildren(QTabBar):
            titles = [bar.tabText(i) for i in range(bar.count())]
            if sorted(titles) == ["t1", "t2"]:
                return bar.tabText(bar.currentIndex())
        return None

    qtbot.waitUntil(lambda: current_tab() == active, timeout=3000)
    qtbot.waitUntil(
        lambda: _dock(host, "g1").geometry().bottom() < _dock(host, "g3").geometry().top(),
        timeout=3000)
    g = [_dock(host, f"g{i}").geometry() for i in range(1, 5)]
    assert g[0].right() < g[1].left() and g[2].right() < g[3].left()  # two per row
    assert abs(g[0].top() - g[1].top()) <= 2 and abs(g[2].top() - g[3].top()) <= 2


def test_a_new_plan_source_drops_views_it_does_not_have(qtbot) -> None:
    tree = BlueprintContainer("container/root", "horizontal", [_view("a"), _view("b")], [1, 1])
    host = _host(qtbot, tree)
    assert set(host.views) == {("BlankView", "view/a"), ("BlankView", "view/b")}
    smaller = BlueprintContainer("container/root2", "horizontal", [_view("b")], [1])
    host.planner = lambda _db: _plan(smaller, source="bp2")
    host.sync()
    assert set(host.views) == {("BlankView", "view/b")}
    assert set(host.docks) == {("BlankView", "view/b")}
