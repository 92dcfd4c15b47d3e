"""Log message types shared by files and the live stream.

These mirror the protobuf messages of rerun-sdk 0.41.0 (field numbers in
``viewer/log/protobuf.py``) as plain frozen dataclasses, so every layer above can use them
without protobuf or Qt.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any


class StoreKind(enum.IntEnum):
    UNSPECIFIED = 0
    RECORDING = 1
    BLUEPRINT = 2

    @property
    def label(self) -> str:
        return {1: "recording", 2: "blueprint"}.get(int(self), "unspecified")


class MsgKind(enum.IntEnum):
    """The u64 kind in a file's message header."""

    END = 0
    SET_STORE_INFO = 1
    ARROW_MSG = 2
    BLUEPRINT_ACTIVATION = 3


class Compression(enum.IntEnum):
    """ArrowMsg.compression. Numbered differently from the stream header byte."""

    UNSPECIFIED = 0
    NONE = 1
    LZ4 = 2


@dataclass(frozen=True, slots=True)
class StoreId:
    kind: StoreKind
    recording_id: str
    application_id: str

    def __str__(self) -> str:
        return f"{self.kind.label}:{self.application_id}/{self.recording_id}"


@dataclass(frozen=True, slots=True)
class Tuid:
    """Rerun's time-ordered unique id: 64-bit nanoseconds plus a 64-bit increment."""

    time_ns: int
    inc: int

    def to_bytes(self) -> bytes:
        """The 16-byte big-endian form used in `RowId` columns and chunk ids."""
        return self.time_ns.to_bytes(8, "big") + self.inc.to_bytes(8, "big")

    @classmethod
    def from_bytes(cls, raw: bytes) -> Tuid:
        return cls(int.from_bytes(raw[:8], "big"), int.from_bytes(raw[8:16], "big"))

    def __str__(self) -> str:
        return f"{self.time_ns:016X}{self.inc:016x}"


@dataclass(frozen=True, slots=True)
class StoreSource:
    kind: int = 0
    extra: bytes = b""


@dataclass(frozen=True, slots=True)
class StoreInfo:
    store_id: StoreId
    store_source: StoreSource | None = None
    store_version: int | None = None


@dataclass(frozen=True, slots=True)
class SetStoreInfo:
    info: StoreInfo
    row_id: Tuid | None = None

    @property
    def store_id(self) -> StoreId:
        return self.info.store_id


@dataclass(frozen=True, slots=True)
class ArrowMsg:
    """One chunk on the wire. ``payload`` is kept as a zero-copy slice (memoryview/Buffer)."""

    store_id: StoreId
    compression: Compression
    uncompressed_size: int
    payload: Any = field(repr=False)
    encoding: int = 1
    chunk_id: Tuid | None = None
    is_static: bool | None = None
    #: The payload is lent (a shared ring the decode helper reuses once every buffer over
    #: it is gone): whoever keeps its bytes must copy them.
    transient: bool = False
    #: The payload (uncompressed) is a writable buffer of its own that nothing else reads:
    #: a decoder may keep it and swap its row ids in place.
    private: bool = False
    #: How many messages of the sender this one stands for (the decode helper joins runs
    #: of small chunks into one; `viewer.log.helper_runs`).
    parts: int = 1

    @property
    def payload_size(self) -> int:
        return len(memoryview(self.payload)) if not hasattr(self.payload, "size") else int(
            self.payload.size
        )


@dataclass(frozen=True, slots=True)
class BlueprintActivationCommand:
    blueprint_id: StoreId
    make_active: bool = False
    make_default: bool = False

    @property
    def store_id(self) -> StoreId:
        return self.blueprint_id


LogMsg = SetStoreInfo | ArrowMsg | BlueprintActivationCommand


def message_nbytes(msg: LogMsg) -> int:
    """Approximate bytes a message holds, used to bound queues by bytes."""
    if isinstance(msg, ArrowMsg):
        return msg.payload_size + 128
    return 128


def decoded_claim(msg: LogMsg) -> int:
    """Bytes decoding ``msg`` will allocate, as its sender claims (an LZ4 payload's
    ``uncompressed_size``); counted against queue and memory bounds before anything is
    allocated, since a sender can claim far more than it sends."""
    if isinstance(msg, ArrowMsg) and msg.compression == Compression.LZ4:
        return max(int(msg.uncompressed_size), 0)
    return 0
