"""The memory limit end to end: a generated file ~3x the limit through the real hub.

Checks that the store stays bounded near the limit while loading, that every component's
latest value is still what the whole file gives, that nothing was lost before being
applied, that a notice is produced, and (in a subprocess, so other tests do not blur the
number) that the process RSS grows by about the limit, not by the file size.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "store"))

from memory_files import STORE, write_big_file  # noqa: E402
from test_store_memory import latest_everywhere  # noqa: E402

from viewer.ingest.memory_governor import MemoryGovernor  # noqa: E402
from viewer.log.messages import ArrowMsg  # noqa: E402
from viewer.log.reader import RrdReader  # noqa: E402
from viewer.store.decode import chunk_from_msg  # noqa: E402
from viewer.store.entity_db import EntityDb  # noqa: E402
from viewer.store.memory import store_memory_bytes  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data"
LIMIT = 30_000_000
FILE_BYTES = 90_000_000


@pytest.fixture(scope="module")
def big_file(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict, dict, int, int]:
    """(path, timeline ends, latest values of the whole file, rows, store bytes unlimited)."""
    path = write_big_file(tmp_path_factory.mktemp("memory") / "big.rrd", FILE_BYTES)
    db = EntityDb(STORE)
    with RrdReader(path) as reader:
        for msg in reader.messages():
            if isinstance(msg, ArrowMsg):
                db.add_chunk(chunk_from_msg(msg))
    ends = {tl: db.time_range(tl)[1] for tl in db.timelines()}
    return path, ends, latest_everywhere(db, ends), db.num_rows, db.nbytes


@pytest.mark.parametrize("mode", ["threaded", "web"])
def test_a_file_three_times_the_limit_stays_bounded(make_hub, big_file, mode: str) -> None:
    path, ends, expected, rows, full_bytes = big_file
    assert full_bytes > 2.5 * LIMIT  # the scenario really is ~3x the limit
    hub = make_hub(mode, memory_limit_bytes=LIMIT)
    assert isinstance(hub.memory, MemoryGovernor) and hub.memory.limit_bytes == LIMIT
    reports = []
    peak_store = 0

    def on_frame(changes) -> None:  # type: ignore[no-untyped-def]
        nonlocal peak_store
        if changes.memory is not None:
            reports.append(changes.memory)
            for st in changes.memory.stores:
                assert changes.stores[st.store_id].chunks_evicted == st.chunks_dropped
        peak_store = max(peak_store, sum(store_memory_bytes(db) for db in hub.dbs().values()))

    hub.frame_applied.connect(on_frame)
    src = hub.open_file(path)
    assert hub.run_until_idle(20.0)
    assert not src.errors
    db = hub.db(STORE)
    # bounded near the limit: eviction work per frame is budgeted, so under load a frame
    # may end above it: on a quiet machine never, with other processes busy on both cores
    # 1.30x was seen (the 2 ms eviction budget falls behind the 4 ms apply budget for a few
    # frames), so 1.5x is the allowance, the governor's own peak bound; once idle (which
    # includes the governor being done) it is under it
    assert peak_store <= 1.5 * LIMIT
    assert hub.memory.peak_used_bytes <= 1.5 * LIMIT
    assert store_memory_bytes(db) <= LIMIT and not hub.memory.busy
    # every row was applied before any was evicted
    assert hub.stats.rows_applied == rows
    assert db.num_rows + hub.memory.dropped_rows_total == rows
    # the latest value of every component (and the static one) is what the whole file gives
    assert latest_everywhere(db, ends) == expected
    # notices for the UI
    assert reports and hub.memory.dropped_chunks_total == sum(r.chunks_dropped for r in reports)
    msg = reports[0].message()
    assert "memory_tests/memory-big" in msg and "30 MB memory limit" in msg
    assert hub.memory.dropped_bytes_total >= full_bytes - LIMIT


def test_no_limit_keeps_everything(make_hub, big_file) -> None:
    path, ends, expected, rows, full_bytes = big_file
    hub = make_hub("threaded", memory_limit_bytes=None)
    hub.open_file(path)
    assert hub.run_until_idle(20.0)
    db = hub.db(STORE)
    # every row kept; the bytes differ from the direct read's only by how rows are grouped
    # into chunks (runs of the worker, compaction of the store)
    assert db.num_rows == rows and abs(db.nbytes - full_bytes) <= full_bytes // 100
    assert hub.memory.dropped_chunks_total == 0
    assert latest_everywhere(db, ends) == expected


def _ingest_json(*args: str) -> tuple[int, dict | None, str]:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(ROOT),
               RERUN_TELEMETRY="0")
    proc = subprocess.run([sys.executable, "-m", "viewer", "ingest", "--json", *args],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    report = json.loads(proc.stdout) if proc.returncode == 0 else None
    return proc.returncode, report, proc.stderr


def test_cli_rss_grows_by_about_the_limit_not_the_file(big_file) -> None:
    path, _, _, rows, full_bytes = big_file
    code, small, err = _ingest_json("--memory-limit", "30MB", str(DATA / "scalars.rrd"))
    assert code == 0, err
    code, big, err = _ingest_json("--memory-limit", "30MB", str(path))
    assert code == 0, err
    assert big["stats"]["rows"] == rows
    mem = big["stats"]["memory"]
    assert mem["limit_bytes"] == LIMIT and mem["dropped_chunks_total"] > 0
    assert mem["store_bytes"] <= LIMIT
    grew = big["stats"]["peak_rss_bytes"] - small["stats"]["peak_rss_bytes"]
    # measured: +55 MB (was +150 MB before pages behind the reader were released and the
    # Arrow pool trimmed); the file alone is 90 MB
    assert grew < LIMIT + 45_000_000, f"peak RSS grew by {grew / 1e6:.0f} MB"


@pytest.mark.parametrize("value", ["2XB", "-1GB", "0", "150%"])
def test_cli_rejects_a_bad_memory_limit(value: str) -> None:
    code, _, err = _ingest_json(f"--memory-limit={value}", str(DATA / "scalars.rrd"))
    assert code == 2
    assert "--memory-limit" in err and repr(value) in err
