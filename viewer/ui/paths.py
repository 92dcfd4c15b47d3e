"""Which files a drop, a dialog or the command line means: recordings, folders expanded."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from PySide6.QtCore import QUrl

from viewer.log.inputs import expand_inputs, is_recording


def expand_recording_paths(paths: Iterable[str | Path]) -> list[Path]:
    """Files as given, folders expanded, ``-`` for standard input (`viewer.log.inputs`);
    a path that names nothing is kept so that opening it reports the problem."""
    out, problems = expand_inputs(paths)
    missing = [Path(arg) for arg, msg in problems if msg == "no such file or folder"]
    return out + missing


def local_paths_from_urls(urls: Iterable[QUrl]) -> list[Path]:
    return [Path(u.toLocalFile()) for u in urls if u.isLocalFile() and u.toLocalFile()]


def drop_accepts(urls: Iterable[QUrl]) -> bool:
    """A drag is welcome if it carries at least one recording file or a folder."""
    return any(path.is_dir() or is_recording(path) for path in local_paths_from_urls(urls))
