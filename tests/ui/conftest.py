"""UI test fixtures."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _fresh_redraw_queue():
    """The process-wide redraw queue starts each test empty: turns left by an earlier
    test's window (a store activation, a view to create) must not take this test's ticks."""
    from viewer.ui.views.base import data_redraw_queue

    data_redraw_queue().clear()
    yield
    data_redraw_queue().clear()
