"""Helpers for the view tests: load a real .rrd into an EntityDb with rerun-sdk as the reader
(independent of our own reader), and write small recordings with rerun-sdk."""

from __future__ import annotations

import os
from pathlib import Path

from viewer.log.messages import StoreId, StoreKind
from viewer.store.chunk import Chunk
from viewer.store.entity_db import EntityDb


def isolate_rerun_home(tmp: Path) -> None:
    """rerun-sdk writes config and analytics under $HOME: keep it in a temp folder."""
    for var in ("HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME"):
        os.environ[var] = str(tmp)
    os.environ["RERUN_TELEMETRY"] = "0"


def load_db(path: Path, tmp_home: Path | None = None) -> EntityDb:
    """All chunks of the first recording in ``path``, read by rerun-sdk's RrdReader."""
    if tmp_home is not None:
        isolate_rerun_home(tmp_home)
    from rerun.chunk import RrdReader

    reader = RrdReader(str(path))
    entry = reader.recordings()[0]
    db = EntityDb(StoreId(StoreKind.RECORDING, entry.recording_id, entry.application_id))
    for chunk in reader.stream(store=entry).to_chunks():
        db.add_chunk(Chunk.from_record_batch(chunk.to_record_batch(), is_static=chunk.is_static))
    return db


def write_recording(path: Path, tmp_home: Path, log) -> EntityDb:
    """Write a recording with rerun-sdk (``log(rr, rec)`` logs into it), then load it.

    One row per chunk keeps chunk boundaries independent of wall-clock timing."""
    isolate_rerun_home(tmp_home)
    import rerun as rr

    rec = rr.RecordingStream(
        "ui_views_test", recording_id=path.stem,
        batcher_config=rr.ChunkBatcherConfig(flush_tick=1e6, flush_num_bytes=1 << 40,
                                             flush_num_rows=64))
    rec.save(str(path))
    log(rr, rec)
    rec.flush()
    rec.disconnect()
    return load_db(path)
