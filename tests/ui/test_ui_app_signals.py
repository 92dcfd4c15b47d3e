"""SIGTERM and SIGHUP close a real window process like its close button: threads joined,
settings saved, exit 0."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
DATA = ROOT / "tests" / "data"


def _catches(pid: int, sig: int) -> bool:
    """The process has installed a handler for ``sig`` (Linux: SigCgt in /proc)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    line = next((ln for ln in status.splitlines() if ln.startswith("SigCgt:")), "")
    return bool(line) and bool(int(line.split()[1], 16) >> (sig - 1) & 1)


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs Linux /proc")
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP])
def test_signal_shuts_the_window_down_cleanly(tmp_path: Path, sig: int) -> None:
    settings = tmp_path / "settings.ini"
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", HOME=str(tmp_path),
               RERUN_TELEMETRY="0", RRD_VIEWER_SETTINGS=str(settings))
    proc = subprocess.Popen([sys.executable, "-m", "viewer", "--no-serve",
                             str(DATA / "scalars.rrd")], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while not _catches(proc.pid, sig) and proc.poll() is None:
            assert time.monotonic() < deadline, "the window never installed its handler"
            time.sleep(0.05)
        proc.send_signal(sig)
        _out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err
    assert settings.is_file() and "geometry" in settings.read_text()  # settings were saved
