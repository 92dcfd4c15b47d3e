"""Visualizers on recordings written by rerun-sdk: every archetype's batches (counts,
positions after known transforms, colours, labels), in the view origin's coordinates."""

from __future__ import annotations

import numpy as np
import pytest

from viewer.scene import colors
from viewer.scene.build import build_scene
from viewer.scene.draw import Scene
from viewer.scene.transforms import TransformResolver
from viewer.store.entity_path import EntityPath

P = EntityPath.parse


def scene_of(db, dims: int = 3, t: int | None = 0, origin: str = "/",
             timeline: str | None = "frame") -> Scene:
    return build_scene(db, P(origin), db.entities(), dims, timeline if t is not None else None,
                       t, TransformResolver(db))


def rot_z(deg: float) -> np.ndarray:
    a = np.radians(deg)
    return np.array([[np.cos(a), -np.sin(a), 0], [np.sin(a), np.cos(a), 0], [0, 0, 1]])


def seg_set(segments: np.ndarray, decimals: int = 6) -> set:
    """Undirected segments as a set of sorted endpoint tuples."""
    out = set()
    for a, b in np.round(segments, decimals):
        out.add(tuple(sorted([tuple(a.tolist()), tuple(b.tolist())])))
    return out


# ------------------------------------------------------------------ points


def test_points3d_positions_follow_the_transform_chain_colours_radii_labels(rrd) -> None:
    def log(rec):
        import rerun as rr

        rec.set_time("frame", sequence=0)
        rec.log("world", rr.Transform3D(translation=[1, 2, 3],
                                        rotation_axis_angle=rr.RotationAxisAngle([0, 0, 1],
                                                                                 degrees=90)))
        rec.log("world/pts", rr.Points3D([[1, 0, 0], [0, 1, 0]], colors=[[10, 20, 30], [40, 50, 60]],
                                         radii=[0.5], labels=["a", "b"]))

    ed = scene_of(rrd(log)).entities[P("world/pts")]
    assert ed.archetypes == ["Points3D"] and ed.instances == 2 and ed.error is None
    (batch,) = ed.points
    np.testing.assert_allclose(batch.positions, [[1, 3, 3], [0, 2, 3]], atol=1e-6)
    assert batch.colors.tolist() == [[10, 20, 30, 255], [40, 50, 60, 255]]
    assert batch.radii.tolist() == [0.5, 0.5]
    assert [lb.text for lb in ed.labels] == ["a", "b"]
    np.testing.assert_allclose(ed.labels[1].position, [0, 2, 3], atol=1e-6)
    assert ed.labels[0].color == (10, 20, 30, 255)
    np.testing.assert_allclose(ed.transform[:3, 3], [1, 2, 3])


def test_points_default_colour_radius_and_one_label_for_many(rrd) -> None:
    def log(rec):
        import rerun as rr

        rec.log("cloud", rr.Points3D([[0, 0, 0], [2, 4, 6], [1, 1, 1]], labels=["cloud"]),
                static=True)

    ed = scene_of(rrd(log), t=None).entities[P("cloud")]
    (batch,) = ed.points
    assert (batch.colors == colors.entity_color(P("cloud"))).all()
    assert (batch.radii == -2.5).all()
    (label,) = ed.labels  # one label for three points, at the centre of their bounds
    assert label.text == "cloud"
    np.testing.assert_allclose(label.position, [1, 2, 3])


def test_class_ids_take_annotation_colours_and_labels_explicit_colours_win(rrd) -> None:
    def log(rec):
        import rerun as rr

        rec.log("/", rr.AnnotationContext([
            rr.AnnotationInfo(id=1, label="car", color=(255, 0, 0)),
            rr.AnnotationInfo(id=2, label="tree"),
        ]), static=True)
        rec.log("a", rr.Points2D([[0, 0], [1, 1], [2, 2]], class_ids=[1, 2, 7]), static=True)
        rec.log("b", rr.Points2D([[0, 0]], class_ids=[1], colors=[[0, 0, 255]]), static=True)

    scene = scene_of(rrd(log), dims=2, t=None)
    a = scene.entities[P("a")]
    assert a.points[0].colors.tolist() == [
        [255, 0, 0, 255], list(colors.class_color(2)), list(colors.class_color(7))]
    assert [lb.text for lb in a.labels] == ["car", "tree"]  # class 7 has no label
    b = scene.entities[P("b")]
    assert b.points[0].colors.tolist() == [[0, 0, 255, 255]]


def test_keypoint_connections_become_lines(rrd) -> None:
    def log(rec):
        import rerun as rr

        rec.log("/", rr.AnnotationContext([rr.ClassDescription(
            info=rr.AnnotationInfo(id=0, label="person", color=(0, 255, 0)),
            keypoint_annotations=[rr.AnnotationInfo(id=0, label="head"),
                                  rr.AnnotationInfo(id=1, label="hip", color=(9, 9, 9))],
            keypoint_connections=[(0, 1), (1, 2)],
        )]), static=True)
        rec.log("skeleton", rr.Points3D([[0, 0, 2], [0, 0, 1], [0, 1, 0]],
                                        class_ids=0, keypoint_ids=[0, 1, 2]), static=True)
        # rerun-sdk gives keypoints logged without a class the class id 0
        rec.log("classless", rr.Points3D([[0, 0, 2], [0, 0, 1]], keypoint_ids=[0, 1]),
                static=True)

    scene = scene_of(rrd(log), t=None)
    classless = scene.entities[P("classless")]
    assert [lb.text for lb in classless.labels] == ["head", "hip"]
    assert len(classless.lines[0].segments) == 1  # 0-1; keypoint 2 is missing
    ed = scene.entities[P("skeleton")]
    assert ed.points[0].colors.tolist()[:2] == [[0, 255, 0, 255], [9, 9, 9, 255]]
    assert [lb.text for lb in ed.labels] == ["head", "hip", "person"]
    (lines,) = ed.lines
    assert seg_set(lines.segments) == seg_set(np.array(
        [[[0, 0, 2], [0, 0, 1]], [[0, 0, 1], [0, 1, 0]]], float))
    assert (lines.colors == [0, 255, 0, 255]).all()


def test_clear_leaves_zero_instances(rrd) -> None:
    def log(rec):
        import rerun as rr

        rec.set_time("frame", sequence=0)
        rec.log("pts", rr.Points3D([[0, 0, 0]]))
        rec.set_time("frame", sequence=5)
        rec.log("pts", rr.Clear(recursive=False))

    db = rrd(log)
    assert scene_of(db, t=4).entities[P("pts")].instances == 1
    ed = scene_of(db, t=5).entities[P("pts")]
    assert ed.instances == 0 and not ed.points and ed.error is None


def test_instance_poses_repeat_points(rrd) -> None:
    def log(rec):
        import rerun as rr

        rec.log("p", rr.Points3D([[1, 0, 0]], labels=["x"]), static=True)
        rec.log("p", rr.InstancePoses3D(translations=[[0, 0, 0], [0, 0, 10]]), static=True)

    ed = scene_of(rrd(log), t=None).entities[P("p")]
    (batch,) = ed.points
    np.testing.assert_allclose(batch.positions, [[1, 0, 0], [1, 0, 10]])
    assert len(batch.colors) == len(batch.radii) == 2
    np.testing.assert_allclose([lb.position for lb in ed.labels], [[1, 0, 0], [1, 0, 10]])


# ------------------------------------------------------------------ boxes


def test_boxes3d_wireframe_edges_and_solid_triangles(rrd) -> None:
    def log(rec):
        import rerun as rr

        rec.log("wire", rr.Boxes3D(centers=[[10, 0, 0], [0, 0, 0]], half_sizes=[[1, 2, 3]],
                                   fill_mode="majorwireframe", colors=[255, 0, 0]), static=True)
        rec.log("solid", rr.Boxes3D(half_sizes=[[1, 2, 3]], fill_mode="solid",
                                    quaternions=[rr.Quaternion(xyzw=[0, 0, np.sin(np.pi / 4),
                                                                     np.cos(np.pi / 4)])]),
                static=True)
        rec.log("default", rr.Boxes3D(half_sizes=[[1, 1, 1]], colors=[[0, 0, 200, 200]]),
                static=True)

    scene = scene_of(rrd(log), t=None)
    wire = scene.entities[P("wire")]
    assert wire.instances == 2 and not wire.triangles
    (lines,) = wire.lines
    assert lines.segments.shape == (24, 2, 3)
    first = lines.segments[:12].reshape(-1, 3)
    np.testing.assert_allclose(first.min(axis=0), [9, -2, -3])
    np.testing.assert_allclose(first.max(axis=0), [11, 2, 3])
    assert (lines.colors == [255, 0, 0, 255]).all() and (lines.radii == -0.5).all()
    solid = scene.entities[P("solid")]
    assert not solid.lines
    (tris,) = solid.triangles
    assert tris.vertices.shape == (8, 3) and tris.triangles.shape == (12, 3)
    # 90 degrees about z swaps the x and y extents
    np.testing.assert_allclose(np.abs(tris.vertices).max(axis=0), [2, 1, 3], atol=1e-6)
    default = scene.entities[P("default")]  # Rerun's default: see-through fill + wireframe
    assert len(default.lines[0].segments) == 12 and len(default.triangles[0].triangles) == 12
    assert default.triangles[0].colors[0].tolist() == [0, 0, 200, 50]


def test_boxes3d_rotation_axis_angle_and_instance_poses(rrd) -> None:
    def log(rec):
        import rerun as rr

        rec.log("b", rr.Boxes3D(half_sizes=[[1, 2, 3]], centers=[[0, 0, 5]], fill_mode="solid",
                                rotation_axis_angles=[rr.RotationAxisAngle([0, 0, 1],
                                                                           degrees=90)]),
                static=True)
        rec.log("b", rr.InstancePoses3D(translations=[[100, 0, 0], [200, 0, 0]]), static=True)

    (tris,) = scene_of(rrd(log), t=None).entities[P("b")].triangles
    assert tris.vertices.shape == (16, 3) and tris.triangles.shape == (24, 3)
    first, second = tris.vertices[:8], tris.vertices[8:]
    np.testing.assert_allclose(first.min(axis=0), [98, -1, 2], atol=1e-6)
    np.testing.assert_allclose(second.max(axis=0), [202, 1, 8], atol=1e-6)
    assert tris.triangles.max() == 15


def test_boxes2d_become_four_edges_at_the_right_pixels(rrd) -> None:
    def log(rec):
        import rerun as rr

        rec.log("box", rr.Boxes2D(mins=[[10, 20]], sizes=[[30, 40]], labels=["car"]),
                static=True)

    ed = scene_of(rrd(log), dims=2, t=None).entities[P("box")]
    (lines,) = ed.lines
    assert lines.segments.shape == (4, 2, 2) and lines.draw_order == 10.0
    assert seg_set(lines.segments) == seg_set(np.array([
        [[10, 20], [40, 20]], [[40, 20], [40, 60]], [[40, 60], [10, 60]], [[10, 60], [10, 20]],
    ], float))
    (label,) = ed.labels  # Rerun hangs a box's label under the middle of its bottom edge
    assert label.text == "car" and label.position.tolist() == [25, 60]
    assert label.wrap_width == 30.0  # wrapped to the box's width


# ------------------------------------------------------------------ lines and arrows


def test_line_strips_become_segments_per_strip_colours(rrd) -> None:
    def log(rec):
        import rerun as rr

        rec.log("l", rr.LineStrips3D([[[0, 0, 0], [1, 0, 0], [1, 1, 0]], [[5, 5, 5], [6, 6, 6]],
                                      [[9, 9, 9]]],
                                     colors=[[255, 0, 0], [0, 255, 0], [0, 0, 255]],
                                     radii=[0.1, 0.2, 0.3]), static=True)
        rec.log("l2", rr.LineStrips2D([[[0, 0], [4, 3]]], draw_order=3), static=True)

    db = rrd(log)
    scene = scene_of(db, t=None)
    ed = scene.entities[P("l")]
    (lines,) = ed.lines
    np.testing.assert_allclose(lines.segments, [[[0, 0, 0], [1, 0, 0]], [[1, 0, 0], [1, 1, 0]],
                                                [[5, 5, 5], [6, 6, 6]]])
    assert lines.colors[:, :3].tolist() == [[255, 0, 0], [255, 0, 0], [0, 255, 0]]
    np.testing.assert_allclose(lines.radii, [0.1, 0.1, 0.2])
    assert ed.instances == 3
    two = scene_of(db, dims=2, t=None).entities[P("l2")]
    assert two.lines[0].segments.tolist() == [[[0, 0], [4, 3]]]
    assert two.lines[0].draw_order == 3.0


def test_arrows_shaft_and_head(rrd) -> None:
    def log(rec):
        import rerun as rr

        rec.log("a", rr.Arrows3D(origins=[[1, 1, 1]], vectors=[[0, 0, 10]]), static=True)
        rec.log("a2", rr.Arrows2D(vectors=[[10, 0]]), static=True)

    db = rrd(log)
    (lines,) = scene_of(db, t=None).entities[P("a")].lines
    assert lines.segments.shape == (5, 2, 3)
    np.testing.assert_allclose(lines.segments[0], [[1, 1, 1], [1, 1, 11]])
    # head lines run from the tip back 15 % of the length, 6 % of it out to the side
    np.testing.assert_allclose(lines.segments[1:, 0], np.tile([1, 1, 11], (4, 1)))
    np.testing.assert_allclose(lines.segments[1:, 1, 2], 9.5)
    np.testing.assert_allclose(np.linalg.norm(lines.segments[1:, 1, :2] - 1, axis=1), 0.6)
    (lines2,) = scene_of(db, dims=2, t=None).entities[P("a2")].lines
    np.testing.assert_allclose(lines2.segments, [[[0, 0], [10, 0]], [[10, 0], [8.5, 0.6]],
                                                 [[10, 0], [8.5, -0.6]]], atol=1e-9)


# ------------------------------------------------------------------ meshes and shapes


def test_mesh3d_indices_vertex_colours_albedo_and_normals(rrd) -> None:
    def log(rec):
        import rerun as rr

        rec.log("m", rr.Mesh3D(vertex_positions=[[0, 0, 0], [1, 0, 0], [0, 1, 0], [1, 1, 0]],
                               triangle_indices=[[0, 1, 2], [1, 3, 2]],
                               vertex_colors=[[200, 100, 50]] * 4, albedo_factor=[0.5, 1, 1, 1],
                               vertex_normals=[[0, 0, 1]] * 4), static=True)
        rec.log("soup", rr.Mesh3D(vertex_positions=np.arange(18).reshape(6, 3)), static=True)

    scene = scene_of(rrd(log), t=None)
    assert scene.entities[P("m")].instances == 1
    (m,) = scene.entities[P("m")].triangles
    assert m.triangles.tolist() == [[0, 1, 2], [1, 3, 2]]
    assert m.colors[0].tolist() == [100, 100, 50, 255]  # red channel halved by the albedo
    np.testing.assert_allclose(m.normals, [[0, 0, 1]] * 4)
    (soup,) = scene.entities[P("soup")].triangles
    assert soup.triangles.tolist() == [[0, 1, 2], [3, 4, 5]]
    assert soup.colors.tolist() == [[255, 255, 255, 255]] * 6 and soup.normals is None


def test_ellipsoids_lie_on_their_surface(rrd) -> None:
    def log(rec):
        import rerun as rr

        rec.log("wire", rr.Ellipsoids3D(half_sizes=[[1, 2, 3]], centers=[[5, 0, 0]],
                                        fill_mode="majorwireframe"), static=True)
        rec.log("solid", rr.Ellipsoids3D(half_sizes=[[1, 2, 3]], fill_mode="solid"), static=True)

    scene = scene_of(rrd(log), t=None)
    (wire,) = scene.entities[P("wire")].lines
    pts = wire.segments.reshape(-1, 3) - [5, 0, 0]
    np.testing.assert_allclose(((pts / [1, 2, 3]) ** 2).sum(axis=1), 1.0)
    assert len(wire.segments) == 3 * 48  # the three axis-aligned cross-sections
    (solid,) = scene.entities[P("solid")].triangles
    np.testing.assert_allclose(((solid.vertices / [1, 2, 3]) ** 2).sum(axis=1), 1.0)
    np.testing.assert_allclose(solid.vertices.max(axis=0), [1, 2, 3], atol=1e-6)


def test_capsules_run_along_z_with_hemispherical_ends(rrd) -> None:
    def log(rec):
        import rerun as rr

        rec.log("c", rr.Capsules3D(lengths=[2.0], radii=[0.5], translations=[[0, 0, 1]],
                                   fill_mode="solid"), static=True)
        rec.log("w", rr.Capsules3D(lengths=[2.0], radii=[0.5]), static=True)

    scene = scene_of(rrd(log), t=None)
    (tris,) = scene.entities[P("c")].triangles
    v = tris.vertices - [0, 0, 1]
    axis_z = np.clip(v[:, 2], 0.0, 2.0)  # nearest point on the axis segment z in [0, 2]
    dist = np.linalg.norm(v - np.stack([0 * axis_z, 0 * axis_z, axis_z], axis=1), axis=1)
    np.testing.assert_allclose(dist, 0.5, atol=1e-9)
    np.testing.assert_allclose([v[:, 2].min(), v[:, 2].max()], [-0.5, 2.5], atol=1e-9)
    wire = scene.entities[P("w")]
    assert wire.lines and wire.triangles  # default: see-through fill + major wireframe
    w = wire.lines[0].segments.reshape(-1, 3)
    np.testing.assert_allclose([w[:, 2].min(), w[:, 2].max()], [-0.5, 2.5], atol=1e-9)


# ------------------------------------------------------------------ cameras and axes


def test_pinhole_frustum_at_the_camera_pose(rrd) -> None:
    def log(rec):
        import rerun as rr

        rec.log("cam", rr.Transform3D(translation=[10, 0, 0]), static=True)
        rec.log("cam", rr.Pinhole(focal_length=100, width=200, height=100,
                                  image_plane_distance=2.0), static=True)

    ed = scene_of(rrd(log), t=None).entities[P("cam")]
    (lines,) = ed.lines
    corners = {(-2, -1, 2), (-2, 1, 2), (2, 1, 2), (2, -1, 2)}
    rays = {tuple(np.round(s[1] - [10, 0, 0], 6)) for s in lines.segments[:4]}
    assert rays == corners
    np.testing.assert_allclose(lines.segments[:4, 0], np.tile([10, 0, 0], (4, 1)))
    assert len(lines.segments) == 10  # 4 rays, 4 edges, 2 for the up marker
    assert lines.segments[8:, :, 1].min() < -1  # the marker sits above the image (y down)


def test_transform_axes(rrd) -> None:
    def log(rec):
        import rerun as rr

        rec.log("f", rr.Transform3D(translation=[0, 0, 1]), static=True)
        rec.log("f", rr.TransformAxes3D(axis_length=2.0), static=True)

    (lines,) = scene_of(rrd(log), t=None).entities[P("f")].lines
    np.testing.assert_allclose(lines.segments, [[[0, 0, 1], [2, 0, 1]], [[0, 0, 1], [0, 2, 1]],
                                                [[0, 0, 1], [0, 0, 3]]])
    assert lines.colors[:, :3].tolist() == [[255, 0, 0], [0, 255, 0], [0, 0, 255]]


def test_2d_content_under_a_pinhole_is_lifted_onto_the_image_plane(rrd) -> None:
    def log(rec):
        import rerun as rr

        rec.log("cam", rr.Pinhole(focal_length=100, width=200, height=100,
                                  image_plane_distance=2.0), static=True)
        rec.log("cam/box", rr.Boxes2D(mins=[[0, 0]], sizes=[[200, 100]]), static=True)
        rec.log("cam/img", rr.Image(np.full((100, 200, 3), 90, np.uint8)), static=True)

    db = rrd(log)
    scene = scene_of(db, t=None)
    (lines,) = scene.entities[P("cam/box")].lines
    assert lines.segments.shape == (4, 2, 3)
    np.testing.assert_allclose(lines.segments[..., 2], 2.0)
    np.testing.assert_allclose(np.abs(lines.segments[..., :2]).max(axis=(0, 1)), [2, 1])
    img = scene.entities[P("cam/img")]
    (grid,) = img.triangles
    assert grid.triangles.shape == (64 * 64 * 2, 3)
    np.testing.assert_allclose(grid.vertices[:, 2], 2.0)
    assert (grid.colors == [90, 90, 90, 255]).all()
    # the same entities in a 2D view of the camera are in pixels
    flat = scene_of(db, dims=2, t=None, origin="/cam")
    assert seg_set(flat.entities[P("cam/box")].lines[0].segments) == seg_set(np.array([
        [[0, 0], [200, 0]], [[200, 0], [200, 100]], [[200, 100], [0, 100]], [[0, 100], [0, 0]],
    ], float))
    assert not flat.entities[P("cam/img")].triangles



def test_2d_labels_show_in_the_2d_view_only_centred_under_their_anchors(rrd) -> None:
    """Rerun draws no label of a 2D primitive lifted into a 3D view; in the camera's 2D
    view a point's label hangs under the point, a box's under its bottom edge's middle."""
    def log(rec):
        import rerun as rr

        rec.log("cam", rr.Pinhole(focal_length=100, width=200, height=100), static=True)
        rec.log("cam/box", rr.Boxes2D(mins=[[20, 10]], sizes=[[60, 30]], labels=["car"]),
                static=True)
        rec.log("cam/pts", rr.Points2D([[150, 40], [160, 70]], labels=["a", "b"]), static=True)
        rec.log("cam/strip", rr.LineStrips2D([[[0, 0], [10, 10]]], labels=["s"]), static=True)
        rec.log("world_pt", rr.Points3D([[1, 2, 3]], labels=["w"]), static=True)

    db = rrd(log)
    scene = scene_of(db, t=None)
    for name in ("cam/box", "cam/pts", "cam/strip"):
        ed = scene.entities[P(name)]
        assert ed.lines or ed.points  # still drawn on the image plane
        assert ed.labels == []
    (world,) = scene.entities[P("world_pt")].labels
    assert world.text == "w" and world.position.tolist() == [1, 2, 3]
    flat = scene_of(db, dims=2, t=None, origin="/cam")
    (box,) = flat.entities[P("cam/box")].labels
    assert box.text == "car" and box.position.tolist() == [50, 40] and box.wrap_width == 60
    pts = flat.entities[P("cam/pts")].labels
    assert [(lb.text, lb.position.tolist(), lb.wrap_width) for lb in pts] == [
        ("a", [150, 40], 0.0), ("b", [160, 70], 0.0)]
    assert [lb.text for lb in flat.entities[P("cam/strip")].labels] == ["s"]


def test_shape_labels_sit_at_each_centre_one_for_many_at_the_centre_of_all(rrd) -> None:
    """Boxes3D: a label per box at its centre; one label for several boxes under the
    centre of the bounds of the boxes themselves (not of their centres)."""
    def log(rec):
        import rerun as rr

        rec.log("each", rr.Boxes3D(centers=[[0, 0, 0], [10, 0, 0]], half_sizes=[[1, 1, 1]],
                                   labels=["a", "b"]), static=True)
        rec.log("pair", rr.Boxes3D(centers=[[0, 0, 0], [10, 0, 0]],
                                   half_sizes=[[1, 1, 1], [3, 3, 3]], labels=["pair"]),
                static=True)

    scene = scene_of(rrd(log), t=None)
    each = scene.entities[P("each")].labels
    assert [(lb.text, lb.position.tolist()) for lb in each] == [("a", [0, 0, 0]),
                                                                 ("b", [10, 0, 0])]
    (pair,) = scene.entities[P("pair")].labels
    # x from -1 (first box) to 13 (second box): the middle is 6, not the centres' 5
    np.testing.assert_allclose(pair.position, [6, 0, 0], atol=1e-9)


def test_lifted_images_keep_their_draw_order(rrd) -> None:
    """The grids of an Image and a SegmentationImage on one image plane carry the
    layers' draw orders (Rerun's defaults -10 and 0, or the logged one): the 3D
    renderer layers them by it."""
    def log(rec):
        import rerun as rr

        rec.log("cam", rr.Pinhole(focal_length=10, width=4, height=2), static=True)
        rec.log("cam/rgb", rr.Image(np.zeros((2, 4, 3), np.uint8)), static=True)
        rec.log("cam/seg", rr.SegmentationImage(np.ones((2, 4), np.uint8)), static=True)
        rec.log("cam/top", rr.Image(np.zeros((2, 4, 3), np.uint8), draw_order=5.0),
                static=True)

    scene = scene_of(rrd(log), t=None)
    orders = {name: scene.entities[P(name)].triangles[0].draw_order
              for name in ("cam/rgb", "cam/seg", "cam/top")}
    assert orders == {"cam/rgb": -10.0, "cam/seg": 0.0, "cam/top": 5.0}


# ------------------------------------------------------------------ images


def test_image_layer_values_and_rgba(rrd) -> None:
    pixels = np.arange(4 * 6 * 3, dtype=np.uint8).reshape(4, 6, 3)

    def log(rec):
        import rerun as rr

        rec.log("img", rr.Image(pixels, draw_order=2.0), static=True)
        rec.log("bgr", rr.Image(pixels, color_model="BGR"), static=True)

    scene = scene_of(rrd(log), dims=2, t=None)
    (layer,) = scene.entities[P("img")].images
    assert layer.size == (6, 4) and layer.draw_order == 2.0
    assert (layer.values == pixels).all()
    assert (layer.rgba[..., :3] == pixels).all() and (layer.rgba[..., 3] == 255).all()
    (bgr,) = scene.entities[P("bgr")].images
    assert (bgr.rgba[..., :3] == pixels[..., ::-1]).all()
    assert bgr.draw_order == -10.0


def test_encoded_image_keeps_the_blob_for_the_ui(rrd) -> None:
    blob = b"\x89PNG\r\n\x1a\n" + b"\0" * 16

    def log(rec):
        import rerun as rr

        rec.log("png", rr.EncodedImage(contents=blob, media_type="image/png"), static=True)

    (layer,) = scene_of(rrd(log), dims=2, t=None).entities[P("png")].images
    assert layer.rgba is None and layer.encoded == blob and layer.media_type == "image/png"


def test_depth_image_colours_follow_the_colormap_over_depth_range(rrd) -> None:
    depth = np.array([[0, 500, 1000, 2000]], np.uint16)

    def log(rec):
        import rerun as rr

        rec.log("d", rr.DepthImage(depth, meter=1000, colormap="viridis", depth_range=[0, 1000]),
                static=True)
        rec.log("auto", rr.DepthImage(depth), static=True)

    scene = scene_of(rrd(log), dims=2, t=None)
    (layer,) = scene.entities[P("d")].images
    expected = colors.colormap("viridis", np.array([0.0, 0.5, 1.0, 1.0]))
    assert layer.rgba.reshape(-1, 4).tolist() == expected.tolist()
    np.testing.assert_allclose(layer.values, [[0, 0.5, 1.0, 2.0]])
    assert layer.meter == 1000 and layer.draw_order == -20.0
    (auto,) = scene.entities[P("auto")].images  # Turbo over 0 .. the largest depth
    expected = colors.colormap("turbo", np.array([0.0, 0.25, 0.5, 1.0]))
    assert auto.rgba.reshape(-1, 4).tolist() == expected.tolist()


def test_segmentation_image_takes_annotation_colours(rrd) -> None:
    ids = np.array([[0, 1], [2, 1]], np.uint8)

    def log(rec):
        import rerun as rr

        rec.log("/", rr.AnnotationContext([rr.AnnotationInfo(id=1, label="road",
                                                             color=(10, 200, 30)),
                                           rr.AnnotationInfo(id=2, label="sky")]), static=True)
        rec.log("seg", rr.SegmentationImage(ids), static=True)

    (layer,) = scene_of(rrd(log), dims=2, t=None).entities[P("seg")].images
    assert layer.rgba[0, 1].tolist() == [10, 200, 30, 255] == layer.rgba[1, 1].tolist()
    assert layer.rgba[1, 0].tolist() == list(colors.class_color(2))
    assert layer.rgba[0, 0].tolist() == list(colors.class_color(0))
    assert layer.opacity == 0.5 and layer.class_labels == {1: "road", 2: "sky"}
    assert (layer.values == ids).all() and layer.draw_order == 0.0


@pytest.mark.parametrize("dims", [2, 3])
def test_data_of_the_other_dimension_is_left_out(rrd, dims: int) -> None:
    def log(rec):
        import rerun as rr

        rec.log("p3", rr.Points3D([[0, 0, 0]]), static=True)
        rec.log("p2", rr.Points2D([[0, 0]]), static=True)

    scene = scene_of(rrd(log), dims=dims, t=None)
    assert set(scene.entities) == {P("p3") if dims == 3 else P("p2")}


def test_strip_and_arrow_labels_sit_where_rerun_puts_them(rrd) -> None:
    def log(rec):
        import rerun as rr

        rec.log("l", rr.LineStrips3D([[[0, 0, 0], [2, 0, 0], [4, 6, 0]], [[1, 1, 1], [3, 3, 3]]],
                                     labels=["first", "second"]), static=True)
        rec.log("a", rr.Arrows3D(origins=[[1, 0, 0]], vectors=[[0, 10, 0]], labels=["up"]),
                static=True)

    scene = scene_of(rrd(log), t=None)
    strips = scene.entities[P("l")].labels
    assert [lb.text for lb in strips] == ["first", "second"]
    np.testing.assert_allclose([lb.position for lb in strips], [[2, 2, 0], [2, 2, 2]])
    (arrow,) = scene.entities[P("a")].labels
    np.testing.assert_allclose(arrow.position, [1, 4.5, 0])


def test_depth_image_under_a_pinhole_is_a_point_cloud_in_3d(rrd) -> None:
    depth = np.full((2, 4), 3000, np.uint16)
    depth[1, 3] = 0  # no depth: no point

    def log(rec):
        import rerun as rr

        rec.log("cam", rr.Transform3D(translation=[0, 0, 10]), static=True)
        rec.log("cam", rr.Pinhole(focal_length=2, width=4, height=2, image_plane_distance=1),
                static=True)
        rec.log("cam/depth", rr.DepthImage(depth, meter=1000), static=True)

    ed = scene_of(rrd(log), t=None).entities[P("cam/depth")]
    (cloud,) = ed.points
    assert len(cloud.positions) == 7 and not ed.triangles
    # pixel centre (0.5, 0.5), principal point (2, 1), f = 2, depth 3 m
    np.testing.assert_allclose(cloud.positions[0], [-2.25, -0.75, 13])
    np.testing.assert_allclose(cloud.positions[:, 2], 13)
    np.testing.assert_allclose(cloud.radii, 1.5)  # one pixel's footprint at 3 m
    assert ed.images[0].values.shape == (2, 4)


def test_pinhole_frustum_follows_camera_xyz(rrd) -> None:
    def log(rec):
        import rerun as rr

        rec.log("cam", rr.Pinhole(focal_length=100, width=200, height=100,
                                  image_plane_distance=2.0, camera_xyz=rr.ViewCoordinates.RUB),
                static=True)

    (lines,) = scene_of(rrd(log), t=None).entities[P("cam")].lines
    # RUB: looking down -Z with +Y up, so the image's top-left corner is at (-2, +1, -2)
    rays = {tuple(np.round(s[1], 6)) for s in lines.segments[:4]}
    assert rays == {(-2, 1, -2), (-2, -1, -2), (2, -1, -2), (2, 1, -2)}
    np.testing.assert_allclose(lines.segments[0, 1], [-2, 1, -2])


def test_cylinders_are_centred_with_flat_caps(rrd) -> None:
    def log(rec):
        import rerun as rr

        rec.log("c", rr.Cylinders3D(lengths=[4.0], radii=[0.5], centers=[[0, 0, 10]],
                                    fill_mode="solid"), static=True)
        rec.log("w", rr.Cylinders3D(lengths=[4.0, 2.0], radii=[1.0],
                                    fill_mode="majorwireframe"), static=True)

    scene = scene_of(rrd(log), t=None)
    (tris,) = scene.entities[P("c")].triangles
    v = tris.vertices - [0, 0, 10]
    np.testing.assert_allclose([v[:, 2].min(), v[:, 2].max()], [-2, 2])
    rim = np.abs(v[:, 2]) == 2
    radial = np.linalg.norm(v[:, :2], axis=1)
    assert set(np.round(radial[rim], 9)) == {0.0, 0.5}  # rim points and the cap centres
    wire = scene.entities[P("w")]
    assert wire.instances == 2 and not wire.triangles
    (lines,) = wire.lines
    per = len(lines.segments) // 2
    assert per == 2 * 32 + 6  # two rims and six side lines
    np.testing.assert_allclose(np.abs(lines.segments[per:, :, 2]).max(), 1.0)


def test_ellipses2d_outline_in_pixels(rrd) -> None:
    def log(rec):
        import rerun as rr

        rec.log("e", rr.Ellipses2D(centers=[[100, 50]], half_sizes=[[20, 10]], labels=["eye"]),
                static=True)

    ed = scene_of(rrd(log), dims=2, t=None).entities[P("e")]
    (lines,) = ed.lines
    assert lines.segments.shape == (64, 2, 2) and lines.draw_order == 10.0
    p = lines.segments.reshape(-1, 2) - [100, 50]
    np.testing.assert_allclose(((p / [20, 10]) ** 2).sum(axis=1), 1.0)
    np.testing.assert_allclose(lines.segments[0, 0], [120, 50])
    (label,) = ed.labels
    np.testing.assert_allclose(label.position, [100, 50], atol=1e-9)


def test_grid_cells_sample_each_cell_centre() -> None:
    from viewer.scene.visualizers.image_layers import grid_cells

    rgba = np.zeros((2, 200, 4), np.uint8)
    rgba[:, :100] = [255, 0, 0, 200]
    rgba[:, 100:] = [0, 0, 255, 200]
    corners, tris, cols = grid_cells(rgba, opacity=0.5)
    assert len(corners) == 4 * 64 * 2 and tris.shape == (2 * 64 * 2, 3)
    assert corners.min(axis=0).tolist() == [0, 0] and corners.max(axis=0).tolist() == [200, 2]
    centres = corners.reshape(-1, 4, 2).mean(axis=1)
    quad_cols = cols.reshape(-1, 4, 4)
    assert (quad_cols == quad_cols[:, :1]).all()  # one colour per cell
    left = centres[:, 0] < 100
    assert (quad_cols[left, 0] == [255, 0, 0, 100]).all()
    assert (quad_cols[~left, 0] == [0, 0, 255, 100]).all()


def test_scene_unit_radii_scale_with_the_transform_ui_points_do_not(rrd) -> None:
    """As Rerun: a radius in scene units is in the entity's own units (a 10x scale makes a
    0.1 radius 1.0), pixels of an image space become lengths on the image plane, and UI
    points (negative) stay as they are."""
    def log(rec):
        import rerun as rr

        rec.set_time("frame", sequence=0)
        rec.log("big", rr.Transform3D(scale=10))
        rec.log("big/pts", rr.Points3D([[0, 0, 0]], radii=[0.1]))
        rec.log("big/ui", rr.Points3D([[1, 0, 0]], radii=[rr.Radius.ui_points(3.0)]))
        rec.log("big/line", rr.LineStrips3D([[[0, 0, 0], [1, 0, 0]]], radii=0.05))
        rec.log("cam", rr.Pinhole(focal_length=100.0, width=64, height=48,
                                  image_plane_distance=2.0))
        rec.log("cam/kp", rr.Points2D([[32, 24]], radii=3.0))

    scene = scene_of(rrd(log))
    assert scene.entities[P("big/pts")].points[0].radii.tolist() == pytest.approx([1.0])
    assert scene.entities[P("big/ui")].points[0].radii.tolist() == [-3.0]
    assert scene.entities[P("big/line")].lines[0].radii.tolist() == pytest.approx([0.5])
    # 3 pixels on an image plane 2 units away at a 100-pixel focal length: 3 * 2 / 100
    assert scene.entities[P("cam/kp")].points[0].radii.tolist() == pytest.approx([0.06])
    # in the camera's own 2D view the same radius stays 3 pixels
    flat = scene_of(rrd(log), dims=2, origin="/cam")
    assert flat.entities[P("cam/kp")].points[0].radii.tolist() == pytest.approx([3.0])
