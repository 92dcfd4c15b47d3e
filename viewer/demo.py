"""A built-in demo recording, shown when the viewer starts without a file.

Built with our own encoder (``encode_record_batch``) and writer, in the chunk layout rerun-sdk
0.41.0 writes ("sorbet" schema: RowId control column, one index column per timeline, one
``list<...>`` data column per component, entity path and chunk id in the schema metadata).
It doubles as an end-to-end check that what we write, we (and rerun-sdk) can read. No Qt.
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa

from viewer.log.arrow import encode_record_batch
from viewer.log.messages import (
    ArrowMsg,
    LogMsg,
    SetStoreInfo,
    StoreId,
    StoreInfo,
    StoreKind,
    StoreSource,
    Tuid,
)
from viewer.log.sorbet import (
    SOURCE_KIND_OTHER,
    STORE_VERSION_0_41,
    Component,
    TuidGenerator,
    chunk_batch,
)

DEMO_APPLICATION_ID = "rrd_viewer_demo"
DEMO_FRAMES = 240
DEMO_FPS = 30
def build_chunk(ids: TuidGenerator, entity_path: str, frames: list[int] | None,
                times_ns: list[int] | None, components: list[Component]) -> pa.RecordBatch:
    """One sorbet chunk; ``frames``/``times_ns`` None makes it static (no index column)."""
    row_ids = ids.row_id_array(len(components[0][3]))
    indexes = []
    if frames is not None:
        indexes.append(("frame", pa.array(frames, pa.int64())))
    if times_ns is not None:
        indexes.append(("time", pa.array(times_ns, pa.timestamp("ns"))))
    return chunk_batch(entity_path, ids.next(), row_ids, indexes, components)


def _list_of_fixed(values: np.ndarray, offsets: list[int], width: int) -> pa.Array:
    """``list<fixed_size_list<float32>[width]>`` from flat float32 rows and list offsets."""
    flat = pa.array(values.reshape(-1).astype(np.float32), pa.float32())
    inner = pa.FixedSizeListArray.from_arrays(flat, width)
    return pa.ListArray.from_arrays(pa.array(offsets, pa.int32()), inner)


def _offsets(counts: list[int]) -> list[int]:
    return [0, *itertools.accumulate(counts)]


def _rgba(r: np.ndarray, g: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pack 0..255 channels as 0xRRGGBBAA, the Color component's layout."""
    return ((r.astype(np.uint32) << 24) | (g.astype(np.uint32) << 16)
            | (b.astype(np.uint32) << 8) | np.uint32(0xFF))


def _spiral(frame: int, n: int = 300) -> tuple[np.ndarray, np.ndarray]:
    s = np.linspace(0.0, 6.0 * math.pi, n)
    angle = frame / DEMO_FPS * 0.6
    x, y = np.cos(s + angle) * (1 + s / 8), np.sin(s + angle) * (1 + s / 8)
    pos = np.stack([x, y, s / 3 - 3], axis=-1).astype(np.float32)
    fade = np.linspace(0, 1, n)
    colors = _rgba(40 + 215 * fade, 200 - 140 * fade, np.full(n, 230.0))
    return pos, colors


def _image(frame: int, width: int = 96, height: int = 64) -> np.ndarray:
    """An RGB test pattern that drifts with the frame number."""
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    phase = frame / DEMO_FPS
    r = 127 + 127 * np.sin(xx / 9 + phase)
    g = 127 + 127 * np.sin(yy / 7 - phase * 0.7)
    b = 127 + 127 * np.sin((xx + yy) / 13 + phase * 0.4)
    return np.stack([r, g, b], axis=-1).clip(0, 255).astype(np.uint8)


def _image_format_type() -> pa.DataType:
    return pa.struct([
        pa.field("width", pa.uint32(), nullable=False),
        pa.field("height", pa.uint32(), nullable=False),
        pa.field("pixel_format", pa.uint8()),
        pa.field("color_model", pa.uint8()),
        pa.field("channel_datatype", pa.uint8()),
    ])


_COLOR_MODEL_RGB = 2
_CHANNEL_U8 = 6
_LEVELS = ["INFO", "DEBUG", "WARN", "INFO", "ERROR"]


def demo_batches(start_ns: int | None = None, frames: int = DEMO_FRAMES) -> Iterator[pa.RecordBatch]:
    """The demo's chunks: scalars, a 3D spiral, 2D points, an image and text logs."""
    start_ns = time.time_ns() if start_ns is None else start_ns
    ids = TuidGenerator(start_ns)
    frame_ns = 1_000_000_000 // DEMO_FPS
    yield build_chunk(ids, "/__properties", None, None, [
        ("RecordingInfo", "start_time", "Timestamp", pa.array([[start_ns]], pa.list_(pa.int64()))),
    ])
    yield build_chunk(ids, "/world/origin", None, None, [
        ("TextDocument", "text", "Text", pa.array([["The demo recording of rrd-viewer."]],
                                                  pa.list_(pa.string()))),
    ])
    per_chunk = 60
    for first in range(0, frames, per_chunk):
        fr = list(range(first, min(first + per_chunk, frames)))
        ts = [start_ns + f * frame_ns for f in fr]
        t = np.array(fr, dtype=np.float64) / DEMO_FPS
        for name, values in (("sin", np.sin(2 * t)), ("cos", np.cos(2 * t)),
                             ("damped", np.exp(-t / 4) * np.sin(6 * t))):
            yield build_chunk(ids, f"/plots/{name}", fr, ts, [
                ("Scalars", "scalars", "Scalar", pa.array([[v] for v in values], pa.list_(pa.float64()))),
            ])
        # Spiral every 4th frame, 2D points every 2nd, image every 10th, a log line every 8th.
        sp = [f for f in fr if f % 4 == 0]
        spirals = [_spiral(f) for f in sp]
        yield build_chunk(ids, "/world/spiral", sp, [start_ns + f * frame_ns for f in sp], [
            ("Points3D", "positions", "Position3D",
             _list_of_fixed(np.concatenate([p for p, _ in spirals]), _offsets([len(p) for p, _ in spirals]), 3)),
            ("Points3D", "colors", "Color", pa.ListArray.from_arrays(
                pa.array(_offsets([len(c) for _, c in spirals]), pa.int32()),
                pa.array(np.concatenate([c for _, c in spirals]), pa.uint32()))),
            ("Points3D", "radii", "Radius", pa.array([[0.05]] * len(sp), pa.list_(pa.float32()))),
        ])
        pf = [f for f in fr if f % 2 == 0]
        rng = np.random.default_rng(first)
        pts = []
        for f in pf:
            center = np.array([48 + 28 * math.cos(f / 20), 32 + 18 * math.sin(f / 20)])
            pts.append(center + rng.normal(scale=3.0, size=(25, 2)))
        yield build_chunk(ids, "/camera/points", pf, [start_ns + f * frame_ns for f in pf], [
            ("Points2D", "positions", "Position2D", _list_of_fixed(np.concatenate(pts), _offsets([25] * len(pf)), 2)),
            ("Points2D", "colors", "Color", pa.array([[0xFFDC00FF]] * len(pf), pa.list_(pa.uint32()))),
            ("Points2D", "radii", "Radius", pa.array([[0.6]] * len(pf), pa.list_(pa.float32()))),
        ])
        im = [f for f in fr if f % 10 == 0]
        images = [_image(f) for f in im]
        fmt = [[{"width": img.shape[1], "height": img.shape[0], "pixel_format": None,
                 "color_model": _COLOR_MODEL_RGB, "channel_datatype": _CHANNEL_U8}] for img in images]
        yield build_chunk(ids, "/camera/image", im, [start_ns + f * frame_ns for f in im], [
            ("Image", "buffer", "ImageBuffer", pa.array(
                [[img.reshape(-1)] for img in images],
                pa.list_(pa.list_(pa.field("item", pa.uint8(), nullable=False))))),
            ("Image", "format", "ImageFormat", pa.array(fmt, pa.list_(_image_format_type()))),
        ])
        lf = [f for f in fr if f % 8 == 0]
        yield build_chunk(ids, "/logs", lf, [start_ns + f * frame_ns for f in lf], [
            ("TextLog", "text", "Text", pa.array(
                [[f"frame {f}: sin={math.sin(2 * f / DEMO_FPS):+.3f}"] for f in lf], pa.list_(pa.string()))),
            ("TextLog", "level", "TextLogLevel", pa.array(
                [[_LEVELS[(f // 8) % len(_LEVELS)]] for f in lf], pa.list_(pa.string()))),
        ])


def demo_store_id(recording_id: str | None = None) -> StoreId:
    rid = recording_id or f"demo-{time.strftime('%Y%m%d-%H%M%S')}"
    return StoreId(StoreKind.RECORDING, rid, DEMO_APPLICATION_ID)


def demo_messages(store_id: StoreId | None = None, start_ns: int | None = None,
                  frames: int = DEMO_FRAMES) -> Iterator[LogMsg]:
    """SetStoreInfo then every chunk as an ArrowMsg: what a file or a live stream carries."""
    store_id = store_id or demo_store_id()
    start_ns = time.time_ns() if start_ns is None else start_ns
    info = StoreInfo(store_id, StoreSource(SOURCE_KIND_OTHER, b"rrd-viewer demo"), STORE_VERSION_0_41)
    yield SetStoreInfo(info, Tuid(start_ns, 0))
    for batch in demo_batches(start_ns, frames):
        msg: ArrowMsg = encode_record_batch(batch, store_id)
        yield msg


def write_demo_recording(path: str | Path, *, store_id: StoreId | None = None,
                         frames: int = DEMO_FRAMES) -> Path:
    """Write the demo as an ``.rrd`` file (readable by rerun-sdk too) and return its path."""
    from viewer.log.writer import RrdWriter

    path = Path(path)
    with RrdWriter(path) as writer:
        for msg in demo_messages(store_id, frames=frames):
            writer.write(msg)
    return path

