"""A followed envelope is drawn as one vertical segment per pixel column (`merge_columns`):
fewer pixels to fill, the same picture."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtGui import QImage
from ui_views_support import write_recording

from viewer.store.entity_path import EntityPath
from viewer.ui.time_control import TimeControl
from viewer.ui.views.plot import timeseries
from viewer.ui.views.plot.plot_series import PeakEnvelope, merge_columns
from viewer.ui.views.plot.timeseries import TimeSeriesView

NOISE = EntityPath.parse("/noise")


def _segments(values: np.ndarray, buckets: int) -> tuple[np.ndarray, np.ndarray]:
    x = np.arange(len(values), dtype=np.float64)
    env = PeakEnvelope()
    env.extend(x, values, buckets)
    return env.segments(x, values)


def test_merge_columns_keeps_each_columns_range_once():
    rng = np.random.default_rng(3)
    values = np.cumsum(rng.normal(size=200_000))
    x, y = _segments(values, 2048)
    width = 700
    x0, x1 = -100.0, 200_100.0
    mx, my = merge_columns(x, y, x0, x1, width)
    cols = np.floor((x[0::2] - x0) * width / (x1 - x0))
    mcols = np.floor((mx[0::2] - x0) * width / (x1 - x0))
    assert len(np.unique(mcols)) == len(mcols) == len(np.unique(cols)) < len(cols)
    for c in np.unique(cols)[::37]:  # every column: the union of its segments
        inside = cols == c
        k = int(np.flatnonzero(mcols == c)[0])
        assert my[2 * k] == y[0::2][inside].min()
        assert my[2 * k + 1] == y[1::2][inside].max()
    # Already at most one per column: given back as it is.
    same = merge_columns(mx, my, x0, x1, width)
    assert same[0] is mx and same[1] is my


@pytest.fixture
def noise_db(tmp_path):
    """A rerun-sdk recording of 100 000 rows of noise: an envelope that fills its band."""
    def log(rr, rec) -> None:  # noqa: ANN001
        values = np.random.default_rng(5).normal(size=100_000)
        rec.send_columns("noise", indexes=[rr.TimeColumn("frame", sequence=np.arange(100_000))],
                         columns=rr.Scalars.columns(scalars=values))

    return write_recording(tmp_path / "noise.rrd", tmp_path, log)


def _draw(qtbot, db, merge: bool, monkeypatch) -> tuple[QImage, int]:  # noqa: ANN001
    monkeypatch.setattr(timeseries, "MERGE_COLUMNS", merge)
    tc = TimeControl()
    tc.set_timeline("frame")
    view = TimeSeriesView(db, [NOISE], tc)
    qtbot.addWidget(view)
    view.resize(900, 500)
    view.show()
    qtbot.waitExposed(view)
    view.redraw_now()
    view.redraw_now()  # the envelope for the laid-out width
    n = len(view.curves[(NOISE, 0)].getData()[0]) // 2
    return view.plot_widget.grab().toImage(), n


def test_plot_draws_one_segment_per_column_and_the_same_picture(qtbot, noise_db, monkeypatch):
    merged, n_merged = _draw(qtbot, noise_db, True, monkeypatch)
    full, n_full = _draw(qtbot, noise_db, False, monkeypatch)
    width = full.width()
    assert n_merged <= width < n_full  # 1-2 runs per column before, at most one now
    a = np.frombuffer(merged.constBits(), np.uint8).reshape(merged.height(), -1)
    b = np.frombuffer(full.constBits(), np.uint8).reshape(full.height(), -1)
    assert a.shape == b.shape
    differ = np.any(a.reshape(a.shape[0], -1, 4) != b.reshape(b.shape[0], -1, 4), axis=2)
    assert differ.mean() < 0.01  # a few edge pixels, where a run straddles two columns
