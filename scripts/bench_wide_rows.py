"""Wall time of drawing a time series whose rows hold W scalars each (issue 13).

Writes ``ROWS`` rows of ``rr.Scalars`` of W values per row with rerun-sdk, then times
``python -m viewer FILE --screenshot out.png --no-serve`` (offscreen) per width: the whole
process, so start-up is included. A run longer than ``--timeout`` is reported as such.

    QT_QPA_PLATFORM=offscreen .venv/bin/python scripts/bench_wide_rows.py --widths 500 1000 2000 4000
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def write_wide(path: Path, width: int, rows: int = 300, rec: object = None) -> None:
    """``rows`` rows on the ``step`` timeline, each ``width`` scalars (instance i: i + sin),
    through ``rec`` (a rerun ``RecordingStream``; default: one with the SDK's batching)."""
    import rerun as rr

    if rec is None:
        rec = rr.RecordingStream("wide_rows", recording_id=path.stem)
    rec.save(str(path))  # type: ignore[attr-defined]
    base = np.arange(width, dtype=np.float64)
    for step in range(rows):
        rec.set_time("step", sequence=step)  # type: ignore[attr-defined]
        rec.log("wide", rr.Scalars(base + np.sin(step / 10.0)))  # type: ignore[attr-defined]
    rec.flush()  # type: ignore[attr-defined]
    rec.disconnect()  # type: ignore[attr-defined]


def time_screenshot(path: Path, out: Path, timeout: float) -> float | None:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", RERUN_TELEMETRY="0")
    t0 = time.perf_counter()
    try:
        subprocess.run([sys.executable, "-m", "viewer", str(path), "--screenshot", str(out),
                        "--no-serve", "--new-window"], env=env, check=True, timeout=timeout,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        return None
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--widths", type=int, nargs="+", default=[500, 1000, 2000, 4000])
    ap.add_argument("--rows", type=int, default=300)
    ap.add_argument("--timeout", type=float, default=60.0)
    ap.add_argument("--keep", type=Path, help="folder to keep the files and pictures in")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        print("| W | file | --screenshot wall |")
        print("|---|---|---|")
        for w in args.widths:
            path = folder / f"wide_{w}.rrd"
            if not path.exists():
                write_wide(path, w, args.rows)
            wall = time_screenshot(path, folder / f"wide_{w}.png", args.timeout)
            shown = f"> {args.timeout:.0f} s" if wall is None else f"{wall:.2f} s"
            print(f"| {w} | {path.stat().st_size // 1024} KB | {shown} |", flush=True)


if __name__ == "__main__":
    main()
