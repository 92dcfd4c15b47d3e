"""A curve's kept envelope image is extended by the columns whose span changed when new data
is handed over under the same transform (the followed x range keeping its step), with the
same pixels as an image made anew."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
from PySide6.QtGui import QImage, QPainter

from viewer.demo import build_chunk
from viewer.log.messages import StoreId, StoreKind
from viewer.log.sorbet import TuidGenerator
from viewer.store.chunk import Chunk
from viewer.store.entity_db import EntityDb
from viewer.store.entity_path import EntityPath
from viewer.ui.time_control import TimeControl
from viewer.ui.views import base
from viewer.ui.views.base import data_redraw_queue
from viewer.ui.views.plot import envelope_image
from viewer.ui.views.plot.timeseries import DECIMATE_ABOVE, TimeSeriesView

START_NS = 1_700_000_000_000_000_000
CURVES = [EntityPath.parse("/plots/noise"), EntityPath.parse("/plots/sine")]
ROWS = DECIMATE_ABOVE + 5_000


def _pixels(view: TimeSeriesView) -> np.ndarray:
    widget = view.plot_widget
    image = QImage(widget.width(), widget.height(), QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(0)
    painter = QPainter(image)
    widget.render(painter)
    painter.end()
    return np.frombuffer(image.constBits(), np.uint32).reshape(image.height(), -1).copy()


def test_new_data_extends_the_kept_image_with_the_pixels_of_a_fresh_one(qtbot, monkeypatch):
    monkeypatch.setattr(base, "DATA_REDRAW_INTERVAL_S", 0.0)  # queued redraws at every tick
    data_redraw_queue().flush()
    ids = TuidGenerator(START_NS)
    rng = np.random.default_rng(7)
    tc = TimeControl()
    tc.set_timeline("frame")
    db = EntityDb(StoreId(StoreKind.RECORDING, "extend", "tests"))
    view = TimeSeriesView(db, CURVES, tc)
    qtbot.addWidget(view)
    view.resize(800, 450)
    view.show()
    qtbot.waitExposed(view)

    filled: list[int] = []  # columns filled per image made or extended
    original = envelope_image._fill

    def counted(pixels, *args):  # noqa: ANN001, ANN002, ANN202
        filled.append(pixels.shape[1])
        return original(pixels, *args)

    monkeypatch.setattr(envelope_image, "_fill", counted)
    first = 0

    def append(amplitude: float, rows: int = ROWS) -> None:
        nonlocal first
        frames = np.arange(first, first + rows)
        first += rows
        series = [rng.normal(size=rows).clip(-3, 3) * amplitude,
                  amplitude * np.sin(frames / 900.0)]
        for entity, values in zip(CURVES, series, strict=True):
            column = pa.array([[float(v)] for v in values], pa.list_(pa.float64()))
            chunk = Chunk.from_record_batch(build_chunk(
                ids, str(entity), frames.tolist(), None,
                [("Scalars", "scalars", "Scalar", column)]))
            db.add_chunk(chunk)
            view.on_data_changed([chunk.entity_path])

        def shown() -> bool:  # handed over by the view's queued redraws (arriving data)
            lo, hi = view.plot_item.getViewBox().viewRange()[0]
            column = (hi - lo) / view.plot_item.getViewBox().width()
            return all(len(view.curve_data(e)[0]) == first
                       and view.curves[(e, 0)].xData is not None
                       and first - 1 - view.curves[(e, 0)].xData.max() <= column
                       for e in CURVES)

        qtbot.waitUntil(shown, timeout=5000)

    append(1.0)
    append(1.0)  # growth: the x range steps (to 100 000 frames) with headroom
    assert view.follow.stepping
    _pixels(view)
    _pixels(view)  # a repaint of the same state: the images are kept from here on
    widths = []
    extended = 0
    for amplitude in (1.0, 0.5, 1.0):  # within the step: the transform stays
        before = view.plot_item.getViewBox().viewRange()
        filled.clear()
        append(amplitude, 8_000)  # (the window's own paint may come first: counted from here)
        assert view.plot_item.getViewBox().viewRange() == before
        got = _pixels(view)
        widths = [c.curve._image[1].width() for c in view.curves.values()]
        assert len(filled) == len(CURVES)
        # only the new data's columns were filled (and the last old one, which grew)
        extended += all(f < w / 2 for f, w in zip(filled, widths, strict=True))
        monkeypatch.setattr(envelope_image, "EXTEND_IMAGE", False)
        monkeypatch.setattr(envelope_image, "CACHE_IMAGE", False)
        assert np.array_equal(got, _pixels(view))  # as made anew
        monkeypatch.setattr(envelope_image, "EXTEND_IMAGE", True)
        monkeypatch.setattr(envelope_image, "CACHE_IMAGE", True)
        _pixels(view)
        _pixels(view)  # (kept again: the paints without keeping dropped the images)
    assert extended == 3
    # data past the step: a new x range, so a new transform: every image made anew
    filled.clear()
    append(1.0, 30_000)
    assert view.plot_item.getViewBox().viewRange() != before
    got = _pixels(view)
    widths = [c.curve._image[1].width() if c.curve._image else 0 for c in view.curves.values()]
    assert filled and min(filled) > 0
    monkeypatch.setattr(envelope_image, "EXTEND_IMAGE", False)
    assert np.array_equal(got, _pixels(view))


@pytest.mark.parametrize("n_old", [10, 40])
def test_extend_refuses_other_columns_or_rows(qtbot, n_old):
    """A kept image for another first column, or spans outside its rows, is not extended."""
    item = envelope_image.EnvelopeCurveItem()
    own = item._own
    top = np.full(n_old, 20)
    bottom = np.full(n_old, 30)
    envelope_image.spans_image(5, top, bottom, 0xFF00FF00, own, 100)
    look = (1.0, 1.0, 0.0, 0.0, 1.0, 200, 100, 0xFF00FF00)
    item._held = (look, 5, top, bottom, 20, 11, 100)
    assert item._extend(look, 6, top, bottom) is None  # another first column
    assert item._extend(look, 5, np.full(n_old, 19), bottom) is None  # above its rows
    assert item._extend(look, 5, top, np.full(n_old, 31)) is None  # below its rows
    assert item._extend(look, 5, np.full(101, 20), np.full(101, 30)) is None  # too wide
    assert item._extend((*look[:-1], 0xFFFF0000), 5, top, bottom) is None  # colour
    image, _ = item._extend(look, 5, np.full(n_old + 5, 20), np.full(n_old + 5, 30))
    assert image.width() == n_old + 5
