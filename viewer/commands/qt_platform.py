"""Find out, before any QApplication exists, whether Qt's platform plugin can load.

When a shared library the xcb (or wayland) plugin needs is missing, Qt prints "Could not
load the Qt platform plugin" and aborts the process: no Python handler runs and the user
gets no hint of what to install. So the window command asks ``ldd`` about the plugin first
(it lists every library of the plugin's whole dependency tree that the loader cannot
find, without loading anything) and stops with a message naming the missing libraries and
the Debian/Ubuntu packages that ship them. No Qt is imported here.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

#: Plugins whose dependencies are worth checking: the others (offscreen, minimal, vnc)
#: need nothing beyond Qt itself.
CHECKED_PLUGINS = ("xcb", "wayland")
_NOT_FOUND = re.compile(r"^\s*(\S+)\s*=>\s*not found", re.MULTILINE)
#: Debian package names that do not follow the usual soname rule.
_PACKAGE_EXCEPTIONS = {
    "libGL.so.1": "libgl1",
    "libEGL.so.1": "libegl1",
    "libOpenGL.so.0": "libopengl0",
    "libGLX.so.0": "libglx0",
    "libglib-2.0.so.0": "libglib2.0-0",
    "libgthread-2.0.so.0": "libglib2.0-0",
    "libgobject-2.0.so.0": "libglib2.0-0",
    "libxcb-util.so.1": "libxcb-util1",
}

LddRunner = Callable[[Path], str]


def debian_package(soname: str) -> str:
    """The Debian/Ubuntu package that ships ``soname``, by Debian's naming rule: the
    library name lowercased plus its major version, with a dash when the name ends in a
    digit (``libxcb-cursor.so.0`` is in ``libxcb-cursor0``, ``libxkbcommon-x11.so.0`` in
    ``libxkbcommon-x11-0``)."""
    if soname in _PACKAGE_EXCEPTIONS:
        return _PACKAGE_EXCEPTIONS[soname]
    match = re.fullmatch(r"(.+?)\.so\.(\d+)(?:\.\d+)*", soname)
    if match is None:
        return soname.removesuffix(".so").lower()
    name, major = match.group(1).lower(), match.group(2)
    return f"{name}-{major}" if name[-1].isdigit() else f"{name}{major}"


def requested_platform(env: Mapping[str, str]) -> str:
    """The platform plugin Qt will try first: ``QT_QPA_PLATFORM`` (its first choice when it
    lists several), else Wayland in a Wayland session and xcb otherwise (Linux)."""
    chosen = env.get("QT_QPA_PLATFORM", "").strip()
    if chosen:
        return re.split(r"[;:]", chosen, maxsplit=1)[0].strip().lower()
    if env.get("XDG_SESSION_TYPE") == "wayland" and env.get("WAYLAND_DISPLAY"):
        return "wayland"
    return "xcb"


def plugin_file(platform: str) -> Path | None:
    """The shared object of PySide6's platform plugin, found without importing Qt."""
    spec = importlib.util.find_spec("PySide6")
    if spec is None or not spec.submodule_search_locations:
        return None
    for base in spec.submodule_search_locations:
        candidate = Path(base) / "Qt" / "plugins" / "platforms" / f"libq{platform}.so"
        if candidate.is_file():
            return candidate
    return None


def run_ldd(path: Path) -> str:
    """``ldd``'s report of ``path`` ('' when ldd is not there or fails)."""
    ldd = shutil.which("ldd")
    if ldd is None:
        return ""
    try:
        done = subprocess.run([ldd, str(path)], capture_output=True, text=True, timeout=10,
                              check=False)
    except (OSError, subprocess.SubprocessError):
        return ""
    return done.stdout


def missing_libraries(plugin: Path, ldd: LddRunner | None = None) -> list[str]:
    """Sonames the plugin (or anything it loads) needs and the loader cannot find."""
    report = (ldd or run_ldd)(plugin)
    return sorted(set(_NOT_FOUND.findall(report)))


def missing_library_message(platform: str, missing: list[str]) -> str:
    packages = sorted({debian_package(name) for name in missing})
    return (
        f"rrd-viewer: cannot open a window: Qt's '{platform}' platform plugin needs "
        f"{', '.join(missing)}, which is not installed.\n"
        f"  On Debian/Ubuntu: sudo apt-get install {' '.join(packages)}\n"
        "  Without a display: rrd-viewer --screenshot OUT.png FILE (draws offscreen), or set "
        "QT_QPA_PLATFORM=offscreen; 'rrd-viewer inspect', 'layout' and 'export' need no "
        "display at all."
    )


def platform_problem(env: Mapping[str, str] | None = None, *,
                     ldd: LddRunner | None = None) -> str | None:
    """A message saying why the window cannot open, or None when it can (as far as can be
    told without starting Qt). Only Linux plugins with outside dependencies are checked."""
    env = os.environ if env is None else env
    if not sys.platform.startswith("linux"):
        return None
    platform = requested_platform(env)
    if platform not in CHECKED_PLUGINS:
        return None
    plugin = plugin_file(platform)
    if plugin is None:
        return None  # an unusual Qt install: let Qt speak for itself
    missing = missing_libraries(plugin, ldd)
    return missing_library_message(platform, missing) if missing else None
