#!/usr/bin/env python3
"""GUI frame-time benchmark: the real `MainWindow` (offscreen, 1600x900) while a file loads.

Opens the window with the performance overlay on, loads a file with the time cursor
following the data, and records the overlay's own statistics while ingesting: frame
interval p50/p99/max (the hub's `IngestStats`, the series the overlay shows), UI-thread busy
time split into ingestion and everything else (the overlay's `UiThreadMeter`), and how often
each view redrew. Two inputs:

- ``scalars``: ``/tmp/big_scalars.rrd`` (``scripts/make_big_scalars.py``: 2 M rows, ~4 000
  chunks, one time-series view);
- ``mixed``: ``/tmp/gui_mixed.rrd`` (written here): the same 2 M scalar rows plus 1 000 frames
  each of a 3D point cloud, 2D points, an image and text log lines, all in one store
  (5 views: plot, 3D, 2D, image, text log).

Each run is a fresh process, threaded and web mode; ``--repeat`` runs (default 10) of each
case and mode one after the other, and every run's frame p99 is reported (not the best), with
how many met the issue's line (threaded <= 18 ms, web <= 20 ms). ``--ab A,B`` alternates
runs with and without some mechanisms in the same invocation (A/B on a shared machine). Writes
``docs/benchmarks/gui.md``.

    .venv/bin/python scripts/bench_gui.py [--cases scalars,mixed] [--modes threaded,web]
        [--repeat 10] [--no-write] [--floor] [--profile CASE:MODE] [--ablate gate,...]
        [--ab budget,paint-gate,columns]

``BENCH_TRACE=/tmp/trace.json`` also saves a Chrome trace of each load (frames, applies,
view redraws, plot paints) for diagnosis; ``BENCH_SPLITS=/tmp/splits.json`` every frame's
`FrameBudget` split (ingestion allowed / taken, views allowed / taken, other).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections import deque
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

BIG_SCALARS = Path("/tmp/big_scalars.rrd")
MIXED = Path("/tmp/gui_mixed.rrd")
TARGET_P99_MS = 20.0
#: Issue 13's line for the frame p99 while the 2 M-row file loads with its plot, per mode.
TARGETS_MS = {"threaded": 18.0, "web": 20.0}
#: Mechanisms ``--ablate`` / ``--ab`` can switch off.
ABLATIONS = ("gate", "small-pages", "budget", "columns", "paint-gate", "queue-budget",
             "frames-stopped", "envelope-image", "reserved-handover", "grid-direct", "job-reserve",
             "fast-specs", "tree-early", "envelope-cache",
             "grid-cache", "range-steps", "envelope-extend", "step-wait")
WINDOW_SIZE = (1600, 900)


# ---------------------------------------------------------------------- input files
def write_mixed(path: Path, blocks: int = 1000, rows_per_chunk: int = 500,
                scalar_entities: int = 4) -> None:
    """2 M scalar rows (4 entities x 500 rows per block) plus per block one row each of a
    3D cloud (300 points), 2D points, a 96x64 RGB image and two text log lines."""
    import numpy as np
    import pyarrow as pa

    from viewer.demo import (
        _LEVELS,
        _image,
        _image_format_type,
        _list_of_fixed,
        _offsets,
        _spiral,
        build_chunk,
        demo_store_id,
    )
    from viewer.log.arrow import encode_record_batch
    from viewer.log.messages import SetStoreInfo, StoreInfo
    from viewer.log.sorbet import TuidGenerator
    from viewer.log.writer import RrdWriter

    store_id = demo_store_id("gui-mixed")
    ids = TuidGenerator(1_700_000_000_000_000_000)
    t0 = 1_700_000_000_000_000_000
    tmp = path.with_suffix(".tmp")
    with RrdWriter(tmp) as writer:
        writer.write(SetStoreInfo(StoreInfo(store_id)))

        def put(entity: str, frames: list[int], comps: list) -> None:  # noqa: ANN001
            times = [t0 + f * 1_000_000 for f in frames]
            writer.write(encode_record_batch(build_chunk(ids, entity, frames, times, comps),
                                             store_id))

        for b in range(blocks):
            first = b * rows_per_chunk
            frames = list(range(first, first + rows_per_chunk))
            f = np.asarray(frames, dtype=np.float64)
            for i in range(scalar_entities):
                values = np.sin(f * 0.001 * (i + 1)) + 0.1 * i
                put(f"/plots/s{i}", frames, [("Scalars", "scalars", "Scalar", pa.ListArray.from_arrays(
                    pa.array(np.arange(len(f) + 1, dtype=np.int32)), pa.array(values)))])
            pos, colors = _spiral(b)
            put("/world/spiral", [first], [
                ("Points3D", "positions", "Position3D", _list_of_fixed(pos, _offsets([len(pos)]), 3)),
                ("Points3D", "colors", "Color", pa.ListArray.from_arrays(
                    pa.array(_offsets([len(colors)]), pa.int32()), pa.array(colors, pa.uint32()))),
                ("Points3D", "radii", "Radius", pa.array([[0.05]], pa.list_(pa.float32()))),
            ])
            pts = np.array([48, 32]) + 20 * np.stack(
                [np.cos(np.arange(25) + b / 10), np.sin(np.arange(25) + b / 10)], axis=-1)
            put("/camera/points", [first], [
                ("Points2D", "positions", "Position2D", _list_of_fixed(pts, _offsets([25]), 2)),
                ("Points2D", "radii", "Radius", pa.array([[0.6]], pa.list_(pa.float32()))),
            ])
            img = _image(b)
            fmt = [[{"width": img.shape[1], "height": img.shape[0], "pixel_format": None,
                     "color_model": 2, "channel_datatype": 6}]]
            put("/camera/image", [first], [
                ("Image", "buffer", "ImageBuffer", pa.array(
                    [[img.reshape(-1)]], pa.list_(pa.list_(pa.field("item", pa.uint8(), nullable=False))))),
                ("Image", "format", "ImageFormat", pa.array(fmt, pa.list_(_image_format_type()))),
            ])
            lf = [first, first + rows_per_chunk // 2]
            put("/logs", lf, [
                ("TextLog", "text", "Text", pa.array([[f"block {b} frame {x}"] for x in lf],
                                                     pa.list_(pa.string()))),
                ("TextLog", "level", "TextLogLevel", pa.array(
                    [[_LEVELS[(x // 7) % len(_LEVELS)]] for x in lf], pa.list_(pa.string()))),
            ])
    tmp.replace(path)


def ensure_inputs(cases: list[str]) -> None:
    if "scalars" in cases and not BIG_SCALARS.exists():
        print(f"writing {BIG_SCALARS} with rerun-sdk ...", file=sys.stderr)
        subprocess.run([sys.executable, str(ROOT / "scripts" / "make_big_scalars.py"),
                        str(BIG_SCALARS)], check=True)
    if "mixed" in cases and not MIXED.exists():
        print(f"writing {MIXED} ...", file=sys.stderr)
        write_mixed(MIXED)


# ---------------------------------------------------------------------- one run (child)
_paint_events: Any = None


def trace_paints() -> None:
    """Under BENCH_TRACE: each plot's paint (pyqtgraph's GraphicsView, with its CPU time)
    and each cyclic GC collection become scopes, so the trace shows the UI work between
    frame ticks (the frame budget's "other" part), not only the ticks."""
    import pyqtgraph as pg

    from viewer.tracing import TRACER

    original = pg.GraphicsView.paintEvent

    def paint(self, event):  # noqa: ANN001, ANN202
        c0 = time.thread_time()  # the paint's CPU time: wall minus it = waiting (GIL, core)
        with TRACER.scope("paint", "ui", lambda: {
                "widget": "plot", "cpu_ms": (time.thread_time() - c0) * 1000.0}):
            return original(self, event)

    pg.GraphicsView.paintEvent = paint  # type: ignore[method-assign]

    if os.environ.get("BENCH_ITEM_PAINTS"):  # each item's paint too (curves, axes, ...)
        from viewer.ui.views.plot.envelope_image import EnvelopeCurveItem

        def scoped(cls: type) -> None:
            item_paint = cls.paint

            def wrapped(self, *args):  # noqa: ANN001, ANN002, ANN202
                with TRACER.scope("item paint", "ui", {"item": cls.__name__}):
                    return item_paint(self, *args)

            cls.paint = wrapped

        from PySide6.QtCore import QEvent, QObject
        from PySide6.QtWidgets import QApplication

        class PaintEvents(QObject):  # each widget paint's start, as an instant
            def eventFilter(self, obj, event):  # noqa: ANN001, ANN202, N802
                if event.type() == QEvent.Type.Paint:
                    TRACER.instant("paint event", "ui", {"widget": type(obj).__name__})
                return False

        global _paint_events  # noqa: PLW0603 (kept alive with the app)
        _paint_events = PaintEvents()
        QApplication.instance().installEventFilter(_paint_events)

        from viewer.ui.views.plot.plot_axes import _RectTicksMixin

        for cls in (EnvelopeCurveItem, _RectTicksMixin, pg.PlotCurveItem, pg.LegendItem,
                    pg.InfiniteLine, pg.ViewBox, pg.ScatterPlotItem, pg.LabelItem):
            if "paint" in cls.__dict__:
                scoped(cls)

    import gc
    import threading

    open_scopes: dict[int, Any] = {}

    def on_gc(phase: str, info: dict[str, int]) -> None:  # each collection, in its thread
        tid = threading.get_ident()
        if phase == "start":
            scope = TRACER.scope("gc", "gc", {"generation": info["generation"]})
            scope.__enter__()
            open_scopes[tid] = scope
        elif tid in open_scopes:
            open_scopes.pop(tid).__exit__(None, None, None)

    gc.callbacks.append(on_gc)


def run_one(config: dict[str, Any]) -> dict[str, Any]:
    """Load ``config["file"]`` into a shown MainWindow; return the overlay's numbers."""
    tmp = Path(tempfile.mkdtemp(prefix="bench-gui-"))
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    os.environ["RRD_VIEWER_SETTINGS"] = str(tmp / "settings.ini")
    for var in ("HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME"):
        os.environ[var] = str(tmp)
    from PySide6.QtCore import QEventLoop, QTimer

    ablate = set(config.get("ablate") or ())
    if "small-pages" in ablate:  # numpy keeps asking for transparent huge pages
        import viewer.runtime

        viewer.runtime.no_numpy_huge_pages = lambda: None
    if "gate" in ablate:  # background threads never pause for the UI thread
        from viewer.ingest.ui_gate import UiGate

        UiGate.clear = lambda self: None  # type: ignore[method-assign]

    from viewer.ingest import IngestHub, IngestSettings
    from viewer.ingest.stats import IngestStats
    from viewer.runtime import apply_process_settings
    from viewer.ui.app import make_application
    from viewer.ui.main_window import MainWindow
    from viewer.ui.overlay import ring_tail
    from viewer.ui.settings import AppSettings
    from viewer.ui.views.plot.timeseries import TimeSeriesView

    app = make_application()
    if "paint-gate" in ablate:  # a window's paint does not close the UI gate
        import viewer.ingest.frame_driver

        viewer.ingest.frame_driver.PAINTS_HOLD_GATE = False
    if "columns" in ablate:  # the plot draws its envelope's 1-2 segments per pixel column
        import viewer.ui.views.plot.timeseries

        viewer.ui.views.plot.timeseries.MERGE_COLUMNS = False
    if "envelope-image" in ablate:  # the plot's dense envelope drawn as Qt lines
        import viewer.ui.views.plot.envelope_image

        viewer.ui.views.plot.envelope_image.ENABLED = False
    if "job-reserve" in ablate:  # web mode: queued jobs do not reserve their frames
        import viewer.ui.views.base

        viewer.ui.views.base.RESERVE_FOR_JOBS = False
    if "grid-direct" in ablate:  # the vertical grid replayed from the axis' QPicture
        import viewer.ui.views.plot.plot_axes

        viewer.ui.views.plot.plot_axes.GRID_OUTSIDE_PICTURE = False
    if "fast-specs" in ablate:  # the axes' tick layout by pyqtgraph's generateDrawSpecs
        import viewer.ui.views.plot.plot_axes

        viewer.ui.views.plot.plot_axes.FAST_SPECS = False
    if "envelope-cache" in ablate:  # a curve makes its envelope image at every paint
        import viewer.ui.views.plot.envelope_image

        viewer.ui.views.plot.envelope_image.CACHE_IMAGE = False
    if "grid-cache" in ablate:  # the vertical grid drawn at every repaint
        import viewer.ui.views.plot.plot_axes

        viewer.ui.views.plot.plot_axes.GRID_CACHE = False
    if "range-steps" in ablate:  # the followed x range set to the data's bounds every update
        import viewer.ui.views.plot.follow_range

        viewer.ui.views.plot.follow_range.GROW_IN_STEPS = False
    if "step-wait" in ablate:  # a stepped plot does not wait in the redraw queue
        import viewer.ui.views.plot.timeseries

        viewer.ui.views.plot.timeseries.WAIT_WHILE_STEPPED = False
    if "envelope-extend" in ablate:  # a curve's kept image made anew for new data
        import viewer.ui.views.plot.envelope_image

        viewer.ui.views.plot.envelope_image.EXTEND_IMAGE = False
    if "tree-early" in ablate:  # a new store's tree first shown with the switch turn
        import viewer.ui.main_window

        viewer.ui.main_window.TREE_SHOWN_IN_FILL_TURN = False
    if "reserved-handover" in ablate:  # web mode: the plot hands over in any frame
        import viewer.ui.views.plot.timeseries

        viewer.ui.views.plot.timeseries.HANDOVER_IN_RESERVED_FRAME = False
    if "queue-budget" in ablate:  # web mode: the redraw queue's turns never wait for a frame
        import viewer.ui.views.base as base

        base.DataRedrawQueue._budget_spent = lambda self: False  # type: ignore[method-assign]
        base.View.work_budget_s = (  # type: ignore[method-assign]
            lambda self: base.REDRAW_WORK_BUDGET_S if self._budgeted else None)
    if "frames-stopped" in ablate:  # the redraw queue's own timer at the frame period
        import viewer.ui.views.base as base_mod

        base_mod.FRAMES_STOPPED_MS = base_mod.DATA_REDRAW_TICK_MS
    if "budget" in ablate:  # web mode: ingestion and redraws each with a budget of their own
        import viewer.ingest.hub
        from viewer.ingest.frame_budget import FrameBudget

        viewer.ingest.hub.frame_budget_for = lambda s: FrameBudget(  # type: ignore[assignment]
            shared=False, ingest_max_ms=s.web_budget_ms if s.web_mode else s.apply_budget_ms)
    hub = IngestHub(IngestSettings(web_mode=config["mode"] == "web"))
    hub.stats = IngestStats(window_frames=1 << 17)
    hub.frame_budget.splits = deque(maxlen=1 << 17)
    window = MainWindow(hub, AppSettings(os.environ["RRD_VIEWER_SETTINGS"]), restore_geometry=False)
    window.resize(*WINDOW_SIZE)
    window.show()
    apply_process_settings(gui=True)  # as run_gui does, right before its hub starts
    hub.start()
    window.set_overlay_visible(True)

    def follow(store_id: object) -> None:
        ui = window.stores.get(store_id)
        if ui is not None:
            ui.time_control.set_playback(follow=True)

    window.active_store_changed.connect(follow)
    overlay = window.overlay
    samples: list[dict[str, float]] = []
    overlay._timer.timeout.connect(lambda: samples.append(dict(overlay.numbers)))

    def spin(seconds: float) -> None:
        loop = QEventLoop()
        QTimer.singleShot(int(seconds * 1000), loop.quit)
        loop.exec()

    if config.get("hide_views"):  # the floor: the same window and load without any view
        window.views_area.hide()
    spin(0.5)  # window laid out, a few idle frames
    profiler = None
    if config.get("profile"):
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    trace_path = os.environ.get("BENCH_TRACE")  # Chrome trace of the load (diagnosis)
    if trace_path:
        from viewer.tracing import TRACER

        trace_paints()
        TRACER.start()
    hub.stats.reset()
    frames0 = hub.stats.frame_interval_ms.total
    samples.clear()
    t0 = time.perf_counter()
    cpu0 = time.thread_time()  # the UI thread's CPU clock (the overlay's busy meter is wall)
    sources = window.open_paths([config["file"]], remember=False)
    deadline = t0 + config.get("timeout_s", 300)
    while time.perf_counter() < deadline:
        spin(0.05)
        if all(s.finished for s in sources) and hub.is_idle():
            break
    wall = time.perf_counter() - t0
    ui_cpu_s = time.thread_time() - cpu0
    if trace_path:
        TRACER.stop()
        TRACER.save(trace_path)
    overlay.refresh()
    samples.append(dict(overlay.numbers))  # the last partial second
    if profiler is not None:
        import io
        import pstats

        profiler.disable()
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats(os.environ.get("BENCH_SORT", "cumulative")).print_stats(45)
        print(out.getvalue(), file=sys.stderr)
    splits = list(hub.frame_budget.splits)[-int(hub.stats.frame_interval_ms.total - frames0):]
    if os.environ.get("BENCH_SPLITS"):  # every frame's split, for diagnosis
        Path(os.environ["BENCH_SPLITS"]).write_text(json.dumps(
            [[s.ingest_allowed_ms, s.ingest_ms, s.views_allowed_ms, s.views_ms, s.other_ms]
             for s in splits]))
    ring = hub.stats.frame_interval_ms
    n_frames = ring.total - frames0
    import numpy as np

    intervals = ring_tail(ring, min(n_frames, len(ring.values())))
    p50, p99 = (np.percentile(intervals, [50, 99]) if len(intervals) else (0.0, 0.0))
    views = []
    for host in window.views_area.hosts.values():
        for view in host.all_views():
            views.append({"kind": view.kind_name, "title": view.title,
                          "redraws": view.redraw_count, "visible": view.isVisible()})
    plot_redraws = sum(v.redraw_count for h in window.views_area.hosts.values()
                       for v in h.all_views() if isinstance(v, TimeSeriesView))
    busy = [s for s in samples if s.get("frames_per_s", 0) > 0]
    rows = sum(db.num_rows for db in hub.dbs().values())

    def mean(key: str) -> float:
        return float(np.mean([s[key] for s in busy])) if busy else 0.0

    result = {
        "case": config["case"] + (" (views hidden)" if config.get("hide_views") else "")
        + "".join(f" (no {a})" for a in sorted(ablate)),
        "mode": config["mode"], "wall_s": wall, "rows": rows,
        "frames": int(n_frames),
        "frame_p50_ms": float(p50), "frame_p99_ms": float(p99),
        "frame_max_ms": float(intervals.max()) if len(intervals) else 0.0,
        "frames_over_20ms": int((intervals > 20.0).sum()),
        "busy_fraction": mean("busy_fraction"),
        "ingest_ms_per_frame": mean("ingest_ms_per_frame"),
        "other_ms_per_frame": mean("other_ms_per_frame"),
        "ui_cpu_fraction": ui_cpu_s / wall if wall > 0 else 0.0,
        "ui_ingest_cpu_fraction": float(hub.stats.ui_ingest_cpu_ms.values().sum()) / 1000.0 / wall,
        "plot_redraws": plot_redraws, "views": views,
        # UI-thread CPU per frame (the FrameBudget split): unlike the frame interval, not
        # stretched by other processes taking the core (a busy shared machine)
        "frame_cpu_p99_ms": float(np.percentile([s.total_ms for s in splits], 99))
        if splits else 0.0,
        "other_cpu_p99_ms": float(np.percentile([s.other_ms for s in splits], 99))
        if splits else 0.0,
        "budget_over_frames": sum(s.ingest_ms + s.views_ms > s.budget_ms for s in splits)
        if hub.frame_budget.shared else None,
        "loaded": all(s.finished for s in sources) and hub.is_idle(),
        "load_avg_1m": os.getloadavg()[0],
    }
    window.set_overlay_visible(False)
    window.hide()
    hub.shutdown()
    window.deleteLater()
    app.processEvents()
    return result


# ---------------------------------------------------------------------- parent
def spawn(config: dict[str, Any]) -> dict[str, Any]:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(ROOT),
               RERUN_TELEMETRY="0")
    proc = subprocess.run([sys.executable, __file__, "--one", json.dumps(config)], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=900)
    if config.get("profile"):
        print(proc.stderr, file=sys.stderr)
    if proc.returncode != 0:
        raise RuntimeError(f"benchmark child failed: {proc.stderr[-4000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def table(results: list[dict[str, Any]]) -> list[str]:
    lines = ["| case | mode | load s | frames | frame p50 / p99 / max ms | frames > 20 ms | "
             "UI-thread CPU: all / ingest | overlay: busy, ingest / other ms per frame | "
             "plot redraws | redraws per view | load | p99 target |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        per_view = ", ".join(f"{v['kind']} {v['redraws']}" for v in r["views"]) or "-"
        hidden = "hidden" in r["case"]
        line = TARGETS_MS.get(r["mode"], TARGET_P99_MS)
        ok = "met" if r["frame_p99_ms"] <= line and (hidden or r["plot_redraws"] > 0) \
            else "MISSED"
        lines.append(
            f"| {r['case']} | {r['mode']} | {r['wall_s']:.2f} | {r['frames']} | "
            f"{r['frame_p50_ms']:.1f} / {r['frame_p99_ms']:.1f} / {r['frame_max_ms']:.1f} | "
            f"{r['frames_over_20ms']} | {100 * r['ui_cpu_fraction']:.0f}% / "
            f"{100 * r['ui_ingest_cpu_fraction']:.0f}% | {100 * r['busy_fraction']:.0f}%, "
            f"{r['ingest_ms_per_frame']:.1f} / {r['other_ms_per_frame']:.1f} | "
            f"{r['plot_redraws']} | {per_view} | {r['load_avg_1m']:.1f} | "
            f"{ok if not hidden else '(floor)'} |")
    return lines


def median_run(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The run with the median frame p99 (the upper one of an even count)."""
    ordered = sorted(runs, key=lambda r: r["frame_p99_ms"])
    return ordered[len(ordered) // 2]


def _median(values: Any) -> float:
    v = sorted(values)
    return v[len(v) // 2] if v else 0.0


def runs_table(series: list[tuple[str, str, list[dict[str, Any]]]]) -> list[str]:
    """Every run's frame p99 in the order run, and how many met the mode's line."""
    lines = ["| case | mode | frame p99 ms of each run, in order | median | runs <= line | "
             "web: frames with ingest + views over budget | load s (median) | "
             "UI-thread CPU per frame p99 ms (all / between ticks), median of runs |",
             "|---|---|---|---|---|---|---|---|"]
    for case, mode, runs in series:
        p99s = [r["frame_p99_ms"] for r in runs]
        line = TARGETS_MS.get(mode, TARGET_P99_MS)
        met = sum(p <= line for p in p99s)
        over = [r.get("budget_over_frames") for r in runs]
        over_s = ", ".join(str(o) for o in over) if mode == "web" and None not in over else "-"
        lines.append(
            f"| {case} | {mode} | {', '.join(f'{p:.1f}' for p in p99s)} | "
            f"{sorted(p99s)[len(p99s) // 2]:.1f} | {met} of {len(p99s)} <= {line:.0f} ms | "
            f"{over_s} | {sorted(r['wall_s'] for r in runs)[len(runs) // 2]:.2f} | "
            f"{_median(r.get('frame_cpu_p99_ms', 0.0) for r in runs):.1f} / "
            f"{_median(r.get('other_cpu_p99_ms', 0.0) for r in runs):.1f} |")
    return lines


def write_report(results: list[dict[str, Any]], series: list[tuple[str, str, list[dict[str, Any]]]],
                 out: Path, notes: str) -> None:
    head = [
        "# GUI frame-time benchmark (window shown, views redrawing, while loading)",
        "",
        f"Generated by `scripts/bench_gui.py` on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}"
        f" ({platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}).",
        "",
        f"The real `MainWindow`, offscreen, {WINDOW_SIZE[0]}x{WINDOW_SIZE[1]}, performance overlay on, "
        "time cursor following the data. Numbers are the overlay's own statistics, taken from "
        "opening the file until it is loaded: frame interval = between frame-timer ticks (16 ms "
        "timer; the hub's `IngestStats`); overlay busy = the overlay's `UiThreadMeter` (the UI "
        "thread's CPU clock), split into ingestion (apply; web mode also read + decode) and "
        "everything else (panels, views, painting), averaged over the overlay's 1 s refreshes; "
        "UI-thread CPU = the same clock over the whole load, and of that the ingestion part "
        "(`IngestStats.ui_ingest_cpu_ms`). Frame time the UI thread does not spend on its CPU "
        "is time waiting for the GIL or a core. "
        "Redraws = `View.redraw_count` (the plot must redraw while loading). The first table "
        "lists every run's frame p99 in the order run (each a fresh process, one after the "
        "other); the second shows the run with the median p99 of each row. Shared 2-core "
        "machine: expect ±20–30 % between runs.",
        "",
        "Inputs: `scalars` = `/tmp/big_scalars.rrd` (`scripts/make_big_scalars.py`, 2 M rows in "
        "4 000 chunks, 1 plot view); `mixed` = `/tmp/gui_mixed.rrd` (written by this script: the "
        "same 2 M scalar rows plus 1 000 rows each of a 300-point 3D cloud, 2D points, a 96x64 "
        "image and 2 000 text log lines in one store; 5 views).",
        "",
        f"Target (issue 13): frame p99 <= {TARGETS_MS['threaded']:.0f} ms (threaded) in at "
        f"least 8 of 10 consecutive runs and <= {TARGETS_MS['web']:.0f} ms (web) while the "
        "2 M-row file loads, with the plot view visible and redrawing.",
        "",
    ]
    body = runs_table(series) + [""] + table(results)
    cmd = ["", "Reproduce: `.venv/bin/python scripts/bench_gui.py` (writes this file).", ""]
    out.write_text("\n".join(head + body + cmd) + ("\n" + notes if notes else ""), encoding="utf-8")


NOTES_MARK = "<!-- notes: kept across runs -->"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--one", help=argparse.SUPPRESS)
    p.add_argument("--cases", default="scalars,mixed")
    p.add_argument("--modes", default="threaded,web")
    p.add_argument("--repeat", type=int, default=10)
    p.add_argument("--no-write", action="store_true")
    p.add_argument("--profile", help="CASE:MODE: print a cProfile of that run to stderr "
                   "(BENCH_SORT=tottime to sort by own time)")
    p.add_argument("--ablate", default="",
                   help="comma list of mechanisms to switch off, to measure what each buys: "
                   "gate (the UI gate: background threads pause while the UI thread works), "
                   "small-pages (numpy left asking for transparent huge pages), "
                   "budget (web mode: ingestion and redraws each with a budget of their own), "
                   "columns (the plot's envelope drawn with 1-2 segments per pixel column), "
                   "paint-gate (a window's paint does not close the UI gate), "
                   "frames-stopped (the redraw queue's own timer runs at the frame period "
                   "between frames)")
    p.add_argument("--ab", default="",
                   help="comma list of mechanisms: alternate runs with them (A) and without "
                   "them (B), --repeat of each, and report both")
    p.add_argument("--floor", action="store_true",
                   help="also run each case with the views area hidden (what the rest costs)")
    p.add_argument("--out", default=str(ROOT / "docs" / "benchmarks" / "gui.md"))
    args = p.parse_args(argv)
    if args.one:
        print(json.dumps(run_one(json.loads(args.one))))
        return 0
    cases = args.cases.split(",")
    ensure_inputs(cases)
    files = {"scalars": BIG_SCALARS, "mixed": MIXED}
    ablate = [a for a in args.ablate.split(",") if a]
    ab = [a for a in args.ab.split(",") if a]
    for a in ablate + ab:
        if a not in ABLATIONS:
            p.error(f"unknown mechanism {a!r} (one of {', '.join(ABLATIONS)})")
    variants = [ablate, ablate + ab] if ab else [ablate]
    results: list[dict[str, Any]] = []
    series: list[tuple[str, str, list[dict[str, Any]]]] = []
    for case in cases:
        for mode in args.modes.split(","):
            runs: dict[int, list[dict[str, Any]]] = {i: [] for i in range(len(variants))}
            for _ in range(max(1, args.repeat)):
                for i, variant in enumerate(variants):  # A/B alternate within each round
                    cfg = {"case": case, "mode": mode, "file": str(files[case]),
                           "profile": args.profile == f"{case}:{mode}", "ablate": variant}
                    r = spawn(cfg)
                    runs[i].append(r)
                    print(json.dumps({k: v for k, v in r.items() if k != "views"}),
                          file=sys.stderr)
            for i in runs:
                results.append(median_run(runs[i]))
                series.append((runs[i][0]["case"], mode, runs[i]))
            if args.floor:
                floor = [spawn({"case": case, "mode": mode, "file": str(files[case]),
                                "hide_views": True}) for _ in range(max(1, args.repeat))]
                results.append(median_run(floor))
                series.append((floor[0]["case"], mode, floor))
    print("\n".join(runs_table(series)))
    print("\n".join(table(results)))
    if not args.no_write:
        out = Path(args.out)
        notes = ""
        if out.exists() and NOTES_MARK in out.read_text(encoding="utf-8"):
            notes = out.read_text(encoding="utf-8").split(NOTES_MARK, 1)[1]
            notes = NOTES_MARK + notes
        write_report(results, series, out, notes)
        print(f"wrote {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
