"""Whole-process load time and peak memory: ``viewer ingest FILE --json`` vs the native viewer.

The native peer is the Rust viewer binary shipped in the rerun-sdk wheel, run headlessly
with ``--test-receive`` (it loads the file into its store and quits). Both are measured the
same way: one child process each, wall time from spawn to exit, peak RSS from the child's
own rusage (``os.wait4``), alternating ours / native so machine noise hits both alike.
The ``rerun`` script in the venv is a Python wrapper that spawns that binary; it is timed
too, for reference, but the ratios are against the binary (the stricter peer).

Files come from ``scripts/make_bench_files.py`` (written once per scale into a cache dir).
Files that miss the time goal are profiled (cProfile on every thread) and the top
functions go into the report, so the owner of ingest can act.

Run from the repository root::

    .venv/bin/python scripts/bench_vs_rerun.py            # full size, 5 runs, ~6-10 min
    .venv/bin/python scripts/bench_vs_rerun.py --quick    # scale 0.05, 3 runs
"""

from __future__ import annotations

import argparse
import ast
import datetime
import importlib.util
import io
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
import make_bench_files as mbf  # noqa: E402  (sibling script)
from bench_machine import cpu_name  # noqa: E402

PY = sys.executable
REPORT = ROOT / "docs" / "benchmarks" / "vs-rerun.md"
TIME_GOAL = 1.0  # ours / native wall time
MEM_GOAL = 1.0  # ours / native peak RSS
TINY_FILE = ROOT / "tests" / "data" / "scalars.rrd"
# The three files of the throughput issue (#13); the others with --only.
DEFAULT_KINDS = ("small_chunks", "large_chunks", "points")
FILE_TITLES = {
    "small_chunks": "20 M scalar rows by `send_columns` in 40 000 chunks of 500 rows "
                    "(4 entities one after another, 3 timelines)",
    "large_chunks": "the same 20 M rows in 2 000 chunks of 10 000 rows",
    "log": "row by row with `rr.log` (many small chunks)",
    "columns": "`rr.send_columns` (few large scalar chunks)",
    "points": "point clouds (`Points3D`, one `rr.log` per cloud)",
}


# --------------------------------------------------------------------------- process runs


@dataclass
class Run:
    wall_s: float
    peak_rss: int  # bytes
    cpu_s: float  # user + sys of the child (and whatever it reaped)
    ok: bool
    note: str = ""
    inner_s: float = float("nan")  # ours only: its own stats.wall_s (open to idle)


@dataclass
class Series:
    runs: list[Run] = field(default_factory=list)

    def med(self, attr: str) -> float:
        return statistics.median(getattr(r, attr) for r in self.runs)

    def spread(self, attr: str) -> tuple[float, float]:
        vals = [getattr(r, attr) for r in self.runs]
        return min(vals), max(vals)


def child_env(home: Path) -> dict[str, str]:
    """Same isolated environment for every child: no config/analytics in the real $HOME."""
    env = dict(os.environ)
    env["HOME"] = str(home)
    for var in ("XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME"):
        env[var] = str(home / var.lower())
    env["RERUN_TELEMETRY"] = "0"
    env["QT_QPA_PLATFORM"] = "offscreen"
    env.pop("PYTHONPROFILEIMPORTTIME", None)
    # Bytecode is cached as for an installed package (pip compiles .pyc at install time):
    # with PYTHONDONTWRITEBYTECODE set (as in some sandboxes) every run of ours would compile
    # all of its ~40 modules again (~35 ms). The cache goes to the temp home, not the repo;
    # the untimed warm-up run fills it.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(home / "pycache")
    return env


# Peak RSS needs a small go-between. Linux keeps the largest RSS a process had *before* exec
# in its ru_maxrss, and subprocess spawns with vfork: a child exec'd straight from this
# ~100 MB script would report at least ~100 MB. So a tiny interpreter (-I -S, a few MB)
# forks the real command, waits for it with wait4 and writes its own rusage to a file.
LAUNCHER = """
import os, sys, time
out, cmd = sys.argv[1], sys.argv[2:]
t0 = time.perf_counter()
pid = os.fork()
if pid == 0:
    try:
        os.execv(cmd[0], cmd)
    finally:
        os._exit(127)
_, status, ru = os.wait4(pid, 0)
wall = time.perf_counter() - t0
with open(out, "w") as f:
    f.write(repr((wall, ru.ru_maxrss, ru.ru_utime + ru.ru_stime,
                  os.waitstatus_to_exitcode(status))))
"""


def run_measured(cmd: list[str], env: dict[str, str], workdir: Path) -> tuple[Run, str, str]:
    """Run ``cmd`` through the launcher; return its own wall time, peak RSS and CPU time."""
    with (tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err,
          tempfile.NamedTemporaryFile("r", suffix=".rusage") as usage_file):
        launcher = [PY, "-I", "-S", "-c", LAUNCHER, usage_file.name, *cmd]
        subprocess.run(launcher, stdout=out, stderr=err, env=env, cwd=workdir, check=False)
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode(errors="replace")
        stderr = err.read().decode(errors="replace")
        wall, maxrss_kib, cpu, code = ast.literal_eval(usage_file.read())
    run = Run(wall, int(maxrss_kib) * 1024, cpu, code == 0, "" if code == 0 else f"exit {code}")
    return run, stdout, stderr


WARM_GB = 0.0  # what `warm_memory` touches before the floor and RSS-split runs (per file)


def warm_memory(gib: float) -> None:
    """Touch and free ``gib`` GiB in a throwaway process before a measured run.

    On these VMs memory that stayed free for a few seconds is handed back to the host, and
    touching it again costs ~17 s per GiB instead of ~0.25 s (docs/platform-facts.md, "Fresh
    memory"): whichever contender ran after a pause would pay for it. Warming before every
    run gives both the same start."""
    if gib > 0:
        subprocess.run([PY, "-c", f"import numpy as np; np.ones({int(gib * (1 << 30))}, np.uint8)"],
                       check=True)


def launcher_floor(env: dict[str, str]) -> int:
    """Peak RSS the launcher itself leaves in a child (the floor of every RSS figure)."""
    return run_measured(["/bin/true"], env, ROOT)[0].peak_rss


def native_binary() -> Path:
    """The Rust viewer inside the wheel (the venv's ``rerun`` script only wraps it)."""
    spec = importlib.util.find_spec("rerun_cli")
    if spec is None or spec.origin is None:
        raise SystemExit("rerun-sdk (rerun_cli) is not installed in this interpreter")
    exe = Path(spec.origin).parent / "rerun"
    if not exe.exists():
        raise SystemExit(f"no rerun binary at {exe}")
    return exe


def ours_cmd(path: Path) -> list[str]:
    return [PY, "-m", "viewer", "ingest", str(path), "--json"]


def native_cmd(exe: Path | str, path: Path) -> list[str]:
    # --port 0 on 127.0.0.1: its gRPC server takes a free local port, never 9876 on 0.0.0.0.
    return [str(exe), "--bind", "127.0.0.1", "--port", "0", "--test-receive", str(path)]


def check_ours(run: Run, stdout: str, stderr: str) -> tuple[Run, int]:
    """Ours must exit 0 with no errors; returns the rows it reports (all stores)."""
    try:
        report = json.loads(stdout)
    except json.JSONDecodeError:
        run.ok, run.note = False, f"no JSON ({run.note}): {stderr.strip()[-300:]}"
        return run, -1
    rows = sum(e["rows"] for s in report["stores"] for e in s["entities"].values())
    run.inner_s = float(report.get("stats", {}).get("wall_s", float("nan")))
    # the launcher sees the larger of ours and its decode helper's peak (wait4 counts
    # waited-for children): the helper's private memory is added (its shared pages, the
    # ring and the libraries, are in ours' RSS already)
    run.peak_rss += int(report.get("stats", {}).get("helper_private_bytes", 0))
    if report.get("errors"):
        run.ok, run.note = False, f"errors: {report['errors'][:2]}"
    return run, rows


def check_native(run: Run, stderr: str) -> tuple[Run, int]:
    """The native viewer logs ``Successfully ingested N messages.``; returns N."""
    m = re.search(r"Successfully ingested (\d+) messages", stderr)
    if m is None:
        run.ok, run.note = False, f"no ingest line ({run.note}): {stderr.strip()[-300:]}"
        return run, -1
    return run, int(m.group(1))


# --------------------------------------------------------------------------- startup cost


STARTUP_SNIPPETS = {
    "`python -c pass` (bare interpreter)": "pass",
    "`python -c \"import viewer.commands.ingest\"`": "import viewer.commands.ingest",
    "imports `viewer ingest` really needs (commands.cli, commands.ingest, ingest, store.summary, "
    "PySide6.QtCore, pyarrow)": (
        "import viewer.commands.cli, viewer.commands.ingest, viewer.ingest, viewer.store.summary, "
        "PySide6.QtCore, pyarrow"),
}


def measure_startup(env: dict[str, str], runs: int) -> dict[str, Series]:
    """Interpreter start + imports, and the whole command on a tiny file (fixed cost)."""
    out: dict[str, Series] = {}
    cmds = {label: [PY, "-c", code] for label, code in STARTUP_SNIPPETS.items()}
    cmds[f"`viewer ingest {TINY_FILE.relative_to(ROOT)} --json` (whole command, tiny file)"] = (
        ours_cmd(TINY_FILE))
    for label, cmd in cmds.items():
        run_measured(cmd, env, ROOT)  # warm the page cache / .pyc files
        series = Series()
        for _ in range(runs):
            run, _, err = run_measured(cmd, env, ROOT)
            if not run.ok:
                run.note += f": {err.strip()[-200:]}"
            series.runs.append(run)
        out[label] = series
    return out


def heaviest_imports(env: dict[str, str], top: int = 15) -> list[tuple[str, int, float]]:
    """`-X importtime` of the whole ingest command: (module, nesting depth, cumulative s)."""
    proc = subprocess.run([PY, "-X", "importtime", *ours_cmd(TINY_FILE)[1:]], env=env,
                          cwd=ROOT, capture_output=True, text=True, check=False)
    rows: list[tuple[str, int, float]] = []
    for line in proc.stderr.splitlines():
        m = re.match(r"import time:\s+\d+ \|\s+(\d+) \|( *)(\S+)", line)
        if m:
            rows.append((m.group(3), (len(m.group(2)) - 1) // 2, int(m.group(1)) / 1e6))
    rows.sort(key=lambda r: -r[2])
    return rows[:top]


# --------------------------------------------------------------------------- profiling


def profile_one(path: Path, prefix: Path) -> None:
    """Run ``viewer ingest`` in-process with a cProfile per thread (main and every QThread).

    ``python -m cProfile`` sees only the main thread, but decoding runs in QThreads, so
    their ``run`` methods are wrapped here (instrumentation only; viewer code is unchanged).
    """
    import cProfile
    import importlib
    import pkgutil
    import threading

    from PySide6.QtCore import QThread

    sys.path.insert(0, str(ROOT))
    import viewer.ingest
    from viewer.commands import cli

    for mod in pkgutil.walk_packages(viewer.ingest.__path__, "viewer.ingest."):
        importlib.import_module(mod.name)
    profiles: list[cProfile.Profile] = []
    lock = threading.Lock()

    def subclasses(cls: type) -> list[type]:
        found = []
        for sub in cls.__subclasses__():
            found += [sub, *subclasses(sub)]
        return found

    def wrap(run):  # noqa: ANN001, ANN202
        def profiled_run(self) -> None:  # noqa: ANN001
            prof = cProfile.Profile()
            with lock:
                profiles.append(prof)
            prof.enable()
            try:
                run(self)
            finally:
                prof.disable()
        return profiled_run

    for cls in subclasses(QThread):
        if cls.__module__.startswith("viewer.") and "run" in vars(cls):
            cls.run = wrap(vars(cls)["run"])
    main_prof = cProfile.Profile()
    sink = io.StringIO()
    real_stdout, sys.stdout = sys.stdout, sink  # the JSON report is not wanted here
    main_prof.enable()
    try:
        code = cli.main(["ingest", str(path), "--json"])
    finally:
        main_prof.disable()
        sys.stdout = real_stdout
    main_prof.dump_stats(str(prefix) + ".main.prof")
    import pstats

    if profiles:
        pstats.Stats(*profiles).dump_stats(str(prefix) + ".threads.prof")
    print(json.dumps({"exit": code, "threads": len(profiles)}))


WAITS = ("acquire' of '_thread.lock", "method 'exec' of 'PySide6.QtCore.QEventLoop",
         "method 'wait' of", "built-in method time.sleep")


def _is_wait(func: str) -> bool:
    return any(w in func for w in WAITS)


def _short(filename: str) -> str:
    short = filename.replace(str(ROOT) + "/", "")
    short = re.sub(r".*/site-packages/", "", short)
    return re.sub(r".*/lib/python3\.\d+/", "stdlib/", short)


def top_functions(prof_path: Path, key: str, n: int) -> list[str]:
    """The top ``n`` rows of a saved profile as markdown table rows."""
    import pstats

    st = pstats.Stats(str(prof_path))
    rows = []
    col = 3 if key == "cumulative" else 2
    entries = sorted(st.stats.items(), key=lambda kv: -kv[1][col])
    for (filename, line, func), (_cc, ncalls, tottime, cumtime, _callers) in entries[:n]:
        rows.append(f"| `{_short(filename)}:{line}` `{func}` | {ncalls} | {tottime:.3f} | "
                    f"{cumtime:.3f} |")
    return rows


def profile_reading(main_prof: Path, threads_prof: Path | None) -> list[str]:
    """A few plain sentences: how busy each side was and what dominated the work."""
    import pstats

    lines = []
    st = pstats.Stats(str(main_prof)).stats
    total = max((v[3] for (_f, _l, fn), v in st.items() if fn == "main"), default=0.0)
    idle = sum(v[2] for (_f, _l, fn), v in st.items() if _is_wait(fn))
    lines.append(f"- UI/main thread: {total:.2f} s in `cli.main`, of which {idle:.2f} s "
                 f"waiting in the Qt event loop / joins ({100 * idle / max(total, 1e-9):.0f} %"
                 "); the rest is its real work.")
    if threads_prof is not None and threads_prof.exists():
        ts = pstats.Stats(str(threads_prof)).stats
        waits = sum(v[2] for (_f, _l, fn), v in ts.items() if _is_wait(fn))
        work = sum(v[2] for (_f, _l, fn), v in ts.items() if not _is_wait(fn))
        top = sorted(((v[2], f"`{_short(f)}:{ln}` `{fn}`") for (f, ln, fn), v in ts.items()
                      if not _is_wait(fn)), reverse=True)[:4]
        shares = ", ".join(f"{name} {sec:.2f} s ({100 * sec / max(work, 1e-9):.0f} %)"
                           for sec, name in top)
        lines.append(f"- QThreads (reader + decoders, merged): {work:.2f} s of work, "
                     f"{waits:.2f} s blocked on locks/conditions (a reader blocked on a full "
                     f"queue, or idle decoders). Largest self times: {shares}.")
    return lines


def profile_file(path: Path, kind: str, env: dict[str, str], prof_dir: Path) -> list[str]:
    """Markdown lines with the top functions of one profiled ingest run."""
    prefix = prof_dir / f"ingest_{kind}"
    cmd = [PY, str(Path(__file__).resolve()), "--profile-one", str(path), str(prefix)]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - t0
    lines = [f"Profiled run (cProfile on every thread, {wall:.2f} s with profiling overhead; "
             f"profiles in `{prof_dir}`, open with `python -m pstats`):", ""]
    main_prof = Path(str(prefix) + ".main.prof")
    threads_prof = Path(str(prefix) + ".threads.prof")
    if proc.returncode != 0 or not main_prof.exists():
        return lines + [f"profiling failed: `{proc.stderr.strip()[-400:]}`", ""]
    lines += [*profile_reading(main_prof, threads_prof), ""]
    tables = [(main_prof, "UI/main thread", "cumulative", 10)]
    if threads_prof.exists():
        tables += [(threads_prof, "QThreads, merged", "tottime", 12),
                   (threads_prof, "QThreads, merged", "cumulative", 12)]
    for prof, title, key, n in tables:
        lines += [f"*{title}, by {key} time:*", "",
                  "| function | calls | tottime s | cumtime s |", "|---|---|---|---|",
                  *top_functions(prof, key, n), ""]
    return lines


def floor_one(path: Path) -> None:
    """One thread, no pipeline: read every message, decompress it, build `Chunk`s from
    runs of messages as the ingest worker does (`BatchRuns`, one byte cap for all).

    One pass in a fresh process (a second pass would reuse freed allocator pages and hide
    the page-fault cost a real load pays); printed as JSON for the parent.
    """
    sys.path.insert(0, str(ROOT))
    from viewer.ingest.batch_runs import BatchRuns, Payload
    from viewer.ingest.items import InboxEntry
    from viewer.ingest.settings import IngestSettings
    from viewer.log.messages import ArrowMsg
    from viewer.log.reader import RrdReader

    t0 = time.perf_counter()
    with RrdReader(path) as reader:
        entries = [InboxEntry(m, None, 0.0, off) for off, m in reader.entries()
                   if isinstance(m, ArrowMsg)]
        t1 = time.perf_counter()
        payloads = [Payload.of(e, e.msg) for e in entries]  # type: ignore[arg-type]
        t2 = time.perf_counter()
        runs = BatchRuns(IngestSettings().merge_max_bytes)
        built = [b for p in payloads for b in runs.add(p)] + runs.flush()
        t3 = time.perf_counter()
    print(json.dumps({"messages": len(entries), "chunks": len(built), "read_s": t1 - t0,
                      "decode_s": t2 - t1, "chunk_s": t3 - t2, "total_s": t3 - t0}))


def measure_floor(path: Path, env: dict[str, str], runs: int = 3) -> dict[str, float] | str:
    """Median over ``runs`` fresh processes of `floor_one`, or the error text."""
    cmd = [PY, str(Path(__file__).resolve()), "--floor-one", str(path)]
    found: list[dict[str, float]] = []
    for _ in range(runs):
        warm_memory(WARM_GB)
        proc = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True,
                              check=False)
        if proc.returncode != 0:
            return proc.stderr.strip()[-300:]
        found.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    return {k: statistics.median(f[k] for f in found) for k in found[0]}


RSS_KEYS = ("VmRSS", "RssAnon", "RssFile")


def rss_split_one(path: Path) -> None:
    """Run ``viewer ingest`` in-process while a thread samples /proc/self/status every 2 ms.

    Splits the peak into anonymous memory (heap, decoded Arrow buffers) and file-backed
    pages (shared libraries and the memory-mapped recording), which `ru_maxrss` lumps
    together. Linux only; prints JSON (MB) for the parent.
    """
    import contextlib
    import threading

    sys.path.insert(0, str(ROOT))
    from viewer.commands import cli

    peak = dict.fromkeys(RSS_KEYS, 0)
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            with open("/proc/self/status") as f:
                for line in f:
                    key, _, val = line.partition(":")
                    if key in peak:
                        peak[key] = max(peak[key], int(val.split()[0]))
            done.wait(0.002)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    with contextlib.redirect_stdout(io.StringIO()):
        cli.main(["ingest", str(path), "--json"])
    done.set()
    sampler.join()
    print(json.dumps({k: round(v / 1024) for k, v in peak.items()}))


def measure_rss_split(path: Path, env: dict[str, str]) -> dict[str, int] | str:
    cmd = [PY, str(Path(__file__).resolve()), "--rss-one", str(path)]
    proc = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True, check=False)
    if proc.returncode != 0 or not Path("/proc/self/status").exists():
        return proc.stderr.strip()[-300:] or "no /proc"
    return json.loads(proc.stdout.strip().splitlines()[-1])


# --------------------------------------------------------------------------- report


def machine_lines(exe: Path) -> list[str]:
    import psutil

    versions = []
    for mod in ("pyarrow", "PySide6", "numpy"):
        try:
            versions.append(f"{mod} {importlib.import_module(mod).__version__}")
        except ImportError:
            versions.append(f"{mod} (missing)")
    native_ver = subprocess.run([str(exe), "--version"], capture_output=True, text=True,
                                check=False).stdout.strip()
    cpu = cpu_name()
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                            capture_output=True, text=True, check=False).stdout.strip()
    return [
        f"- date: {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC; "
        f"repo at `{commit}` plus uncommitted work in progress",
        f"- machine: {os.cpu_count()} CPUs ({cpu}), "
        f"{psutil.virtual_memory().total / 2**30:.1f} GiB RAM, {platform.platform()}; "
        f"load average at start {os.getloadavg()[0]:.2f} (shared machine: other jobs ran)",
        f"- ours: CPython {platform.python_version()}, {', '.join(versions)}",
        f"- native: `{native_ver}` (binary from the rerun-sdk wheel)",
    ]


def floor_sentence(fl: dict[str, float] | str) -> str:
    if isinstance(fl, str):
        return f"(The single-thread floor could not be measured: `{fl}`.)"
    return (f"For comparison, one thread with no pipeline (read + decode + build chunks, "
            f"one pass in a fresh process, start-up excluded, median of 3) takes {fl['total_s']:.3f} s: read "
            f"{fl['read_s']:.3f}, decompress {fl['decode_s']:.3f}, read IPC + build chunks "
            f"{fl['chunk_s']:.3f} s ({fl['chunks']:.0f} chunks from {fl['messages']:.0f} "
            "messages).")


def fmt_mb(b: float) -> str:
    return f"{b / 1e6:.0f} MB"


def verdict(ratio: float, goal: float) -> str:
    return "met" if ratio <= goal else "**not met**"


def write_report(args: argparse.Namespace, machine: list[str], files: dict[str, Path],
                 results: dict[str, dict[str, Series]], counts: dict[str, dict[str, int]],
                 startup: dict[str, Series], imports: list[tuple[str, int, float]],
                 profiles: dict[str, list[str]], exe: Path, floor: int,
                 floors: dict[str, dict[str, float] | str],
                 rss_splits: dict[str, dict[str, int] | str]) -> str:
    lines = [
        "# Load time and memory: `viewer ingest` vs the native Rerun viewer",
        "",
        f"Written by `scripts/bench_vs_rerun.py` ({'--quick' if args.quick else 'full run'}, "
        f"scale {args.scale:g}, {args.runs} runs each, alternating). Regenerate with:",
        "",
        "```",
        ".venv/bin/python scripts/bench_vs_rerun.py"
        + (" --quick" if args.quick else ""),
        "```",
        "",
        "## Machine",
        "",
        *machine,
        "",
        "## What is measured",
        "",
        "- ours: `" + " ".join(ours_cmd(Path("FILE"))).replace(PY, "python") + "` "
        "(run from the repo root; the real pipeline, threads and frame driver, headless)",
        "- native: `" + " ".join(native_cmd("rerun", Path("FILE"))) + "` — the Rust binary "
        f"`{exe}` itself; the venv's `rerun` script is a Python wrapper around it and is shown "
        "for reference only",
        "- wall time of the whole process (spawn to exit, `time.perf_counter`), peak RSS and "
        "CPU time (user + sys) from the child's own rusage (`os.wait4`); median of "
        f"{args.runs} alternating runs after one untimed warm-up of each (files in page cache; "
        "ours' bytecode cached as for an installed package, `PYTHONPYCACHEPREFIX` in a temp "
        "folder, even where `PYTHONDONTWRITEBYTECODE` is set)",
        "- before every timed run (either contender) a throwaway process touches and frees "
        "1.1x the larger peak RSS of the file's two untimed warm-ups ("
        + ", ".join(f"{k} {v:.2f} GiB" for k, v in args.warm_by_kind.items())
        + "; `--warm-gb`): on these VMs memory left free for a few "
        "seconds goes back to the host and costs ~17 s per GiB to touch again instead of "
        "~0.25 s (docs/platform-facts.md, \"Fresh memory\"), so without it whichever "
        "contender ran after a pause paid for it",
        f"- every RSS figure includes a floor of ~{fmt_mb(floor)}: the peak of the "
        "small launcher process that forks each child (`/bin/true` through it); see "
        "`LAUNCHER` in the script for why it is needed",
        "- both must load everything: ours exits 0 with no errors and reports every row; "
        "the native viewer logs `Successfully ingested N messages`",
        f"- goals: time ratio ours/native <= {TIME_GOAL:g}, peak memory ratio <= {MEM_GOAL:g}",
        "",
        "## Results",
        "",
    ]
    summary = ["| file | time ratio | goal | memory ratio | goal |", "|---|---|---|---|---|"]
    for kind, path in files.items():
        res = results[kind]
        ours, nat, wrap = res["ours"], res["native"], res["wrapper"]
        meta = json.loads(path.with_suffix(".json").read_text())
        t_ratio = ours.med("wall_s") / nat.med("wall_s")
        m_ratio = ours.med("peak_rss") / nat.med("peak_rss")
        failed = [r.note for s in (ours, nat, wrap) for r in s.runs if not r.ok]
        lines += [
            f"### {kind}: {FILE_TITLES[kind]}",
            "",
            f"`{path.name}`: {meta['bytes'] / 1e6:.0f} MB, {meta['params']}; ours reported "
            f"{counts[kind]['ours_rows']:,} rows, native ingested "
            f"{counts[kind]['native_msgs']:,} messages.",
            "",
            "| | median wall | min–max | ratio | peak RSS | ratio | CPU (user+sys) |",
            "|---|---|---|---|---|---|---|",
        ]
        for label, s in (("ours", ours), ("native (binary)", nat), ("native via venv `rerun` "
                                                                    "wrapper", wrap)):
            lo, hi = s.spread("wall_s")
            tr = s.med("wall_s") / nat.med("wall_s")
            mr = s.med("peak_rss") / nat.med("peak_rss")
            lines.append(f"| {label} | {s.med('wall_s'):.3f} s | {lo:.3f}–{hi:.3f} | "
                         f"{tr:.2f} | {fmt_mb(s.med('peak_rss'))} | {mr:.2f} | "
                         f"{s.med('cpu_s'):.2f} s |")
        lines += ["", f"Of ours' {ours.med('wall_s'):.3f} s, the pipeline itself (its own "
                      f"`stats.wall_s`, file open to everything applied) took "
                      f"{ours.med('inner_s'):.3f} s; the rest is interpreter start, imports, "
                      "set-up, the JSON summary and exit. " + floor_sentence(floors[kind]),
                  "", f"Time goal {verdict(t_ratio, TIME_GOAL)} ({t_ratio:.2f}); memory goal "
                      f"{verdict(m_ratio, MEM_GOAL)} ({m_ratio:.2f}).", ""]
        if failed:
            lines += [f"**Failed runs:** {failed}", ""]
        summary.append(f"| {kind} | {t_ratio:.2f} | {verdict(t_ratio, TIME_GOAL)} | "
                       f"{m_ratio:.2f} | {verdict(m_ratio, MEM_GOAL)} |")
    lines += ["## Per-chunk cost", "",
              "Whole-process median wall time per input chunk (ArrowMsg), and ours' own "
              "pipeline time (`stats.wall_s`: file open to everything applied, start-up "
              "excluded) per chunk:", "",
              "| file | chunks | ours µs/chunk | ours pipeline µs/chunk | native µs/chunk |",
              "|---|---|---|---|---|"]
    for kind in files:
        res = results[kind]
        n = max(counts[kind]["native_msgs"], 1)
        lines.append(f"| {kind} | {n:,} | {1e6 * res['ours'].med('wall_s') / n:.0f} | "
                     f"{1e6 * res['ours'].med('inner_s') / n:.0f} | "
                     f"{1e6 * res['native'].med('wall_s') / n:.0f} |")
    lines += ["", "## Summary", "", *summary, "",
              f"Load average at the end: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs.",
              ""]
    lines += ["## Ours' peak memory split", "",
              "Sampled in-process every 2 ms from `/proc/self/status` (one run each; peaks of "
              "each column may fall at different moments). `RssFile` is shared libraries plus "
              "the memory-mapped recording's pages; `RssAnon` is heap and decoded buffers. The "
              f"tiny file ({TINY_FILE.name}) shows the interpreter + libraries baseline.", "",
              "| file | peak VmRSS | peak RssAnon | peak RssFile |", "|---|---|---|---|"]
    for kind, split in rss_splits.items():
        if isinstance(split, str):
            lines.append(f"| {kind} | not measured: `{split}` | | |")
        else:
            lines.append(f"| {kind} | {split['VmRSS']} MB | {split['RssAnon']} MB | "
                         f"{split['RssFile']} MB |")
    lines.append("")
    lines += ["## Fixed cost of ours: interpreter start and imports", "",
              "Part of every whole-process time above (median of "
              f"{args.runs} runs):", "", "| command | median wall | peak RSS |", "|---|---|---|"]
    for label, s in startup.items():
        lines.append(f"| {label} | {s.med('wall_s'):.3f} s | {fmt_mb(s.med('peak_rss'))} |")
    if imports:
        lines += ["", "Heaviest imports of `viewer ingest` (`-X importtime`, one run; "
                      "cumulative, so nested rows are part of their parents):", "",
                      "| module | nesting depth | cumulative s |", "|---|---|---|"]
        lines += [f"| `{name}` | {depth} | {sec:.3f} |" for name, depth, sec in imports]
    lines.append("")
    if profiles:
        lines += ["## Where the time goes (files that miss the time goal)", ""]
        for kind, plines in profiles.items():
            lines += [f"### {kind}", "", *plines]
    return "\n".join(lines).rstrip() + "\n"


NOTES_HEADING = "## Notes (hand-written"


def kept_notes(report: Path | None) -> str:
    """A hand-written notes section at the end of an existing report survives regeneration."""
    if report is None or not report.exists():
        return ""
    text = report.read_text()
    at = text.find(NOTES_HEADING)
    return "" if at < 0 else "\n" + text[at:].rstrip() + "\n"


# --------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="scale 0.05 and 3 runs")
    ap.add_argument("--scale", type=float, default=None, help="file size (default 1, 0.05 quick)")
    ap.add_argument("--runs", type=int, default=None, help="runs each (default 5, 3 quick)")
    ap.add_argument("--out", type=Path, default=mbf.DEFAULT_OUT, help="file cache directory")
    ap.add_argument("--only", choices=mbf.KINDS, action="append", help="only these files")
    ap.add_argument("--report", type=Path, default=None,
                    help=f"markdown output (default {REPORT.relative_to(ROOT)}; "
                         "--quick prints to stdout unless given)")
    ap.add_argument("--no-profile", action="store_true", help="skip profiling misses")
    ap.add_argument("--warm-gb", type=float, default=None,
                    help="GiB touched by a throwaway process before every timed run (0: off; "
                         "default: 1.1x the largest peak RSS of the file's untimed warm-ups)")
    ap.add_argument("--profile-one", nargs=2, metavar=("FILE", "PREFIX"), help=argparse.SUPPRESS)
    ap.add_argument("--floor-one", metavar="FILE", help=argparse.SUPPRESS)
    ap.add_argument("--rss-one", metavar="FILE", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.rss_one:
        rss_split_one(Path(args.rss_one))
        return 0
    if args.floor_one:
        floor_one(Path(args.floor_one))
        return 0
    if args.profile_one:
        profile_one(Path(args.profile_one[0]), Path(args.profile_one[1]))
        return 0
    global WARM_GB
    args.scale = args.scale if args.scale is not None else (0.05 if args.quick else 1.0)
    args.runs = args.runs if args.runs is not None else (3 if args.quick else 5)
    if args.report is None and not args.quick:
        args.report = REPORT

    exe = native_binary()
    wrapper = Path(PY).parent / "rerun"
    home = Path(tempfile.mkdtemp(prefix="bench_vs_rerun_home_"))
    env = child_env(home)
    machine = machine_lines(exe)
    kinds = args.only or list(DEFAULT_KINDS)
    files = {k: mbf.ensure_file(args.out, k, args.scale) for k in kinds}

    results: dict[str, dict[str, Series]] = {}
    counts: dict[str, dict[str, int]] = {}
    floors: dict[str, dict[str, float] | str] = {}
    rss_splits: dict[str, dict[str, int] | str] = {"tiny file": measure_rss_split(TINY_FILE, env)}
    warm_by_kind: dict[str, float] = {}
    args.warm_by_kind = warm_by_kind
    for kind, path in files.items():
        contenders = {"ours": ours_cmd(path), "native": native_cmd(exe, path),
                      "wrapper": native_cmd(wrapper, path) if wrapper.exists() else []}
        contenders = {k: v for k, v in contenders.items() if v}
        peaks = []
        for cmd in contenders.values():  # warm-up: page cache, .pyc, first-run config
            peaks.append(run_measured(cmd, env, ROOT)[0].peak_rss)
        # enough for the hungrier contender, not much more: memory touched beyond what the
        # next run uses goes cold again during it and makes the next warm-up slow
        WARM_GB = args.warm_gb if args.warm_gb is not None else 1.1 * max(peaks) / (1 << 30)
        warm_by_kind[kind] = WARM_GB
        res = {k: Series() for k in contenders}
        rows = msgs = -1
        for i in range(args.runs):
            for name, cmd in contenders.items():  # one native run at a time (port use)
                warm_memory(WARM_GB)
                run, out, err = run_measured(cmd, env, ROOT)
                if name == "ours":
                    run, rows = check_ours(run, out, err)
                else:
                    run, msgs = check_native(run, err)
                res[name].runs.append(run)
                print(f"{kind} run {i + 1}/{args.runs} {name}: {run.wall_s:.3f} s "
                      f"{run.peak_rss / 1e6:.0f} MB cpu {run.cpu_s:.2f} s"
                      f"{'' if run.ok else '  FAILED ' + run.note}", file=sys.stderr,
                      flush=True)
        results[kind] = res
        counts[kind] = {"ours_rows": rows, "native_msgs": msgs}
        floors[kind] = measure_floor(path, env)
        rss_splits[kind] = measure_rss_split(path, env)

    print("startup cost ...", file=sys.stderr, flush=True)
    startup = measure_startup(env, args.runs)
    imports = heaviest_imports(env)

    profiles: dict[str, list[str]] = {}
    if not args.no_profile:
        prof_dir = args.out / "profiles"
        prof_dir.mkdir(parents=True, exist_ok=True)
        for kind, path in files.items():
            res = results[kind]
            if res["ours"].med("wall_s") > TIME_GOAL * res["native"].med("wall_s"):
                print(f"profiling {kind} ...", file=sys.stderr, flush=True)
                profiles[kind] = profile_file(path, kind, env, prof_dir)

    text = write_report(args, machine, files, results, counts, startup, imports, profiles, exe,
                        launcher_floor(env), floors, rss_splits)
    if args.report is None:
        print(text)
    else:
        args.report.parent.mkdir(parents=True, exist_ok=True)
        args.report.write_text(text + kept_notes(args.report))
        print(f"wrote {args.report}", file=sys.stderr)
    shutil.rmtree(home, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
