"""A pyqtgraph ViewBox whose context menu is built when first asked for.

pyqtgraph builds the ViewBox menu (two axis-control forms) with every plot. Under the app
style sheet, building and polishing its widgets cost ~10 ms in the frame a new plot view
appears (docs/benchmarks/gui.md); a right-click pays that instead.
"""

from __future__ import annotations

from typing import Any

import pyqtgraph as pg
from pyqtgraph.graphicsItems.ViewBox.ViewBoxMenu import ViewBoxMenu
from PySide6.QtWidgets import QMenu


class LazyMenuViewBox(pg.ViewBox):
    """`pg.ViewBox` with its (enabled) context menu created on first use."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.pop("enableMenu", None)
        super().__init__(enableMenu=False, **kwargs)
        self.state["enableMenu"] = True  # enabled; built by ``getMenu``

    def getMenu(self, ev: object) -> QMenu | None:  # noqa: N802 (pyqtgraph API)
        if self.menu is None and self.menuEnabled():
            self.menu = ViewBoxMenu(self)
            self.updateViewLists()
        return self.menu

    def getContextMenus(self, event: object) -> list:  # noqa: N802 (pyqtgraph API)
        menu = self.getMenu(event) if self.menuEnabled() else None
        return menu.actions() if menu is not None else []
