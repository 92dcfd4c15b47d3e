"""Short text for every component of an entity at the time cursor (the selection panel).

Formatting is by component kind where the arrow type alone would say too little (colors as
``#RRGGBBAA``, image formats as ``64×48 RGB U8``, blobs as a byte count), otherwise generic:
the first few instances, and how many there are.
"""

from __future__ import annotations

import pyarrow as pa

from viewer.store.entity_db import EntityDb, LatestAtResult
from viewer.store.entity_path import EntityPath
from viewer.ui.views.arrow_values import latest
from viewer.ui.views.spatial.image_decode import ImageFormat

MAX_ITEMS = 3
MAX_TEXT = 80


def _short(text: str, limit: int = MAX_TEXT) -> str:
    text = text.replace("\n", "⏎")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _number(v: object) -> str:
    if isinstance(v, float):
        return f"{v:.6g}"
    return str(v)


def _item(v: object) -> str:
    if isinstance(v, list | tuple):
        return "(" + ", ".join(_item(x) for x in v) + ")"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{k}: {_item(x)}" for k, x in v.items()) + "}"
    if isinstance(v, str):
        return repr(_short(v, 40))
    if isinstance(v, bytes):
        return f"<{len(v)} bytes>"
    return _number(v)


def _is_bytes_list(t: pa.DataType) -> bool:
    return (pa.types.is_list(t) or pa.types.is_large_list(t)) and pa.types.is_uint8(t.value_type)


def format_value(component: str, value: pa.Array) -> str:
    """One component cell (all instances of one row) as short text."""
    n = len(value)
    if n == 0:
        return "(empty)"
    name = component.rsplit(":", 1)[-1]
    if name == "colors" and pa.types.is_uint32(value.type):
        items = [f"#{int(c):08X}" for c in value.slice(0, MAX_ITEMS).to_pylist() if c is not None]
    elif name == "format" and pa.types.is_struct(value.type):
        items = []
        for d in value.slice(0, MAX_ITEMS).to_pylist():
            try:
                items.append(ImageFormat.from_dict(d).describe())
            except ValueError:
                items.append(_item(d))
    elif _is_bytes_list(value.type):
        lengths = [len(b) if b is not None else 0 for b in value.slice(0, MAX_ITEMS).to_pylist()]
        items = [f"<{length} bytes>" for length in lengths]
    elif pa.types.is_string(value.type) or pa.types.is_large_string(value.type):
        items = [repr(_short(s)) if n > 1 else _short(s) for s in
                 value.slice(0, MAX_ITEMS).to_pylist() if s is not None]
    else:
        items = [_item(v) for v in value.slice(0, MAX_ITEMS).to_pylist()]
    text = ", ".join(items)
    if n > MAX_ITEMS:
        text = f"{n} values: {text}, …"
    elif n > 1:
        text = f"[{text}]"
    return _short(text, MAX_TEXT * 2)


def component_values_at(db: EntityDb, entity: EntityPath, timeline: str | None,
                        t: int | None) -> list[tuple[str, str]]:
    """(component, value text) for every component of the entity, latest-at ``t``
    (static values win; ``"–"`` when nothing was logged yet)."""
    out: list[tuple[str, str]] = []
    for component in db.components(entity):
        try:
            res: LatestAtResult | None = latest(db, entity, component, timeline, t)
            text = "–" if res is None else format_value(component, res.value)
            if res is not None and res.is_static:
                text += "  (static)"
        except (pa.ArrowException, ValueError, TypeError) as exc:
            text = f"<cannot show: {exc}>"
        out.append((component, text))
    return out
