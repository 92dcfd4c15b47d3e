#!/usr/bin/env python3
"""Soak test: stream into ``viewer ingest --serve --memory-limit`` for N minutes; RSS must stay
bounded and no message may be lost before it was applied.

The viewer runs as a subprocess (``python -m viewer ingest --serve --port 0 --memory-limit
LIMIT --json --idle-exit 3``). First its idle RSS is sampled (the baseline: interpreter, Qt
core, pyarrow, grpc). Then our sender (`viewer.net.sender.LiveSender`, the same protocol as
``rr.connect_grpc()``) streams generated chunks at a steady rate for ``--minutes``: point
clouds (incompressible float32, so bytes are real), a scalar series, a label logged once at
the start and a static config (whose latest values the memory limit must keep). The
viewer's RSS is sampled every second with psutil.

Fails (exit 1) when:
- RSS ever exceeds ``limit + margin`` (margin default 150 MB: the interpreter and libraries;
  the measured baseline is reported next to it), or
- the rows the viewer *applied* (``stats.rows`` in its JSON, counted before any eviction)
  differ from the rows sent, or it reported errors, or it did not exit cleanly.

    .venv/bin/python scripts/soak.py --minutes 10 --doc docs/benchmarks/soak.md
    .venv/bin/python scripts/soak.py --minutes 0.5 --memory-limit 50MB   # CI-sized
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import psutil
import pyarrow as pa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from viewer.log.arrow import encode_record_batch  # noqa: E402
from viewer.log.messages import LogMsg, SetStoreInfo, StoreId, StoreInfo, StoreKind, Tuid  # noqa: E402
from viewer.net.sender import LiveSender, SendError  # noqa: E402
from viewer.store.memory import format_bytes, parse_memory_limit  # noqa: E402

STORE = StoreId(StoreKind.RECORDING, "soak", "rrd_viewer_soak")
CLOUD_VALUES = 1200  # float32 values per row (400 xyz points)
SPARK = " ▁▂▃▄▅▆▇█"


class Feed:
    """Generated messages for ``seconds`` at ``rate`` messages/s, counting rows as it goes."""

    def __init__(self, seconds: float, rate: float, rows_per_chunk: int, clouds: int) -> None:
        self.seconds = seconds
        self.rate = rate
        self.rows_per_chunk = rows_per_chunk
        self.clouds = clouds
        self.rows = 0
        self.messages = 0
        self.bytes = 0
        self._rng = np.random.default_rng(42)
        self._index = 1

    def _batch(self, entity: str, frames: np.ndarray | None, name: str,
               values: pa.Array) -> pa.RecordBatch:
        n = len(values)
        rids = [Tuid(self._index, r).to_bytes() for r in range(n)]
        fields = [pa.field("rerun.controls.RowId", pa.binary(16),
                           metadata={"rerun:kind": "control"})]
        arrays: list[pa.Array] = [pa.array(rids, type=pa.binary(16))]
        if frames is not None:
            fields.append(pa.field("frame", pa.int64(), metadata={
                "rerun:kind": "index", "rerun:index_name": "frame"}))
            arrays.append(pa.array(frames, type=pa.int64()))
        fields.append(pa.field(name, values.type, metadata={"rerun:kind": "data"}))
        arrays.append(values)
        meta = {"rerun:entity_path": entity,
                "rerun:id": "chunk_" + str(Tuid(self._index, 1 << 40))}
        self._index += 1
        return pa.RecordBatch.from_arrays(arrays, schema=pa.schema(fields, metadata=meta))

    def _count(self, batch: pa.RecordBatch) -> LogMsg:
        msg = encode_record_batch(batch, STORE)
        self.rows += batch.num_rows
        self.messages += 1
        self.bytes += msg.payload_size
        return msg

    def __iter__(self) -> Iterator[LogMsg]:
        self.messages += 1
        yield SetStoreInfo(StoreInfo(STORE))
        label = pa.array([["logged once, at the start"]], type=pa.list_(pa.string()))
        yield self._count(self._batch("/soak/label", np.array([0]), "Text:text", label))
        config = pa.array([[1.0, 2.0, 3.0]], type=pa.list_(pa.float64()))
        yield self._count(self._batch("/soak/config", None, "Config:values", config))
        n = self.rows_per_chunk
        deadline = time.monotonic() + self.seconds
        frame = 1
        while time.monotonic() < deadline:
            frames = np.arange(frame, frame + n, dtype=np.int64)
            for c in range(self.clouds):
                flat = self._rng.standard_normal(n * CLOUD_VALUES).astype(np.float32)
                offsets = pa.array(np.arange(0, len(flat) + 1, CLOUD_VALUES, dtype=np.int32))
                cloud = pa.ListArray.from_arrays(offsets, pa.array(flat))
                yield self._count(self._batch(f"/soak/cloud{c}", frames,
                                              "Points:positions", cloud))
            scalars = pa.array(np.sin(frames / 100.0)[:, None].tolist(),
                               type=pa.list_(pa.float64()))
            yield self._count(self._batch("/soak/scalar", frames, "Scalars:scalars", scalars))
            frame += n


class RssSampler(threading.Thread):
    def __init__(self, pid: int, period_s: float = 1.0) -> None:
        super().__init__(name="rss-sampler", daemon=True)
        self.proc = psutil.Process(pid)
        self.period_s = period_s
        self.samples: list[tuple[float, int]] = []
        self.t0 = time.monotonic()
        self._halt = threading.Event()

    def run(self) -> None:
        while not self._halt.is_set():
            try:
                self.samples.append((time.monotonic() - self.t0, self.proc.memory_info().rss))
            except psutil.Error:
                return
            self._halt.wait(self.period_s)

    def stop(self) -> None:
        self._halt.set()
        self.join(5)


def sparkline(values: list[int], width: int = 60) -> str:
    if not values:
        return ""
    step = max(1, len(values) // width)
    pts = [max(values[i:i + step]) for i in range(0, len(values), step)]
    lo, hi = min(pts), max(pts)
    span = max(1, hi - lo)
    return "".join(SPARK[1 + (len(SPARK) - 2) * (v - lo) // span] for v in pts)


def start_viewer(limit_text: str, idle_exit: float) -> tuple[subprocess.Popen[str], str]:
    home = tempfile.mkdtemp(prefix="soak_home_")
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", RERUN_TELEMETRY="0", HOME=home,
               XDG_CONFIG_HOME=home, XDG_DATA_HOME=home, XDG_CACHE_HOME=home,
               PYTHONPATH=str(ROOT))
    proc = subprocess.Popen(
        [sys.executable, "-m", "viewer", "ingest", "--serve", "--port", "0",
         "--memory-limit", limit_text, "--json", "--idle-exit", str(idle_exit)],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stderr is not None
    line = proc.stderr.readline()
    if "listening" not in line:
        proc.kill()
        out, err = proc.communicate()
        raise RuntimeError(f"viewer did not start: {line}{err}")
    address = line.rsplit(" ", 1)[-1].strip()
    return proc, address.removeprefix("rerun+http://").removesuffix("/proxy")


def run(args: argparse.Namespace) -> dict:
    limit = parse_memory_limit(args.memory_limit)
    if limit is None:
        raise SystemExit("soak: --memory-limit must be a finite limit")
    proc, address = start_viewer(args.memory_limit, args.idle_exit)
    sampler = RssSampler(proc.pid)
    sampler.start()
    try:
        time.sleep(args.baseline_s)
        baseline = max(rss for _, rss in sampler.samples) if sampler.samples else 0
        t_stream = time.monotonic() - sampler.t0
        feed = Feed(args.minutes * 60.0, args.rate, args.rows_per_chunk, args.clouds)
        with LiveSender(address) as sender:
            stats = sender.send(feed, rate_hz=args.rate)
        out, err = proc.communicate(timeout=args.idle_exit + 120)
    except (SendError, subprocess.TimeoutExpired):
        proc.kill()
        proc.communicate()
        raise
    finally:
        sampler.stop()
    report = json.loads(out) if proc.returncode == 0 and out.strip() else None
    rss = [r for _, r in sampler.samples]
    streaming = [r for t, r in sampler.samples if t >= t_stream]
    half = streaming[len(streaming) // 2:]
    applied_rows = report["stats"]["rows"] if report else None
    result = {
        "minutes": args.minutes,
        "limit_bytes": limit,
        "margin_bytes": args.margin_mb * 1_000_000,
        "baseline_rss_bytes": baseline,
        "peak_rss_bytes": max(rss) if rss else 0,
        "final_rss_bytes": rss[-1] if rss else 0,
        "second_half_growth_bytes": (max(half) - min(half)) if half else 0,
        "second_half_slope_mb_per_min": _slope_mb_per_min(
            [(t, r) for t, r in sampler.samples if t >= t_stream][len(streaming) // 2:]),
        "sent_messages": stats.messages,
        "sent_bytes": stats.bytes,
        "sent_rows": feed.rows,
        "applied_rows": applied_rows,
        "applied_messages": report["stats"]["messages"] if report else None,
        "memory": report["stats"].get("memory") if report else None,
        "errors": report["errors"] if report else [f"viewer exit {proc.returncode}: {err[-500:]}"],
        "rss_samples_mb": [round(r / 1e6, 1) for r in rss],
        "stderr_tail": err[-300:],
    }
    problems = []
    if result["peak_rss_bytes"] > limit + result["margin_bytes"]:
        problems.append(f"peak RSS {format_bytes(result['peak_rss_bytes'])} > limit "
                        f"{format_bytes(limit)} + margin {args.margin_mb} MB")
    if applied_rows != feed.rows:
        problems.append(f"rows applied {applied_rows} != rows sent {feed.rows}")
    if result["errors"]:
        problems.append(f"viewer reported errors: {result['errors'][:3]}")
    result["problems"] = problems
    return result


def _slope_mb_per_min(points: list[tuple[float, int]]) -> float:
    if len(points) < 3:
        return 0.0
    t = np.array([p[0] for p in points])
    r = np.array([p[1] for p in points], dtype=np.float64) / 1e6
    return float(np.polyfit(t, r, 1)[0] * 60.0)


def write_doc(path: Path, r: dict, args: argparse.Namespace) -> None:
    mb = 1e6
    mem = r["memory"] or {}
    lines = [
        "# Soak: live streaming under a memory limit",
        "",
        f"`scripts/soak.py --minutes {args.minutes:g} --memory-limit {args.memory_limit} "
        f"--rate {args.rate:g}` on the 2-core dev machine: our sender streams for "
        f"{args.minutes:g} min into `viewer ingest --serve` (threaded mode) and the viewer's RSS "
        "is sampled every second.",
        "",
        "| | |",
        "|---|---|",
        f"| memory limit | {r['limit_bytes'] / mb:.0f} MB |",
        f"| baseline RSS (idle viewer: interpreter, Qt core, pyarrow, grpc) | "
        f"{r['baseline_rss_bytes'] / mb:.0f} MB |",
        f"| allowed peak (limit + {args.margin_mb} MB margin) | "
        f"{(r['limit_bytes'] + r['margin_bytes']) / mb:.0f} MB |",
        f"| peak RSS | {r['peak_rss_bytes'] / mb:.0f} MB (baseline + limit + "
        f"{(r['peak_rss_bytes'] - r['baseline_rss_bytes'] - r['limit_bytes']) / mb:.0f} MB) |",
        f"| final RSS | {r['final_rss_bytes'] / mb:.0f} MB |",
        f"| RSS range over the second half | {r['second_half_growth_bytes'] / mb:.1f} MB "
        f"(slope {r['second_half_slope_mb_per_min']:+.2f} MB/min) |",
        f"| sent | {r['sent_messages']} messages, {r['sent_rows']} rows, "
        f"{r['sent_bytes'] / mb:.0f} MB |",
        f"| applied (before eviction) | {r['applied_messages']} messages, "
        f"{r['applied_rows']} rows |",
        f"| evicted | {mem.get('dropped_chunks_total', 0)} chunks, "
        f"{mem.get('dropped_bytes_total', 0) / mb:.0f} MB |",
        f"| store at the end | {mem.get('store_bytes', 0) / mb:.1f} MB |",
        f"| result | {'PASS' if not r['problems'] else 'FAIL: ' + '; '.join(r['problems'])} |",
        "",
        "The limit counts Arrow buffers plus 8 KiB per chunk (`CHUNK_OVERHEAD_BYTES`) for "
        "stores and queues; eviction starts at the limit and frees down to 90 % of it, so "
        "the store saw-tooths just under the limit while RSS stays flat (freed memory is "
        "reused). See memory-limit.md for files larger than the limit.",
        "",
        "RSS over time (one character per "
        f"{max(1, len(r['rss_samples_mb']) // 60)} s, min {min(r['rss_samples_mb'], default=0):.0f}"
        f" MB to max {max(r['rss_samples_mb'], default=0):.0f} MB):",
        "",
        "```",
        sparkline([int(v * 10) for v in r["rss_samples_mb"]]),
        "```",
        "",
        "Reproduce: `.venv/bin/python scripts/soak.py --minutes 10 --doc "
        "docs/benchmarks/soak.md`. CI runs a 30 s version (`tests/net/test_net_soak.py`).",
        "",
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines))


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--minutes", type=float, default=10.0, help="streaming time (default 10)")
    p.add_argument("--memory-limit", default="200MB", help="the viewer's --memory-limit")
    p.add_argument("--rate", type=float, default=40.0, metavar="HZ",
                   help="messages per second (default 40: ~3.5 MB/s)")
    p.add_argument("--rows-per-chunk", type=int, default=20)
    p.add_argument("--clouds", type=int, default=3, help="point-cloud entities")
    p.add_argument("--margin-mb", type=int, default=150,
                   help="RSS allowed above the limit for interpreter and libraries")
    p.add_argument("--idle-exit", type=float, default=3.0)
    p.add_argument("--baseline-s", type=float, default=2.0,
                   help="seconds of idle RSS sampling before streaming")
    p.add_argument("--doc", type=Path, default=None, help="write the Markdown summary here")
    p.add_argument("--json", action="store_true", help="print the full result as JSON")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        parse_memory_limit(args.memory_limit)
    except ValueError as exc:
        print(f"soak: {exc}", file=sys.stderr)
        return 2
    try:
        result = run(args)
    except (SendError, RuntimeError, subprocess.TimeoutExpired) as exc:
        print(f"soak: {exc}", file=sys.stderr)
        return 1
    if args.doc is not None:
        write_doc(args.doc, result, args)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        mb = 1e6
        print(f"baseline {result['baseline_rss_bytes'] / mb:.0f} MB, peak "
              f"{result['peak_rss_bytes'] / mb:.0f} MB, final {result['final_rss_bytes'] / mb:.0f}"
              f" MB (limit {result['limit_bytes'] / mb:.0f} MB + margin {args.margin_mb} MB); "
              f"rows sent {result['sent_rows']}, applied {result['applied_rows']}; "
              f"evicted {(result['memory'] or {}).get('dropped_chunks_total', 0)} chunks")
        print(sparkline([int(v * 10) for v in result["rss_samples_mb"]]))
    for problem in result["problems"]:
        print(f"soak: FAIL: {problem}", file=sys.stderr)
    return 1 if result["problems"] else 0


if __name__ == "__main__":
    sys.exit(main())
