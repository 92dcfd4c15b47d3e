"""Shared fixtures for the scene tests: recordings written by rerun-sdk, loaded as EntityDb.

``write_rrd(path, log_fn)`` runs ``log_fn(rec)`` against a fresh ``rr.RecordingStream`` saving
to ``path``, then loads the file with our own reader and returns the recording's EntityDb.
rerun-sdk writes config under $HOME, so every test using it gets an isolated HOME.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from viewer.log.messages import StoreKind
from viewer.store.entity_db import EntityDb


def write_rrd(path: Path, log_fn: Callable[[object], None]) -> EntityDb:
    """Log with rerun-sdk into ``path`` and return the recording's store, read back by us."""
    import rerun as rr

    from viewer.commands.inspect import inspect_paths

    rec = rr.RecordingStream("scene_tests", recording_id=Path(path).stem)
    rec.save(str(path))
    log_fn(rec)
    rec.flush()
    rec.disconnect()
    inspection = inspect_paths([str(path)])
    assert not inspection.errors, inspection.errors
    (db,) = (db for sid, db in inspection.dbs.items() if sid.kind == StoreKind.RECORDING)
    return db


@pytest.fixture
def rrd(rerun_home: Path, tmp_path: Path) -> Callable[[Callable[[object], None]], EntityDb]:
    """``rrd(log_fn)``: a recording in this test's tmp_path, loaded as an EntityDb."""
    counter = iter(range(1 << 30))

    def make(log_fn: Callable[[object], None]) -> EntityDb:
        return write_rrd(tmp_path / f"rec{next(counter)}.rrd", log_fn)

    return make
