"""Memory limiting: parse ``--memory-limit`` and plan which chunks to evict.

Eviction policy (what `plan_eviction` picks, cheapest loss first):

1. Stores in order of **least recent activity** (`EntityDb.last_active`): a recording that
   stopped receiving data loses its data before the one being streamed right now.
   Blueprint stores are never evicted (they are small and define the layout).
2. Within a store, **oldest chunks first** (insertion order).
3. Never a **protected** chunk (`EntityDb.protected_chunk_ids`): static chunks, and per
   entity the chunk holding the latest non-null row of each (component, timeline). So every
   component's latest value stays queryable: `latest_at` at or after the last time of a
   timeline returns exactly what it returned before eviction.

Planning is bounded by a deadline (checked every few chunks) because it runs on the UI
thread once per frame; whatever is left over is planned on the next frame.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from viewer.log.messages import StoreId, StoreKind
from viewer.store.chunk import Chunk
from viewer.store.entity_db import EntityDb

__all__ = [
    "CHUNK_OVERHEAD_BYTES",
    "DEFAULT_RAM_FRACTION",
    "MAX_SCAN_WITHOUT_PICK",
    "Eviction",
    "EvictionPlan",
    "StoreUsage",
    "chunk_memory_bytes",
    "format_bytes",
    "store_memory_bytes",
    "parse_memory_limit",
    "plan_eviction",
    "total_ram_bytes",
]

#: The limit when ``--memory-limit`` is not given: this fraction of physical RAM.
DEFAULT_RAM_FRACTION = 0.75

#: Memory a chunk holds beyond its Arrow buffers (`Chunk.nbytes`): the Python and Arrow
#: objects around them (batch, schema with metadata, arrays, numpy views, dicts). Measured
#: 7.6 KB per chunk as RSS growth minus buffer bytes with the system allocator
#: (docs/benchmarks/memory-limit.md); counting it keeps stores of many small chunks honest.
CHUNK_OVERHEAD_BYTES = 8 << 10

_UNITS = {
    "": 1,
    "b": 1,
    "k": 1000, "kb": 1000, "m": 1000**2, "mb": 1000**2,
    "g": 1000**3, "gb": 1000**3, "t": 1000**4, "tb": 1000**4,
    "ki": 1024, "kib": 1024, "mi": 1024**2, "mib": 1024**2,
    "gi": 1024**3, "gib": 1024**3, "ti": 1024**4, "tib": 1024**4,
}
_UNLIMITED = {"unlimited", "none", "off", "inf", "infinite"}
_LIMIT_RE = re.compile(r"^\s*(\d+(?:\.\d*)?|\.\d+)\s*([a-z%]*)\s*$")
_EXAMPLES = "e.g. 2GB, 500MB, 1.5GiB, 750M, 50% (of RAM) or unlimited"


def total_ram_bytes() -> int:
    """Physical RAM of this machine (sysconf where it exists: importing psutil costs
    ~8 ms of every `viewer ingest` start-up; same figure on Linux)."""
    try:
        pages, page_size = os.sysconf("SC_PHYS_PAGES"), os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):  # pragma: no cover - e.g. Windows
        pages = page_size = -1
    if pages > 0 and page_size > 0:
        return int(pages * page_size)
    import psutil  # pragma: no cover - platforms without sysconf

    return int(psutil.virtual_memory().total)  # pragma: no cover


def parse_memory_limit(text: str | None, total_ram: int | None = None) -> int | None:
    """Bytes for a ``--memory-limit`` value; None means unlimited.

    Decimal units (``KB``/``MB``/``GB``/``TB``, and the bare ``K``/``M``/``G``/``T``) are
    powers of 1000, binary ones (``KiB``, ``MiB``, ``GiB``, ``TiB``; ``Mi`` too) powers of
    1024, like Kubernetes. ``N%`` is a share of physical RAM (``total_ram``, default: this
    machine's). ``None`` gives the default, 75 % of RAM. Raises `ValueError` naming the
    value for anything else, for zero, and for more than 100 %.
    """
    if text is None:
        return int((total_ram or total_ram_bytes()) * DEFAULT_RAM_FRACTION)
    raw = str(text)
    low = raw.strip().lower()
    if low in _UNLIMITED:
        return None
    m = _LIMIT_RE.match(low)
    if m is None or m.group(2) not in _UNITS and m.group(2) != "%":
        raise ValueError(f"invalid --memory-limit {raw!r}: expected {_EXAMPLES}")
    number, unit = float(m.group(1)), m.group(2)
    if unit == "%":
        if not 0 < number <= 100:
            raise ValueError(f"invalid --memory-limit {raw!r}: a percentage must be in (0, 100]")
        value = int((total_ram or total_ram_bytes()) * number / 100.0)
    else:
        value = int(number * _UNITS[unit])
    if value <= 0:
        raise ValueError(f"invalid --memory-limit {raw!r}: the limit must be more than 0 bytes")
    return value


def format_bytes(n: int | float) -> str:
    """``48 MB``, ``1.5 GB``: decimal units, as in the notices and the overlay."""
    n = float(n)
    for unit, size in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if abs(n) >= size:
            value = n / size
            return f"{value:.1f} {unit}" if value < 10 else f"{value:.0f} {unit}"
    return f"{n:.0f} B"


def chunk_memory_bytes(chunk: Chunk) -> int:
    """What holding `chunk` costs: its buffers plus the per-chunk object overhead."""
    return chunk.nbytes + CHUNK_OVERHEAD_BYTES


def store_memory_bytes(db: EntityDb) -> int:
    """What a store costs in memory (what the memory limit counts)."""
    return db.nbytes + db.num_chunks * CHUNK_OVERHEAD_BYTES


@dataclass(frozen=True, slots=True)
class StoreUsage:
    """A store offered for eviction."""

    store_id: StoreId
    db: EntityDb

    @property
    def nbytes(self) -> int:
        return store_memory_bytes(self.db)

    @property
    def last_active(self) -> int:
        return self.db.last_active


@dataclass(slots=True)
class Eviction:
    """Chunks to drop from one store (oldest first), and what dropping them frees
    (``nbytes``: `chunk_memory_bytes`, i.e. buffers plus per-chunk overhead)."""

    store_id: StoreId
    db: EntityDb
    chunk_ids: list[bytes] = field(default_factory=list)
    nbytes: int = 0
    rows: int = 0


class EvictionPlan(list[Eviction]):
    """The evictions, plus why planning stopped: ``complete`` = every candidate was
    considered (so what is not planned is protected)."""

    complete: bool = False


#: Chunks scanned past the deadline while nothing was picked yet: a long run of protected
#: chunks at the old end (e.g. thousands of entities logged once) must not stop every frame
#: before the first evictable chunk. Beyond this the plan counts as complete (~10 ms).
MAX_SCAN_WITHOUT_PICK = 10_000


def plan_eviction(
    stores: Sequence[StoreUsage],
    over_bytes: int,
    *,
    deadline: float | None = None,
    max_chunks: int | None = None,
) -> EvictionPlan:
    """Pick chunks freeing at least ``over_bytes`` (see the module doc for the order).

    Frees less when only protected chunks are left, when ``deadline`` (a
    `time.perf_counter()` value) passes, or after ``max_chunks`` chunks (removing and freeing
    a chunk costs several times more than planning it). Nothing is removed here: the caller
    applies the plan with `EntityDb.remove_chunks` (planning first keeps iteration safe).
    """
    plan = EvictionPlan()
    if over_bytes <= 0 or (max_chunks is not None and max_chunks <= 0):
        plan.complete = over_bytes <= 0
        return plan
    picked = 0
    perf = time.perf_counter
    order = sorted(
        (s for s in stores if s.store_id.kind != StoreKind.BLUEPRINT),
        key=lambda s: s.last_active,
    )
    freed = 0
    seen = 0
    for usage in order:
        db = usage.db
        ev: Eviction | None = None
        protected: dict[object, frozenset[bytes]] = {}
        for chunk in db.evictable_chunks():
            if freed >= over_bytes:
                return plan
            seen += 1
            if deadline is not None and seen % 16 == 0 and perf() >= deadline:
                if picked:
                    return plan
                if seen >= MAX_SCAN_WITHOUT_PICK:
                    plan.complete = True  # give up for now: treated as nothing to evict
                    return plan
            path = chunk.entity_path
            keep = protected.get(path)
            if keep is None:
                keep = protected[path] = db.protected_chunk_ids(path)
            if chunk.id in keep:
                continue
            if ev is None:
                ev = Eviction(usage.store_id, db)
                plan.append(ev)
            size = chunk.nbytes + CHUNK_OVERHEAD_BYTES
            ev.chunk_ids.append(chunk.id)
            ev.nbytes += size
            ev.rows += chunk.num_rows
            freed += size
            picked += 1
            if max_chunks is not None and picked >= max_chunks:
                return plan
        if freed >= over_bytes:
            break
    else:
        plan.complete = True
    return plan
