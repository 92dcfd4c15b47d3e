"""Live-stream benchmark: the real rerun-sdk and our own sender into `LiveServer` + `IngestHub`.

For each scenario a client process streams into this process (the viewer side, headless, with
the real ingestion pipeline), and this reports:

- rows/s and MB/s received, over the window from the first to the last applied chunk;
- latency from the client's stamp to the chunk being applied into its EntityDb, p50/p99:
  rerun-sdk stamps each chunk's schema with ``rerun:timestamp_sdk_ipc_encoded`` (after its
  batching), our sender with ``rrd_viewer:timestamp_sender_ns`` (when the chunk is built);
- the receive -> applied latency the pipeline measures itself (`IngestStats.latency_ms`);
- the viewer's CPU share: process CPU time / wall time over the same window (1.0 = one core);
- for the SDK: its own logging time, and the lag from its final flush to everything applied.

Applied times come from the frame driver's ``apply_listener`` hook (UI thread, per applied
item). A merged chunk carries the stamp of its first part (the oldest): a conservative latency. Run from the repository root::

    QT_QPA_PLATFORM=offscreen .venv/bin/python scripts/bench_live.py --web-mode \
        --out docs/benchmarks/live.md        # ~50 s: 4 scenarios x 2 modes x 3 runs
    ... --quick --repeat 1                   # a few seconds: smoke test
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from PySide6.QtCore import QCoreApplication, QEventLoop, QTimer  # noqa: E402

from viewer.ingest import IngestHub, IngestSettings  # noqa: E402
from viewer.ingest.items import ItemKind, ReadyItem  # noqa: E402
from viewer.ingest.stats import IngestStats  # noqa: E402
from viewer.net.demo_stream import SENT_NS_KEY  # noqa: E402
from viewer.net.server import LiveServer  # noqa: E402
from viewer.runtime import apply_process_settings  # noqa: E402

SDK_STAMP_KEY = b"rerun:timestamp_sdk_ipc_encoded"


# ---------------------------------------------------------------------- apply-time probe


@dataclass
class ApplyProbe:
    latencies_ms: list[float] = field(default_factory=list)
    rows: int = 0
    chunks: int = 0
    first_perf: float | None = None
    last_perf: float = 0.0
    last_wall: float = 0.0
    cpu_at_first: float = 0.0

    def reset(self) -> None:
        self.__init__()  # type: ignore[misc]


PROBE = ApplyProbe()


def _stamp_ns(meta: dict[bytes, bytes]) -> int | None:
    raw = meta.get(SDK_STAMP_KEY)
    if raw is not None:  # "seconds.nanoseconds"
        sec, _, frac = raw.decode().partition(".")
        return int(sec) * 1_000_000_000 + int((frac or "0").ljust(9, "0")[:9])
    raw = meta.get(SENT_NS_KEY)
    return int(raw) if raw is not None else None


def _on_applied(_store_id: Any, item: ReadyItem) -> None:
    """`FrameDriver.apply_listener`: called on the UI thread for every applied item."""
    if item.kind is not ItemKind.CHUNK:
        return
    chunk = item.payload
    now_ns = time.time_ns()
    p = PROBE
    if p.first_perf is None:
        p.first_perf = time.perf_counter()
        p.cpu_at_first = time.process_time()
    stamp = _stamp_ns(chunk.batch.schema.metadata or {})
    if stamp is not None and str(chunk.entity_path) != "/__properties":
        p.latencies_ms.append((now_ns - stamp) / 1e6)
    p.rows += chunk.num_rows
    p.chunks += 1
    p.last_perf = time.perf_counter()
    p.last_wall = now_ns / 1e9


# ---------------------------------------------------------------------- clients


def _client_env() -> dict[str, str]:
    home = tempfile.mkdtemp(prefix="bench_live_home_")
    env = dict(os.environ, HOME=home, RERUN_TELEMETRY="0")
    for var in ("XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME"):
        env[var] = os.path.join(home, var.lower())
    return env


SDK_SCALARS = """
import json, sys, time
import rerun as rr
url, n = sys.argv[1], int(sys.argv[2])
rec = rr.RecordingStream("bench_live", recording_id="sdk-scalars")
rec.connect_grpc(url)
t0 = time.perf_counter()
for i in range(n):
    rec.set_time("frame", sequence=i)
    rec.log(f"signals/s{i % 4}", rr.Scalars(float(i)))
rec.flush()
print(json.dumps({"log_s": time.perf_counter() - t0, "t_done": time.time()}))
rec.disconnect()
"""

SDK_IMAGES = """
import json, sys, time
import numpy as np
import rerun as rr
url, n = sys.argv[1], int(sys.argv[2])
pool = [np.random.default_rng(k).integers(0, 256, (480, 640, 3), dtype=np.uint8) for k in range(4)]
rec = rr.RecordingStream("bench_live", recording_id="sdk-images")
rec.connect_grpc(url)
t0 = time.perf_counter()
for i in range(n):
    rec.set_time("frame", sequence=i)
    rec.log("camera", rr.Image(pool[i % 4]))
rec.flush()
print(json.dumps({"log_s": time.perf_counter() - t0, "t_done": time.time()}))
rec.disconnect()
"""


def sdk_client(script: str, n: int) -> Callable[[str], subprocess.Popen]:
    def start(url: str) -> subprocess.Popen:
        return subprocess.Popen(
            [sys.executable, "-c", textwrap.dedent(script), url, str(n)],
            env=_client_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )

    return start


def sender_client(chunks: int, rows: int, rate: float | None) -> Callable[[str], subprocess.Popen]:
    def start(url: str) -> subprocess.Popen:
        address = url.removeprefix("rerun+http://").removesuffix("/proxy")
        cmd = [sys.executable, str(REPO / "scripts" / "stream_demo.py"), "--demo",
               "--address", address, "--chunks", str(chunks), "--rows-per-chunk", str(rows)]
        if rate:
            cmd += ["--rate", str(rate)]
        return subprocess.Popen(cmd, env=_client_env(), stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)

    return start


# ---------------------------------------------------------------------- one scenario


def _wait_for_exit(proc: subprocess.Popen, timeout_s: float) -> None:
    """Run the Qt event loop (the hub's frame driver) until the client process exits."""
    loop = QEventLoop()
    deadline = time.monotonic() + timeout_s
    timer = QTimer()
    timer.setInterval(10)
    timer.timeout.connect(lambda: (proc.poll() is not None or time.monotonic() > deadline)
                          and loop.quit())
    timer.start()
    loop.exec()
    timer.stop()


def run_scenario(name: str, start_client: Callable[[str], subprocess.Popen],
                 settings: IngestSettings, expected_rows: int) -> dict[str, Any]:
    hub = IngestHub(settings)
    hub.stats = IngestStats(window_frames=1 << 15, window_samples=1 << 17)
    hub.frame_driver.apply_listener = _on_applied
    hub.start()
    server = LiveServer(hub, port=0).start()
    PROBE.reset()
    try:
        proc = start_client(server.url)
        _wait_for_exit(proc, 300)
        out, err = proc.communicate(timeout=10)
        if proc.returncode != 0:
            raise RuntimeError(f"{name}: client failed:\n{err}")
        hub.run_until_idle(60)
        cpu_end = time.process_time()
        snap = hub.stats.snapshot()
    finally:
        server.stop()
        hub.shutdown()
    p = PROBE
    window = max(1e-9, p.last_perf - (p.first_perf or p.last_perf))
    lat = np.asarray(p.latencies_ms) if p.latencies_ms else np.zeros(1)
    client = json.loads(out.strip().splitlines()[-1]) if out.strip() else {}
    rows = sum(db.num_rows for db in hub.dbs().values())
    result: dict[str, Any] = {
        "scenario": name,
        "mode": "web" if settings.web_mode else "threaded",
        "messages": server.total_messages,
        "rows": rows,
        "rows_ok": rows == expected_rows,
        "window_s": round(window, 3),
        "rows_per_s": round(p.rows / window),
        "mb_per_s": round(server.total_bytes / 1e6 / window, 1),
        "msgs_per_s": round(server.total_messages / window),
        "latency_p50_ms": round(float(np.percentile(lat, 50)), 2),
        "latency_p99_ms": round(float(np.percentile(lat, 99)), 2),
        "latency_max_ms": round(float(lat.max()), 2),
        "recv_to_applied_p99_ms": round(snap["latency_ms"]["p99"], 2),
        "frame_interval_p99_ms": round(snap["frame_interval_ms"]["p99"], 1),
        "viewer_cpu_share": round((cpu_end - p.cpu_at_first) / window, 2),
    }
    if "log_s" in client:
        result["sdk_log_s"] = round(client["log_s"], 3)
        result["lag_after_sdk_flush_ms"] = round((p.last_wall - client["t_done"]) * 1e3, 1)
    if "seconds" in client:
        result["sender_s"] = client["seconds"]
    return result


# ---------------------------------------------------------------------- report


COLUMNS = [
    ("scenario", "scenario"), ("mode", "mode"), ("rows", "rows"), ("rows_ok", "exact"),
    ("msgs_per_s", "msg/s"), ("rows_per_s", "rows/s"), ("mb_per_s", "MB/s"),
    ("latency_p50_ms", "lat p50 ms"), ("latency_p99_ms", "lat p99 ms"),
    ("p99_runs", "lat p99 of each run"),
    ("recv_to_applied_p99_ms", "recv→applied p99 ms"),
    ("frame_interval_p99_ms", "frame p99 ms"), ("viewer_cpu_share", "viewer CPU"),
    ("sdk_log_s", "SDK log s"), ("window_s", "viewer window s"),
    ("lag_after_sdk_flush_ms", "lag after SDK flush ms"),
]


def median_run(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Per-metric medians over repeated runs of one scenario, plus every run's latency p99."""
    out = dict(runs[0])
    for key, value in runs[0].items():
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            vals = [r[key] for r in runs if key in r]
            out[key] = type(value)(np.median(vals)) if isinstance(value, int) else round(
                float(np.median(vals)), 2)
    out["rows_ok"] = all(r["rows_ok"] for r in runs)
    out["p99_runs"] = " / ".join(f"{r['latency_p99_ms']:.0f}" for r in runs)
    return out


def markdown_table(results: list[dict[str, Any]]) -> str:
    lines = ["| " + " | ".join(h for _, h in COLUMNS) + " |",
             "|" + "---|" * len(COLUMNS)]
    for r in results:
        lines.append("| " + " | ".join(str(r.get(k, "")) for k, _ in COLUMNS) + " |")
    return "\n".join(lines)


def _verdicts(results: list[dict[str, Any]]) -> list[str]:
    out = []
    for r in results:
        name = f"{r['scenario']} ({r['mode']})"
        if "lag_after_sdk_flush_ms" in r:
            keeps_up = r["lag_after_sdk_flush_ms"] <= 100  # negative: applied before flush returned
            out.append(f"- {name}: everything applied {r['lag_after_sdk_flush_ms']} ms after the "
                       f"SDK's final flush -> {'keeps up' if keeps_up else 'does NOT keep up'}; "
                       f"viewer CPU {r['viewer_cpu_share']:.0%} of one core.")
        if r["scenario"].startswith("SDK rr.log Scalars") or "@" in r["scenario"]:
            ok = r["latency_p99_ms"] <= 50
            out.append(f"- {name}: latency p99 {r['latency_p99_ms']} ms -> "
                       f"{'meets' if ok else 'MISSES'} the 50 ms target.")
    return out


def render_markdown(results: list[dict[str, Any]], argv_text: str, load: float) -> str:
    cmd = f"QT_QPA_PLATFORM=offscreen .venv/bin/python scripts/bench_live.py {argv_text}"
    return "\n".join([
        "# Live streams: rerun-sdk and our sender into the viewer",
        "",
        f"Written by `scripts/bench_live.py`. Regenerate with:\n\n```\n{cmd.strip()}\n```",
        "",
        "## Machine",
        "",
        f"- date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; {os.cpu_count()} CPUs, "
        f"{platform.platform()}; CPython {platform.python_version()}",
        f"- load average at start: {load:.2f} (a shared machine: other jobs ran; the client "
        "process and the viewer share the same cores)",
        "",
        "## What is measured",
        "",
        "Each scenario starts a client process that streams into a fresh `LiveServer` + "
        "`IngestHub` in the benchmark process (default settings, headless frame driver).",
        "",
        "- *rows/s, msg/s, MB/s*: applied rows, received messages and received request bytes "
        "over the viewer window (first to last applied chunk).",
        "- *lat*: client stamp -> chunk applied into its EntityDb (frame driver "
        "`apply_listener`). rerun-sdk stamps `rerun:timestamp_sdk_ipc_encoded` after its own "
        "batching (so this is the latency *beyond* the SDK's batching); our sender stamps "
        "`rrd_viewer:timestamp_sender_ns` when it builds the chunk. A merged chunk carries its "
        "first (oldest) part's stamp.",
        "- *recv→applied*: the pipeline's own measurement (`IngestStats.latency_ms`).",
        "- *viewer CPU*: CPU time of the viewer process / wall time over the window (1.0 = one "
        "core).",
        "- *lag after SDK flush*: from the SDK's `flush()` returning to the last chunk applied: "
        "the viewer keeps up when this stays small.",
        "",
        "## Results",
        "",
        "Medians over the runs of each scenario (runs interleaved so a burst of load from other "
        "jobs hits one run, not all); `exact` = every logged row arrived, in every run.",
        "",
        markdown_table(results),
        "",
        "## Against the targets",
        "",
        *_verdicts(results),
        "",
        "## Reading the numbers",
        "",
        "- `SDK rr.log Scalars` is the realistic case: one `rr.log` call per row. The SDK is the "
        "bottleneck (`SDK log s` ≈ `viewer window s`) and the viewer needs a fraction of a core.",
        "- `SDK rr.log Image` logs incompressible 0.9 MB images as fast as it can (~300 MB/s), "
        "faster than one machine moves them through gRPC in Python (100–350 MB/s measured "
        "here, varying with the load): its latency is the queueing of a burst (SDK buffers, "
        "HTTP/2 window, the 64 MB inbox), not steady state.",
        "- `sender 1-row chunks, max rate` saturates the pipeline on purpose (~170 µs of gRPC "
        "CPU per message plus decoding, client on the same 2 cores): its latency is bounded "
        "queueing (inbox depth / drain rate) and nothing is dropped.",
        "- `sender 10-row chunks @1 kHz` is a steady stream below capacity: the latency target "
        "applies there.",
        "",
    ])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--web-mode", action="store_true", help="also run every scenario in web mode")
    ap.add_argument("--quick", action="store_true", help="smaller runs (smoke test)")
    ap.add_argument("--out", default=None, help="write the markdown table to this file")
    ap.add_argument("--repeat", type=int, default=3,
                    help="runs per scenario; the report shows per-metric medians (default 3)")
    ap.add_argument("--only", default=None, help="run only scenarios whose name contains this")
    ap.add_argument("--merge-max-rows", type=int, default=None,
                    help="override IngestSettings.merge_max_rows (0 = no merging)")
    args = ap.parse_args(argv)

    app = QCoreApplication.instance() or QCoreApplication(["bench_live"])
    apply_process_settings(gui=False)  # as `viewer ingest` does, once for all scenarios
    load_at_start = os.getloadavg()[0]
    q = 10 if args.quick else 1
    n_scalars, n_images = 25_000 // q, 60 // q
    small_chunks, paced_chunks = 8_000 // q, 2_000 // q
    scenarios = [
        ("SDK rr.log Scalars, 1 row/call", sdk_client(SDK_SCALARS, n_scalars), n_scalars + 1),
        ("SDK rr.log Image 640x480 RGB", sdk_client(SDK_IMAGES, n_images), n_images + 1),
        ("sender 1-row chunks, max rate", sender_client(small_chunks, 1, None), small_chunks),
        ("sender 10-row chunks @1 kHz", sender_client(paced_chunks, 10, 1000.0), paced_chunks * 10),
    ]
    modes = [False, True] if args.web_mode else [False]
    extra = {} if args.merge_max_rows is None else {"merge_max_rows": args.merge_max_rows}
    runs: dict[tuple[str, bool], list[dict[str, Any]]] = {}
    for _ in range(args.repeat):  # interleaved, so a burst of machine load hits one run only
        for web in modes:
            for name, start, rows in scenarios:
                if args.only and args.only not in name:
                    continue
                r = run_scenario(name, start, IngestSettings(web_mode=web, **extra), rows)
                print(json.dumps(r), flush=True)
                runs.setdefault((name, web), []).append(r)
    results = [median_run(rs) for rs in runs.values()]
    del app
    if args.out:
        argv_text = " ".join(argv if argv is not None else sys.argv[1:])
        Path(args.out).write_text(render_markdown(results, argv_text, load_at_start))
    return 0


if __name__ == "__main__":
    sys.exit(main())
