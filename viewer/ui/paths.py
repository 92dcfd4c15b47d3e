"""Which files a drop, a dialog or the command line means: recordings, folders expanded."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from PySide6.QtCore import QUrl

RECORDING_SUFFIXES = (".rrd", ".rbl")


def is_recording(path: Path) -> bool:
    return path.suffix.lower() in RECORDING_SUFFIXES


def expand_recording_paths(paths: Iterable[str | Path]) -> list[Path]:
    """Files as given (whatever their suffix: the reader reports a bad one clearly), and for
    folders the ``.rrd``/``.rbl`` files inside them (recursively, sorted). Duplicates dropped."""
    out: list[Path] = []
    seen: set[Path] = set()
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.is_file() and is_recording(p))
        else:
            found = [path]
        for p in found:
            key = p.resolve() if p.exists() else p
            if key not in seen:
                seen.add(key)
                out.append(p)
    return out


def local_paths_from_urls(urls: Iterable[QUrl]) -> list[Path]:
    return [Path(u.toLocalFile()) for u in urls if u.isLocalFile() and u.toLocalFile()]


def drop_accepts(urls: Iterable[QUrl]) -> bool:
    """A drag is welcome if it carries at least one recording file or a folder."""
    return any(path.is_dir() or is_recording(path) for path in local_paths_from_urls(urls))
