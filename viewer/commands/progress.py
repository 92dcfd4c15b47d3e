"""Progress bars on stderr for long command-line work, only when a person watches.

When stderr is a terminal, `progress` draws a bar with rich (a maintained library the
tool chain already brings along); when it is a pipe or a file (scripts, CI, tests) it
prints nothing at all, so logs and parsed output stay clean.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import TextIO, TypeVar

T = TypeVar("T")


_active = False  # rich draws one live display at a time


class Progress:
    """One task's bar; `advance` and `update` are no-ops when nothing is drawn."""

    def __init__(self, bar: object | None = None, task: object | None = None) -> None:
        self._bar = bar
        self._task = task

    @property
    def shown(self) -> bool:
        return self._bar is not None

    def advance(self, amount: float = 1) -> None:
        if self._bar is not None:
            self._bar.advance(self._task, amount)  # type: ignore[attr-defined]

    def update(self, *, completed: float | None = None, total: float | None = None,
               description: str | None = None) -> None:
        if self._bar is None:
            return
        kwargs: dict[str, object] = {}
        if completed is not None:
            kwargs["completed"] = completed
        if total is not None:
            kwargs["total"] = total
        if description is not None:
            kwargs["description"] = description
        self._bar.update(self._task, **kwargs)  # type: ignore[attr-defined]


def wanted(stream: TextIO | None = None) -> bool:
    """Draw bars only on a terminal."""
    stream = sys.stderr if stream is None else stream
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # closed or replaced streams
        return False


@contextmanager
def progress(description: str, total: float | None, *, stream: TextIO | None = None,
             ) -> Iterator[Progress]:
    """A bar for ``total`` steps (None: unknown length) on stderr, removed when done."""
    global _active
    stream = sys.stderr if stream is None else stream
    if not wanted(stream) or _active:  # one bar at a time: an inner one stays quiet
        yield Progress()
        return
    try:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            TextColumn,
            TimeRemainingColumn,
        )
        from rich.progress import Progress as RichProgress
    except ImportError:  # the bar is a nicety: never a reason to fail
        yield Progress()
        return
    bar = RichProgress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                       TimeRemainingColumn(), console=Console(file=stream), transient=True)
    _active = True
    try:
        with bar:
            yield Progress(bar, bar.add_task(description, total=total))
    finally:
        _active = False


def track_entries(entries: Iterable[tuple[int, T]], total_bytes: int, description: str,
                  *, stream: TextIO | None = None) -> Iterator[tuple[int, T]]:
    """Pass a reader's ``(byte offset, message)`` pairs through, moving a bar over the
    file's bytes (``RrdReader.entries()`` and ``RrdReader.total_bytes``). The bar moves in
    steps of 1/500 of the file: an update costs ~9 us, more than small messages take."""
    with progress(description, total_bytes or None, stream=stream) as bar:
        if not bar.shown:
            yield from entries
            return
        step = max(1, total_bytes // 500)
        next_update = 0
        for offset, item in entries:
            if offset >= next_update:
                bar.update(completed=offset)
                next_update = offset + step
            yield offset, item
        bar.update(completed=total_bytes)


@contextmanager
def track_sources(sources: Callable[[], Iterable[object]], description: str, *,
                  stream: TextIO | None = None) -> Iterator[Callable[[], None]]:
    """A bar over the bytes read by file sources (objects with ``bytes_read`` and
    ``total_bytes``, as the ingest hub's); call the yielded function to refresh it."""
    with progress(description, None, stream=stream) as bar:

        def refresh() -> None:
            if not bar.shown:
                return
            items = list(sources())
            total = sum(int(getattr(s, "total_bytes", 0) or 0) for s in items)
            done = sum(int(getattr(s, "bytes_read", 0) or 0) for s in items)
            bar.update(completed=done, total=total or None)

        yield refresh
