"""Space views: each shows entities of one store at the time cursor.

- ``base.View``: the contract (``accepts``, ``redraw``, ``on_data_changed``, coalesced redraws).
- ``registry``: the widget class of each view kind the scene layer plans (heuristics or a
  blueprint); ``create_view`` gives spatial views their scene source (``build_scene``).
- ``spatial``: ``view3d`` (numpy rasterizer ``raster3d``, ``orbit_camera``) and ``view2d``
  (QPainter; images, points, lines, hover); ``image_decode`` turns encoded images into
  QImages (raw buffers are decoded by ``viewer.scene.images``).
- ``plot``, ``text``, ``document``, ``chart``, ``tensor``, ``graph``, ``map``,
  ``dataframe``: the other view kinds.
- ``selection.component_values_at``: component values as short text for the selection panel.
"""
