"""What the window remembers across runs (geometry, recent files, overlay), via QSettings.

Wrapped in one small class so tests can point it at a temporary INI file instead of the
user's real settings, and so keys and types live in one place.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings

ORGANIZATION = "rrd-viewer"
APPLICATION = "viewer"
MAX_RECENT = 10


class AppSettings:
    """Typed access to the persisted settings.

    ``path`` given: an INI file at that path (tests, portable installs). Otherwise the
    platform's native store under ``organization``/``application``.
    """

    def __init__(self, path: str | Path | None = None, *, organization: str = ORGANIZATION,
                 application: str = APPLICATION) -> None:
        if path is not None:
            self.qsettings = QSettings(str(path), QSettings.Format.IniFormat)
        else:
            self.qsettings = QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope,
                                       organization, application)

    # -- window -----------------------------------------------------------------------------
    def geometry(self) -> QByteArray | None:
        value = self.qsettings.value("window/geometry")
        return value if isinstance(value, QByteArray) and not value.isEmpty() else None

    def window_state(self) -> QByteArray | None:
        value = self.qsettings.value("window/state")
        return value if isinstance(value, QByteArray) and not value.isEmpty() else None

    def save_window(self, geometry: QByteArray, state: QByteArray) -> None:
        self.qsettings.setValue("window/geometry", geometry)
        self.qsettings.setValue("window/state", state)

    # -- recent files -----------------------------------------------------------------------
    def recent_files(self) -> list[str]:
        value = self.qsettings.value("files/recent", [])
        if isinstance(value, str):  # QSettings returns a lone string for a one-item list
            value = [value]
        return [str(v) for v in (value or []) if v]

    def add_recent_file(self, path: str | Path) -> list[str]:
        text = str(Path(path).resolve())
        files = [text, *(f for f in self.recent_files() if f != text)][:MAX_RECENT]
        self.qsettings.setValue("files/recent", files)
        return files

    def clear_recent_files(self) -> None:
        self.qsettings.setValue("files/recent", [])

    # -- flags ------------------------------------------------------------------------------
    def _flag(self, key: str, default: bool) -> bool:
        value = self.qsettings.value(key, default)
        if isinstance(value, str):
            return value.lower() in ("true", "1", "yes")
        return bool(value)

    def overlay_visible(self) -> bool:
        return self._flag("view/overlay", False)

    def set_overlay_visible(self, on: bool) -> None:
        self.qsettings.setValue("view/overlay", on)

    def last_open_dir(self) -> str:
        return str(self.qsettings.value("files/last_dir", "") or "")

    def set_last_open_dir(self, folder: str | Path) -> None:
        self.qsettings.setValue("files/last_dir", str(folder))

    def memory_limit(self) -> str | None:
        """The memory limit chosen in the window (``--memory-limit`` syntax), if any."""
        value = self.qsettings.value("ingest/memory_limit", "")
        return str(value) if value else None

    def set_memory_limit(self, text: str) -> None:
        self.qsettings.setValue("ingest/memory_limit", text)

    def sync(self) -> None:
        self.qsettings.sync()
