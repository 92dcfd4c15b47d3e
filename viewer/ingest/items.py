"""What travels through a store's queues: `InboxEntry` in, `ReadyItem` out.

A source puts one `InboxEntry` per message into its store's inbox; the worker turns entries
into `ReadyItem`s (in input order) for the frame driver to apply on the UI thread.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any, Protocol

from viewer.log.messages import LogMsg
from viewer.log.reader import ReadError


class ItemKind(enum.Enum):
    """What a ready item carries; compared by identity on the UI thread for every item."""

    CHUNK = "chunk"  # payload: Chunk
    STORE_INFO = "store info"  # payload: StoreInfo
    ACTIVATION = "activation"  # payload: BlueprintActivationCommand
    ERROR = "error"  # payload: ReadError


class ItemSource(Protocol):
    """The part of a source an item needs: its name and where its errors go."""

    name: str
    errors: list[ReadError]


@dataclass(slots=True)
class InboxEntry:
    """One message on its way to the worker."""

    msg: LogMsg
    source: ItemSource | None
    t_read: float  # monotonic time the message was read or received
    offset: int  # byte offset in the file (-1 for streams)
    #: A buffer to decompress into, faulted in on the source thread while the worker is
    #: busy with earlier messages (`viewer.log.arrow.prepare_output`); None: allocate later.
    out: Any = None
    #: Big payloads: their decompression, which a source blocked on a full inbox may run
    #: (`viewer.ingest.decompress_jobs`); None: the worker decompresses as usual.
    job: Any = None


@dataclass(slots=True)
class ReadyItem:
    """One result in the outbox. ``n_msgs`` input messages stand behind it (merged chunks)."""

    kind: ItemKind
    payload: Any  # Chunk | StoreInfo | BlueprintActivationCommand | ReadError
    n_msgs: int
    t_read: float  # monotonic time the (first) source message was read or received
    source: ItemSource | None = None
