"""`viewer inspect`: its JSON against rerun-sdk's reader, merging, damage and exit codes."""

from __future__ import annotations

import json
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from viewer.commands.cli import main

rr_chunk = pytest.importorskip(
    "rerun.chunk", reason="rerun-sdk (the oracle) is not importable in this environment"
)

pytestmark = pytest.mark.filterwarnings("ignore:RRD file has no footer")

REPO = Path(__file__).resolve().parent.parent
DATA_DIR = REPO / "tests" / "data"
FIXTURES = sorted(p for p in DATA_DIR.iterdir() if p.suffix in (".rrd", ".rbl"))


# ------------------------------------------------------------------ the oracle


def _data_columns(chunk) -> list[str]:
    schema = chunk.to_record_batch().schema
    return [f.name for f in schema if (f.metadata or {}).get(b"rerun:kind") == b"data"]


def oracle_summary(paths: list[Path], *, first_chunks: int | None = None) -> dict:
    """The expected "stores" as a dict keyed by store, built from rerun-sdk's reader.

    Chunks merge by store and count once per chunk id, as `viewer inspect` promises.
    ``first_chunks`` keeps only the first n chunks (in file order) of a one-store file.
    """
    stores: dict[tuple[str, str, str], dict] = {}
    seen: set[str] = set()
    for path in paths:
        reader = rr_chunk.RrdReader(str(path))
        for entry in [*reader.recordings(), *reader.blueprints()]:
            key = (str(entry.kind), entry.application_id, entry.recording_id)
            entities = stores.setdefault(key, {})
            chunks = list(reader.stream(store=entry).to_chunks())
            if first_chunks is not None:
                chunks = chunks[:first_chunks]
            for chunk in chunks:
                if chunk.id in seen:
                    continue
                seen.add(chunk.id)
                e = entities.setdefault(
                    str(chunk.entity_path),
                    {"rows": 0, "chunks": 0, "timelines": set(), "components": set()},
                )
                e["rows"] += chunk.num_rows
                e["chunks"] += 1
                if not chunk.is_static:
                    e["timelines"].update(chunk.timeline_names)
                e["components"].update(_data_columns(chunk))
    for entities in stores.values():
        for e in entities.values():
            e["timelines"] = sorted(e["timelines"])
            e["components"] = sorted(e["components"])
    return stores


def run_json(capsys, *args: str) -> tuple[int, dict]:
    code = main(["inspect", "--json", *args])
    out = capsys.readouterr().out
    return code, json.loads(out)


def stores_by_key(report: dict) -> dict:
    out = {}
    for store in report["stores"]:
        assert set(store) == {"kind", "application_id", "recording_id", "entities"}
        key = (store["kind"], store["application_id"], store["recording_id"])
        assert key not in out, f"store {key} listed twice"
        out[key] = store["entities"]
    return out


# ------------------------------------------------------------------ agreement with the oracle


@pytest.mark.parametrize("path", FIXTURES, ids=[p.name for p in FIXTURES])
def test_json_matches_oracle(capsys, path: Path) -> None:
    code, report = run_json(capsys, str(path))
    assert code == 0
    assert report["errors"] == []
    assert set(report) == {"stores", "errors"}
    assert stores_by_key(report) == oracle_summary([path])


def test_stores_merge_across_files_and_folders(capsys) -> None:
    """A folder expands to its recordings; a file given twice adds nothing new."""
    code, report = run_json(capsys, str(DATA_DIR), str(DATA_DIR / "scalars.rrd"))
    assert code == 0
    expected = oracle_summary(FIXTURES)
    assert stores_by_key(report) == expected
    assert len(report["stores"]) == len(expected)


def _split_messages(data: bytes) -> tuple[bytes, list[tuple[int, bytes]]]:
    """(stream header, [(kind, framed message)]) of a single-stream file, End excluded."""
    header, pos, out = data[:12], 12, []
    while pos < len(data):
        kind, length = struct.unpack_from("<QQ", data, pos)
        if kind == 0:
            break
        out.append((kind, data[pos : pos + 16 + length]))
        pos += 16 + length
    return header, out


def test_one_store_split_over_two_files_merges(capsys, tmp_path: Path) -> None:
    source = DATA_DIR / "scalars.rrd"
    header, messages = _split_messages(source.read_bytes())
    store_infos = [m for kind, m in messages if kind == 1]
    half = len(messages) // 2
    first, second = tmp_path / "first.rrd", tmp_path / "second.rrd"
    first.write_bytes(header + b"".join(m for _, m in messages[:half]))
    second.write_bytes(header + b"".join(store_infos) + b"".join(m for _, m in messages[half:]))

    code, report = run_json(capsys, str(first), str(second))
    assert code == 0
    assert stores_by_key(report) == oracle_summary([source])
    _, alone = run_json(capsys, str(second))
    assert stores_by_key(alone) != stores_by_key(report)  # the halves differ: merging mattered


# ------------------------------------------------------------------ damage and exit codes


def test_truncated_file_exits_1_and_keeps_complete_chunks(capsys, tmp_path: Path) -> None:
    source = DATA_DIR / "scalars.rrd"
    data = source.read_bytes()
    _, messages = _split_messages(data)
    cut = len(data) * 2 // 3
    truncated = tmp_path / "truncated.rrd"
    truncated.write_bytes(data[:cut])
    # ArrowMsgs that end before the cut are complete; the oracle lists them in file order.
    pos, complete = 12, 0
    for kind, framed in messages:
        pos += len(framed)
        if pos <= cut and kind == 2:
            complete += 1

    code, report = run_json(capsys, str(truncated))
    assert code == 1
    assert report["errors"] and all(e["source"] == str(truncated) for e in report["errors"])
    assert stores_by_key(report) == oracle_summary([source], first_chunks=complete)


def test_bad_ipc_payload_is_reported_and_rest_summarized(capsys, tmp_path: Path) -> None:
    """A chunk whose payload is garbage (framing intact) is one error; all else is listed."""
    source = DATA_DIR / "textlog.rrd"
    data = bytearray(source.read_bytes())
    _, messages = _split_messages(bytes(data))
    # Corrupt the payload of the last ArrowMsg: its tail (before chunk_id and is_static,
    # which follow the payload) lies well inside field 5.
    pos = 12
    target = None
    for kind, framed in messages:
        if kind == 2:
            target = (pos, len(framed))
        pos += len(framed)
    assert target is not None
    start, length = target
    data[start + length // 2 : start + length - 40] = b"\xab" * (length - 40 - length // 2)
    broken = tmp_path / "broken.rrd"
    broken.write_bytes(bytes(data))

    code, report = run_json(capsys, str(broken))
    assert code == 1
    assert len(report["errors"]) == 1
    err = report["errors"][0]
    assert err["source"] == str(broken)
    assert str(start) in err["message"]
    n_chunks = sum(1 for kind, _ in messages if kind == 2)
    assert stores_by_key(report) == oracle_summary([source], first_chunks=n_chunks - 1)


def test_missing_file_is_an_error_entry(capsys) -> None:
    missing = str(DATA_DIR / "does_not_exist.rrd")
    code, report = run_json(capsys, missing, str(DATA_DIR / "static.rrd"))
    assert code == 1
    assert [e["source"] for e in report["errors"]] == [missing]
    assert stores_by_key(report) == oracle_summary([DATA_DIR / "static.rrd"])


def test_not_an_rrd_file(capsys, tmp_path: Path) -> None:
    junk = tmp_path / "junk.rrd"
    junk.write_bytes(b"hello, this is not a recording at all")
    code, report = run_json(capsys, str(junk))
    assert code == 1
    assert report["stores"] == []
    assert report["errors"] and report["errors"][0]["source"] == str(junk)


def test_bad_flag_is_usage_error(capsys) -> None:
    assert main(["inspect", "--no-such-flag", str(DATA_DIR / "scalars.rrd")]) == 2
    assert main(["inspect"]) == 2
    assert "usage" in capsys.readouterr().err


# ------------------------------------------------------------------ human output, no Qt


def test_human_output_lists_stores_and_entities(capsys) -> None:
    path = DATA_DIR / "scalars.rrd"
    assert main(["inspect", str(path)]) == 0
    out = capsys.readouterr().out
    expected = oracle_summary([path])
    for (kind, app, rec), entities in expected.items():
        assert f"{kind} {app} / {rec}" in out
        for entity, info in entities.items():
            line = next(ln for ln in out.splitlines() if ln.split()[:1] == [entity])
            assert line.split()[1:3] == [str(info["rows"]), str(info["chunks"])]


def test_inspect_does_not_import_qt() -> None:
    code = (
        "import sys, io, contextlib\n"
        "from viewer.commands.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        f"    rc = main(['inspect', '--json', {str(DATA_DIR)!r}])\n"
        "qt = sorted(m for m in sys.modules if m.split('.')[0] in ('PySide6', 'shiboken6', 'pyqtgraph'))\n"
        "print(rc, qt)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "0 []"


def test_folder_without_recordings_is_an_error(capsys, tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("not a recording")
    code, report = run_json(capsys, str(tmp_path))
    assert code == 1
    assert report["stores"] == []
    assert [e["source"] for e in report["errors"]] == [str(tmp_path)]
    # Only .rrd/.rbl files of a folder are read: the text file next to a recording is ignored.
    (tmp_path / "copy.rbl").write_bytes((DATA_DIR / "textlog.rrd").read_bytes())
    code, report = run_json(capsys, str(tmp_path))
    assert code == 0
    assert stores_by_key(report) == oracle_summary([DATA_DIR / "textlog.rrd"])


def test_every_command_states_the_same_exit_code_rule(capsys):
    """One rule, written in every --help (viewer/exit_codes.py)."""
    from viewer.commands.cli import main
    from viewer.exit_codes import HELP

    for command in ([], ["inspect"], ["ingest"], ["layout"]):
        assert main([*command, "--help"]) == 0
        out = " ".join(capsys.readouterr().out.split())
        assert " ".join(HELP.split()) in out, command
