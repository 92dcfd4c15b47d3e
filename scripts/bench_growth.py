"""Growth per dimension (issue 13): does the cost of a load grow linearly with rows, chunks,
entities, stores, row width and live rate?

For each dimension a series of steps (x1, x2, x4, x8 of a base; stores 1, 2, 5, 10), each
step a fresh process running the real pipeline headless (``python -m viewer ingest FILE...
--json``: ``stats.wall_s``, rows, peak RSS), on files written by rerun-sdk and cached under
``/tmp/rrd-growth`` (never committed). The entities and width dimensions also open the
window offscreen (``python -m viewer FILE --screenshot out.png --stats-json s.json``) and
time the first complete picture, since the entity tree and the default layout see every
entity. The live dimension streams 1-row chunks at increasing rates into ``LiveServer`` +
``IngestHub`` over 127.0.0.1 (``scripts/bench_live.py``'s harness, in a fresh child
process per step) and says whether the viewer keeps up, with its CPU share and memory.

Per step: wall time, time per unit, peak RSS and RSS per unit (above an empty-file
baseline measured in the same run), each step repeated (median and min-max; repeats
interleaved over every step of every dimension so a burst of machine load hits one run
only). Per dimension: the log-log slope of the marginal cost against the unit count
("linear" when <= 1.1). Writes ``docs/benchmarks/growth.md`` and ``growth.png``.

Run from the repository root::

    .venv/bin/python scripts/bench_growth.py            # ~10 min, 3 repeats
    .venv/bin/python scripts/bench_growth.py --quick    # < 1 min, smaller steps, 1 repeat
    .venv/bin/python scripts/bench_growth.py --dims entities,width --no-write
    .venv/bin/python scripts/bench_growth.py --replot   # report + plot from the last results
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_machine import cpu_name  # noqa: E402  (sibling script)

PY = sys.executable
CACHE = Path("/tmp/rrd-growth")
REPORT = ROOT / "docs" / "benchmarks" / "growth.md"
PLOT = ROOT / "docs" / "benchmarks" / "growth.png"
LINEAR_SLOPE = 1.1
APP_ID = "rrd_growth"
GUI_TIMEOUT_S = 120.0
INGEST_TIMEOUT_S = 120.0
PROBE_TIMEOUT_S = 300.0


# ---------------------------------------------------------------------- files (rerun-sdk)


def isolate_rerun_home() -> None:
    """rerun-sdk writes config/analytics under $HOME: keep that out of the user's home."""
    home = tempfile.mkdtemp(prefix="rrd_growth_home_")
    os.environ["HOME"] = home
    for var in ("XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME"):
        os.environ[var] = os.path.join(home, var.lower())
    os.environ["RERUN_TELEMETRY"] = "0"


def _cached(path: Path, write: Callable[[Path], None]) -> Path:
    """Write ``path`` once (through a temporary name, so a killed run leaves no half file)."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".part")
        write(tmp)
        tmp.replace(path)
    return path


def _recording(recording_id: str, rows_per_chunk: int | None = None):  # noqa: ANN202
    import rerun as rr

    batcher = None
    if rows_per_chunk is not None:  # flush by row count only: chunking independent of speed
        batcher = rr.ChunkBatcherConfig(flush_tick=1e6, flush_num_bytes=1 << 40,
                                        flush_num_rows=rows_per_chunk)
    return rr.RecordingStream(APP_ID, recording_id=recording_id, batcher_config=batcher)


def scalars_file(rows: int, chunk_rows: int, entities: int = 4, tag: str = "a") -> Path:
    """``rows`` scalar rows in ``send_columns`` chunks of ``chunk_rows``, the entities taking
    turns chunk by chunk (as a log of several signals would), one ``frame`` timeline."""

    def write(path: Path) -> None:
        import numpy as np
        import rerun as rr

        rec = _recording(f"growth-{tag}-{rows}-{chunk_rows}")
        rec.save(str(path))
        chunks = rows // chunk_rows
        for c in range(chunks):
            k = c // entities  # this entity's chunk number
            frames = np.arange(k * chunk_rows, (k + 1) * chunk_rows, dtype=np.int64)
            rec.send_columns(f"/signals/s{c % entities}",
                             indexes=[rr.TimeColumn("frame", sequence=frames)],
                             columns=rr.Scalars.columns(scalars=np.sin(frames * 0.001 + c)))
        rec.flush()
        rec.disconnect()

    return _cached(CACHE / f"scalars_{tag}_r{rows}_c{chunk_rows}_e{entities}.rrd", write)


def entities_file(n: int, rows_each: int = 10, flat: bool = False) -> Path:
    """``n`` scalar entities of ``rows_each`` rows (one chunk each) in groups of 100:
    ``/g000/s00`` ... (a tree two levels deep, as many signals of a robot would be); with
    ``flat`` all under one parent, ``/signals/s00000`` ... (one plot holds them all)."""

    def write(path: Path) -> None:
        import numpy as np
        import rerun as rr

        rec = _recording(f"growth-entities-{n}{'-flat' if flat else ''}")
        rec.save(str(path))
        frames = np.arange(rows_each, dtype=np.int64)
        for i in range(n):
            path = f"/signals/s{i:05d}" if flat else f"/g{i // 100:03d}/s{i % 100:02d}"
            rec.send_columns(path,
                             indexes=[rr.TimeColumn("frame", sequence=frames)],
                             columns=rr.Scalars.columns(scalars=np.sin(frames * 0.1 + i)))
        rec.flush()
        rec.disconnect()

    return _cached(CACHE / f"entities_n{n}_r{rows_each}{'_flat' if flat else ''}.rrd", write)


def wide_file(width: int, rows: int = 300, rows_per_chunk: int = 10) -> Path:
    """``rows`` rows of ``rr.Scalars`` holding ``width`` values each (one entity), logged row
    by row with ``rr.log`` and batched ``rows_per_chunk`` rows to a chunk."""

    def write(path: Path) -> None:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from bench_wide_rows import write_wide  # the same rows as the wide-rows benchmark

        write_wide(path, width, rows, _recording(f"growth-wide-{width}", rows_per_chunk))

    return _cached(CACHE / f"wide_w{width}_r{rows}.rrd", write)


def empty_file() -> Path:
    """The baseline: one entity, 10 rows (what every process pays before the data)."""
    return scalars_file(10, 10, entities=1, tag="base")


# ---------------------------------------------------------------------- steps and dimensions


@dataclass
class Step:
    x: float  # multiple of the first step
    units: int  # how many of the dimension's unit this step has
    label: str
    files: Callable[[], list[Path]] = field(default=lambda: [])
    rate: float = 0.0  # live: rows/s
    gui: bool = True  # a dimension with a window series: measure the window at this step
    rows: int = 0  # rows the files hold (checked against what the viewer applied)


@dataclass
class Dimension:
    name: str
    unit: str
    what: str
    steps: list[Step]
    gui: bool = False
    live: bool = False


def dimensions(quick: bool) -> list[Dimension]:
    q = 10 if quick else 1
    mults = (1, 2, 4) if quick else (1, 2, 4, 8)
    rows_base, chunk_rows = 250_000 // q, 1000
    fixed_rows, chunk_base = 1_000_000 // q, 1000
    ent_base = 100 if quick else 250
    ent_mults = mults if quick else (1, 2, 4, 8, 20, 40)  # the window up to x4 (~9 ms/entity)
    flat_base = 50 if quick else 125
    store_rows = 200_000 // q
    store_counts = (1, 2, 4) if quick else (1, 2, 5, 10)
    widths = (250, 500, 1000) if quick else (500, 1000, 2000, 4000)
    wide_rows = 100 if quick else 300
    live_s = 1.0 if quick else 4.0
    rates = (250, 500, 1000) if quick else (250, 500, 1000, 2000)

    def fixed(path_fn: Callable[[], Path]) -> Callable[[], list[Path]]:
        return lambda: [path_fn()]

    return [
        Dimension("rows", "row", f"scalar rows in chunks of {chunk_rows} rows, 4 entities "
                  "taking turns (`send_columns`)",
                  [Step(m, rows_base * m, f"{rows_base * m:,} rows",
                        fixed(lambda m=m: scalars_file(rows_base * m, chunk_rows)),
                        rows=rows_base * m) for m in mults]),
        Dimension("chunks", "chunk", f"{fixed_rows:,} scalar rows in ever smaller chunks, "
                  "4 entities taking turns (`send_columns`)",
                  [Step(m, fixed_rows // (chunk_base // m),
                        f"{fixed_rows // (chunk_base // m):,} chunks of {chunk_base // m}",
                        fixed(lambda m=m: scalars_file(fixed_rows, chunk_base // m)),
                        rows=fixed_rows) for m in mults]),
        Dimension("entities", "entity", "scalar entities of 10 rows each (one chunk each), "
                  "in groups of 100 (`/g000/s00`...)",
                  [Step(m, ent_base * m, f"{ent_base * m:,} entities",
                        fixed(lambda m=m: entities_file(ent_base * m)),
                        rows=ent_base * m * 10, gui=m <= 4) for m in ent_mults], gui=True),
        Dimension("entities-flat", "entity", "scalar entities of 10 rows each, all under "
                  "one parent (`/signals/s00000`...): one plot holds them all",
                  [Step(m, flat_base * m, f"{flat_base * m:,} entities",
                        fixed(lambda m=m: entities_file(flat_base * m, flat=True)),
                        rows=flat_base * m * 10) for m in mults], gui=True),
        Dimension("stores", "store", f"recordings of {store_rows:,} scalar rows each (chunks of "
                  "1000, 4 entities), all given on one command line",
                  [Step(k, k, f"{k} recordings",
                        lambda k=k: [scalars_file(store_rows, chunk_rows, tag=f"s{i}")
                                     for i in range(k)],
                        rows=store_rows * k) for k in store_counts]),
        Dimension("width", "value", f"{wide_rows} rows of `rr.Scalars` with W values each "
                  "(one entity, 10 rows a chunk, `rr.log`)",
                  [Step(w / widths[0], w * wide_rows, f"W = {w:,}",
                        fixed(lambda w=w: wide_file(w, wide_rows)), rows=wide_rows)
                   for w in widths], gui=True),
        Dimension("live", "row", f"1-row chunks streamed for {live_s:g} s at R rows/s by "
                  "`scripts/stream_demo.py` (4 entities) into `LiveServer` over 127.0.0.1",
                  [Step(r / rates[0], int(r * live_s), f"{r:,} rows/s", rate=float(r),
                        rows=int(r * live_s)) for r in rates], live=True),
    ]


# ---------------------------------------------------------------------- one measured process


def child_env(tmp: Path) -> dict[str, str]:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", RERUN_TELEMETRY="0",
               PYTHONPATH=str(ROOT), RRD_VIEWER_SETTINGS=str(tmp / "settings.ini"))
    return env


def run_process(cmd: list[str], env: dict[str, str], timeout: float) -> dict[str, Any]:
    """Run ``cmd``; wall time from spawn to exit and the child's own peak RSS and CPU time
    (``os.wait4``: the rusage of exactly this child)."""
    t0 = time.perf_counter()
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=err)
        deadline = t0 + timeout
        while True:
            pid, status, ru = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() > deadline:
                proc.kill()
                _, status, ru = os.wait4(proc.pid, 0)
                break
            time.sleep(0.02)
        proc.returncode = os.waitstatus_to_exitcode(status)
        wall = time.perf_counter() - t0
        out.seek(0)
        err.seek(0)
        return {"proc_wall_s": wall, "timed_out": wall > timeout, "code": proc.returncode,
                "stdout": out.read(), "stderr": err.read(),
                "peak_rss": ru.ru_maxrss * 1024, "cpu_s": ru.ru_utime + ru.ru_stime}


def measure_ingest(files: list[Path], env: dict[str, str]) -> dict[str, Any]:
    r = run_process([PY, "-m", "viewer", "ingest", *map(str, files), "--json"], env,
                    INGEST_TIMEOUT_S)
    if r["timed_out"]:  # recorded, left out of the medians, shown in the tables
        return {"timed_out": True, "proc_wall_s": r["proc_wall_s"]}
    if r["code"] != 0:
        raise RuntimeError(f"ingest failed ({r['code']}): {r['stderr'][-2000:]}")
    st = json.loads(r["stdout"])["stats"]
    return {"wall_s": st["wall_s"], "rows": st["rows"], "messages": st["messages"],
            "peak_rss": st["peak_rss_bytes"], "proc_wall_s": r["proc_wall_s"],
            "store_bytes": st["memory"]["peak_used_bytes"],
            "cpu_s": r["cpu_s"]}


def measure_gui(file: Path, env: dict[str, str], tmp: Path,
                timeout: float = GUI_TIMEOUT_S, variant: str | None = None) -> dict[str, Any]:
    png, stats = tmp / "shot.png", tmp / "stats.json"
    for p in (png, stats):
        p.unlink(missing_ok=True)
    viewer = ([PY, str(Path(__file__).resolve()), "--window-child", variant] if variant
              else [PY, "-m", "viewer"])
    r = run_process([*viewer, str(file), "--screenshot", str(png), "--stats-json",
                     str(stats), "--no-serve", "--new-window"], env, timeout)
    if r["timed_out"]:
        return {"timed_out": True, "proc_wall_s": r["proc_wall_s"], "peak_rss": r["peak_rss"]}
    if r["code"] != 0 or not png.exists() or not stats.exists():
        raise RuntimeError(f"window failed ({r['code']}): {r['stderr'][-2000:]}")
    s = json.loads(stats.read_text())
    return {"proc_wall_s": r["proc_wall_s"], "load_s": s["load_s"], "loaded": s["loaded"],
            "frame_p99_ms": s["ui_frame_ms"]["p99"], "frame_max_ms": s["ui_frame_ms"]["max"],
            "peak_rss": r["peak_rss"], "cpu_s": r["cpu_s"]}


def measure_live(step: Step, env: dict[str, str], seconds: float) -> dict[str, Any]:
    cmd = [PY, str(Path(__file__).resolve()), "--live-child", str(step.rate), str(seconds)]
    r = run_process(cmd, env, 300)
    if r["code"] != 0:
        raise RuntimeError(f"live child failed ({r['code']}): {r['stderr'][-2000:]}")
    return json.loads(r["stdout"].strip().splitlines()[-1])


def live_child(rate: float, seconds: float) -> int:
    """One live step in this (fresh) process: the viewer side of ``bench_live.py``."""
    import resource

    import psutil
    from bench_live import run_scenario, sender_client
    from PySide6.QtCore import QCoreApplication

    from viewer.ingest import IngestSettings
    from viewer.runtime import apply_process_settings

    app = QCoreApplication.instance() or QCoreApplication(["bench_growth live"])
    apply_process_settings(gui=False)
    chunks = int(rate * seconds)
    me = psutil.Process()
    rss0 = me.memory_info().rss
    r = run_scenario(f"{rate:g} rows/s", sender_client(chunks, 1, rate), IngestSettings(),
                     chunks)
    rss1 = me.memory_info().rss
    sent_s = float(r.get("sender_s") or 0.0)
    out = {
        "rows": r["rows"], "rows_ok": r["rows_ok"], "sender_s": sent_s,
        "achieved_rows_per_s": round(chunks / sent_s) if sent_s else 0,
        "latency_p50_ms": r["latency_p50_ms"], "latency_p99_ms": r["latency_p99_ms"],
        "cpu_share": r["viewer_cpu_share"], "window_s": r["window_s"],
        "cpu_s": r["viewer_cpu_share"] * r["window_s"],
        "rss_growth": rss1 - rss0,
        "peak_rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
    }
    print(json.dumps(out), flush=True)
    del app
    return 0


# ---------------------------------------------------------------------- statistics


def med(vals: list[float]) -> float:
    return float(statistics.median(vals)) if vals else float("nan")


def slope(xs: list[float], ys: list[float]) -> float:
    """Least-squares slope of log(y) on log(x) (NaN with fewer than two positive points)."""
    pts = [(math.log(x), math.log(y)) for x, y in zip(xs, ys, strict=True) if x > 0 and y > 0]
    if len(pts) < 2:
        return float("nan")
    mx = sum(p[0] for p in pts) / len(pts)
    my = sum(p[1] for p in pts) / len(pts)
    den = sum((p[0] - mx) ** 2 for p in pts)
    return sum((p[0] - mx) * (p[1] - my) for p in pts) / den if den else float("nan")


def verdict(s: float) -> str:
    if math.isnan(s):
        return "n/a"
    return "linear" if s <= LINEAR_SLOPE else "NOT linear"


# Each series: (key in a run, baseline key or None, label, unit scale, unit text)
SERIES = {
    "ingest_time": ("wall_s", "wall_s", "ingest wall_s"),
    "ingest_rss": ("peak_rss", "peak_rss", "ingest peak RSS"),
    "ingest_store": ("store_bytes", "store_bytes", "ingest store bytes (its own accounting)"),
    "gui_time": ("proc_wall_s", "proc_wall_s", "window: process wall to saved picture"),
    "gui_rss": ("peak_rss", "peak_rss", "window peak RSS"),
    "live_cpu": ("cpu_s", None, "live: viewer CPU"),
    "live_rss": ("rss_growth", None, "live: RSS growth"),
}


def keeps_up(step: dict[str, Any]) -> bool:
    """A live step kept up: every row applied, the sender reached >= 95 % of the asked rate
    (it blocks when the viewer's inbox is full) and latency p99 stayed under 200 ms."""
    runs = step["runs"].get("live", [])
    return bool(runs) and all(r["rows_ok"] for r in runs) and (
        med([r["achieved_rows_per_s"] for r in runs]) >= 0.95 * step["rate"]) and (
        med([r["latency_p99_ms"] for r in runs]) < 200)


def summarize(results: dict[str, Any]) -> dict[str, Any]:
    """Medians, spreads, marginal cost per unit and the growth exponent of every series."""
    base = results["baseline"]
    out: dict[str, Any] = {}
    for dim in results["dims"]:
        kinds = (["live_cpu", "live_rss"] if dim["live"] else
                 ["ingest_time", "ingest_rss", "ingest_store"] +
                 (["gui_time", "gui_rss"] if dim["gui"] else []))
        dsum: dict[str, Any] = {}
        for kind in kinds:
            key, base_key, label = SERIES[kind]
            mode = kind.split("_")[0]
            bvals = [r[base_key] for r in base.get(mode, []) if base_key and base_key in r]
            b = med(bvals) if bvals else 0.0
            # below this the marginal cost is the baseline's own run-to-run noise
            noise = max(2 * (max(bvals) - min(bvals)), 0.05 * b) if bvals else 0.0
            rows = []
            for step in dim["steps"]:
                runs = [r for r in step["runs"].get(mode, []) if key in r]
                if not step["runs"].get(mode):
                    continue  # not measured at this step (the window stops before ingest)
                vals = [r[key] for r in runs]
                m = med(vals)
                marginal = max(m - b, 1e-12)
                fit = m - b >= noise and (mode != "live" or keeps_up(step))
                rows.append({"label": step["label"], "x": step["x"], "units": step["units"],
                             "fit": fit,
                             "median": m, "min": min(vals, default=float("nan")),
                             "max": max(vals, default=float("nan")), "n": len(vals),
                             "marginal": marginal, "per_unit": marginal / step["units"],
                             "timeouts": sum(1 for r in step["runs"].get(mode, [])
                                             if r.get("timed_out"))})
            fitted = [r for r in rows if r["fit"]]
            s = slope([r["units"] for r in fitted], [r["marginal"] for r in fitted])
            last = (slope([r["units"] for r in fitted[-2:]],
                          [r["marginal"] for r in fitted[-2:]])
                    if len(fitted) >= 2 else float("nan"))
            v = verdict(s)
            if len(fitted) < 2 and rows and rows[-1]["median"] - b < noise:
                v = "flat (within the baseline's noise)"
            elif len(fitted) < 2:
                v = "n/a (fewer than 2 steps above the baseline's noise)"
            elif v == "linear" and last > 1.3:
                v = "linear overall, last step steeper"
            dsum[kind] = {"label": label, "baseline": b, "noise": noise, "rows": rows,
                          "slope": s, "last_slope": last, "verdict": v}
        out[dim["name"]] = dsum
    return out


# ---------------------------------------------------------------------- report


def fmt_time(s: float) -> str:
    if math.isnan(s):
        return "–"
    if s >= 1:
        return f"{s:.2f} s"
    if s >= 1e-3:
        return f"{s * 1e3:.1f} ms"
    if s >= 1e-6:
        return f"{s * 1e6:.1f} µs"
    return f"{s * 1e9:.0f} ns"


def fmt_bytes(b: float) -> str:
    if math.isnan(b):
        return "–"
    for unit, size in (("GB", 1e9), ("MB", 1e6), ("KB", 1e3)):
        if abs(b) >= size:
            return f"{b / size:.1f} {unit}"
    return f"{b:.0f} B"


def _fmt(kind: str) -> Callable[[float], str]:
    return fmt_bytes if kind.endswith(("rss", "store")) else fmt_time


def series_table(dim: dict[str, Any], kind: str, s: dict[str, Any]) -> list[str]:
    f = _fmt(kind)
    unit = dim["unit"]
    units = "entities" if unit == "entity" else f"{unit}s"
    base = f" (baseline {f(s['baseline'])} subtracted)" if s["baseline"] else ""
    lines = [f"*{s['label']}*{base}: slope {s['slope']:.2f} (last step {s['last_slope']:.2f}) "
             f"→ **{s['verdict']}**", "",
             f"| step | {units} | median | min–max | runs | marginal per {unit} | "
             f"per {unit} vs first |",
             "|---|---|---|---|---|---|---|"]
    fitted = [r for r in s["rows"] if r.get("fit", True)]
    first = fitted[0]["per_unit"] if fitted else float("nan")
    for r in s["rows"]:
        runs = f"{r['n']}" + (f" ({r['timeouts']} timed out)" if r["timeouts"] else "")
        fit = r.get("fit", True)
        runs += "" if fit else " (not fitted)"
        rel = f"{r['per_unit'] / first:.2f}×" if fit else "–"
        lines.append(f"| {r['label']} | {r['units']:,} | {f(r['median'])} | "
                     f"{f(r['min'])}–{f(r['max'])} | {runs} | {f(r['per_unit'])} | {rel} |")
    return lines + [""]


def live_table(dim: dict[str, Any]) -> list[str]:
    lines = ["| rate asked | rows | rows sent/s (median) | keeps up | viewer CPU share | "
             "latency p50 / p99 ms | RSS growth | peak RSS |",
             "|---|---|---|---|---|---|---|---|"]
    for step in dim["steps"]:
        runs = step["runs"].get("live", [])
        if not runs:
            continue
        sent = med([r["achieved_rows_per_s"] for r in runs])
        ok = all(r["rows_ok"] for r in runs)
        keeps = keeps_up(step)
        lines.append(
            f"| {step['rate']:,.0f}/s | {step['units']:,} | {sent:,.0f} | "
            f"{'yes' if keeps else 'NO'}{'' if ok else ' (rows missing)'} | "
            f"{med([r['cpu_share'] for r in runs]):.0%} "
            f"({min(r['cpu_share'] for r in runs):.0%}–{max(r['cpu_share'] for r in runs):.0%}) | "
            f"{med([r['latency_p50_ms'] for r in runs]):.1f} / "
            f"{med([r['latency_p99_ms'] for r in runs]):.1f} | "
            f"{fmt_bytes(med([r['rss_growth'] for r in runs]))} | "
            f"{fmt_bytes(med([r['peak_rss'] for r in runs]))} |")
    return lines + [""]


def gui_extra_table(dim: dict[str, Any]) -> list[str]:
    lines = ["| step | load_s (first frame → picture saved) | frame p99 / max ms | loaded |",
             "|---|---|---|---|"]
    for step in dim["steps"]:
        if not step["runs"].get("gui"):
            continue
        runs = [r for r in step["runs"].get("gui", []) if "load_s" in r]
        if not runs:
            lines.append(f"| {step['label']} | timed out | – | – |")
            continue
        ls = [r["load_s"] for r in runs]
        lines.append(f"| {step['label']} | {med(ls):.2f} s ({min(ls):.2f}–{max(ls):.2f}) | "
                     f"{med([r['frame_p99_ms'] for r in runs]):.0f} / "
                     f"{med([r['frame_max_ms'] for r in runs]):.0f} | "
                     f"{all(r['loaded'] for r in runs)} |")
    return lines + [""]


def probe_lines(results: dict[str, Any], summary: dict[str, Any]) -> list[str]:
    """The one window run on the issue's 10 000 entities, against the linear extrapolation
    of the repeated steps' last per-entity cost."""
    probe = results.get("probe") or {}
    g = probe.get("window")
    if not g:
        return []
    n = probe["entities"]
    last = summary.get("entities", {}).get("gui_time", {}).get("rows", [])
    if g.get("timed_out"):
        got = f"did not finish in {g['proc_wall_s']:.0f} s"
    else:
        got = (f"{g['proc_wall_s']:.1f} s process wall (load_s {g['load_s']:.1f} s, frame max "
               f"{g['frame_max_ms'] / 1e3:.1f} s), peak RSS {fmt_bytes(g['peak_rss'])}")
    lines = [f"**Window on {n:,} entities** (one run, after the repeated steps): {got}."]
    if last and not g.get("timed_out"):
        per = last[-1]["per_unit"]
        linear = probe["baseline"] + per * n
        lines[-1] += (f" Linear from the {last[-1]['label']} step ({fmt_time(per)} per entity) "
                      f"predicts {linear:.1f} s: measured / predicted = "
                      f"{g['proc_wall_s'] / linear:.2f}.")
    return [*lines, ""]


def write_report(results: dict[str, Any], summary: dict[str, Any], path: Path,
                 notes: str) -> None:
    m = results["machine"]
    lines = [
        "# Growth per dimension (issue 13)",
        "",
        "Written by `scripts/bench_growth.py`. Regenerate with "
        f"`{results['command'].replace(' --no-write', '')}` "
        "(files cached under `/tmp/rrd-growth`, written by rerun-sdk "
        f"{m.get('rerun', '?')}; `--replot` redraws this page and the plot from "
        "`/tmp/rrd-growth/results.json`).",
        "",
        "## Machine",
        "",
        f"- {m['date']}; {m['cpu']}, {m['cpus']} CPUs, {m['platform']}; CPython {m['python']}",
        f"- load average at start {m['load_start']:.2f}, at end {m.get('load_end', 0):.2f} "
        "(a shared machine: other developers ran tests and benchmarks at the same time)",
        f"- code: `{m.get('git_start', '?')}` at the start, `{m.get('git_end', '?')}` at the "
        "end (other developers commit and edit in this checkout while it runs)",
        f"- {results['repeat']} run(s) per step, interleaved over every step of every "
        f"dimension; total {results.get('total_s', 0) / 60:.1f} min",
        "",
        "## How to read it",
        "",
        "- Every step is a fresh process. *ingest*: `python -m viewer ingest FILE... --json` "
        "(`stats.wall_s`: hub start to everything applied, without the interpreter's start-up; "
        "`stats.peak_rss_bytes`). *window*: `python -m viewer FILE --screenshot out.png "
        "--stats-json s.json --no-serve --new-window` offscreen, the process's wall time from "
        "spawn to exit (the picture is saved once every file is applied) and its peak RSS "
        "(`os.wait4`).",
        "- *marginal* = median minus the same measurement of a 10-row file (the baseline, "
        "measured in the same run): what the data costs. *per unit* = marginal / units; "
        "flat per-unit cost is linear growth.",
        "- *slope* = least-squares slope of log(marginal) on log(units) over all steps; "
        "*last step* = the slope between the last two fitted steps (growth that bends late). "
        f"Linear when the slope is <= {LINEAR_SLOPE}. Only steps whose marginal is above the "
        "baseline's own noise (2× its min–max spread, at least 5 % of it) are fitted (*not "
        "fitted* in the tables: a peak RSS set by the start-up, not by the data), and of the "
        "live steps only those that kept up.",
        "- Live: the viewer side runs `LiveServer` + `IngestHub` (default settings) in a fresh "
        "process per step; the sender paces 1-row chunks at the asked rate and blocks when "
        "the viewer's inbox is full, so *keeps up* = every row applied, the sender reached "
        ">= 95 % of the asked rate and latency p99 < 200 ms. Its *time* is the viewer's CPU "
        "seconds, its memory the RSS growth during the stream.",
        "",
        "## Summary",
        "",
        "| dimension | series | steps | slope (last step) | verdict |",
        "|---|---|---|---|---|",
    ]
    for dim in results["dims"]:
        for s in summary[dim["name"]].values():
            steps = " → ".join(r["label"] for r in s["rows"][:1] + s["rows"][-1:])
            lines.append(f"| {dim['name']} | {s['label']} | {steps} | {s['slope']:.2f} "
                         f"({s['last_slope']:.2f}) | {s['verdict']} |")
    lines += ["", "![time and memory per unit vs step](growth.png)", ""]
    lines += probe_lines(results, summary)
    if notes:
        lines += ["## Reading", "", notes.strip(), ""]
    lines += ["## Tables", ""]
    for dim in results["dims"]:
        lines += [f"### {dim['name']} (unit: {dim['unit']})", "", dim["what"] + ".", ""]
        for kind, s in summary[dim["name"]].items():
            lines += series_table(dim, kind, s)
        if dim["gui"]:
            lines += gui_extra_table(dim)
        if dim["live"]:
            lines += live_table(dim)
    path.write_text("\n".join(lines) + "\n")


# ---------------------------------------------------------------------- plot (QPainter)

COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2",
          "#17becf", "#7f7f7f", "#bcbd22", "#000000"]


def write_plot(summary: dict[str, Any], path: Path) -> None:
    """Two panels: marginal time and memory per unit, relative to each series' first step,
    against the step's size (log2). A flat line at 1 is linear growth."""
    from PySide6.QtCore import QPointF, QRectF, Qt
    from PySide6.QtGui import QColor, QFont, QGuiApplication, QImage, QPainter, QPen

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    _app = QGuiApplication.instance() or QGuiApplication(["bench_growth"])  # fonts
    panels = [("time per unit (marginal), relative to the first step",
               ["ingest_time", "gui_time", "live_cpu"]),
              ("memory per unit (marginal), relative to the first step",
               ["ingest_store", "gui_rss", "live_rss"])]
    w, h = 1400, 620
    pad_l, pad_r, pad_t, pad_b, gap = 60, 240, 50, 55, 40
    pw = (w - pad_l - pad_r - gap) // 2
    ph = h - pad_t - pad_b
    img = QImage(w, h, QImage.Format.Format_ARGB32)
    img.fill(QColor("white"))
    p = QPainter(img)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    font = QFont()
    font.setPixelSize(13)
    p.setFont(font)
    names = [(dim, kind) for dim, ks in summary.items() for kind in ks]
    color_of = {(d, k.split("_")[0]): COLORS[i % len(COLORS)]
                for i, (d, k) in enumerate(dict.fromkeys((d, k.split("_")[0])
                                                         for d, k in names))}
    def shown(s: dict[str, Any]) -> list[dict[str, Any]]:
        """The steps above the baseline's noise (the fitted ones), if two or more."""
        rows = [r for r in s["rows"] if r.get("fit", True)]
        return rows if len(rows) >= 2 else []

    all_rel = [r["per_unit"] / shown(s)[0]["per_unit"] for ks in summary.values()
               for s in ks.values() for r in shown(s)]
    y_max = min(6.0, max(2.0, math.ceil(max(all_rel, default=2.0) * 2) / 2))  # clipped
    x_max = max((r["x"] for ks in summary.values() for s in ks.values() for r in s["rows"]),
                default=8.0)
    lx_max = math.log2(max(x_max, 2.0))
    for pi, (title, kinds) in enumerate(panels):
        x0 = pad_l + pi * (pw + gap)

        def to(x: float, y: float, x0: float = x0) -> QPointF:
            return QPointF(x0 + math.log2(max(x, 1.0)) / lx_max * pw,
                           pad_t + ph - min(y, y_max) / y_max * ph)

        p.setPen(QPen(QColor("#888"), 1))
        p.drawRect(QRectF(x0, pad_t, pw, ph))
        step = 0.5 if y_max <= 4 else 1.0
        y = 0.0
        while y <= y_max + 1e-9:
            q = to(1, y)
            p.setPen(QPen(QColor("#bbb") if y == 1.0 else QColor("#eee"), 1))
            p.drawLine(QPointF(x0, q.y()), QPointF(x0 + pw, q.y()))
            p.setPen(QPen(QColor("#444"), 1))
            p.drawText(QRectF(x0 - 50, q.y() - 9, 44, 18), Qt.AlignmentFlag.AlignRight,
                       f"{y:g}×")
            y += step
        xt = 1.0
        while xt <= x_max * 1.001:
            q = to(xt, 0)
            p.drawLine(q, QPointF(q.x(), q.y() + 5))
            p.drawText(QRectF(q.x() - 30, q.y() + 6, 60, 18), Qt.AlignmentFlag.AlignCenter,
                       f"x{xt:g}")
            xt *= 2
        p.drawText(QRectF(x0, h - 28, pw, 20), Qt.AlignmentFlag.AlignCenter,
                   "step size (x first step; stores 1, 2, 5, 10; log scale)")
        font.setBold(True)
        p.setFont(font)
        p.drawText(QRectF(x0, 18, pw, 24), Qt.AlignmentFlag.AlignCenter, title)
        font.setBold(False)
        p.setFont(font)
        for dname, ks in summary.items():
            for kind in kinds:
                s = ks.get(kind)
                if not s:
                    continue
                color = QColor(color_of[(dname, kind.split("_")[0])])
                style = Qt.PenStyle.DashLine if kind.startswith("gui") else Qt.PenStyle.SolidLine
                p.setPen(QPen(color, 2.2, style))
                rows = shown(s)
                if not rows:
                    continue
                first = rows[0]["per_unit"]
                pts = [to(r["x"], r["per_unit"] / first) for r in rows]
                for a, b in zip(pts, pts[1:], strict=False):
                    p.drawLine(a, b)
                for q in pts:
                    p.drawEllipse(q, 3, 3)
    legend = list(dict.fromkeys((d, k.split("_")[0]) for d, k in names))
    for i, (d, mode) in enumerate(legend):
        ly = pad_t + 10 + i * 22
        lx = w - pad_r + 20
        style = Qt.PenStyle.DashLine if mode == "gui" else Qt.PenStyle.SolidLine
        p.setPen(QPen(QColor(color_of[(d, mode)]), 2.2, style))
        p.drawLine(QPointF(lx, ly), QPointF(lx + 30, ly))
        p.setPen(QPen(QColor("#222"), 1))
        label = {"ingest": "ingest", "gui": "window", "live": "viewer CPU / RSS"}[mode]
        p.drawText(QRectF(lx + 36, ly - 9, pad_r - 60, 18), Qt.AlignmentFlag.AlignLeft,
                   f"{d}: {label}")
    p.end()
    img.save(str(path), "PNG")


# ---------------------------------------------------------------------- main


def git_state() -> str:
    """HEAD and how many tracked files differ from it (a shared checkout changes under a
    run: the report says what was measured)."""
    def git(*a: str) -> str:
        return subprocess.run(["git", *a], cwd=ROOT, capture_output=True, text=True).stdout

    head = git("log", "-1", "--format=%h %s")[:90].strip()
    dirty = len([ln for ln in git("status", "--short", "--untracked-files=no").splitlines()
                 if ln.strip()])
    return f"{head} (+{dirty} modified files)"


def machine_info() -> dict[str, Any]:
    try:
        from importlib.metadata import version

        rerun_version = version("rerun-sdk")
    except Exception:  # noqa: BLE001 - only for the report
        rerun_version = "?"
    return {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "cpu": cpu_name(),
            "cpus": os.cpu_count(), "platform": platform.platform(),
            "python": platform.python_version(), "load_start": os.getloadavg()[0],
            "git_start": git_state(),
            "rerun": rerun_version}


def run(args: argparse.Namespace) -> dict[str, Any]:
    isolate_rerun_home()
    dims = [d for d in dimensions(args.quick) if not args.dims or d.name in args.dims]
    live_s = 1.0 if args.quick else 4.0
    t_start = time.perf_counter()
    print("writing / checking files in", CACHE, flush=True)
    base_file = empty_file()
    files: dict[tuple[str, int], list[Path]] = {}
    for d in dims:
        for i, s in enumerate(d.steps):
            if not d.live:
                files[(d.name, i)] = s.files()
    print(f"files ready after {time.perf_counter() - t_start:.0f} s", flush=True)
    results: dict[str, Any] = {
        "machine": machine_info(), "repeat": args.repeat, "quick": args.quick,
        "command": ".venv/bin/python scripts/bench_growth.py " + " ".join(args.argv),
        "baseline": {"ingest": [], "gui": []},
        "dims": [{"name": d.name, "unit": d.unit, "what": d.what, "gui": d.gui, "live": d.live,
                  "steps": [{"label": s.label, "x": s.x, "units": s.units, "rate": s.rate,
                             "rows": s.rows, "runs": {}} for s in d.steps]} for d in dims],
        "probe": {},
    }
    any_gui = any(d.gui for d in dims)
    with tempfile.TemporaryDirectory(prefix="bench_growth_") as tmp_name:
        tmp = Path(tmp_name)
        env = child_env(tmp)
        for rep in range(args.repeat):
            results["baseline"]["ingest"].append(measure_ingest([base_file], env))
            if any_gui:
                results["baseline"]["gui"].append(measure_gui(base_file, env, tmp))
            for d, rd in zip(dims, results["dims"], strict=True):
                for i, (s, rs) in enumerate(zip(d.steps, rd["steps"], strict=True)):
                    if d.live:
                        r = measure_live(s, env, live_s)
                        rs["runs"].setdefault("live", []).append(r)
                        print(f"[{rep + 1}/{args.repeat}] live {s.label}: sent "
                              f"{r['achieved_rows_per_s']}/s, CPU {r['cpu_share']:.0%}, "
                              f"p99 {r['latency_p99_ms']} ms, rss +"
                              f"{r['rss_growth'] / 1e6:.1f} MB", flush=True)
                        continue
                    r = measure_ingest(files[(d.name, i)], env)
                    if r.get("timed_out"):
                        print(f"[{rep + 1}/{args.repeat}] {d.name} {s.label}: ingest timed "
                              f"out after {INGEST_TIMEOUT_S:.0f} s", flush=True)
                        rs["runs"].setdefault("ingest", []).append(r)
                        continue
                    if r["rows"] < s.rows:
                        raise RuntimeError(f"{d.name} {s.label}: {r['rows']} rows applied, "
                                           f"{s.rows} written")
                    rs["runs"].setdefault("ingest", []).append(r)
                    msg = (f"[{rep + 1}/{args.repeat}] {d.name} {s.label}: ingest "
                           f"{r['wall_s']:.3f} s, {r['peak_rss'] / 1e6:.0f} MB")
                    if d.gui and s.gui:
                        g = measure_gui(files[(d.name, i)][0], env, tmp)
                        rs["runs"].setdefault("gui", []).append(g)
                        msg += (f"; window {g['proc_wall_s']:.2f} s" +
                                (" (timed out)" if g.get("timed_out") else
                                 f" (load {g['load_s']:.2f} s)") +
                                f", {g['peak_rss'] / 1e6:.0f} MB")
                    print(msg, flush=True)
        if args.window_probe and (not args.dims or "entities" in args.dims):
            # once, beyond the repeated steps: the 10 000 entities the issue asks about
            g = measure_gui(entities_file(args.window_probe), env, tmp, PROBE_TIMEOUT_S)
            results["probe"] = {"entities": args.window_probe, "window": g,
                                "baseline": med([b["proc_wall_s"]
                                                 for b in results["baseline"]["gui"]])}
            print(f"probe: window with {args.window_probe:,} entities: "
                  f"{g['proc_wall_s']:.1f} s" + (" (timed out)" if g.get("timed_out") else
                                                  f" (load {g['load_s']:.1f} s)"), flush=True)
    results["machine"]["load_end"] = os.getloadavg()[0]
    results["machine"]["git_end"] = git_state()
    results["total_s"] = time.perf_counter() - t_start
    return results


FIX_VARIANTS = {
    "before": "pyqtgraph's per-series walks (param list and legend size)",
    "param": "param list when the menu opens (committed)",
    "legend": "BatchedLegend alone",
    "param+legend": "param list + BatchedLegend (needs the timeseries.py line)",
}


def window_child(variant: str, viewer_args: list[str]) -> int:
    """The window with the plot fixes switched on or off (A/B only; the product has the
    committed ones): ``before`` undoes the deferred param list, ``+legend`` gives every
    plot a `BatchedLegend` as the one-line change in timeseries.py would."""
    import pyqtgraph as pg

    from viewer.ui.views.plot import param_list

    if variant in ("before", "legend"):
        param_list.defer_param_list = lambda item: None
    if variant.endswith("+legend"):
        from viewer.ui.views.plot.legend import add_batched_legend

        def add_legend(self: pg.PlotItem, offset: Any = (30, 30), **kw: Any) -> Any:
            return add_batched_legend(self, offset=offset, **kw)

        pg.PlotItem.addLegend = add_legend
    from viewer.commands.cli import main as viewer_main

    return viewer_main(viewer_args)


def fix_ab(counts: list[int], repeat: int) -> int:
    """The window on N entities under one parent (one plot), each fix variant in turn,
    alternating, ``repeat`` rounds: process wall to the saved picture."""
    isolate_rerun_home()
    walls: dict[tuple[int, str], list[float]] = {}
    with tempfile.TemporaryDirectory(prefix="bench_growth_ab_") as tmp_name:
        tmp = Path(tmp_name)
        env = child_env(tmp)
        for _ in range(repeat):
            for n in counts:
                for variant in FIX_VARIANTS:
                    g = measure_gui(entities_file(n, flat=True), env, tmp, PROBE_TIMEOUT_S,
                                    variant)
                    walls.setdefault((n, variant), []).append(
                        float("inf") if g.get("timed_out") else g["proc_wall_s"])
                    print(f"{n} {variant}: {g['proc_wall_s']:.1f} s", flush=True)
    print("| entities in one plot | " + " | ".join(FIX_VARIANTS.values()) + " |")
    print("|---|" + "---|" * len(FIX_VARIANTS))
    for n in counts:
        cells = []
        for variant in FIX_VARIANTS:
            w = walls[(n, variant)]
            cells.append(f"{med(w):.1f} s ({min(w):.1f}–{max(w):.1f})")
        print(f"| {n:,} | " + " | ".join(cells) + " |", flush=True)
    return 0


def legend_ab(counts: list[int], repeat: int, variants: list[str] | None = None) -> int:
    """Time a plot (as `embed_plot` makes them) gaining n named series one by one, until
    its legend has its final size: pyqtgraph's walks, the deferred param list alone, and
    with `BatchedLegend` too (alternating, same process)."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    import numpy as np
    import pyqtgraph as pg
    from PySide6.QtWidgets import QApplication, QWidget

    from viewer.ui.views.plot import param_list
    from viewer.ui.views.plot.legend import add_batched_legend
    from viewer.ui.views.plot.plot_axes import embed_plot

    app = QApplication.instance() or QApplication(["bench_growth legend"])
    x = np.arange(10.0)
    deferred = param_list.defer_param_list

    def one(n: int, variant: str) -> float:
        skip = variant in ("before", "legend")
        param_list.defer_param_list = (lambda item: None) if skip else deferred
        view = QWidget()
        _widget, item = embed_plot(view)
        _ = add_batched_legend(item) if variant.endswith("legend") else item.addLegend()
        t0 = time.perf_counter()
        for i in range(n):
            item.addItem(pg.PlotDataItem(x, x + i, name=f"/signals/s{i:05d}"))
        app.processEvents()  # the batched legend's one sizing pass
        dt = time.perf_counter() - t0
        view.deleteLater()
        app.processEvents()
        return dt

    chosen = variants or list(FIX_VARIANTS)
    print("| series in one plot | " + " | ".join(FIX_VARIANTS[v] for v in chosen) + " |")
    print("|---|" + "---|" * len(chosen))
    for n in counts:
        walls: dict[str, list[float]] = {v: [] for v in chosen}
        for _ in range(repeat):
            for v in chosen:
                walls[v].append(one(n, v))
        print(f"| {n:,} | " + " | ".join(f"{med(w):.2f} s ({min(w):.2f}–{max(w):.2f})"
                                         for w in walls.values()) + " |", flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["--live-child"]:
        return live_child(float(argv[1]), float(argv[2]))
    if argv[:1] == ["--window-child"]:
        return window_child(argv[1], argv[2:])
    if argv[:1] == ["--fix-ab"]:  # the plot fixes in the window, A/B: --fix-ab N,N [REPEAT]
        return fix_ab([int(n) for n in argv[1].split(",")],
                      int(argv[2]) if len(argv) > 2 else 3)
    if argv[:1] == ["--legend-ab"]:  # the plot fixes, A/B: --legend-ab N,N [REPEAT [V,V]]
        return legend_ab([int(n) for n in argv[1].split(",")],
                         int(argv[2]) if len(argv) > 2 else 3,
                         argv[3].split(",") if len(argv) > 3 else None)
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="smaller steps, 1 run each (< 1 min)")
    ap.add_argument("--repeat", type=int, default=None, help="runs per step (default 3; quick 1)")
    ap.add_argument("--dims", type=lambda s: s.split(","), default=None,
                    help="comma-separated subset of rows,chunks,entities,stores,width,live")
    ap.add_argument("--window-probe", type=int, default=None, metavar="N",
                    help="also open the window once on N entities (default 10000; quick 0)")
    ap.add_argument("--no-write", action="store_true",
                    help="print the summary only; leave docs/benchmarks alone")
    ap.add_argument("--replot", action="store_true",
                    help="rewrite the report and plot from /tmp/rrd-growth/results.json "
                         "(with --quick: results-quick.json)")
    ap.add_argument("--notes", type=Path, default=None,
                    help="markdown file whose text goes under 'Reading' in the report "
                         "(default: keep the current report's)")
    args = ap.parse_args(argv)
    args.argv = argv
    if args.repeat is None:
        args.repeat = 1 if args.quick else 3
    if args.window_probe is None:
        args.window_probe = 0 if args.quick else 10_000
    raw = CACHE / ("results-quick.json" if args.quick else "results.json")
    if args.replot:
        results = json.loads(raw.read_text())
    else:
        results = run(args)
        CACHE.mkdir(parents=True, exist_ok=True)
        raw.write_text(json.dumps(results, indent=1))
    summary = summarize(results)
    for dname, ks in summary.items():
        for s in ks.values():
            print(f"{dname:9s} {s['label']:42s} slope {s['slope']:5.2f} "
                  f"(last {s['last_slope']:5.2f}) {s['verdict']}")
    if not args.no_write:
        notes = args.notes.read_text() if args.notes else kept_notes(REPORT)
        write_report(results, summary, REPORT, notes)
        write_plot(summary, PLOT)
        print("wrote", REPORT.relative_to(ROOT), "and", PLOT.relative_to(ROOT))
    return 0


def kept_notes(report: Path) -> str:
    """The hand-written 'Reading' section of the current report, kept across regenerations."""
    if not report.exists():
        return ""
    text = report.read_text()
    start = text.find("## Reading\n")
    if start < 0:
        return ""
    body = text[start + len("## Reading\n"):]
    end = body.find("\n## ")
    return body[:end] if end >= 0 else body


if __name__ == "__main__":
    sys.exit(main())
