"""Write the showcase recordings behind the pictures in ``docs/images`` (see docs/showcase.md).

Four small, deterministic recordings written with rerun-sdk 0.41 the way Rerun's examples
log things: a robot arm (``robot.rrd``), a camera scene (``camera.rrd``), a recording with a
default blueprint (``blueprint.rrd``) and the non-spatial view kinds (``kinds.rrd``). The
data is computed, not random where it matters (fixed seeds elsewhere), so a picture taken
from it only changes when the viewer does. Row ids and chunk ids are wall-clock based.

Run from the repository root::

    .venv/bin/python scripts/make_showcase.py OUT_DIR [NAME.rrd ...]
"""

from __future__ import annotations

import math
import os
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

APP_ID = "rrd_viewer_showcase"


def _isolate_rerun_config() -> None:
    """rerun-sdk writes config/analytics under $HOME: keep that out of the user's home."""
    home = tempfile.mkdtemp(prefix="rrd_showcase_home_")
    os.environ["HOME"] = home
    for var in ("XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME"):
        os.environ[var] = os.path.join(home, var.lower())
    os.environ["RERUN_TELEMETRY"] = "0"


_isolate_rerun_config()

import rerun as rr  # noqa: E402  (after the environment is isolated)
import rerun.blueprint as rrb  # noqa: E402


def _recording(name: str) -> rr.RecordingStream:
    """A stream that flushes by row count only, so chunking does not depend on timing."""
    return rr.RecordingStream(
        APP_ID,
        recording_id=f"showcase-{name}",
        batcher_config=rr.ChunkBatcherConfig(
            flush_tick=1e6, flush_num_bytes=1 << 40, flush_num_rows=64
        ),
    )


def _finish(rec: rr.RecordingStream) -> None:
    rec.flush()
    rec.disconnect()


# --- small geometry helpers ---------------------------------------------------------------------


def _axis_angle(axis: tuple[float, float, float], degrees: float) -> np.ndarray:
    """3x3 rotation about a unit axis (Rodrigues), the rotation Transform3D applies."""
    x, y, z = axis
    a = math.radians(degrees)
    c, s, t = math.cos(a), math.sin(a), 1.0 - math.cos(a)
    return np.array([
        [t * x * x + c, t * x * y - s * z, t * x * z + s * y],
        [t * x * y + s * z, t * y * y + c, t * y * z - s * x],
        [t * x * z - s * y, t * y * z + s * x, t * z * z + c],
    ])


def _pose(translation: tuple[float, float, float], rotation: np.ndarray) -> np.ndarray:
    """parent_from_child 4x4: rotate, then translate (Transform3D's order)."""
    m = np.eye(4)
    m[:3, :3] = rotation
    m[:3, 3] = translation
    return m


def _look_at(eye: np.ndarray, target: np.ndarray, up: np.ndarray) -> np.ndarray:
    """world_from_camera rotation of an RDF camera (x right, y down, z forward) at ``eye``."""
    forward = target - eye
    forward = forward / np.linalg.norm(forward)
    right = np.cross(forward, up)
    right = right / np.linalg.norm(right)
    down = np.cross(forward, right)
    return np.stack([right, down, forward], axis=1)


# --- robot.rrd ------------------------------------------------------------------------------------

ROBOT_FRAMES = 100


@dataclass(frozen=True)
class Joint:
    """One link of the arm: its entity, where its joint sits in the parent link, the axis."""

    path: str
    offset: tuple[float, float, float]
    axis: tuple[float, float, float]
    name: str


ARM = (
    Joint("world/base/shoulder", (0.0, 0.0, 0.22), (0.0, 0.0, 1.0), "shoulder yaw"),
    Joint("world/base/shoulder/upper_arm", (0.0, 0.0, 0.30), (0.0, 1.0, 0.0), "shoulder pitch"),
    Joint("world/base/shoulder/upper_arm/forearm", (0.0, 0.0, 0.90), (0.0, 1.0, 0.0), "elbow"),
    Joint("world/base/shoulder/upper_arm/forearm/wrist", (0.0, 0.0, 0.70), (0.0, 1.0, 0.0), "wrist"),
    Joint("world/base/shoulder/upper_arm/forearm/wrist/gripper", (0.0, 0.0, 0.16), (0.0, 0.0, 1.0),
          "gripper roll"),
)
GRIPPER_TIP = np.array([0.0, 0.0, 0.17, 1.0])  # in the gripper's frame


def robot_angles(frame: int) -> list[float]:
    """Joint angles (degrees) at ``frame``: a smooth reach that sweeps from side to side."""
    t = frame / (ROBOT_FRAMES - 1)
    return [
        135.0 - 180.0 * (0.5 - 0.5 * math.cos(math.pi * t)),
        40.0 + 18.0 * math.sin(2 * math.pi * 1.5 * t),
        65.0 + 22.0 * math.sin(2 * math.pi * 1.5 * t + 1.2),
        45.0 - 15.0 * math.cos(2 * math.pi * t),
        90.0 * math.sin(2 * math.pi * t),
    ]


def gripper_tip(angles: list[float]) -> np.ndarray:
    """Forward kinematics: the gripper tip in /world (the base sits at the world origin)."""
    m = np.eye(4)
    for joint, deg in zip(ARM, angles, strict=True):
        m = m @ _pose(joint.offset, _axis_angle(joint.axis, deg))
    return (m @ GRIPPER_TIP)[:3]


def _pedestal_mesh(radius: float = 0.36, height: float = 0.22, sides: int = 12) -> rr.Mesh3D:
    """A closed prism whose vertex colours go from a dark foot to a bright top rim."""
    a = np.linspace(0, 2 * np.pi, sides, endpoint=False)
    ring = np.stack([radius * np.cos(a), radius * np.sin(a)], axis=-1)
    bottom = np.column_stack([ring, np.zeros(sides)])
    top = np.column_stack([0.8 * ring, np.full(sides, height)])
    positions = np.vstack([bottom, top, [[0, 0, 0], [0, 0, height]]]).astype(np.float32)
    hue = 0.5 + 0.5 * np.cos(a)
    bottom_rgb = np.column_stack([40 + 40 * hue, 50 + 30 * hue, 90 + 60 * hue])
    top_rgb = np.column_stack([90 + 150 * hue, 120 + 90 * (1 - hue), 230 - 60 * hue])
    colors = np.vstack([bottom_rgb, top_rgb, [[40, 50, 90], [200, 200, 230]]]).astype(np.uint8)
    tris = []
    cb, ct = 2 * sides, 2 * sides + 1
    for i in range(sides):
        j = (i + 1) % sides
        tris += [[i, j, sides + j], [i, sides + j, sides + i], [cb, j, i], [ct, sides + i, sides + j]]
    return rr.Mesh3D(vertex_positions=positions, triangle_indices=tris, vertex_colors=colors)


def _floor_grid(half: float = 1.5, step: float = 0.5) -> rr.LineStrips3D:
    ticks = np.arange(-half, half + 1e-6, step)
    strips = [[[x, -half, 0], [x, half, 0]] for x in ticks]
    strips += [[[-half, y, 0], [half, y, 0]] for y in ticks]
    return rr.LineStrips3D(strips, colors=[70, 74, 84], radii=rr.Radius.ui_points(0.75))


TARGET_FRAMES = (18, 64, 84)  # the arm passes through a target at these frames


def _log_robot(rec: rr.RecordingStream, with_floor: bool = True) -> None:
    """The robot arm scene (shared by robot.rrd and blueprint.rrd)."""
    rng = np.random.default_rng(7)
    rec.log("world", rr.ViewCoordinates.RIGHT_HAND_Z_UP, static=True)
    rec.log(
        "world/targets",
        rr.AnnotationContext([
            rr.AnnotationInfo(id=1, label="target", color=(255, 170, 40)),
            rr.AnnotationInfo(id=2, label="reached", color=(80, 220, 120)),
            rr.AnnotationInfo(id=3, label="obstacle", color=(235, 70, 90)),
        ]),
        static=True,
    )
    if with_floor:
        rec.log("world/floor", _floor_grid(), static=True)
    rec.log("world/base", rr.Transform3D(translation=[0.0, 0.0, 0.0]), static=True)
    rec.log("world/base", rr.TransformAxes3D(0.6), static=True)
    rec.log("world/base/pedestal", _pedestal_mesh(), static=True)

    # Link geometry, in each link's own frame (static: the transforms move them).
    shoulder, upper, fore, wrist, gripper = (j.path for j in ARM)
    rec.log(shoulder, rr.Boxes3D(centers=[[0, 0, 0.15]], half_sizes=[[0.16, 0.16, 0.15]],
                                 colors=[[70, 130, 200]], labels=["shoulder"],
                                 fill_mode="solid"), static=True)
    rec.log(upper, rr.Capsules3D(lengths=[0.9], radii=[0.085], colors=[[230, 140, 50]],
                                 labels=["upper arm"], fill_mode="solid"), static=True)
    rec.log(fore, rr.Capsules3D(lengths=[0.7], radii=[0.07], colors=[[240, 190, 70]],
                                labels=["forearm"], fill_mode="solid"), static=True)
    rec.log(wrist, rr.Boxes3D(centers=[[0, 0, 0.08]], half_sizes=[[0.07, 0.07, 0.08]],
                              colors=[[120, 180, 230]], labels=["wrist"], fill_mode="solid"),
            static=True)
    rec.log(gripper, rr.Boxes3D(centers=[[0.055, 0, 0.09], [-0.055, 0, 0.09]],
                                half_sizes=[[0.015, 0.05, 0.09]] * 2,
                                colors=[[200, 200, 210]], labels=["gripper"],
                                fill_mode="solid"), static=True)

    # A camera on the shoulder, looking out along the arm's reach and down at the targets.
    eye = np.array([-0.15, 0.0, 0.55])
    rec.log(f"{shoulder}/camera",
            rr.Transform3D(translation=eye,
                           mat3x3=_look_at(eye, np.array([1.2, 0.0, 0.0]), np.array([0, 0, 1.0]))),
            static=True)
    rec.log(f"{shoulder}/camera",
            rr.Pinhole(width=640, height=480, focal_length=520.0, image_plane_distance=0.35,
                       color=[120, 200, 255]),
            static=True)

    for joint in ARM:
        rec.log(f"joints/{joint.path.rsplit('/', 1)[1]}", rr.SeriesLines(names=joint.name),
                static=True)

    tips = np.array([gripper_tip(robot_angles(f)) for f in range(ROBOT_FRAMES)])
    targets = tips[list(TARGET_FRAMES)] + rng.normal(scale=0.02, size=(len(TARGET_FRAMES), 3))
    elbow_peak = max(range(ROBOT_FRAMES // 2, ROBOT_FRAMES), key=lambda f: robot_angles(f)[2])
    obstacles = np.array([[1.0, 1.2, 0.35], [1.2, -0.9, 0.5], [-0.4, 1.3, 0.3]])

    for frame in range(ROBOT_FRAMES):
        rec.set_time("frame", sequence=frame)
        rec.set_time("time", duration=frame / 25.0)
        angles = robot_angles(frame)
        for joint, deg in zip(ARM, angles, strict=True):
            rec.log(joint.path, rr.Transform3D(
                translation=joint.offset,
                rotation_axis_angle=rr.RotationAxisAngle(axis=joint.axis, degrees=deg)))
            rec.log(f"joints/{joint.path.rsplit('/', 1)[1]}", rr.Scalars(deg))
        rec.log("world/trajectory", rr.LineStrips3D([tips[: frame + 1]], colors=[[120, 230, 255]],
                                                    radii=rr.Radius.ui_points(2.0)))
        reached = [frame >= f for f in TARGET_FRAMES]
        if frame == 0 or frame in TARGET_FRAMES:
            rec.log("world/targets", rr.Points3D(
                np.vstack([targets, obstacles]),
                class_ids=[2 if r else 1 for r in reached] + [3] * len(obstacles),
                radii=[0.06] * len(targets) + [0.1] * len(obstacles)))
        if frame in TARGET_FRAMES:
            k = TARGET_FRAMES.index(frame) + 1
            x, y, z = tips[frame]
            rec.log("log", rr.TextLog(f"target {k} reached at ({x:.2f}, {y:.2f}, {z:.2f})",
                                      level=rr.TextLogLevel.INFO))
        if frame % 20 == 0:
            rec.log("log", rr.TextLog(f"frame {frame}: joints " + ", ".join(f"{a:.0f}" for a in angles),
                                      level=rr.TextLogLevel.DEBUG))
        if frame == elbow_peak:
            rec.log("log", rr.TextLog(f"elbow at {angles[2]:.0f} deg, near its limit",
                                      level=rr.TextLogLevel.WARN))


def robot_blueprint() -> rrb.Blueprint:
    """A big 3D view beside the joint angles and the event log."""
    return rrb.Blueprint(
        rrb.Horizontal(
            rrb.Spatial3DView(name="Robot arm", origin="/world"),
            rrb.Vertical(
                rrb.TimeSeriesView(name="Joint angles (deg)", origin="/joints"),
                rrb.TextLogView(name="Events", origin="/log"),
                row_shares=[3, 2],
            ),
            column_shares=[3, 2],
        ),
        rrb.SelectionPanel(state="hidden"),
    )


def write_robot(path: Path) -> None:
    """A 5-link arm in a Transform3D hierarchy over 100 frames, with everything around it."""
    rec = _recording("robot")
    rec.save(path, default_blueprint=robot_blueprint())
    _log_robot(rec)
    _finish(rec)


# --- camera.rrd -----------------------------------------------------------------------------------

CAM_W, CAM_H, CAM_F = 480, 360, 430.0
CAM_EYE = np.array([3.4, 2.6, 1.9])
CAM_TARGET = np.array([-0.2, 0.0, 0.55])
DEPTH_MAX = 7.0  # metres: the simulated sensor sees no further (no depth beyond)

#: Segmentation / detection classes (0 = background: no colour, not drawn over the image).
CLASSES = {3: ("crate", (235, 60, 200)), 4: ("ball", (40, 220, 230)), 5: ("person", (255, 210, 40))}
SKELETON = ["head", "neck", "l_shoulder", "r_shoulder", "l_hand", "r_hand", "hip",
            "l_knee", "r_knee", "l_foot", "r_foot"]
BONES = [(0, 1), (1, 2), (1, 3), (2, 4), (3, 5), (1, 6), (6, 7), (6, 8), (7, 9), (8, 10)]
CRATE = (np.array([-0.6, -2.0, 0.0]), np.array([0.2, -1.2, 0.8]))
BALL = (np.array([0.2, 1.8, 0.45]), 0.45)
PERSON_AT = np.array([-0.4, -0.1, 0.0])


def _person_joints() -> np.ndarray:
    """A standing figure (1.7 m) facing the camera, waving with its left hand."""
    toward = (CAM_EYE - PERSON_AT) * np.array([1.0, 1.0, 0.0])
    toward /= np.linalg.norm(toward)
    side = np.cross(np.array([0.0, 0.0, 1.0]), toward)  # the figure's left, seen from the camera
    offsets = np.array([  # (side, toward the camera, up)
        [0, 0, 1.62], [0, 0, 1.45], [0.2, 0, 1.42], [-0.2, 0, 1.42], [0.4, 0.05, 1.85],
        [-0.3, 0.1, 0.95], [0, 0, 0.95], [0.12, 0.05, 0.5], [-0.12, -0.05, 0.5], [0.15, 0, 0.02],
        [-0.16, 0, 0.02],
    ])
    return PERSON_AT + offsets[:, :1] * side + offsets[:, 1:2] * toward + offsets[:, 2:] * [0, 0, 1]


@dataclass
class Render:
    rgb: np.ndarray  # (h, w, 3) uint8
    depth: np.ndarray  # (h, w) float32 metres along the optical axis, 0 = nothing
    classes: np.ndarray  # (h, w) uint8
    boxes: list[tuple[str, int, tuple[float, float, float, float]]]  # label, class, x0 y0 x1 y1
    keypoints: np.ndarray  # (k, 2) pixels


def render_camera() -> Render:
    """Ray-cast a small scene (ground, crate, ball, person) into RGB, depth and classes, so
    the image, segmentation, depth, boxes and keypoints all agree with each other."""
    rot = _look_at(CAM_EYE, CAM_TARGET, np.array([0.0, 0.0, 1.0]))
    u, v = np.meshgrid(np.arange(CAM_W) + 0.5, np.arange(CAM_H) + 0.5)
    cam_dirs = np.stack([(u - CAM_W / 2) / CAM_F, (v - CAM_H / 2) / CAM_F, np.ones_like(u)], -1)
    dirs = cam_dirs @ rot.T  # world directions; t along them is the depth along the optical axis
    hit_t = np.full(u.shape, np.inf)
    kind = np.zeros(u.shape, np.uint8)  # 0 sky, 1 ground, then the classes
    normal = np.zeros(u.shape + (3,))

    with np.errstate(divide="ignore", invalid="ignore"):
        t_ground = np.where(dirs[..., 2] < 0, -CAM_EYE[2] / dirs[..., 2], np.inf)
        lo, hi = CRATE
        t1, t2 = (lo - CAM_EYE) / dirs, (hi - CAM_EYE) / dirs
    sel = t_ground < hit_t
    hit_t[sel], kind[sel], normal[sel] = t_ground[sel], 1, (0, 0, 1)

    t_near, t_far = np.minimum(t1, t2).max(-1), np.maximum(t1, t2).min(-1)
    sel = (t_near < t_far) & (t_near > 0) & (t_near < hit_t)
    face = np.argmax(np.minimum(t1, t2), axis=-1)
    hit_t[sel], kind[sel] = t_near[sel], 3
    for axis in range(3):
        m = sel & (face == axis)
        n = np.zeros((int(m.sum()), 3))
        n[:, axis] = -np.sign(dirs[..., axis][m])
        normal[m] = n

    centre, radius = BALL
    oc = CAM_EYE - centre
    a, b, c = (dirs * dirs).sum(-1), 2 * (dirs * oc).sum(-1), oc @ oc - radius * radius
    disc = b * b - 4 * a * c
    t_ball = np.where(disc > 0, (-b - np.sqrt(np.maximum(disc, 0))) / (2 * a), np.inf)
    sel = (t_ball > 0) & (t_ball < hit_t)
    hit_t[sel], kind[sel] = t_ball[sel], 4
    normal[sel] = (CAM_EYE + dirs[sel] * t_ball[sel, None] - centre) / radius

    # Shading: a sun from the upper left, a checkered ground fading into a sky gradient.
    light = np.array([0.3, -0.6, 0.75])
    light /= np.linalg.norm(light)
    shade = (np.clip(normal @ light, 0, 1) * 0.7 + 0.3)[..., None]
    points = CAM_EYE + dirs * np.where(np.isfinite(hit_t), hit_t, 0)[..., None]
    checker = ((np.floor(points[..., 0]) + np.floor(points[..., 1])) % 2)[..., None]
    h = v[..., None] / CAM_H
    sky = np.array([150, 190, 240]) * (1 - h) + np.array([215, 230, 245]) * h
    fade = np.clip(hit_t / 25.0, 0, 1)[..., None]
    layers = {0: sky, 1: np.array([110, 150, 90]) * (0.82 + 0.18 * checker) * (1 - fade) + sky * fade,
              3: np.array([190, 120, 60]) * shade, 4: np.array([220, 60, 50]) * shade}
    rgb = np.zeros(u.shape + (3,))
    for k, colour in layers.items():
        rgb[kind == k] = colour[kind == k]
    rgb[(kind == 3) & (np.abs((points[..., 2] * 5) % 1 - 0.5) < 0.05)] *= 0.55  # crate slats

    # The person: limbs as thick segments at the figure's depth, in front of what is behind.
    joints = _person_joints()
    cam = (joints - CAM_EYE) @ rot  # camera coordinates (x right, y down, z forward)
    kp = CAM_F * cam[:, :2] / cam[:, 2:] + np.array([CAM_W / 2, CAM_H / 2])
    body_depth = float(cam[:, 2].mean())
    pix = np.stack([u, v], -1)
    limb = np.zeros(u.shape, bool)
    for i, j in BONES:
        p, d = kp[i], kp[j] - kp[i]
        s = np.clip(((pix - p) @ d) / max(d @ d, 1e-9), 0, 1)
        limb |= np.linalg.norm(pix - (p + s[..., None] * d), axis=-1) < CAM_F * 0.06 / body_depth
    head = np.linalg.norm(pix - kp[0], axis=-1) < CAM_F * 0.13 / body_depth
    person = (limb | head) & (body_depth < hit_t)
    kind[person] = 5
    hit_t[person] = body_depth
    rgb[person] = (40, 70, 150)
    rgb[head & person] = (230, 190, 160)

    depth = np.where(np.isfinite(hit_t) & (hit_t <= DEPTH_MAX), hit_t, 0.0)
    classes = np.where(kind >= 3, kind, 0).astype(np.uint8)
    boxes = []
    for k, (label, _) in CLASSES.items():
        ys, xs = np.nonzero(classes == k)
        boxes.append((label, k, (float(xs.min()), float(ys.min()), float(xs.max() + 1),
                                 float(ys.max() + 1))))
    return Render(np.clip(rgb, 0, 255).astype(np.uint8), depth.astype(np.float32), classes, boxes,
                  kp.astype(np.float32))


def _log_camera(rec: rr.RecordingStream, root: str, in_world: bool) -> Render:
    """The camera's image, segmentation, depth, detections and skeleton under ``root``."""
    r = render_camera()
    # Class 0 (background) gets a transparent colour: without it Rerun gives it one of its own.
    background = rr.AnnotationInfo(id=0, label="background", color=(0, 0, 0, 0))
    rec.log(root, rr.AnnotationContext([background] + [
        rr.ClassDescription(
            info=rr.AnnotationInfo(id=k, label=name, color=col),
            keypoint_annotations=[rr.AnnotationInfo(id=i, label=n) for i, n in enumerate(SKELETON)]
            if name == "person" else None,
            keypoint_connections=BONES if name == "person" else None,
        )
        for k, (name, col) in CLASSES.items()
    ]), static=True)
    if in_world:
        rec.log(root, rr.Transform3D(translation=CAM_EYE,
                                     mat3x3=_look_at(CAM_EYE, CAM_TARGET, np.array([0, 0, 1.0]))),
                static=True)
        rec.log(root, rr.Pinhole(width=CAM_W, height=CAM_H, focal_length=CAM_F,
                                 image_plane_distance=2.0), static=True)
    rec.set_time("frame", sequence=0)
    rec.log(f"{root}/image", rr.Image(r.rgb))
    rec.log(f"{root}/segmentation", rr.SegmentationImage(r.classes))
    rec.log(f"{root}/depth", rr.DepthImage((r.depth * 1000).astype(np.uint16), meter=1000.0,
                                           colormap="turbo"))
    scores = {"crate": 0.97, "ball": 0.93, "person": 0.88}
    rec.log(f"{root}/detections", rr.Boxes2D(
        array=[b for _, _, b in r.boxes], array_format=rr.Box2DFormat.XYXY,
        labels=[f"{name} {scores[name]:.2f}" for name, _, _ in r.boxes],
        class_ids=[k for _, k, _ in r.boxes]))
    rec.log(f"{root}/skeleton", rr.Points2D(r.keypoints, class_ids=5, show_labels=False,
                                            radii=rr.Radius.ui_points(4.0),
                                            keypoint_ids=list(range(len(SKELETON)))))
    return r


def write_camera(path: Path) -> None:
    """A pinhole camera in a Z-up world with its RGB image, segmentation, depth, detections
    and a keypoint skeleton; the 3D view shows the frustum, the image and the depth cloud."""
    rec = _recording("camera")
    rec.save(path)
    rec.log("world", rr.ViewCoordinates.RIGHT_HAND_Z_UP, static=True)
    rec.log("world/origin", rr.TransformAxes3D(0.5), static=True)
    _log_camera(rec, "world/camera", in_world=True)
    _finish(rec)


# --- blueprint.rrd --------------------------------------------------------------------------------


def showcase_blueprint() -> rrb.Blueprint:
    """Horizontal / Vertical / Tabs with shares and named views; contents leave the floor
    grid out of the 3D view, the segmentation out of the camera view and the gripper's roll
    out of the joint plot (it gets a tab of its own)."""
    return rrb.Blueprint(
        rrb.Horizontal(
            rrb.Vertical(
                rrb.Spatial3DView(name="Robot arm", origin="/world",
                                  contents=["+ $origin/**", "- /world/floor"]),
                rrb.Tabs(
                    rrb.TimeSeriesView(name="Arm joints", origin="/joints",
                                       contents=["+ $origin/**", "- /joints/gripper"]),
                    rrb.TimeSeriesView(name="Gripper roll", origin="/joints/gripper"),
                    active_tab=0,
                ),
                row_shares=[3, 2],
            ),
            rrb.Vertical(
                rrb.Spatial2DView(name="Detections", origin="/camera",
                                  contents=["+ $origin/**", "- /camera/segmentation"]),
                rrb.TextLogView(name="Events", origin="/log"),
                row_shares=[3, 2],
            ),
            column_shares=[3, 2],
        ),
        rrb.SelectionPanel(state="collapsed"),
    )


def write_blueprint(path: Path) -> None:
    """The robot and a detection camera, saved with a default blueprint."""
    rec = _recording("blueprint")
    rec.save(path, default_blueprint=showcase_blueprint())
    _log_robot(rec)
    _log_camera(rec, "camera", in_world=False)
    _finish(rec)


# --- kinds.rrd ------------------------------------------------------------------------------------

README_MD = """# Pick-and-place run 42

The arm visited **three targets** and avoided two obstacles.

| step | target | time |
|---|---|---|
| 1 | shelf A | 0.7 s |
| 2 | bin | 2.0 s |
| 3 | shelf B | 3.3 s |

* planner: `rrt-connect`
* controller: impedance, 500 Hz

> Logged as a `TextDocument` with `media_type=markdown`.
"""


def write_kinds(path: Path) -> None:
    """TextDocument, BarChart, Tensor, a directed graph, geo points and lines, with a
    blueprint that shows each in its own view plus a dataframe."""
    rng = np.random.default_rng(11)
    blueprint = rrb.Blueprint(
        rrb.Vertical(
            rrb.Horizontal(
                rrb.TextDocumentView(name="Notes", origin="/notes"),
                rrb.BarChartView(name="Histogram", origin="/histogram"),
                rrb.GraphView(name="Task graph", origin="/tasks"),
                column_shares=[2, 2, 3],
            ),
            rrb.Horizontal(
                rrb.TensorView(name="Activations", origin="/activations"),
                rrb.MapView(name="Route", origin="/route"),
                rrb.DataframeView(name="Samples", origin="/samples"),
                column_shares=[2, 2, 3],
            ),
        ),
        rrb.SelectionPanel(state="hidden"),
    )
    rec = _recording("kinds")
    rec.save(path, default_blueprint=blueprint)
    rec.log("notes", rr.TextDocument(README_MD, media_type=rr.MediaType.MARKDOWN), static=True)

    nodes = ["plan", "grasp", "lift", "move", "place", "release", "home", "recover"]
    edges = [("plan", "grasp"), ("grasp", "lift"), ("lift", "move"), ("move", "place"),
             ("place", "release"), ("release", "home"), ("home", "plan"), ("grasp", "recover"),
             ("recover", "plan")]
    angle = np.linspace(0, 2 * np.pi, len(nodes) - 1, endpoint=False)
    # a ring for the cycle; "recover" outside it between grasp and plan, so that edges keep
    # clear of the labels (drawn to the right of their nodes)
    recover = 200 * np.array([np.cos(angle[1] / 2), np.sin(angle[1] / 2)])
    positions = np.vstack([np.stack([120 * np.cos(angle), 120 * np.sin(angle)], -1), [recover]])
    node_colours = [[100, 170, 250]] * (len(nodes) - 1) + [[240, 90, 80]]
    rec.log("tasks", rr.GraphNodes(nodes, labels=nodes, positions=positions, colors=node_colours,
                                   radii=10), static=True)
    rec.log("tasks", rr.GraphEdges(edges, graph_type="directed"), static=True)

    # A walk along the Seine: a line and a few stops (latitude, longitude).
    route = np.array([[48.8584, 2.2945], [48.8606, 2.3050], [48.8630, 2.3130], [48.8611, 2.3358],
                      [48.8566, 2.3431], [48.8530, 2.3499]])
    rec.log("route/path", rr.GeoLineStrings(lat_lon=[route], radii=rr.Radius.ui_points(3.0),
                                            colors=[[40, 120, 240]]), static=True)
    rec.log("route/stops", rr.GeoPoints(lat_lon=route[[0, 3, 5]], radii=rr.Radius.ui_points(8.0),
                                        colors=[[240, 80, 60]]), static=True)

    for step in range(30):
        rec.set_time("step", sequence=step)
        samples = rng.normal(loc=0.02 * step, scale=1.0, size=500)
        counts, _ = np.histogram(samples, bins=24, range=(-3, 3))
        rec.log("histogram", rr.BarChart(counts.astype(np.float32), color=[250, 160, 60]))
        if step % 5 == 0:  # a tensor every fifth step keeps the file small
            x, y = np.meshgrid(np.linspace(-1, 1, 48), np.linspace(-1, 1, 48))
            channels = np.stack([np.sin(3 * x + 0.2 * step + k) * np.cos(3 * y - k)
                                 for k in range(8)])
            rec.log("activations", rr.Tensor(channels.astype(np.float32),
                                             dim_names=["channel", "height", "width"]))
        rec.log("samples/mean", rr.Scalars(float(samples.mean())))
        rec.log("samples/std", rr.Scalars(float(samples.std())))
    _finish(rec)


WRITERS: dict[str, Callable[[Path], None]] = {
    "robot.rrd": write_robot,
    "camera.rrd": write_camera,
    "blueprint.rrd": write_blueprint,
    "kinds.rrd": write_kinds,
}


def main(argv: list[str]) -> int:
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__)
        return 0 if argv else 2
    out = Path(argv[0])
    names = argv[1:] or list(WRITERS)
    unknown = [n for n in names if n not in WRITERS]
    if unknown:
        print(f"unknown recording(s): {', '.join(unknown)}; known: {', '.join(WRITERS)}")
        return 2
    out.mkdir(parents=True, exist_ok=True)
    for name in names:
        WRITERS[name](out / name)
        print(f"{out / name}: {(out / name).stat().st_size / 1024:.0f} KB")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
