"""One rule for what paths mean in every command: folders, standard input, devices."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from viewer.log.inputs import expand_inputs
from viewer.log.reader import RrdReader

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data"


def test_folders_recurse_stdin_passes_missing_and_empty_are_problems(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.rrd").write_bytes(b"x")
    (tmp_path / "a.RBL").write_bytes(b"x")
    (tmp_path / "notes.txt").write_text("x")
    (tmp_path / "empty").mkdir()
    paths, problems = expand_inputs([tmp_path, "-", tmp_path / "sub" / "b.rrd",
                                     tmp_path / "nope.rrd", tmp_path / "empty"])
    assert paths == [tmp_path / "a.RBL", tmp_path / "sub" / "b.rrd", Path("-")]
    assert problems == [(str(tmp_path / "nope.rrd"), "no such file or folder"),
                        (str(tmp_path / "empty"), "folder holds no .rrd or .rbl files")]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_devices_and_pipes_are_not_regular_files(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.rrd"
    os.mkfifo(fifo)
    for path, kind in ((fifo, "named pipe"), (Path("/dev/zero"), "character device")):
        reader = RrdReader(path)
        assert list(reader.messages()) == []
        (err,) = reader.errors
        assert f"not a regular file (a {kind})" in err.message and "'-'" in err.message


def _viewer(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", RERUN_TELEMETRY="0")
    return subprocess.run([sys.executable, "-m", "viewer", *args], cwd=ROOT, env=env,
                          input=stdin, capture_output=True, timeout=120)


def test_inspect_reads_standard_input() -> None:
    data = (DATA / "scalars.rrd").read_bytes()
    piped = _viewer("inspect", "--json", "-", stdin=data)
    direct = _viewer("inspect", "--json", str(DATA / "scalars.rrd"))
    assert piped.returncode == direct.returncode == 0, piped.stderr
    assert json.loads(piped.stdout)["stores"] == json.loads(direct.stdout)["stores"]


def test_ingest_accepts_a_folder_like_inspect(tmp_path: Path) -> None:
    for name in ("scalars.rrd", "textlog.rrd"):
        (tmp_path / name).write_bytes((DATA / name).read_bytes())
    run = _viewer("ingest", "--json", str(tmp_path))
    assert run.returncode == 0, run.stderr
    ids = {s["recording_id"] for s in json.loads(run.stdout)["stores"]}
    assert ids == {"fixture-scalars", "fixture-textlog"}
    empty = tmp_path / "none"
    empty.mkdir()
    run = _viewer("ingest", "--json", str(empty))
    assert run.returncode == 1
    assert "holds no .rrd" in json.loads(run.stdout)["errors"][0]["message"]


def test_ingest_reads_standard_input_and_names_it() -> None:
    data = (DATA / "scalars.rrd").read_bytes()
    run = _viewer("ingest", "--json", "-", stdin=data)
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout)
    assert [s["recording_id"] for s in report["stores"]] == ["fixture-scalars"]
    bad = _viewer("ingest", "--json", "-", stdin=data[: len(data) // 2])
    assert bad.returncode == 1
    assert all(e["source"] == "standard input" for e in json.loads(bad.stdout)["errors"])
