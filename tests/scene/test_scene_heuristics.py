"""Default views (`viewer.scene.heuristics`) on the spatial fixtures and on small
recordings written by rerun-sdk, including the cases Rerun's own heuristics are known by
(images that stack or not, 2D beside 3D, a camera at the root)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from viewer.commands.inspect import inspect_paths
from viewer.log.messages import StoreKind
from viewer.scene.heuristics import (
    ViewSpec,
    common_ancestor,
    default_views,
    encoded_image_size,
    unshown,
    view_archetypes,
    view_name,
)
from viewer.store.entity_db import EntityDb
from viewer.store.entity_path import EntityPath

DATA = Path(__file__).resolve().parents[1] / "data"
P = EntityPath.parse


def load(path: Path) -> EntityDb:
    inspection = inspect_paths([str(path)])
    assert not inspection.errors, inspection.errors
    (db,) = (db for sid, db in inspection.dbs.items() if sid.kind == StoreKind.RECORDING)
    return db


@pytest.fixture(scope="module")
def robot() -> EntityDb:
    return load(DATA / "robot.rrd")


@pytest.fixture(scope="module")
def camera() -> EntityDb:
    return load(DATA / "camera.rrd")


@pytest.fixture
def record(rerun_home: Path, tmp_path: Path) -> Callable[[Callable[[object], None]], EntityDb]:
    """``record(log_fn)``: log with rerun-sdk into a file, return it loaded by our reader."""
    import rerun as rr

    counter = iter(range(1 << 20))

    def make(log_fn: Callable[[object], None]) -> EntityDb:
        path = tmp_path / f"rec{next(counter)}.rrd"
        rec = rr.RecordingStream("heuristics_tests", recording_id=path.stem)
        rec.save(str(path))
        rec.set_time("step", sequence=1)
        log_fn(rec)
        rec.flush()
        rec.disconnect()
        return load(path)

    return make


def summary(views: list[ViewSpec]) -> list[tuple[str, str, str, list[str]]]:
    return [(v.kind, v.name, str(v.origin), [str(e) for e in v.entities]) for v in views]


def kinds_per_archetype(db: EntityDb, views: list[ViewSpec]) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for view in views:
        for entity in view.entities:
            for arch in view_archetypes(db, view, entity):
                out.setdefault(arch, set()).add(view.kind)
    return out


# ------------------------------------------------------------------ the fixtures


def test_robot_views(robot: EntityDb) -> None:
    views = default_views(robot)
    world = ["/world/arrows", "/world/base", "/world/base/shoulder", "/world/base/shoulder/elbow",
             "/world/cleared", "/world/gone", "/world/gone/child", "/world/mesh", "/world/path",
             "/world/targets"]
    # ViewCoordinates at /world opens the 3D view there (everything 3D is below it).
    assert summary(views) == [
        ("spatial3d", "world", "/world", world),
        ("time_series", "metrics", "/metrics", ["/metrics/joint"]),
        ("text_log", "/", "/", ["/logs"]),
    ]


def test_robot_archetypes_land_in_3d(robot: EntityDb) -> None:
    per_arch = kinds_per_archetype(robot, default_views(robot))
    for arch in ("Arrows3D", "Boxes3D", "Capsules3D", "Ellipsoids3D", "LineStrips3D", "Mesh3D",
                 "Points3D", "TransformAxes3D"):
        assert per_arch.pop(arch) == {"spatial3d"}, arch
    assert per_arch == {"Scalars": {"time_series"}, "TextLog": {"text_log"}}


def test_robot_links_list_only_what_they_draw(robot: EntityDb) -> None:
    (view3d,) = (v for v in default_views(robot) if v.kind == "spatial3d")
    assert view_archetypes(robot, view3d, P("/world/base")) == ["Boxes3D", "TransformAxes3D"]
    assert view_archetypes(robot, view3d, P("/world/base/shoulder")) == ["Capsules3D"]
    assert view_archetypes(robot, view3d, P("/world/base/shoulder/elbow")) == ["Ellipsoids3D"]


def test_robot_unshown(robot: EntityDb) -> None:
    assert {str(k): v for k, v in unshown(robot, default_views(robot)).items()} == {
        "/__properties": "metadata",
        "/world": "no visualizer for: AnnotationContext:context, ViewCoordinates:xyz",
    }


def test_camera_views(camera: EntityDb) -> None:
    image_space = ["/world/camera/arrows", "/world/camera/depth", "/world/camera/detections",
                   "/world/camera/image", "/world/camera/keypoints", "/world/camera/lines",
                   "/world/camera/segmentation"]
    assert summary(default_views(camera)) == [
        # The camera and everything in its image space also show in 3D, on the image plane.
        ("spatial3d", "world", "/world", ["/world/camera", *image_space, "/world/points"]),
        # Outside any pinhole: the PNG with its sibling marks.
        ("spatial2d", "overlay", "/overlay", ["/overlay/marks", "/overlay/picture"]),
        # One colour, one depth and one segmentation image of one size stack in one view,
        # with the camera's 2D primitives.
        ("spatial2d", "world/camera", "/world/camera", image_space),
    ]


def test_camera_archetypes(camera: EntityDb) -> None:
    per_arch = kinds_per_archetype(camera, default_views(camera))
    assert per_arch == {
        "Pinhole": {"spatial3d"},
        "Points3D": {"spatial3d"},
        "EncodedImage": {"spatial2d"},  # not below a pinhole: 2D only
        **{a: {"spatial2d", "spatial3d"} for a in (
            "Image", "DepthImage", "SegmentationImage", "Boxes2D", "Points2D", "LineStrips2D",
            "Arrows2D")},
    }


def test_camera_unshown(camera: EntityDb) -> None:
    assert {str(k): v for k, v in unshown(camera, default_views(camera)).items()} == {
        "/__properties": "metadata",
        "/world": "no visualizer for: ViewCoordinates:xyz",
    }


def test_older_fixtures() -> None:
    images = default_views(load(DATA / "images.rrd"))
    # Four colour images of one size never stack: one view each, named by Rerun's rule.
    assert summary(images) == [
        ("spatial2d", f"camera/{n}", f"/camera/{n}", [f"/camera/{n}"])
        for n in ("grey", "jpeg", "png", "rgb")
    ]
    mixed = default_views(load(DATA / "mixed.rrd"))
    assert summary(mixed) == [
        ("spatial3d", "/", "/", ["/world/spiral"]),
        ("spatial2d", "camera", "/camera", ["/camera/image", "/camera/points"]),
        ("time_series", "plots", "/plots", ["/plots/cos", "/plots/sin"]),
        ("text_log", "/", "/", ["/logs"]),
    ]


def test_deterministic(camera: EntityDb) -> None:
    assert summary(default_views(camera)) == summary(default_views(camera))
    again = load(DATA / "camera.rrd")
    assert summary(default_views(again)) == summary(default_views(camera))


# ------------------------------------------------------------------ Rerun's heuristic cases


def _image(rr, w: int, h: int, kind: str = "color"):
    if kind == "depth":
        return rr.DepthImage(np.zeros((h, w), np.uint16))
    if kind == "segmentation":
        return rr.SegmentationImage(np.zeros((h, w), np.uint8))
    return rr.Image(np.zeros((h, w, 3), np.uint8))


def test_images_of_different_sizes_split(record) -> None:
    import rerun as rr

    db = record(lambda rec: (rec.log("image", _image(rr, 640, 480)),
                             rec.log("image/segmentation", _image(rr, 320, 240, "segmentation"))))
    assert summary(default_views(db)) == [
        ("spatial2d", "image", "/image", ["/image"]),  # the entity alone, not its subtree
        ("spatial2d", "…/segmentation", "/image/segmentation", ["/image/segmentation"]),
    ]


def test_colour_depth_and_segmentation_stack(record) -> None:
    import rerun as rr

    def log(rec) -> None:
        rec.log("image/color", _image(rr, 320, 240))
        rec.log("image/depth", _image(rr, 320, 240, "depth"))
        rec.log("image/seg", _image(rr, 320, 240, "segmentation"))

    assert summary(default_views(record(log))) == [
        ("spatial2d", "image", "/image", ["/image/color", "/image/depth", "/image/seg"])]


def test_nested_colour_images_and_segmentation(record) -> None:
    import rerun as rr

    def log(rec) -> None:
        for path in ("image1", "image2", "image3", "image3/nested", "segmented/image4"):
            rec.log(path, _image(rr, 48, 32))
        rec.log("segmented/seg", _image(rr, 48, 32, "segmentation"))

    assert summary(default_views(record(log))) == [
        ("spatial2d", "image1", "/image1", ["/image1"]),
        ("spatial2d", "image2", "/image2", ["/image2"]),
        ("spatial2d", "image3", "/image3", ["/image3"]),
        ("spatial2d", "image3/nested", "/image3/nested", ["/image3/nested"]),
        ("spatial2d", "segmented", "/segmented", ["/segmented/image4", "/segmented/seg"]),
    ]


def test_2d_beside_3d_and_a_camera(record) -> None:
    import rerun as rr

    def log(rec) -> None:
        rec.log("image1", _image(rr, 48, 32))
        rec.log("image2", _image(rr, 48, 32))
        rec.log("3D", rr.ViewCoordinates.RIGHT_HAND_Y_DOWN)
        rec.log("3D/box", rr.Boxes3D(half_sizes=[[1, 1, 1]]))
        rec.log("3D/camera", rr.Pinhole(focal_length=48, resolution=[48, 32]))
        rec.log("3D/camera", _image(rr, 48, 32))

    db = record(log)
    views = default_views(db)
    assert summary(views) == [
        ("spatial3d", "3D", "/3D", ["/3D/box", "/3D/camera"]),
        ("spatial2d", "3D/camera", "/3D/camera", ["/3D/camera"]),
        ("spatial2d", "image1", "/image1", ["/image1"]),
        ("spatial2d", "image2", "/image2", ["/image2"]),
    ]
    assert view_archetypes(db, views[0], P("/3D/camera")) == ["Image", "Pinhole"]
    assert view_archetypes(db, views[1], P("/3D/camera")) == ["Image"]


def test_root_view_when_3d_is_outside_the_view_coordinates(record) -> None:
    import rerun as rr

    def log(rec) -> None:
        rec.log("world", rr.ViewCoordinates.RIGHT_HAND_Z_UP)
        rec.log("world/points", rr.Points3D([[0, 0, 0]]))
        rec.log("other/points", rr.Points3D([[1, 1, 1]]))

    # Rerun recommends /world and /; / shows everything /world does, so /world is dropped.
    assert summary(default_views(record(log))) == [
        ("spatial3d", "/", "/", ["/other/points", "/world/points"])]


def test_transform_links_and_3d_below_a_pinhole_are_unshown(record) -> None:
    import rerun as rr

    def log(rec) -> None:
        rec.log("arm", rr.Transform3D(translation=[1, 0, 0]))
        rec.log("arm/hand", rr.Points3D([[0, 0, 0]]))
        rec.log("cam", rr.Pinhole(focal_length=10, resolution=[20, 10]))
        rec.log("cam/cloud", rr.Points3D([[0, 0, 1]]))
        rec.log("cam/marks", rr.Points2D([[1, 1]]))
        rec.log("notes", rr.TextDocument("hello"))

    db = record(log)
    views = default_views(db)
    assert summary(views) == [
        ("spatial3d", "/", "/", ["/arm/hand", "/cam", "/cam/marks"]),
        ("spatial2d", "cam", "/cam", ["/cam/marks"]),
        ("text_document", "notes", "/notes", ["/notes"]),
    ]
    assert {str(k): v for k, v in unshown(db, views).items()} == {
        "/__properties": "metadata",
        "/arm": "no visualizer for: Transform3D:translation",
        "/cam/cloud": "3D data below the pinhole /cam: only 2D data is shown in an image space",
    }


def test_one_view_per_chart_tensor_document_graph_and_one_map(record) -> None:
    import rerun as rr

    def log(rec) -> None:
        rec.log("charts/a", rr.BarChart([1, 2, 3]))
        rec.log("tensor", rr.Tensor(np.zeros((2, 3, 4), np.float32)))
        rec.log("graph", rr.GraphNodes(["a", "b"], labels=["A", "B"]))
        rec.log("graph", rr.GraphEdges([("a", "b")], graph_type="directed"))
        rec.log("edges_only", rr.GraphEdges([("a", "b")]))
        rec.log("geo/points", rr.GeoPoints(lat_lon=[[59.3, 18.1]]))
        rec.log("geo/route", rr.GeoLineStrings(lat_lon=[[[59.3, 18.1], [59.4, 18.2]]]))
        for i in range(9):
            rec.log(f"docs/d{i}", rr.TextDocument(f"document {i}"))

    db = record(log)
    views = default_views(db)
    assert summary(views) == [
        ("bar_chart", "charts/a", "/charts/a", ["/charts/a"]),
        ("tensor", "tensor", "/tensor", ["/tensor"]),
        *[("text_document", f"docs/d{i}", f"/docs/d{i}", [f"/docs/d{i}"]) for i in range(8)],
        ("graph", "graph", "/graph", ["/graph"]),
        ("map", "/", "/", ["/geo/points", "/geo/route"]),
    ]
    graph = views[-2]
    assert view_archetypes(db, graph, P("/graph")) == ["GraphEdges", "GraphNodes"]
    assert view_archetypes(db, views[-1], P("/geo/route")) == ["GeoLineStrings"]
    # Rerun opens at most 8 views of a kind; edges alone open no graph view.
    assert {str(k): v for k, v in unshown(db, views).items()} == {
        "/__properties": "metadata",
        "/docs/d8": "more than 8 text_document views: only the first are opened",
        "/edges_only": "not in any default view",
    }


def test_view_names_follow_rerun() -> None:
    assert view_name(EntityPath.root()) == "/"
    assert view_name(P("/world")) == "world"
    assert view_name(P("/world/camera")) == "world/camera"  # 12 characters: not cut
    assert view_name(P("/world/camera/image")) == "…/camera/image"
    assert view_name(P("/a/b/c/d")) == "a/b/c/d"


def test_common_ancestor() -> None:
    assert common_ancestor([P("/a/b/c")]) == P("/a/b/c")
    assert common_ancestor([P("/a/b/c"), P("/a/b/d"), P("/a/b")]) == P("/a/b")
    assert common_ancestor([P("/a"), P("/b")]) == EntityPath.root()


def test_encoded_image_sizes() -> None:
    db = load(DATA / "images.rrd")
    for path in ("/camera/png", "/camera/jpeg"):
        blob = db.latest_at(P(path), "EncodedImage:blob", "frame", 0).value
        data = bytes(np.asarray(blob.flatten()).astype(np.uint8))
        assert encoded_image_size(data) == (64, 48), path
    assert encoded_image_size(b"GIF89a" + bytes(40)) is None
