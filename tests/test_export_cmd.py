"""`rrd-viewer export`: rows, columns, order, subtrees, time ranges and the three formats,
checked against values logged with rerun-sdk and against the store's own rows."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.feather as feather
import pyarrow.parquet as pq
import pytest

from viewer.commands.cli import main
from viewer.commands.export import csv_column
from viewer.commands.inspect import inspect_paths
from viewer.store.entity_path import EntityPath

rr = pytest.importorskip("rerun", reason="rerun-sdk (the oracle) is not importable")

FRAMES = [0, 1, 2, 3, 4, 5]
POINTS = {0: [[1, 2, 3]], 2: [[4, 5, 6], [7, 8, 9]], 4: [[-1.5, 0.5, 2.0]]}


@pytest.fixture(scope="module")
def recording(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Scalars, points with 1-2 instances, text and a static value under /robot."""
    home = tmp_path_factory.mktemp("home")
    keys = ("HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME")
    saved = {k: os.environ.get(k) for k in keys}
    os.environ.update({k: str(home) for k in keys})
    path = home / "robot.rrd"
    rec = rr.RecordingStream("export_tests", recording_id="run-1")
    rec.save(str(path))
    rec.log("robot/config", rr.TextLog("hello, world"), static=True)
    for f in FRAMES:
        rec.set_time("frame", sequence=f)
        rec.set_time("clock", duration=f * 0.5)
        rec.log("robot/speed", rr.Scalars([f * 1.5]))
        if f in POINTS:
            rec.log("robot/arm/tip", rr.Points3D(POINTS[f]))
    rec.flush()
    rec.disconnect()
    yield path
    for k, v in saved.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


def store_db(path: Path):
    ins = inspect_paths([str(path)])
    assert not ins.errors
    (db,) = [db for sid, db in ins.dbs.items() if sid.recording_id == "run-1"]
    return db


def test_parquet_keeps_lists_and_equals_the_store(recording: Path, tmp_path: Path) -> None:
    out = tmp_path / "tip.parquet"
    assert main(["export", str(recording), "--entity", "/robot/arm/tip", "-o", str(out)]) == 0
    table = pq.read_table(out)
    assert table.column_names == ["recording_id", "entity", "row_id", "clock", "frame", "log_time",
                                  "Points3D:positions"]
    assert table.column("frame").to_pylist() == [0, 2, 4]
    assert table.column("clock").cast(pa.int64()).to_pylist() == [0, 1_000_000_000,
                                                                  2_000_000_000]
    assert table.column("Points3D:positions").to_pylist() == [
        [[1.0, 2.0, 3.0]], [[4.0, 5.0, 6.0], [7.0, 8.0, 9.0]], [[-1.5, 0.5, 2.0]]]
    # the store's own rows, value for value, row id for row id
    db = store_db(recording)
    rows = db.range(EntityPath.parse("/robot/arm/tip"), "Points3D:positions", "frame", 0, 10)
    assert table.column("Points3D:positions").to_pylist() == rows.values.to_pylist()
    raw = [bytes(int(h).to_bytes(8, "big") + int(lo).to_bytes(8, "big"))
           for h, lo in rows.row_ids]
    assert table.column("row_id").to_pylist() == raw
    assert set(table.column("entity").to_pylist()) == {"/robot/arm/tip"}
    assert set(table.column("recording_id").to_pylist()) == {"run-1"}


def test_csv_flattens_lists_and_equals_the_store(recording: Path, tmp_path: Path) -> None:
    out = tmp_path / "all.csv"
    assert main(["export", str(recording), "--entity", "/robot/**", "-o", str(out)]) == 0
    table = pcsv.read_csv(out)
    # one row per logged row: 1 static text + 6 scalars + 3 point rows (+ none for /robot)
    assert table.num_rows == 10
    entities = table.column("entity").to_pylist()
    assert sorted(entities) == sorted(["/robot/config"] + ["/robot/speed"] * 6
                                      + ["/robot/arm/tip"] * 3)
    speed = [v for e, v in zip(entities, table.column("Scalars:scalars").to_pylist(), strict=True)
             if e == "/robot/speed"]
    assert speed == [f * 1.5 for f in FRAMES]  # one value per row: a number column
    tips = [v for e, v in zip(entities, table.column("Points3D:positions").to_pylist(),
                              strict=True) if e == "/robot/arm/tip"]
    assert tips == ["1 2 3", "4 5 6 7 8 9", "-1.5 0.5 2"]
    text = [v for e, v in zip(entities, table.column("TextLog:text").to_pylist(), strict=True)
            if e == "/robot/config"]
    assert text == ["hello, world"]
    # the static row has no time on any timeline
    frame = dict(zip(entities, table.column("frame").to_pylist(), strict=False))
    assert frame["/robot/config"] is None
    # CSV rows equal the store's: row ids in log order
    db = store_db(recording)
    expected = sorted(
        (f"{int(h):016x}{int(lo):016x}", str(e))
        for e in db.entities() if e.is_descendant_of(EntityPath.parse("/robot"))
        for c in db.chunks_of(e) for h, lo in c.row_ids)
    assert list(zip(table.column("row_id").to_pylist(), entities, strict=True)) == expected


def test_arrow_ipc_and_time_range(recording: Path, tmp_path: Path) -> None:
    out = tmp_path / "speed.arrow"
    code = main(["export", str(recording), "--entity", "/robot/**", "--timeline", "frame",
                 "--from", "2", "--to", "4", "-o", str(out)])
    assert code == 0
    table = feather.read_table(out)
    speed = table.filter(pa.compute.equal(table.column("entity"), "/robot/speed"))
    assert speed.column("frame").to_pylist() == [2, 3, 4]
    assert speed.column("Scalars:scalars").to_pylist() == [[3.0], [4.5], [6.0]]
    # static rows have no time on the timeline: left out of a time range
    assert "/robot/config" not in table.column("entity").to_pylist()
    assert table.column("frame").to_pylist() == sorted(table.column("frame").to_pylist())


def test_usage_errors(recording: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["export", str(recording), "--entity", "/nope", "-o", str(tmp_path / "x.csv")]) == 2
    assert "no entity '/nope'" in capsys.readouterr().err
    assert main(["export", str(recording), "--entity", "/robot", "-o",
                 str(tmp_path / "x.csv")]) == 2  # /robot itself holds no data
    assert "/robot/**" in capsys.readouterr().err
    assert main(["export", str(recording), "--entity", "/robot/speed", "-o",
                 str(tmp_path / "x.xlsx")]) == 2
    assert main(["export", str(recording), "--entity", "/robot/speed", "--from", "1", "-o",
                 str(tmp_path / "x.csv")]) == 2
    assert main(["export", str(recording), "--entity", "/robot/speed", "--timeline", "nope",
                 "-o", str(tmp_path / "x.csv")]) == 2
    assert "unknown timeline 'nope'" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())


def test_missing_file_is_unreadable(tmp_path: Path) -> None:
    code = main(["export", str(tmp_path / "gone.rrd"), "--entity", "/a", "-o",
                 str(tmp_path / "x.parquet")])
    assert code == 1


def test_every_fixture_exports_in_every_format(data_dir: Path, tmp_path: Path) -> None:
    """Images, blobs, unions and annotation structs all write (unions as JSON in Parquet)."""
    for fixture in ("camera.rrd", "robot.rrd", "images.rrd", "static.rrd"):
        db_rows = sum(store_rows for store_rows in _rows(data_dir / fixture))
        for fmt, read in (("parquet", pq.read_table), ("csv", pcsv.read_csv),
                          ("arrow", feather.read_table)):
            out = tmp_path / f"{fixture}.{fmt}"
            assert main(["export", str(data_dir / fixture), "--entity", "/**", "-o",
                         str(out)]) == 0, (fixture, fmt)
            assert read(out).num_rows == db_rows, (fixture, fmt)


def _rows(path: Path) -> list[int]:
    ins = inspect_paths([str(path)])
    return [sum(db.rows_per_entity.values()) for sid, db in ins.dbs.items()
            if sid.kind.name == "RECORDING"]


def test_csv_column_of_sliced_nested_lists() -> None:
    """Flattening follows offsets through every level, also of a sliced column."""
    inner = pa.array([[1, 2], [3, 4], [5, 6], [7, 8]], pa.list_(pa.int32(), 2))
    outer = pa.ListArray.from_arrays(pa.array([0, 1, 3, 3, 4], pa.int32()), inner)
    assert csv_column(pa.chunked_array([outer])).to_pylist() == ["1 2", "3 4 5 6", "", "7 8"]
    assert csv_column(pa.chunked_array([outer.slice(1, 3)])).to_pylist() == \
        ["3 4 5 6", "", "7 8"]
    single = pa.array([[1.5], None, [], [2.5]], pa.list_(pa.float64()))
    assert csv_column(pa.chunked_array([single])).to_pylist() == [1.5, None, None, 2.5]
    assert np.isclose(csv_column(pa.chunked_array([single.slice(3)])).to_pylist()[0], 2.5)
