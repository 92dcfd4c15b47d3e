"""Space views: each shows entities of one store at the time cursor.

- ``base.View``: the contract (``accepts``, ``redraw``, ``on_data_changed``, coalesced redraws).
- ``registry.suggest_views(db)``: which views a recording calls for; ``VIEW_KINDS``.
- ``timeseries`` (Scalars), ``points2d``, ``points3d`` (no OpenGL: ``orbit_camera`` + ``splat``),
  ``image`` (``image_decode``), ``textlog``: the view kinds.
- ``selection.component_values_at``: component values as short text for the selection panel.
"""
