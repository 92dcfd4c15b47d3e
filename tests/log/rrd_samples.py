"""Helpers for the log tests: SDK-written sample recordings and the SDK reader as oracle.

Files use deterministic batching (exactly N rows per chunk), so tests depend neither on
committed fixtures nor on wall-clock timing.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa


@dataclass(frozen=True)
class OracleChunk:
    kind: str
    recording_id: str
    chunk_id: str
    entity_path: str
    num_rows: int
    is_static: bool
    batch: pa.RecordBatch


def _recording(rr, app: str, rec_id: str, rows_per_chunk: int):
    return rr.RecordingStream(
        app,
        recording_id=rec_id,
        batcher_config=rr.ChunkBatcherConfig(
            flush_tick=1e6, flush_num_bytes=1 << 40, flush_num_rows=rows_per_chunk
        ),
    )


def write_sdk_file(
    rr, path: Path, *, rec_id: str = "rec", frames: int = 40, rows_per_chunk: int = 5,
    blueprint: bool = True, footer: bool = True, seed: int = 0,
) -> Path:
    """A mixed recording: points, scalars, an image, text, static data, optional blueprint."""
    rng = np.random.default_rng(seed)
    rec = _recording(rr, "log_tests", rec_id, rows_per_chunk)
    default_blueprint = (
        rr.blueprint.Blueprint(rr.blueprint.TimeSeriesView(origin="/scalar"))
        if blueprint
        else None
    )
    rec.save(str(path), default_blueprint=default_blueprint, write_footer=footer)
    rec.log("static/label", rr.TextLog("hello"), static=True)
    for i in range(frames):
        rec.set_time("frame", sequence=i)
        rec.set_time("sim_time", duration=i * 0.01)
        rec.log("points", rr.Points3D(rng.random((8, 3)), colors=rng.integers(0, 255, (8, 3))))
        rec.log("scalar", rr.Scalars(float(np.sin(i / 5))))
        if i % 10 == 0:
            rec.log("image", rr.Image(rng.integers(0, 255, (6, 8, 3), dtype=np.uint8)))
            rec.log("log", rr.TextLog(f"frame {i}", level="INFO"))
    rec.send_columns(
        "columns",
        indexes=[rr.TimeColumn("frame", sequence=np.arange(100))],
        columns=rr.Scalars.columns(scalars=np.cos(np.arange(100) / 10)),
    )
    rec.flush()
    rec.disconnect()
    return path


def oracle_chunks(path: Path) -> list[OracleChunk]:
    """Every chunk as rerun-sdk's RrdReader sees it, store by store in its order."""
    import warnings

    from rerun.chunk import RrdReader as SdkReader

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reader = SdkReader(str(path))
        out = []
        for entry in [*reader.recordings(), *reader.blueprints()]:
            for chunk in reader.stream(store=entry).to_chunks():
                out.append(
                    OracleChunk(
                        str(entry.kind), entry.recording_id, str(chunk.id), chunk.entity_path,
                        chunk.num_rows, chunk.is_static, chunk.to_record_batch(),
                    )
                )
    return out


