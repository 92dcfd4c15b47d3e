#!/usr/bin/env python3
"""Paint time of the 3D view while orbiting, and whether OpenGL draws anything here.

The scene: a 1 M-point terrain scan (Rerun's default radius, -2.5 UI points), 10 000 boxes
and a 50-link transform chain (axes and a link line per joint, a label each). ``--box-fill``
draws the boxes as ``Boxes3D`` does: ``wireframe`` (12 edges each: 120 000 segments, -0.75
UI points), ``transparent`` (Rerun's default fill: the edges plus 12 see-through triangles
at a quarter of the colour's alpha) or ``solid`` (12 opaque triangles). The camera orbits in ``--steps`` steps of 6 px of mouse drag;
each step is painted and timed.

- ``raster``: ``raster3d.render`` alone (no widget), full frames, with the stage breakdown.
- ``view``: a shown ``Spatial3DView`` painting each step (``repaint()`` in a window,
  ``grab()`` offscreen, where ``repaint`` paints nothing): the full frame (what the view
  shows at rest) and the drag preview (what it shows while the mouse moves when the full
  frame is slower than ``PREVIEW_ABOVE_S``).

Wall time (``perf_counter``) is what a user waits; on a shared machine it includes time
spent waiting for a core, so the thread's CPU time (``thread_time``) is reported too.

- ``--gl-check``: a ``QOpenGLWidget`` that clears itself to red: how many of its pixels
  are red when grabbed (and a pyqtgraph ``GLViewWidget`` when PyOpenGL is installed).

    QT_QPA_PLATFORM=offscreen .venv/bin/python scripts/bench_spatial.py --runs 3
    xvfb-run -a -s "-screen 0 1920x1080x24" .venv/bin/python scripts/bench_spatial.py --runs 3
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402

from viewer.scene.draw import (  # noqa: E402
    EntityDraw,
    Label,
    LineBatch,
    PointBatch,
    Scene,
    TriangleBatch,
)
from viewer.store.entity_path import EntityPath  # noqa: E402

WIDTH, HEIGHT = 1000, 700
#: Wheel steps in after the fit (the fit frames the bounding sphere: the scene would cover
#: only half the view).
ZOOM_STEPS = 2
_CORNERS = np.array([[x, y, z] for x in (-1, 1) for y in (-1, 1) for z in (-1, 1)], float)
_EDGES = [(i, j) for i in range(8) for j in range(i + 1, 8) if bin(i ^ j).count("1") == 1]
#: The 12 triangles of a box over ``_CORNERS``, wound outwards (as the Boxes3D template).
_TRIS = np.array([[0, 1, 3], [0, 3, 2], [4, 6, 7], [4, 7, 5], [0, 4, 5], [0, 5, 1],
                  [2, 3, 7], [2, 7, 6], [0, 2, 6], [0, 6, 4], [1, 5, 7], [1, 7, 3]])
BOX_FILLS = ("wireframe", "transparent", "solid")


def bench_scene(points: int = 1_000_000, boxes: int = 10_000, links: int = 50,
                box_fill: str = "wireframe") -> Scene:
    rng = np.random.default_rng(7)
    scene = Scene(dims=3, origin=EntityPath.root())

    def entity(path: str) -> EntityDraw:
        ed = EntityDraw(EntityPath.parse(path))
        scene.entities[ed.entity] = ed
        return ed

    cloud = entity("/cloud")  # a scanned terrain: fills the fitted view
    xyz = np.empty((points, 3))
    xyz[:, :2] = rng.uniform(-12, 12, (points, 2))
    xyz[:, 2] = (1.5 * np.sin(xyz[:, 0] / 3) * np.cos(xyz[:, 1] / 4)
                 + rng.normal(0, 0.1, points))
    rgba = np.empty((points, 4), np.uint8)
    rgba[:, 0] = np.clip(xyz[:, 2] * 60 + 128, 0, 255)
    rgba[:, 1] = np.clip(xyz[:, 0] * 20 + 128, 0, 255)
    rgba[:, 2] = 200
    rgba[:, 3] = 255
    cloud.points.append(PointBatch(cloud.entity, "Points3D", xyz, rgba,
                                   np.full(points, -2.5)))
    box = entity("/boxes")
    centers = rng.uniform(-12, 12, (boxes, 3)) * [1, 1, 0.2] + [0, 0, 1.5]
    halves = rng.uniform(0.05, 0.25, (boxes, 3))
    corners = centers[:, None, :] + halves[:, None, :] * _CORNERS[None]
    segs = np.stack([corners[:, [i for i, _ in _EDGES]], corners[:, [j for _, j in _EDGES]]],
                    axis=2).reshape(-1, 2, 3)
    colors = np.tile(rng.integers(60, 255, (boxes, 1, 4)).astype(np.uint8), (1, 12, 1))
    colors[..., 3] = 255
    if box_fill in ("wireframe", "transparent"):
        box.lines.append(LineBatch(box.entity, "Boxes3D", segs, colors.reshape(-1, 4),
                                   np.full(len(segs), -0.75)))
    if box_fill in ("transparent", "solid"):
        fill = colors[:, 0].copy()
        if box_fill == "transparent":
            fill[:, 3] //= 4  # Rerun's see-through fill: a quarter of the alpha
        tris = (_TRIS[None] + 8 * np.arange(boxes)[:, None, None]).reshape(-1, 3)
        box.triangles.append(TriangleBatch(box.entity, "Boxes3D", corners.reshape(-1, 3),
                                           tris, np.repeat(fill, 8, axis=0)))
    # A chain of links, each posed relative to its parent: axes and the link to the parent.
    pose = np.eye(4)
    pose[:3, 3] = [0.0, 0.0, 3.0]
    parts = "/chain"
    prev = pose[:3, 3].copy()
    for i in range(links):
        step = np.eye(4)
        a = 0.15  # a helix of radius ~6.7 rising 0.15 per link
        step[:3, :3] = [[math.cos(a), -math.sin(a), 0], [math.sin(a), math.cos(a), 0], [0, 0, 1]]
        step[:3, 3] = [1.0, 0.0, 0.15]
        pose = pose @ step
        parts += f"/link{i}"
        link = entity(parts)
        o = pose[:3, 3]
        axes = np.stack([np.stack([o, o + 0.3 * pose[:3, k]]) for k in range(3)])
        seg = np.concatenate([axes, np.stack([prev, o])[None]])
        link.lines.append(LineBatch(link.entity, "Transform3D", seg,
                                    np.array([[255, 60, 60, 255], [60, 255, 60, 255],
                                              [60, 110, 255, 255], [230, 230, 230, 255]],
                                             np.uint8), np.array([-1.0, -1.0, -1.0, -1.5])))
        link.labels.append(Label(o.copy(), f"link{i}", (230, 230, 230, 255)))
        prev = o
    return scene


def summary(ms: list[float]) -> dict[str, float]:
    s = sorted(ms)
    return {"p50": round(statistics.median(s), 1),
            "p95": round(s[min(len(s) - 1, math.ceil(0.95 * len(s)) - 1)], 1),
            "max": round(s[-1], 1)}


def bench_raster(scene: Scene, steps: int) -> dict:
    from viewer.ui.views.spatial.orbit_camera import OrbitCamera
    from viewer.ui.views.spatial.raster3d import prepare, render

    t0 = time.perf_counter()
    prepared = prepare(scene)
    prepare_ms = (time.perf_counter() - t0) * 1000
    cam = OrbitCamera()
    lo, hi = scene.bounds()
    cam.fit_bounds(lo, hi)
    cam.zoom(ZOOM_STEPS)
    render(prepared, cam, WIDTH, HEIGHT)  # warm-up
    totals, cpu, stages = [], [], {}
    for _ in range(steps):
        cam.orbit(6.0, 0.0)
        t, c = time.perf_counter(), time.thread_time()
        frame = render(prepared, cam, WIDTH, HEIGHT)
        cpu.append((time.thread_time() - c) * 1000)
        totals.append((time.perf_counter() - t) * 1000)
        for k, v in frame.timings.items():
            stages.setdefault(k, []).append(v * 1000)
    return {"prepare_ms": round(prepare_ms, 1), "total": summary(totals), "cpu": summary(cpu),
            "stages_cpu_p50": {k: round(statistics.median(v), 1) for k, v in stages.items()
                           if k != "total"}}


def bench_view(scene: Scene, steps: int) -> dict:
    from PySide6.QtWidgets import QApplication

    from viewer.store.entity_db import EntityDb
    from viewer.ui.time_control import TimeControl
    from viewer.ui.views.spatial import view3d

    app = QApplication.instance() or QApplication([])
    offscreen = app.platformName() == "offscreen"
    view = view3d.Spatial3DView(EntityDb.__new__(EntityDb), [], TimeControl())
    view.scene_source = lambda: scene
    view.resize(WIDTH, HEIGHT)
    view.show()
    deadline = time.monotonic() + 5
    while not view.isVisible() and time.monotonic() < deadline:
        app.processEvents()
    t0 = time.perf_counter()
    view.redraw_now()
    set_scene_ms = (time.perf_counter() - t0) * 1000
    app.processEvents()

    view.camera.zoom(ZOOM_STEPS)

    def paint() -> tuple[float, float]:
        t, c = time.perf_counter(), time.thread_time()
        if offscreen:
            view.grab()
        else:
            view.repaint()
        return (time.perf_counter() - t) * 1000, (time.thread_time() - c) * 1000

    out: dict = {"platform": app.platformName(), "set_scene_ms": round(set_scene_ms, 1),
                 "size": [view.width(), view.height()]}
    for mode in ("full", "preview"):
        paint()  # warm-up (and builds the preview's decimated scene once)
        ms, cpu, preview_flags = [], [], []
        for _ in range(steps):
            view.camera.orbit(6.0, 0.0)
            view.auto_fit = False
            view._interacting = mode == "preview"
            view.last_full_render_s = 1.0 if mode == "preview" else 0.0
            wall, used = paint()
            ms.append(wall)
            cpu.append(used)
            preview_flags.append(view.last_paint_preview)
            app.processEvents()
        assert all(f == (mode == "preview") for f in preview_flags), "wrong paint mode"
        out[mode] = summary(ms)
        out[mode + "_cpu"] = summary(cpu)
    view._interacting = False
    view.close()
    return out


def gl_check() -> dict:
    """Pixels a QOpenGLWidget (cleared to red) shows when grabbed on this platform."""
    from PySide6.QtOpenGLWidgets import QOpenGLWidget
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([])

    class Red(QOpenGLWidget):
        painted = 0

        def paintGL(self) -> None:  # noqa: N802 (Qt override)
            fn = self.context().functions()
            fn.glClearColor(1.0, 0.0, 0.0, 1.0)
            fn.glClear(0x4000)  # GL_COLOR_BUFFER_BIT
            Red.painted += 1

    w = Red()
    w.resize(200, 150)
    w.show()
    for _ in range(20):
        app.processEvents()
        time.sleep(0.01)
    out = {"platform": app.platformName()}
    for name, image in (("grabFramebuffer", w.grabFramebuffer()),
                        ("grab", w.grab().toImage())):
        red = 0
        if not image.isNull():
            for y in range(0, image.height(), 5):
                for x in range(0, image.width(), 5):
                    c = image.pixelColor(x, y)
                    red += c.red() > 200 and c.green() < 50 and c.blue() < 50
        samples = max(1, ((image.width() + 4) // 5) * ((image.height() + 4) // 5))
        out[name] = {"size": [image.width(), image.height()],
                     "red_fraction": round(red / samples, 3)}
    out["paintGL_calls"] = Red.painted
    out["context_valid"] = bool(w.context() is not None and w.context().isValid())
    w.close()
    try:
        import pyqtgraph.opengl as gl
    except Exception as exc:  # PyOpenGL missing
        out["pyqtgraph_GLViewWidget"] = f"not importable: {type(exc).__name__}: {exc}"
    else:
        glw = gl.GLViewWidget()
        glw.resize(200, 150)
        glw.addItem(gl.GLScatterPlotItem(pos=np.zeros((1, 3)), size=100, color=(1, 0, 0, 1)))
        glw.show()
        app.processEvents()
        img = glw.grabFramebuffer()
        out["pyqtgraph_GLViewWidget"] = {"size": [img.width(), img.height()]}
        glw.close()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--steps", type=int, default=50)
    ap.add_argument("--mode", choices=["raster", "view", "both"], default="both")
    ap.add_argument("--gl-check", action="store_true")
    ap.add_argument("--box-fill", choices=BOX_FILLS, default="wireframe",
                    help="how the 10 000 boxes are drawn (transparent: Rerun's default)")
    args = ap.parse_args()
    from bench_machine import cpu_name

    print(json.dumps({"cpu": cpu_name(), "cores": os.cpu_count(),
                      "platform_env": os.environ.get("QT_QPA_PLATFORM", "(default)"),
                      "display": os.environ.get("DISPLAY"), "size": [WIDTH, HEIGHT],
                      "box_fill": args.box_fill,
                      "loadavg_before": [round(x, 2) for x in os.getloadavg()]}))
    if args.gl_check:
        print(json.dumps({"gl_check": gl_check()}))
    scene = bench_scene(box_fill=args.box_fill)
    for run in range(args.runs):
        result: dict = {"run": run}
        if args.mode in ("raster", "both"):
            result["raster"] = bench_raster(scene, args.steps)
        if args.mode in ("view", "both"):
            result["view"] = bench_view(scene, args.steps)
        result["loadavg"] = [round(x, 2) for x in os.getloadavg()]
        print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
