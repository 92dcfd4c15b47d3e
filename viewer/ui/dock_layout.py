"""Place view docks as a blueprint's container tree says: splits, shares, grids and tabs.

Qt's `QMainWindow` nests docks by splitting the space of one dock (`splitDockWidget`) and
stacks them as tabs (`tabifyDockWidget`). A container tree maps onto that top-down: each
container is represented by the dock of its first visible view; the children of a
container are first split off its representative in the container's direction, then each
child is split in turn, so a split never crosses into a sibling's space. Shares are applied
afterwards with `resizeDocks`, container by container. A grid becomes rows of
``grid_columns`` (default: the smallest square) side by side. Docks stay movable: this is
the starting layout, as in Rerun.
"""

from __future__ import annotations

import math

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDockWidget, QMainWindow

from viewer.scene.blueprint import BlueprintContainer, BlueprintView

Node = BlueprintContainer | BlueprintView


def visible_children(node: BlueprintContainer, docks: dict[str, QDockWidget]) -> list[Node]:
    return [c for c in node.children if _first_dock(c, docks) is not None]


def _first_dock(node: Node, docks: dict[str, QDockWidget]) -> QDockWidget | None:
    if isinstance(node, BlueprintView):
        return docks.get(node.id) if node.visible else None
    if not node.visible:
        return None
    for child in node.children:
        dock = _first_dock(child, docks)
        if dock is not None:
            return dock
    return None


def leaf_docks(node: Node, docks: dict[str, QDockWidget]) -> list[QDockWidget]:
    if isinstance(node, BlueprintView):
        dock = docks.get(node.id)
        return [dock] if dock is not None and node.visible else []
    if not node.visible:
        return []
    return [d for c in node.children for d in leaf_docks(c, docks)]


def _as_splits(node: BlueprintContainer, children: list[Node]
               ) -> tuple[Qt.Orientation, list[Node], list[float]]:
    """(direction, children, shares) of a split container; a grid becomes its rows."""
    shares = [node.shares[i] if i < len(node.shares) else 1.0
              for i, c in enumerate(node.children) if c in children]
    if node.kind == "vertical":
        return Qt.Orientation.Vertical, children, shares
    if node.kind != "grid":
        return Qt.Orientation.Horizontal, children, shares
    cols = node.grid_columns or max(1, math.ceil(math.sqrt(len(children))))
    rows: list[Node] = []
    for r in range(0, len(children), cols):
        rows.append(BlueprintContainer(f"{node.id}#row{r // cols}", "horizontal",
                                       children[r:r + cols], shares[r:r + cols]))
    row_shares = [node.row_shares[i] if i < len(node.row_shares) else 1.0
                  for i in range(len(rows))]
    return Qt.Orientation.Vertical, rows, row_shares


def place_docks(host: QMainWindow, root: Node, docks: dict[str, QDockWidget]) -> None:
    """Lay ``docks`` (by blueprint view id) out in ``host`` as ``root`` describes. Docks of
    views the tree does not reach are left alone (the caller hides or places them)."""
    first = _first_dock(root, docks)
    if first is None:
        return
    host.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, first)
    first.show()
    resizes: list[tuple[list[QDockWidget], list[float], Qt.Orientation]] = []
    _split(host, root, docks, resizes)
    for targets, shares, orientation in resizes:
        total = host.width() if orientation == Qt.Orientation.Horizontal else host.height()
        total = max(total, 100)
        scale = total / max(sum(shares), 1e-9)
        host.resizeDocks(targets, [max(1, int(s * scale)) for s in shares], orientation)


def _split(host: QMainWindow, node: Node, docks: dict[str, QDockWidget],
           resizes: list[tuple[list[QDockWidget], list[float], Qt.Orientation]]) -> None:
    if isinstance(node, BlueprintView):
        return
    children = visible_children(node, docks)
    if not children:
        return
    if node.kind == "tabs":
        leaves = [d for c in children for d in leaf_docks(c, docks)]
        for dock in leaves[1:]:
            host.tabifyDockWidget(leaves[0], dock)
            dock.show()
        active = next((c for c in children if c.id == node.active_tab), children[0])
        active_dock = _first_dock(active, docks)
        if active_dock is not None:
            active_dock.raise_()
        return
    orientation, parts, shares = _as_splits(node, children)
    reps = [_first_dock(p, docks) for p in parts]
    for prev, dock in zip(reps, reps[1:], strict=False):
        host.splitDockWidget(prev, dock, orientation)
        dock.show()
    if len(reps) > 1:
        resizes.append(([d for d in reps if d is not None], shares, orientation))
    for part in parts:
        _split(host, part, docks, resizes)
