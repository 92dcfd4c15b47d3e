"""Real chunks written by rerun-sdk (the oracle) for the store tests."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest


def _write_recording(path: Path, log: Callable[[object], None], rows_per_chunk: int) -> None:
    import rerun as rr

    rec = rr.RecordingStream(
        "store_tests",
        recording_id=path.stem,
        batcher_config=rr.ChunkBatcherConfig(
            flush_tick=1e6, flush_num_bytes=1 << 40, flush_num_rows=rows_per_chunk
        ),
    )
    rec.save(str(path))
    log(rec)
    rec.flush()
    rec.disconnect()


def _log_mixed(rec) -> None:  # type: ignore[no-untyped-def]
    import rerun as rr

    rng = np.random.default_rng(7)
    # Scalars on three timelines; frames go backwards now and then (unsorted chunks).
    frames = [0, 1, 2, 5, 3, 4, 9, 7, 8, 6, 10, 11, 12, 13, 14, 15]
    for f in frames:
        rec.set_time("frame", sequence=f)
        rec.set_time("sim_time", timestamp=1.7e9 + f * 0.25)
        rec.set_time("elapsed", duration=f * 0.5)
        rec.log("plots/sine", rr.Scalars([float(np.sin(f))]))
        rec.log("plots/pair", rr.Scalars([float(f), float(-f)]))
        if f % 3 == 0:
            rec.log("world/points", rr.Points3D(rng.random((5, 3)), colors=[255, 0, 0]))
            rec.log("camera/image", rr.Image(rng.integers(0, 255, (4, 6, 3), dtype=np.uint8)))
            rec.log("logs", rr.TextLog(f"frame {f}", level="INFO"))
    rec.log("world/origin", rr.Points3D([[0.0, 0.0, 0.0]]), static=True)
    rec.log("world/points", rr.Points3D([[1.0, 2.0, 3.0]]), static=True)


@pytest.fixture(scope="session")
def mixed_rrd(rerun_home: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("rrd") / "mixed.rrd"
    _write_recording(path, _log_mixed, rows_per_chunk=5)
    return path


@pytest.fixture(scope="session")
def mixed_chunks(mixed_rrd: Path) -> list:
    """rerun-sdk's own chunks of `mixed_rrd` (id, entity_path, is_static, to_record_batch)."""
    from rerun.chunk import RrdReader

    reader = RrdReader(str(mixed_rrd))
    (store,) = reader.recordings()
    return list(reader.stream(store=store).to_chunks())
