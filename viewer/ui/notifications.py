"""Non-modal notifications: short-lived toasts in the window corner plus a kept list.

Data errors (a truncated file, a corrupt chunk, a dropped stream) must never block the user
with a modal dialog: the rest of the data stays usable. Repeated identical messages are
folded into one entry with a count so a file with 10 000 bad chunks cannot flood the UI.
"""

from __future__ import annotations

import enum
import time
from dataclasses import dataclass, field

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

TOAST_SECONDS = 8.0
MAX_TOASTS = 4
MAX_KEPT = 500


class Level(enum.Enum):
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"


@dataclass
class Notification:
    level: Level
    title: str
    text: str
    count: int = 1
    when: float = field(default_factory=time.time)

    def key(self) -> tuple[Level, str, str]:
        return self.level, self.title, self.text

    def summary(self) -> str:
        repeat = f"  (×{self.count})" if self.count > 1 else ""
        stamp = time.strftime("%H:%M:%S", time.localtime(self.when))
        return f"{stamp}  {self.title}: {self.text}{repeat}"


class Toast(QFrame):
    """One notification floating over the window; closes itself after a while."""

    closed = Signal(object)

    def __init__(self, note: Notification, parent: QWidget) -> None:
        super().__init__(parent)
        self.note = note
        self.setObjectName("toast")
        self.setProperty("level", note.level.value)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 6, 6, 6)
        text = QVBoxLayout()
        self.title_label = QLabel(f"<b>{_escape(note.title)}</b>")
        self.body_label = QLabel(_escape(note.text))
        self.body_label.setWordWrap(True)
        text.addWidget(self.title_label)
        text.addWidget(self.body_label)
        layout.addLayout(text, 1)
        close = QPushButton("×")
        close.setObjectName("toastClose")
        close.setFixedSize(22, 22)
        close.setToolTip("Dismiss")
        close.clicked.connect(self.dismiss)
        layout.addWidget(close, 0, Qt.AlignmentFlag.AlignTop)
        self.setFixedWidth(380)
        self._timer = QTimer(self, singleShot=True, interval=int(TOAST_SECONDS * 1000))
        self._timer.timeout.connect(self.dismiss)
        self._timer.start()

    def refresh(self) -> None:
        repeat = f" (×{self.note.count})" if self.note.count > 1 else ""
        self.title_label.setText(f"<b>{_escape(self.note.title)}</b>{repeat}")
        self._timer.start()

    def dismiss(self) -> None:
        self.hide()
        self.closed.emit(self)
        self.deleteLater()


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class NotificationCenter(QObject):
    """Owns the kept list and the toasts shown over ``host`` (the main window)."""

    changed = Signal()

    def __init__(self, host: QWidget) -> None:
        super().__init__(host)
        self.host = host
        self.notifications: list[Notification] = []
        self._by_key: dict[tuple[Level, str, str], Notification] = {}
        self._toasts: list[Toast] = []
        self.list_widget = NotificationList(self)
        host.installEventFilter(self)

    def notify(self, level: Level, title: str, text: str) -> Notification:
        note = Notification(level, title, text)
        existing = self._by_key.get(note.key())
        if existing is not None:
            existing.count += 1
            existing.when = note.when
            for toast in self._toasts:
                if toast.note is existing:
                    toast.refresh()
                    break
            else:
                self._show_toast(existing)
            self.changed.emit()
            return existing
        self.notifications.append(note)
        self._by_key[note.key()] = note
        if len(self.notifications) > MAX_KEPT:
            old = self.notifications.pop(0)
            self._by_key.pop(old.key(), None)
        self._show_toast(note)
        self.changed.emit()
        return note

    def error(self, title: str, text: str) -> Notification:
        return self.notify(Level.ERROR, title, text)

    def warning(self, title: str, text: str) -> Notification:
        return self.notify(Level.WARNING, title, text)

    def info(self, title: str, text: str) -> Notification:
        return self.notify(Level.INFO, title, text)

    def clear(self) -> None:
        self.notifications.clear()
        self._by_key.clear()
        for toast in list(self._toasts):
            toast.dismiss()
        self.changed.emit()

    @property
    def visible_toasts(self) -> list[Toast]:
        return [t for t in self._toasts if t.isVisible()]

    def _show_toast(self, note: Notification) -> None:
        while len(self._toasts) >= MAX_TOASTS:
            self._toasts[0].dismiss()
        toast = Toast(note, self.host)
        toast.closed.connect(self._on_toast_closed)
        self._toasts.append(toast)
        toast.adjustSize()
        toast.show()
        toast.raise_()
        self._layout_toasts()

    def _on_toast_closed(self, toast: Toast) -> None:
        if toast in self._toasts:
            self._toasts.remove(toast)
        self._layout_toasts()

    def _layout_toasts(self) -> None:
        margin = 12
        bottom = self.host.height() - margin - _status_bar_height(self.host)
        for toast in reversed(self._toasts):
            toast.adjustSize()
            bottom -= toast.height()
            toast.move(self.host.width() - toast.width() - margin, bottom)
            toast.raise_()
            bottom -= 6

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt API)
        if watched is self.host and event.type() == QEvent.Type.Resize:
            self._layout_toasts()
        return False


def _status_bar_height(host: QWidget) -> int:
    bar = host.statusBar() if hasattr(host, "statusBar") else None
    return bar.height() if bar is not None and bar.isVisible() else 0


class NotificationList(QWidget):
    """Every notification so far, newest first (shown in a dock)."""

    def __init__(self, center: NotificationCenter) -> None:
        super().__init__()
        self.center = center
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        self.list = QListWidget()
        self.list.setWordWrap(True)
        layout.addWidget(self.list)
        clear = QPushButton("Clear")
        clear.clicked.connect(center.clear)
        layout.addWidget(clear, 0, Qt.AlignmentFlag.AlignRight)
        center.changed.connect(self.refresh)

    def refresh(self) -> None:
        self.list.clear()
        for note in reversed(self.center.notifications):
            item = QListWidgetItem(note.summary())
            item.setData(Qt.ItemDataRole.UserRole, note.level.value)
            item.setToolTip(f"{note.title}\n{note.text}")
            self.list.addItem(item)
