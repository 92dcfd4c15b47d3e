"""Guard against PySide6 6.12 on CPython 3.11: every Python ``Signal.emit()`` drops one
reference to ``True`` there and the process aborts after a few hundred emits
(docs/platform-facts.md). A bad upgrade must fail here, loudly, not crash the viewer later."""

from __future__ import annotations

import sys

from PySide6.QtCore import QObject, Signal


class _Emitter(QObject):
    flag = Signal(bool)
    payload = Signal(object)
    plain = Signal()


def test_signal_emits_keep_refcount_of_true_stable(qtbot):
    emitter = _Emitter()
    got: list[object] = []
    emitter.flag.connect(got.append)
    emitter.payload.connect(got.append)
    emitter.plain.connect(lambda: got.append(None))
    for _ in range(100):  # warm-up: caches, interned objects
        emitter.flag.emit(True)
    got.clear()
    before = sys.getrefcount(True)
    n = 3000
    for i in range(n):
        emitter.flag.emit(True)
        emitter.payload.emit(i)
        emitter.plain.emit()
    assert len(got) == 3 * n
    assert sum(1 for x in got if x is True) == n
    got.clear()  # drop the references the list itself held
    after = sys.getrefcount(True)
    # A leak or a drop of one reference per emit would move it by thousands.
    assert abs(after - before) < 50, f"refcount of True moved from {before} to {after}"
