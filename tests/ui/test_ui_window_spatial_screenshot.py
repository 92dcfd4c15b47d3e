"""`--screenshot` pixels of spatial views: a red 2D box drawn where it lies on its image, and
two 3D boxes of known colours where the view's camera puts them (real rerun-sdk file)."""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pytest
from PySide6.QtGui import QImage
from test_ui_window_screenshot import run_viewer

from viewer.ui.views.spatial.orbit_camera import OrbitCamera

_WRITE = r"""
import sys
import numpy as np
import rerun as rr
rec = rr.RecordingStream("shot_pixels", recording_id="boxes")
rec.save(sys.argv[1])
rec.log("world", rr.ViewCoordinates.RIGHT_HAND_Z_UP, static=True)
rec.log("world/green", rr.Boxes3D(half_sizes=[[1, 1, 1]], colors=[0, 255, 0], fill_mode="solid"),
        static=True)
rec.log("world/blue", rr.Boxes3D(centers=[[4, 0, 0]], half_sizes=[[1, 1, 1]], colors=[0, 0, 255],
                                 fill_mode="solid"), static=True)
rec.log("cam/image", rr.Image(np.zeros((100, 200, 3), np.uint8)), static=True)
rec.log("cam/box", rr.Boxes2D(mins=[[120, 20]], sizes=[[60, 60]], colors=[255, 0, 0], radii=1.5),
        static=True)
rec.flush()
"""


@pytest.fixture(scope="module")
def shot(tmp_path_factory: pytest.TempPathFactory) -> np.ndarray:
    tmp = tmp_path_factory.mktemp("shot_pixels")
    rrd = tmp / "boxes.rrd"
    env = {"HOME": str(tmp), "XDG_CONFIG_HOME": str(tmp), "XDG_DATA_HOME": str(tmp),
           "XDG_CACHE_HOME": str(tmp), "RERUN_TELEMETRY": "0", "PATH": "/usr/bin:/bin"}
    subprocess.run([sys.executable, "-c", _WRITE, str(rrd)], check=True, env=env, timeout=120)
    out = tmp / "shot.png"
    proc = run_viewer(tmp, str(rrd), "--screenshot", str(out), "--window-size", "1400x800",
                      "--no-serve")
    assert proc.returncode == 0, proc.stderr
    image = QImage(str(out)).convertToFormat(QImage.Format.Format_RGB888)
    w, h = image.width(), image.height()
    arr = np.frombuffer(bytes(image.constBits()), np.uint8).reshape(h, image.bytesPerLine())
    return arr[:, : w * 3].reshape(h, w, 3).astype(int)


def _box(mask: np.ndarray) -> tuple[int, int, int, int]:
    ys, xs = np.nonzero(mask)
    assert len(xs), "nothing of that colour in the screenshot"
    return int(xs.min()), int(ys.min()), int(xs.max()), int(ys.max())


def test_2d_box_on_its_image(shot: np.ndarray) -> None:
    r, g, b = shot[..., 0], shot[..., 1], shot[..., 2]
    x0, y0, x1, y1 = _box((r == 0) & (g == 0) & (b == 0))  # the black 200 x 100 image
    sx, sy = (x1 - x0 + 1) / 200, (y1 - y0 + 1) / 100
    assert sx == pytest.approx(sy, rel=0.03)  # aspect kept
    red = (r > 180) & (g < 80) & (b < 80)
    rx0, ry0, rx1, ry1 = _box(red)
    tol = 4 + 2 * sx  # the outline's width and antialiasing
    assert abs(rx0 - (x0 + 120 * sx)) <= tol and abs(rx1 - (x0 + 180 * sx)) <= tol
    assert abs(ry0 - (y0 + 20 * sy)) <= tol and abs(ry1 - (y0 + 80 * sy)) <= tol
    # an outline: the box's middle is the image's black
    cy, cx = int(y0 + 50 * sy), int(x0 + 150 * sx)
    assert not red[cy, cx] and shot[cy, cx].sum() == 0


def test_3d_boxes_where_the_camera_puts_them(shot: np.ndarray) -> None:
    r, g, b = shot[..., 0], shot[..., 1], shot[..., 2]
    green = (g > 60) & (g > 2 * r + 10) & (g > 2 * b + 10)
    blue = (b > 60) & (b > 2 * r + 10) & (b > 2 * g + 10)
    assert green.sum() > 200 and blue.sum() > 200
    gy, gx = (np.mean(a) for a in np.nonzero(green))
    by, bx = (np.mean(a) for a in np.nonzero(blue))
    # The view's default camera (Z up) seen from its yaw/pitch: where +X goes on screen.
    right, up, _ = OrbitCamera().basis()
    expected = np.array([right[0], -up[0]])  # screen x right, y down
    got = np.array([bx - gx, by - gy])
    cos = float(expected @ got) / (np.linalg.norm(expected) * np.linalg.norm(got))
    assert cos > math.cos(math.radians(20)), (expected, got)
    # Both are drawn outside the 2D view's image.
    x0, y0, x1, y1 = _box((r == 0) & (g == 0) & (b == 0))
    for cx, cy in ((gx, gy), (bx, by)):
        assert not (x0 <= cx <= x1 and y0 <= cy <= y1)
