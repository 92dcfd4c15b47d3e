#!/usr/bin/env python3
"""Write a large scalar recording with rerun-sdk: ~2 M rows in ~4 000 chunks of 500 rows.

Deterministic batching (``flush_num_rows=500``; `send_columns` writes exactly one chunk per
call), a few entities sent in turn, timelines ``frame`` (sequence) and ``time`` (timestamp).
Used by ``scripts/bench_frames.py``. Never commit the output.

    .venv/bin/python scripts/make_big_scalars.py [/tmp/big_scalars.rrd] [--rows 2000000]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

import numpy as np


def _isolate_rerun_home() -> None:
    home = Path(tempfile.gettempdir()) / "rerun_home_bench"
    home.mkdir(exist_ok=True)
    for var in ("HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME"):
        os.environ[var] = str(home)
    os.environ["RERUN_TELEMETRY"] = "0"


def write_big_scalars(path: Path, rows: int = 2_000_000, chunk_rows: int = 500,
                      entities: int = 4, recording_id: str = "big-scalars") -> int:
    """Write the file; returns the number of chunks sent."""
    _isolate_rerun_home()
    import rerun as rr

    rec = rr.RecordingStream(
        "rrd_viewer_bench",
        recording_id=recording_id,
        batcher_config=rr.ChunkBatcherConfig(
            flush_tick=1e6, flush_num_bytes=1 << 40, flush_num_rows=chunk_rows
        ),
    )
    rec.save(str(path))
    per_entity = rows // entities
    names = [f"/signals/s{i}" for i in range(entities)]
    t0_ns = 1_700_000_000_000_000_000
    chunks = 0
    for start in range(0, per_entity, chunk_rows):
        frames = np.arange(start, min(start + chunk_rows, per_entity), dtype=np.int64)
        times = (t0_ns + frames * 1_000_000).astype("datetime64[ns]")
        for i, name in enumerate(names):
            values = np.sin(frames * (0.001 * (i + 1))) + 0.1 * i
            rr.send_columns(
                name,
                indexes=[rr.TimeColumn("frame", sequence=frames),
                         rr.TimeColumn("time", timestamp=times)],
                columns=rr.Scalars.columns(scalars=values),
                recording=rec,
            )
            chunks += 1
    rec.flush()
    del rec
    return chunks


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("path", nargs="?", default="/tmp/big_scalars.rrd")
    p.add_argument("--rows", type=int, default=2_000_000)
    p.add_argument("--chunk-rows", type=int, default=500)
    p.add_argument("--entities", type=int, default=4)
    args = p.parse_args(argv)
    path = Path(args.path)
    chunks = write_big_scalars(path, args.rows, args.chunk_rows, args.entities)
    print(f"wrote {path}: {args.rows} rows in {chunks} chunks "
          f"({path.stat().st_size / 1e6:.1f} MB)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
