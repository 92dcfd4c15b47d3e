"""The followed x range while data keeps arriving: it grows in rounded steps with headroom
(so the transform, the bottom axis and the curves' kept images survive several updates),
settles on the data's exact bounds once no growth arrived for a while, and a user pan or
zoom still stops following."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pyarrow as pa
import pytest
from pytestqt.qtbot import QtBot

from viewer.demo import build_chunk
from viewer.log.messages import StoreId, StoreKind
from viewer.log.sorbet import TuidGenerator
from viewer.store.chunk import Chunk
from viewer.store.entity_db import EntityDb
from viewer.store.entity_path import EntityPath
from viewer.ui.time_control import TimeControl
from viewer.ui.views import base
from viewer.ui.views.base import data_redraw_queue
from viewer.ui.views.plot import follow_range
from viewer.ui.views.plot.follow_range import stepped_span
from viewer.ui.views.plot.timeseries import DECIMATE_ABOVE, SCALARS, TimeSeriesView

START_NS = 1_700_000_000_000_000_000
CURVE = EntityPath.parse("/plots/a")
#: Rows per appended chunk: the series is decimated (an envelope) from the first chunk on.
ROWS = DECIMATE_ABOVE + 5_000
_QTBOT: list[QtBot] = []  # the test's qtbot, for `wait_shown`
#: Seconds without growth before the range settles, here (appends come ~0.1 s apart).
REST_S = 0.6


class ScalarFeed:
    """Chunks of one scalar entity on the "frame" timeline."""

    def __init__(self) -> None:
        self.ids = TuidGenerator(START_NS)
        self.next = 0

    def chunk(self, rows: int = ROWS) -> Chunk:
        frames = np.arange(self.next, self.next + rows)
        self.next += rows
        values = np.sin(frames / 700.0) + 0.2 * np.sin(frames / 13.0)
        column = pa.array([[float(v)] for v in values], pa.list_(pa.float64()))
        return Chunk.from_record_batch(build_chunk(
            self.ids, str(CURVE), frames.tolist(), None,
            [("Scalars", "scalars", "Scalar", column)]))


def append(view: TimeSeriesView, feed: ScalarFeed) -> None:
    """Like the frame driver: store a chunk and report it; the view reads and hands it over
    in its queued redraws (the path of arriving data). Returns when the curve shows it."""
    chunk = feed.chunk()
    view.db.add_chunk(chunk)
    view.on_data_changed([chunk.entity_path])
    wait_shown(view, feed.next)


def wait_shown(view: TimeSeriesView, rows: int) -> None:
    def shown() -> bool:
        curve = view.curves.get((CURVE, 0))
        if curve is None or curve.xData is None or len(view.curve_data(CURVE)[0]) != rows:
            return False
        if not view.follow.follow[0]:
            return True  # read (the curve shows the user's range)
        lo, hi = x_range(view)
        return rows - 1 - curve.xData.max() <= (hi - lo) / view.plot_item.getViewBox().width()

    QtBot.waitUntil(_QTBOT[0], shown, timeout=5000)


def x_range(view: TimeSeriesView) -> tuple[float, float]:
    lo, hi = view.plot_item.getViewBox().viewRange()[0]
    return lo, hi


def x_bounds(view: TimeSeriesView) -> tuple[float, float]:
    times, _ = view.db.scalar_series(CURVE, SCALARS, "frame")
    return float(times[0]), float(times[-1])


def exact(view: TimeSeriesView) -> tuple[float, float]:
    """The data's x bounds with pyqtgraph's usual padding (what following shows at rest)."""
    x0, x1 = x_bounds(view)
    pad = (x1 - x0) * view.plot_item.getViewBox().suggestPadding(0)
    return x0 - pad, x1 + pad


@pytest.fixture
def view(qtbot, monkeypatch) -> Iterator[TimeSeriesView]:
    monkeypatch.setattr(follow_range, "REST_S", REST_S)
    monkeypatch.setattr(base, "DATA_REDRAW_INTERVAL_S", 0.0)  # queued redraws at every tick
    _QTBOT[:] = [qtbot]
    data_redraw_queue().flush()
    tc = TimeControl()
    tc.set_timeline("frame")
    view = TimeSeriesView(EntityDb(StoreId(StoreKind.RECORDING, "follow", "tests")), [CURVE], tc)
    qtbot.addWidget(view)
    view.resize(640, 400)
    view.show()
    qtbot.waitExposed(view)
    yield view


@pytest.mark.parametrize(("span", "step"), [(100, 200), (160, 200), (161, 500), (399, 500),
                                            (400, 500), (401, 1000), (0.03, 0.05),
                                            (7_000_000, 10_000_000)])
def test_stepped_span_is_rounded_with_headroom(span: float, step: float):
    got = stepped_span(span)
    assert got == pytest.approx(step)
    assert got >= span * (1 + follow_range.HEADROOM) * (1 - 1e-9)


def test_growing_data_steps_the_range_then_it_settles_on_the_exact_bounds(qtbot, view):
    feed = ScalarFeed()
    append(view, feed)
    assert x_range(view) == pytest.approx(exact(view))  # the first data: exact
    assert not view.follow.stepping

    ranges: list[tuple[float, float]] = []
    for _ in range(12):
        append(view, feed)
        x0, x1 = x_bounds(view)
        lo, hi = x_range(view)
        assert lo <= x0 and hi >= x1  # all data shown
        assert view.follow.stepping
        ranges.append((lo, hi))
    distinct = sorted(set(ranges))
    # 13 chunks of 25 000 rows: steps to 100 k, 200 k, 500 k, not a new range per chunk
    assert len(distinct) == 3, distinct
    for lo, hi in distinct:
        padded_span = (hi - lo) / (1 + 2 * view.plot_item.getViewBox().suggestPadding(0))
        assert padded_span in (pytest.approx(100_000), pytest.approx(200_000),
                               pytest.approx(500_000))
    # while stepped, the curve is an envelope merged to the pixel columns of the shown
    # range: at most one segment per column
    curve = view.curves[(CURVE, 0)]
    width = view.plot_item.getViewBox().width()
    assert len(curve.xData) <= 2 * (width + 1)
    assert curve.xData.max() == pytest.approx(x_bounds(view)[1], abs=x_bounds(view)[1] / width)

    # no more growth: the range settles on the data's exact bounds, and the envelope is
    # made again for that range (more columns for the same data)
    segments_stepped = len(curve.xData)
    qtbot.waitUntil(lambda: not view.follow.stepping, timeout=3000)
    qtbot.waitUntil(lambda: x_range(view) == pytest.approx(exact(view)), timeout=3000)
    qtbot.waitUntil(lambda: len(curve.xData) > segments_stepped, timeout=3000)
    assert len(curve.xData) <= 2 * (width + 1)

    append(view, feed)  # growth again (a stream going on): stepped again
    assert view.follow.stepping
    lo, hi = x_range(view)
    assert hi > exact(view)[1]


def test_a_redraw_of_everything_at_once_shows_the_exact_bounds(qtbot, view):
    """A flush of the redraw queue (what a screenshot does once loading ended) or a direct
    redraw draws the final picture: exact bounds, envelopes made for them."""
    feed = ScalarFeed()
    for _ in range(2):
        append(view, feed)
    assert view.follow.stepping  # to 100 000 frames; the next chunk ends at 75 000
    chunk = feed.chunk()
    view.db.add_chunk(chunk)
    view.on_data_changed([chunk.entity_path])
    data_redraw_queue().flush()
    assert not view.follow.stepping
    lo, hi = exact(view)  # (a change under SETTLE of the span is not applied)
    assert x_range(view) == pytest.approx((lo, hi), abs=follow_range.SETTLE * (hi - lo))
    curve = view.curves[(CURVE, 0)]
    width = view.plot_item.getViewBox().width()
    # the envelope covers the exact range's pixel columns (made again, not the stepped one's)
    assert len(curve.xData) >= 2 * (width - 2) * 0.9
    assert curve.xData.max() >= feed.next - 1 - feed.next / width


def test_a_direct_redraw_without_new_data_ends_a_stepped_range(qtbot, view):
    feed = ScalarFeed()
    for _ in range(3):
        append(view, feed)
    assert view.follow.stepping
    assert x_range(view)[1] > exact(view)[1] + 20_000  # (75 000 frames in 100 000)
    view.redraw_now()
    assert not view.follow.stepping
    assert x_range(view) == pytest.approx(exact(view))


def test_user_pan_while_stepping_stops_following_and_nothing_settles_it(qtbot, view):
    feed = ScalarFeed()
    for _ in range(3):
        append(view, feed)
    assert view.follow.stepping
    vb = view.plot_item.getViewBox()
    vb.sigRangeChangedManually.emit([True, False])  # as a mouse pan on x reports it
    vb.setRange(xRange=(1000, 2000), padding=0)
    assert view.follow.follow == [False, True]
    assert not view.follow.stepping
    append(view, feed)
    qtbot.wait(int(REST_S * 1000) + 200)  # the range stays where the user put it
    assert x_range(view) == pytest.approx((1000, 2000))


def test_without_steps_the_range_is_exact_at_every_update(qtbot, view, monkeypatch):
    monkeypatch.setattr(follow_range, "GROW_IN_STEPS", False)
    feed = ScalarFeed()
    for _ in range(4):
        append(view, feed)
        assert x_range(view) == pytest.approx(exact(view))
        assert not view.follow.stepping
