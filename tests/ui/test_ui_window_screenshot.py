"""``viewer FILE --screenshot PNG``: a real rerun-sdk file, a whole-window PNG, exit codes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtGui import QImage

ROOT = Path(__file__).parents[2]
DATA = ROOT / "tests" / "data"


def run_viewer(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", HOME=str(tmp_path), RERUN_TELEMETRY="0",
               XDG_CONFIG_HOME=str(tmp_path / "config"), XDG_CACHE_HOME=str(tmp_path / "cache"),
               XDG_DATA_HOME=str(tmp_path / "data"),
               RRD_VIEWER_SETTINGS=str(tmp_path / "settings.ini"))
    code = "import sys; from viewer.commands.cli import main; sys.exit(main(sys.argv[1:]))"
    return subprocess.run([sys.executable, "-c", code, *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


def _distinct_colors(image: QImage, step: int = 7) -> int:
    colors = set()
    for y in range(0, image.height(), step):
        for x in range(0, image.width(), step):
            colors.add(image.pixel(x, y))
    return len(colors)


def test_ui_window_screenshot_of_real_sdk_file(tmp_path):
    out = tmp_path / "shot.png"
    proc = run_viewer(tmp_path, str(DATA / "mixed.rrd"), "--screenshot", str(out),
                      "--window-size", "1200x760", "--no-serve")
    assert proc.returncode == 0, proc.stderr
    image = QImage(str(out))
    assert not image.isNull()
    assert (image.width(), image.height()) == (1200, 760)
    # Not blank: plots, points, an image and text give many distinct colours.
    assert _distinct_colors(image) > 200


def test_ui_window_screenshot_exits_1_for_unreadable_file(tmp_path):
    bad = tmp_path / "bad.rrd"
    bad.write_bytes(b"RRF0 legacy or junk")
    out = tmp_path / "shot.png"
    proc = run_viewer(tmp_path, str(bad), "--screenshot", str(out), "--window-size", "800x500",
                      "--no-serve")
    assert proc.returncode == 1
    assert "bad.rrd" in proc.stderr
    assert QImage(str(out)).size().toTuple() == (800, 500)  # the window is still shot


def test_ui_window_screenshot_exits_1_for_a_partly_read_file(tmp_path):
    """Like inspect and ingest: what could be read is shown (and shot), the code says 1."""
    data = (DATA / "scalars.rrd").read_bytes()
    cut = tmp_path / "cut.rrd"
    cut.write_bytes(data[: len(data) * 2 // 3])
    out = tmp_path / "shot.png"
    proc = run_viewer(tmp_path, str(cut), "--screenshot", str(out), "--window-size", "800x500",
                      "--no-serve")
    assert proc.returncode == 1, proc.stderr
    assert "cut.rrd" in proc.stderr
    assert QImage(str(out)).size().toTuple() == (800, 500)


@pytest.mark.parametrize("size", ["0x10", "wide"])
def test_ui_window_bad_window_size_is_a_usage_error(tmp_path, size):
    proc = run_viewer(tmp_path, "--screenshot", str(tmp_path / "x.png"), "--window-size", size,
                      "--no-serve")
    assert proc.returncode == 2
    assert "--window-size" in proc.stderr
