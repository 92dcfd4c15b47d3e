"""Helpers shared by the live-stream tests (imported by conftest and the test modules)."""

from __future__ import annotations

import subprocess

import pytest


def _sdk_available() -> bool:
    try:
        import rerun  # noqa: F401
    except ImportError:
        return False
    return True


SDK_AVAILABLE = _sdk_available()
needs_sdk = pytest.mark.skipif(not SDK_AVAILABLE, reason="rerun-sdk is not importable")

SDK_PRELUDE = """
import hashlib, sys, time
import numpy as np
import rerun as rr
import rerun.blueprint as rrb
URL = sys.argv[1]
"""


def wait_process(qtbot, proc: subprocess.Popen, timeout_s: float = 30.0) -> str:
    """Let the hub run while ``proc`` works; fail with its stderr when it fails."""
    qtbot.waitUntil(lambda: proc.poll() is not None, timeout=int(timeout_s * 1000))
    out, err = proc.communicate(timeout=5)
    assert proc.returncode == 0, f"SDK script failed ({proc.returncode}):\n{err}"
    return out
