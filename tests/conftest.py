"""Shared fixtures: offscreen Qt, isolated HOME for rerun-sdk, and a QThread leak check."""

from __future__ import annotations

import gc
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("RERUN_TELEMETRY", "0")

DATA_DIR = Path(__file__).parent / "data"


@pytest.fixture
def data_dir() -> Path:
    return DATA_DIR


@pytest.fixture(scope="session")
def rerun_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """rerun-sdk writes config under $HOME: point HOME and XDG_* at a temp folder and turn
    telemetry off while a test uses it."""
    home = tmp_path_factory.mktemp("rerun_home")
    keys = ("HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME", "RERUN_TELEMETRY")
    saved = {k: os.environ.get(k) for k in keys}
    for k in keys[:-1]:
        os.environ[k] = str(home)
    os.environ["RERUN_TELEMETRY"] = "0"
    yield home
    for k, v in saved.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


def write_small_chunks(path: Path) -> None:
    """A rerun-sdk recording of many small chunks: 900 `send_columns` slices of 40 rows,
    three entities taking turns, and a text log now and then (what the decode helper's
    runs are made of)."""
    import numpy as np
    import rerun as rr

    rec = rr.RecordingStream("small_chunks", recording_id="many")
    rec.save(str(path))
    for start in range(0, 300 * 40, 40):
        frames = np.arange(start, start + 40, dtype=np.int64)
        for entity in ("a", "b", "c"):
            rec.send_columns(entity, indexes=[rr.TimeColumn("frame", sequence=frames)],
                             columns=rr.Scalars.columns(scalars=np.cos(frames * 0.02)))
        if start % 4000 == 0:
            rec.log("notes", rr.TextLog(f"at {start}"))
    rec.flush()
    rec.disconnect()


@pytest.fixture(scope="session")
def small_chunks_rrd(rerun_home: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("small_chunks") / "small_chunks.rrd"
    write_small_chunks(path)
    return path


@pytest.fixture(autouse=True)
def _no_leaked_threads(request):
    """Fail any test that leaves a QThread (or a non-daemon Python thread) running."""
    before = {t.ident for t in threading.enumerate()}
    yield
    if "/ui/" in str(request.node.fspath):
        # Widgets a test dropped may sit in reference cycles; collect them here, on the GUI
        # thread, before a later test's background thread can trigger a collection.
        gc.collect()
    try:
        from viewer.ingest.thread_registry import running_threads
    except ImportError:  # ingest layer not importable (e.g. no Qt): Python threads only
        running_threads = list
    leaked_qt = [t for t in running_threads() if t.isRunning()] if running_threads is not list else []
    leaked_py = [
        t
        for t in threading.enumerate()
        if t.ident not in before and t.is_alive() and not t.daemon and not t.name.startswith(("grpc", "ThreadPoolExecutor"))
    ]
    assert not leaked_qt, f"test left QThreads running: {leaked_qt}"
    helpers = _decode_helpers()
    assert not helpers, f"test left decode helper processes (running or unreaped): {helpers}"
    assert not leaked_py, f"test left threads running: {[t.name for t in leaked_py]}"


def _decode_helpers() -> list[int]:
    """Child processes of this one that run the decode helper, zombies included (a helper
    nobody reaped is a leak too). The spare an entry point may start is not a test's."""
    import psutil

    from viewer.log import helper_launch

    helper_launch.discard_spare()
    found = []
    for child in psutil.Process().children():
        try:
            if "viewer.log.decode_helper" in " ".join(child.cmdline()) or (
                    child.status() == psutil.STATUS_ZOMBIE):
                found.append(child.pid)
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return found
