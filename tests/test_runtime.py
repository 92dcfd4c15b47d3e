"""`viewer.runtime.apply_process_settings` really changes the process: each case runs in a
fresh interpreter, since the settings are process-wide and must not leak into the suite."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

PROBE = """
import gc, json, sys
import numpy as np, pyarrow as pa
from viewer.runtime import apply_process_settings
before = {"pool": pa.default_memory_pool().backend_name, "frozen": gc.get_freeze_count()}
apply_process_settings(gui=sys.argv[1] == "gui")
setter = np._core.multiarray._set_madvise_hugepage
huge = setter(True)  # returns the setting it replaces
after = {"pool": pa.default_memory_pool().backend_name, "frozen": gc.get_freeze_count(),
         "huge_pages": bool(huge), "qt": any(m.startswith("PySide6") for m in sys.modules)}
print(json.dumps({"before": before, "after": after}))
"""


def _probe(mode: str, **env: str) -> dict:
    environ = {k: v for k, v in os.environ.items() if k != "ARROW_DEFAULT_MEMORY_POOL"}
    out = subprocess.run([sys.executable, "-c", PROBE, mode], cwd=ROOT, check=True,
                         capture_output=True, text=True, env={**environ, **env}).stdout
    return json.loads(out)


def test_gui_settings_switch_allocator_freeze_objects_and_small_pages() -> None:
    r = _probe("gui")
    assert r["before"]["pool"] != "system"  # pyarrow's bundled allocator by default
    assert r["before"]["frozen"] == 0
    assert r["after"]["pool"] == "system"
    assert r["after"]["frozen"] > 1000  # numpy and pyarrow alone track thousands of objects
    assert r["after"]["huge_pages"] is False
    assert r["after"]["qt"] is False


def test_headless_settings_keep_huge_pages_and_respect_the_arrow_pool_variable() -> None:
    r = _probe("ingest", ARROW_DEFAULT_MEMORY_POOL="mimalloc")
    assert r["after"]["pool"] == "mimalloc"
    assert r["after"]["frozen"] > 1000
    assert r["after"]["huge_pages"] is True


ENTRY = """
import gc, json, sys
import pyarrow as pa
import viewer.runtime as runtime
calls = []
real = runtime.apply_process_settings
runtime.apply_process_settings = lambda **kw: (calls.append(kw), real(**kw))[1]
from viewer.commands.cli import main
code = main(sys.argv[1:])
print(json.dumps({"code": code, "calls": calls, "pool": pa.default_memory_pool().backend_name,
                  "frozen": gc.get_freeze_count()}), file=sys.stderr)
"""


def _entry(tmp_path: Path, *args: str) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "ARROW_DEFAULT_MEMORY_POOL"}
    env.update(QT_QPA_PLATFORM="offscreen", RRD_VIEWER_SETTINGS=str(tmp_path / "s.ini"),
               HOME=str(tmp_path), XDG_RUNTIME_DIR=str(tmp_path))
    done = subprocess.run([sys.executable, "-c", ENTRY, *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    return json.loads(done.stderr.strip().splitlines()[-1])


def test_viewer_ingest_applies_the_headless_settings_once(tmp_path) -> None:
    r = _entry(tmp_path, "ingest", "--json", str(ROOT / "tests/data/scalars.rrd"))
    assert r["code"] == 0
    assert r["calls"] == [{"gui": False}]
    assert r["pool"] == "system" and r["frozen"] > 1000


def test_the_window_applies_the_gui_settings_once(tmp_path) -> None:
    r = _entry(tmp_path, "--no-serve", "--screenshot", str(tmp_path / "shot.png"),
               str(ROOT / "tests/data/scalars.rrd"))
    assert r["code"] == 0
    assert r["calls"] == [{"gui": True}]
    assert r["pool"] == "system" and r["frozen"] > 1000
