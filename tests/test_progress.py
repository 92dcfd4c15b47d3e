"""Progress bars: drawn on a terminal, nothing at all on a pipe or file."""

from __future__ import annotations

import io
from types import SimpleNamespace

from viewer.commands.progress import progress, track_entries, track_sources


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_nothing_when_not_a_terminal() -> None:
    pipe = io.StringIO()
    entries = [(0, "a"), (10, "b"), (90, "c")]
    assert list(track_entries(iter(entries), 100, "reading x.rrd", stream=pipe)) == entries
    with progress("export", 3, stream=pipe) as bar:
        assert not bar.shown
        bar.advance()
    with track_sources(lambda: [SimpleNamespace(bytes_read=5, total_bytes=10)], "ingest",
                       stream=pipe) as refresh:
        refresh()
    assert pipe.getvalue() == ""


def test_bar_on_a_terminal() -> None:
    tty = FakeTerminal()
    entries = [(0, "a"), (4000, "b"), (9000, "c")]
    assert list(track_entries(iter(entries), 10_000, "reading big.rrd", stream=tty)) == entries
    shown = tty.getvalue()
    assert "reading big.rrd" in shown
    assert "10000/10000" in shown  # the last drawn state: every byte read


def test_sources_bar_sums_bytes() -> None:
    tty = FakeTerminal()
    sources = [SimpleNamespace(bytes_read=300, total_bytes=1000),
               SimpleNamespace(bytes_read=200, total_bytes=1000)]
    with track_sources(lambda: sources, "ingest", stream=tty) as refresh:
        refresh()
    assert "500/2000" in tty.getvalue()


def test_inner_bar_stays_quiet() -> None:
    """A bar inside another (a file's bytes inside an export's files) draws nothing."""
    tty = FakeTerminal()
    with progress("outer", 2, stream=tty) as outer:
        with progress("inner", 5, stream=tty) as inner:
            assert outer.shown and not inner.shown
            inner.advance()
        outer.advance(2)
    assert "outer" in tty.getvalue() and "inner" not in tty.getvalue()
