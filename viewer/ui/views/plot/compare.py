"""Compare runs: which other recordings a recording's time-series views also draw.

Two runs of one program are two recordings of one application id. "Compare runs" on a
recording adds the other open recordings of its application to its time-series views (and
recordings of that application opened later join); the user may also pick runs one by one,
of any application. The runs are aligned on time since each one's start by default (two
runs rarely start at the same wall-clock time), or on the shared timeline.

`RunComparisons` only keeps this state and says when a recording's comparison changed;
the window applies it to that recording's views (`ViewsHost.set_compare`) and routes the
compared recordings' new data to them. `fill_compare_menu` builds the "Compare runs" menu
(the View menu and each plot's context menu show the same one).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QAction, QActionGroup
from PySide6.QtWidgets import QMenu

from viewer.log.messages import StoreId, StoreKind
from viewer.store.entity_db import EntityDb
from viewer.ui.views.plot.runs import Align, CompareRun, short_id

__all__ = ["Comparison", "RunComparisons", "fill_compare_menu", "short_id"]


@dataclass
class Comparison:
    """One recording's comparison: the other recordings drawn with it, and how."""

    others: list[StoreId] = field(default_factory=list)
    #: Recordings of the same application opened later join (set by "Compare runs").
    follow_app: bool = False
    align: Align = Align.START


class RunComparisons(QObject):
    """Per recording, the recordings its time-series views compare with."""

    #: The comparison of this recording (a StoreId) changed: its views need the new runs.
    changed = Signal(object)

    def __init__(self, dbs: Callable[[], Mapping[StoreId, EntityDb]],
                 label: Callable[[StoreId], str], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._dbs = dbs
        self._label = label
        self._state: dict[StoreId, Comparison] = {}
        #: Every recording opened compares with the other runs of its application
        #: (``rrd-viewer --compare``).
        self.compare_on_open = False

    # -------------------------------------------------------------------- queries

    def recordings(self) -> list[StoreId]:
        return [s for s in self._dbs() if s.kind == StoreKind.RECORDING]

    def same_app(self, sid: StoreId) -> list[StoreId]:
        """The other open recordings of ``sid``'s application, in opening order."""
        return [s for s in self.recordings()
                if s != sid and s.application_id == sid.application_id]

    def candidates(self, sid: StoreId) -> list[StoreId]:
        """Recordings the user may compare ``sid`` with: its application's first."""
        others = [s for s in self.recordings() if s != sid]
        return sorted(others, key=lambda s: s.application_id != sid.application_id)

    def comparison(self, sid: StoreId) -> Comparison | None:
        return self._state.get(sid)

    def compared(self, sid: StoreId) -> list[StoreId]:
        state = self._state.get(sid)
        return list(state.others) if state is not None else []

    def is_comparing(self, sid: StoreId) -> bool:
        return bool(self.compared(sid))

    def align(self, sid: StoreId) -> Align:
        state = self._state.get(sid)
        return state.align if state is not None else Align.START

    def runs(self, sid: StoreId) -> list[CompareRun]:
        """What ``sid``'s views draw besides their own store (open recordings only)."""
        dbs = self._dbs()
        return [CompareRun(dbs[s], self._label(s)) for s in self.compared(sid) if s in dbs]

    def label(self, sid: StoreId) -> str:
        return self._label(sid)

    # -------------------------------------------------------------------- changes

    def set_enabled(self, sid: StoreId, on: bool) -> None:
        """"Compare runs" on: every other open recording of the application, and those
        opened later; off: back to one run."""
        state = self._state.setdefault(sid, Comparison())
        state.others = self.same_app(sid) if on else []
        state.follow_app = on
        self.changed.emit(sid)

    def set_run(self, sid: StoreId, other: StoreId, on: bool) -> None:
        """Compare ``sid`` with ``other`` or stop (one run of the user's list)."""
        state = self._state.setdefault(sid, Comparison())
        if on and other not in state.others and other != sid:
            state.others.append(other)
        elif not on and other in state.others:
            state.others.remove(other)
        if not state.others:
            state.follow_app = False
        self.changed.emit(sid)

    def set_align(self, sid: StoreId, align: Align) -> None:
        state = self._state.setdefault(sid, Comparison())
        if state.align is not align:
            state.align = align
            self.changed.emit(sid)

    def store_added(self, sid: StoreId) -> None:
        """A recording was opened: it joins the comparisons that follow its application
        (and, with ``compare_on_open``, compares with the other runs itself)."""
        if sid.kind != StoreKind.RECORDING:
            return
        for primary, state in self._state.items():
            if state.follow_app and primary != sid and sid not in state.others \
                    and primary.application_id == sid.application_id:
                state.others.append(sid)
                self.changed.emit(primary)
        if self.compare_on_open and sid not in self._state:
            self.set_enabled(sid, True)

    def store_removed(self, sid: StoreId) -> None:
        """A recording was closed: it leaves every comparison."""
        self._state.pop(sid, None)
        for primary, state in list(self._state.items()):
            if sid in state.others:
                state.others.remove(sid)
                self.changed.emit(primary)


def fill_compare_menu(menu: QMenu, comparisons: RunComparisons, sid: StoreId | None) -> None:
    """The "Compare runs" menu of recording ``sid``: the on/off toggle for its
    application's runs, a checkable list of every other open recording, and the alignment."""
    menu.clear()  # deletes the actions it owns; the alignment group of the last fill too:
    for group in menu.findChildren(QActionGroup):
        group.setParent(None)
        group.deleteLater()
    if sid is None:
        menu.addAction("No recording open").setEnabled(False)
        return
    app = sid.application_id or "(no app id)"
    toggle = QAction(f"Compare with other runs of “{app}”", menu, checkable=True)
    toggle.setChecked(comparisons.is_comparing(sid))
    toggle.setEnabled(bool(comparisons.same_app(sid)) or toggle.isChecked())
    toggle.toggled.connect(lambda on: comparisons.set_enabled(sid, on))
    toggle.setObjectName("compareToggle")
    menu.addAction(toggle)
    menu.addSection("Runs")
    compared = comparisons.compared(sid)
    candidates = comparisons.candidates(sid)
    if not candidates:
        menu.addAction("No other recording open").setEnabled(False)
    for other in candidates:
        text = comparisons.label(other)
        if other.application_id != sid.application_id:
            text += f"  ({other.application_id or 'no app id'})"
        action = QAction(text, menu, checkable=True)
        action.setChecked(other in compared)
        action.setData(other)
        action.toggled.connect(lambda on, o=other: comparisons.set_run(sid, o, on))
        menu.addAction(action)
    menu.addSection("Align runs on")
    group = QActionGroup(menu)
    current = comparisons.align(sid)
    for align, text in ((Align.START, "Time since each run's start"),
                        (Align.TIMELINE, "The shared timeline")):
        action = QAction(text, menu, checkable=True)
        action.setChecked(align is current)
        action.setData(align.value)
        action.setActionGroup(group)
        action.toggled.connect(lambda on, a=align: on and comparisons.set_align(sid, a))
        menu.addAction(action)
