"""Shared helpers for the ingest tests: modes, hubs, senders and apply-order recording."""

from __future__ import annotations

import dataclasses
import threading
from collections import defaultdict
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import numpy as np

from viewer.ingest import IngestHub, IngestSettings
from viewer.ingest.items import ItemKind
from viewer.log.arrow import decode_arrow_payload
from viewer.log.messages import ArrowMsg, BlueprintActivationCommand, LogMsg, SetStoreInfo, StoreId
from viewer.log.reader import read_rrd
from viewer.store.chunk import Chunk

DATA_DIR = Path(__file__).resolve().parents[1] / "data"

MODES: dict[str, IngestSettings] = {
    "threaded": IngestSettings(decode_threads=1),
    "per_store": IngestSettings(decode_threads=0),
    "pool2": IngestSettings(decode_threads=2),
    "web": IngestSettings(web_mode=True),
}


def settings_for(mode: str, **overrides: Any) -> IngestSettings:
    return dataclasses.replace(MODES[mode], **overrides)


def sdk_recording(tmp_path_factory: Any, name: str, write: Callable[[Path], None]) -> Path:
    """A recording that ``write(path)`` makes with rerun-sdk, in a fresh folder (for module
    fixtures; the caller's fixture isolates rerun's home with ``rerun_home``)."""
    path = tmp_path_factory.mktemp(Path(name).stem) / name
    write(path)
    return path


def file_messages(name: str) -> list[LogMsg]:
    msgs, errors = read_rrd(DATA_DIR / name)
    assert not errors, errors
    return msgs


def with_store(msg: LogMsg, store_id: StoreId) -> LogMsg:
    """The same message for another store (payload shared, zero-copy)."""
    if isinstance(msg, SetStoreInfo):
        info = dataclasses.replace(msg.info, store_id=store_id)
        return dataclasses.replace(msg, info=info)
    if isinstance(msg, ArrowMsg):
        return dataclasses.replace(msg, store_id=store_id)
    if isinstance(msg, BlueprintActivationCommand):
        return dataclasses.replace(msg, blueprint_id=store_id)
    raise TypeError(msg)


def grouped_by_entity(msgs: list[LogMsg]) -> list[LogMsg]:
    """Non-chunk messages first, then the chunks stably grouped by entity path."""
    others = [m for m in msgs if not isinstance(m, ArrowMsg)]
    chunks = [m for m in msgs if isinstance(m, ArrowMsg)]
    paths = [decode_arrow_payload(m).schema.metadata[b"rerun:entity_path"] for m in chunks]
    order = sorted(range(len(chunks)), key=lambda i: paths[i])
    return others + [chunks[i] for i in order]


def interleave(*streams: list[LogMsg]) -> list[LogMsg]:
    """Round-robin message by message."""
    out: list[LogMsg] = []
    for i in range(max(len(s) for s in streams)):
        for s in streams:
            if i < len(s):
                out.append(s[i])
    return out


def chunk_tokens(chunk: Chunk) -> list[tuple[str, int, int]]:
    """A chunk's rows as (entity path, row id time, row id increment)."""
    path = str(chunk.entity_path)
    return [(path, t, inc) for t, inc in chunk.row_ids.tolist()]


def entity_order(tokens: list[Any]) -> list[Any]:
    """Tokens as what must hold whatever runs and merging do: the markers (store infos,
    activations, errors) in order, and between two markers each entity's rows in order
    (chunks of different entities may go out in another order: no query can see it)."""
    out: list[Any] = []
    segment: dict[str, list[Any]] = {}
    for token in tokens:
        if token[0] in ("info", "activation", "error"):
            out.extend([segment, token])
            segment = {}
        else:
            segment.setdefault(token[0], []).append(token)
    out.append(segment)
    return out


def expected_tokens(msgs: Iterable[LogMsg]) -> dict[StoreId, list[Any]]:
    """Per store, in send order: the rows of chunks (`chunk_tokens`), markers otherwise."""
    out: dict[StoreId, list[Any]] = defaultdict(list)
    for msg in msgs:
        if isinstance(msg, ArrowMsg):
            chunk = Chunk.from_record_batch(decode_arrow_payload(msg), is_static=msg.is_static)
            out[msg.store_id].extend(chunk_tokens(chunk))
        elif isinstance(msg, SetStoreInfo):
            out[msg.store_id].append(("info", msg.info))
        else:
            out[msg.store_id].append(("activation", msg))
    return out


class ApplyRecorder:
    """Installs the frame driver's apply listener and records tokens per store."""

    def __init__(self, hub: IngestHub) -> None:
        self.tokens: dict[StoreId, list[Any]] = defaultdict(list)
        self.items: list[tuple[StoreId, Any]] = []
        self.frames: list[Any] = []
        hub.frame_driver.apply_listener = self._on_item
        hub.frame_applied.connect(self.frames.append)

    def _on_item(self, store_id: StoreId, item: Any) -> None:
        self.items.append((store_id, item))
        if item.kind is ItemKind.CHUNK:
            self.tokens[store_id].extend(chunk_tokens(item.payload))
        elif item.kind is ItemKind.STORE_INFO:
            self.tokens[store_id].append(("info", item.payload))
        elif item.kind is ItemKind.ACTIVATION:
            self.tokens[store_id].append(("activation", item.payload))
        elif item.kind is ItemKind.ERROR:
            self.tokens[store_id].append(("error", item.payload.message))


class Sender(threading.Thread):
    """Pushes messages into a stream source from its own thread (like a gRPC handler)."""

    def __init__(self, source: Any, msgs: list[LogMsg], finish: bool = True) -> None:
        super().__init__(name="test-sender", daemon=False)
        self.source = source
        self.msgs = msgs
        self.finish_after = finish
        self.sent = 0
        self.exc: BaseException | None = None

    def run(self) -> None:
        try:
            for msg in self.msgs:
                self.source.submit(msg)
                self.sent += 1
            if self.finish_after:
                self.source.finish()
        except BaseException as exc:  # recorded for the test to assert on
            self.exc = exc


def drain(hub: IngestHub, senders: list[threading.Thread], timeout_s: float = 20.0) -> None:
    """Spin the hub until every sender thread ended and everything is applied."""
    import time

    deadline = time.monotonic() + timeout_s
    while any(s.is_alive() for s in senders):
        hub.run_until_idle(0.02)
        assert time.monotonic() < deadline, "senders did not finish"
    for s in senders:
        s.join()
    assert hub.run_until_idle(max(0.1, deadline - time.monotonic())), "hub did not get idle"


def latest_at_everything(db: Any) -> dict[Any, Any]:
    """Latest-at of every component of every entity, at every timeline's end (and static)."""
    out: dict[Any, Any] = {}
    timelines = db.timelines()
    for path in db.entities():
        for comp in db.components(path):
            res = db.latest_static(path, comp)
            out[(str(path), comp, None)] = _result_key(res)
            for tl in timelines:
                rng = db.time_range(tl)
                if rng is None:
                    continue
                for t in (rng[0], (rng[0] + rng[1]) // 2, rng[1]):
                    out[(str(path), comp, tl, t)] = _result_key(db.latest_at(path, comp, tl, t))
    return out


def _result_key(res: Any) -> Any:
    if res is None:
        return None
    return (res.time, res.row_id, res.value.to_pylist())


def assert_same_rows(a: np.ndarray, b: np.ndarray) -> None:
    np.testing.assert_array_equal(a, b)
