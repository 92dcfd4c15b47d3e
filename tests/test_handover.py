"""One viewer per user: `rrd-viewer FILE` hands its files to the viewer already on the port.

The headless test is the end-to-end one the issue asks for: a running
``rrd-viewer ingest --serve --port P`` receives every row of a file given to a second
``rrd-viewer --port P FILE``, which exits 0 within seconds."""

from __future__ import annotations

import json
import os
import signal
import socket
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from viewer.commands.inspect import inspect_paths
from viewer.handover import HandoverListener, hand_over, port_listening, request_open, socket_path

REPO = Path(__file__).resolve().parent.parent
SCALARS = REPO / "tests" / "data" / "scalars.rrd"
MIXED = REPO / "tests" / "data" / "mixed.rrd"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(condition, timeout_s: float = 10.0) -> bool:  # noqa: ANN001
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


@pytest.fixture
def runtime_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private XDG_RUNTIME_DIR: no hand-over socket of a real viewer is ever seen."""
    run = tmp_path / "run"
    run.mkdir(mode=0o700)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(run))
    return run


def test_nothing_listening_means_open_a_window(runtime_dir: Path) -> None:
    port = free_port()
    assert not port_listening("127.0.0.1", port)
    assert hand_over([str(SCALARS)], "127.0.0.1", port) is None


def test_listener_gets_absolute_paths_and_is_private(runtime_dir: Path, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    got: list[list[str]] = []
    listener = HandoverListener(4321, got.append).start()
    try:
        path = socket_path(4321)
        assert path.parent == runtime_dir
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        with pytest.raises(OSError, match="already listens"):
            HandoverListener(4321, got.append).start()
        # relative paths are made absolute by the sender; folders expand to recordings
        (tmp_path / "folder").mkdir()
        (tmp_path / "folder" / "a.rrd").write_bytes(SCALARS.read_bytes())
        monkeypatch.chdir(tmp_path)
        # the TCP port does not matter when the window's socket answers
        result = hand_over(["folder", str(MIXED)], "127.0.0.1", 4321)
        assert result is not None and result.route == "window" and not result.failed
        assert got == [[str(tmp_path / "folder" / "a.rrd"), str(MIXED)]]
        assert len(result.lines) == 2 and "running viewer" in result.lines[0]
        with pytest.raises(OSError):  # a malformed request is refused, not obeyed
            _send_raw(path, b"{\"paths\": \"x\"}\n")
    finally:
        listener.stop()
    assert not socket_path(4321).exists()


def _send_raw(path: Path, body: bytes) -> None:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(5)
        sock.connect(str(path))
        sock.sendall(body)
        reply = json.loads(sock.makefile("rb").readline())
    if not reply.get("ok"):
        raise OSError(reply["error"])


def test_stale_socket_is_replaced(runtime_dir: Path) -> None:
    stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    stale.bind(str(socket_path(5555)))
    stale.close()  # a crashed viewer's leftover: the file exists, nobody answers
    got: list[list[str]] = []
    listener = HandoverListener(5555, got.append).start()
    try:
        request_open([SCALARS], socket_path(5555))
        assert got == [[str(SCALARS)]]
    finally:
        listener.stop()


def test_headless_server_receives_every_row(runtime_dir: Path, tmp_path: Path) -> None:
    port = free_port()
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", RERUN_TELEMETRY="0")
    server = subprocess.Popen(
        [sys.executable, "-m", "viewer", "ingest", "--serve", "--port", str(port),
         "--idle-exit", "60", "--json"],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert wait_for(lambda: port_listening("127.0.0.1", port), 20), "server never listened"
        t0 = time.monotonic()
        sender = subprocess.run([sys.executable, "-m", "viewer", "--port", str(port), str(SCALARS)],
                                cwd=REPO, env=env, capture_output=True, text=True, timeout=30)
        took = time.monotonic() - t0
        assert sender.returncode == 0, sender.stderr
        assert f"rerun+http://127.0.0.1:{port}/proxy" in sender.stdout
        assert str(SCALARS) in sender.stdout
        assert took < 10, took
        # The sender returns once the server acknowledged the whole stream: stop it now
        # (Ctrl+C) and read what it holds.
        server.send_signal(signal.SIGINT)
        out, err = server.communicate(timeout=30)
    finally:
        if server.poll() is None:
            server.kill()
            server.communicate()
    report = json.loads(out)
    expected = inspect_paths([str(SCALARS)]).report()["stores"]
    got = [s for s in report["stores"] if s["recording_id"] == "fixture-scalars"]
    assert len(got) == 1, report["stores"]
    want = next(s for s in expected if s["recording_id"] == "fixture-scalars")
    assert {p: e["rows"] for p, e in got[0]["entities"].items()} == \
        {p: e["rows"] for p, e in want["entities"].items()}
    assert sum(e["rows"] for e in got[0]["entities"].values()) == 751


def test_new_window_flag_skips_hand_over(runtime_dir: Path, monkeypatch: pytest.MonkeyPatch,
                                         ) -> None:
    """--new-window opens another window even with a viewer on the port."""
    import viewer.ui.app
    from viewer.commands.cli import main

    got: list[list[str]] = []
    listener = HandoverListener(6543, got.append).start()
    opened: list[object] = []
    monkeypatch.setattr(viewer.ui.app, "run_gui", lambda args: opened.append(args) or 0)
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    try:
        assert main(["--port", "6543", "--new-window", str(SCALARS)]) == 0
        assert len(opened) == 1 and not got
        assert main(["--port", "6543", str(SCALARS)]) == 0  # handed over, no window
        assert len(opened) == 1 and got == [[str(SCALARS)]]
    finally:
        listener.stop()


def test_listener_thread_answers_while_callback_posts(runtime_dir: Path) -> None:
    """The reply does not wait for the window to open the file (the callback only posts)."""
    posted = threading.Event()
    listener = HandoverListener(7654, lambda paths: posted.set()).start()
    try:
        t0 = time.perf_counter()
        request_open([SCALARS], socket_path(7654))
        assert posted.is_set()
        assert time.perf_counter() - t0 < 1.0
    finally:
        listener.stop()
