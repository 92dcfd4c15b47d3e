"""Compaction on insert: small chunks of one entity are merged into bigger ones as they arrive.

A live stream that sends one-row chunks (``rr.log`` at 100 Hz, the SDK's batcher flushing
every row) would otherwise keep one `Chunk` per row, and each costs ~8 KB of Python and
Arrow objects beyond its data (`viewer.store.memory.CHUNK_OVERHEAD_BYTES`). Like Rerun's
own store, `EntityDb.add_chunk` hands each new temporal chunk to the entity's
`EntityCompactor`, which keeps the small chunks still open for merging in tiers: when
``fan_in`` chunks wait in a tier, the oldest of them are merged (`Chunk.concat`) into one
chunk of the next tier, up to ``max_rows`` / ``max_bytes``. Each row is copied once per tier
(three tiers from one row to 4 096 rows at a fan-in of 32: 32, 1 024, 4 096), so the work per row stays small
and every merge is bounded (at most ``fan_in`` chunks, at most ``max_rows`` rows): the UI
thread never does one big merge. Merging within a frame is bounded too (`MergeBudget`:
2 ms per 16 ms shared by all stores); merges past it wait for a later insert.

The tracked chunks are always the newest temporal chunks of the entity in insertion order,
higher tiers first: a chunk that cannot join (too big, other timelines or column types)
seals the tiers, and its predecessors stay as they are. So the parts of a merge are always
adjacent in the entity's insertion log, which keeps the per-chunk caches (plot series,
time indices) easy to carry over (`EntityDb` does that).

``RRD_VIEWER_COMPACTION=0`` in the environment turns compaction off for new stores (for A/B
measurements: ``scripts/bench_live_memory.py``).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from viewer.log.sorbet import CHUNK_ID_KEY, INDEX_NAME_KEY, ROW_ID_COLUMN
from viewer.store.chunk import Chunk, rows_sorted

__all__ = [
    "MERGE_BUDGET",
    "CompactionPolicy",
    "CompactionStats",
    "EntityCompactor",
    "MergeBudget",
    "default_policy",
    "merge_chunks",
]

ENV_SWITCH = "RRD_VIEWER_COMPACTION"


@dataclass(frozen=True, slots=True)
class CompactionPolicy:
    """When chunks are merged. Defaults: docs/benchmarks/live-memory.md."""

    # chunks waiting in one tier before its oldest are merged (or fewer, once they hold
    # ``max_rows`` / ``max_bytes`` together)
    fan_in: int = 32
    # a source chunk joins the tiers only if it is at most this small (bigger ones already
    # carry their per-chunk overhead over many rows; merging them would only cost copies)
    small_rows: int = 64
    small_bytes: int = 64 << 10
    # a merge never makes a chunk bigger than this
    max_rows: int = 4096
    max_bytes: int = 1 << 20
    # Time merging may take per ``window_s`` of wall time, shared by every store of the
    # process (inserts run on the UI thread: this bounds what merging adds to a frame, plus
    # at most one merge); merges that do not fit wait for a later insert. None: no bound.
    budget_s: float | None = 0.002
    window_s: float = 0.016

    def __post_init__(self) -> None:
        if self.fan_in < 2:
            raise ValueError(f"fan_in must be >= 2, got {self.fan_in}")
        if min(self.small_rows, self.small_bytes, self.max_rows, self.max_bytes) < 1:
            raise ValueError("compaction sizes must be >= 1")


class MergeBudget:
    """Merge time left in the current window (see `CompactionPolicy.budget_s`)."""

    __slots__ = ("spent", "window_start")

    def __init__(self) -> None:
        self.window_start = 0.0
        self.spent = 0.0

    def allows(self, policy: CompactionPolicy, now: float) -> bool:
        if policy.budget_s is None:
            return True
        if now - self.window_start >= policy.window_s:
            self.window_start = now
            self.spent = 0.0
        return self.spent < policy.budget_s


#: One budget for the process: inserts into every store run on the one UI thread.
MERGE_BUDGET = MergeBudget()


def default_policy() -> CompactionPolicy | None:
    """The policy new stores use: None (off) when ``RRD_VIEWER_COMPACTION=0``."""
    if os.environ.get(ENV_SWITCH, "").strip().lower() in ("0", "off", "false", "no"):
        return None
    return CompactionPolicy()


@dataclass(slots=True)
class CompactionStats:
    """What compaction did in one store (for benchmarks and the overlay): merges, chunks
    merged away, rows copied, and the time spent merging (on the thread that inserts)."""

    merges: int = 0
    chunks_absorbed: int = 0  # parts replaced by merged chunks
    rows_copied: int = 0
    seconds: float = 0.0  # wall time of the inserting thread, waiting for the GIL included
    cpu_seconds: float = 0.0  # CPU time of the inserting thread (time.thread_time)
    longest_s: float = 0.0  # the longest merge (wall) and its rows
    longest_rows: int = 0


class EntityCompactor:
    """The tiers of one entity's small temporal chunks that may still be merged."""

    __slots__ = ("_schema", "policy", "tiers")

    def __init__(self, policy: CompactionPolicy) -> None:
        self.policy = policy
        self.tiers: list[list[Chunk]] = []  # tier k: chunks made by k rounds of merging
        self._schema: object | None = None  # schema of the last source chunk that joined

    @property
    def tracked(self) -> int:
        return sum(len(t) for t in self.tiers)

    def seal(self) -> None:
        """Leave every tracked chunk as it is (they are not merged any more)."""
        self.tiers.clear()
        self._schema = None

    def offer(self, chunk: Chunk) -> None:
        """A temporal chunk was just inserted into the entity: track it if it is small and
        can merge with the tracked ones; otherwise seal the tiers (see the module doc)."""
        p = self.policy
        if chunk.num_rows > p.small_rows or chunk.nbytes > p.small_bytes:
            self.seal()
            return
        schema = chunk.schema
        if self.tiers and schema is not self._schema:
            last = self._last()
            if last is not None and not Chunk.can_concat(last, chunk):
                self.seal()
        self._schema = schema
        if not self.tiers:
            self.tiers.append([])
        self.tiers[0].append(chunk)

    def _last(self) -> Chunk | None:
        for tier in self.tiers:
            if tier:
                return tier[-1]
        return None

    def due(self) -> tuple[int, list[Chunk]] | None:
        """(tier, parts) of the next merge, or None: the lowest tier holding ``fan_in``
        chunks or a full chunk's worth of rows or bytes, and its oldest ones as long as they
        fit ``max_rows`` / ``max_bytes``. A tier whose two oldest chunks do not fit together
        lets its oldest one go (it stays as it is)."""
        p = self.policy
        for k, tier in enumerate(self.tiers):
            if len(tier) < 2:
                continue
            rows = nbytes = 0
            n = 0
            full = False
            for chunk in tier[: p.fan_in]:
                if n and (rows + chunk.num_rows > p.max_rows or nbytes + chunk.nbytes > p.max_bytes):
                    full = True
                    break
                rows += chunk.num_rows
                nbytes += chunk.nbytes
                n += 1
            if not full and n < p.fan_in and rows < p.max_rows and nbytes < p.max_bytes:
                continue
            if n < 2:
                # the oldest one stays as it is; the older tiers are cut off by it
                del tier[0]
                del self.tiers[k + 1 :]
                continue
            return k, tier[:n]
        return None

    def merged(self, tier: int, parts: list[Chunk], result: Chunk) -> None:
        """``parts`` (the oldest of ``tier``) were replaced by ``result``: it joins the next
        tier while it can still grow, otherwise it is final."""
        del self.tiers[tier][: len(parts)]
        p = self.policy
        if 2 * result.num_rows <= p.max_rows and 2 * result.nbytes <= p.max_bytes:
            if len(self.tiers) == tier + 1:
                self.tiers.append([])
            # tier + 1 holds older merges: appending keeps every tier oldest first
            self.tiers[tier + 1].append(result)
        else:
            # final: it stays where its parts were, which cuts off the older tiers (the
            # parts of a merge must stay adjacent in the entity's insertion order)
            del self.tiers[tier + 1 :]

    def forget(self, gone: set[int]) -> None:
        """Chunks (by ``id()``) were removed from the entity (eviction)."""
        for tier in self.tiers:
            if any(id(c) in gone for c in tier):
                tier[:] = [c for c in tier if id(c) not in gone]


# ---------------------------------------------------------------------- merging

# Per schema object (chunks decoded from one schema share it): how to rebuild each of its
# fields from the parts, or None when only `Chunk.concat` can merge them.
_LAYOUTS: dict[int, tuple[pa.Schema, list[tuple[str, str]] | None, bytes]] = {}
_LAYOUTS_MAX = 1024


def _layout(first: Chunk) -> tuple[list[tuple[str, str]] | None, bytes]:
    """(field plan, schema key) for chunks sharing ``first.schema``: each field is
    ("rid", _) / ("time", timeline) / ("data", column); the key is the serialized schema
    without ``rerun:id`` (one plan in `Chunk.from_record_batch`'s schema cache for every
    merged chunk of the entity, so they share their schema too)."""
    schema = first.schema
    hit = _LAYOUTS.get(id(schema))
    if hit is not None and hit[0] is schema:
        return hit[1], hit[2]
    fields: list[tuple[str, str]] | None = []
    by_name = {name: name for name in first.timelines}
    for field in schema:
        meta = field.metadata or {}
        if field.name == ROW_ID_COLUMN:
            fields.append(("rid", ""))
        elif field.name in first.components:
            fields.append(("data", field.name))
        else:
            timeline = meta.get(INDEX_NAME_KEY, field.name.encode()).decode("utf-8", "replace")
            unit = getattr(field.type, "unit", "ns")
            if timeline not in by_name or unit != "ns" or field.type.bit_width != 64:
                fields = None  # other control columns, coarse time units: Chunk.concat
                break
            fields.append(("time", timeline))
    meta = dict(schema.metadata or {})
    meta.pop(CHUNK_ID_KEY, None)
    key = schema.with_metadata(meta).serialize().to_pybytes()
    if len(_LAYOUTS) >= _LAYOUTS_MAX:
        _LAYOUTS.clear()
    _LAYOUTS[id(schema)] = (schema, fields, key)
    return fields, key


def merge_chunks(parts: Sequence[Chunk]) -> Chunk:
    """One chunk with the rows of ``parts`` (of one entity, in that order), keeping the
    first part's id. Parts decoded from one schema (the live case) are merged directly: their
    columns concatenated under that schema, the row ids kept once (native order, in place)
    and the schema shared by every merged chunk of the entity. Anything else, or rows whose
    times or row ids would no longer be sorted (the schema says they are), goes through
    `Chunk.concat`."""
    first = parts[0]
    schema = first.schema
    if first.is_static or any(p.schema is not schema for p in parts):
        return Chunk.concat(parts)
    fields, key = _layout(first)
    if fields is None:
        return Chunk.concat(parts)
    row_ids = np.concatenate([p.row_ids for p in parts])
    if not rows_sorted(row_ids[:, 0], row_ids[:, 1]):
        return Chunk.concat(parts)
    n = len(row_ids)
    columns: list[pa.Array] = []
    owned: pa.Buffer | None = None
    for (kind, name), field in zip(fields, schema, strict=True):
        if kind == "time":
            times = np.concatenate([p.timelines[name].times for p in parts])
            if n > 1 and np.count_nonzero(times[1:] < times[:-1]):
                return Chunk.concat(parts)
            columns.append(pa.Array.from_buffers(field.type, n, [None, pa.py_buffer(times)]))
        elif kind == "data":
            columns.append(pa.concat_arrays([p.components[name] for p in parts]))
        else:
            owned = pa.py_buffer(row_ids.astype(">u8"))  # swapped back in place below
            storage = pa.Array.from_buffers(pa.binary(16), n, [None, owned])
            if isinstance(field.type, pa.ExtensionType):
                storage = field.type.wrap_array(storage)
            columns.append(storage)
    raw_id = first.chunk_id_str.encode()
    meta = dict(schema.metadata or {})
    meta[CHUNK_ID_KEY] = raw_id
    batch = pa.RecordBatch.from_arrays(columns, schema=schema.with_metadata(meta))
    merged = Chunk.from_record_batch(batch, is_static=False, schema_key=key + raw_id,
                                     owned_buffer=owned)
    merged.source_chunks = sum(p.source_chunks for p in parts)
    return merged
