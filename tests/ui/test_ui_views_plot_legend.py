"""BatchedLegend: one sizing pass per batch of entries, the same size as pyqtgraph's legend."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
import pytest
import shiboken6
from PySide6.QtCore import QTimer

from viewer.ui.views.plot.legend import BatchedLegend, add_batched_legend

N = 40


_WIDGETS: list[pg.PlotWidget] = []  # kept alive until the test ends (qtbot closes them)


def _plot(qtbot, batched: bool) -> tuple[pg.PlotItem, pg.LegendItem]:  # noqa: ANN001
    widget = pg.PlotWidget()
    qtbot.addWidget(widget)
    _WIDGETS.append(widget)
    item = widget.getPlotItem()
    legend = add_batched_legend(item, offset=(10, 10)) if batched else item.addLegend(
        offset=(10, 10))
    return item, legend


@pytest.fixture(autouse=True)
def _release_widgets():
    yield
    _WIDGETS.clear()


def _add_series(item: pg.PlotItem, n: int) -> list[pg.PlotDataItem]:
    x = np.arange(10.0)
    curves = []
    for i in range(n):
        curve = pg.PlotDataItem(x, np.sin(x + i), name=f"/signals/s{i:04d}")
        item.addItem(curve)
        curves.append(curve)
    return curves


def _size(legend: pg.LegendItem) -> tuple[float, float]:
    rect = legend.geometry()
    return rect.width(), rect.height()


def test_entries_added_one_by_one_are_measured_once(qtbot):  # noqa: ANN001
    item, legend = _plot(qtbot, batched=True)
    assert isinstance(legend, BatchedLegend) and item.legend is legend
    _add_series(item, N)
    assert len(legend.items) == N  # every named series got its entry at once
    qtbot.waitUntil(lambda: legend.size_passes >= 1)
    assert legend.size_passes == 1  # pyqtgraph's legend measures all entries N times
    plain_item, plain = _plot(qtbot, batched=False)
    _add_series(plain_item, N)
    assert _size(legend) == _size(plain)
    assert _size(legend)[1] > N * 5  # a real size: every row counted


def test_removed_entries_shrink_it_like_pyqtgraph(qtbot):  # noqa: ANN001
    item, legend = _plot(qtbot, batched=True)
    plain_item, plain = _plot(qtbot, batched=False)
    curves, plain_curves = _add_series(item, N), _add_series(plain_item, N)
    qtbot.waitUntil(lambda: legend.size_passes >= 1)
    tall = _size(legend)[1]
    for curve, plain_curve in zip(curves[5:], plain_curves[5:], strict=True):
        item.removeItem(curve)
        plain_item.removeItem(plain_curve)
    assert len(legend.items) == 5
    qtbot.waitUntil(lambda: legend.size_passes >= 2)
    assert legend.size_passes == 2
    assert _size(legend) == _size(plain)
    assert _size(legend)[1] < tall / 4


def test_a_legend_deleted_before_its_pass_cancels_it(qtbot):  # noqa: ANN001
    item, legend = _plot(qtbot, batched=True)
    _add_series(item, 3)
    assert legend._size_stale  # the pass is scheduled
    shiboken6.delete(legend)  # e.g. its view closed within the same event-loop turn
    later: list[bool] = []
    QTimer.singleShot(0, lambda: later.append(True))  # fires after any 0 ms timer before it
    qtbot.waitUntil(lambda: bool(later))
    # the deferred pass was tied to the legend: it never ran on the deleted item
    assert legend.size_passes == 0
