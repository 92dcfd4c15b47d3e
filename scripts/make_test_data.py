"""Write the small, real `.rrd` fixtures in ``tests/data/`` with rerun-sdk 0.41.0.

Tests compare our reader with rerun-sdk's own reader on these files, so they must be written
by the real SDK. Chunking is made deterministic with a batcher that flushes only by row count
(``flush_num_rows``); data, seeds and timeline values are fixed. Chunk ids, row ids and the
SDK's automatic ``log_time`` column are wall-clock based and differ between runs.

Run from the repository root::

    .venv/bin/python scripts/make_test_data.py [OUTPUT_DIR] [NAME.rrd ...]
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import zlib
from collections.abc import Callable
from pathlib import Path

import numpy as np

OUT_DIR = Path(__file__).resolve().parent.parent / "tests" / "data"
APP_ID = "rrd_viewer_fixtures"
EPOCH = 1_700_000_000.0  # fixed wall-clock start (2023-11-14) for `time` timelines


def _isolate_rerun_config() -> None:
    """rerun-sdk writes config/analytics under $HOME: keep that out of the user's home."""
    home = tempfile.mkdtemp(prefix="rrd_fixtures_home_")
    os.environ["HOME"] = home
    for var in ("XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME"):
        os.environ[var] = os.path.join(home, var.lower())
    os.environ["RERUN_TELEMETRY"] = "0"


_isolate_rerun_config()

import rerun as rr  # noqa: E402  (after the environment is isolated)
import rerun.blueprint as rrb  # noqa: E402


def _recording(name: str, rows_per_chunk: int) -> rr.RecordingStream:
    """A stream whose chunks hold exactly ``rows_per_chunk`` rows (no time-based flushing)."""
    return rr.RecordingStream(
        APP_ID,
        recording_id=f"fixture-{name}",
        batcher_config=rr.ChunkBatcherConfig(
            flush_tick=1e6, flush_num_bytes=1 << 40, flush_num_rows=rows_per_chunk
        ),
    )


def _finish(rec: rr.RecordingStream) -> None:
    rec.flush()
    rec.disconnect()


def _set_frame(rec: rr.RecordingStream, frame: int, dt: float = 0.1) -> None:
    rec.set_time("frame", sequence=frame)
    rec.set_time("time", timestamp=EPOCH + frame * dt)


# --- image encoding (no PIL): PNG by hand, JPEG through Qt's QImage -------------------------


def _png_bytes(rgb: np.ndarray) -> bytes:
    """Encode an (h, w, 3) uint8 array as a minimal PNG (8-bit truecolor, no filtering)."""
    height, width, _ = rgb.shape

    def chunk(tag: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(tag + data) & 0xFFFFFFFF
        return len(data).to_bytes(4, "big") + tag + data + crc.to_bytes(4, "big")

    header = width.to_bytes(4, "big") + height.to_bytes(4, "big") + bytes([8, 2, 0, 0, 0])
    raw = b"".join(b"\x00" + rgb[y].tobytes() for y in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )


def _jpeg_bytes(rgb: np.ndarray, quality: int = 85) -> bytes:
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice
    from PySide6.QtGui import QImage

    height, width, _ = rgb.shape
    data = np.ascontiguousarray(rgb)
    image = QImage(data.data, width, height, 3 * width, QImage.Format.Format_RGB888)
    out = QByteArray()
    buf = QBuffer(out)
    buf.open(QIODevice.OpenModeFlag.WriteOnly)
    if not image.save(buf, "JPG", quality):
        raise RuntimeError("Qt could not encode a JPEG (imageformats plugin missing?)")
    buf.close()
    return bytes(out.data())


def _gradient(width: int, height: int, phase: float) -> np.ndarray:
    x = np.linspace(0.0, 1.0, width, dtype=np.float32)[None, :]
    y = np.linspace(0.0, 1.0, height, dtype=np.float32)[:, None]
    r = 0.5 + 0.5 * np.sin(2 * np.pi * (x + phase))
    g = np.broadcast_to(y, (height, width))
    b = 0.5 + 0.5 * np.cos(2 * np.pi * (x * y + phase))
    return (np.stack([r + 0 * y, g, b + 0 * x], axis=-1) * 255).astype(np.uint8)


# --- fixtures -----------------------------------------------------------------------------------


def write_scalars(path: Path) -> None:
    """Scalars on three entities, timelines frame (sequence), time (timestamp), elapsed (duration)."""
    rng = np.random.default_rng(1)
    rec = _recording("scalars", rows_per_chunk=50)
    rec.save(path)
    for i in range(300):
        _set_frame(rec, i, dt=0.05)
        rec.set_time("elapsed", duration=i * 0.05)
        t = i * 0.05
        rec.log("/plots/sin", rr.Scalars(np.sin(t)))
        rec.log("/plots/cos", rr.Scalars(np.cos(t)))
        if i % 2 == 0:
            rec.log("/plots/noise/a", rr.Scalars(float(rng.normal())))
    _finish(rec)


def write_points(path: Path) -> None:
    """Colored 2D and 3D point clouds with radii, one cloud per frame."""
    rng = np.random.default_rng(2)
    rec = _recording("points", rows_per_chunk=4)
    rec.save(path)
    for frame in range(8):
        _set_frame(rec, frame)
        n3 = 300 + 20 * frame
        pos3 = rng.normal(size=(n3, 3)).astype(np.float32)
        col3 = rng.integers(0, 256, size=(n3, 3), dtype=np.uint8)
        rec.log("/world/cloud", rr.Points3D(pos3, colors=col3, radii=rng.uniform(0.01, 0.05, n3)))
        n2 = 200
        pos2 = rng.uniform(0, 100, size=(n2, 2)).astype(np.float32)
        rec.log("/image/keypoints", rr.Points2D(pos2, colors=[255, 128, 0], radii=1.5))
        if frame % 2 == 0:
            rec.log("/world/small", rr.Points3D([[0, 0, frame], [1, 1, frame]], radii=[0.1, 0.2]))
    _finish(rec)


def write_images(path: Path) -> None:
    """Raw RGB and grey Images plus PNG and JPEG EncodedImages over `frame`."""
    rec = _recording("images", rows_per_chunk=2)
    rec.save(path)
    for frame in range(4):
        _set_frame(rec, frame)
        rgb = _gradient(64, 48, phase=frame / 4)
        rec.log("/camera/rgb", rr.Image(rgb))
        grey = (rgb.mean(axis=2)).astype(np.uint8)
        rec.log("/camera/grey", rr.Image(grey, color_model="L"))
        rec.log("/camera/png", rr.EncodedImage(contents=_png_bytes(rgb), media_type="image/png"))
        rec.log(
            "/camera/jpeg", rr.EncodedImage(contents=_jpeg_bytes(rgb), media_type="image/jpeg")
        )
    _finish(rec)


def write_textlog(path: Path) -> None:
    """Text logs of every level on `frame` and `time`."""
    levels = [rr.TextLogLevel.INFO, rr.TextLogLevel.WARN, rr.TextLogLevel.ERROR, rr.TextLogLevel.DEBUG]
    rec = _recording("textlog", rows_per_chunk=16)
    rec.save(path)
    for i in range(60):
        _set_frame(rec, i)
        level = levels[i % len(levels)]
        rec.log("/logs/app", rr.TextLog(f"message {i}: level {level}", level=level))
        if i % 5 == 0:
            rec.log("/logs/net", rr.TextLog(f"network tick {i // 5}", level=rr.TextLogLevel.DEBUG))
    _finish(rec)


def write_static(path: Path) -> None:
    """Static data on several entities; some entities also get temporal data, some do not."""
    rec = _recording("static", rows_per_chunk=10)
    rec.save(path)
    rec.log("/config/origin", rr.Points3D([[0, 0, 0]], radii=0.5), static=True)
    rec.log("/config/banner", rr.TextLog("static banner", level=rr.TextLogLevel.INFO), static=True)
    rec.log("/values/level", rr.Scalars(-1.0), static=True)
    # A second static write to the same entity overrides the first one.
    rec.log("/values/level", rr.Scalars(-2.0), static=True)
    for i in range(20):
        _set_frame(rec, i)
        rec.log("/values/level", rr.Scalars(float(i)))  # temporal data next to static data
        rec.log("/values/temporal_only", rr.Scalars(float(i * i)))
    _finish(rec)


def write_blueprint(path: Path) -> None:
    """A recording saved with a default blueprint: blueprint store, activation, then data."""
    rec = _recording("blueprint", rows_per_chunk=25)
    blueprint = rrb.Blueprint(rrb.TimeSeriesView(origin="/plots", name="Plots"))
    rec.save(path, default_blueprint=blueprint)
    for i in range(50):
        _set_frame(rec, i)
        rec.log("/plots/line", rr.Scalars(np.sin(i / 5)))
    _finish(rec)


def _write_small_recording(path: Path, name: str, offset: float) -> None:
    rec = _recording(name, rows_per_chunk=10)
    rec.save(path)
    for i in range(30):
        _set_frame(rec, i)
        rec.log("/signal", rr.Scalars(np.sin(i / 3 + offset)))
    _finish(rec)


def write_two_recordings(path: Path) -> None:
    """Two recordings (same app, different recording ids) in ONE stream.

    The SDK cannot save two recordings into one file, but its CLI can: `rerun rrd route A B`
    copies the messages of both files into one stream without decoding them (and without
    changing ids when no --recording-id is given). This is not a concatenation of files.
    """
    with tempfile.TemporaryDirectory() as tmp:
        first, second = Path(tmp) / "first.rrd", Path(tmp) / "second.rrd"
        _write_small_recording(first, "two-a", 0.0)
        _write_small_recording(second, "two-b", 1.0)
        rerun_cli = shutil.which("rerun", path=str(Path(sys.executable).parent)) or "rerun"
        subprocess.run(
            [rerun_cli, "rrd", "route", str(first), str(second), "-o", str(path)],
            check=True,
            capture_output=True,
        )


def write_no_footer(path: Path) -> None:
    """A file without End message and footer, as a crashed or still-running producer leaves it.

    rerun-sdk 0.41.0 has ``save(..., write_footer=False)`` for exactly this.
    """
    rec = _recording("no-footer", rows_per_chunk=10)
    rec.save(path, write_footer=False)
    for i in range(40):
        _set_frame(rec, i)
        rec.log("/plots/value", rr.Scalars(float(i % 7)))
        if i % 4 == 0:
            rec.log("/logs", rr.TextLog(f"tick {i}"))
    _finish(rec)


def write_unsorted(path: Path) -> None:
    """Times that go backwards inside chunks (shuffled frames and timestamps)."""
    rng = np.random.default_rng(3)
    rec = _recording("unsorted", rows_per_chunk=25)
    rec.save(path)
    frames = rng.permutation(100)
    for k, frame in enumerate(frames):
        _set_frame(rec, int(frame))
        rec.log("/shuffled/value", rr.Scalars(float(frame)))
        # A second entity counts down: reversed on every timeline.
        rec.set_time("frame", sequence=1000 - k)
        rec.set_time("time", timestamp=EPOCH + 100.0 - k)
        rec.log("/reversed/value", rr.Scalars(float(k)))
        if k % 10 == 0:
            rec.log("/reversed/points", rr.Points2D(rng.uniform(0, 10, size=(5, 2))))
    _finish(rec)


def write_mixed(path: Path) -> None:
    """A realistic mixed recording (plots, 3D spiral, 2D points, image, logs) for screenshots."""
    rng = np.random.default_rng(4)
    rec = _recording("mixed", rows_per_chunk=60)
    rec.save(path)
    levels = [rr.TextLogLevel.INFO, rr.TextLogLevel.WARN, rr.TextLogLevel.DEBUG, rr.TextLogLevel.ERROR]
    n_spiral = 400
    s = np.linspace(0, 6 * np.pi, n_spiral, dtype=np.float32)
    spiral_colors = np.stack(
        [np.linspace(40, 255, n_spiral), np.linspace(200, 60, n_spiral), np.full(n_spiral, 220)],
        axis=-1,
    ).astype(np.uint8)
    for frame in range(300):
        _set_frame(rec, frame, dt=1 / 30)
        t = frame / 30
        rec.log("/plots/sin", rr.Scalars(np.sin(2 * t)))
        rec.log("/plots/cos", rr.Scalars(np.cos(2 * t)))
        if frame % 10 == 0:
            angle = t * 0.5
            c, sn = np.cos(angle), np.sin(angle)
            x, y = np.cos(s) * (1 + s / 10), np.sin(s) * (1 + s / 10)
            pos = np.stack([c * x - sn * y, sn * x + c * y, s / 4], axis=-1).astype(np.float32)
            rec.log("/world/spiral", rr.Points3D(pos, colors=spiral_colors, radii=0.04))
        if frame % 5 == 0:
            center = np.array([32 + 20 * np.cos(t), 24 + 15 * np.sin(t)], dtype=np.float32)
            pts = center + rng.normal(scale=3.0, size=(30, 2)).astype(np.float32)
            rec.log("/camera/points", rr.Points2D(pts, colors=[255, 220, 0], radii=1.0))
        if frame % 30 == 0:
            rec.log("/camera/image", rr.Image(_gradient(64, 48, phase=t / 10)))
        if frame % 15 == 0:
            level = levels[(frame // 15) % len(levels)]
            rec.log("/logs", rr.TextLog(f"frame {frame}: sin={np.sin(2 * t):+.3f}", level=level))
    _finish(rec)


# --- spatial fixtures: a robot arm and a camera, logged the way Rerun's examples do -------------

#: Robot arm: the shoulder turns about +Z by this many degrees per frame.
ROBOT_SHOULDER_DEG_PER_FRAME = 6.0
ROBOT_FRAMES = 60


def write_robot(path: Path) -> None:
    """A 3-level arm in a Z-up world with every 3D archetype, plus Clears, a log and a scalar.

    Transforms (parent-from-child): base = translate (1, 2, 0) (static); shoulder = translate
    (0, 0, 0.5) then rotate 6 degrees per frame about +Z (frames 0..59); elbow = translate
    (1, 0, 0), quaternion 90 degrees about +X, uniform scale 0.5 (static).
    """
    rng = np.random.default_rng(5)
    rec = _recording("robot", rows_per_chunk=20)
    rec.save(path)
    rec.log("/world", rr.ViewCoordinates.RIGHT_HAND_Z_UP, static=True)
    rec.log(
        "/world",
        rr.AnnotationContext(
            [
                rr.AnnotationInfo(id=1, label="target", color=(255, 64, 64)),
                rr.AnnotationInfo(id=2, label="obstacle", color=(64, 64, 255)),
                rr.AnnotationInfo(id=3, label="goal", color=(64, 200, 64)),
            ]
        ),
        static=True,
    )
    rec.log("/world/base", rr.Transform3D(translation=[1.0, 2.0, 0.0]), static=True)
    rec.log("/world/base", rr.TransformAxes3D(0.5), static=True)
    rec.log(
        "/world/base",
        rr.Boxes3D(half_sizes=[[0.4, 0.4, 0.25]], centers=[[0.0, 0.0, 0.25]], colors=[120, 120, 120]),
        static=True,
    )
    s45 = float(np.sqrt(0.5))
    rec.log(
        "/world/base/shoulder/elbow",
        rr.Transform3D(translation=[1.0, 0.0, 0.0], quaternion=rr.Quaternion(xyzw=[s45, 0.0, 0.0, s45]), scale=0.5),
        static=True,
    )
    rec.log(
        "/world/base/shoulder/elbow",
        rr.Ellipsoids3D(half_sizes=[[0.5, 0.2, 0.2]], centers=[[0.5, 0.0, 0.0]], colors=[200, 160, 40]),
        static=True,
    )
    corners = np.array([[-2, -2, 0], [2, -2, 0], [2, 2, 0], [-2, 2, 0]], dtype=np.float32)
    rec.log(
        "/world/mesh",
        rr.Mesh3D(
            vertex_positions=corners,
            triangle_indices=[[0, 1, 2], [0, 2, 3]],
            vertex_colors=[[255, 0, 0], [0, 255, 0], [0, 0, 255], [255, 255, 0]],
        ),
        static=True,
    )
    rec.log(
        "/world/arrows",
        rr.Arrows3D(
            vectors=[[1, 0, 0], [0, 1, 0], [0, 0, 1]],
            origins=[[-1.5, -1.5, 0]] * 3,
            colors=[[255, 0, 0], [0, 255, 0], [0, 0, 255]],
            labels=["x", "y", "z"],
        ),
        static=True,
    )
    angles = np.linspace(0, 2 * np.pi, 61, dtype=np.float32)
    circle = np.stack([1 + np.cos(angles), 2 + np.sin(angles), np.full_like(angles, 0.5)], axis=-1)
    for frame in range(ROBOT_FRAMES):
        _set_frame(rec, frame)
        degrees = ROBOT_SHOULDER_DEG_PER_FRAME * frame
        rec.log(
            "/world/base/shoulder",
            rr.Transform3D(
                translation=[0.0, 0.0, 0.5],
                rotation_axis_angle=rr.RotationAxisAngle(axis=[0.0, 0.0, 1.0], degrees=degrees),
            ),
        )
        if frame == 0:
            rec.log(
                "/world/base/shoulder",
                rr.Capsules3D(
                    lengths=[1.0],
                    radii=[0.1],
                    rotation_axis_angles=[rr.RotationAxisAngle(axis=[0.0, 1.0, 0.0], degrees=90.0)],
                    colors=[80, 160, 220],
                ),
            )
            rec.log(
                "/world/path",
                rr.LineStrips3D([circle, [[-2, 0, 0], [2, 0, 0]]], colors=[[255, 200, 0], [200, 200, 200]]),
            )
            rec.log("/world/gone", rr.Boxes3D(half_sizes=[[0.2, 0.2, 0.2]], centers=[[-1, 1, 0.2]]))
        if frame % 10 == 0:
            targets = rng.uniform(-2, 2, size=(5, 3)).astype(np.float32)
            rec.log(
                "/world/targets",
                rr.Points3D(
                    targets,
                    class_ids=[1, 2, 1, 2, 3],
                    labels=["t0", "t1", "t2", "t3", "t4"],
                    radii=0.08,
                ),
            )
            rec.log("/logs", rr.TextLog(f"frame {frame}: shoulder at {degrees:.0f} deg"))
        rec.log("/metrics/joint", rr.Scalars(degrees))
        rec.log("/world/cleared", rr.Points3D([[0, 0, frame / 10], [0.5, 0, frame / 10], [1, 0, frame / 10]]))
        if frame == 30:  # after this frame's points: hides them at frame 30 only
            rec.log("/world/cleared", rr.Clear(recursive=False))
        if frame < 40:
            rec.log("/world/gone/child", rr.Points3D([[-1, 1, 0.5], [-1, 1.2, 0.5], [-1.2, 1, 0.5], [-1, 0.8, 0.5]]))
        if frame == 40:  # hides /world/gone and /world/gone/child for good
            rec.log("/world/gone", rr.Clear(recursive=True))
    _finish(rec)


CAMERA_WIDTH, CAMERA_HEIGHT = 64, 48
CAMERA_FOCAL = 40.0
CAMERA_FRAMES = 4


def write_camera(path: Path) -> None:
    """A pinhole camera in a Z-up world with image, depth, segmentation and 2D primitives
    in its image space, a 3D point cloud, and a PNG with marks outside any pinhole."""
    rng = np.random.default_rng(6)
    rec = _recording("camera", rows_per_chunk=8)
    rec.save(path)
    w, h = CAMERA_WIDTH, CAMERA_HEIGHT
    rec.log("/world", rr.ViewCoordinates.RIGHT_HAND_Z_UP, static=True)
    rec.log(
        "/world/camera",
        rr.Pinhole(resolution=[w, h], focal_length=CAMERA_FOCAL, camera_xyz=rr.ViewCoordinates.RDF),
        static=True,
    )
    # Classes for everything under the camera: person (a 5-keypoint skeleton) and car.
    rec.log(
        "/world/camera",
        rr.AnnotationContext(
            [
                rr.ClassDescription(
                    info=rr.AnnotationInfo(id=1, label="person", color=(0, 200, 255)),
                    keypoint_annotations=[
                        rr.AnnotationInfo(id=0, label="head", color=(255, 255, 255)),
                        rr.AnnotationInfo(id=1, label="left_hand"),
                        rr.AnnotationInfo(id=2, label="right_hand"),
                        rr.AnnotationInfo(id=3, label="left_foot"),
                        rr.AnnotationInfo(id=4, label="right_foot"),
                    ],
                    keypoint_connections=[(0, 1), (0, 2), (0, 3), (0, 4)],
                ),
                rr.ClassDescription(info=rr.AnnotationInfo(id=2, label="car", color=(255, 128, 0))),
            ]
        ),
        static=True,
    )
    # The segmentation image has its own, nearer context.
    rec.log(
        "/world/camera/segmentation",
        rr.AnnotationContext(
            [
                rr.AnnotationInfo(id=0, label="background", color=(0, 0, 0)),
                rr.AnnotationInfo(id=1, label="floor", color=(128, 64, 0)),
                rr.AnnotationInfo(id=2, label="box", color=(0, 255, 0)),
            ]
        ),
        static=True,
    )
    yy, xx = np.mgrid[0:h, 0:w]
    for frame in range(CAMERA_FRAMES):
        _set_frame(rec, frame)
        rec.log(
            "/world/camera",
            rr.Transform3D(
                translation=[0.0, -3.0 + 0.25 * frame, 1.0],
                rotation_axis_angle=rr.RotationAxisAngle(axis=[1.0, 0.0, 0.0], degrees=-90.0),
            ),
        )
        rec.log("/world/camera/image", rr.Image(_gradient(w, h, phase=frame / 4)))
        depth = (1000 + 40 * yy + 10 * xx + 100 * frame).astype(np.uint16)
        rec.log(
            "/world/camera/depth",
            rr.DepthImage(depth, meter=1000.0, colormap="Viridis", depth_range=[0.0, 5000.0]),
        )
        seg = np.zeros((h, w), dtype=np.uint8)
        seg[h // 2 :, :] = 1
        seg[10:30, 8 + 4 * frame : 28 + 4 * frame] = 2
        rec.log("/world/camera/segmentation", rr.SegmentationImage(seg))
        rec.log(
            "/world/camera/detections",
            rr.Boxes2D(
                mins=[[4 + frame, 6], [36, 20 + frame]],
                sizes=[[16, 30], [20, 12]],
                class_ids=[1, 2],
                labels=["person", "car"],
            ),
        )
        rec.log(
            "/world/camera/keypoints",
            rr.Points2D(
                [[12 + frame, 8], [6 + frame, 18], [18 + frame, 18], [9 + frame, 34], [15 + frame, 34]],
                class_ids=1,
                keypoint_ids=[0, 1, 2, 3, 4],
            ),
        )
        rec.log("/world/camera/lines", rr.LineStrips2D([[[0, 40], [32, 36], [63, 40]]], colors=[255, 255, 0]))
        rec.log(
            "/world/camera/arrows",
            rr.Arrows2D(origins=[[32, 24], [32, 24]], vectors=[[10, 0], [0, -10]], colors=[[255, 0, 0], [0, 255, 0]]),
        )
        rec.log("/world/points", rr.Points3D(rng.normal(scale=0.5, size=(20, 3)).astype(np.float32), colors=[200, 200, 255]))
        if frame == 0:
            rec.log(
                "/overlay/picture",
                rr.EncodedImage(contents=_png_bytes(_gradient(32, 24, phase=0.5)), media_type="image/png"),
            )
        rec.log("/overlay/marks", rr.Points2D([[4, 4], [16 + frame, 12], [28, 20]], colors=[255, 0, 255], radii=1.5))
    _finish(rec)


FIXTURES: dict[str, Callable[[Path], None]] = {
    "scalars.rrd": write_scalars,
    "points.rrd": write_points,
    "images.rrd": write_images,
    "textlog.rrd": write_textlog,
    "static.rrd": write_static,
    "blueprint.rrd": write_blueprint,
    "two_recordings.rrd": write_two_recordings,
    "no_footer.rrd": write_no_footer,
    "unsorted.rrd": write_unsorted,
    "mixed.rrd": write_mixed,
    "robot.rrd": write_robot,
    "camera.rrd": write_camera,
}


def main(argv: list[str]) -> int:
    """``[OUTPUT_DIR] [NAME.rrd ...]``: every fixture, or only the named ones."""
    names = [a for a in argv if a.endswith(".rrd")]
    dirs = [a for a in argv if not a.endswith(".rrd")]
    unknown = sorted(set(names) - set(FIXTURES))
    if unknown:
        print(f"unknown fixture(s): {', '.join(unknown)}; known: {', '.join(FIXTURES)}", file=sys.stderr)
        return 2
    out_dir = Path(dirs[0]) if dirs else OUT_DIR
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, write in FIXTURES.items():
        if names and name not in names:
            continue
        path = out_dir / name
        path.unlink(missing_ok=True)
        write(path)
        print(f"{path}  {path.stat().st_size:>8} bytes")
    return 0

if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
