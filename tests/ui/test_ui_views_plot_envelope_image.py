"""A dense envelope painted as an image of per-column spans (`envelope_image`) lights the
same pixels as Qt's 1-px lines did, at device pixel ratio 1 and 2 (but for segments Qt
skips as zero-length); other pens and connected curves keep lines."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtGui import QImage, QPainter
from ui_views_support import write_recording

from viewer.store.entity_path import EntityPath
from viewer.ui.time_control import TimeControl
from viewer.ui.views.plot import envelope_image
from viewer.ui.views.plot.envelope_image import EnvelopeCurveItem, column_spans
from viewer.ui.views.plot.timeseries import TimeSeriesView

ROWS = 60_000
SIGNALS = [EntityPath.parse(f"/signals/{i}") for i in range(3)]
FLAT = EntityPath.parse("/flat")
WIDE = EntityPath.parse("/wide")


@pytest.fixture(scope="module")
def signals_db(tmp_path_factory):
    """rerun-sdk recording: noise, a fast sine filling its band, a slow sine (short
    segments), a constant series, and a sine styled with a 3-px line."""
    tmp = tmp_path_factory.mktemp("envelope")

    def log(rr, rec) -> None:  # noqa: ANN001
        t = np.arange(ROWS)
        frames = [rr.TimeColumn("frame", sequence=t)]
        series = [np.random.default_rng(2).normal(size=ROWS), np.sin(t * 0.01) + 0.3,
                  np.sin(t * 0.0002) - 0.2]
        for entity, values in zip(SIGNALS, series, strict=True):
            rec.send_columns(str(entity), indexes=frames,
                             columns=rr.Scalars.columns(scalars=values))
        rec.send_columns(str(FLAT), indexes=frames,
                         columns=rr.Scalars.columns(scalars=np.full(ROWS, 0.5)))
        rec.log(str(WIDE), rr.SeriesLines(widths=3.0), static=True)
        rec.send_columns(str(WIDE), indexes=frames,
                         columns=rr.Scalars.columns(scalars=np.cos(t * 0.003)))

    return write_recording(tmp / "signals.rrd", tmp, log)


def _view(qtbot, db, entities) -> TimeSeriesView:  # noqa: ANN001
    tc = TimeControl()
    tc.set_timeline("frame")
    view = TimeSeriesView(db, entities, tc)
    qtbot.addWidget(view)
    view.resize(900, 500)
    view.show()
    qtbot.waitExposed(view)
    view.redraw_now()
    view.redraw_now()  # the envelope for the laid-out width
    return view


def _pixels(view: TimeSeriesView, dpr: float) -> np.ndarray:
    widget = view.plot_widget
    image = QImage(round(widget.width() * dpr), round(widget.height() * dpr),
                   QImage.Format.Format_ARGB32_Premultiplied)
    image.setDevicePixelRatio(dpr)
    image.fill(0)
    painter = QPainter(image)
    widget.render(painter)
    painter.end()
    return np.frombuffer(image.constBits(), np.uint32).reshape(image.height(), -1).copy()


def _count_images(monkeypatch) -> list[bool]:  # noqa: ANN001
    """Every `EnvelopeCurveItem` paint's outcome: True when it painted the image."""
    outcomes: list[bool] = []
    original = EnvelopeCurveItem._paint_image

    def counted(self, p):  # noqa: ANN001, ANN202
        done = original(self, p)
        outcomes.append(done)
        return done

    monkeypatch.setattr(EnvelopeCurveItem, "_paint_image", counted)
    return outcomes


@pytest.mark.parametrize("dpr", [1.0, 2.0])
def test_image_envelope_draws_the_pixels_of_the_lines(qtbot, signals_db, monkeypatch, dpr):
    view = _view(qtbot, signals_db, SIGNALS)
    outcomes = _count_images(monkeypatch)
    monkeypatch.setattr(envelope_image, "ENABLED", False)
    lines = _pixels(view, dpr)
    assert outcomes == []  # off: pyqtgraph's lines
    monkeypatch.setattr(envelope_image, "ENABLED", True)
    image = _pixels(view, dpr)
    assert outcomes == [True] * len(SIGNALS)  # every dense curve went the image way
    assert (lines != lines[0, 0]).sum() > 0.05 * lines.size  # the curves are drawn at all
    # The same picture, but for segments shorter than Qt's 1/64 px fixed point, which Qt
    # skips (a gap in the line) and the image lights: a few pixels of the curve's colour.
    differ = image != lines
    assert differ.sum() <= 1e-4 * image.size
    background = lines[0, 0]
    added = set(image[differ].tolist())
    assert background not in added and added <= set(np.unique(lines).tolist())


def test_other_pens_and_connected_curves_keep_lines(qtbot, signals_db, monkeypatch):
    view = _view(qtbot, signals_db, [WIDE])
    outcomes = _count_images(monkeypatch)
    _pixels(view, 1.0)
    assert outcomes == [False]  # a 3-px pen: Qt's lines
    short = _view(qtbot, signals_db, [SIGNALS[0]])
    curve = short.curves[(SIGNALS[0], 0)]
    x, y = short.curve_data(SIGNALS[0])
    curve.setData(x[:500], y[:500], connect="all")  # a short connected curve
    outcomes.clear()
    _pixels(short, 1.0)
    assert outcomes == [False]


def test_a_flat_dense_series_is_visible(qtbot, signals_db, monkeypatch):
    """Qt draws nothing for zero-length segments: a decimated constant series vanished as
    lines; the image lights its row."""
    view = _view(qtbot, signals_db, [FLAT])
    monkeypatch.setattr(envelope_image, "ENABLED", False)
    lines = _pixels(view, 1.0)
    monkeypatch.setattr(envelope_image, "ENABLED", True)
    image = _pixels(view, 1.0)
    added = np.argwhere(image != lines)
    assert len(np.unique(added[:, 0])) == 1  # one row
    assert len(added) > 0.8 * view.plot_item.getViewBox().width()  # across the plot


def test_column_spans_clip_to_the_device():
    dx = np.array([-3.2, 0.5, 0.7, 5.9, 7.0, 12.0])
    dy0 = np.array([1.0, -4.0, 2.5, 8.8, -9.0, 1.0])
    dy1 = np.array([2.0, 3.2, 6.1, 8.8, -2.0, 2.0])
    first, top, bottom = column_spans(dx, dy0, dy1, width=10, height=8)
    assert first == 0
    # column 0 merges two segments; column 5 is below the device; column 7 above it;
    # column 12 is right of it; columns without a segment are empty (top > bottom)
    assert (top[0], bottom[0]) == (0, 6)
    assert len(top) == 1  # nothing else is inside
    assert column_spans(np.array([20.0]), np.array([0.0]), np.array([1.0]), 10, 8) is None


def test_a_curve_keeps_its_image_while_only_the_cursor_moves(qtbot, signals_db, monkeypatch):
    """Moving the time cursor repaints the plot; the curves draw the image they made
    before (kept from the second paint of the same state on; same pixels as making it
    again) and make a new one only for new data or a new range."""
    view = _view(qtbot, signals_db, SIGNALS)
    made: list[int] = []
    original = envelope_image.column_spans

    def counted(*args):  # noqa: ANN002, ANN202
        made.append(1)
        return original(*args)

    monkeypatch.setattr(envelope_image, "column_spans", counted)
    _pixels(view, 1.0)
    assert len(made) == len(SIGNALS)
    _pixels(view, 1.0)  # the second paint for the same state keeps the images
    before = None
    for t in (ROWS // 4, ROWS // 2, 3 * ROWS // 4):
        made.clear()
        view.time_control.set_time(t)
        view.redraw_now()
        cached = _pixels(view, 1.0)
        assert made == []  # the cursor moved: no image made again
        assert before is None or not np.array_equal(cached, before)  # the cursor shows
        monkeypatch.setattr(envelope_image, "CACHE_IMAGE", False)
        assert np.array_equal(cached, _pixels(view, 1.0))  # as made afresh
        monkeypatch.setattr(envelope_image, "CACHE_IMAGE", True)
        _pixels(view, 1.0)  # (made again: the uncached paint dropped it)
        before = cached
    made.clear()
    curve = view.curves[(SIGNALS[1], 0)]
    x, y = curve.getData()
    curve.setData(x, y + 0.2, connect="pairs")  # new data for one curve
    moved = _pixels(view, 1.0)
    assert len(made) == 1
    view.plot_item.getViewBox().setYRange(-3, 3, padding=0)  # a new range: all again
    made.clear()
    assert not np.array_equal(_pixels(view, 1.0), moved)
    assert len(made) == len(SIGNALS)


def test_kept_images_stay_within_their_memory_budget(qtbot, signals_db, monkeypatch):
    """Beyond ``KEPT_BYTES_MAX`` a curve makes its image at every paint (nothing kept),
    with the same pixels."""
    monkeypatch.setattr(envelope_image, "_keepers", envelope_image.weakref.WeakSet())
    view = _view(qtbot, signals_db, SIGNALS)
    kept = _pixels(view, 1.0)
    kept = _pixels(view, 1.0)
    held = sum(4 * len(c._own[0]) for c in envelope_image._keepers)
    assert len(envelope_image._keepers) == len(SIGNALS) and held > 0
    small = _view(qtbot, signals_db, SIGNALS)
    monkeypatch.setattr(envelope_image, "KEPT_BYTES_MAX", held)  # no room for more
    made: list[int] = []
    original = envelope_image.column_spans
    monkeypatch.setattr(envelope_image, "column_spans",
                        lambda *a: (made.append(1), original(*a))[1])
    for _ in range(3):
        assert np.array_equal(_pixels(small, 1.0), kept)
    assert len(made) == 3 * len(SIGNALS)  # made at every paint
    assert all(len(c.curve._own[0]) == 0 for c in small.curves.values())  # none held
