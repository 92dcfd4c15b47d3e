"""The numpy 3D rasterizer on hand-built scenes: pixels where the pinhole projection puts
them, depth buffer, filled and lit triangles, disc and line widths, picking."""

from __future__ import annotations

import math

import numpy as np
import pytest

from viewer.scene.draw import EntityDraw, LineBatch, PointBatch, Scene, TriangleBatch
from viewer.store.entity_path import EntityPath
from viewer.ui.views.spatial import raster3d
from viewer.ui.views.spatial.orbit_camera import OrbitCamera
from viewer.ui.views.spatial.raster3d import BACKGROUND, decimated, prepare, render

W, H = 200, 150
RED = (255, 0, 0, 255)
GREEN = (0, 255, 0, 255)
BLUE = (0, 0, 255, 255)
_CORNERS = np.array([[x, y, z] for x in (-1, 1) for y in (-1, 1) for z in (-1, 1)], float)
_FACES = [(0, 1, 3, 2), (4, 6, 7, 5), (0, 4, 5, 1), (2, 3, 7, 6), (0, 2, 6, 4), (1, 5, 7, 3)]


def _camera() -> OrbitCamera:
    """Eye at (10, 0, 0) looking at the origin: screen x follows +Y, screen up is +Z."""
    return OrbitCamera(target=np.zeros(3), yaw=0.0, pitch=0.0, distance=10.0,
                       fov_y=math.radians(50.0))


F = _camera().focal_px(H)


def _screen(p) -> tuple[float, float]:
    """Pinhole projection of a point for ``_camera()`` (depth along -X)."""
    x, y, z = p
    depth = 10.0 - x
    return W / 2 + F * y / depth, H / 2 - F * z / depth


def _scene(*draws: EntityDraw) -> Scene:
    return Scene(dims=3, origin=EntityPath.root(), entities={d.entity: d for d in draws})


def _solid_box(name: str, center, half, color) -> EntityDraw:
    ed = EntityDraw(EntityPath.parse(name))
    verts = np.asarray(center, float) + _CORNERS * np.asarray(half, float)
    tris = [(a, b, c) for a, b, c, d in _FACES] + [(a, c, d) for a, b, c, d in _FACES]
    ed.triangles.append(TriangleBatch(ed.entity, "Boxes3D", verts, np.array(tris),
                                      np.tile(np.array(color, np.uint8), (8, 1))))
    return ed


def _points(name: str, xyz, color, radius) -> EntityDraw:
    ed = EntityDraw(EntityPath.parse(name))
    xyz = np.atleast_2d(np.asarray(xyz, float))
    ed.points.append(PointBatch(ed.entity, "Points3D", xyz,
                                np.tile(np.array(color, np.uint8), (len(xyz), 1)),
                                np.full(len(xyz), float(radius))))
    return ed


def _segment(name: str, a, b, color, radius) -> EntityDraw:
    ed = EntityDraw(EntityPath.parse(name))
    ed.lines.append(LineBatch(ed.entity, "LineStrips3D", np.array([[a, b]], float),
                              np.array([color], np.uint8), np.array([float(radius)])))
    return ed


def _rgb(frame) -> np.ndarray:
    """(h, w, 3) uint8 from the packed frame."""
    c = frame.rgb32
    return np.stack([(c >> 16) & 255, (c >> 8) & 255, c & 255], axis=-1).astype(np.uint8)


def _is(rgb: np.ndarray, color) -> np.ndarray:
    return (rgb == np.array(color[:3], np.uint8)).all(axis=-1)


def _covered(frame) -> np.ndarray:
    return frame.rgb32 != np.uint32(BACKGROUND)


def test_red_box_lands_where_the_projection_says():
    center, half = np.array([0.0, 1.0, 0.5]), 0.5
    frame = render(prepare(_scene(_solid_box("/box", center, half, RED))), _camera(), W, H)
    rgb = _rgb(frame)
    red = (rgb[..., 0] > 200) & (rgb[..., 1] < 30) & (rgb[..., 2] < 30)
    corners = np.array([_screen(center + half * c) for c in _CORNERS])
    front = np.array([_screen(center + half * c) for c in _CORNERS if c[0] > 0])
    fx0, fy0 = front.min(axis=0)
    fx1, fy1 = front.max(axis=0)
    ys, xs = np.mgrid[0:H, 0:W] + 0.5  # pixel centres
    inside_front = (xs > fx0 + 1) & (xs < fx1 - 1) & (ys > fy0 + 1) & (ys < fy1 - 1)
    bx0, by0 = corners.min(axis=0)
    bx1, by1 = corners.max(axis=0)
    outside = (xs < bx0 - 1) | (xs > bx1 + 1) | (ys < by0 - 1) | (ys > by1 + 1)
    assert inside_front.sum() > 150  # ~17 x 17 px face
    assert red[inside_front].all()
    assert not _covered(frame)[outside].any()
    # The face looks straight at the headlight: nearly unshaded red.
    assert rgb[inside_front][:, 0].min() >= 240
    # Covered area ~ the front face's projected area (the sides add under a pixel column).
    assert abs(int(red.sum()) - (fx1 - fx0) * (fy1 - fy0)) < 2 * ((fx1 - fx0) + (fy1 - fy0))


def test_nearer_geometry_wins_whatever_the_order():
    near = _solid_box("/near", [2.0, 0.0, 0.0], [0.1, 0.3, 0.3], GREEN)  # depth 7.9
    far = _solid_box("/far", [-2.0, 0.0, 0.0], [0.1, 1.0, 1.0], RED)  # depth 11.9
    dot = _points("/dot", [[4.0, 0.0, 0.8]], BLUE, -3.0)  # in front of the far box
    for order in ((near, far, dot), (dot, far, near)):
        frame = render(prepare(_scene(*order)), _camera(), W, H)
        rgb = _rgb(frame)
        cx, cy = int(W / 2), int(H / 2)
        assert _is(rgb[cy, cx], GREEN)  # both boxes cover the centre: the near one shows
        x, y = _screen([-1.9, 0.7, -0.7])  # far box only
        assert rgb[int(y), int(x), 0] > 200 and rgb[int(y), int(x), 1] < 30
        x, y = _screen([4.0, 0.0, 0.8])
        assert _is(rgb[int(y), int(x)], BLUE)
        depth = frame.depth_order()
        assert depth[cy, cx] < depth[int(_screen([-1.9, 0.7, -0.7])[1]),
                                     int(_screen([-1.9, 0.7, -0.7])[0])]


def test_points_of_any_size_respect_depth():
    """A big far disc and a small near one at the same place: the near one on top, the far
    one's rim around it (a painter's order by size would get this wrong)."""
    far = _points("/far", [[-5.0, 0.0, 0.0]], RED, -10.0)
    near = _points("/near", [[5.0, 0.0, 0.0]], GREEN, -2.0)
    frame = render(prepare(_scene(near, far)), _camera(), W, H)
    rgb = _rgb(frame)
    cx, cy = W // 2, H // 2
    assert _is(rgb[cy, cx], GREEN) and _is(rgb[cy, cx + 2], GREEN)
    assert _is(rgb[cy, cx + 3], RED) and _is(rgb[cy, cx + 10], RED)
    assert not _covered(frame)[cy, cx + 11]


@pytest.mark.parametrize(("radius", "k"), [(-5.0, 5), (-0.5, 0), (0.3, 4)])
def test_point_disc_sizes(radius, k):
    """UI radii are pixels; scene radii shrink with depth (0.3 at depth 10: 4.8 px)."""
    frame = render(prepare(_scene(_points("/p", [[0.0, 0.0, 0.0]], RED, radius))),
                   _camera(), W, H)
    dy, dx = np.mgrid[-k:k + 1, -k:k + 1]
    assert _covered(frame).sum() == int((dx * dx + dy * dy <= (k + 0.5) ** 2).sum())
    row = np.flatnonzero(_covered(frame)[H // 2])
    assert len(row) == 2 * k + 1


def test_triangle_is_filled_and_lit():
    a, b, c = np.array([0.0, -2.0, -1.5]), np.array([0.0, 2.5, -1.0]), np.array([0.0, 0.0, 2.0])
    ed = EntityDraw(EntityPath.parse("/tri"))
    ed.triangles.append(TriangleBatch(ed.entity, "Mesh3D", np.stack([a, b, c]),
                                      np.array([[0, 1, 2]]),
                                      np.array([BLUE, BLUE, BLUE], np.uint8)))
    frame = render(prepare(_scene(ed)), _camera(), W, H)
    s = np.array([_screen(p) for p in (a, b, c)])
    ys, xs = np.mgrid[0:H, 0:W] + 0.5

    def edge(p, q):  # signed distance in pixels of each pixel centre to edge p -> q
        d = q - p
        return ((xs - p[0]) * d[1] - (ys - p[1]) * d[0]) / np.hypot(*d)

    e = [edge(s[0], s[1]), edge(s[1], s[2]), edge(s[2], s[0])]
    sign = np.sign(e[0][int(s[:, 1].mean()), int(s[:, 0].mean())])
    inner = (sign * e[0] > 1) & (sign * e[1] > 1) & (sign * e[2] > 1)
    outer = (sign * e[0] < -1) | (sign * e[1] < -1) | (sign * e[2] < -1)
    covered = _covered(frame)
    assert inner.sum() > 1500
    assert covered[inner].all() and not covered[outer].any()
    (ux, uy), (vx, vy) = s[1] - s[0], s[2] - s[0]
    area = abs(ux * vy - uy * vx) / 2
    assert abs(int(covered.sum()) - area) < 0.05 * area
    blue = _rgb(frame)[inner][:, 2]
    # Facing the headlight: nearly full blue; the corners are seen a little obliquely.
    assert blue.min() >= 225 and _rgb(frame)[inner][:, :2].max() == 0


def test_line_width_follows_radius():
    """-0.75 UI points (Rerun's default) is a 1 px line without gaps; wider radii give
    2k+1 px with k = floor(radius in px); scene radii shrink with depth."""
    a, b = [0.0, -2.0, 0.0], [0.0, 2.0, 0.0]
    x0, x1 = (int(_screen(p)[0]) for p in (a, b))
    for radius, width in ((-0.75, 1), (-2.0, 5), (3.2 * 10 / F, 7)):
        frame = render(prepare(_scene(_segment("/l", a, b, GREEN, radius))), _camera(), W, H)
        cols = _covered(frame)[:, x0 + 6:x1 - 6]
        assert (cols.sum(axis=0) == width).all(), radius
        assert not _covered(frame)[:, : x0 - width].any()


def test_lines_clip_at_the_screen_and_the_near_plane():
    # From far in front through the camera to behind it: only the part in front is drawn.
    frame = render(prepare(_scene(_segment("/l", [-50.0, 0.0, -1.0], [30.0, 0.0, -1.0],
                                           GREEN, -0.75))), _camera(), W, H)
    covered = _covered(frame)
    col = covered[:, W // 2]
    assert col.sum() > 10  # the line runs down the screen's centre column
    assert not covered[: H // 2].any()  # below the horizon only: nothing mirrored above
    # A segment far off screen draws nothing.
    frame = render(prepare(_scene(_segment("/l", [0.0, 500.0, 0.0], [0.0, 600.0, 0.0],
                                           GREEN, -0.75))), _camera(), W, H)
    assert not _covered(frame).any()


def test_points_behind_the_camera_are_not_drawn():
    frame = render(prepare(_scene(_points("/p", [[20.0, 0.0, 0.0], [30.0, 1.0, 1.0]],
                                          RED, -3.0))), _camera(), W, H)
    assert not _covered(frame).any()


def test_picking_names_the_entity_under_a_pixel():
    box = _solid_box("/box", [0.0, -1.0, 0.0], [0.3, 0.3, 0.3], RED)
    line = _segment("/line", [0.0, 1.0, -1.0], [0.0, 1.0, 1.0], GREEN, -0.75)
    frame = render(prepare(_scene(box, line)), _camera(), W, H)
    assert frame.entity_at(*_screen([0.3, -1.0, 0.0])) == EntityPath.parse("/box")
    x, y = _screen([0.0, 1.0, 0.0])
    assert frame.entity_at(x, y) == EntityPath.parse("/line")
    assert frame.entity_at(x + 2, y) == EntityPath.parse("/line")  # within reach
    assert frame.entity_at(x + 2, y, reach=0) is None
    assert frame.entity_at(5, 5) is None
    ids = frame.entity_ids()
    assert set(np.unique(ids).tolist()) == {-1, 0, 1}


def test_preview_keeps_colours_and_ids(monkeypatch):
    """The decimated preview draws fewer points; lines and triangles keep their colours."""
    pts = _points("/pts", np.column_stack([np.zeros(8), np.linspace(-2, 2, 8), np.ones(8)]),
                  RED, -2.0)
    line = _segment("/line", [0.0, -2.0, -1.0], [0.0, 2.0, -1.0], GREEN, -0.75)
    prepared = prepare(_scene(pts, line))
    frame = render(decimated(prepared, 4), _camera(), W, H)
    rgb = _rgb(frame)
    assert _is(rgb, RED).sum() == 2 * 21  # points 0 and 4 of 8, discs of radius 2 (21 px)
    x, y = _screen([0.0, 0.0, -1.0])
    assert _is(rgb[int(y), int(x)], GREEN)
    assert frame.entity_at(x, y) == EntityPath.parse("/line")
    # One segment in two of big entities: the kept ones keep their colour and entity.
    two = EntityDraw(EntityPath.parse("/two"))
    two.lines.append(LineBatch(two.entity, "LineStrips3D",
                               np.array([[[0.0, -2, -1], [0.0, 2, -1]], [[0.0, -2, -0.5],
                                                                         [0.0, 2, -0.5]]]),
                               np.array([GREEN, BLUE], np.uint8), np.array([-0.75, -0.75])))
    prepared = prepare(_scene(pts, two))
    frame = render(decimated(prepared, 4, 2), _camera(), W, H)  # small: kept whole
    assert _is(_rgb(frame), BLUE).sum() > 50
    monkeypatch.setattr(raster3d, "KEEP_SEGMENTS", 1)
    frame = render(decimated(prepared, 4, 2), _camera(), W, H)
    rgb = _rgb(frame)
    assert _is(rgb[int(y), int(x)], GREEN)
    assert frame.entity_at(x, y) == EntityPath.parse("/two")
    assert not _is(rgb, BLUE).any()  # the second segment is left out


def test_non_finite_positions_are_skipped():
    pts = _points("/p", [[0.0, 0.0, 0.0], [np.nan, 1.0, 1.0], [np.inf, 0.0, 0.0],
                         [0.0, 2.0, 1.0]], RED, -1.0)
    prepared = prepare(_scene(pts))
    lo, hi = prepared.bounds
    np.testing.assert_array_equal(lo, [0.0, 0.0, 0.0])
    np.testing.assert_array_equal(hi, [0.0, 2.0, 1.0])
    frame = render(prepared, _camera(), W, H)
    assert _is(_rgb(frame), RED).sum() == 2 * 9  # the two finite points, 3x3 discs


def test_see_through_fill_blends_over_what_is_behind():
    """Rerun's default box fill is see-through (alpha / 4): it tints what is behind it by
    its opacity, never what is in front of it, and double-clicks pick it."""
    glass = _solid_box("/glass", [2.0, 0.0, 0.0], [0.1, 0.5, 0.5], (0, 255, 0, 64))
    wall = _solid_box("/wall", [-2.0, 0.0, 0.0], [0.1, 1.0, 1.0], RED)
    blocker = _solid_box("/blocker", [4.0, 0.0, 0.6], [0.1, 0.2, 0.2], BLUE)  # in front
    frame = render(prepare(_scene(glass, wall, blocker)), _camera(), W, H)
    rgb = _rgb(frame).astype(int)
    through = (1 - 64 / 255) ** 2  # the glass box's front and back faces
    x, y = (int(v) for v in _screen([2.1, 0.2, -0.2]))  # glass over the wall
    assert abs(rgb[y, x, 0] - 255 * through) <= 4
    assert abs(rgb[y, x, 1] - 255 * (1 - through)) <= 6  # lit ~1: faces the headlight
    x, y = (int(v) for v in _screen([-1.9, 0.8, 0.8]))  # wall only
    assert rgb[y, x, 0] > 240 and rgb[y, x, 1] == 0
    x, y = (int(v) for v in _screen([4.1, 0.0, 0.6]))  # the blocker is nearer than the glass
    assert tuple(rgb[y, x]) == (0, 0, 255) or (rgb[y, x, 2] > 240 and rgb[y, x, 1] == 0)
    assert frame.entity_at(*_screen([2.1, 0.2, -0.2])) == EntityPath.parse("/glass")
    assert frame.entity_at(*_screen([4.1, 0.0, 0.6])) == EntityPath.parse("/blocker")


def test_triangles_through_the_camera_plane_are_cut_not_dropped():
    """A floor under the camera reaching behind it: its visible part fills the lower half
    of the view, up to the horizon."""
    ed = EntityDraw(EntityPath.parse("/floor"))
    corners = np.array([[-40.0, -40.0, -1.0], [30.0, -40.0, -1.0], [30.0, 40.0, -1.0],
                        [-40.0, 40.0, -1.0]])
    ed.triangles.append(TriangleBatch(ed.entity, "Mesh3D", corners,
                                      np.array([[0, 1, 2], [0, 2, 3]]),
                                      np.tile(np.array(GREEN, np.uint8), (4, 1))))
    frame = render(prepare(_scene(ed)), _camera(), W, H)
    covered = _covered(frame)
    _, horizon = _screen([-40.0, 0.0, -1.0])  # the far edge, just below the horizon
    assert covered[int(horizon) + 2:].all()  # every pixel below, down to the bottom row
    assert not covered[: H // 2].any()
    assert frame.entity_at(W / 2, H - 1) == EntityPath.parse("/floor")


def test_images_lifted_into_3d_are_not_shaded():
    """The same grey quad seen at 60 degrees: lit as a mesh it darkens, as an image it
    keeps its colour."""
    quad = np.array([[0.0, -1.0, -1.0], [0.0, 1.0, -1.0], [0.0, 1.0, 1.0], [0.0, -1.0, 1.0]])
    tilt = math.radians(60)
    rot = np.array([[math.cos(tilt), -math.sin(tilt), 0], [math.sin(tilt), math.cos(tilt), 0],
                    [0, 0, 1]])
    grey = np.tile(np.array([200, 200, 200, 255], np.uint8), (4, 1))
    seen = {}
    for arch in ("Mesh3D", "Image"):
        ed = EntityDraw(EntityPath.parse("/q"))
        ed.triangles.append(TriangleBatch(ed.entity, arch, quad @ rot.T,
                                          np.array([[0, 1, 2], [0, 2, 3]]), grey))
        frame = render(prepare(_scene(ed)), _camera(), W, H)
        seen[arch] = _rgb(frame)[H // 2, W // 2]
    assert tuple(seen["Image"]) == (200, 200, 200)
    # Lambert at ~60 degrees: 0.3 + 0.7 * cos(60) = 0.65 of the colour.
    assert abs(int(seen["Mesh3D"][0]) - 200 * 0.65) <= 6


def _rotation(yaw: float, pitch: float) -> np.ndarray:
    cy, sy, cp, sp = math.cos(yaw), math.sin(yaw), math.cos(pitch), math.sin(pitch)
    rz = np.array([[cy, -sy, 0.0], [sy, cy, 0.0], [0.0, 0.0, 1.0]])
    ry = np.array([[cp, 0.0, sp], [0.0, 1.0, 0.0], [-sp, 0.0, cp]])
    return rz @ ry


def _turned_box(name: str, center, half: float, color, rot: np.ndarray) -> EntityDraw:
    """A cube turned by ``rot`` (three faces towards the camera), wound outwards."""
    ed = _solid_box(name, [0.0, 0.0, 0.0], half, color)
    b = ed.triangles[0]
    b.vertices = b.vertices @ rot.T + np.asarray(center, float)
    return ed


def _hull(pts: np.ndarray) -> np.ndarray:
    """Convex hull of 2D points, counter-clockwise (monotone chain)."""
    pts = sorted(map(tuple, pts))

    def half(seq):
        out = []
        for p in seq:
            while len(out) >= 2 and ((out[-1][0] - out[-2][0]) * (p[1] - out[-2][1])
                                     - (out[-1][1] - out[-2][1]) * (p[0] - out[-2][0])) <= 0:
                out.pop()
            out.append(p)
        return out

    lower, upper = half(pts), half(reversed(pts))
    return np.array(lower[:-1] + upper[:-1])


def _signed_distance_to_hull(hull: np.ndarray) -> np.ndarray:
    """(H, W) distance of each pixel centre inside the hull (> 0) or outside (< 0)."""
    ys, xs = np.mgrid[0:H, 0:W] + 0.5
    d = np.full((H, W), np.inf)
    for p, q in zip(hull, np.roll(hull, -1, axis=0), strict=True):
        e = q - p
        # Counter-clockwise in (x, y-down) pixels: inside is to the left of each edge.
        d = np.minimum(d, ((xs - p[0]) * e[1] - (ys - p[1]) * e[0]) / -np.hypot(*e))
    return d


@pytest.mark.parametrize("half", [0.25, 1.2])  # ~15 px (grid path) and ~70 px (scanlines)
def test_solid_box_fills_its_projected_silhouette_and_nothing_else(half):
    rot = _rotation(0.6, 0.4)
    center = np.array([0.0, 0.3, -0.2])
    frame = render(prepare(_scene(_turned_box("/box", center, half, RED, rot))), _camera(),
                   W, H)
    corners = np.array([_screen(center + rot @ (half * c)) for c in _CORNERS])
    hull = _hull(corners)
    d = _signed_distance_to_hull(hull)
    if d[int(H / 2), int(W / 2)] < 0:  # the hull came out clockwise: flip the sign
        d = -d
    rgb = _rgb(frame)
    covered = _covered(frame)
    assert (d > 1).sum() > (60 if half < 1 else 2000)
    assert covered[d > 1].all()
    assert not covered[d < -1].any()
    # Red only, lit: every visible face is shaded between ambient and full.
    assert rgb[covered][:, 1:].max() == 0
    assert rgb[covered][:, 0].min() >= int(255 * 0.3)
    area = 0.5 * abs(np.dot(hull[:, 0], np.roll(hull[:, 1], -1))
                     - np.dot(hull[:, 1], np.roll(hull[:, 0], -1)))
    perimeter = np.hypot(*(np.roll(hull, -1, axis=0) - hull).T).sum()
    assert abs(int(covered.sum()) - area) < perimeter


@pytest.mark.parametrize("half", [0.3, 1.5])
def test_see_through_box_blends_at_its_alpha(half):
    """Front and back faces of a see-through box each let (1 - alpha) through: over an
    opaque wall the inside of its silhouette is wall * (1 - a)^2 + colour * (1 - (1 - a)^2);
    the drag preview's silhouette (front faces at the opacity of both) gives the same."""
    a = 64
    glass = _solid_box("/glass", [2.0, 0.0, 0.0], [half, half, half], (0, 255, 0, a))
    wall = _solid_box("/wall", [-3.0, 0.0, 0.0], [0.1, 3.0, 3.0], RED)
    prepared = prepare(_scene(glass, wall))
    through = (1 - a / 255) ** 2
    x, y = (int(v) for v in _screen([2.0 + half, 0.05, -0.05]))  # the face's middle
    wall_only = _rgb(render(prepare(_scene(wall)), _camera(), W, H)).astype(int)
    behind = wall_only[y, x]
    assert behind[0] > 240 and behind[1:].max() == 0  # the wall, lit ~1
    for p in (prepared, decimated(prepared, 1)):  # full frame, then the preview's way
        rgb = _rgb(render(p, _camera(), W, H)).astype(int)
        assert abs(rgb[y, x, 0] - behind[0] * through) <= 2
        # Green at the glass's coverage, lit by the headlight (~1 where it faces the eye).
        assert 0.93 * 255 * (1 - through) - 2 <= rgb[y, x, 1] <= 255 * (1 - through) + 2
        assert rgb[y, x, 2] == 0
        x0, y0 = (int(v) for v in _screen([2.0 + half, 0.0, half]))  # top edge of the box
        assert (rgb[y0 - 3, x0] == wall_only[y0 - 3, x0]).all()  # nothing of it above
        # Everywhere inside the silhouette the same blend (flat faces, uniform alpha).
        x1, y1 = (int(v) for v in _screen([2.0 + half, -0.6 * half, 0.6 * half]))
        assert np.abs(rgb[y1, x1] - rgb[y, x]).max() <= 3


def test_triangles_and_points_hide_each_other_by_depth():
    """Points in front of a solid box show over it, points behind it are hidden where it
    covers them; a see-through box tints the points behind it, not those in front."""
    box = _solid_box("/box", [0.0, 0.0, 0.0], [0.5, 0.5, 0.5], BLUE)
    # (Off the faces' diagonals, where a pixel centre could sit on two triangles' edge.)
    pts = _points("/pts", [[3.0, 0.2, 0.2], [-3.0, -0.25, 0.1], [-3.0, 1.5, 0.0]], RED, -2.0)
    frame = render(prepare(_scene(box, pts)), _camera(), W, H)
    rgb = _rgb(frame)
    for p, color in (([3.0, 0.2, 0.2], RED), ([-3.0, -0.25, 0.1], None),
                     ([-3.0, 1.5, 0.0], RED)):
        x, y = (int(v) for v in _screen(p))
        if color is None:  # behind the box: its face shows (lit blue)
            assert rgb[y, x, 2] > 200 and rgb[y, x, 0] == 0
        else:
            assert _is(rgb[y, x], color)
    assert frame.entity_at(*_screen([3.0, 0.2, 0.2]), reach=0) == EntityPath.parse("/pts")
    assert frame.entity_at(*_screen([-3.0, -0.25, 0.1]), reach=0) == EntityPath.parse("/box")
    glass = _solid_box("/glass", [0.0, 0.0, 0.0], [0.5, 0.5, 0.5], (0, 0, 255, 128))
    frame = render(prepare(_scene(glass, pts)), _camera(), W, H)
    rgb = _rgb(frame).astype(int)
    x, y = (int(v) for v in _screen([3.0, 0.2, 0.2]))
    assert tuple(rgb[y, x]) == (255, 0, 0)  # in front of the glass: untouched
    x, y = (int(v) for v in _screen([-3.0, -0.25, 0.1]))
    through = (1 - 128 / 255) ** 2
    assert abs(rgb[y, x, 0] - 255 * through) <= 3  # behind it: tinted by both faces
    assert abs(rgb[y, x, 2] - 255 * (1 - through)) <= 4


def test_open_meshes_show_both_sides_closed_shapes_cull_back_faces():
    """A Mesh3D triangle is drawn whichever way it is wound; the back faces of a closed
    opaque shape are skipped (they are hidden), so a box wound inside out shows its far
    faces, as a GPU culling back faces would."""
    a, b, c = np.array([0.0, -2.0, -1.5]), np.array([0.0, 2.5, -1.0]), np.array([0.0, 0.0, 2.0])
    seen = []
    for order in ([0, 1, 2], [0, 2, 1]):
        ed = EntityDraw(EntityPath.parse("/tri"))
        ed.triangles.append(TriangleBatch(ed.entity, "Mesh3D", np.stack([a, b, c]),
                                          np.array([order]), np.array([BLUE] * 3, np.uint8)))
        seen.append(_covered(render(prepare(_scene(ed)), _camera(), W, H)))
    assert seen[0].sum() > 1500
    np.testing.assert_array_equal(seen[0], seen[1])
    box = _solid_box("/box", [0.0, 0.0, 0.0], [0.5, 0.5, 0.5], RED)
    inside_out = _solid_box("/box", [0.0, 0.0, 0.0], [0.5, 0.5, 0.5], RED)
    inside_out.triangles[0].triangles = inside_out.triangles[0].triangles[:, ::-1].copy()
    near = render(prepare(_scene(box)), _camera(), W, H).depth_order()
    far = render(prepare(_scene(inside_out)), _camera(), W, H).depth_order()
    x, y = W // 2, H // 2
    assert near[y, x] < far[y, x] < 0xFFFFFFFF


def test_preview_leaves_out_the_see_through_fill_of_an_entity_with_many_shapes():
    """10 000 default-fill boxes: while the camera moves their fill waits for the full frame
    (most of a preview's time), a small entity keeps its fill, and the lines stay."""
    def fill(name: str, n_tri: int) -> EntityDraw:
        path = EntityPath.parse(name)
        verts = np.random.default_rng(0).normal(size=(3 * n_tri, 3))
        tris = np.arange(3 * n_tri).reshape(-1, 3)
        colors = np.tile(np.array([[200, 40, 40, 80]], np.uint8), (3 * n_tri, 1))
        segs = np.array([[[0.0, 0, 0], [1, 1, 1]]])
        return EntityDraw(path, ["Boxes3D"], n_tri, triangles=[
            TriangleBatch(path, "Boxes3D", verts, tris, colors)],
            lines=[LineBatch(path, "Boxes3D", segs, np.array([[255, 0, 0, 255]], np.uint8),
                             np.array([-1.0]))])

    many = raster3d.KEEP_SEE_THROUGH + 1
    prepared = prepare(_scene(fill("/many", many), fill("/few", 12)))
    assert len(prepared.see_through) == many + 12
    preview = decimated(prepared, 4, 2)
    kept = {prepared.entities[i] for i in np.unique(preview.see_through.entity)}
    assert kept == {EntityPath.parse("/few")}
    assert preview.l_ids.size == prepared.l_ids.size  # every line still drawn


def _lifted(name: str, arch: str, rgba: np.ndarray, opacity: float, draw_order: float
            ) -> EntityDraw:
    """An image lifted as the scene layer lifts it (its cell grid), on the plane x = 0
    facing the camera, 2 units wide, pixel u along +Y, v along -Z."""
    from viewer.scene.visualizers.image_layers import grid_cells

    h, w = rgba.shape[:2]
    corners, tris, cols = grid_cells(rgba, opacity)
    scale = 2.0 / w
    verts = np.stack([np.zeros(len(corners)), (corners[:, 0] - w / 2) * scale,
                      -(corners[:, 1] - h / 2) * scale], axis=1)
    ed = EntityDraw(EntityPath.parse(name))
    ed.triangles.append(TriangleBatch(ed.entity, arch, verts, tris, cols,
                                      draw_order=draw_order))
    return ed


def _segmented(h: int, w: int) -> np.ndarray:
    """Red in the middle half, transparent around it."""
    seg = np.zeros((h, w, 4), np.uint8)
    seg[h // 4: 3 * h // 4, w // 4: 3 * w // 4] = RED
    return seg


def test_images_on_one_plane_layer_by_draw_order():
    """A half-opaque segmentation over an opaque image on the same plane (grids of other
    sizes) blends over it, as in the 2D view; drawn under it, the image hides it."""
    blue = np.empty((30, 40, 4), np.uint8)
    blue[:] = BLUE
    seg = _segmented(20, 25)
    alpha = int(255 * 0.5) / 255  # the grid's alpha: 127
    for seg_order, expected in ((0.0, (255 * alpha, 0, 255 * (1 - alpha))),
                                (-20.0, (0, 0, 255))):
        scene = _scene(_lifted("/cam/seg", "SegmentationImage", seg, 0.5, seg_order),
                       _lifted("/cam/rgb", "Image", blue, 1.0, -10.0))
        rgb = _rgb(render(prepare(scene), _camera(), W, H)).astype(int)
        assert np.abs(rgb[H // 2, W // 2] - expected).max() <= 2, seg_order
        x, y = (int(v) for v in _screen([0.0, 0.9, 0.65]))  # outside the segmented part
        assert tuple(rgb[y, x]) == (0, 0, 255)


def test_segmentation_shows_over_its_image_in_the_frustum_of_a_recording(tmp_path):
    """rerun-sdk writes a camera with an RGB image and a segmentation image; in 3D the
    segmented region shows the class colour blended at half opacity over the image."""
    from ui_views_support import write_recording

    from viewer.scene.build import build_scene
    from viewer.scene.colors import class_color
    from viewer.scene.transforms import TransformResolver

    def log(rr, rec):
        rec.log("world/cam", rr.Pinhole(focal_length=50, width=100, height=80,
                                        camera_xyz=rr.ViewCoordinates.BLU,
                                        image_plane_distance=1.0), static=True)
        rgb = np.zeros((80, 100, 3), np.uint8)
        rgb[:] = (0, 0, 255)
        rec.log("world/cam/rgb", rr.Image(rgb), static=True)
        seg = np.zeros((80, 100), np.uint8)
        seg[20:60, 30:70] = 1
        rec.log("world", rr.AnnotationContext([rr.AnnotationInfo(id=1, color=(255, 0, 0))]),
                static=True)
        rec.log("world/cam/seg", rr.SegmentationImage(seg), static=True)

    db = write_recording(tmp_path / "seg.rrd", tmp_path, log)
    scene = build_scene(db, EntityPath.root(), db.entities(), 3, None, None,
                        TransformResolver(db))
    camera = OrbitCamera(target=np.array([-1.0, 0.0, 0.0]), yaw=0.0, pitch=0.0, distance=4.0,
                         fov_y=math.radians(50.0))  # looking at the image plane (x = -1)
    rgb = _rgb(render(prepare(scene), camera, W, H)).astype(int)
    alpha = int(255 * 0.5) / 255
    # 15 image pixels right of the principal point (inside the segmented square, off the
    # frustum's lines that meet at the centre of the view); right is -Y in BLU
    inside, outside = camera.project(np.array([[-1.0, -0.3, 0.0], [-1.0, -0.9, 0.6]]), W, H).xy
    x, y = (int(v) for v in inside)
    assert np.abs(rgb[y, x] - (255 * alpha, 0, 255 * (1 - alpha))).max() <= 2
    x, y = (int(v) for v in outside)  # class 0 in its default colour, half opaque
    c0 = np.array(class_color(0)[:3])
    assert np.abs(rgb[y, x] - (c0 * alpha + np.array([0, 0, 255]) * (1 - alpha))).max() <= 2
