"""``viewer layout``: default views with instances and transforms at a time cursor, on the
spatial fixtures (robot.rrd, camera.rrd; see tests/data/README.md for what they hold)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from viewer.commands.cli import main
from viewer.scene.layout import TimeParseError, default_timeline, parse_time
from viewer.store.chunk import TimelineKind

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "tests" / "data"
ROBOT, CAMERA = str(DATA / "robot.rrd"), str(DATA / "camera.rrd")
# frame f of the fixtures is at EPOCH + 0.1 f seconds on the `time` timeline
EPOCH_NS = 1_700_000_000 * 10**9


def layout(capsys, *args: str) -> tuple[int, dict]:
    code = main(["layout", "--json", *args])
    out = capsys.readouterr().out
    return code, json.loads(out)


def views_of(report: dict, index: int = 0) -> list[dict]:
    return report["recordings"][index]["views"]


def entity(report: dict, kind: str, path: str) -> dict:
    (view,) = (v for v in views_of(report) if v["kind"] == kind and path in v["entities"])
    return view["entities"][path]


def matrix(info: dict) -> np.ndarray:
    return np.array(info["transform"], dtype=np.float64).reshape(4, 4)


def close(a: np.ndarray, b) -> bool:
    """Equal up to float32 rounding (angles and quaternions are stored as float32)."""
    return np.allclose(a, b, atol=1e-6)


# ------------------------------------------------------------------ layout and archetypes


def test_output_shape(capsys) -> None:
    code, report = layout(capsys, ROBOT)
    assert code == 0
    (rec,) = report["recordings"]
    assert list(rec) == ["application_id", "recording_id", "blueprint", "views", "unshown"]
    assert (rec["application_id"], rec["recording_id"], rec["blueprint"]) == (
        "rrd_viewer_fixtures", "fixture-robot", None)
    for view in rec["views"]:
        assert list(view) == ["kind", "name", "origin", "entities"]
        for info in view["entities"].values():
            spatial = view["kind"].startswith("spatial")
            assert list(info) == (["archetypes", "instances", "transform"] if spatial
                                  else ["archetypes", "instances"])
            if spatial:
                assert len(info["transform"]) == 16


def test_each_archetype_in_a_view_of_its_kind(capsys) -> None:
    _, report = layout(capsys, ROBOT, CAMERA)
    kinds: dict[str, set[str]] = {}
    for i in range(2):
        for view in views_of(report, i):
            for info in view["entities"].values():
                for arch in info["archetypes"]:
                    kinds.setdefault(arch, set()).add(view["kind"])
    lifted = {"spatial2d", "spatial3d"}  # 2D below the camera: its view and the 3D one
    assert kinds == {
        **{a: {"spatial3d"} for a in ("Arrows3D", "Boxes3D", "Capsules3D", "Ellipsoids3D",
                                      "LineStrips3D", "Mesh3D", "Points3D", "TransformAxes3D",
                                      "Pinhole")},
        **{a: lifted for a in ("Image", "DepthImage", "SegmentationImage", "Boxes2D",
                               "Points2D", "LineStrips2D", "Arrows2D")},
        "EncodedImage": {"spatial2d"},
        "Scalars": {"time_series"},
        "TextLog": {"text_log"},
    }


def test_camera_2d_primitives_share_the_image_view(capsys) -> None:
    _, report = layout(capsys, CAMERA)
    views2d = {v["name"]: v for v in views_of(report) if v["kind"] == "spatial2d"}
    assert set(views2d) == {"world/camera", "overlay"}
    assert views2d["world/camera"]["origin"] == "/world/camera"
    assert sorted(views2d["world/camera"]["entities"]) == [
        f"/world/camera/{n}" for n in
        ("arrows", "depth", "detections", "image", "keypoints", "lines", "segmentation")]
    assert sorted(views2d["overlay"]["entities"]) == ["/overlay/marks", "/overlay/picture"]
    # In the camera's own 2D view its content is in pixels: identity transforms.
    for info in views2d["world/camera"]["entities"].values():
        assert np.allclose(matrix(info), np.eye(4))


def test_unshown_lists_metadata(capsys) -> None:
    _, report = layout(capsys, ROBOT, CAMERA)
    robot, camera = report["recordings"]
    assert robot["unshown"] == {
        "/__properties": "metadata",
        "/world": "no visualizer for: AnnotationContext:context, ViewCoordinates:xyz",
    }
    assert camera["unshown"] == {"/__properties": "metadata",
                                 "/world": "no visualizer for: ViewCoordinates:xyz"}


# ------------------------------------------------------------------ time cursor: Clear


@pytest.mark.parametrize(("frame", "expected"), [(29, 3), (30, 0), (31, 3)])
def test_clear_hides_at_its_time_and_not_before(capsys, frame: int, expected: int) -> None:
    # /world/cleared: 3 points every frame, a non-recursive Clear logged after frame 30's.
    _, report = layout(capsys, "--time", str(frame), ROBOT)
    assert entity(report, "spatial3d", "/world/cleared")["instances"] == expected


@pytest.mark.parametrize(("frame", "box", "child"), [(39, 1, 4), (40, 0, 0), (59, 0, 0)])
def test_recursive_clear_hides_the_subtree_from_then_on(capsys, frame: int, box: int,
                                                        child: int) -> None:
    _, report = layout(capsys, "--timeline", "frame", "--time", str(frame), ROBOT)
    assert entity(report, "spatial3d", "/world/gone")["instances"] == box
    assert entity(report, "spatial3d", "/world/gone/child")["instances"] == child


def test_clear_on_the_time_timeline(capsys) -> None:
    at30 = "2023-11-14T22:13:23Z"  # EPOCH + 3.0 s: frame 30
    _, report = layout(capsys, "--timeline", "time", "--time", at30, ROBOT)
    assert entity(report, "spatial3d", "/world/cleared")["instances"] == 0
    _, report = layout(capsys, "--timeline", "time", "--time", "2023-11-14T22:13:22.95", ROBOT)
    assert entity(report, "spatial3d", "/world/cleared")["instances"] == 3
    _, report = layout(capsys, "--timeline", "time", "--time", str(EPOCH_NS + 3 * 10**9 - 1), ROBOT)
    assert entity(report, "spatial3d", "/world/cleared")["instances"] == 3


# ------------------------------------------------------------------ transforms


def test_robot_hierarchy_transforms(capsys) -> None:
    # base: translate (1, 2, 0); shoulder: translate (0, 0, 0.5) then rotate 6 f degrees
    # about +Z; elbow: translate (1, 0, 0), rotate 90 degrees about +X, scale 0.5.
    _, at0 = layout(capsys, "--time", "0", ROBOT)
    assert close(matrix(entity(at0, "spatial3d", "/world/base")),
                       [[1, 0, 0, 1], [0, 1, 0, 2], [0, 0, 1, 0], [0, 0, 0, 1]])
    assert close(matrix(entity(at0, "spatial3d", "/world/base/shoulder/elbow")),
                       [[0.5, 0, 0, 2], [0, 0, -0.5, 2], [0, 0.5, 0, 0.5], [0, 0, 0, 1]])
    _, at15 = layout(capsys, "--time", "15", ROBOT)  # shoulder at 90 degrees
    assert close(matrix(entity(at15, "spatial3d", "/world/base/shoulder")),
                       [[0, -1, 0, 1], [1, 0, 0, 2], [0, 0, 1, 0.5], [0, 0, 0, 1]])
    assert close(matrix(entity(at15, "spatial3d", "/world/base/shoulder/elbow")),
                       [[0, 0, 0.5, 1], [0.5, 0, 0, 3], [0, 0.5, 0, 0.5], [0, 0, 0, 1]])
    # Entities without a transform of their own sit at the origin.
    assert close(matrix(entity(at15, "spatial3d", "/world/mesh")), np.eye(4))


def test_default_cursor_is_the_end_of_frame(capsys) -> None:
    _, default = layout(capsys, ROBOT)
    _, at59 = layout(capsys, "--timeline", "frame", "--time", "59", ROBOT)
    assert default == at59
    a = np.radians(354.0)  # 6 degrees x 59
    elbow = matrix(entity(default, "spatial3d", "/world/base/shoulder/elbow"))
    assert close(elbow[:3, 3], [1 + np.cos(a), 2 + np.sin(a), 0.5])


def test_human_output(capsys) -> None:
    assert main(["layout", "--time", "40", ROBOT]) == 0
    out = capsys.readouterr().out
    assert "fixture-robot: timeline frame at #40" in out
    assert "spatial3d 'world' (origin /world): 10 entities" in out
    line = next(ln for ln in out.splitlines() if ln.strip().startswith("/world/gone/child"))
    assert line.split()[1:3] == ["Points3D", "0"]
    assert "/__properties: metadata" in out


# ------------------------------------------------------------------ errors


def test_missing_file(capsys) -> None:
    missing = str(DATA / "does_not_exist.rrd")
    code = main(["layout", "--json", missing, ROBOT])
    captured = capsys.readouterr()
    assert code == 1
    assert "does_not_exist.rrd" in captured.err and "no such file" in captured.err
    assert [r["recording_id"] for r in json.loads(captured.out)["recordings"]] == ["fixture-robot"]


@pytest.mark.parametrize(("args", "message"), [
    (["--time", "soon"], "'soon' is not a sequence number"),
    (["--timeline", "time", "--time", "yesterday"], "ISO-8601 date-time"),
    (["--timeline", "nope"], "unknown timeline 'nope'; the recordings have: frame, log_time, time"),
])
def test_bad_cursor_is_a_usage_error(capsys, args: list[str], message: str) -> None:
    code = main(["layout", *args, ROBOT])
    captured = capsys.readouterr()
    assert code == 2
    assert message in captured.err
    assert captured.out == ""


def test_no_files_is_a_usage_error(capsys) -> None:
    assert main(["layout"]) == 2
    assert "files" in capsys.readouterr().err


def test_layout_does_not_import_qt() -> None:
    code = (
        "import sys\n"
        "from viewer.commands.cli import main\n"
        f"rc = main(['layout', '--json', {ROBOT!r}])\n"
        "assert rc == 0, rc\n"
        "assert not [m for m in sys.modules if m.startswith(('PySide6', 'pyqtgraph'))]\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            cwd=REPO, timeout=60)
    assert result.returncode == 0, result.stderr


# ------------------------------------------------------------------ time parsing


def test_parse_time() -> None:
    seq, ts, dur = TimelineKind.SEQUENCE, TimelineKind.TIMESTAMP, TimelineKind.DURATION
    assert parse_time("42", seq) == 42
    assert parse_time("-3", seq) == -3
    assert parse_time("123", ts) == 123  # nanoseconds
    assert parse_time("2023-11-14T22:13:20Z", ts) == EPOCH_NS
    assert parse_time("2023-11-14T22:13:20.000000001Z", ts) == EPOCH_NS + 1
    assert parse_time("2023-11-14T23:13:20.5+01:00", ts) == EPOCH_NS + 500_000_000
    assert parse_time("PT1M2.5S", dur) == 62_500_000_000
    assert parse_time("-PT1S", dur) == -1_000_000_000
    assert parse_time("P1DT1H", dur) == 90_000 * 10**9
    for text, kind in (("1.5", seq), ("PT", dur), ("2023-13-01", ts), ("P1D", ts)):
        with pytest.raises(TimeParseError):
            parse_time(text, kind)


def test_default_timeline_prefers_own_sequences() -> None:
    seq, ts = TimelineKind.SEQUENCE, TimelineKind.TIMESTAMP
    assert default_timeline({"log_time": ts, "time": ts, "frame": seq}) == "frame"
    assert default_timeline({"log_time": ts, "time": ts}) == "time"
    assert default_timeline({"log_time": ts}) == "log_time"
    assert default_timeline({}) is None


_BLUEPRINT_FILES = r"""
import sys
import rerun as rr
import rerun.blueprint as rrb
out = sys.argv[1]
rec = rr.RecordingStream("layout_bp", recording_id="run")
rec.save(f"{out}/run.rrd")
for f in range(3):
    rec.set_time("frame", sequence=f)
    rec.log("world/points", rr.Points3D([[0, 0, f]]))
    rec.log("world/debug/grid", rr.Points3D([[1, 1, 1]]))
    rec.log("metrics/loss", rr.Scalars(1.0 / (f + 1)))
rec.flush()
rrb.Blueprint(
    rrb.Horizontal(rrb.Spatial3DView(name="Robot", origin="/world",
                                     contents=["+ $origin/**", "- /world/debug/**"]),
                   rrb.BarChartView(name="Unused", origin="/nothing")),
).save("layout_bp", f"{out}/layout.rbl")
"""


@pytest.fixture(scope="module")
def blueprint_files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("layout_bp")
    env = {"HOME": str(out), "XDG_CONFIG_HOME": str(out), "XDG_DATA_HOME": str(out),
           "XDG_CACHE_HOME": str(out), "RERUN_TELEMETRY": "0", "PATH": "/usr/bin:/bin"}
    subprocess.run([sys.executable, "-c", _BLUEPRINT_FILES, str(out)], check=True, env=env,
                   timeout=120)
    return out


def test_an_rbl_given_next_to_a_recording_lays_it_out(capsys, blueprint_files: Path) -> None:
    code, report = layout(capsys, str(blueprint_files / "run.rrd"),
                          str(blueprint_files / "layout.rbl"))
    assert code == 0
    (rec,) = report["recordings"]
    assert rec["blueprint"] == "layout.rbl"
    assert [(v["kind"], v["name"], v["origin"]) for v in rec["views"]] == [
        ("spatial3d", "Robot", "/world"), ("bar_chart", "Unused", "/nothing")]
    assert list(rec["views"][0]["entities"]) == ["/world/points"]
    assert rec["views"][0]["entities"]["/world/points"]["instances"] == 1
    assert rec["unshown"]["/world/debug/grid"] == "not in any view of the blueprint"
    assert rec["unshown"]["/metrics/loss"] == "not in any view of the blueprint"
    # Without the .rbl: the heuristic views, everything shown.
    code, report = layout(capsys, str(blueprint_files / "run.rrd"))
    (rec,) = report["recordings"]
    assert rec["blueprint"] is None
    assert "/world/debug/grid" in {p for v in rec["views"] for p in v["entities"]}


def test_a_blueprint_carried_by_the_recording(capsys, data_dir) -> None:
    code, report = layout(capsys, str(data_dir / "blueprint.rrd"))
    (rec,) = report["recordings"]
    assert rec["blueprint"] == "recording"
    assert [(v["kind"], v["name"], v["origin"]) for v in rec["views"]] == [
        ("time_series", "Plots", "/plots")]
