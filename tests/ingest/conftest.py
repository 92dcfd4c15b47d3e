"""Fixtures for the ingest tests: a hub factory that always shuts its hubs down."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from ingest_helpers import settings_for  # noqa: E402

from viewer.ingest import IngestHub  # noqa: E402


@pytest.fixture
def make_hub(qtbot):
    hubs: list[IngestHub] = []

    def make(mode: str, **overrides) -> IngestHub:
        hub = IngestHub(settings_for(mode, **overrides))
        hubs.append(hub)
        return hub

    yield make
    for hub in hubs:
        hub.shutdown()
