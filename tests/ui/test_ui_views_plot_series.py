"""The plot's incremental series: appending gives what a from-scratch computation gives."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from viewer.demo import build_chunk
from viewer.log.messages import StoreId, StoreKind
from viewer.log.sorbet import TuidGenerator
from viewer.store.chunk import Chunk, TimelineKind
from viewer.store.entity_db import EntityDb
from viewer.store.entity_path import EntityPath
from viewer.ui.views.arrow_values import time_to_x
from viewer.ui.views.plot.plot_series import PeakEnvelope, PlotSeries
from viewer.ui.views.plot.timeseries import SCALARS

_IDS = TuidGenerator(1_700_000_000_000_000_000)


def scalar_chunk(entity: EntityPath, frames: np.ndarray, values: np.ndarray) -> Chunk:
    scalars = pa.ListArray.from_arrays(pa.array(np.arange(len(values) + 1, dtype=np.int32)),
                                       pa.array(values, pa.float64()))
    return Chunk.from_record_batch(build_chunk(_IDS, str(entity), [int(f) for f in frames], None,
                                               [("Scalars", "scalars", "Scalar", scalars)]))


def reference_runs(x: np.ndarray, y: np.ndarray, size: int):
    """(first x, min, max) of each whole run of ``size`` samples, one run at a time (NaN
    ignored unless the whole run is NaN)."""
    firsts, lows, highs = [], [], []
    for start in range(0, len(y) // size * size, size):
        run = y[start:start + size]
        finite = run[~np.isnan(run)]
        firsts.append(x[start])
        lows.append(finite.min() if len(finite) else np.nan)
        highs.append(finite.max() if len(finite) else np.nan)
    return np.array(firsts), np.array(lows), np.array(highs)


@pytest.mark.parametrize("steps", [[50_000], [7, 20_000, 3, 40_000, 1, 33_333], [1000] * 60])
def test_envelope_grown_in_steps_equals_one_computed_at_once(steps):
    rng = np.random.default_rng(len(steps))
    n = sum(steps)
    x = np.cumsum(rng.uniform(0.5, 1.5, n))
    y = rng.normal(size=n)
    y[rng.integers(0, n, n // 50)] = np.nan  # NaN inside runs is ignored
    y[1000:1200] = np.nan  # a whole run of NaN stays NaN
    env = PeakEnvelope()
    m = 0
    for k in steps:
        m += k
        env.extend(x[:m], y[:m], max_buckets=1000)
        assert env.buckets <= 1000
        assert env.buckets * env.size <= m < (env.buckets + 1) * env.size + env.size
    rx, rlo, rhi = reference_runs(x, y, env.size)
    np.testing.assert_array_equal(env.x0, rx)
    np.testing.assert_array_equal(env.lo, rlo)
    np.testing.assert_array_equal(env.hi, rhi)
    assert env.size & (env.size - 1) == 0  # a power of two
    assert env.buckets > 500  # merged pairwise: never fewer than half the allowed buckets


def test_envelope_keeps_the_extremes_of_all_rows():
    y = np.sin(np.arange(100_000) * 0.01)
    y[77_777] = 5.0
    y[12_345] = -7.0
    env = PeakEnvelope()
    env.extend(np.arange(100_000.0), y, 2500)
    _, sy = env.segments(np.arange(100_000.0), y)
    assert np.nanmax(sy) == 5.0 and np.nanmin(sy) == -7.0
    assert len(sy) <= 2 * (2500 + env.size)


def _db_with(rows: list[tuple[np.ndarray, np.ndarray]]) -> tuple[EntityDb, EntityPath]:
    db = EntityDb(StoreId(StoreKind.RECORDING, "series", "tests"))
    entity = EntityPath.parse("/s")
    for frames, values in rows:
        db.add_chunk(scalar_chunk(entity, frames, values))
    return db, entity


def test_plot_series_converts_only_appended_rows_and_rebuilds_after_an_insert_in_the_past():
    frames = np.arange(0, 3000, dtype=np.int64)
    values = np.cos(frames / 100.0)
    db, entity = _db_with([(frames[:1000], values[:1000])])
    ps = PlotSeries(TimelineKind.SEQUENCE)

    def refresh() -> bool:
        t, v = db.scalar_series(entity, SCALARS, "frame")
        serial = db.scalar_series_serial(entity, SCALARS, "frame")
        return ps.update(serial, t, v)

    assert refresh()
    assert not refresh()  # nothing new: nothing to do
    serial = ps.serial
    db.add_chunk(scalar_chunk(entity, frames[1000:3000], values[1000:3000]))
    assert refresh()
    assert ps.serial == serial  # appended: the same series, extended
    np.testing.assert_array_equal(ps.x, time_to_x(frames, TimelineKind.SEQUENCE))
    np.testing.assert_array_equal(ps.values, values)
    assert ps.y_range == (values.min(), values.max())  # kept up to date by appending

    # A chunk in the past: the store rebuilds the series, the plot converts it all again.
    db.add_chunk(scalar_chunk(entity, np.array([-5, 1500], dtype=np.int64), np.array([9.0, 8.0])))
    assert refresh()
    assert ps.serial != serial
    t, v = db.scalar_series(entity, SCALARS, "frame")
    np.testing.assert_array_equal(ps.x, t.astype(np.float64))
    np.testing.assert_array_equal(ps.values, v)
    assert ps.y_range == (min(v.min(), 8.0), 9.0)  # rebuilt with the rebuilt series
    ex, ey = ps.envelope(64)
    assert ey.max() == 9.0 and ex[0] == -5.0


def test_plot_series_timestamps_become_seconds_the_same_way_in_pieces():
    t = np.arange(1_700_000_000_000_000_000, 1_700_000_000_000_000_000 + 5000 * 1_000_003,
                  1_000_003, dtype=np.int64)
    ps = PlotSeries(TimelineKind.TIMESTAMP)
    ps.update(1, t[:1234], np.zeros(1234))
    ps.update(1, t, np.zeros(len(t)))
    np.testing.assert_array_equal(ps.x, time_to_x(t, TimelineKind.TIMESTAMP))


def test_segments_cover_every_run_and_join_their_neighbours():
    rng = np.random.default_rng(7)
    n = 60_000
    x = np.arange(n, dtype=np.float64)
    y = np.cumsum(rng.normal(size=n))
    y[30_000:30_050] = np.nan  # NaN inside one run: ignored there
    env = PeakEnvelope()
    env.extend(x, y, 1000)
    sx, sy = env.segments(x, y)
    lo, hi = sy[0::2], sy[1::2]
    assert np.array_equal(sx[0::2], sx[1::2])  # vertical segments
    assert (lo <= hi).all()
    done = env.buckets * env.size
    assert len(lo) == env.buckets + (n - done)  # one per run, then one per tail sample
    for b in range(env.buckets):  # each run's extremes are on its segment
        run = y[b * env.size:(b + 1) * env.size]
        assert lo[b] <= np.nanmin(run) and hi[b] >= np.nanmax(run)
        assert sx[2 * b] == x[b * env.size]
    # Continuous: every segment reaches the range of the one before it.
    assert (lo[1:] <= hi[:-1]).all() and (hi[1:] >= lo[:-1]).all()
    np.testing.assert_array_equal(hi[env.buckets:][1:] >= y[done:][1:], True)
