"""What a hostile or broken sender can cost the viewer: peak memory and latency figures.

Usage: .venv/bin/python scripts/bench_attacks.py [--out docs/robustness.md] [--repo DIR]

Runs ``viewer ingest --serve`` (from ``--repo``, default this checkout, so an older commit
checked out elsewhere gives the "before" column) as a subprocess and attacks it over
127.0.0.1 only:

- claims: N streams each send 3 LZ4 chunks of 2 MiB random bytes claiming 510 MiB once
  decompressed, under ``--memory-limit 300MB``; the server's peak RSS is sampled every
  10 ms. An honest load of the same bytes (real chunks) is the baseline.
- idle streams: 70 calls open and send nothing; then a real rerun-sdk client logs 50 rows;
  the time until its rows are all received.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from viewer.log.messages import (  # noqa: E402
    ArrowMsg,
    Compression,
    SetStoreInfo,
    StoreId,
    StoreInfo,
    StoreKind,
)
from viewer.net.sender import LiveSender, SendError  # noqa: E402

CLAIM = 510 * 1024 * 1024


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """``viewer ingest --serve`` in a subprocess, with its peak RSS sampled."""

    def __init__(self, repo: Path, *extra: str) -> None:
        self.port = _free_port()
        env = dict(os.environ, QT_QPA_PLATFORM="offscreen", RERUN_TELEMETRY="0")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "viewer", "ingest", "--serve", "--port", str(self.port),
             "--idle-exit", "3", *extra], cwd=repo, env=env,
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        self.peak = 0
        self._stop = threading.Event()
        self._sampler = threading.Thread(target=self._sample, daemon=True)
        line = self.proc.stderr.readline()  # "listening for rerun-sdk streams on ..."
        if "listening" not in line:
            raise RuntimeError(f"server did not start: {line}")
        self._sampler.start()

    def _sample(self) -> None:
        ps = psutil.Process(self.proc.pid)
        while not self._stop.is_set():
            try:
                self.peak = max(self.peak, ps.memory_info().rss)
            except psutil.Error:
                return
            time.sleep(0.01)

    def finish(self) -> None:
        try:
            self.proc.wait(60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self._stop.set()
        self._sampler.join()


def claims(repo: Path, streams: int, honest: bool) -> float:
    """Peak RSS (MB) of the server while ``streams`` senders each send three chunks."""
    server = Server(repo, "--memory-limit", "300MB")

    def send(k: int) -> None:
        sid = StoreId(StoreKind.RECORDING, f"attack-{k}", "attack")
        if honest:
            payload = os.urandom(2 << 20)
            msgs = [SetStoreInfo(StoreInfo(sid))] + [
                ArrowMsg(sid, Compression.NONE, len(payload), payload) for _ in range(3)]
        else:
            msgs = [SetStoreInfo(StoreInfo(sid))] + [
                ArrowMsg(sid, Compression.LZ4, CLAIM, os.urandom(2 << 20)) for _ in range(3)]
        try:
            with LiveSender(f"127.0.0.1:{server.port}") as sender:
                sender.send(msgs)
        except SendError:
            pass  # the server may refuse the stream: what it allocated is what counts

    threads = [threading.Thread(target=send, args=(k,)) for k in range(streams)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    server.finish()
    return server.peak / 1e6


SDK_CLIENT = """
import sys
import rerun as rr
rec = rr.RecordingStream("attack", recording_id="real")
rec.connect_grpc(sys.argv[1])
for i in range(50):
    rec.set_time("frame", sequence=i)
    rec.log("value", rr.Scalars(float(i)))
rec.flush()
rec.disconnect()
"""


def idle_then_client(repo: Path, idle: int = 70) -> float:
    """Seconds a real SDK client takes to deliver 50 rows while ``idle`` streams idle."""
    import grpc

    server = Server(repo)
    release = threading.Event()
    channel = grpc.insecure_channel(f"127.0.0.1:{server.port}")
    stub = channel.stream_unary("/rerun.sdk_comms.v1alpha1.MessageProxyService/WriteMessages",
                                request_serializer=lambda b: b,
                                response_deserializer=lambda b: b)

    def nothing():  # noqa: ANN202
        release.wait(120)
        return
        yield

    def call() -> None:
        with contextlib.suppress(grpc.RpcError):
            stub(nothing())

    threads = [threading.Thread(target=call, daemon=True) for _ in range(idle)]
    for t in threads:
        t.start()
    time.sleep(1.0)  # let them all connect
    home = tempfile.mkdtemp(prefix="attack_home_")
    env = dict(os.environ, HOME=home, RERUN_TELEMETRY="0")
    t0 = time.monotonic()
    subprocess.run([sys.executable, "-c", SDK_CLIENT,
                    f"rerun+http://127.0.0.1:{server.port}/proxy"], env=env, check=True,
                   timeout=300, capture_output=True)
    took = time.monotonic() - t0
    release.set()
    channel.close()
    server.proc.terminate()
    server.finish()
    return took


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repo", type=Path, default=ROOT, help="checkout whose viewer is attacked")
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    rows = []
    for label, streams, honest in (("honest, 1 stream", 1, True), ("claims, 1 stream", 1, False),
                                   ("claims, 4 streams", 4, False),
                                   ("claims, 8 streams", 8, False)):
        peaks = sorted(claims(args.repo, streams, honest) for _ in range(args.runs))
        rows.append((label, peaks))
        print(f"{label}: peak RSS MB {[round(p) for p in peaks]}", flush=True)
    took = sorted(idle_then_client(args.repo) for _ in range(args.runs))
    print(f"70 idle streams, then an SDK client: seconds {[round(t, 1) for t in took]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
