"""A/B of the decode helper process: ``viewer ingest FILE --json --decode-helper on`` against
``off``, alternating, each run after touching warm memory (docs/platform-facts.md, "Fresh
memory"). Prints every run and the medians: whole process wall time, the pipeline's own
``stats.wall_s``, ours' peak RSS and the helper's private memory.

    .venv/bin/python scripts/bench_decode_helper.py FILE [FILE...] --pairs 5

    .venv/bin/python scripts/bench_decode_helper.py FILE --helper-alone --pairs 5

``--helper-alone`` times the helper process by itself: a parent that only drains its
frames and hands the ring's space back at once (wall time from its start to the end of
the file, its ~0.2 s of imports included, and the helper's CPU time). Make the inputs with ``scripts/make_bench_files.py`` (``--only
small_chunks --scale S``).
Numbers it gave are in docs/benchmarks/README.md ("The decode helper").
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable


def warm(gib: float) -> None:
    if gib > 0:
        subprocess.run([PY, "-c", f"import numpy as np; np.ones({int(gib * (1 << 30))}, np.uint8)"],
                       check=True)


def run_once(path: Path, mode: str) -> dict[str, float]:
    t0 = time.perf_counter()
    proc = subprocess.run([PY, "-m", "viewer", "ingest", str(path), "--json",
                           "--decode-helper", mode], cwd=ROOT, capture_output=True, text=True,
                          check=False)
    whole = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"{mode} on {path}: exit {proc.returncode}: {proc.stderr[-500:]}")
    report = json.loads(proc.stdout)
    if report["errors"]:
        raise SystemExit(f"{mode} on {path}: errors {report['errors'][:2]}")
    st = report["stats"]
    return {"whole_s": whole, "pipeline_s": st["wall_s"], "rss_mb": st["peak_rss_bytes"] / 1e6,
            "helper_private_mb": st.get("helper_private_bytes", 0) / 1e6, "rows": st["rows"]}


def helper_alone(path: Path) -> tuple[float, float]:
    """(wall s, CPU s) of the decode helper on ``path`` with the viewer's default run caps,
    its output only drained."""
    import os

    sys.path.insert(0, str(ROOT))
    from viewer.ingest.settings import IngestSettings
    from viewer.log.decode_helper import JOINED, RING, TAIL, read_frames
    from viewer.log.helper_launch import launch

    helper = launch()
    os.set_blocking(helper.ctl_fd, True)
    t0 = time.perf_counter()
    helper.send_job(path, *IngestSettings().run_caps())
    for _bytes_read, _low, records in read_frames(helper.proc.stdout):
        ends = [rec[-2] for rec in records if rec[0] in (RING, JOINED)]
        if ends:
            os.write(helper.ctl_fd, TAIL.pack(max(ends)))
    wall = time.perf_counter() - t0
    os.close(helper.ctl_fd)
    helper.wait()
    return wall, helper.cpu_s


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("files", nargs="+", type=Path)
    ap.add_argument("--pairs", type=int, default=5, help="alternating on/off pairs (default 5)")
    ap.add_argument("--warm-gb", type=float, default=1.5, help="GiB touched before each run")
    ap.add_argument("--helper-alone", action="store_true",
                    help="time the helper process by itself (no viewer pipeline)")
    args = ap.parse_args(argv)
    if args.helper_alone:
        for path in args.files:
            runs = []
            for _ in range(args.pairs):
                warm(args.warm_gb)
                runs.append(helper_alone(path))
                print(f"{path.name} helper alone: {runs[-1][0]:.3f} s wall, "
                      f"{runs[-1][1]:.3f} s CPU", flush=True)
            print(f"{path.name} helper alone median: "
                  f"{statistics.median(r[0] for r in runs):.3f} s wall, "
                  f"{statistics.median(r[1] for r in runs):.3f} s CPU")
        return 0
    for path in args.files:
        runs: dict[str, list[dict[str, float]]] = {"on": [], "off": []}
        for _ in range(args.pairs):
            for mode in ("on", "off"):
                warm(args.warm_gb)
                r = run_once(path, mode)
                runs[mode].append(r)
                print(f"{path.name} {mode:>3}: whole {r['whole_s']:.3f} s, pipeline "
                      f"{r['pipeline_s']:.3f} s, RSS {r['rss_mb']:.0f} MB + helper "
                      f"{r['helper_private_mb']:.0f} MB, rows {r['rows']:,.0f}", flush=True)
        if runs["on"][0]["rows"] != runs["off"][0]["rows"]:
            raise SystemExit(f"{path}: rows differ between on and off")
        for mode, rs in runs.items():
            med = {k: statistics.median(r[k] for r in rs) for k in rs[0]}
            lo = min(r["whole_s"] for r in rs)
            hi = max(r["whole_s"] for r in rs)
            print(f"{path.name} {mode:>3} median: whole {med['whole_s']:.3f} s ({lo:.3f}-{hi:.3f}), "
                  f"pipeline {med['pipeline_s']:.3f} s, RSS {med['rss_mb']:.0f} MB + helper "
                  f"{med['helper_private_mb']:.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
