"""Annotation contexts and colours on recordings written by rerun-sdk; colours by hand."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
import rerun as rr

from viewer.scene import annotations as annotations_module
from viewer.scene.annotations import annotations_for
from viewer.scene.colors import (
    class_color,
    colormap,
    entity_color,
    pack_rgba,
    unpack_rgba,
)
from viewer.scene.query import LatestAt
from viewer.store.entity_path import EntityPath

P = EntityPath.parse
RED, GREEN, BLUE = (255, 0, 0, 255), (0, 255, 0, 255), (0, 0, 255, 255)


def _contexts(rec) -> None:  # type: ignore[no-untyped-def]
    rec.log("/", rr.AnnotationContext([
        rr.ClassDescription(
            info=rr.AnnotationInfo(1, "person", (255, 0, 0)),
            keypoint_annotations=[rr.AnnotationInfo(0, "nose"),
                                  rr.AnnotationInfo(1, "eye", (0, 255, 0))],
            keypoint_connections=[(0, 1)],
        ),
        rr.AnnotationInfo(2, "car"),
    ]), static=True)
    rec.set_time("frame", sequence=0)
    rec.log("world/people", rr.AnnotationContext([rr.AnnotationInfo(1, "walker", (0, 0, 255))]))
    rec.set_time("frame", sequence=5)
    rec.log("world/people", rr.Clear(recursive=False))
    rec.log("world/people/p1", rr.Points2D([[0, 0]], class_ids=[1]), static=True)
    rec.log("world/cars/c1", rr.Points2D([[0, 0]], class_ids=[2]), static=True)


def test_lookup_from_an_ancestor(rrd) -> None:
    db = rrd(_contexts)
    ann = annotations_for(LatestAt(db, "frame", 1), P("world/cars/c1"))
    assert ann.source == P("/")
    assert ann.class_label(1) == "person" and ann.class_color(1) == RED
    assert ann.class_label(2) == "car"
    assert ann.class_color(2) == class_color(2)  # described, no colour: the id's default
    assert ann.class_label(3) is None and ann.class_color(3) is None
    assert ann.color_for_class(3) == class_color(3)
    assert ann.keypoint(1, 0) == ("nose", RED)  # no colour of its own: the class's
    assert ann.keypoint(1, 1) == ("eye", GREEN)
    assert ann.keypoint(1, 7) == ("person", RED)  # not annotated: the class itself
    assert ann.keypoint(3, 0) == (None, None)
    assert ann.connections(1) == [(0, 1)] and ann.connections(2) == []
    colors = ann.colors_for_classes(np.array([1, 3, 1, 2]))
    assert colors.tolist() == [list(RED), list(class_color(3)), list(RED), list(class_color(2))]


def test_nearest_context_wins_until_it_is_cleared(rrd) -> None:
    db = rrd(_contexts)
    near = annotations_for(LatestAt(db, "frame", 4), P("world/people/p1"))
    assert near.source == P("world/people")
    assert near.class_label(1) == "walker" and near.class_color(1) == BLUE
    assert near.class_label(2) is None  # the nearest context replaces, not merges
    after = annotations_for(LatestAt(db, "frame", 5), P("world/people/p1"))
    assert after.source == P("/") and after.class_label(1) == "person"
    # static-only query: the temporal context does not exist yet
    assert annotations_for(LatestAt(db, None, None), P("world/people/p1")).source == P("/")


def test_no_context_is_empty(rrd) -> None:
    db = rrd(lambda rec: rec.log("pts", rr.Points3D([[0, 0, 0]], class_ids=[4]), static=True))
    ann = annotations_for(LatestAt(db, None, None), P("pts"))
    assert not ann and ann.source is None
    assert ann.class_color(4) is None and ann.color_for_class(4) == class_color(4)


def test_a_context_row_is_parsed_once(rrd, monkeypatch: pytest.MonkeyPatch) -> None:
    db = rrd(_contexts)
    calls: list[int] = []
    parse = annotations_module.parse_context

    def counting(cell: pa.Array):  # type: ignore[no-untyped-def]
        calls.append(len(cell.to_pylist()[0]))  # classes in the context
        return parse(cell)

    monkeypatch.setattr(annotations_module, "parse_context", counting)
    annotations_module._parsed.clear()
    for t in (6, 7, 8):
        query = LatestAt(db, "frame", t)
        for entity in ("world/people/p1", "world/cars/c1", "a/b/c"):
            assert annotations_for(query, P(entity)).class_label(2) == "car"
    assert calls == [2]  # one static row, two classes


# ------------------------------------------------------------------ colours


def test_default_class_colors_by_hand() -> None:
    # hue 0: linear (0.5, 0.075, 0.075) -> sRGB (188, 77, 77)
    assert class_color(0) == (188, 77, 77, 255)
    # hue 0.618: sector 3, linear (0.075, 0.199, 0.5) -> sRGB (77, 123, 188)
    assert class_color(1) == (77, 123, 188, 255)
    assert class_color(1 + 65536) == class_color(1)  # 16-bit ids


def test_entity_colors_are_stable_and_distinct() -> None:
    paths = [P(f"world/thing{i}") for i in range(20)]
    first = [entity_color(p) for p in paths]
    assert first == [entity_color(P(str(p))) for p in paths]
    assert len(set(first)) >= 18
    assert all(c[3] == 255 for c in first)


def test_unpack_rgba_from_rerun_cells(rrd) -> None:
    db = rrd(lambda rec: rec.log("pts", rr.Points3D(
        [[0, 0, 0], [1, 1, 1]], colors=[[255, 0, 0, 255], [1, 2, 3, 4]]), static=True))
    cell = db.latest_static(P("pts"), "Points3D:colors").value
    assert unpack_rgba(cell).tolist() == [[255, 0, 0, 255], [1, 2, 3, 4]]
    assert unpack_rgba(0x10203040).tolist() == [[16, 32, 48, 64]]
    nulls = pa.array([0xFF0000FF, None], type=pa.uint32())
    assert unpack_rgba(nulls, fill=(9, 9, 9, 9)).tolist() == [[255, 0, 0, 255], [9, 9, 9, 9]]
    assert pack_rgba(unpack_rgba(cell)).tolist() == [0xFF0000FF, 0x01020304]


def test_colormap_endpoints_and_names() -> None:
    ends = np.array([0.0, 1.0])
    assert colormap("grayscale", [0.0, 0.5, 1.0]).tolist() == [
        [0, 0, 0, 255], [128, 128, 128, 255], [255, 255, 255, 255]]
    assert colormap("Viridis", ends).tolist() == [[68, 1, 84, 255], [253, 231, 37, 255]]
    assert colormap("turbo", ends).tolist() == [[48, 18, 59, 255], [122, 4, 3, 255]]
    assert colormap("inferno", ends).tolist() == [[0, 0, 4, 255], [252, 255, 164, 255]]
    assert colormap("magma", ends).tolist() == [[0, 0, 4, 255], [252, 253, 191, 255]]
    assert colormap("plasma", ends).tolist() == [[13, 8, 135, 255], [240, 249, 33, 255]]
    # cyan, grey, yellow
    assert colormap("CyanToYellow", [0.0, 0.5, 1.0]).tolist() == [
        [0, 255, 255, 255], [63, 63, 63, 255], [255, 255, 0, 255]]
    # the enum value rerun-sdk writes, the sdk's enum and the name agree
    values = np.linspace(0, 1, 11)
    assert np.array_equal(colormap(5, values), colormap("Turbo", values))
    assert np.array_equal(colormap(rr.components.Colormap.Viridis, values),
                          colormap("viridis", values))
    # clamped, NaN transparent
    assert colormap("turbo", [-1.0, 2.0, np.nan]).tolist() == [
        [48, 18, 59, 255], [122, 4, 3, 255], [0, 0, 0, 0]]
    with pytest.raises(ValueError):
        colormap("jet", values)


@pytest.mark.parametrize("name", ["viridis", "inferno", "magma", "plasma", "turbo"])
def test_colormaps_stay_close_to_the_published_maps(name: str) -> None:
    """pyqtgraph ships the full 256-entry tables: an independent reference."""
    import pyqtgraph

    path = Path(pyqtgraph.__file__).parent / "colors" / "maps" / f"{name}.csv"
    rows = [line for line in path.read_text().splitlines() if line and not line.startswith(";")]
    ref = np.round(np.array([[float(x) for x in r.split(",")[:3]] for r in rows]) * 255)
    ours = colormap(name, np.linspace(0.0, 1.0, len(ref)))[:, :3].astype(float)
    err = np.abs(ours - ref)
    assert err.max() <= 7 and err.mean() < 1.5
