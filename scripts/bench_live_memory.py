"""Memory of a long live stream of one-row chunks, with and without store compaction.

Simulates one hour of a 100 Hz stream at full speed: rerun-sdk writes 360 000 one-row
chunks (its batcher flushing every row, as a program calling ``rr.log`` at 100 Hz with
``rr.connect_grpc()`` sends them) of three Scalars entities and one TextLog entity, in
turn, into a file once (cached under /tmp: writing it takes about a minute). Each run then
feeds those messages into a real `IngestHub` through `open_stream` in small groups, the way
the gRPC handler submits a live stream (one message per ``submit``), and reports:

- peak RSS, and RSS growth per 1 000 rows over the second half of the stream (sampled
  every 1 000 applied rows);
- chunks held by the store at the end;
- UI-thread time per frame spent compacting (`EntityDb.compaction_stats`), p50/p99/max
  over the frames in which something was applied.

Runs alternate compaction on / off (``RRD_VIEWER_COMPACTION=0`` in the child's
environment), each in a fresh process so RSS is its own::

    QT_QPA_PLATFORM=offscreen .venv/bin/python scripts/bench_live_memory.py \
        --rows 360000 --pairs 1 --json /tmp/live-memory.jsonl   # ~10 min
    ... --rows 40000 --pairs 3              # the A/B distribution, ~1 min per pair
    ... --rows 6000 --rate 100 --pairs 2    # a real 100 Hz stream, 1 min per run
    ... --rows 20000 --sweep-fan-in 0,8,16,32,64 --pairs 2   # store only: CPU per row

Results: docs/benchmarks/live-memory.md.
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

REPO = Path(__file__).resolve().parent.parent
CACHE_DIR = Path(tempfile.gettempdir()) / "rrd-viewer-bench"
ENTITIES = ("sensors/a", "sensors/b", "sensors/c")
GROUP = 4  # messages pushed at once: one of each entity

WRITER = """
import sys
import rerun as rr
n, path, entities = int(sys.argv[1]), sys.argv[2], sys.argv[3].split(",")
rec = rr.RecordingStream(
    "bench_live_memory", recording_id="live-memory",
    batcher_config=rr.ChunkBatcherConfig(flush_tick=10.0, flush_num_bytes=1 << 30,
                                         flush_num_rows=1),
)
rec.save(path)
for i in range(n):
    rec.set_time("sim_time", duration=i * 0.01)  # 100 Hz
    k = i % 4
    if k < 3:
        rec.log(entities[k], rr.Scalars([float(i % 1000) * 0.001 + k]))
    else:
        rec.log("log", rr.TextLog(f"tick {i}: all good", level="INFO"))
rec.flush()
rec.disconnect()
"""


def stream_file(rows: int) -> Path:
    """The rerun-sdk file of ``rows`` one-row chunks (written once, then cached)."""
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    path = CACHE_DIR / f"live_memory_{rows}.rrd"
    if path.exists():
        return path
    home = tempfile.mkdtemp(prefix="bench_live_memory_home_")
    env = dict(os.environ, HOME=home, RERUN_TELEMETRY="0")
    tmp = path.with_suffix(".part")
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", WRITER, str(rows), str(tmp), ",".join(ENTITIES)], env=env, check=True)
    tmp.rename(path)
    print(f"wrote {path} ({path.stat().st_size / 1e6:.0f} MB) in "
          f"{time.perf_counter() - t0:.0f} s", file=sys.stderr)
    return path




# ---------------------------------------------------------------------- one run (child)


def _rss_kb() -> dict[str, int]:
    """VmRSS, RssAnon, RssFile and VmHWM (peak) of this process, in KiB."""
    out: dict[str, int] = {}
    with open("/proc/self/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "RssAnon", "RssFile", "VmHWM"):
                out[key] = int(value.split()[0])
    return out


def run_child(path: Path, rate: float | None = None) -> dict:
    """Feed ``path`` into a hub as a live stream (at full speed, or ``rate`` messages per
    second); measure RSS and merge time per frame."""
    import threading

    import numpy as np
    from PySide6.QtCore import QCoreApplication, QEventLoop, QTimer

    from viewer.ingest import IngestHub, IngestSettings
    from viewer.log.reader import RrdReader
    from viewer.runtime import apply_process_settings

    app = QCoreApplication.instance() or QCoreApplication([])
    apply_process_settings(gui=False)
    hub = IngestHub(IngestSettings())
    hub.start()
    stream = hub.open_stream("bench_live_memory")
    fed = threading.Event()

    def feed() -> None:
        """The gRPC handler's shape (one blocking submit per message), in small groups: the
        next group arrives once the worker has taken the previous one, so messages come in
        as a stream decoded as it goes, not as a full inbox."""
        try:
            inbox = None
            start = time.perf_counter()
            for i, msg in enumerate(RrdReader(path).messages()):
                if rate:
                    time.sleep(max(0.0, start + i / rate - time.perf_counter()))
                stream.submit(msg)
                if inbox is None and hub.state.workers:
                    inbox = hub.state.workers[0].inbox
                if inbox is not None and i % GROUP == GROUP - 1:
                    while len(inbox) >= GROUP and not inbox.closed:
                        time.sleep(0.002)
        finally:
            stream.finish()
            fed.set()

    samples: list[tuple[int, int, int]] = []  # (rows, VmRSS KiB, RssAnon KiB)
    merge_ms: list[float] = []  # per frame that applied something: wall time merging
    merge_cpu_ms: list[float] = []  # ... and the UI thread's CPU time in those merges
    last = {"merge_s": 0.0, "cpu_s": 0.0, "rows_sampled": -10**9}

    def on_frame(_changes: object) -> None:
        dbs = hub.dbs().values()
        merge_s = sum(db.compaction_stats.seconds for db in dbs)
        cpu_s = sum(db.compaction_stats.cpu_seconds for db in dbs)
        merge_ms.append((merge_s - last["merge_s"]) * 1000.0)
        merge_cpu_ms.append((cpu_s - last["cpu_s"]) * 1000.0)
        last["merge_s"], last["cpu_s"] = merge_s, cpu_s
        rows = sum(db.num_rows for db in dbs)
        if rows - last["rows_sampled"] >= 1000:
            last["rows_sampled"] = rows
            rss = _rss_kb()
            samples.append((rows, rss["VmRSS"], rss["RssAnon"]))

    hub.frame_applied.connect(on_frame)
    t0 = time.perf_counter()
    feeder = threading.Thread(target=feed, name="feeder", daemon=True)
    feeder.start()
    loop = QEventLoop()
    check = QTimer()
    check.setInterval(20)
    check.timeout.connect(lambda: fed.is_set() and hub.is_idle() and loop.quit())
    check.start()
    loop.exec()
    check.stop()
    wall = time.perf_counter() - t0
    feeder.join()
    dbs = list(hub.dbs().values())
    rss = _rss_kb()
    samples.append((sum(db.num_rows for db in dbs), rss["VmRSS"], rss["RssAnon"]))
    snap = hub.stats.snapshot()
    rows = np.array([s[0] for s in samples], dtype=float)
    vm = np.array([s[1] for s in samples], dtype=float)
    total_rows = int(rows[-1])
    # growth in steady state: the second half of the stream (the first ~30 000 rows also
    # fill the hub's 10 s statistics windows, allocator arenas and queues), while it
    # streams (the last sample is taken once idle, queues drained)
    steady = rows >= 0.5 * total_rows
    steady[-1] = False
    slope = float(np.polyfit(rows[steady], vm[steady], 1)[0]) if steady.sum() > 2 else 0.0
    ms = np.array(merge_ms) if merge_ms else np.zeros(1)
    cpu_ms = np.array(merge_cpu_ms) if merge_cpu_ms else np.zeros(1)
    stats = [db.compaction_stats for db in dbs]
    longest = max(stats, key=lambda s: s.longest_s) if stats else None
    out = {
        "rows": total_rows,
        "source_chunks": sum(db.num_source_chunks for db in dbs),
        "chunks": sum(db.num_chunks for db in dbs),
        "wall_s": round(wall, 1),
        "peak_rss_mb": round(rss["VmHWM"] / 1024, 1),
        "end_rss_mb": round(rss["VmRSS"] / 1024, 1),
        "end_anon_mb": round(rss["RssAnon"] / 1024, 1),
        "rss_kb_per_1000_rows": round(slope * 1000, 1),  # second half of the stream
        "store_mb": round(sum(db.nbytes for db in dbs) / 1e6, 1),
        "frames": len(merge_ms),
        "merge_ms_p50": round(float(np.percentile(ms, 50)), 3),
        "merge_ms_p99": round(float(np.percentile(ms, 99)), 3),
        "merge_ms_max": round(float(ms.max()), 3),
        "merge_cpu_ms_p50": round(float(np.percentile(cpu_ms, 50)), 3),
        "merge_cpu_ms_p99": round(float(np.percentile(cpu_ms, 99)), 3),
        "merge_cpu_ms_max": round(float(cpu_ms.max()), 3),
        "merges": sum(s.merges for s in stats),
        "merge_s_total": round(sum(s.seconds for s in stats), 2),
        "merge_cpu_s_total": round(sum(s.cpu_seconds for s in stats), 2),
        "longest_merge_ms": round(longest.longest_s * 1000, 2) if longest else 0.0,
        "longest_merge_rows": longest.longest_rows if longest else 0,
        # the hub's own ring buffers: about the last 10 s of the run
        "ui_ingest_ms_p50": round(snap["ui_ingest_ms"]["p50"], 2),
        "ui_ingest_ms_p99": round(snap["ui_ingest_ms"]["p99"], 2),
        "ui_ingest_ms_max": round(snap["ui_ingest_ms"]["max"], 2),
        "frame_interval_ms_p99": round(snap["frame_interval_ms"]["p99"], 1),
        "samples": [[int(r), round(v / 1024, 1)] for r, v, _ in samples[:: max(1, len(samples) // 40)]],
    }
    hub.shutdown()
    del app
    return out


# ---------------------------------------------------------------------- fan-in sweep


def sweep_fan_in(path: Path, fan_ins: list[int], rows: int, rounds: int) -> list[dict]:
    """Store only (no hub): UI-thread CPU per inserted one-row chunk, merges included, for
    each fan-in (0 = compaction off), without a merge budget; rounds alternate the order."""
    import gc

    import numpy as np

    from viewer.log.messages import ArrowMsg, StoreId, StoreKind
    from viewer.log.reader import RrdReader
    from viewer.store.compaction import CompactionPolicy
    from viewer.store.decode import chunk_from_msg
    from viewer.store.entity_db import EntityDb

    msgs = [m for m in RrdReader(path).messages() if isinstance(m, ArrowMsg)][:rows]
    per: dict[int, list[tuple[float, int, int]]] = {}
    for rnd in range(rounds):
        for fan_in in fan_ins if rnd % 2 == 0 else fan_ins[::-1]:
            chunks = [chunk_from_msg(m) for m in msgs]
            gc.collect()
            gc.disable()
            policy = CompactionPolicy(fan_in=fan_in, budget_s=None) if fan_in else False
            db = EntityDb(StoreId(StoreKind.RECORDING, "sweep", "sweep"), compaction=policy)
            t0 = time.thread_time()
            for chunk in chunks:
                db.add_chunk(chunk)
            del chunks  # what the merges left: freed inside the measured window
            dt = time.thread_time() - t0
            gc.enable()
            per.setdefault(fan_in, []).append((dt / len(msgs) * 1e6, db.num_chunks,
                                               db.compaction_stats.merges))
    out = []
    for fan_in in fan_ins:
        runs = per[fan_in]
        us = [round(r[0], 1) for r in runs]
        out.append({"fan_in": fan_in, "us_per_row_runs": us,
                     "us_per_row_median": round(float(np.median(us)), 1),
                     "chunks": runs[0][1], "merges": runs[0][2]})
    return out


# ---------------------------------------------------------------------- A/B (parent)


def run_one(path: Path, compaction: bool, rate: float | None) -> dict:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", RERUN_TELEMETRY="0",
               RRD_VIEWER_COMPACTION="1" if compaction else "0")
    cmd = [sys.executable, __file__, "--child", str(path)]
    if rate:
        cmd += ["--rate", str(rate)]
    proc = subprocess.run(cmd, env=env,
                          capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"child failed:\n{proc.stderr}")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    result["compaction"] = compaction
    return result


COLUMNS = [
    ("compaction", "compaction"), ("rows", "rows"), ("chunks", "chunks held"),
    ("peak_rss_mb", "peak RSS MB"), ("end_rss_mb", "end RSS MB"),
    ("rss_kb_per_1000_rows", "RSS KB / 1000 rows"), ("store_mb", "store buffers MB"),
    ("merge_ms_p50", "merge ms/frame p50"), ("merge_ms_p99", "p99"), ("merge_ms_max", "max"),
    ("merge_cpu_ms_p99", "merge CPU ms/frame p99"), ("merge_cpu_ms_max", "max"),
    ("merges", "merges"), ("merge_s_total", "merge s"), ("merge_cpu_s_total", "merge CPU s"),
    ("wall_s", "wall s"), ("ui_ingest_ms_p99", "UI ingest p99 ms (last 10 s)"),
]


def markdown_rows(results: list[dict]) -> str:
    lines = ["| run | " + " | ".join(title for _, title in COLUMNS) + " |",
             "|---" * (len(COLUMNS) + 1) + "|"]
    for i, r in enumerate(results, 1):
        cells = [str(r.get(k, "")) for k, _ in COLUMNS]
        cells[0] = "on" if r["compaction"] else "off"
        lines.append(f"| {i} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=360_000, help="one-row chunks (100 Hz: 360 000 = 1 h)")
    ap.add_argument("--pairs", type=int, default=1, help="alternating on/off pairs")
    ap.add_argument("--only", choices=("on", "off"), help="runs of one side only")
    ap.add_argument("--rate", type=float, help="messages per second (default: full speed)")
    ap.add_argument("--json", type=Path, help="append every run's result to this JSON lines file")
    ap.add_argument("--sweep-fan-in", metavar="LIST",
                    help="store only: CPU per row for these fan-ins, e.g. 0,8,16,32,64")
    ap.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child is not None:
        print(json.dumps(run_child(args.child, args.rate)))
        return 0
    path = stream_file(args.rows)
    if args.sweep_fan_in:
        fan_ins = [int(x) for x in args.sweep_fan_in.split(",")]
        for row in sweep_fan_in(path, fan_ins, args.rows, max(1, 2 * args.pairs - 1)):
            print(json.dumps(row))
        return 0
    results = []
    sides = [args.only == "on"] if args.only else [True, False]
    for pair in range(args.pairs):
        order = sides if pair % 2 == 0 else sides[::-1]
        for compaction in order:
            r = run_one(path, compaction, args.rate)
            r["rows_requested"] = args.rows
            r["rate"] = args.rate
            results.append(r)
            print(json.dumps({k: v for k, v in r.items() if k != "samples"}), flush=True)
            if args.json:
                with args.json.open("a") as f:
                    f.write(json.dumps(r) + "\n")
    print(markdown_rows(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
