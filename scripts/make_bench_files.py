"""Write the three large `.rrd` benchmark files with rerun-sdk 0.41.0 (cached, never committed).

The files stress the three costs a loader has: many small chunks (``rr.log`` row by row),
few big columnar chunks (``rr.send_columns``) and few very large chunks (point clouds). They
are slow to write (the row-by-row one takes minutes at full scale), so each file is written
once per scale into a cache directory and reused; a ``.json`` sidecar records its parameters.

Run from the repository root::

    .venv/bin/python scripts/make_bench_files.py [--scale 0.1] [--out /tmp/rrd-bench]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DEFAULT_OUT = Path("/tmp/rrd-bench")
APP_ID = "rrd_viewer_bench"
FULL_SCALAR_ROWS = 2_000_000
SCALAR_ENTITIES = 4  # rows are spread over a few entities, as a real log would
LOG_ROWS_PER_CHUNK = 500  # -> ~4 000 small chunks at full scale
COLUMN_CHUNKS = 200  # send_columns calls -> ~200 chunks
FULL_CLOUDS = 100
POINTS_PER_CLOUD = 200_000
# The two files of the throughput issue: 20 M scalar rows through `send_columns`, the
# entities one after another, three timelines, in chunks of 500 or of 10 000 rows.
FULL_SERIES_ROWS = 20_000_000
SERIES_CHUNK_ROWS = {"small_chunks": 500, "large_chunks": 10_000}
KINDS = ("log", "columns", "points", "small_chunks", "large_chunks")


def isolate_rerun_config() -> None:
    """rerun-sdk writes config/analytics under $HOME: keep that out of the user's home."""
    home = tempfile.mkdtemp(prefix="rrd_bench_home_")
    os.environ["HOME"] = home
    for var in ("XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME"):
        os.environ[var] = os.path.join(home, var.lower())
    os.environ["RERUN_TELEMETRY"] = "0"


def bench_path(out: Path, kind: str, scale: float) -> Path:
    """Where the file of ``kind`` at ``scale`` lives (scale is part of the name: one cache)."""
    return out / f"bench_{kind}_s{scale:g}.rrd"


def _params(kind: str, scale: float) -> dict[str, object]:
    if kind == "log":
        return {"rows": max(SCALAR_ENTITIES, int(FULL_SCALAR_ROWS * scale)),
                "entities": SCALAR_ENTITIES, "rows_per_chunk": LOG_ROWS_PER_CHUNK}
    if kind in SERIES_CHUNK_ROWS:
        return {"rows": max(SCALAR_ENTITIES * SERIES_CHUNK_ROWS[kind],
                            int(FULL_SERIES_ROWS * scale)),
                "entities": SCALAR_ENTITIES, "rows_per_chunk": SERIES_CHUNK_ROWS[kind],
                "timelines": 3}
    if kind == "columns":
        return {"rows": max(COLUMN_CHUNKS, int(FULL_SCALAR_ROWS * scale)),
                "chunks": COLUMN_CHUNKS}
    return {"clouds": max(1, int(FULL_CLOUDS * scale)), "points_per_cloud": POINTS_PER_CLOUD}


def _recording(rows_per_chunk: int | None):  # noqa: ANN202 - rerun type imported lazily
    import rerun as rr

    batcher = None
    if rows_per_chunk is not None:
        # Flush only by row count: deterministic chunking, independent of machine speed.
        batcher = rr.ChunkBatcherConfig(
            flush_tick=1e6, flush_num_bytes=1 << 40, flush_num_rows=rows_per_chunk)
    return rr.RecordingStream(APP_ID, recording_id="bench", batcher_config=batcher)


def _write_log(path: Path, p: dict[str, object]) -> None:
    """Scalars logged one row per ``rr.log`` call: thousands of small chunks."""
    import numpy as np
    import rerun as rr

    rows, entities = int(p["rows"]), int(p["entities"])  # type: ignore[arg-type]
    rec = _recording(int(p["rows_per_chunk"]))  # type: ignore[arg-type]
    rec.save(str(path))
    values = np.sin(np.arange(rows) * 0.001).tolist()
    names = [f"/signals/s{e}" for e in range(entities)]
    for i, value in enumerate(values):
        if i % entities == 0:
            rec.set_time("frame", sequence=i // entities)
        rec.log(names[i % entities], rr.Scalars(value))
    rec.flush()
    rec.disconnect()


def _write_columns(path: Path, p: dict[str, object]) -> None:
    """Scalars sent as columns: one chunk per ``send_columns`` call."""
    import numpy as np
    import rerun as rr

    rows, chunks = int(p["rows"]), int(p["chunks"])  # type: ignore[arg-type]
    rec = _recording(None)
    rec.save(str(path))
    per = rows // chunks
    for c in range(chunks):
        frames = np.arange(c * per, (c + 1) * per, dtype=np.int64)
        rec.send_columns(
            f"/columns/s{c % SCALAR_ENTITIES}",
            indexes=[rr.TimeColumn("frame", sequence=frames)],
            columns=rr.Scalars.columns(scalars=np.cos(frames * 0.001)),
        )
    rec.flush()
    rec.disconnect()


def _write_series(path: Path, p: dict[str, object]) -> None:
    """Scalars by ``send_columns``: each entity's whole series, then the next entity's.

    Three timelines (a frame sequence, a log time and a sim-time duration), one chunk per
    call, so the chunk size is exactly ``rows_per_chunk``.
    """
    import numpy as np
    import rerun as rr

    rows, entities = int(p["rows"]), int(p["entities"])  # type: ignore[arg-type]
    per = int(p["rows_per_chunk"])  # type: ignore[arg-type]
    rec = _recording(None)
    rec.save(str(path))
    per_entity = rows // entities
    t0_ns = 1_700_000_000 * 10**9
    for e in range(entities):
        for start in range(0, per_entity, per):
            frames = np.arange(start, min(start + per, per_entity), dtype=np.int64)
            rec.send_columns(
                f"/series/s{e}",
                indexes=[rr.TimeColumn("frame", sequence=frames),
                         rr.TimeColumn("log_time", timestamp=(t0_ns + frames * 1_000_000)
                                       .astype("datetime64[ns]")),
                         rr.TimeColumn("sim_time", duration=(frames * 10_000_000)
                                       .astype("timedelta64[ns]"))],
                columns=rr.Scalars.columns(scalars=np.sin(frames * 0.001 + e)),
            )
    rec.flush()
    rec.disconnect()


def _write_points(path: Path, p: dict[str, object]) -> None:
    """Large point clouds: one ``rr.log`` per cloud, each its own multi-megabyte chunk."""
    import numpy as np
    import rerun as rr

    clouds, n = int(p["clouds"]), int(p["points_per_cloud"])  # type: ignore[arg-type]
    rec = _recording(1)
    rec.save(str(path))
    rng = np.random.default_rng(7)
    for frame in range(clouds):
        rec.set_time("frame", sequence=frame)
        pos = rng.standard_normal((n, 3), dtype=np.float32)
        colors = rng.integers(0, 1 << 32, n, dtype=np.uint32)
        rec.log("/world/cloud", rr.Points3D(pos, colors=colors))
    rec.flush()
    rec.disconnect()


WRITERS = {"log": _write_log, "columns": _write_columns, "points": _write_points,
           "small_chunks": _write_series, "large_chunks": _write_series}


def ensure_file(out: Path, kind: str, scale: float, *, quiet: bool = False) -> Path:
    """Return the cached file of ``kind`` at ``scale``, writing it first if missing or stale.

    Each file is written by a fresh subprocess so that one recording per process holds
    (rerun-sdk keeps global state) and a crash mid-write leaves no valid-looking cache.
    """
    path = bench_path(out, kind, scale)
    meta_path = path.with_suffix(".json")
    params = _params(kind, scale)
    if (path.exists() and meta_path.exists()
            and json.loads(meta_path.read_text()).get("params") == params):
        return path
    out.mkdir(parents=True, exist_ok=True)
    if not quiet:
        print(f"writing {path} {params} ...", file=sys.stderr, flush=True)
    t0 = time.perf_counter()
    subprocess.run(
        [sys.executable, __file__, "--write-one", kind, "--scale", repr(scale),
         "--out", str(out)], check=True)
    meta = {"params": params, "bytes": path.stat().st_size,
            "write_s": round(time.perf_counter() - t0, 1)}
    meta_path.write_text(json.dumps(meta, indent=2))
    if not quiet:
        print(f"  {path.stat().st_size / 1e6:.0f} MB in {meta['write_s']} s",
              file=sys.stderr, flush=True)
    return path


def _write_one(out: Path, kind: str, scale: float) -> None:
    isolate_rerun_config()
    path = bench_path(out, kind, scale)
    tmp = path.with_suffix(".partial.rrd")
    tmp.unlink(missing_ok=True)
    WRITERS[kind](tmp, _params(kind, scale))
    tmp.replace(path)
    path.with_suffix(".json").unlink(missing_ok=True)  # the parent writes the fresh sidecar


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT, help="cache directory")
    ap.add_argument("--scale", type=float, default=1.0, help="fraction of full size")
    ap.add_argument("--only", choices=KINDS, action="append", help="write only these kinds")
    ap.add_argument("--write-one", choices=KINDS, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.write_one:
        _write_one(args.out, args.write_one, args.scale)
        return 0
    for kind in args.only or ("points", "columns", "log"):
        print(ensure_file(args.out, kind, args.scale))
    return 0


if __name__ == "__main__":
    sys.exit(main())
