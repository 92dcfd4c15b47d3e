"""Scene logic between the store and the widgets, with no Qt.

From a store (``EntityDb``), a time cursor and a view (kind, origin, entities) this layer
computes what the view draws: transforms resolved along entity paths, Clear applied,
annotation contexts looked up, and one draw batch of plain numpy arrays per entity and
primitive (``draw.py``). Default views are chosen here too (``heuristics.py``), so the
window and ``viewer layout --json`` share one code path. See docs/scene.md.
"""
