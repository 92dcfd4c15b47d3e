#!/usr/bin/env python3
"""Ingestion benchmark matrix (headless, the real `IngestHub`), each cell in a fresh process.

Suites:

- ``matrix``: queue capacity (``queue_max_messages``) x message size (rows per chunk) x
  concurrent stores x mode (threaded / web).
- ``decode``: ``decode_threads`` 0 (one OS thread per store) vs 1 vs 2, with 1/2/5/10 stores.
- ``merge``: ``merge_max_rows`` 0 / 1024 / 4096 / 16384 on 100-row chunks of ONE entity.
- ``budget``: ``apply_budget_ms`` 1 / 2 / 4 / 8 and ``web_budget_ms`` 4 / 8 / 12 at the
  biggest backlog (10 stores of 100-row chunks).
- ``bytes``: ``queue_max_bytes`` 4 / 16 / 64 / 256 MiB with ~1.2 MB messages.
- ``idle`` and ``sdkfile`` (not run by default): capacities 100 / 250 / 500 / 1000 with an
  idle UI on scalar-only 500-row chunks, ours and a rerun-sdk file (``--sdk-file``).

Per cell: UI frame interval and UI-thread ingest time per frame (p50/p99/max), throughput
(rows/s, MB/s of .rrd input), worker busy fraction (decode seconds per wall second, summed over
stores), peak queue depth (messages) and bytes, peak RSS of the cell's process, and
read-to-applied latency (p50/p99, from ``hub.stats``). A synthetic UI load (``--ui-load-ms``,
CPU time burnt on the UI thread after every frame that applied something, outside the frame
timer's slot, like a view redraw) models a UI that also draws.

Input: one .rrd per store written with our writer (`RrdWriter`, `encode_record_batch`), LZ4
compressed like the SDK, rows with a ``frame`` and a ``log_time`` index, a Scalars column and
a Points3D positions column; 4 entities sent in turn (``merge`` suite: one entity). Cached in
``--data-dir``. Outputs (``--out-dir``, default docs/benchmarks): ``ingestion.csv``,
``ingestion.md`` and PNG plots drawn with QPainter (no plotting dependency).

    QT_QPA_PLATFORM=offscreen .venv/bin/python scripts/bench_ingestion.py --repeat 3
    QT_QPA_PLATFORM=offscreen .venv/bin/python scripts/bench_ingestion.py \
        --suites idle,sdkfile --repeat 5 --name ingestion-idle
    QT_QPA_PLATFORM=offscreen .venv/bin/python scripts/bench_ingestion.py --quick  # < 2 min
"""

from __future__ import annotations

import argparse
import csv
import itertools
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

FULL = {
    "capacities": [100, 500, 1000, 2000, 5000, 10000],
    "msg_rows": [100, 1000, 10000],
    "stores": [1, 2, 5, 10],
    "modes": ["threaded", "web"],
    "decode_threads": [0, 1, 2],
    "decode_msg_rows": [100, 1000],
    "merge": [0, 1024, 4096, 16384],
    "merge_modes": ["threaded", "web"],
    "apply_budgets": [1.0, 2.0, 4.0, 8.0],
    "web_budgets": [4.0, 8.0, 12.0],
    "bytes_modes": ["threaded", "web"],
    "queue_mb": [4, 16, 64, 256],
    "bytes_rows": 100_000,
    "idle_stores": [1, 5],
    "idle_capacities": [100, 250, 500, 1000],
    "idle_rows": 1_000_000,
    "rows": 200_000,
}
QUICK = {
    "capacities": [100, 2000],
    "msg_rows": [100, 10000],
    "stores": [1, 5],
    "modes": ["threaded", "web"],
    "decode_threads": [0, 1],
    "decode_msg_rows": [1000],
    "merge": [0, 4096],
    "merge_modes": ["threaded"],
    "apply_budgets": [4.0],
    "web_budgets": [8.0],
    "bytes_modes": ["threaded"],
    "queue_mb": [16, 64],
    "bytes_rows": 30_000,
    "idle_stores": [1],
    "idle_capacities": [100, 500],
    "idle_rows": 100_000,
    "rows": 50_000,
}
TINY = {
    "capacities": [100],
    "msg_rows": [100, 1000],
    "stores": [1, 2],
    "modes": ["threaded", "web"],
    "decode_threads": [0, 1],
    "decode_msg_rows": [100],
    "merge": [0, 1024],
    "merge_modes": ["threaded"],
    "apply_budgets": [4.0],
    "web_budgets": [8.0],
    "bytes_modes": ["threaded"],
    "queue_mb": [1],
    "bytes_rows": 3_000,
    "idle_stores": [1],
    "idle_capacities": [100],
    "idle_rows": 3_000,
    "rows": 3_000,
}

SUITES = "matrix,decode,merge,budget,bytes"  # also: --suites idle,sdkfile --name ingestion-idle
CELL_KEYS = ["suite", "mode", "decode_threads", "capacity", "msg_rows", "stores",
             "merge_max_rows", "points_per_row", "queue_max_mb", "apply_budget_ms",
             "web_budget_ms", "ui_load_ms"]
COLUMNS = [*CELL_KEYS, "ok", "runs", "rows", "messages", "chunks_applied", "input_mb", "wall_s",
    "rows_per_s", "mb_per_s",
    "frame_p50_ms", "frame_p99_ms", "frame_max_ms",
    "ui_ingest_p50_ms", "ui_ingest_p99_ms", "ui_ingest_max_ms", "ui_ingest_total_ms",
    "apply_p50_ms", "apply_p99_ms", "apply_max_ms", "apply_total_ms",
    "worker_busy", "peak_inbox_msgs", "peak_queue_msgs", "peak_queue_mb",
    "base_rss_mb", "peak_rss_mb", "latency_p50_ms", "latency_p99_ms", "load_avg",
]


# ---------------------------------------------------------------------- input files
def write_store_file(path: Path, index: int, rows: int, msg_rows: int, entities: int,
                     points: int = 1) -> None:
    """One recording (its own recording id) of ``rows`` rows in ``msg_rows``-row chunks."""
    import numpy as np
    import pyarrow as pa

    from viewer.log.arrow import encode_record_batch
    from viewer.log.messages import SetStoreInfo, StoreId, StoreInfo, StoreKind, StoreSource
    from viewer.log.writer import RrdWriter
    from viewer.net.demo_stream import STORE_VERSION_0_41, TuidGenerator, scalar_chunk

    points_field = pa.field("Points3D:positions", pa.list_(pa.list_(pa.float32(), 3)), metadata={
        "rerun:archetype": "rerun.archetypes.Points3D", "rerun:component": "Points3D:positions",
        "rerun:component_type": "rerun.components.Position3D", "rerun:kind": "data"})
    store = StoreId(StoreKind.RECORDING, f"bench-{index}-{rows}-{msg_rows}-{entities}-{points}",
                    "bench")
    tuids = TuidGenerator()
    rng = np.random.default_rng(index)
    tmp = path.with_suffix(".tmp")
    with RrdWriter(tmp, footer=False) as writer:
        writer.write(SetStoreInfo(StoreInfo(store, StoreSource(6, b"bench"), STORE_VERSION_0_41),
                                  tuids.next()))
        next_frame = [0] * entities
        done = 0
        for i in itertools.count():
            if done >= rows:
                break
            n = min(msg_rows, rows - done)
            k = i % entities
            frames = np.arange(next_frame[k], next_frame[k] + n, dtype=np.int64)
            next_frame[k] += n
            batch, chunk_id = scalar_chunk(f"/bench/entity_{k}", frames, rng.standard_normal(n),
                                           tuids)
            flat = pa.array(rng.standard_normal(3 * n * points).astype(np.float32))
            pts = pa.ListArray.from_arrays(pa.array(np.arange(n + 1, dtype=np.int32) * points),
                                           pa.FixedSizeListArray.from_arrays(flat, 3))
            if points:
                batch = batch.append_column(points_field, pts)
            writer.write(encode_record_batch(batch, store, chunk_id=chunk_id, is_static=False))
            done += n
    tmp.replace(path)


def store_files(data_dir: Path, stores: int, rows: int, msg_rows: int,
                entities: int = 4, points: int = 1) -> list[Path]:
    data_dir.mkdir(parents=True, exist_ok=True)
    out = []
    for i in range(stores):
        path = data_dir / f"s{i}_r{rows}_m{msg_rows}_e{entities}_p{points}.rrd"
        if not path.exists():
            write_store_file(path, i, rows, msg_rows, entities, points)
        out.append(path)
    return out


# ---------------------------------------------------------------------- one cell (child)
def _rss_mb() -> float:
    with open("/proc/self/statm", "rb") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6


def run_cell(cfg: dict[str, Any]) -> dict[str, Any]:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QCoreApplication, QTimer

    import viewer.log.arrow  # noqa: F401 - import cost is not part of the measurement
    import viewer.store.entity_db  # noqa: F401
    from viewer.commands.ingest import _peak_rss_bytes
    from viewer.ingest import IngestHub, IngestSettings
    from viewer.ingest.stats import IngestStats
    from viewer.runtime import apply_process_settings

    app = QCoreApplication.instance() or QCoreApplication(["bench"])
    hub = IngestHub(IngestSettings(**cfg["settings"]))
    hub.stats = IngestStats(window_frames=1 << 17, window_samples=1 << 18)
    load_s = cfg["ui_load_ms"] / 1000.0
    pending = [False]

    def ui_load() -> None:  # a view redraw: fixed CPU work on the UI thread, GIL held
        pending[0] = False
        end = time.thread_time() + load_s
        while time.thread_time() < end:
            pass

    def on_frame(_changes: object) -> None:
        if load_s > 0 and not pending[0]:
            pending[0] = True
            QTimer.singleShot(0, ui_load)

    hub.frame_applied.connect(on_frame)
    apply_process_settings(gui=False)  # as `viewer ingest` does
    hub.start()
    hub.run_until_idle(0.05)  # a few idle frames first so the first interval is a real one
    hub.stats.reset()
    base_rss = _rss_mb()
    files = [Path(f) for f in cfg["files"]]
    t0 = time.perf_counter()
    for f in files:
        hub.open_file(f)
    ok = hub.run_until_idle(cfg["timeout_s"])
    wall = time.perf_counter() - t0
    snap = hub.stats.snapshot()
    workers = hub.state.workers
    busy = sum(w.busy_s for w in workers)
    peak_inbox = max((w.inbox.peak_items for w in workers), default=0)
    peak_queue = sum(w.inbox.peak_items + w.outbox.peak_items for w in workers)
    rows = sum(db.num_rows for db in hub.dbs().values())
    in_mb = sum(f.stat().st_size for f in files) / 1e6
    ui_total = float(hub.stats.ui_ingest_ms.values().sum())
    apply_total = float(hub.stats.apply_ms.values().sum())
    hub.shutdown()
    del app
    fr, ui, ap, lat = (snap[k] for k in ("frame_interval_ms", "ui_ingest_ms", "apply_ms",
                                         "latency_ms"))
    return {
        "ok": ok and not hub.errors(), "rows": rows, "messages": snap["messages_applied"],
        "chunks_applied": snap["chunks_applied"], "input_mb": in_mb, "wall_s": wall,
        "rows_per_s": rows / wall, "mb_per_s": in_mb / wall,
        "frame_p50_ms": fr["p50"], "frame_p99_ms": fr["p99"], "frame_max_ms": fr["max"],
        "ui_ingest_p50_ms": ui["p50"], "ui_ingest_p99_ms": ui["p99"], "ui_ingest_max_ms": ui["max"],
        "ui_ingest_total_ms": ui_total,
        "apply_p50_ms": ap["p50"], "apply_p99_ms": ap["p99"], "apply_max_ms": ap["max"],
        "apply_total_ms": apply_total,
        "worker_busy": busy / wall, "peak_inbox_msgs": peak_inbox, "peak_queue_msgs": peak_queue,
        "peak_queue_mb": snap["peak_queue_bytes"] / 1e6, "base_rss_mb": base_rss,
        "peak_rss_mb": _peak_rss_bytes() / 1e6,
        "latency_p50_ms": lat["p50"], "latency_p99_ms": lat["p99"],
        "load_avg": os.getloadavg()[0],
    }


def spawn(cfg: dict[str, Any]) -> dict[str, Any]:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(ROOT))
    proc = subprocess.run([sys.executable, __file__, "--one", json.dumps(cfg)], cwd=ROOT,
                          env=env, capture_output=True, text=True,
                          timeout=cfg["timeout_s"] + 60)
    if proc.returncode != 0:
        raise RuntimeError(f"benchmark cell failed: {proc.stderr[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------------- the matrix
DEFAULT_APPLY_MS, DEFAULT_WEB_MS, DEFAULT_QUEUE_MB = 4.0, 8.0, 64


def cells(grid: dict[str, Any], suites: list[str], ui_load_ms: float) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []

    def cell(suite: str, mode: str, threads: int, cap: int, msg_rows: int, stores: int,
             merge: int, *, entities: int = 4, points: int = 1, queue_mb: int = DEFAULT_QUEUE_MB,
             apply_ms: float = DEFAULT_APPLY_MS, web_ms: float = DEFAULT_WEB_MS,
             rows: int | None = None, ui_load: float | None = None) -> dict[str, Any]:
        return {"suite": suite, "mode": mode, "decode_threads": threads, "capacity": cap,
                "msg_rows": msg_rows, "stores": stores, "merge_max_rows": merge,
                "entities": entities, "points_per_row": points, "queue_max_mb": queue_mb,
                "apply_budget_ms": apply_ms, "web_budget_ms": web_ms,
                "ui_load_ms": ui_load_ms if ui_load is None else ui_load, "rows_override": rows}

    if "matrix" in suites:
        for mode, msg_rows, stores, cap in itertools.product(
                grid["modes"], grid["msg_rows"], grid["stores"], grid["capacities"]):
            out.append(cell("matrix", mode, 1, cap, msg_rows, stores, 4096))
    if "decode" in suites:
        for msg_rows, stores, threads in itertools.product(
                grid["decode_msg_rows"], grid["stores"], grid["decode_threads"]):
            out.append(cell("decode", "threaded", threads, 1000, msg_rows, stores, 4096))
    if "merge" in suites:
        for mode, merge in itertools.product(grid["merge_modes"], grid["merge"]):
            out.append(cell("merge", mode, 1, 1000, 100, 1, merge, entities=1))
    most = max(grid["stores"])
    if "budget" in suites:  # the biggest backlog: many stores of small messages
        for ms in grid["apply_budgets"]:
            out.append(cell("budget", "threaded", 1, 1000, 100, most, 4096, apply_ms=ms))
        for ms in grid["web_budgets"]:
            out.append(cell("budget", "web", 1, 1000, 100, most, 4096, web_ms=ms))
    if "bytes" in suites:  # big messages (1000 rows x 100 points: ~1.2 MB), the byte bound binds
        for mode, mb in itertools.product(grid["bytes_modes"], grid["queue_mb"]):
            out.append(cell("bytes", mode, 1, 1000, 1000, 2, 4096, points=100, queue_mb=mb,
                            rows=grid["bytes_rows"]))
    if "idle" in suites:  # small capacities with a fast consumer: idle UI, scalar-only chunks
        for stores, cap in itertools.product(grid["idle_stores"], grid["idle_capacities"]):
            out.append(cell("idle", "threaded", 1, cap, 500, stores, 4096, points=0,
                            rows=grid["idle_rows"], ui_load=0.0))
    if "sdkfile" in suites:  # the same on a file written by rerun-sdk (--sdk-file)
        for stores, cap in itertools.product(grid["idle_stores"], grid["idle_capacities"]):
            out.append(cell("sdkfile", "threaded", 1, cap, 500, stores, 4096, points=0,
                            ui_load=0.0))
    return out


def sdk_files(path: Path, stores: int) -> list[Path]:
    """``path`` (made by scripts/make_big_scalars.py if missing) and copies under other
    recording ids, as scripts/bench_frames.py makes them."""
    sys.path.insert(0, str(ROOT / "scripts"))
    import bench_frames

    bench_frames.ensure_file(path)
    return bench_frames.ensure_copies(path, stores)


def _key(c: dict[str, Any]) -> tuple:
    return tuple(c[k] for k in CELL_KEYS)


def median_of(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Per-column median over repeated runs of one cell (``ok`` only if every run was)."""
    out = dict(runs[0])
    for k, v in runs[0].items():
        if isinstance(v, float | int) and not isinstance(v, bool) and k not in CELL_KEYS:
            out[k] = statistics.median(r[k] for r in runs)
    out["ok"] = all(r["ok"] for r in runs)
    out["runs"] = len(runs)
    return out


def run_all(args: argparse.Namespace, grid: dict[str, Any]) -> list[dict[str, Any]]:
    data_dir = Path(args.data_dir)
    todo = cells(grid, args.suites.split(","), args.ui_load_ms)
    runs: dict[tuple, list[dict[str, Any]]] = {}
    t_start = time.monotonic()
    total = len(todo) * args.repeat
    n = 0
    for _round in range(args.repeat):  # rounds, so a burst of load hits one run of a cell
        for c in todo:
            n += 1
            if time.monotonic() - t_start > args.max_minutes * 60:
                print(f"time cap reached: {total - n + 1} runs skipped", file=sys.stderr)
                return [median_of(r) for r in runs.values()]
            rows = args.rows or c["rows_override"] or grid["rows"]
            if c["suite"] == "sdkfile":
                files = sdk_files(Path(args.sdk_file), c["stores"])
            else:
                files = store_files(data_dir, c["stores"], rows, c["msg_rows"], c["entities"],
                                    c["points_per_row"])
            settings = {"web_mode": c["mode"] == "web", "decode_threads": c["decode_threads"],
                        "queue_max_messages": c["capacity"], "merge_max_rows": c["merge_max_rows"],
                        "queue_max_bytes": int(c["queue_max_mb"] * (1 << 20)),
                        "apply_budget_ms": c["apply_budget_ms"],
                        "web_budget_ms": c["web_budget_ms"]}
            cfg = {"files": [str(f) for f in files], "settings": settings,
                   "ui_load_ms": c["ui_load_ms"], "timeout_s": args.cell_timeout}
            res = {**{k: c[k] for k in COLUMNS if k in c}, **spawn(cfg)}
            runs.setdefault(_key(c), []).append(res)
            print(f"[{n}/{total}] {c['suite']} {c['mode']} t={c['decode_threads']} "
                  f"cap={c['capacity']} rows/msg={c['msg_rows']} stores={c['stores']} "
                  f"merge={c['merge_max_rows']} qMB={c['queue_max_mb']} "
                  f"budget={c['apply_budget_ms']}/{c['web_budget_ms']}: "
                  f"{res['rows_per_s'] / 1e6:.2f} M rows/s, frame p99 "
                  f"{res['frame_p99_ms']:.1f} ms, UI ingest p99 {res['ui_ingest_p99_ms']:.2f} ms, "
                  f"RSS {res['peak_rss_mb']:.0f} MB", file=sys.stderr, flush=True)
    return [median_of(r) for r in runs.values()]


# ---------------------------------------------------------------------- outputs
def write_csv(results: list[dict[str, Any]], path: Path) -> None:
    with path.open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=COLUMNS, extrasaction="ignore")
        w.writeheader()
        for r in results:
            w.writerow({k: (f"{v:.4g}" if isinstance(v, float) else v) for k, v in r.items()})


def read_csv(path: Path) -> list[dict[str, Any]]:
    def value(v: str) -> Any:
        if v in ("True", "False"):
            return v == "True"
        for kind in (int, float):
            try:
                return kind(v)
            except ValueError:
                pass
        return v

    with path.open() as f:
        return [{k: value(v) for k, v in row.items()} for row in csv.DictReader(f)]


def _table(results: list[dict[str, Any]], cols: list[tuple[str, str, str]]) -> list[str]:
    lines = ["| " + " | ".join(h for h, _, _ in cols) + " |",
             "|" + "|".join("---:" for _ in cols) + "|"]
    for r in results:
        cells_ = []
        for _, key, fmt in cols:
            keys = key.split("/")
            cells_.append(" / ".join(format(r[k], fmt) for k in keys))
        lines.append("| " + " | ".join(cells_) + " |")
    return lines


MATRIX_COLS = [
    ("mode", "mode", ""), ("rows/msg", "msg_rows", ""), ("stores", "stores", ""),
    ("capacity", "capacity", ""),
    ("frame p50/p99/max ms", "frame_p50_ms/frame_p99_ms/frame_max_ms", ".1f"),
    ("UI ingest p50/p99/max ms", "ui_ingest_p50_ms/ui_ingest_p99_ms/ui_ingest_max_ms", ".2f"),
    ("M rows/s", "mrows", ".2f"), ("MB/s", "mb_per_s", ".0f"), ("busy", "worker_busy", ".2f"),
    ("peak inbox msgs", "peak_inbox_msgs", ""), ("peak queue MB", "peak_queue_mb", ".1f"),
    ("peak RSS MB", "peak_rss_mb", ".0f"),
    ("latency p50/p99 ms", "latency_p50_ms/latency_p99_ms", ".0f"), ("ok", "ok", ""),
]
DECODE_COLS = [
    ("decode_threads", "decode_threads", ""), ("rows/msg", "msg_rows", ""),
    ("stores", "stores", ""),
    ("frame p50/p99/max ms", "frame_p50_ms/frame_p99_ms/frame_max_ms", ".1f"),
    ("UI ingest p99/max ms", "ui_ingest_p99_ms/ui_ingest_max_ms", ".2f"),
    ("M rows/s", "mrows", ".2f"), ("busy", "worker_busy", ".2f"),
    ("peak RSS MB", "peak_rss_mb", ".0f"), ("latency p50/p99 ms", "latency_p50_ms/latency_p99_ms",
                                            ".0f"), ("load", "load_avg", ".1f"),
]
MERGE_COLS = [
    ("mode", "mode", ""), ("merge_max_rows", "merge_max_rows", ""),
    ("chunks applied", "chunks_applied", ""), ("UI apply total ms", "apply_total_ms", ".1f"),
    ("apply p50/p99/max ms", "apply_p50_ms/apply_p99_ms/apply_max_ms", ".2f"),
    ("UI ingest p99 ms", "ui_ingest_p99_ms", ".2f"), ("frame p99 ms", "frame_p99_ms", ".1f"),
    ("M rows/s", "mrows", ".2f"), ("latency p50/p99 ms", "latency_p50_ms/latency_p99_ms", ".0f"),
]

BUDGET_COLS = [
    ("mode", "mode", ""), ("stores", "stores", ""), ("apply_budget_ms", "apply_budget_ms", "g"),
    ("web_budget_ms", "web_budget_ms", "g"),
    ("frame p50/p99/max ms", "frame_p50_ms/frame_p99_ms/frame_max_ms", ".1f"),
    ("UI ingest p50/p99/max ms", "ui_ingest_p50_ms/ui_ingest_p99_ms/ui_ingest_max_ms", ".2f"),
    ("M rows/s", "mrows", ".2f"), ("latency p50/p99 ms", "latency_p50_ms/latency_p99_ms", ".0f"),
]
BYTES_COLS = [
    ("mode", "mode", ""), ("queue_max_bytes MiB", "queue_max_mb", "g"),
    ("peak inbox msgs", "peak_inbox_msgs", ""), ("peak queue MB", "peak_queue_mb", ".1f"),
    ("peak RSS MB", "peak_rss_mb", ".0f"), ("M rows/s", "mrows", ".2f"), ("MB/s", "mb_per_s", ".0f"),
    ("frame p99 ms", "frame_p99_ms", ".1f"), ("UI ingest p99 ms", "ui_ingest_p99_ms", ".2f"),
    ("latency p50/p99 ms", "latency_p50_ms/latency_p99_ms", ".0f"),
]

IDLE_COLS = [
    ("stores", "stores", ""), ("capacity", "capacity", ""), ("M rows/s", "mrows", ".2f"),
    ("frame p50/p99/max ms", "frame_p50_ms/frame_p99_ms/frame_max_ms", ".1f"),
    ("UI ingest p99 ms", "ui_ingest_p99_ms", ".2f"), ("busy", "worker_busy", ".2f"),
    ("peak queue MB", "peak_queue_mb", ".1f"),
    ("latency p50/p99 ms", "latency_p50_ms/latency_p99_ms", ".0f"),
]


def write_markdown(results: list[dict[str, Any]], path: Path, args: argparse.Namespace,
                   rows: int, plots: list[str]) -> None:
    for r in results:
        r["mrows"] = r["rows_per_s"] / 1e6
    by = {s: [r for r in results if r["suite"] == s]
          for s in ("matrix", "decode", "merge", "budget", "bytes", "idle", "sdkfile")}
    cmd = "QT_QPA_PLATFORM=offscreen .venv/bin/python scripts/bench_ingestion.py"
    flags = " ".join(f for f in ("--quick" if args.quick else "", "--tiny" if args.tiny else "",
                                 f"--rows {args.rows}" if args.rows else "",
                                 f"--repeat {args.repeat}" if args.repeat != 1 else "",
                                 f"--suites {args.suites}" if args.suites != SUITES else "",
                                 f"--ui-load-ms {args.ui_load_ms:g}" if args.ui_load_ms != 4.0
                                 else "") if f)
    lines = [
        "# Ingestion benchmark matrix",
        "",
        f"Written by `scripts/bench_ingestion.py` on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}"
        f" ({platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}); "
        f"`{cmd}{(' ' + flags) if flags else ''}`.",
        "",
        f"Each run of a cell is a fresh process (so peak RSS is per cell); {args.repeat} run(s) "
        "per cell in rounds, every column the median over them. The processes run the real "
        "`IngestHub` "
        f"headless on one .rrd per store: {rows:,} rows per store (frame + log_time index, "
        f"a Scalars and a Points3D column, LZ4, 4 entities in turn). Synthetic UI load: "
        f"{args.ui_load_ms:g} ms of UI-thread CPU after every frame that applied data. "
        "Frame = interval between frame-timer ticks (16 ms timer); UI ingest = UI-thread time "
        "in ingestion per frame with work; busy = worker decode seconds per wall second (summed "
        "over stores); peak inbox msgs = deepest single inbox; peak queue MB = all queues, "
        "sampled per frame; latency = read -> applied per item. Shared 2-core machine: "
        "expect ±20–30 % between runs (`load` = 1-minute load average).",
        "",
        "Plots: " + ", ".join(f"[{p}]({p})" for p in plots) + f"; raw numbers: `{args.csv_name}`.",
        "",
    ]
    if by["matrix"]:
        lines += ["## Matrix (decode_threads 1, merge_max_rows 4096)", ""]
        lines += _table(by["matrix"], MATRIX_COLS) + [""]
    if by["decode"]:
        lines += ["## Decode concurrency: one OS thread per store (0) vs a shared pool (1, 2)",
                  "", "Threaded mode, queue capacity 1000.", ""]
        lines += _table(by["decode"], DECODE_COLS) + [""]
    if by["merge"]:
        lines += ["## Merge threshold: 100-row chunks of one entity, one store", ""]
        lines += _table(by["merge"], MERGE_COLS) + [""]
    if by["budget"]:
        lines += ["## Frame budgets: apply_budget_ms (threaded), web_budget_ms (web)", "",
                  "The biggest backlog of the matrix: the most stores, 100-row messages, "
                  "capacity 1000.", ""]
        lines += _table(by["budget"], BUDGET_COLS) + [""]
    if by["idle"]:
        lines += ["## Small capacities, fast consumer: idle UI, scalar-only 500-row chunks", "",
                  "No synthetic UI load, no points column (decoding is cheapest per message), "
                  "threaded.", ""]
        lines += _table(by["idle"], IDLE_COLS) + [""]
    if by["sdkfile"]:
        lines += ["## The same on a file written by rerun-sdk", "",
                  f"`{Path(args.sdk_file).name}` (`scripts/make_big_scalars.py`: 2 M scalar "
                  "rows in 4 000 chunks of 500 rows) and copies; idle UI, threaded.", ""]
        lines += _table(by["sdkfile"], IDLE_COLS) + [""]
    if by["bytes"]:
        lines += ["## Byte bound: queue_max_bytes with ~1.2 MB messages", "",
                  "2 stores, 1000 rows x 100 points per message (incompressible floats), "
                  "count bound 1000 (so only the byte bound limits the queues).", ""]
        lines += _table(by["bytes"], BYTES_COLS) + [""]
    path.write_text("\n".join(lines) + "\n")


# ---------------------------------------------------------------------- plots (QPainter)
_COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2",
           "#17becf"]


def line_plot(path: Path, title: str, xlabel: str, ylabel: str,
              series: dict[str, list[tuple[float, float]]], *, logx: bool = False) -> None:
    """A small line chart, rendered offscreen with QPainter."""
    from PySide6.QtCore import QPointF, QRectF, Qt
    from PySide6.QtGui import QColor, QFont, QImage, QPainter, QPen

    w, h = 1000, 560
    left, right, top, bottom = 100, 270, 50, 60
    img = QImage(w, h, QImage.Format.Format_ARGB32)
    img.fill(QColor("white"))
    pts = [p for s in series.values() for p in s]
    if not pts:
        img.save(str(path))
        return
    fx = (lambda x: math.log10(max(x, 1e-9))) if logx else (lambda x: x)
    xs = [fx(x) for x, _ in pts]
    x0, x1 = min(xs), max(xs)
    if x1 == x0:
        x0, x1 = x0 - 1, x1 + 1
    y0 = 0.0
    top_y = max(y for _, y in pts) or 1.0
    step = 10 ** math.floor(math.log10(top_y / 5))
    step *= next(m for m in (1, 2, 2.5, 5, 10) if top_y / (step * m) <= 5)
    y1 = step * math.ceil(top_y * 1.02 / step)
    n_yticks = round(y1 / step)
    pw, ph = w - left - right, h - top - bottom

    def to(x: float, y: float) -> QPointF:
        return QPointF(left + (fx(x) - x0) / (x1 - x0) * pw, top + ph - (y - y0) / (y1 - y0) * ph)

    p = QPainter(img)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    font = QFont()
    font.setPixelSize(13)
    p.setFont(font)
    p.setPen(QPen(QColor("#888"), 1))
    p.drawRect(QRectF(left, top, pw, ph))
    xticks = sorted({x for x, _ in pts})
    for x in xticks:
        q = to(x, y0)
        p.drawLine(q, QPointF(q.x(), q.y() + 5))
        p.drawText(QRectF(q.x() - 40, q.y() + 6, 80, 18), Qt.AlignmentFlag.AlignCenter, f"{x:g}")
    for i in range(n_yticks + 1):
        y = step * i
        q = to(xticks[0], y)
        p.setPen(QPen(QColor("#eee"), 1))
        p.drawLine(QPointF(left, q.y()), QPointF(left + pw, q.y()))
        p.setPen(QPen(QColor("#444"), 1))
        p.drawText(QRectF(0, q.y() - 9, left - 8, 18), Qt.AlignmentFlag.AlignRight, f"{y:,.6g}")
    p.drawText(QRectF(left, h - 28, pw, 20), Qt.AlignmentFlag.AlignCenter, xlabel)
    p.save()
    p.translate(16, top + ph / 2)
    p.rotate(-90)
    p.drawText(QRectF(-ph / 2, -10, ph, 20), Qt.AlignmentFlag.AlignCenter, ylabel)
    p.restore()
    font.setPixelSize(16)
    font.setBold(True)
    p.setFont(font)
    p.drawText(QRectF(0, 10, w, 28), Qt.AlignmentFlag.AlignCenter, title)
    font.setPixelSize(13)
    font.setBold(False)
    p.setFont(font)
    for i, (name, s) in enumerate(series.items()):
        color = QColor(_COLORS[i % len(_COLORS)])
        p.setPen(QPen(color, 2.2, Qt.PenStyle.DashLine if "web" in name else Qt.PenStyle.SolidLine))
        s = sorted(s)
        for a, b in itertools.pairwise(s):
            p.drawLine(to(*a), to(*b))
        for pt in s:
            p.drawEllipse(to(*pt), 3, 3)
        ly = top + 10 + i * 20
        p.drawLine(QPointF(w - right + 15, ly), QPointF(w - right + 45, ly))
        p.setPen(QPen(QColor("#222"), 1))
        p.drawText(QRectF(w - right + 50, ly - 9, right - 52, 18), Qt.AlignmentFlag.AlignLeft,
                   name)
    p.end()
    img.save(str(path), "PNG")


def write_plots(results: list[dict[str, Any]], out_dir: Path, prefix: str) -> list[str]:
    from PySide6.QtGui import QGuiApplication

    _app = QGuiApplication.instance() or QGuiApplication(["bench"])  # fonts need a GUI app
    m = [r for r in results if r["suite"] == "matrix" and r["ok"]]
    written: list[str] = []
    if m:
        most = max(r["stores"] for r in m)
        caps = sorted({r["capacity"] for r in m})
        mid_cap = min(caps, key=lambda c: abs(c - 1000))

        def series(rows: list[dict[str, Any]], x: str, y: str) -> dict[str, list]:
            out: dict[str, list] = {}
            for r in rows:
                out.setdefault(f"{r['mode']}, {r['msg_rows']} rows/msg", []).append((r[x], r[y]))
            return out

        sel = [r for r in m if r["stores"] == most]
        for name, y, label in (("ui_blocking_vs_capacity", "ui_ingest_p99_ms",
                                "UI ingest per frame p99 (ms)"),
                               ("frame_p99_vs_capacity", "frame_p99_ms", "frame interval p99 (ms)"),
                               ("memory_vs_capacity", "peak_rss_mb", "peak RSS (MB)"),
                               ("latency_vs_capacity", "latency_p99_ms", "latency p99 (ms)")):
            line_plot(out_dir / f"{prefix}_{name}.png", f"{label} vs queue capacity, {most} stores",
                      "queue capacity (messages, log scale)", label, series(sel, "capacity", y),
                      logx=True)
            written.append(f"{prefix}_{name}.png")
        sel = [dict(r, mrows=r["rows_per_s"] / 1e6) for r in m if r["capacity"] == mid_cap]
        line_plot(out_dir / f"{prefix}_throughput_vs_stores.png",
                  f"throughput vs concurrent stores, capacity {mid_cap}", "stores",
                  "M rows/s (all stores)", series(sel, "stores", "mrows"))
        written.append(f"{prefix}_throughput_vs_stores.png")
    d = [r for r in results if r["suite"] == "decode" and r["ok"]]
    if d:
        for y, label, name in (("frame_p99_ms", "frame interval p99 (ms)", "decode_frame_p99"),
                               ("rows_per_s", "rows/s", "decode_throughput")):
            ser: dict[str, list] = {}
            for r in d:
                ser.setdefault(f"threads={r['decode_threads']}, {r['msg_rows']} rows/msg",
                               []).append((r["stores"], r[y]))
            line_plot(out_dir / f"{prefix}_{name}.png", f"{label} vs stores by decode_threads",
                      "stores", label, ser)
            written.append(f"{prefix}_{name}.png")
    return written


# ---------------------------------------------------------------------- main
def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--one", help=argparse.SUPPRESS)
    p.add_argument("--quick", action="store_true", help="a small subset (< 2 minutes)")
    p.add_argument("--tiny", action="store_true", help="a few cells on tiny files (tests)")
    p.add_argument("--rows", type=int, default=0, help="rows per store per cell (default by grid)")
    p.add_argument("--suites", default=SUITES)
    p.add_argument("--ui-load-ms", type=float, default=4.0,
                   help="synthetic UI-thread CPU work after every frame with data (0: off)")
    p.add_argument("--out-dir", default=str(ROOT / "docs" / "benchmarks"))
    p.add_argument("--name", default="ingestion", help="output file name prefix")
    p.add_argument("--data-dir", default="/tmp/bench_ingestion_data")
    p.add_argument("--max-minutes", type=float, default=45.0, help="skip the rest after this")
    p.add_argument("--cell-timeout", type=float, default=300.0)
    p.add_argument("--repeat", type=int, default=1,
                   help="runs per cell, in rounds; the CSV has the per-column median")
    p.add_argument("--sdk-file", default="/tmp/big_scalars.rrd",
                   help="input of the sdkfile suite (written by make_big_scalars.py if missing)")
    p.add_argument("--replot", action="store_true",
                   help="only redraw the plots and the markdown from the existing CSV")
    args = p.parse_args(argv)
    if args.one:
        print(json.dumps(run_cell(json.loads(args.one))))
        return 0
    grid = TINY if args.tiny else QUICK if args.quick else FULL
    out_dir = Path(args.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    args.csv_name = f"{args.name}.csv"
    if args.replot:
        results = read_csv(out_dir / args.csv_name)
    else:
        results = run_all(args, grid)
        write_csv(results, out_dir / args.csv_name)
    plots = write_plots(results, out_dir, args.name)
    write_markdown(results, out_dir / f"{args.name}.md", args, args.rows or grid["rows"], plots)
    print(f"wrote {out_dir / args.csv_name}, {out_dir / (args.name + '.md')} and "
          f"{len(plots)} plots", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
