"""Human-readable times for each timeline kind (sequence, timestamp, duration)."""

from __future__ import annotations

import datetime as dt

from viewer.store.chunk import TimelineKind

_NS = 1_000_000_000


def format_time(kind: TimelineKind | None, value: int | None) -> str:
    """``#42`` for sequences, a UTC date-time for timestamps, ``+1m 02.500s`` for durations."""
    if value is None:
        return "–"
    if kind is TimelineKind.TIMESTAMP:
        seconds, ns = divmod(int(value), _NS)
        try:
            stamp = dt.datetime.fromtimestamp(seconds, tz=dt.UTC)
        except (OverflowError, OSError, ValueError):
            return f"{value} ns"
        return stamp.strftime("%Y-%m-%d %H:%M:%S") + f".{ns // 1_000_000:03d}Z"
    if kind is TimelineKind.DURATION:
        return format_duration(int(value))
    return f"#{int(value)}"


def format_duration(ns: int) -> str:
    sign = "-" if ns < 0 else "+"
    ns = abs(ns)
    total_s, rem = divmod(ns, _NS)
    minutes, secs = divmod(total_s, 60)
    hours, minutes = divmod(minutes, 60)
    frac = f"{secs + rem / _NS:06.3f}s"
    if hours:
        return f"{sign}{hours}h {minutes:02d}m {frac}"
    if minutes:
        return f"{sign}{minutes}m {frac}"
    return f"{sign}{secs + rem / _NS:.3f}s"


def format_span(kind: TimelineKind | None, start: int | None, end: int | None) -> str:
    if start is None or end is None:
        return "no data"
    if kind is TimelineKind.SEQUENCE or kind is None:
        return f"{end - start + 1} steps"
    return format_duration(end - start).lstrip("+")
