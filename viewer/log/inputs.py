"""What the command line and a drop mean by their paths: files, folders, standard input.

One rule for every command (the window, ``inspect``, ``ingest``, ``layout``): a file is read
whatever its suffix (the reader names a bad one clearly), a folder stands for the ``.rrd``
and ``.rbl`` files below it (recursively, sorted), ``-`` is standard input (``cat a.rrd |
viewer inspect -``), and a path given twice is read once.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

RECORDING_SUFFIXES = (".rrd", ".rbl")
STDIN = "-"


def is_recording(path: Path) -> bool:
    return path.suffix.lower() in RECORDING_SUFFIXES


def expand_inputs(args: Iterable[str | Path]) -> tuple[list[Path], list[tuple[str, str]]]:
    """(paths to read, problems as (argument, message)). A folder without recordings and a
    path that does not exist are problems; everything else is read and judged by the
    reader."""
    out: list[Path] = []
    problems: list[tuple[str, str]] = []
    seen: set[Path] = set()
    for raw in args:
        text = str(raw)
        path = Path(raw)
        if text == STDIN:
            found = [Path(STDIN)]
        elif path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.is_file() and is_recording(p))
            if not found:
                problems.append((text, "folder holds no .rrd or .rbl files"))
        elif path.exists() or path.is_symlink():
            found = [path]
        else:
            problems.append((text, "no such file or folder"))
            continue
        for p in found:
            key = p.resolve() if str(p) != STDIN and p.exists() else p
            if key not in seen:
                seen.add(key)
                out.append(p)
    return out, problems
