"""Plots made by `embed_plot` refresh the Plot Options 'Average' list when the menu opens,
not by walking every curve on each added series (which made n series cost n²/2)."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QWidget

from viewer.ui.views.plot.plot_axes import embed_plot


def _add(item: pg.PlotItem, n: int) -> list[pg.PlotDataItem]:
    x = np.arange(5.0)
    curves = [pg.PlotDataItem(x, x * i) for i in range(n)]
    for i, curve in enumerate(curves):
        item.addItem(curve, params={"gain": i, ("run", "id"): "a"})
    return curves


def _listed(item: pg.PlotItem) -> list[str]:
    lst = item.ctrl.avgParamList
    return sorted(lst.item(i).text() for i in range(lst.count()))


def test_the_list_is_filled_when_the_menu_opens_as_pyqtgraph_fills_it(qtbot):  # noqa: ANN001
    view = QWidget()
    qtbot.addWidget(view)
    _widget, item = embed_plot(view)
    plain = pg.PlotWidget()
    qtbot.addWidget(plain)
    curves = _add(item, 30)
    _add(plain.getPlotItem(), 30)
    assert len(item.curves) == 30
    assert _listed(item) == []  # no walk over the curves per added series
    item.ctrlMenu.aboutToShow.emit()  # the user opens Plot Options
    assert _listed(item) == _listed(plain.getPlotItem()) == ["gain", "run.id"]
    for curve in curves:  # removing walks no more than adding
        item.removeItem(curve)
    assert item.curves == [] and _listed(item) == ["gain", "run.id"]
