"""build_scene: one draw per entity in the origin's coordinates, errors kept per entity,
the up axis, and the per-entity cache across time cursors."""

from __future__ import annotations

import numpy as np
import pytest

from viewer.scene.build import SceneCache, build_scene
from viewer.scene.transforms import TransformResolver
from viewer.store.entity_path import EntityPath

P = EntityPath.parse


def test_one_broken_archetype_sets_error_and_everything_else_draws(rrd) -> None:
    def log(rec):
        import rerun as rr

        rec.log("good", rr.Points3D([[1, 2, 3]]), static=True)
        rec.log("mixed", rr.Points3D([[0, 0, 0], [1, 1, 1]]), static=True)
        rec.log("mixed", rr.Mesh3D(vertex_positions=[[0, 0, 0]] * 3,
                                   triangle_indices=[[0, 1, 9]]), static=True)

    db = rrd(log)
    scene = build_scene(db, P("/"), db.entities(), 3, None, None, TransformResolver(db))
    good, mixed = scene.entities[P("good")], scene.entities[P("mixed")]
    assert good.error is None and good.points[0].positions.tolist() == [[1, 2, 3]]
    assert mixed.error is not None and mixed.error.startswith("Mesh3D:")
    assert "9" in mixed.error
    assert not mixed.triangles  # the failing archetype's batches are dropped
    assert len(mixed.points[0].positions) == 2 and mixed.instances == 2
    assert mixed.archetypes == ["Mesh3D", "Points3D"]


def test_positions_are_in_the_origin_frame_and_up_comes_from_view_coordinates(rrd) -> None:
    def log(rec):
        import rerun as rr

        rec.log("/", rr.ViewCoordinates.RIGHT_HAND_Y_UP, static=True)
        rec.log("world", rr.ViewCoordinates.RIGHT_HAND_Y_UP, static=True)
        rec.log("world/robot", rr.Transform3D(translation=[5, 0, 0]), static=True)
        rec.log("world/robot/hand", rr.Transform3D(translation=[0, 1, 0]), static=True)
        rec.log("world/robot/hand/tip", rr.Points3D([[0, 0, 1]]), static=True)
        rec.log("world/marker", rr.Points3D([[0, 0, 0]]), static=True)

    db = rrd(log)
    resolver = TransformResolver(db)
    scene = build_scene(db, P("world/robot"), db.entities(), 3, None, None, resolver)
    assert scene.up == "+Y" and scene.dims == 3 and scene.origin == P("world/robot")
    tip = scene.entities[P("world/robot/hand/tip")]
    assert tip.points[0].positions.tolist() == [[0, 1, 1]]
    np.testing.assert_allclose(tip.transform[:3, 3], [0, 1, 0])
    marker = scene.entities[P("world/marker")]  # beside the origin: through the root
    assert marker.points[0].positions.tolist() == [[-5, 0, 0]]
    lo, hi = scene.bounds()
    assert lo.tolist() == [-5, 0, 0] and hi.tolist() == [0, 1, 1]


def test_3d_entities_in_a_camera_view_are_reported_not_drawn(rrd) -> None:
    def log(rec):
        import rerun as rr

        rec.log("cam", rr.Pinhole(focal_length=10, width=20, height=10), static=True)
        rec.log("cam/pts", rr.Points2D([[1, 2]]), static=True)
        rec.log("world", rr.Boxes3D(half_sizes=[[1, 1, 1]]), static=True)

    db = rrd(log)
    scene = build_scene(db, P("cam"), db.entities(), 2, None, None, TransformResolver(db))
    assert scene.entities[P("cam/pts")].points[0].positions.tolist() == [[1, 2]]
    world = scene.entities[P("world")]
    assert world.error and not world.lines and world.archetypes == ["Boxes3D"]
    assert P("cam") not in scene.entities  # no frustum in the camera's own 2D view


def test_dims_must_be_2_or_3(rrd) -> None:
    db = rrd(lambda rec: None)
    with pytest.raises(ValueError, match="dims"):
        build_scene(db, P("/"), [], 4, None, None, TransformResolver(db))


def test_cache_reuses_unchanged_entities_across_time_cursors(rrd) -> None:
    def log(rec):
        import rerun as rr

        rec.log("cloud", rr.Points3D(np.arange(30.0).reshape(10, 3)), static=True)
        for f in range(3):
            rec.set_time("frame", sequence=f)
            rec.log("arm", rr.Transform3D(translation=[f, 0, 0]))
            rec.log("arm/tool", rr.Points3D([[0, 0, 0]]))
        rec.set_time("frame", sequence=3)
        rec.log("cloud", rr.Clear(recursive=False))

    db = rrd(log)
    resolver = TransformResolver(db)
    cache = SceneCache()
    entities = db.entities()
    first = build_scene(db, P("/"), entities, 3, "frame", 0, resolver, cache)
    second = build_scene(db, P("/"), entities, 3, "frame", 2, resolver, cache)
    assert second.entities[P("cloud")] is first.entities[P("cloud")]
    tool = second.entities[P("arm/tool")]
    assert tool is not first.entities[P("arm/tool")]
    assert tool.points[0].positions.tolist() == [[2, 0, 0]]
    again = build_scene(db, P("/"), entities, 3, "frame", 2, resolver, cache)
    assert all(again.entities[e] is second.entities[e] for e in second.entities)
    cleared = build_scene(db, P("/"), entities, 3, "frame", 3, resolver, cache)
    assert cleared.entities[P("cloud")].instances == 0
    assert not cleared.entities[P("cloud")].points
    # the same answer as an uncached build
    fresh = build_scene(db, P("/"), entities, 3, "frame", 2, resolver)
    assert fresh.entities[P("arm/tool")].points[0].positions.tolist() == [[2, 0, 0]]


def test_cache_notices_a_new_annotation_context(rrd) -> None:
    def log(rec):
        import rerun as rr

        rec.set_time("frame", sequence=0)
        rec.log("/", rr.AnnotationContext([rr.AnnotationInfo(id=1, color=(255, 0, 0))]))
        rec.log("pts", rr.Points3D([[0, 0, 0]], class_ids=[1]), static=True)
        rec.set_time("frame", sequence=1)
        rec.log("/", rr.AnnotationContext([rr.AnnotationInfo(id=1, color=(0, 0, 255))]))

    db = rrd(log)
    resolver, cache = TransformResolver(db), SceneCache()
    a = build_scene(db, P("/"), [P("pts")], 3, "frame", 0, resolver, cache)
    b = build_scene(db, P("/"), [P("pts")], 3, "frame", 1, resolver, cache)
    assert a.entities[P("pts")].points[0].colors.tolist() == [[255, 0, 0, 255]]
    assert b.entities[P("pts")].points[0].colors.tolist() == [[0, 0, 255, 255]]


def test_a_2d_view_above_a_camera_does_not_show_its_image_space(rrd) -> None:
    def log(rec):
        import rerun as rr

        rec.log("world/cam", rr.Pinhole(focal_length=10, width=20, height=10), static=True)
        rec.log("world/cam/pts", rr.Points2D([[1, 2]]), static=True)
        rec.log("flat", rr.Points2D([[3, 4]]), static=True)

    db = rrd(log)
    scene = build_scene(db, P("/"), db.entities(), 2, None, None, TransformResolver(db))
    assert scene.entities[P("flat")].points[0].positions.tolist() == [[3, 4]]
    pts = scene.entities[P("world/cam/pts")]
    assert not pts.points and "/world/cam" in pts.error
    assert P("world/cam") not in scene.entities  # a frustum is nothing to a 2D view
    below = build_scene(db, P("world/cam"), db.entities(), 2, None, None,
                        TransformResolver(db))
    assert below.entities[P("world/cam/pts")].points[0].positions.tolist() == [[1, 2]]
