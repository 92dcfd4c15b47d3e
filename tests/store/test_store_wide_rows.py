"""Wide Scalars rows (thousands of values per row) as one min/max band per row."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from viewer.commands.inspect import inspect_paths
from viewer.store.entity_path import EntityPath

W = 2000
FIRST = 16
# steps logged out of order now and then: the band must come out sorted by time
STEPS = [0, 1, 2, 5, 3, 4, 6, 7, 9, 8]


def _row(step: int) -> np.ndarray:
    vals = np.arange(W, dtype=np.float64) * 0.5 - step
    vals[100 + step] = 1e6 + step  # a spike past the curves: the band's max
    vals[FIRST + step] = -1e6 - step  # and its min
    vals[500] = np.nan  # NaN is ignored
    return vals


@pytest.fixture(scope="module")
def wide_rrd(rerun_home: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    import rerun as rr

    path = tmp_path_factory.mktemp("wide") / "wide.rrd"
    rec = rr.RecordingStream(
        "wide_rows", recording_id="wide",
        batcher_config=rr.ChunkBatcherConfig(flush_tick=1e6, flush_num_bytes=1 << 40,
                                             flush_num_rows=3))
    rec.save(str(path))
    for step in STEPS:
        rec.set_time("step", sequence=step)
        rec.log("wide", rr.Scalars(_row(step)))
    rec.set_time("step", sequence=20)
    rec.log("wide", rr.Scalars(np.arange(FIRST, dtype=np.float64)))  # no value past FIRST
    rec.flush()
    rec.disconnect()
    return path


def test_band_is_per_row_min_max_of_the_rest(wide_rrd: Path) -> None:
    db = next(iter(inspect_paths([wide_rrd]).dbs.values()))
    entity = EntityPath.parse("wide")
    assert db.source_chunks_of(entity) > 1
    times, lo, hi, _serial = db.scalar_band(entity, "Scalars:scalars", "step", (0, FIRST))
    assert times.tolist() == list(range(10))  # sorted; the narrow row at 20 has no band
    for t in range(10):
        assert lo[t] == -1e6 - t
        assert hi[t] == 1e6 + t
    # instance 0 is a curve, not in the band: the plain series still reads it
    _, v0 = db.scalar_series(entity, "Scalars:scalars", "step")
    assert v0[:10].tolist() == [-t for t in range(10)]


def test_band_reads_in_slices_and_appends(wide_rrd: Path) -> None:
    db = next(iter(inspect_paths([wide_rrd]).dbs.values()))
    entity = EntityPath.parse("wide")
    t1, _, _, s1 = db.scalar_band(entity, "Scalars:scalars", "step", (0, FIRST), max_chunks=1)
    assert 0 < len(t1) < 10
    times, lo, hi, _ = db.scalar_band(entity, "Scalars:scalars", "step", (0, FIRST))
    assert times.tolist() == list(range(10))
    assert hi.tolist() == [1e6 + t for t in range(10)]
    # cached: a second call reads nothing and returns the same band
    again = db.scalar_band(entity, "Scalars:scalars", "step", (0, FIRST))
    assert again[0] is times


def test_band_read_chunk_by_chunk_equals_one_read(wide_rrd: Path) -> None:
    """Chunk by chunk the band appends, and rebuilds when a chunk goes back in time (the
    row at step 8 comes after 9): the result is the same as one read of everything."""
    db = next(iter(inspect_paths([wide_rrd]).dbs.values()))
    entity = EntityPath.parse("wide")
    serials = []
    while db.scalar_band_pending(entity, "Scalars:scalars", "step", (0, FIRST)):
        *_, serial = db.scalar_band(entity, "Scalars:scalars", "step", (0, FIRST), max_chunks=1)
        serials.append(serial)
    assert len(set(serials)) == 2  # appends keep the serial; one rebuild changes it
    times, lo, hi, _ = db.scalar_band(entity, "Scalars:scalars", "step", (0, FIRST))
    assert times.tolist() == list(range(10))
    assert lo.tolist() == [-1e6 - t for t in range(10)]
    assert hi.tolist() == [1e6 + t for t in range(10)]


def test_band_around_a_window_of_curves(wide_rrd: Path) -> None:
    """Curves 16..31: the band holds instances 0..15 and 32.. (the -1e6 spikes at
    16 + step fall in the window; instance 0, -step, is the least left)."""
    db = next(iter(inspect_paths([wide_rrd]).dbs.values()))
    entity = EntityPath.parse("wide")
    times, lo, hi, _ = db.scalar_band(entity, "Scalars:scalars", "step", (FIRST, 2 * FIRST))
    assert times.tolist() == [*range(10), 20]  # the narrow row: its 16 values are outside
    assert lo.tolist() == [-t for t in range(10)] + [0.0]
    assert hi.tolist() == [1e6 + t for t in range(10)] + [15.0]
