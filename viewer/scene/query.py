"""Latest-at as a view sees it: static wins, then Clear hides what was logged before it.

`EntityDb.latest_at` answers for one component on one entity. A view also needs Rerun's
query-time clears: a `Clear` row on the entity, or a *recursive* one on an ancestor, hides
every component row whose index (time, RowId) is not newer than the clear (data logged in
the same row as a clear is hidden too, as in Rerun); static data has the
lowest time of all, so a temporal clear hides it too. The clear component itself is never
hidden. Results are memoized for the lifetime of one `LatestAt` (one scene build at one
time cursor): transforms, annotations and visualizers ask for the same cells repeatedly.
"""

from __future__ import annotations

from collections.abc import Iterable

import pyarrow as pa

from viewer.store.entity_db import EntityDb, LatestAtResult
from viewer.store.entity_path import EntityPath

CLEAR = "Clear:is_recursive"
_STATIC_TIME = -(1 << 63)

Index = tuple[int, int, int]  # (time, RowId time_ns, RowId inc)


def result_index(result: LatestAtResult) -> Index:
    """The (time, RowId) a result was logged at; static data sorts before any time."""
    time = _STATIC_TIME if result.time is None else int(result.time)
    return (time, int(result.row_id.time_ns), int(result.row_id.inc))


class LatestAt:
    """Clear-aware latest-at at one time cursor. ``timeline``/``t`` None: static data only."""

    def __init__(self, db: EntityDb, timeline: str | None, t: int | None) -> None:
        self.db = db
        self.timeline = timeline
        self.t = t
        self._results: dict[tuple[EntityPath, str], LatestAtResult | None] = {}
        self._clear_bound: dict[EntityPath, Index | None] = {}
        self._own_clear: dict[EntityPath, tuple[Index, bool] | None] = {}
        self._recursive: dict[EntityPath, Index | None] = {}

    def _raw(self, entity: EntityPath, component: str) -> LatestAtResult | None:
        if self.timeline is None or self.t is None:
            return self.db.latest_static(entity, component)
        return self.db.latest_at(entity, component, self.timeline, self.t)

    def _clear_of(self, entity: EntityPath) -> tuple[Index, bool] | None:
        """(index, is_recursive) of the latest Clear logged on ``entity`` itself."""
        if entity in self._own_clear:
            return self._own_clear[entity]
        found: tuple[Index, bool] | None = None
        if CLEAR in self.db.components(entity):
            res = self._raw(entity, CLEAR)
            if res is not None:
                values = res.value.to_pylist()
                found = (result_index(res), bool(values and values[0]))
        self._own_clear[entity] = found
        return found

    def clear_bound(self, entity: EntityPath) -> Index | None:
        """The newest clear that applies to ``entity``: its own, or a recursive one above."""
        if entity in self._clear_bound:
            return self._clear_bound[entity]
        own = self._clear_of(entity)
        parent = entity.parent
        best = None if parent is None else self._recursive_bound(parent)
        if own is not None and (best is None or own[0] > best):
            best = own[0]
        self._clear_bound[entity] = best
        return best

    def _recursive_bound(self, entity: EntityPath) -> Index | None:
        """The newest *recursive* clear on ``entity`` or above (memoized per path)."""
        if entity in self._recursive:
            return self._recursive[entity]
        parent = entity.parent
        best = None if parent is None else self._recursive_bound(parent)
        own = self._clear_of(entity)
        if own is not None and own[1] and (best is None or own[0] > best):
            best = own[0]
        self._recursive[entity] = best
        return best

    def result(self, entity: EntityPath, component: str) -> LatestAtResult | None:
        """The latest row of ``component`` at the cursor, None if absent or cleared."""
        key = (entity, component)
        if key in self._results:
            return self._results[key]
        res = self._raw(entity, component)
        if res is not None and component != CLEAR:
            bound = self.clear_bound(entity)
            if bound is not None and result_index(res) <= bound:  # same row as the clear too
                res = None
        self._results[key] = res
        return res

    def cell(self, entity: EntityPath, component: str) -> pa.Array | None:
        """The instances of that row (a pyarrow array), or None."""
        res = self.result(entity, component)
        return None if res is None else res.value

    def has_any(self, entity: EntityPath, components: Iterable[str]) -> bool:
        return any(self.result(entity, c) is not None for c in components)
