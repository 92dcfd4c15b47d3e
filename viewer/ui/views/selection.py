"""Short text for every component of an entity at the time cursor (the selection panel).

Formatting is by component kind where the arrow type alone would say too little (colors as
``#RRGGBBAA``, image formats as ``64×48 RGB U8``, blobs as a byte count), otherwise generic:
the first few instances, and how many there are.
"""

from __future__ import annotations

import pyarrow as pa

from viewer.scene.images import ImageDecodeError, ImageFormat
from viewer.store.entity_db import EntityDb, LatestAtResult
from viewer.store.entity_path import EntityPath
from viewer.ui.views.arrow_values import latest

MAX_ITEMS = 3
MAX_TEXT = 80

# Names of the image format enums (the numbers rerun-sdk stores), for ``64×48 RGB U8``.
COLOR_MODEL_NAMES = {1: "L", 2: "RGB", 3: "RGBA", 4: "BGR", 5: "BGRA"}
CHANNEL_DTYPE_NAMES = {6: "U8", 7: "I8", 8: "U16", 9: "I16", 10: "U32", 11: "I32", 12: "U64",
                       13: "I64", 33: "F16", 34: "F32", 35: "F64"}
PIXEL_FORMAT_NAMES = {
    20: "Y_U_V12_LimitedRange", 26: "NV12", 27: "YUY2", 30: "Y8_FullRange",
    39: "Y_U_V24_LimitedRange", 40: "Y_U_V24_FullRange", 41: "Y8_LimitedRange",
    44: "Y_U_V12_FullRange", 49: "Y_U_V16_LimitedRange", 50: "Y_U_V16_FullRange",
    128: "BayerRGGB8", 129: "BayerBGGR8", 130: "BayerGBRG8", 131: "BayerGRBG8"}


def describe_format(fmt: ImageFormat) -> str:
    """``64×48 RGB U8`` / ``8×4 NV12``: size and pixel layout (unset model and type are
    Rerun's defaults, L and U8)."""
    if fmt.pixel_format is not None:
        kind = PIXEL_FORMAT_NAMES.get(fmt.pixel_format, f"pixel format {fmt.pixel_format}")
    else:
        model = 1 if fmt.color_model is None else fmt.color_model
        dtype = 6 if fmt.channel_datatype is None else fmt.channel_datatype
        kind = (f"{COLOR_MODEL_NAMES.get(model, f'model {model}')} "
                f"{CHANNEL_DTYPE_NAMES.get(dtype, f'type {dtype}')}")
    return f"{fmt.width}×{fmt.height} {kind}"


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
        for i in range(min(n, MAX_ITEMS)):
            try:
                items.append(describe_format(ImageFormat.from_cell(value.slice(i, 1))))
            except ImageDecodeError:
                items.append(_item(value[i].as_py()))
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
