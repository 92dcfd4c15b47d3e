"""Ingestion: per-store workers, bounded queues, the frame driver, threaded and web mode.

Imports only ``PySide6.QtCore`` (no widgets). Everyone else uses `IngestHub`.
"""

from viewer.ingest.changes import FrameChanges, StoreChanges
from viewer.ingest.hub import IngestHub
from viewer.ingest.queues import BoundedQueue, QueueClosed
from viewer.ingest.settings import IngestSettings
from viewer.ingest.sources import Source, SourceClosed, SourceState
from viewer.ingest.stats import IngestStats

__all__ = [
    "BoundedQueue",
    "FrameChanges",
    "IngestHub",
    "IngestSettings",
    "IngestStats",
    "QueueClosed",
    "Source",
    "SourceClosed",
    "SourceState",
    "StoreChanges",
]
