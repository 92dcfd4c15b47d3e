"""Fixtures for the live-stream tests: a hub in each mode, a server on a free port, and a
runner for rerun-sdk scripts in subprocesses (isolated HOME, no telemetry)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from net_helpers import SDK_PRELUDE  # noqa: E402

from viewer.ingest import IngestHub, IngestSettings  # noqa: E402
from viewer.net.server import LiveServer  # noqa: E402


@pytest.fixture(params=[False, True], ids=["threaded", "web"])
def hub(request, qtbot) -> Iterator[IngestHub]:
    h = IngestHub(IngestSettings(web_mode=request.param))
    h.start()
    yield h
    h.shutdown()


@pytest.fixture
def server(hub: IngestHub) -> Iterator[LiveServer]:
    srv = LiveServer(hub, port=0).start()
    yield srv
    srv.stop(grace=0.5)
    hub.shutdown()  # unblock any handler still waiting on a full inbox


@pytest.fixture
def sdk_env(tmp_path: Path) -> dict[str, str]:
    home = tmp_path / "home"
    env = dict(os.environ, HOME=str(home), RERUN_TELEMETRY="0")
    for var in ("XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME"):
        env[var] = str(home / var.lower())
    return env


@pytest.fixture
def start_sdk(sdk_env: dict[str, str]) -> Iterator[Callable[..., subprocess.Popen]]:
    """Start ``script`` (after `SDK_PRELUDE`) with the server URL as argv[1], then ``args``."""
    procs: list[subprocess.Popen] = []

    def start(script: str, url: str, *args: str) -> subprocess.Popen:
        code = SDK_PRELUDE + textwrap.dedent(script)
        proc = subprocess.Popen(
            [sys.executable, "-c", code, url, *args],
            env=sdk_env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        procs.append(proc)
        return proc

    yield start
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
        proc.communicate(timeout=10)
